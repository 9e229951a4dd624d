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
from nasbench.viz.alphas import names_of, whole_number
from nasbench.viz.image_panels import keep_pixels_square
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
# A one-channel float mask this close to whole numbers holds class indices: resizing
# leaves 0.99999994 where 1 was, and the data loader reads it as 1 (it rounds masks too).
WHOLE_TOLERANCE = 1e-3
# A one-channel map in [0, 1] that is not whole is a probability (a sigmoid's output) or a
# soft mask: foreground where it is at least this.
PROBABILITY_THRESHOLD = 0.5
# Labels a mask saved as an 8- or 16-bit picture has for white: 0/255 is no 256-class mask.
WHITE_LABELS = (255, 65535)


def _array(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    x = np.asarray(x)
    if x.ndim not in (4, 5) or x.shape[1] == 0:
        raise ConfigError(
            f"{name} must be a batch (N, C, H, W) or (N, C, D, H, W), got shape {x.shape}."
        )
    return x


def _labels(x: Any, name: str) -> np.ndarray:
    """Index masks from masks ``(N, 1, *S)`` (whole, or probabilities thresholded at 0.5)
    or class scores ``(N, K, *S)`` (arg-max)."""
    x = _array(x, name)
    if x.shape[1] > 1:
        return x.argmax(axis=1)
    x = x[:, 0]
    if x.size == 0 or x.dtype == bool or np.issubdtype(x.dtype, np.integer):
        return _checked_labels(x.astype(int), name)
    if not np.isfinite(x).all():
        raise ConfigError(f"{name} holds NaN or infinite values; pass finite masks.")
    whole = np.rint(x)
    if np.abs(x - whole).max() <= WHOLE_TOLERANCE:
        return _checked_labels(whole.astype(int), name)
    if x.min() >= 0.0 and x.max() <= 1.0:
        return (x >= PROBABILITY_THRESHOLD).astype(int)
    from nasbench.data.folder import labels_hint  # the loader's words; only on this path

    raise ConfigError(
        f"{name} has one channel of values from {x.min():.3g} to {x.max():.3g}, neither class "
        "indices nor probabilities in [0, 1]; pass index masks, a sigmoid's probabilities "
        "(not its logits: apply torch.sigmoid), or one channel of scores per class."
        + labels_hint(whole)
    )


def _checked_labels(labels: np.ndarray, name: str) -> np.ndarray:
    """``labels`` if class indices 0, 1, 2, ..., else a one-line ConfigError."""
    if labels.size and labels.min() < 0:
        raise ConfigError(f"{name} has label {labels.min()}; masks hold class indices 0, 1, 2, ...")
    top = int(labels.max()) if labels.size else 0
    if top in WHITE_LABELS:
        from nasbench.data.folder import labels_hint

        # The loader reads a 0/255 mask file as 0/1; an array handed to a figure is not
        # read, so a 255 here would draw 255 legend classes.
        raise ConfigError(
            f"{name} has label {top}, as a mask saved as 0/{top} (white foreground) has; "
            "masks hold class indices 0, 1, 2, ..."
            + (labels_hint(labels) or f" Map white to 1 (divide the mask by {top}).")
        )
    return labels


def _class_names(class_names: Any) -> list[str]:
    """``class_names`` as a list of names; None: none given (default names)."""
    if class_names is None:
        return []
    if isinstance(class_names, str):
        raise ConfigError(
            f"class_names must be a list of names, background first, e.g. ('background', "
            f"{class_names!r}); got the single text {class_names!r}."
        )
    return list(names_of(class_names, "class_names", "('background', 'lesion')"))


def _slice_at(images: np.ndarray, axis: Any, slice_index: Any) -> tuple[int, int | None]:
    """The checked ``axis`` and ``slice_index`` (None: each sample's own best slice)."""
    if images.ndim == 4:
        if axis != 0 or slice_index is not None:
            raise ConfigError(
                f"axis and slice_index pick a slice of a volume, but images are 2D "
                f"{images.shape}; leave them out (got axis={axis!r}, "
                f"slice_index={slice_index!r})."
            )
        return 0, None
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer) or not 0 <= axis < 3:
        raise ConfigError(f"axis must be 0, 1 or 2 for volumes, got {axis!r}.")
    if slice_index is None:
        return int(axis), None
    size = images.shape[2 + axis]
    if (
        isinstance(slice_index, bool)
        or not isinstance(slice_index, int | np.integer)
        or not 0 <= slice_index < size
    ):
        raise ConfigError(
            f"slice_index must be a whole number in 0..{size - 1} (the volume has {size} "
            f"slices along axis {axis}), or None for each sample's slice with most "
            f"foreground; got {slice_index!r}."
        )
    return int(axis), int(slice_index)


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
    class_names: Sequence[str] | None,
    max_images: int,
    axis: int,
    slice_index: int | None,
) -> _OverlayInfo:
    """Checks the batches and cuts each shown sample to its 2D slice."""
    names = _class_names(class_names)
    max_images = whole_number("max_images", max_images, 1)
    images = _array(images, "images")
    if len(images) == 0:
        raise ConfigError("no images to show; pass a batch of at least one sample.")
    truth, pred = _labels(truth, "truth"), _labels(prediction, "prediction")
    if not (len(images) == len(truth) == len(pred)):
        raise ConfigError("images, truth and prediction must hold the same number of samples.")
    if truth.shape != pred.shape or truth.shape != images.shape[:1] + images.shape[2:]:
        raise ConfigError(
            f"truth {truth.shape} and prediction {pred.shape} must match the images' "
            f"spatial size {images.shape[2:]}."
        )
    axis, slice_index = _slice_at(images, axis, slice_index)
    rows = min(max_images, len(images))
    k = int(max(truth.max(), pred.max(), len(names) - 1, 1))
    names = names or ["background"] + [f"class {i}" for i in range(1, k + 1)]
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
    class_names: Sequence[str] | None = (),
    max_images: int = 4,
    axis: int = 0,
    slice_index: int | None = None,
) -> go.Figure:
    """Image, ground truth and prediction of a few samples, masks over the image.

    A one-channel mask holds class indices: floats within 0.001 of whole numbers are
    rounded (resizing leaves 0.99999994 for 1, which the data loader reads as 1 too);
    a one-channel float map in [0, 1] that is not whole is a probability (a sigmoid's
    output) or a soft mask, and is foreground where it is at least 0.5. Several channels
    are scores per class: each voxel shows its arg-max.

    Args:
        images: ``(N, C, *spatial)``; the first channel is shown.
        truth: masks ``(N, 1, *spatial)`` as above, or scores ``(N, K, *spatial)``.
        prediction: masks ``(N, 1, *spatial)`` or logits ``(N, K, *spatial)``.
        class_names: names of the classes (background first), for the legend; () or None:
            "class 1", "class 2", ...
        max_images: rows shown at most.
        axis: for volumes, the spatial axis sliced (0: depth); 2D images take no axis.
        slice_index: for volumes, the slice (0 to the size along ``axis`` less one); None
            takes each sample's slice with most foreground. 2D images take none.

    Returns:
        A figure with ``3 * rows`` heatmap panels (traces named ``image``, ``truth``,
        ``prediction``) and one legend entry per foreground class.

    Example:
        >>> image = torch.rand(2, 1, 16, 16); probability = torch.sigmoid(image - 0.5)
        >>> fig = plot_overlays(image, probability, probability, ("background", "lesion"))
        >>> [t.name for t in fig.data][-1]
        'lesion'
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
    keep_pixels_square(fig, visible=False, autorange="reversed")
    fig.update_layout(
        title="Segmentation: image, ground truth, prediction",
        height=220 * rows + 80,
        plot_bgcolor="white",
        legend={"orientation": "h"},
    )
    return fig
