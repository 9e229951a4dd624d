"""Detection figures: predicted and true boxes over images, and the FROC curve.

Both follow the two-step shape of ``viz``: a ``_get_*_info`` step returns the numbers
(a NamedTuple, no plotly), and ``plot_*`` draws them. The inputs are what
:func:`nasbench.evaluation.detection.predict_split` returns.

Example:
    >>> images, found, truths = predict_split(net, test_split, limit=8)  # doctest: +SKIP
    >>> plot_detections(images, found, truths).show()  # doctest: +SKIP
    >>> plot_froc({"searched": (found, truths)}).show()  # doctest: +SKIP
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError, NasbenchError
from nasbench.evaluation.detection import FP_RATES, check_detections, froc, froc_curve
from nasbench.viz.alphas import whole_number
from nasbench.viz.comparison import COLORS as CURVE_COLORS
from nasbench.viz.image_panels import keep_pixels_square
from nasbench.viz.palette import FAMILY_COLORS

# The package's Okabe-Ito hues (sky blue, vermillion), and a dash on the detections:
# true and predicted boxes then differ in hue, lightness and line, not in red vs green.
TRUTH_COLOR = FAMILY_COLORS["attention"]
PREDICTION_COLOR = FAMILY_COLORS["sep_conv"]
BOX_DASHES = {"lesion": "solid", "detection": "dash"}


class DetectionsInfo(NamedTuple):
    """What :func:`plot_detections` draws."""

    images: list[np.ndarray]  # (H, W) each, the first channel
    truths: list[np.ndarray]  # (M, 4) boxes per image
    boxes: list[np.ndarray]  # (D, 4) predicted boxes at or above the threshold
    scores: list[np.ndarray]  # (D,)


def _get_detections_info(
    images: Any, detections: Sequence[Mapping], truths: Sequence[Mapping] | None,
    score_threshold: float, max_images: int,
) -> DetectionsInfo:  # fmt: skip
    _check_list(detections, "detections", "boxes and scores")
    if truths is not None:
        _check_list(truths, "truths", "boxes")
    max_images = whole_number("max_images", max_images, 1)
    if (
        isinstance(score_threshold, bool)
        or not isinstance(score_threshold, numbers.Real)
        or not math.isfinite(score_threshold)
    ):
        raise ConfigError(
            f"score_threshold must be a number (predictions scoring less are left out), got "
            f"{score_threshold!r}."
        )
    images = _image_batch(images)
    if len(detections) != len(images) or truths is not None and len(truths) != len(images):
        given = "" if truths is None else f" and {len(truths)} truth lists"
        raise ConfigError(
            f"{len(images)} images, {len(detections)} detection lists{given}; pass one of "
            "each per image, in the same order."
        )
    n = min(len(images), max_images)
    if n == 0:
        raise ConfigError("no images to draw; pass at least one image and its detections.")
    _check_keys(detections[:n], ("boxes", "scores"), "detections")
    if truths is not None:
        _check_keys(truths[:n], ("boxes",), "truths")
    # The metrics' own checks (boxes (N, 4), finite, one score per box), so a figure
    # refuses what froc and coco_map refuse, in their words; labels are not drawn.
    # Only what is drawn: labels (class names or ids, which the figure does not show) stay
    # out of the check.
    drawn = [{key: d[key] for key in ("boxes", "scores")} for d in detections[:n]]
    true = [{"boxes": t["boxes"]} for t in truths[:n]] if truths is not None else None
    try:
        found, true = check_detections(
            drawn, true or [{"boxes": np.zeros((0, 4))}] * n, labels_required=False
        )
    except NasbenchError as err:
        raise ConfigError(str(err)) from None
    shown, kept_boxes, kept_scores = [], [], []
    for i in range(n):
        image = np.asarray(images[i], dtype=float)
        shown.append(image[0] if image.ndim == 3 else image)
        scores = found[i]["scores"].cpu().numpy().astype(float)
        keep = scores >= score_threshold
        kept_boxes.append(found[i]["boxes"].cpu().numpy().astype(float)[keep])
        kept_scores.append(scores[keep])
    true_boxes = [t["boxes"].cpu().numpy().astype(float) for t in true]
    return DetectionsInfo(shown, true_boxes, kept_boxes, kept_scores)


def _image_batch(images: Any) -> Any:
    """``images`` if a batch ``(N, C, H, W)`` or ``(N, H, W)``, or a list of ``(C, H, W)``
    or ``(H, W)`` images (sizes may differ), else a one-line ConfigError (a lone ``(H, W)``
    image would be drawn as H one-row images, a channels-last one as its first row)."""
    if not hasattr(images, "shape"):  # a list of images, which may differ in size
        for image in images:
            shape = np.shape(image)
            if len(shape) not in (2, 3) or len(shape) == 3 and shape[-1] <= 4 < shape[0]:
                raise ConfigError(
                    "images given as a list must each be (C, H, W) or (H, W), got one of "
                    f"shape {tuple(shape)}."
                )
        return images
    shape = tuple(images.shape)
    hint = ""
    if len(shape) == 2:
        hint = "; a single image goes as images[None], its detections as a one-item list"
    elif len(shape) == 4 and shape[-1] <= 4 < shape[1]:
        hint = "; channels last? pass images.permute(0, 3, 1, 2) (numpy: moveaxis(x, -1, 1))"
    if len(shape) not in (3, 4) or hint:
        raise ConfigError(
            f"images must be a batch (N, C, H, W) or (N, H, W), got shape {shape}{hint}."
        )
    return images


def _check_list(entries: Any, what: str, keys: str) -> None:
    """A one-line ConfigError unless ``entries`` is a list (one dict per image): one dict
    alone would be counted by its keys, a generator has no length."""
    if isinstance(entries, Sequence) and not isinstance(entries, str):
        return
    hint = f"; for one image pass [{what}]" if isinstance(entries, Mapping) else ""
    raise ConfigError(
        f"{what} must be a list with one dict per image ({keys}), got "
        f"{type(entries).__name__}{hint}."
    )


def _check_keys(entries: Sequence[Any], keys: tuple[str, ...], what: str) -> None:
    """One line naming the image whose entry is no dict of ``keys`` (not a KeyError)."""
    for i, entry in enumerate(entries):
        missing = [k for k in keys if k not in entry] if isinstance(entry, Mapping) else keys
        if missing:
            raise ConfigError(
                f"{what}[{i}] has no {', '.join(repr(k) for k in missing)}; each entry is a dict "
                f"with {' and '.join(repr(k) for k in keys)}, as predict_split returns."
            )


def _outline(boxes: np.ndarray) -> tuple[list, list]:
    """x and y of every box's closed outline, separated by None (one trace for all)."""
    xs: list = []
    ys: list = []
    for x1, y1, x2, y2 in boxes:
        xs += [x1, x2, x2, x1, x1, None]
        ys += [y1, y1, y2, y2, y1, None]
    return xs, ys


