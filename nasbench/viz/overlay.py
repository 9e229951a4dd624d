"""Segmentation overlays: image, ground truth and prediction side by side on 2D slices.

One row per sample, three panels: the image in grey, then the same image with the
true mask and with the predicted mask laid over it in class colours (background
transparent). A volume is shown at one slice along ``axis``: by default the one
with the most foreground in the ground truth.

Example:
    >>> image = torch.rand(2, 1, 16, 16); mask = (image > 0.5).long()
    >>> plot_overlays(image, mask, mask).layout.title.text
    'Segmentation: image, ground truth, prediction'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError
from nasbench.viz.palette import FAMILY_COLORS

# Class 0 is transparent; the rest take the palette's hues in a fixed order.
CLASS_COLORS = (
    FAMILY_COLORS["sep_conv"],
    FAMILY_COLORS["pool"],
    FAMILY_COLORS["conv"],
    FAMILY_COLORS["skip"],
    FAMILY_COLORS["dil_conv"],
    FAMILY_COLORS["attention"],
)
OVERLAY_OPACITY = 0.45


def _array(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    x = np.asarray(x)
    if x.ndim not in (4, 5):
        raise ConfigError(
            f"{name} must be a batch (N, C, H, W) or (N, C, D, H, W), got shape {x.shape}."
        )
    return x


def _labels(x: Any, name: str) -> np.ndarray:
    """Index masks from masks ``(N, 1, *S)`` or logits ``(N, K, *S)`` (arg-max)."""
    x = _array(x, name)
    return x[:, 0].astype(int) if x.shape[1] == 1 else x.argmax(axis=1)


def _slice(volume: np.ndarray, axis: int, index: int) -> np.ndarray:
    return np.take(volume, index, axis=axis) if volume.ndim == 3 else volume


def _best_slice(mask: np.ndarray, axis: int) -> int:
    other = tuple(a for a in range(3) if a != axis)
    return int(np.argmax((mask > 0).sum(axis=other)))


def _colorscale(k: int) -> list[list[Any]]:
    """A discrete colourscale for labels 0..k (0 transparent)."""
    colors = ["rgba(0,0,0,0)"] + [CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(k)]
    scale = []
    for i, color in enumerate(colors):
        scale += [[i / len(colors), color], [(i + 1) / len(colors), color]]
    return scale


class _OverlayInfo(NamedTuple):
    """The 2D slices an overlay figure shows (the data step of plot_overlays)."""

    images: list[np.ndarray]  # one (H, W) slice per row, first channel
    truths: list[np.ndarray]  # index masks, same slices
    predictions: list[np.ndarray]
    n_classes: int  # highest class index k; the colour scale spans 0..k
    class_labels: list[str]  # legend labels of classes 1..k


def _get_overlay_info(
    images: Any,
    truth: Any,
    prediction: Any,
    class_names: Sequence[str],
    max_images: int,
    axis: int,
    slice_index: int | None,
) -> _OverlayInfo:
    """Checks the batches and cuts each shown sample to its 2D slice."""
    images, truth, pred = (
        _array(images, "images"),
        _labels(truth, "truth"),
        _labels(prediction, "prediction"),
    )
    if not (len(images) == len(truth) == len(pred)):
        raise ConfigError("images, truth and prediction must hold the same number of samples.")
    if truth.shape != pred.shape or truth.shape != images.shape[:1] + images.shape[2:]:
        raise ConfigError(
            f"truth {truth.shape} and prediction {pred.shape} must match the images' "
            f"spatial size {images.shape[2:]}."
        )
    if images.ndim == 5 and not 0 <= axis < 3:
        raise ConfigError(f"axis must be 0, 1 or 2 for volumes, got {axis}.")
    rows = max(1, min(int(max_images), len(images)))
    k = int(max(truth.max(), pred.max(), len(class_names) - 1, 1))
    names = list(class_names) or ["background"] + [f"class {i}" for i in range(1, k + 1)]
    shown: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for r in range(rows):
        index = slice_index
        if images.ndim == 5 and index is None:
            index = _best_slice(truth[r], axis)
        for out, volume in zip(shown, (images[r, 0], truth[r], pred[r]), strict=True):
            out.append(_slice(volume, axis, index or 0))
    return _OverlayInfo(
        images=shown[0],
        truths=shown[1],
        predictions=shown[2],
        n_classes=k,
        class_labels=[names[i] if i < len(names) else f"class {i}" for i in range(1, k + 1)],
    )


def plot_overlays(
    images: Any,
    truth: Any,
    prediction: Any,
    class_names: Sequence[str] = (),
    max_images: int = 4,
    axis: int = 0,
    slice_index: int | None = None,
) -> go.Figure:
    """Image, ground truth and prediction of a few samples, masks over the image.

    Args:
        images: ``(N, C, *spatial)``; the first channel is shown.
        truth: index masks ``(N, 1, *spatial)``.
        prediction: index masks ``(N, 1, *spatial)`` or logits ``(N, K, *spatial)``.
        class_names: names of the classes (background first), for the legend.
        max_images: rows shown at most.
        axis: for volumes, the spatial axis sliced (0: depth).
        slice_index: the slice; None takes each sample's slice with most foreground.

    Returns:
        A figure with ``3 * rows`` heatmap panels (traces named ``image``, ``truth``,
        ``prediction``) and one legend entry per foreground class.
    """
    info = _get_overlay_info(images, truth, prediction, class_names, max_images, axis, slice_index)
    rows, k = len(info.images), info.n_classes
    fig = make_subplots(
        rows=rows,
        cols=3,
        column_titles=["image", "ground truth", "prediction"],
        horizontal_spacing=0.02,
        vertical_spacing=0.02,
    )
    scale = _colorscale(k)
    for r, image in enumerate(info.images):
        panels = (("image", None), ("truth", info.truths[r]), ("prediction", info.predictions[r]))
        for c, (name, mask) in enumerate(panels):
            fig.add_trace(
                go.Heatmap(
                    z=image, colorscale="gray", showscale=False, name=name, hoverinfo="skip"
                ),
                row=r + 1,
                col=c + 1,
            )
            if mask is not None:
                fig.add_trace(
                    go.Heatmap(
                        z=mask,
                        zmin=-0.5,
                        zmax=k + 0.5,
                        colorscale=scale,
                        opacity=OVERLAY_OPACITY,
                        showscale=False,
                        name=name,
                        hovertemplate=f"{name}: class %{{z}}<extra></extra>",
                    ),
                    row=r + 1,
                    col=c + 1,
                )
    for i, label in enumerate(info.class_labels, start=1):
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=label,
                marker={"color": CLASS_COLORS[(i - 1) % len(CLASS_COLORS)], "size": 10,
                        "symbol": "square"},
            )
        )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(
        title="Segmentation: image, ground truth, prediction",
        height=220 * rows + 80,
        plot_bgcolor="white",
        legend={"orientation": "h"},
    )
    return fig
