"""Figures given masks, batches, runs and options of the wrong kind: soft masks read as
masks, and everything else refused in one line that says what to do (no numpy, plotly
or torch traceback, no silently wrong figure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from nasbench.errors import ConfigError
from nasbench.runs import RunStore, load
from nasbench.viz import (
    plot_alphas,
    plot_detections,
    plot_dice_per_class,
    plot_genotype_timeline,
    plot_history,
    plot_landmark_estimates,
    plot_learner_history,
    plot_overlays,
    plot_pretext_correlation,
    plot_reconstructions,
)
from nasbench.viz.overlay import _get_overlay_info


def refused(call, said: str) -> str:
    """The one-line ConfigError ``call()`` raises, checked to match ``said``."""
    with pytest.raises(ConfigError, match=said) as err:
        call()
    assert "\n" not in str(err.value)
    return str(err.value)


def _square_mask(n: int = 2, size: int = 16) -> np.ndarray:
    mask = np.zeros((n, 1, size, size))
    mask[:, :, 4:10, 4:10] = 1.0
    return mask


# ------------------------------------------------------------------------ overlays


def test_a_one_channel_float_mask_is_rounded_or_thresholded_not_truncated():
    image, mask = np.random.default_rng(0).random((2, 1, 16, 16)), _square_mask()
    foreground = int(mask[0].sum())
    # Resizing leaves 0.99999994 where 1 was: read as 1, as the data loader reads it.
    resized = _get_overlay_info(image, mask * np.float32(0.99999994), mask, (), 4, 0, None)
    assert int(resized.truths[0].sum()) == foreground
    # A sigmoid's probabilities: foreground where at least 0.5.
    probability = np.where(mask > 0, 0.9, 0.2)
    soft = _get_overlay_info(image, mask, probability, (), 4, 0, None)
    np.testing.assert_array_equal(soft.predictions[0], mask[0, 0].astype(int))
    torch_soft = _get_overlay_info(
        image, mask, torch.sigmoid(torch.tensor(mask) - 0.5), (), 4, 0, None
    )
    np.testing.assert_array_equal(torch_soft.predictions[1], mask[1, 0].astype(int))
    # Several channels stay scores per class: the arg-max.
    scores = np.concatenate([1 - mask, mask, np.zeros_like(mask)], axis=1)
    argmax = _get_overlay_info(image, mask, scores, (), 4, 0, None)
    np.testing.assert_array_equal(argmax.predictions[0], mask[0, 0].astype(int))
    fig = plot_overlays(image, mask * 0.99999994, probability)
    overlays = [t for t in fig.data if t.type == "heatmap" and t.opacity]
    assert all(int(np.asarray(t.z).sum()) == foreground for t in overlays)
    refused(
        lambda: plot_overlays(image, mask, mask * 3.7 - 1.2),
        "prediction has one channel of values from -1.2 to 2.5.*apply torch.sigmoid",
    )
    refused(lambda: plot_overlays(image, mask * np.nan, mask), "truth holds NaN")


def test_a_0_255_mask_and_a_lone_class_name_are_refused_and_none_takes_default_names():
    image, mask = np.random.default_rng(0).random((2, 1, 16, 16)), _square_mask()
    refused(
        lambda: plot_overlays(image, mask * 255, mask * 255),
        r"truth has label 255.*class indices 0, 1, 2.*Map white to 1 \(divide the mask by 255\)",
    )
    refused(lambda: plot_overlays(image, mask, (mask * 255).astype(np.uint8)), "prediction")
    refused(
        lambda: plot_overlays(image, mask, mask, class_names="lesion"),
        r"class_names must be a list of names, background first, e\.g\. \('background', 'lesion'\)",
    )
    refused(lambda: plot_overlays(image, mask, mask, class_names=[0, 1]), "got 0")
    legend = [t.name for t in plot_overlays(image, mask, mask, class_names=None).data]
    assert legend[-1] == "class 1"
    named = plot_overlays(image, mask, mask, class_names=("background", "lesion"))
    assert [t.name for t in named.data][-1] == "lesion"


def test_a_volume_slice_and_axis_are_checked_and_refused_for_2d_images():
    rng = np.random.default_rng(0)
    volume = rng.random((1, 1, 32, 16, 16))
    vmask = (volume > 0.5).astype(int)
    refused(
        lambda: plot_overlays(volume, vmask, vmask, slice_index=40),
        r"slice_index must be a whole number in 0\.\.31 .*32 slices along axis 0.*got 40",
    )
    refused(lambda: plot_overlays(volume, vmask, vmask, slice_index=-1), r"0\.\.31")
    refused(lambda: plot_overlays(volume, vmask, vmask, axis=2, slice_index=16), r"0\.\.15")
    refused(lambda: plot_overlays(volume, vmask, vmask, axis="1"), "axis must be 0, 1 or 2.*'1'")
    assert len(plot_overlays(volume, vmask, vmask, axis=1, slice_index=15).data) == 6
    image, mask = rng.random((2, 1, 16, 16)), _square_mask()
    for kwargs in ({"slice_index": 3}, {"axis": 1}):
        refused(lambda kw=kwargs: plot_overlays(image, mask, mask, **kw), "images are 2D")
    assert len(plot_overlays(image, mask, mask, axis=0, slice_index=None).data) > 0


def test_overlays_of_no_images_or_no_row_count_are_refused():
    image, mask = np.random.default_rng(0).random((2, 1, 16, 16)), _square_mask()
    refused(lambda: plot_overlays(image[:0], mask[:0], mask[:0]), "no images to show")
    for rows in (None, 0, 1.5):
        refused(
            lambda rows=rows: plot_overlays(image, mask, mask, max_images=rows),
            "max_images must be a whole number >= 1",
        )


# ---------------------------------------------------------------------- detections


def test_detections_must_be_a_list_of_one_dict_per_image():
    images = np.zeros((2, 1, 8, 8))
    found = {"boxes": [[1.0, 1, 4, 4]], "scores": [0.9]}
    said = "detections must be a list with one dict per image"
    assert "pass [detections]" in refused(lambda: plot_detections(images, found), said)
    refused(lambda: plot_detections(images[:1], found), said)
    refused(lambda: plot_detections(images, (d for d in [found, found])), said + ".*generator")
    refused(lambda: plot_detections(images, None), said + ".*NoneType")
    refused(lambda: plot_detections(images, [found] * 2, truths={"boxes": []}), "truths must be")


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ({"max_images": None}, "max_images must be a whole number >= 1, got None"),
        ({"max_images": -1}, "max_images must be a whole number >= 1, got -1"),
        ({"cols": 1.5}, "cols must be a whole number >= 1, got 1.5"),
        ({"score_threshold": None}, "score_threshold must be a number.*got None"),
        ({"score_threshold": "0.5"}, "score_threshold must be a number.*got '0.5'"),
    ],
)
def test_detection_options_of_the_wrong_kind_are_one_line(option, said):
    found = [{"boxes": [[1.0, 1, 4, 4]], "scores": [0.9]}] * 2
    refused(lambda: plot_detections(np.zeros((2, 1, 8, 8)), found, **option), said)


# ------------------------------------------------------------------ reconstructions


def test_reconstructions_of_no_images_or_unequal_sizes_are_refused():
    empty = (torch.rand(0, 1, 16, 16), torch.rand(0, 3, 16, 16), torch.rand(0, 1, 16, 16))
    refused(lambda: plot_reconstructions(*empty), "no images to show")
    y = torch.rand(2, 1, 16, 16)
    x = torch.cat([y, torch.zeros_like(y), torch.ones_like(y)], 1)
    refused(
        lambda: plot_reconstructions(y, x, y, max_images=None),
        "max_images must be a whole number >= 1, got None",
    )
    ragged = [np.random.rand(1, 16, 16), np.random.rand(1, 8, 8)]
    refused(
        lambda: plot_reconstructions(ragged, x, y),
        r"target holds images of different sizes \(1, 16, 16\), \(1, 8, 8\)",
    )
    # A list of equal-sized images is a batch.
    assert len(plot_reconstructions(list(y), list(x), [a.numpy() for a in y]).data) == 10


# ------------------------------------------------------------------- run figures


def _finished_discrete_run(run_dir):
    with RunStore.create(run_dir, {"strategy": "random"}, environment={}) as store:
        store.set_status("running")
        store.log_candidate(0, "{}", {"score": 0.5}, {"params": 1.0})
        store.set_status("finished")
    return load(run_dir)


@pytest.mark.parametrize(
    ("plot", "logs"),
    [
        (plot_alphas, "alpha snapshots"),
        (plot_dice_per_class, "Dice curves"),
        (plot_learner_history, "learner curves"),
        (plot_history, "training curves"),
    ],
)
def test_a_finished_discrete_run_is_named_as_one_not_told_to_wait(tmp_path, plot, logs):
    run = _finished_discrete_run(tmp_path / "discrete")
    said = refused(lambda: plot(run), f"this run is a discrete search: it logs no {logs}")
    assert "wait" not in said and "plot_pareto" in said


def test_a_run_still_starting_is_still_told_to_wait(tmp_path):
    with RunStore.create(tmp_path / "new", {}, environment={}) as store:  # its writer lives
        run = load(store.run_dir)
        refused(lambda: plot_alphas(run), "no alpha snapshots yet; wait")
        refused(lambda: plot_dice_per_class(run), "no metrics yet; wait for the first epoch")


def test_a_run_killed_before_its_first_step_is_not_told_to_wait(tmp_path):
    """It says it runs, but no process writes it: waiting would never end."""
    with RunStore.create(tmp_path / "gone", {}, environment={}) as store:
        store.set_status("running")
    run = load(tmp_path / "gone")
    assert run.status == "running" and run.writer_alive() is False
    for call, logs in [
        (plot_history, "training curves"),
        (plot_alphas, "alpha snapshots"),
        (plot_genotype_timeline, "derived genotypes"),
    ]:
        said = refused(lambda call=call: call(run), f"this run logged no {logs}: its search")
        assert "process is gone (killed" in said and "wait" not in said
        assert f"nasbench resume {tmp_path / 'gone'}" in said


@pytest.mark.parametrize("given", ["runs/x", None])
def test_landmark_estimates_of_a_path_say_to_load_the_run(given):
    said = refused(lambda: plot_landmark_estimates(given), "pass nasbench.runs.load")
    assert type(given).__name__ in said


def test_a_loss_logged_only_as_nan_is_named_as_not_finite(tmp_path):
    with RunStore.create(tmp_path / "nan", {}, environment={}) as store:
        store.set_status("running")
        store.log_metrics(1, 0, "train", {"loss": float("nan")})
        store.log_metrics(2, 0, "train", {"loss": float("inf")})
        store.set_status("failed", "DivergenceError: the loss is NaN")
    run = load(tmp_path / "nan")
    said = "this run's loss in phase train is NaN or infinite at every step"
    assert "none of the metrics" not in refused(lambda: plot_history(run), said)
    refused(lambda: plot_history(run, metrics="loss"), said)


def test_history_metrics_and_phases_must_be_names(tmp_path):
    with RunStore.create(tmp_path / "run", {}, environment={}) as store:
        store.log_metrics(1, 0, "train", {"loss": 1.0})
    run = load(tmp_path / "run")
    refused(lambda: plot_history(run, metrics=[1]), r"metrics must be names \(text\).*got 1")
    refused(lambda: plot_history(run, metrics=5), "metrics must be a name or a list of names")
    refused(lambda: plot_history(run, phases=[0]), r"phases must be names \(text\).*got 0")


def test_one_pretext_name_is_one_column_not_its_letters():
    frame = pd.DataFrame({"rotation": [1.0, 2.0, 3.0], "target": [1.0, 3.0, 2.0]})
    fig = plot_pretext_correlation(frame, "rotation")
    assert [t.name for t in fig.data] == ["rotation"]
    refused(lambda: plot_pretext_correlation(frame, "jigsaw"), "no column 'jigsaw'")