def plot_detections(
    images: Any,
    detections: Sequence[Mapping],
    truths: Sequence[Mapping] | None = None,
    score_threshold: float = 0.3,
    max_images: int = 8,
    cols: int = 4,
) -> go.Figure:
    """Images with the true boxes (solid, sky blue) and the predicted ones (dashed,
    vermillion, score on hover).

    Args:
        images: ``(N, C, H, W)`` (or ``(N, H, W)``) tensor or array, or a list of
            ``(C, H, W)`` or ``(H, W)`` images, which may differ in size.
        detections: per image ``boxes`` and ``scores`` (pixel units), one list per image;
            the drawn ones are checked as the metrics check them (finite ``(x1, y1, x2,
            y2)`` boxes, one score per box), a one-line ConfigError otherwise.
        truths: per image ``boxes``; None draws predictions only.
        score_threshold: predictions scoring less are left out.
        max_images: images drawn (the first ones).
        cols: images per row.

    Returns:
        A figure, one panel per image.

    Example:
        >>> found = [{"boxes": [[2.0, 2, 6, 6]], "scores": [0.9]}]
        >>> [t.type for t in plot_detections(np.zeros((1, 1, 8, 8)), found).data]
        ['heatmap', 'scatter', 'scatter']
    """
    info = _get_detections_info(images, detections, truths, score_threshold, max_images)
    n = len(info.images)
    cols = min(whole_number("cols", cols, 1), n)
    rows = math.ceil(n / cols)
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.02, vertical_spacing=0.04)
    for i in range(n):
        row, col = i // cols + 1, i % cols + 1
        fig.add_trace(
            # Pixel c spans [c, c + 1), as box corners count it: its centre is c + 0.5.
            go.Heatmap(
                z=info.images[i],
                x0=0.5,
                y0=0.5,
                colorscale="gray",
                showscale=False,
                hoverinfo="skip",
            ),
            row=row,
            col=col,
        )
        for boxes, color, name, text in (
            (info.truths[i], TRUTH_COLOR, "lesion", None),
            (info.boxes[i], PREDICTION_COLOR, "detection", info.scores[i]),
        ):
            xs, ys = _outline(boxes)
            hover = None if text is None else [f"{s:.2f}" for s in text for _ in range(6)]
            fig.add_trace(
                go.Scatter(
                    x=xs, y=ys, mode="lines", name=name,
                    line={"color": color, "width": 2, "dash": BOX_DASHES[name]},
                    legendgroup=name, showlegend=i == 0, text=hover,
                    hovertemplate=None if text is None else "score %{text}<extra></extra>",
                ),
                row=row,
                col=col,
            )  # fmt: skip
    keep_pixels_square(fig, autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    # No dashed box at all would read as a drawing that failed: say none scored enough.
    none = "" if any(len(b) for b in info.boxes) else f": none scores {score_threshold:g} or more"
    fig.update_layout(
        title=f"Detections (score >= {score_threshold:g}) and lesions{none}",
        height=260 * rows,
        width=260 * cols,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


class FrocInfo(NamedTuple):
    """What :func:`plot_froc` draws, per model."""

    names: list[str]
    fps: list[np.ndarray]  # false positives per image, per detection in score order
    sensitivity: list[np.ndarray]
    at_rates: list[dict[str, float]]  # froc_<rate> and froc


def _get_froc_info(curves: Mapping[str, tuple[Sequence, Sequence]]) -> FrocInfo:
    if not isinstance(curves, Mapping):
        raise ConfigError(
            f"plot_froc needs curves as {{model name: (detections, truths)}}, got "
            f"{type(curves).__name__}; pass that dict (predict_split gives a model's "
            "detections)."
        )
    if not curves:
        raise ConfigError("no curves to draw; pass {name: (detections, truths)}.")
    names, fps, sens, at = [], [], [], []
    for name, pair in curves.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ConfigError(
                f"curve {name!r} must be a (detections, truths) pair, got {type(pair).__name__}."
            )
        detections, truths = pair
        f, s = froc_curve(list(detections), list(truths))
        scores = froc(list(detections), list(truths))
        if math.isnan(scores["froc"]):  # froc's mark of truths without a single lesion
            raise ConfigError(
                f"no lesions in the truth boxes: sensitivity is undefined; pass curve "
                f"{name!r} the truths of images that hold lesions (predict_split gives them)."
            )
        names.append(str(name))
        fps.append(f)
        sens.append(s)
        at.append(scores)
    return FrocInfo(names, fps, sens, at)


def plot_froc(curves: Mapping[str, tuple[Sequence, Sequence]], max_fps: float = 8.0) -> go.Figure:
    """FROC curves: sensitivity against false positives per image, one line per model.

    Markers sit at 0.5, 1, 2 and 4 false positives per image (the reported figures).

    Args:
        curves: model name -> ``(detections, truths)`` over the same images; the truths
            must hold at least one lesion (else the sensitivity is undefined: a one-line
            ConfigError).
        max_fps: the x-axis limit.

    Returns:
        A figure with a line and a marker trace per model.

    Example:
        >>> found = [{"boxes": [[2.0, 2, 6, 6]], "scores": [0.9], "labels": [0]}]
        >>> truths = [{"boxes": [[2.0, 2, 6, 6]], "labels": [0]}]
        >>> plot_froc({"net": (found, truths)}).data[0].name
        'net (FROC 1.000)'
    """
    info = _get_froc_info(curves)
    fig = go.Figure()
    for i, name in enumerate(info.names):
        color = CURVE_COLORS[i % len(CURVE_COLORS)]
        # A step curve from (0, 0): sensitivity holds until the next detection.
        x = np.concatenate([[0.0], info.fps[i]])
        y = np.concatenate([[0.0], info.sensitivity[i]])
        label = f"{name} (FROC {info.at_rates[i]['froc']:.3f})"
        fig.add_trace(
            go.Scatter(x=x, y=y, mode="lines", line={"color": color, "shape": "hv"}, name=label)
        )
        fig.add_trace(
            go.Scatter(
                x=list(FP_RATES),
                y=[info.at_rates[i][f"froc_{r:g}"] for r in FP_RATES],
                mode="markers",
                marker={"color": color, "size": 9},
                name=f"{name} at 0.5/1/2/4 FP",
                showlegend=False,
            )
        )
    fig.update_layout(
        title="FROC: lesions found against false positives per image",
        xaxis={"title": "false positives per image", "range": [0, max_fps]},
        yaxis={"title": "sensitivity", "range": [0, 1.02]},
    )
    return fig
