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


@pytest.mark.parametrize(
    ("images", "count", "truths", "said"),
    [
        (2, 2, 1, "2 images, 2 detection lists and 1 truth lists; pass one of each per image"),
        (2, 2, 3, "2 images, 2 detection lists and 3 truth lists"),
        (3, 2, None, "3 images, 2 detection lists; pass one of each per image"),
    ],
)
def test_plot_detections_names_the_counts_of_images_detections_and_truths(
    images, count, truths, said
):
    _, det, truth = _case()
    det, truth = (det * 2)[:count], None if truths is None else (truth * 2)[:truths]
    with pytest.raises(ConfigError, match=said) as err:
        plot_detections(torch.zeros(images, 1, 16, 16), det, truth)
    assert "\n" not in str(err.value)


def test_plot_detections_checks_boxes_and_scores_as_the_metrics_do():
    from nasbench.errors import NasbenchError
    from nasbench.evaluation.detection import check_detections

    images, det, truth = _case()
    det[1] = {"boxes": torch.tensor([[0.0, 0, 8, 8], [1, 1, 9, 9]]), "scores": torch.tensor([0.9])}
    with pytest.raises(NasbenchError) as metric:
        check_detections(det, truth, labels_required=False)
    with pytest.raises(ConfigError) as figure:
        plot_detections(images, det, truth)
    assert (
        str(figure.value)
        == str(metric.value)
        == ("detections[1] has 2 boxes but 1 scores; give one per box.")
    )


@pytest.mark.parametrize(
    ("which", "value"), [("detections", float("nan")), ("truths", float("inf"))]
)
def test_plot_detections_refuses_non_finite_boxes(which, value):
    images, det, truth = _case()
    entries = det if which == "detections" else truth
    entries[0] = {**entries[0], "boxes": torch.tensor([[value, 0.0, 10, 10]])}
    if which == "detections":
        entries[0]["scores"] = torch.tensor([0.9])
    with pytest.raises(ConfigError, match=rf"{which}\[0\] has NaN or infinite boxes"):
        plot_detections(images, det, truth)


@pytest.mark.parametrize(
    ("shape", "said"),
    [
        ((16, 16), r"got shape \(16, 16\); a single image goes as images\[None\]"),
        ((2, 16, 16, 3), r"got shape \(2, 16, 16, 3\); channels last\?"),
        ((1, 2, 1, 16, 16), r"got shape \(1, 2, 1, 16, 16\)\.$"),
    ],
)
def test_plot_detections_refuses_images_that_are_no_batch(shape, said):
    _, det, truth = _case()
    count = shape[0] if len(shape) > 2 else 1
    with pytest.raises(
        ConfigError, match=r"images must be a batch \(N, C, H, W\) or \(N, H, W\), "
    ):
        plot_detections(torch.rand(shape), (det * 2)[:count], (truth * 2)[:count])
    with pytest.raises(ConfigError, match=said):
        plot_detections(torch.rand(shape), (det * 2)[:count], (truth * 2)[:count])


def test_froc_without_lesions_is_undefined_not_zero():
    from nasbench.evaluation.detection import DetectionTask, froc, froc_curve
    from nasbench.models.detector import DetectionHead

    _, det, _ = _case()
    none = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0).long()}] * 2
    fps, sens = froc_curve(det, none)
    assert fps.tolist() == [0.5, 1.0] and np.isnan(sens).all()
    assert all(np.isnan(v) for v in froc(det, none).values())
    assert set(froc(det, none)) == {"froc_0.5", "froc_1", "froc_2", "froc_4", "froc"}
    with pytest.raises(
        ConfigError, match="no lesions in the truth boxes: sensitivity is undefined"
    ):
        plot_froc({"a": (det, none)})
    # The search step's per-batch score of a batch without lesions: NaN, logged as missing.
    out = DetectionHead(4, 1, 4)(torch.zeros(1, 4, 8, 8), stride=2).detach()
    assert np.isnan(DetectionTask().batch_metrics(out, torch.full((1, 4, 5), -1.0))["froc"])


def test_plot_detections_draws_images_of_different_sizes_and_ignores_labels():
    images = [np.zeros((1, 16, 16)), np.zeros((20, 24))]  # two slices of other sizes
    found = [
        {"boxes": [[2.0, 2, 6, 6]], "scores": [0.9], "labels": ["lesion"]},  # names: not drawn
        {"boxes": [], "scores": [], "labels": None},
    ]
    fig = plot_detections(images, found)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert [np.shape(t.z) for t in heatmaps] == [(16, 16), (20, 24)]
    with pytest.raises(
        ConfigError, match=r"each be \(C, H, W\) or \(H, W\), got one of shape \(16, 16, 3\)"
    ):
        plot_detections([np.zeros((16, 16, 3))], found[:1])
