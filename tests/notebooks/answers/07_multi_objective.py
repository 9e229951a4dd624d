"""Reference answers of notebooks/07_multi_objective.ipynb (cell source per exercise id)."""

ANSWERS = {
    "front": (
        "answer = [\n"
        "    i\n"
        "    for i, (acc, params) in enumerate(points)\n"
        "    if not any(\n"
        "        a >= acc and p <= params and (a > acc or p < params) for a, p in points\n"
        "    )\n"
        "]"
    ),
    "front_size": (
        "from nasbench.viz.pareto import pareto_mask\n"
        "\n"
        "c = evaluated(nsga_run)\n"
        'answer = int(pareto_mask(c["cost.params"], c["metrics.val_acc"], True, True).sum())'
    ),
    "best_feasible": ('answer = landscape[landscape["params"] <= MAX_PARAMS]["val_acc"].max()'),
    "favoured_lr": (
        "policy = hp_distribution(autohas_run)\n"
        'last = policy[policy["candidate_id"] == policy["candidate_id"].max()]\n'
        'last = last[last["hp"] == "lr"]\n'
        'answer = float(last.loc[last["probability"].idxmax(), "choice"])'
    ),
}
