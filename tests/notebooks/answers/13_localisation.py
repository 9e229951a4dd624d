"""Reference answers of notebooks/13_localisation.ipynb (cell source per exercise id)."""

ANSWERS = {
    "landmark_mm": (
        "answer = float(((landmarks[0] - landmarks[1]) * torch.tensor(ds.spacing)).norm())"
    ),
    "reward": (
        "t0 = landmarks[0]\n"
        "answer = float((torch.tensor([12.0, 12, 12]) - t0).norm()"
        " - (torch.tensor([12.0, 16, 12]) - t0).norm())"
    ),
    "double_dqn": "answer = 0.5 + 0.9 * 1.0",
    "same_cells": 'answer = derived["agent0"]["normal"] == derived["agent1"]["normal"]',
    "best_arm": 'answer = table["dist_mm"].idxmin()',
}
