"""Image panels keep square pixels in every subplot, not only the first."""

from __future__ import annotations

import torch

from nasbench.viz import plot_detections, plot_overlays, plot_reconstructions


def _anchors(fig) -> list[tuple[str, str]]:
    """(y axis, the axis its scale is anchored to) for every y axis of ``fig``."""
    return [(name, fig.layout[name].scaleanchor) for name in fig.layout if name.startswith("yaxis")]


def _own_x(name: str) -> str:
    return "x" + name[len("yaxis") :]


def test_every_panel_of_the_image_figures_anchors_its_scale_to_its_own_x_axis():
    # Anchored to the first panel's x axis, every other panel was stretched 1.5-1.9x
    # sideways in a notebook (overlays, reconstructions).
    image = torch.rand(2, 1, 12, 12)
    mask = (image > 0.6).long()
    detection = {"boxes": torch.tensor([[1.0, 1, 5, 5]]), "scores": torch.tensor([0.9])}
    figures = {
        "overlays": plot_overlays(image, mask, mask),
        "reconstructions": plot_reconstructions(image, torch.rand(2, 3, 12, 12), image),
        "detections": plot_detections(image, [detection, detection], None, cols=2),
    }
    for what, fig in figures.items():
        anchors = _anchors(fig)
        assert len(anchors) >= 2, what
        assert all(anchor == _own_x(name) for name, anchor in anchors), (what, anchors)
        assert all(fig.layout[name].autorange == "reversed" for name, _ in anchors) or (
            what == "reconstructions"
        )


def test_a_detection_figure_without_a_box_above_the_threshold_says_so():
    image = torch.zeros(1, 1, 8, 8)
    weak = [{"boxes": torch.tensor([[1.0, 1, 5, 5]]), "scores": torch.tensor([0.1])}]
    title = plot_detections(image, weak, None, score_threshold=0.3).layout.title.text
    assert title == "Detections (score >= 0.3) and lesions: none scores 0.3 or more"
    title = plot_detections(image, weak, None, score_threshold=0.05).layout.title.text
    assert title == "Detections (score >= 0.05) and lesions"
