"""Reference answers of notebooks/11_few_labels.ipynb (cell source per exercise id)."""

ANSWERS = {
    "reptile_step": (
        "answer = float(before[0, 0] + EPS * (after_adaptation[0, 0] - before[0, 0]))"
    ),
    "ci95": (
        "import math\n"
        "\n"
        "values = test['metanas_acc']\n"
        "answer = float(1.959964 * values.std() / math.sqrt(len(values)))"
    ),
    "paired": "answer = float((test['metanas_acc'] - test['reptile_acc']).mean())",
}
