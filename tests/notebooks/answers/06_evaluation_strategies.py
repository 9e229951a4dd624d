"""Reference answers of notebooks/06_evaluation_strategies.ipynb (cell source per exercise id)."""

ANSWERS = {
    "enough_epochs": 'answer = int(agreement[agreement["kendall_tau"] >= 0.9].index.min())',
    "sh_budget": "answer = 27 * 1 + (27 // 3) * 3 + (27 // 9) * 9",
    "best_estimator": ('answer = comparison.sort_values("kendall_tau", ascending=False).index[0]'),
    "smash_rho": (
        'answer = rank_correlations(scores["smash"].to_numpy(), scores["reference"].to_numpy())'
        '["spearman_rho"]'
    ),
}
