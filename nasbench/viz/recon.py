"""Reconstruction figures: images side by side, and the unrolled network drawn as a cascade.

- :func:`plot_reconstructions`: one row per sample, five panels: ground truth,
  zero-filled, reconstruction, the absolute error map and the k-space mask, with
  each image's PSNR/SSIM in the row's titles.
- :func:`draw_unrolled`: the zero-filled input, T cascades (cell, then ``DC``, data
  consistency) and the magnitude output, above the searched cell in the DARTS style.

Example:
    >>> y = torch.rand(2, 1, 16, 16)
    >>> x = torch.cat([y, torch.zeros_like(y), torch.ones_like(y)], 1)
    >>> len(plot_reconstructions(y, x, y).data)
    10
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError, DatasetError, SpaceError
from nasbench.viz.alphas import whole_number
from nasbench.viz.genotype_graph import EDGE_ATTR, NODE_ATTR, _draw_cell, _highlight_set
from nasbench.viz.image_panels import keep_pixels_square
from nasbench.viz.palette import INPUT_FILL, NODE_FILL, OUTPUT_FILL
from nasbench.viz.render import NasDigraph

PANELS = ("ground truth", "zero-filled", "reconstruction", "|error| x{gain}", "k-space mask")
ERROR_GAIN = 5  # errors are small next to the image; the map is brightened by this factor
SUBPLOT_TITLE_SIZE = 14  # px: the smallest that the package's figures use for text


def _batch(x: Any, name: str, channels: int | None) -> torch.Tensor:
    shape = f"(N, {channels}, H, W)" if channels else "(N, channels, H, W)"
    if isinstance(x, list | tuple):
        sizes = list(dict.fromkeys(tuple(np.shape(item)) for item in x))
        if len(sizes) > 1:
            raise ConfigError(
                f"{name} holds images of different sizes {', '.join(map(str, sizes))}; pass "
                f"one batch {shape} of equal-sized images (crop or resize them first)."
            )
    try:
        if isinstance(x, list | tuple) and x:  # as_tensor reads a list of tensors item by item
            x = torch.stack([torch.as_tensor(item) for item in x])
        x = torch.as_tensor(x).detach().float().cpu()
    except (TypeError, ValueError, RuntimeError):
        raise ConfigError(
            f"{name} must be a batch {shape} (a tensor or array), got {type(x).__name__}."
        ) from None
    if x.ndim != 4 or channels is not None and x.shape[1] != channels:
        raise ConfigError(f"{name} must be a batch {shape}, got {tuple(x.shape)}.")
    return x


class _ReconstructionInfo(NamedTuple):
    """The images and scores plot_reconstructions shows (its data step)."""

    # Per row, the panels' (H, W) images in PANELS order, clamped to [0, 1]; the error map
    # is already multiplied by ERROR_GAIN.
    images: list[tuple[np.ndarray, ...]]
    # Per row, {"zero-filled" | "reconstruction": (PSNR in dB, SSIM)} against the target,
    # of the unclamped images (per_image_scores, as the reported scores).
    scores: list[dict[str, tuple[float, float]]]


def _get_reconstruction_info(
    target: Any, inputs: Any, reconstruction: Any, max_images: int
) -> _ReconstructionInfo:
    """Checks the batches, unpacks the zero-filled image and mask, and scores each row."""
    from nasbench.data.kspace import unpack
    from nasbench.evaluation.reconstruction import per_image_scores

    max_images = whole_number("max_images", max_images, 1)
    target = _batch(target, "target", 1)
    inputs = _batch(inputs, "inputs", None)
    output = _batch(reconstruction, "reconstruction", 1)
    if not target.shape == output.shape == (len(inputs), 1, *inputs.shape[2:]):
        raise ConfigError(
            f"target {tuple(target.shape)}, inputs {tuple(inputs.shape)} and reconstruction "
            f"{tuple(output.shape)} must hold the same images."
        )
    if len(target) == 0:  # torch's FFT fails on an empty batch, in MKL's words
        raise ConfigError("no images to show; pass a batch of at least one sample.")
    try:
        acquired = unpack(inputs)
    except DatasetError as err:  # a figure's bad argument, not bad data
        raise ConfigError(f"inputs: {err}") from None
    zero_filled = acquired.zero_filled.abs()[:, None]
    masks = acquired.mask[:, 0].expand(target[:, 0].shape)
    # Scored unclamped, as ReconstructionMeter scores them: the titles then read the
    # reported test scores; only the panels are clamped, for display.
    scores = {
        "zero-filled": per_image_scores(zero_filled, target),
        "reconstruction": per_image_scores(output, target),
    }
    rows = min(max_images, len(target))
    images, row_scores = [], []
    for i in range(rows):
        error = (output[i, 0] - target[i, 0]).abs() * ERROR_GAIN
        panels = (target[i, 0], zero_filled[i, 0], output[i, 0], error, masks[i])
        images.append(tuple(image.clamp(0, 1).numpy() for image in panels))
        row_scores.append(
            {
                name: (float(score["psnr"][i]), float(score["ssim"][i]))
                for name, score in scores.items()
            }
        )
    return _ReconstructionInfo(images=images, scores=row_scores)


def plot_reconstructions(
    target: Any, inputs: Any, reconstruction: Any, max_images: int = 3, title: str = ""
) -> go.Figure:
    """Ground truth, zero-filled, reconstruction, error map and mask of a few samples.

    Args:
        target: fully sampled magnitudes ``(N, 1, H, W)`` (each argument may also be a
            list of images of one size).
        inputs: the samples ``(N, 3, H, W)``, or ``(N, 4C + 1, H, W)`` with ``C`` coils
            (:mod:`nasbench.data.kspace`); they give the zero-filled image and the mask.
        reconstruction: the network's output ``(N, 1, H, W)``.
        max_images: rows at most.
        title: the figure title (default names the panels).

    Returns:
        A figure of ``5 * rows`` heatmaps (traces named as the panels), grey, in [0, 1].

    Example:
        >>> from nasbench.data.kspace import draw_mask, undersample
        >>> x, y = undersample(torch.rand(16, 16), draw_mask(16, 4, 0.25))
        >>> len(plot_reconstructions(y[None], x[None], y[None]).data)
        5
    """
    info = _get_reconstruction_info(target, inputs, reconstruction, max_images)
    rows = len(info.images)
    titles = []
    for scores in info.scores:
        for panel in PANELS:
            name = panel.split(" x")[0]
            text = panel.format(gain=ERROR_GAIN)
            if name in scores:
                psnr, ssim = scores[name]
                text = f"{panel}<br>{psnr:.1f} dB, SSIM {ssim:.3f}"
            titles.append(text)
    fig = make_subplots(rows=rows, cols=len(PANELS), subplot_titles=titles, horizontal_spacing=0.01)
    for i, images in enumerate(info.images):
        for col, (panel, image) in enumerate(zip(PANELS, images, strict=True), start=1):
            fig.add_trace(
                go.Heatmap(
                    z=np.flipud(image),
                    colorscale="gray" if col != 4 else "inferno",
                    zmin=0.0,
                    zmax=1.0,
                    showscale=False,
                    name=panel.split(" x")[0],
                ),
                row=i + 1,
                col=col,
            )
    fig.update_xaxes(visible=False)
    keep_pixels_square(fig, visible=False, constrain="domain")
    fig.update_annotations(font_size=SUBPLOT_TITLE_SIZE)
    fig.update_layout(
        title=title or "Reconstruction: ground truth, zero-filled, network, error, mask",
        height=230 * rows + 80,
        margin={"l": 10, "r": 10, "t": 90, "b": 10},
    )
    return fig


def draw_unrolled(genotype: Any, cascades: int = 3, cells: int = 1) -> NasDigraph:
    """The unrolled network of a recon genotype: the cascade, then its cell.

    Args:
        genotype: a :class:`~nasbench.spaces.recon.ReconGenotype`.
        cascades: T, the cascades drawn.
        cells: cells per cascade.

    Returns:
        A :class:`NasDigraph` (inline in Jupyter; ``render``/``save`` export it).

    Example:
        >>> from nasbench.spaces.recon import ReconGenotype
        >>> g = ReconGenotype([("conv_3x3", 0), ("res_conv_3x3", 1)], [2])
        >>> "DC 2" in draw_unrolled(g, cascades=2).source
        True
    """
    if getattr(genotype, "kind", None) != "recon":
        raise SpaceError(f"draw_unrolled draws recon genotypes, not {genotype!r}.")
    if cascades < 1 or cells < 1:
        raise SpaceError(f"cascades and cells must be >= 1, got {cascades} and {cells}.")
    graph = NasDigraph(name="unrolled", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    graph.attr(rankdir="LR", compound="true")
    with graph.subgraph(name="cluster_cascade") as sub:
        sub.attr(label="unrolled network", fontsize="22", fontname="times", style="dashed")
        sub.node("zf", "zero-filled", fillcolor=INPUT_FILL)
        previous = "zf"
        for t in range(1, cascades + 1):
            label = "cell" if cells == 1 else f"{cells} cells"
            sub.node(f"cell{t}", f"{label} {t}", fillcolor=NODE_FILL)
            sub.node(f"dc{t}", f"DC {t}", fillcolor="white", shape="ellipse")
            sub.edge(previous, f"cell{t}")
            sub.edge(f"cell{t}", f"dc{t}", label="+ input")
            sub.edge("zf", f"dc{t}", label="k-space", style="dashed", color="gray50")
            previous = f"dc{t}"
        sub.node("out", "|image|", fillcolor=OUTPUT_FILL)
        sub.edge(previous, "out")
    _draw_cell(graph, genotype, "normal", _highlight_set(None), titled=True)
    graph.edge("out", "normal_in0", style="invis")
    return graph
