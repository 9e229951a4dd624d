"""Reference answers of notebooks/09_your_own_data.ipynb (cell source per exercise id)."""

ANSWERS = {
    "majority_acc": 'answer = counts["test"].max() / counts["test"].sum()',
    "beats_cnn": 'answer = bool(table.loc["searched", "test_auc"] > table.loc["cnn", "test_auc"])',
    "auc_pairs": (
        "scores = np.array([0.9, 0.6, 0.4, 0.2])\n"
        "labels = np.array([1, 0, 1, 0])\n"
        "answer = 3 / 4"
    ),
}
