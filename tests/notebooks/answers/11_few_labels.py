"""Reference answers of notebooks/11_few_labels.ipynb (cell source per exercise id)."""

ANSWERS = {
    "reptile_step": (
        "answer = float(before[0, 0] + EPS * (after_adaptation[0, 0] - before[0, 0]))"
    ),
    "ci95": (
        "import math\n"
        "\n"
        "from scipy import stats\n"
        "\n"
        "values = test['metanas_acc']\n"
        "t = stats.t.ppf(0.975, len(values) - 1)\n"
        "answer = float(t * values.std() / math.sqrt(len(values)))"
    ),
    "paired": "answer = float((test['metanas_acc'] - test['reptile_acc']).mean())",
    "unnas_outputs": "answer = get_info(UNNAS_DATASET).in_channels * 6 * 6",
    "unnas_best_pretext": (
        'answer = correlations.set_index("pretext")["spearman_rho"].fillna(-np.inf).idxmax()'
    ),
}
