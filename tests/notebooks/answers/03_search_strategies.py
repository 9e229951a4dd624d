"""Reference answers of notebooks/03_search_strategies.ipynb (cell source per exercise id)."""

ANSWERS = {
    "reinforce_grad": (
        "pi = [1 / 3, 1 / 3, 1 / 3]\nanswer = [(0.9 - 0.8) * ((k == 2) - pi[k]) for k in range(3)]"
    ),
    "regret10": 'answer = best["val_acc"] - frames["random"][0]["score"][:10].max()',
    "near_top": 'answer = float((final["val_acc"] >= best["val_acc"] - 0.03).mean())',
}
