"""Reference answers of notebooks/00_quickstart.ipynb (cell source per exercise id)."""

ANSWERS = {
    "edges": 'answer = run.alphas[run.alphas["cell_type"] == "normal"]["edge"].nunique()',
    "derive": (
        'answer = run.alpha_matrix(cell_type="normal").drop(columns="none").loc["0->2"].idxmax()'
    ),
    "parameter_free": (
        "from nasbench.spaces import is_parameter_free\n\n"
        "answer = sum(\n"
        "    is_parameter_free(op)\n"
        '    for cell in ("normal", "reduce")\n'
        "    for op, _ in result.genotype.cell(cell)[0]\n"
        ")"
    ),
}
