"""Reference answers of notebooks/12_detection.ipynb (cell source per exercise id)."""

ANSWERS = {
    "n_lesions": "answer = int((target[:, 4] >= 0).sum())",
    "iou": "answer = float(box_iou(guess, lesion))",
    "froc_half": "answer = 2 / 3",
    "non_local": 'answer = any(op == "non_local" for op, _ in result.genotype.reduce)',
    "best_model": 'answer = table["test_ap50"].idxmax()',
}
