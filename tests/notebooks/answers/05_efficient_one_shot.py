"""Reference answers of notebooks/05_efficient_one_shot.ipynb (cell source per exercise id)."""

ANSWERS = {
    "ops_per_edge": (
        'n_ops = len(space.ops) - ("none" in space.ops)  # DARTS never computes none\n'
        'answer = {"darts": n_ops, "gdas": 1, "pcdarts": n_ops, "proxyless": 1}'
    ),
    "memory_ratio": (
        'column = "saved for backward (MiB)"\n'
        'answer = costs.loc["darts", column] / costs.loc["gdas", column]'
    ),
    "gdas_tau": "answer = 10.0 - (10.0 - 0.1) * 10 / (50 - 1)",
}
