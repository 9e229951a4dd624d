"""Reference answers of notebooks/04_darts.ipynb (cell source per exercise id)."""

ANSWERS = {
    "alpha_count": (
        "from nasbench.models import cell_edges\n"
        "\n"
        "answer = 2 * len(cell_edges(NODES)) * len(first_run.alpha_matrix().columns)"
    ),
    "changes": (
        "from nasbench.viz.timeline import genotype_changes\n"
        "\n"
        "table = genotype_changes(first_run)\n"
        'answer = int(table[table["cell_type"] == "normal"]["changed"].sum())'
    ),
    "early_stop": (
        "values = list(illustrative)\n"
        "for e in range(10, len(values)):\n"
        "    now = sum(values[e - 4 : e + 1]) / 5\n"
        "    before = sum(values[e - 9 : e - 4]) / 5\n"
        "    if now > 1.3 * before:\n"
        "        answer = (e, e - 5)\n"
        "        break"
    ),
}
