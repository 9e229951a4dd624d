"""Reference answers of notebooks/02_search_spaces.ipynb (cell source per exercise id)."""

ANSWERS = {
    "cell_size": "answer = math.prod(math.comb(i + 2, 2) * 4**2 for i in range(3))",
    "no_conv": "answer = 3**6",
    "nb101_unique": "answer = 1 + 2 * 3  # the pruned edge 0->2, and 2 matrices x 3 ops",
    "diff_normal": (
        "from nasbench.viz import diff_edges\n\n"
        'edges = diff_edges(zoo["DARTS_V2"], zoo["DARTS_V1"])\n'
        'answer = sum(1 for cell_type, _, _ in edges if cell_type == "normal")'
    ),
}
