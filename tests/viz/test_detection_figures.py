"""Detection figures: boxes over images and FROC curves, their info steps checked by value."""

import numpy as np
import pytest
import torch

from nasbench.data.lesions import SyntheticLesions
from nasbench.errors import ConfigError
from nasbench.evaluation.detection import predict_split
from nasbench.models.detector import ResNetDetector
from nasbench.viz import plot_detections, plot_froc
from nasbench.viz.detection import _get_detections_info, _get_froc_info, _outline


def _case():
    first = torch.tensor([[0.0, 0, 10, 10], [5, 5, 8, 8]])
    det = [
        {"boxes": first, "scores": torch.tensor([0.9, 0.1]), "labels": torch.tensor([0, 0])},
        {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0).long()},
    ]
    truth = [
        {"boxes": torch.tensor([[0.0, 0, 10, 10]]), "labels": torch.tensor([0])},
        {"boxes": torch.tensor([[2.0, 2, 6, 6]]), "labels": torch.tensor([0])},
    ]
    return torch.zeros(2, 1, 16, 16), det, truth


def test_detections_info_keeps_boxes_above_the_threshold():
    images, det, truth = _case()
    info = _get_detections_info(images, det, truth, score_threshold=0.3, max_images=8)
    assert len(info.images) == 2 and info.images[0].shape == (16, 16)
    assert info.boxes[0].tolist() == [[0, 0, 10, 10]] and info.scores[0] == pytest.approx([0.9])
    assert info.boxes[1].shape == (0, 4) and info.truths[1].tolist() == [[2, 2, 6, 6]]
    xs, ys = _outline(info.truths[1])
    assert xs[:5] == [2, 6, 6, 2, 2] and ys[:5] == [2, 2, 6, 6, 2] and xs[5] is None


def test_plot_detections_draws_a_panel_per_image_with_truth_and_predictions():
    images, det, truth = _case()
    fig = plot_detections(images, det, truth, score_threshold=0.3, cols=2)
    names = [t.name for t in fig.data if t.type == "scatter"]
    assert sum(t.type == "heatmap" for t in fig.data) == 2
    assert names.count("lesion") == 2 and names.count("detection") == 2
    # Box corners count pixel c as [c, c + 1): the image's pixel centres sit at c + 0.5.
    heat = next(t for t in fig.data if t.type == "heatmap")
    assert (heat.x0, heat.y0, heat.dx or 1, heat.dy or 1) == (0.5, 0.5, 1, 1)
    with pytest.raises(ConfigError, match="no images"):
        plot_detections(images[:0], [], None)


def test_froc_figure_marks_the_four_rates_of_each_model():
    _, det, truth = _case()
    info = _get_froc_info({"a": (det, truth)})
    # 0.9 hits lesion 1 of 2; 0.1 is a false positive (0.5 per image).
    assert info.fps[0].tolist() == [0.0, 0.5] and info.sensitivity[0].tolist() == [0.5, 0.5]
    assert info.at_rates[0]["froc_1"] == 0.5
    fig = plot_froc({"a": (det, truth), "b": (det, truth)})
    markers = [t for t in fig.data if t.mode == "markers"]
    assert len(fig.data) == 4 and list(markers[0].x) == [0.5, 1.0, 2.0, 4.0]
    with pytest.raises(ConfigError, match="no curves"):
        plot_froc({})


def test_predict_split_decodes_a_detector_over_a_split():
    ds = SyntheticLesions("val", size=32, length=3)
    images, found, truths = predict_split(ResNetDetector(1, 1, channels=8, head_width=8), ds)
    assert images.shape == (3, 1, 32, 32) and len(found) == len(truths) == 3
    assert all(set(d) == {"boxes", "scores", "labels"} for d in found)
    assert np.all([(d["boxes"][:, 2:] <= 32).all() for d in found])


def test_true_and_predicted_boxes_differ_in_more_than_hue():
    from nasbench.viz.comparison import COLORS

    images, det, truth = _case()
    fig = plot_detections(images, det, truth)
    lesion = next(t for t in fig.data if t.name == "lesion")
    found = next(t for t in fig.data if t.name == "detection")
    # A dash tells them apart without colour; both hues are the package's Okabe-Ito ones.
    assert (lesion.line.dash or "solid") != (found.line.dash or "solid")
    assert {lesion.line.color, found.line.color} <= set(COLORS)
    assert lesion.line.color != found.line.color
    froc_fig = plot_froc({"a": (det, truth), "b": (det, truth)})
    assert {t.line.color for t in froc_fig.data if t.mode == "lines"} <= set(COLORS)
