"""Build a search space visually: space type, op palette, cell and skeleton settings.

The builder shows the supernet cell and the macro skeleton (graphviz), the
space size, and the supernet cost: parameters, MACs and an estimated training
memory at the chosen batch size. Invalid choices (no ops, zero nodes) show an
inline message and set ``valid`` to False, which disables Run in the launcher.

Segmentation spaces (NAS-Unet, V-NAS, DiNTS) have fixed op sets per edge role, so
they show depth (and nodes or blocks) instead of the palette, a sampled member
instead of the supernet cell, and the memory estimate before launch: for U-Nets
and 3D data it decides whether a search fits at all.

Network-level spaces: the Auto-DeepLab / MS-NAS trellis (layers over ``depth + 1``
scales and one cell from the palette; drawn as the trellis with a sampled path),
C2FNAS (cells, depth and stage 1's candidates and proxy steps, or a fixed topology;
drawn as a sampled U-shaped member) and the NAS-Bench-101 cell (vertices and edges;
drawn as a sampled cell, pruned vertices dashed).

Memory estimate: :func:`nasbench.models.memory.estimate_memory` (activations saved
for backward at batch 1 and 2, scaled linearly, plus 3x the weights; a lower bound
of the real peak). For U-Net spaces (NAS-Unet, V-NAS, DiNTS) and 3D data it is the
figure to read before launching; DiNTS also shows MONAI's own estimate.
"""

from __future__ import annotations

import contextlib
import html
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from nasbench.errors import ConfigError, NasbenchError, SpaceError, closest_name, status_reason
from nasbench.models.memory import estimate_memory, saved_activation_bytes
from nasbench.spaces import OP_SETS, op_family, op_spatial_dims, space_from_dict
from nasbench.spaces.c2fnas import all_topologies
from nasbench.spaces.nb101 import UNIQUE_CELLS_NB101
from widgets._layout import wrapping_row
from widgets._number_box import NumberBox
from widgets._svg import message_html, show_drawing
from widgets._tasks import Debouncer, off_loop, running_loop

__all__ = [
    "SpaceBuilder",
    "cost_text",
    "estimate_memory",
    "too_large_to_build",
    "palette_ops",
    "parse_positions",
    "saved_activation_bytes",
]

SPACE_TYPES = (
    ("DARTS / NASNet cell", "darts"),
    ("NAS-Bench-201 cell", "nb201"),
    ("Chain (NAS-RL / MetaQNN)", "chain"),
    ("NAS-Unet cells (segmentation)", "nasunet"),
    ("V-NAS 2D/3D/P3D (3D segmentation)", "vnas"),
    ("DiNTS topology (MONAI, segmentation)", "dints"),
    ("Auto-DeepLab / MS-NAS trellis (segmentation)", "trellis"),
    ("C2FNAS topology, then cells (3D segmentation)", "c2fnas"),
    ("NAS-Bench-101 cell", "nb101"),
)
# Spaces on a U-Net skeleton (depth, channels); the trellis also takes a palette cell.
SEGMENTATION_TYPES = ("nasunet", "vnas", "dints", "trellis", "c2fnas")
# The op sets a cell palette offers (the U-Net sets need the U-Net space).
PALETTE_SETS = ("darts", "nasnet", "gdas", "nb201", "elixir", "vnas")
CHAIN_LAYER_TYPES = ("conv", "sep_conv", "max_pool", "avg_pool")
CUSTOM = "custom"
# C2FNAS lists every U-shaped topology of its cells: 16 cells make at most 16,368 (0.2 s),
# 24 cells 1.7 million (seconds, on every change); the paper used 12.
C2FNAS_MAX_CELLS = 16


def palette_ops(spatial_dims: int = 2) -> dict[str, list[str]]:
    """The ops the palette offers, grouped by family, for 2D or 3D.

    Args:
        spatial_dims: 2 or 3.

    Returns:
        family -> op names, families in first-seen order.

    Example:
        >>> "sep_conv_3x3" in palette_ops(2)["sep_conv"]
        True
    """
    out: dict[str, list[str]] = {}
    for set_name in PALETTE_SETS:
        for op in OP_SETS.get(set_name, ()):
            if spatial_dims not in op_spatial_dims(op):
                continue
            family = out.setdefault(op_family(op), [])
            if op not in family:
                family.append(op)
    return out


# Skeleton settings the dataset decides (set_dataset), not the space dict being shown.
_DATASET_DECIDES = ("in_channels", "num_classes")


def _comparable(space: Mapping[str, Any]) -> dict[str, Any]:
    """A space's ``to_dict()`` without what the dataset decides, ops as a list."""
    from nasbench.spaces.ops import OP_SETS as SETS

    out = {k: v for k, v in space.items() if k != "skeleton"}
    for key in ("ops", "down_ops", "up_ops", "normal_ops"):
        if key in out:
            ops = out[key]
            # In order: a space's op order is its alpha columns' and what a seed samples.
            out[key] = list(SETS.get(ops, ()) if isinstance(ops, str) else ops)
    skeleton = space.get("skeleton") or {}
    out.update({f"skeleton.{k}": v for k, v in skeleton.items() if k not in _DATASET_DECIDES})
    return out


def _differences(wanted: Mapping[str, Any], shown: Mapping[str, Any]) -> list[str]:
    """``"name value"`` for each setting of ``wanted`` that ``shown`` does not have."""
    return [f"{k} {v!r}" for k, v in wanted.items() if shown.get(k) != v]


MEMORY_CAVEAT = (
    "est. memory: activations saved for backward at batch 1 and 2, scaled linearly, plus 3x "
    "the weights; a lower bound of the real peak"
)


def cost_text(params: float, macs: float) -> str:
    """Parameters and MACs in the Genotypes tab's units (millions), as HTML.

    Args:
        params: the parameter count.
        macs: multiply-accumulates for one image.

    Returns:
        e.g. ``"<b>0.243 M</b> parameters, <b>32.6 M</b> MACs per image"``.

    Example:
        >>> cost_text(392_970, 46_850_000)
        '<b>0.393 M</b> parameters, <b>46.9 M</b> MACs per image'
    """
    # The Genotypes tab's own format, so a supernet and a derived network compare at a glance.
    return f"<b>{params / 1e6:.3f} M</b> parameters, <b>{macs / 1e6:.1f} M</b> MACs per image"


# The most parameters a live preview builds a network of. Building and measuring one takes
# far more RAM than its weights (DARTS supernet at 28 px: 17 M parameters 0.9 GB and 4 s,
# 65 M 1.8 GB and 9 s, 1,008 M 10 GB and 48 s): past 50 M a value the controls accept could
# exhaust an 8 GB laptop and kill the kernel. Larger networks are counted on the meta device.
LIVE_MAX_PARAMS = 50_000_000
# Past this many times LIVE_MAX_PARAMS a too-large network is neither counted to the end nor
# its MACs: on the meta device every op dispatches slowly (a 43,000 M-parameter DARTS
# supernet took 30 s to build and 90 s to count MACs), and the next notebook cell waits.
# "Over 500 M parameters" says enough.
COUNT_MACS_FACTOR = 10


@contextlib.contextmanager
def _weights_on_meta() -> Iterator[None]:
    """Allocate only uninitialised tensors (``torch.empty``: every torch layer's weights,
    initialised in place afterwards) on the meta device; tensors made with values stay real.

    For builds that read a tensor they made, which fail under ``torch.device("meta")``:
    MONAI's ``TopologySearch`` moves its path codes (``torch.ones``) with ``.to("cpu")``
    and branches on them. Its weights still take no memory; its few real tensors do.
    A torch function mode, as ``torch.device`` is: it holds in this thread only.
    """
    import torch
    from torch.overrides import TorchFunctionMode

    factories = (torch.empty, torch.empty_strided)

    class WeightsOnMeta(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = dict(kwargs or {})
            if func in factories and kwargs.get("device") is None:
                kwargs["device"] = "meta"
            return func(*args, **kwargs)

    with WeightsOnMeta():
        yield


class _PastBound(Exception):
    """A build stopped by :func:`_stop_past`: its parameters passed the bound."""


@contextlib.contextmanager
def _stop_past(bound: int) -> Iterator[None]:
    """Stop a build (raise :class:`_PastBound`) once the parameters it has registered in
    this thread pass ``bound``: building a huge network even on the meta device takes tens
    of seconds, all of it spent after the answer (too large) is known.

    torch's registration hook is global: parameters registered in other threads (a search
    or another preview running beside this one) are neither counted nor stopped.
    """
    import threading

    from torch.nn.modules.module import register_module_parameter_registration_hook

    owner = threading.get_ident()
    seen: set[int] = set()  # a parameter registered on two modules counts once
    total = 0

    def tally(module: Any, name: str, param: Any) -> None:
        nonlocal total
        if param is None or threading.get_ident() != owner or id(param) in seen:
            return
        seen.add(id(param))
        total += param.numel()
        if total > bound:
            raise _PastBound

    handle = register_module_parameter_registration_hook(tally)
    try:
        yield
    finally:
        handle.remove()


def too_large_to_build(build: Callable[[], Any], input_shape: Sequence[int]) -> dict | None:
    """Count the network ``build()`` makes on torch's meta device (shapes only: no weights
    or activations in memory, whatever its size) and tell whether a live preview may build it.

    A build that fails on the meta device (one that reads a tensor it made, as DiNTS's
    MONAI space does) is tried again with only its weights there (:func:`_weights_on_meta`).
    A network that cannot be counted either way is not built: its size is unknown, and
    the controls accept sizes that exhaust a laptop's memory.

    Args:
        build: makes the network (called under ``torch.device("meta")``, then, if that
            fails, :func:`_weights_on_meta`).
        input_shape: one input batch's shape, batch dim included, e.g. ``(1, 1, 28, 28)``.

    Returns:
        None when it has at most :data:`LIVE_MAX_PARAMS` parameters: build it for real.
        Else ``{"params": int, "macs": int | None}`` (MACs None where an op has no meta
        kernel or only the weights were on meta), or, past :data:`COUNT_MACS_FACTOR` times
        the limit, ``{"params": that bound, "macs": None, "past": True}``: the build
        stopped there, as finishing it only to count takes long (a 43,000 M-parameter DARTS
        supernet, 30 s). ``{"params": None, "macs": None, "reason": str}`` when it could
        not be counted: do not build it either.

    Raises:
        NasbenchError, ValueError: the build refuses its settings (as it would for real).

    Example:
        >>> import torch
        >>> too_large_to_build(lambda: torch.nn.Linear(3, 2), (4, 3)) is None
        True
        >>> too_large_to_build(lambda: torch.nn.Linear(10_000, 10_000), (1, 10_000))
        {'params': 100010000, 'macs': 100000000}
        >>> too_large_to_build(lambda: torch.nn.Linear(10**5, 10**4), (1, 10**5))
        {'params': 500000000, 'macs': None, 'past': True}
    """
    import torch

    from nasbench.models.costs import count_macs, count_parameters

    bound = COUNT_MACS_FACTOR * LIVE_MAX_PARAMS
    all_on_meta = True
    try:
        with _stop_past(bound), torch.device("meta"), torch.random.fork_rng(devices=[]):
            net = build()
    except _PastBound:
        return {"params": bound, "macs": None, "past": True}
    except Exception:  # noqa: BLE001 - e.g. a build that reads a tensor's value
        all_on_meta = False
        try:
            with _stop_past(bound), _weights_on_meta(), torch.random.fork_rng(devices=[]):
                net = build()
        except _PastBound:
            return {"params": bound, "macs": None, "past": True}
        except (NasbenchError, ValueError):
            raise  # the settings are refused (as a real build would refuse them): say why
        except Exception as err:  # noqa: BLE001 - unknown size: the caller does not build it
            return {"params": None, "macs": None, "reason": status_reason(err)}
    params = count_parameters(net)
    if params <= LIVE_MAX_PARAMS:
        return None
    macs = None
    # Not with real tensors among meta weights: its forward would fail, maybe after
    # computing on real inputs.
    if all_on_meta:
        try:
            # Only here: on the meta device each op is slow to dispatch (a 40-cell supernet
            # takes ~20 s), though it allocates nothing.
            macs = count_macs(net, tuple(input_shape))
        except Exception:  # noqa: BLE001 - an op without a meta kernel: the count alone
            pass
    return {"params": params, "macs": macs}


def too_large_text(what: str, counted: Mapping[str, Any], advice: str) -> str:
    """The one line a preview shows instead of building a network past
    :data:`LIVE_MAX_PARAMS`, or one :func:`too_large_to_build` could not count (plain
    text): its counts or why it was not counted, why it is not built, and ``advice``.

    Example:
        >>> too_large_text("net", {"params": 1.2e9, "macs": None}, "lower C.")[:41]
        'net: ~1,200 M parameters: too large to bu'
        >>> too_large_text("net", {"params": None, "reason": "no meta kernel"}, "x")[:40]
        'net: its size cannot be checked ahead (c'
    """
    if counted.get("params") is None:
        return (
            f"{what}: its size cannot be checked ahead (counting it on the meta device "
            f"failed: {counted.get('reason')}), so a live preview does not build it (it "
            f"could need GBs of RAM); {advice}"
        )
    macs = "" if counted.get("macs") is None else f", ~{counted['macs'] / 1e6:,.0f} M MACs"
    about = "over " if counted.get("past") else "~"
    return (
        f"{what}: {about}{counted['params'] / 1e6:,.0f} M parameters{macs}: too large to build for "
        f"a live preview (more than {LIVE_MAX_PARAMS / 1e6:,.0f} M); {advice}"
    )


def _bytes(n: float) -> str:
    for scale, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= scale:
            return f"{n / scale:.1f} {suffix}"
    return f"{n:.0f} B"


def parse_positions(text: str) -> tuple[int, ...] | None:
    """Parse reduction positions: ``"auto"``/empty -> None, ``"2, 4"`` -> (2, 4).

    Raises:
        ValueError: a position is not an integer.
    """
    text = text.strip().lower()
    if text in ("", "auto"):
        return None
    return tuple(int(part) for part in text.replace(";", ",").split(",") if part.strip())


def _network_note(space: Any) -> str:
    """What a network-level space searches, in a sentence or two (under its drawing)."""
    if space.name == "trellis":
        widths = ", ".join(str(w) for w in space.skeleton.widths())
        return (
            f"{space.num_layers} layers over {space.num_scales} scales (widths {widths}): "
            f"{space.n_paths():,} paths x {space.cell_size():,} cells. The search weighs every "
            "transition (betas) beside the cell's alphas and decodes the path by Viterbi."
        )
    if space.name == "c2fnas":
        every = len(all_topologies(space.num_cells, space.skeleton.depth))
        if space.topology is not None:
            stage1 = f"topology {'-'.join(map(str, space.topology))} fixed: no stage 1"
        else:
            stage1 = (
                f"stage 1 trains {min(space.candidates, every)} of the {every} U-shaped "
                f"topologies for {space.proxy_steps} step(s) each and keeps the lowest loss"
            )
        return (
            f"{space.num_cells} cells, depth {space.skeleton.depth}; {stage1}; stage 2 "
            f"searches each cell's conv ({', '.join(space.choices)})."
        )
    benchmark = (
        f" The benchmark's space (7 vertices, at most 9 edges) holds "
        f"{UNIQUE_CELLS_NB101:,} unique cells once isomorphic ones are merged; the size "
        "above counts matrices x ops, isomorphic ones included."
        if (space.n_vertices, space.max_edges) == (7, 9)
        else ""
    )
    return (
        f"{space.skeleton.n_cells} cells, {space.skeleton.channels} channels, reductions at "
        f"{list(space.skeleton.reductions())}.{benchmark}"
    )


class SpaceBuilder(widgets.VBox):
    """Build a search space and see its size and supernet cost.

    Args:
        space_type: a value of ``SPACE_TYPES`` ("darts", "nb201", "chain", "nasunet", "vnas",
            "dints", "trellis", "c2fnas", "nb101"; any case).
        spatial_dims: 2 or 3 (the dataset decides; see :meth:`set_dataset`).
        image_size: image edge length used for MACs and memory (a positive integer).
        live_costs: compute the supernet cost on every change (debounced in Jupyter);
            with False only :meth:`update_costs` computes it.

    Raises:
        SpaceError: an unknown ``space_type``, ``spatial_dims`` not 2 or 3, or an
            ``image_size`` below 1.

    Attributes:
        space_config: ``space.to_dict()`` of the current space ({} when invalid).
        valid: whether the current choices make a space.
        error: the inline message when they do not.

    Example:
        >>> builder = SpaceBuilder()
        >>> builder.n_nodes.value = 2
        >>> builder.space_config["n_nodes"]
        2
    """

    space_config = traitlets.Dict()
    valid = traitlets.Bool(True)
    error = traitlets.Unicode("")

    def __init__(
        self,
        space_type: str = "darts",
        spatial_dims: int = 2,
        image_size: int = 28,
        live_costs: bool = True,
    ) -> None:
        kinds = [value for _, value in SPACE_TYPES]
        if str(space_type).lower() not in kinds:
            raise SpaceError(
                f"Unknown space type {space_type!r}; use one of {', '.join(kinds)}."
                f"{closest_name(str(space_type), kinds)}"
            )
        if spatial_dims not in (2, 3) or isinstance(spatial_dims, bool):
            raise SpaceError(
                f"spatial_dims must be 2 (images) or 3 (volumes), got {spatial_dims!r}."
            )
        # 0 would skip the image-size check and cost the supernet on an empty image.
        whole = isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool)
        if not (whole and image_size >= 1):
            raise SpaceError(
                f"image_size must be a positive integer (the image edge in pixels), got "
                f"{image_size!r}; pass e.g. image_size=28."
            )
        self.spatial_dims = int(spatial_dims)
        self.image_size = int(image_size)
        # The sizes the dataset comes in (None: any), named when the size does not fit.
        self.offered_sizes: tuple[int, ...] | None = None
        self.in_channels = 1
        self.num_classes = 2
        self.live_costs = live_costs
        self._held = 0
        self._cost_ticket = 0
        self._cost_future: Any = None  # the newest measurement handed to the worker thread
        self._last_space: Any = None
        self.costs: dict[str, Any] = {}
        style = {"description_width": "130px"}
        self.space_type = widgets.Dropdown(
            options=SPACE_TYPES, value=str(space_type).lower(), description="space", style=style
        )
        self.space_type.add_class("nasbench-space-type")
        self.op_set = widgets.Dropdown(
            options=[*PALETTE_SETS, CUSTOM], value="darts", description="op set", style=style
        )
        self.palette_box = widgets.VBox()
        self.palette_box.add_class("nasbench-op-palette")
        self.op_buttons: dict[str, widgets.ToggleButton] = {}
        self.layer_types = {
            t: widgets.ToggleButton(
                value=True, description=t, layout=widgets.Layout(width="auto", flex="0 0 auto")
            )
            for t in CHAIN_LAYER_TYPES
        }
        self.n_nodes = NumberBox(4, whole=True, min=0, max=12, description="nodes",
                                 style=style)  # fmt: skip
        self.inputs_per_node = widgets.Dropdown(
            options=[1, 2], value=2, description="inputs per node", style=style
        )
        self.max_depth = NumberBox(6, whole=True, min=1, max=30, description="max depth",
                                   style=style)  # fmt: skip
        self.n_cells = NumberBox(5, whole=True, min=1, max=40, description="cells",
                                 style=style)  # fmt: skip
        self.reduction_at = widgets.Text(
            value="auto",
            description="reduction at",
            style=style,
            tooltip="cell indices, e.g. 1, 3; auto: n/3 and 2n/3",
        )
        self.channels = NumberBox(8, whole=True, min=1, max=512, description="channels",
                                  style=style)  # fmt: skip
        self.depth = NumberBox(
            2, whole=True, min=1, max=6, description="depth", style=style,
            tooltip="resolution levels below the input",
        )  # fmt: skip
        self.blocks = NumberBox(
            3, whole=True, min=1, max=16, description="blocks", style=style,
            tooltip="DiNTS topology blocks",
        )  # fmt: skip
        self.layers = NumberBox(
            4, whole=True, min=1, max=24, description="layers", style=style,
            tooltip="trellis layers (Auto-DeepLab: 12)",
        )  # fmt: skip
        self.candidates = NumberBox(
            4, whole=True, min=1, max=256, description="stage-1 candidates", style=style,
            tooltip="U-shaped topologies C2FNAS's stage 1 trains briefly and ranks",
        )  # fmt: skip
        self.proxy_steps = NumberBox(
            4, whole=True, min=1, max=10_000, description="proxy steps", style=style,
            tooltip="training steps of each stage-1 candidate",
        )  # fmt: skip
        self.topology = widgets.Text(
            value="auto", description="topology", style=style,
            tooltip="auto: stage 1 searches it; or a level per cell, e.g. 0, 1, 1, 0",
        )  # fmt: skip
        self.c2fnas_box = widgets.VBox([self.candidates, self.proxy_steps, self.topology])
        self.vertices = NumberBox(
            7, whole=True, min=2, max=9, description="vertices", style=style,
            tooltip="NAS-Bench-101: 7, input and output included",
        )  # fmt: skip
        self.max_edges = NumberBox(
            9, whole=True, min=1, max=36, description="max edges", style=style,
            tooltip="NAS-Bench-101: 9",
        )  # fmt: skip
        self.nb101_box = widgets.VBox([self.vertices, self.max_edges])
        self.batch_size = NumberBox(
            16, whole=True, min=1, max=4096, description="batch size", style=style
        )
        self.message = widgets.HTML()
        self.message.add_class("nasbench-space-message")
        self.size_label = widgets.HTML()
        self.size_label.add_class("nasbench-space-size")
        self.cost_label = widgets.HTML()
        self.cost_label.add_class("nasbench-space-cost")
        self.cell_heading = widgets.HTML("<b>supernet cell</b>")
        self.cell_drawing = widgets.HTML()
        self.cell_drawing.add_class("nasbench-supernet-drawing")
        self.skeleton_drawing = widgets.HTML()
        self.skeleton_drawing.add_class("nasbench-skeleton-drawing")
        self.cell_box = widgets.VBox([self.n_nodes, self.inputs_per_node])
        self.chain_box = widgets.VBox(
            [
                wrapping_row(list(self.layer_types.values())),
                self.max_depth,
            ]
        )
        self._costs_later = Debouncer(self._live_costs, delay=0.6)

        self._build_palette()
        for control in (
            self.n_nodes, self.inputs_per_node, self.max_depth, self.n_cells,
            self.reduction_at, self.channels, self.depth, self.blocks, self.layers,
            self.candidates, self.proxy_steps, self.topology, self.vertices, self.max_edges,
            *self.layer_types.values(),
        ):  # fmt: skip
            control.observe(self._changed, "value")
        self.batch_size.observe(self._on_batch, "value")
        self.space_type.observe(self._on_type, "value")
        self.op_set.observe(self._on_op_set, "value")
        super().__init__(
            children=[
                self.space_type,
                wrapping_row(
                    [
                        widgets.VBox(
                            [
                                self.op_set,
                                self.palette_box,
                                self.cell_box,
                                self.chain_box,
                                self.nb101_box,
                                self.layers,
                                self.c2fnas_box,
                                self.n_cells,
                                self.reduction_at,
                                self.depth,
                                self.blocks,
                                self.channels,
                                self.batch_size,
                            ]
                        ),
                        widgets.VBox([self.message, self.size_label, self.cost_label]),
                    ]
                ),
                self.cell_heading,
                self.cell_drawing,
                widgets.HTML("<b>macro skeleton</b>"),
                self.skeleton_drawing,
            ]
        )
        self.add_class("nasbench-space-builder")
        self._on_type()

    # ---------------------------------------------------------------- palette
    def _build_palette(self) -> None:
        selected = {op for op, b in self.op_buttons.items() if b.value} or set(
            OP_SETS.get(self.op_set.value, OP_SETS["darts"])
        )
        self.op_buttons = {}
        rows = []
        for family, ops in palette_ops(self.spatial_dims).items():
            buttons = []
            for op in ops:
                button = widgets.ToggleButton(
                    value=op in selected,
                    description=op,
                    tooltip=f"{op} ({family})",
                    # never shrink below the name ("con…"): the row wraps instead
                    layout=widgets.Layout(width="auto", flex="0 0 auto"),
                )
                button.add_class(f"nasbench-op-{family}")
                button.observe(self._on_op_toggle, "value")
                self.op_buttons[op] = button
                buttons.append(button)
            rows.append(
                widgets.HBox(
                    [
                        # fixed: a shrunk label reads "sep_co" beside a long row of buttons
                        widgets.Label(family, layout=widgets.Layout(flex="0 0 80px")),
                        wrapping_row(buttons),
                    ]
                )
            )
        self.palette_box.children = rows

    def selected_ops(self) -> list[str]:
        """The toggled-on ops, in palette order."""
        return [op for op, button in self.op_buttons.items() if button.value]

    def set_ops(self, ops: list[str] | tuple[str, ...]) -> None:
        """Toggle exactly ``ops`` on (ops not in the palette are ignored)."""
        with self.hold_updates():
            for op, button in self.op_buttons.items():
                button.value = op in ops

    def _on_op_set(self, change: dict) -> None:
        if change["new"] != CUSTOM:
            self.set_ops(OP_SETS[change["new"]])

    def _on_op_toggle(self, _: Any) -> None:
        self._name_op_set()
        self._changed()

    def _name_op_set(self) -> None:
        """Show the named set the toggled ops make, or "custom"."""
        ops = self.selected_ops()
        match = next((s for s in PALETTE_SETS if set(OP_SETS.get(s, ())) == set(ops)), CUSTOM)
        if self.op_set.value != match:
            with self.hold_updates():
                self.op_set.value = match

    # ----------------------------------------------------------------- events
    @contextlib.contextmanager
    def hold_updates(self) -> Iterator[None]:
        """Change several values with one update at the end.

        Example:
            >>> with builder.hold_updates():  # doctest: +SKIP
            ...     builder.n_nodes.value = 2
            ...     builder.channels.value = 4
        """
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if not self._held:
            self.update()

    def _changed(self, _: Any = None) -> None:
        if not self._held:
            self.update()

    def _on_batch(self, _: Any = None) -> None:
        # A batch size typed wrong is the tab's message (and one put right clears it);
        # otherwise only the costs change, not the space.
        if self.batch_size.problem() or not self.valid:
            self._changed()
        else:
            self._schedule_costs()

    def _on_type(self, _: Any = None) -> None:
        kind = self.space_type.value
        with self.hold_updates():
            if kind == "nb201":
                self.op_set.value = "nb201"
                self.n_nodes.value = 4
                self.reduction_at.value = "auto"
            elif kind in ("darts", "trellis") and self.op_set.value == "nb201":
                self.op_set.value = "darts"
        for control, visible in self._shown(kind).items():
            control.layout.display = None if visible else "none"

    def _shown(self, kind: str) -> dict[widgets.Widget, bool]:
        """Which of the controls (or their boxes) a ``kind`` of space shows: those it reads."""
        return {
            self.cell_box: kind in ("darts", "nb201", "nasunet", "trellis"),
            self.inputs_per_node: kind in ("darts", "trellis"),
            self.chain_box: kind == "chain",
            self.palette_box: kind in ("darts", "nb201", "trellis"),
            self.op_set: kind in ("darts", "nb201", "trellis"),
            self.n_cells: kind in ("darts", "nb201", "nb101", "c2fnas"),
            self.reduction_at: kind in ("darts", "nb201", "nb101"),
            self.channels: kind != "chain",
            self.depth: kind in SEGMENTATION_TYPES,
            self.blocks: kind == "dints",
            self.layers: kind == "trellis",
            self.c2fnas_box: kind == "c2fnas",
            self.nb101_box: kind == "nb101",
        }

    def _read_numbers(self, kind: str, batch: bool = True) -> None:
        """Raise the first problem of a number box this kind of space shows (3.7 nodes, 100
        cells), in the box's own words, before any check that reads its value; the batch
        size (every kind shows it, for the costs) last, unless ``batch`` is False."""
        shown = self._shown(kind)
        inside = {self.n_nodes: self.cell_box, self.max_depth: self.chain_box,
                  self.candidates: self.c2fnas_box, self.proxy_steps: self.c2fnas_box,
                  self.vertices: self.nb101_box, self.max_edges: self.nb101_box}  # fmt: skip
        for box in (self.n_nodes, self.max_depth, self.layers, self.candidates,
                    self.proxy_steps, self.vertices, self.max_edges, self.n_cells,
                    self.depth, self.blocks, self.channels):  # fmt: skip
            if shown[inside.get(box, box)]:
                box.read()
        if batch:
            self.batch_size.read()

    def set_dataset(self, info: Any, size: int) -> None:
        """Follow a dataset: its dims, channels, classes and image size.

        Args:
            info: a :class:`~nasbench.data.DatasetInfo`.
            size: the image size chosen for it.
        """
        dims_changed = info.spatial_dims != self.spatial_dims
        self.spatial_dims = info.spatial_dims
        self.in_channels = info.in_channels
        self.num_classes = max(1, info.num_classes)
        self.image_size = size
        self.offered_sizes = tuple(info.sizes)  # what a size error may suggest
        with self.hold_updates():
            if dims_changed:
                self._build_palette()
                # The palette keeps the ops of the new dims only: name their set, or
                # "custom", so the op set shown is the one the space is built from.
                self._name_op_set()

    # ---------------------------------------------------------------- the space
    def set_space(self, space: Mapping[str, Any]) -> None:
        """Show a space given as a dict (a run's ``config["space"]``, ``space.to_dict()``).

        The controls are set from it, then the space they make is compared with it: a
        setting the builder has no control for, or past a control's bounds, is named in
        a one-line ValueError and the builder is left as it was.

        Args:
            space: a space dict; its dims must be the dataset's (:meth:`set_dataset`).

        Raises:
            ValueError: the dict is not a space, is of other dims, or holds settings the
                builder cannot show.

        Example:
            >>> builder = SpaceBuilder(live_costs=False)  # doctest: +SKIP
            >>> builder.set_space({"name": "darts", "ops": "nb201", "n_nodes": 3})  # doctest: +SKIP
        """
        from nasbench.spaces import space_from_dict

        if not isinstance(space, Mapping):  # dict() of a name or None fails unreadably
            raise ValueError(
                f"set_space takes a space dict such as {{'name': 'darts'}}, got {space!r}; "
                "pick a space type in the form, or pass space.to_dict()."
            )
        try:
            wanted = space_from_dict(dict(space))
        except NasbenchError as err:
            raise ValueError(str(err)) from None
        shown_types = [value for _, value in SPACE_TYPES]
        if wanted.name not in shown_types:
            raise ValueError(
                f"the builder shows {', '.join(shown_types)} spaces, not {wanted.name!r}."
            )
        dims = wanted.skeleton.spatial_dims
        if dims != self.spatial_dims:
            raise ValueError(
                f"this space is {dims}D but the dataset is {self.spatial_dims}D; pick a {dims}D "
                "dataset first."
            )
        before = self._control_values()
        with self.hold_updates():
            self._show(wanted.to_dict())
        problem = self.error
        try:
            self._read_numbers(self.space_type.value, batch=False)
        except ConfigError:  # a setting past a box's range (20 nodes): the box names it
            problem = f"the builder cannot show this space: {problem} Edit it as a dict instead."
        if not problem:
            differences = _differences(
                _comparable(wanted.to_dict()), _comparable(self.space_config)
            )
            if differences:
                problem = (
                    f"the builder cannot show {', '.join(differences)} of this space (no "
                    "control for it, or past a control's range); edit it as a dict instead."
                )
        if problem:
            with self.hold_updates():
                self._restore(before)
            raise ValueError(problem)

    def _show(self, d: dict[str, Any]) -> None:
        """Set the controls from a space's ``to_dict()``."""
        kind, skeleton = d["name"], d.get("skeleton") or {}
        self.space_type.value = kind
        ops = d.get("ops")
        if kind in ("darts", "nb201", "trellis") and ops is not None:
            if isinstance(ops, str) and ops in PALETTE_SETS:
                self.op_set.value = ops
            else:
                self.op_set.value = CUSTOM
                self.set_ops(list(OP_SETS.get(ops, ())) if isinstance(ops, str) else list(ops))
        for name, control in (("n_nodes", self.n_nodes), ("inputs_per_node", self.inputs_per_node),
                              ("max_depth", self.max_depth), ("num_layers", self.layers),
                              ("num_blocks", self.blocks), ("candidates", self.candidates),
                              ("proxy_steps", self.proxy_steps), ("n_vertices", self.vertices),
                              ("max_edges", self.max_edges)):  # fmt: skip
            if name in d:
                control.value = d[name]
        if "layer_types" in d:
            for layer_type, button in self.layer_types.items():
                button.value = layer_type in d["layer_types"]
        if kind == "c2fnas":
            self.n_cells.value = d["num_cells"]
            topology = d.get("topology")
            self.topology.value = "auto" if topology is None else ", ".join(map(str, topology))
        for name, control in (("n_cells", self.n_cells), ("channels", self.channels),
                              ("depth", self.depth)):  # fmt: skip
            if name in skeleton and kind != "chain":
                control.value = skeleton[name]
        if "reduction_at" in skeleton:
            at = skeleton["reduction_at"]
            self.reduction_at.value = "auto" if at is None else ", ".join(map(str, at))

    def _control_values(self) -> dict[str, Any]:
        controls = self._value_controls()
        return {"ops": self.selected_ops(), **{k: c.value for k, c in controls.items()}}

    def _restore(self, values: dict[str, Any]) -> None:
        controls = self._value_controls()
        self.space_type.value = values["space_type"]
        for name, control in controls.items():
            control.value = values[name]
        self.set_ops(values["ops"])
        self.op_set.value = values["op_set"]

    def _value_controls(self) -> dict[str, Any]:
        names = ("space_type", "op_set", "n_nodes", "inputs_per_node", "max_depth", "n_cells",
                 "reduction_at", "channels", "depth", "blocks", "layers", "candidates",
                 "proxy_steps", "topology", "vertices", "max_edges")  # fmt: skip
        controls = {name: getattr(self, name) for name in names}
        controls.update({f"layer:{t}": b for t, b in self.layer_types.items()})
        return controls

    def space_dict(self) -> dict[str, Any]:
        """The space as a dict from the controls (not yet validated)."""
        kind = self.space_type.value
        # A box is read only by the kinds that show it: one hidden holds what it held.
        skeleton: dict[str, Any] = {
            "spatial_dims": self.spatial_dims,
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
        }
        if kind != "chain":
            skeleton = {"channels": self.channels.read(), **skeleton}
        if kind in ("darts", "nb201", "nb101"):
            skeleton = {"n_cells": self.n_cells.read(), **skeleton}
        # Only cell stacks have reduction cells (the control is hidden for the others).
        positions = (
            parse_positions(self.reduction_at.value)
            if kind in ("darts", "nb201", "nb101")
            else None
        )
        if positions is not None:
            skeleton["reduction_at"] = list(positions)
        ops: Any = self.op_set.value if self.op_set.value != CUSTOM else self.selected_ops()
        if kind in SEGMENTATION_TYPES:
            unet = {k: skeleton[k] for k in ("channels", "spatial_dims", "in_channels")}
            unet.update({"depth": self.depth.read(), "num_classes": max(2, self.num_classes)})
            out: dict[str, Any] = {"name": kind, "skeleton": unet}
            if kind == "nasunet":
                out["n_nodes"] = self.n_nodes.read()
            if kind == "dints":
                out["num_blocks"] = self.blocks.read()
            if kind == "trellis":
                out.update(num_layers=self.layers.read(), ops=ops, n_nodes=self.n_nodes.read(),
                           inputs_per_node=self.inputs_per_node.value)  # fmt: skip
            if kind == "c2fnas":
                levels = parse_positions(self.topology.value)
                out.update(num_cells=self.n_cells.read(), candidates=self.candidates.read(),
                           proxy_steps=self.proxy_steps.read(),
                           topology=None if levels is None else list(levels))  # fmt: skip
            return out
        if kind == "nb101":
            return {"name": "nb101", "ops": "nb101", "n_vertices": self.vertices.read(),
                    "max_edges": self.max_edges.read(), "skeleton": skeleton}  # fmt: skip
        if kind == "chain":
            layer_types = [t for t, b in self.layer_types.items() if b.value]
            return {"name": "chain", "layer_types": layer_types, "max_depth": self.max_depth.read(),
                    "skeleton": {k: skeleton[k] for k in
                                 ("spatial_dims", "in_channels", "num_classes")}}  # fmt: skip
        out = {"name": kind, "ops": ops, "n_nodes": self.n_nodes.read(), "skeleton": skeleton}
        if kind == "darts":
            out["inputs_per_node"] = self.inputs_per_node.value
        return out

    def _check(self) -> Any:
        """Build the space or raise a one-line error (ValueError or NasbenchError)."""
        kind = self.space_type.value
        self._read_numbers(kind)
        if kind in SEGMENTATION_TYPES:
            if kind in ("nasunet", "trellis") and self.n_nodes.read() < 1:
                raise ValueError(f"a {kind} cell needs at least 1 node; got {self.n_nodes.read()}.")
            if kind == "trellis":
                self._check_palette(kind)
            if kind == "c2fnas":
                if self.n_cells.read() > C2FNAS_MAX_CELLS:
                    raise ValueError(
                        f"C2FNAS with {self.n_cells.read()} cells has too many topologies to list "
                        f"here; use at most {C2FNAS_MAX_CELLS} (C2FNAS used 12)."
                    )
                try:
                    parse_positions(self.topology.value)
                except ValueError:
                    raise ValueError(
                        f"topology {self.topology.value!r}: write a level per cell like "
                        "'0, 1, 1, 0', or 'auto' (stage 1 searches it)."
                    ) from None
            return self._fits_image(space_from_dict(self.space_dict()))
        if kind == "chain":
            if not any(b.value for b in self.layer_types.values()):
                raise ValueError("choose at least one layer type.")
        elif kind != "nb101":  # NAS-Bench-101 cells have their own three vertex ops
            self._check_palette(kind)
            minimum = 2 if kind == "nb201" else 1
            if self.n_nodes.read() < minimum:
                raise ValueError(
                    f"a {kind} cell needs at least {minimum} node(s); got {self.n_nodes.read()}."
                )
        if kind != "chain":  # cell stacks: the only ones with reduction cells
            self._check_reduction_at()
        return self._fits_image(space_from_dict(self.space_dict()))

    def _check_reduction_at(self) -> None:
        """Raise a one-line ValueError, in the box's own words, unless 'reduction at' names
        distinct cells of the network (the engine's message names Skeleton.reduction_at)."""
        typed = self.reduction_at.value.strip()
        shown = typed if len(typed) <= 24 else f"{typed[:20]}…"  # a pasted essay: its start
        try:
            positions = parse_positions(typed) or ()
        except ValueError:
            raise ValueError(
                f"'reduction at' {shown!r}: write cell indices like '1, 3', or 'auto'."
            ) from None
        last = self.n_cells.read() - 1
        outside = [at for at in positions if not 0 <= at <= last]
        if outside:
            at = str(outside[0])
            at = at if len(at) <= 24 else f"{at[:20]}…"
            raise ValueError(
                f"'reduction at' has {at}, outside the cells 0..{last}; write indices in that "
                "range, or 'auto'."
            )
        if len(set(positions)) != len(positions):
            raise ValueError(f"'reduction at' {shown!r} names a cell twice; name each once.")

    def _fits_image(self, space: Any) -> Any:
        """The space, or the engine's one-line error when the image size does not fit it
        (a U-Net of depth 3 on 28-pixel images): a search would refuse it at launch."""
        check_size = getattr(space, "check_input_size", None)
        if check_size is not None and self.image_size:
            check_size(self.image_size, offered=self.offered_sizes)
        return space

    def _check_palette(self, kind: str) -> None:
        """Raise a one-line ValueError unless the palette makes a cell."""
        if not self.selected_ops():
            raise ValueError("choose at least one op from the palette.")
        if kind in ("darts", "trellis") and self.selected_ops() == ["none"]:
            raise ValueError("choose at least one op other than 'none'.")

    def update(self) -> None:
        """Validate, then redraw the size, the drawings and (debounced) the cost."""
        try:
            space = self._check()
        except (ValueError, NasbenchError) as err:
            self._last_space = None
            self._cost_ticket += 1  # a measurement in flight is of a space no longer shown
            self.error = str(err)
            self.message.value = message_html(str(err), "error")
            self.valid = False
            self.space_config = {}
            self.size_label.value = ""
            self.cost_label.value = ""
            # No drawing of the last valid space under a message about this one.
            self.cell_drawing.value = ""
            self.skeleton_drawing.value = ""
            return
        self._last_space = space
        self.error = ""
        self.message.value = ""
        self.size_label.value = f"<b>space size</b>: {space.size():.3e} architectures"
        self.space_config = space.to_dict()
        self.valid = True
        self._draw(space)
        self._schedule_costs()

    def _draw(self, space: Any) -> None:
        from nasbench.viz import draw_chain, draw_genotype, draw_network, draw_supernet

        example = space.sample(np.random.default_rng(0))
        headings = {"trellis": "the trellis: one sampled path (thick) and cell",
                    "c2fnas": "one sampled member (levels L0, L1, ... and convs)",
                    "nb101": "one sampled cell (pruned vertices dashed)"}  # fmt: skip
        self.cell_heading.value = f"<b>{headings.get(space.name, self._default_heading(space))}</b>"
        if space.name in ("trellis", "c2fnas", "nb101"):
            show_drawing(self.cell_drawing, lambda: draw_genotype(example))
            self.skeleton_drawing.value = message_html(_network_note(space), "info")
            return
        if space.task == "segmentation":
            show_drawing(self.cell_drawing, lambda: draw_genotype(example))
            widths = ", ".join(str(w) for w in space.skeleton.widths())
            self.skeleton_drawing.value = message_html(
                f"above: one sampled member. U-shaped, depth {space.skeleton.depth}, "
                f"widths {widths} per level, {space.skeleton.spatial_dims}D.",
                "info",
            )
            return
        if space.name == "chain":
            self.cell_drawing.value = message_html(
                "a chain space has no cell; below: one sampled member.", "info"
            )
            show_drawing(self.skeleton_drawing, lambda: draw_chain(example))
            return
        show_drawing(self.cell_drawing, lambda: draw_supernet(space))
        if space.name == "darts":
            show_drawing(self.skeleton_drawing, lambda: draw_network(example, space.skeleton))
        else:
            self.skeleton_drawing.value = message_html(
                f"{space.skeleton.n_cells} cells, {space.skeleton.channels} channels, "
                f"reductions at {list(space.skeleton.reductions())}.",
                "info",
            )

    @staticmethod
    def _default_heading(space: Any) -> str:
        if space.task == "segmentation":
            return "one sampled member"
        return "cell" if space.name == "chain" else "supernet cell"

    # ------------------------------------------------------------------ costs
    def _schedule_costs(self) -> None:
        # Every change outdates a measurement in flight, even before the debounced one starts.
        self._cost_ticket += 1
        if self._last_space is None:
            return
        if self.live_costs:
            self.cost_label.value = "<i>supernet cost: computing…</i>"
            self._costs_later()
        else:
            self.cost_label.value = message_html(
                "supernet cost: not computed live (live_costs=False); call "
                "builder.update_costs() to measure it.",
                "info",
            )

    def close(self) -> None:
        """Drop a cost measurement still due or not started and close every widget of the
        builder (idempotent); one a worker thread already runs finishes unseen."""
        if self.comm is None:
            return  # closed already (ipywidgets' __del__ calls close again)
        try:
            from widgets._figures import close_widgets
        except ImportError:  # Python exits (this is ipywidgets' __del__): nothing to free
            return
        self.live_costs = False  # the debounced call, when it fires, does nothing
        self._cost_ticket += 1  # a measurement in flight is no longer shown
        if self._cost_future is not None:
            self._cost_future.cancel()
        close_widgets(self)

    def _live_costs(self) -> None:
        if not self.live_costs or self._last_space is None:
            return
        loop = running_loop()
        if loop is None:
            self.update_costs()
            return
        # In Jupyter: measure in a worker thread so the kernel stays responsive (the next
        # cell waits for it: off_loop). Only the newest measurement is shown: the ticket
        # changes with every edit of the space.
        self._cost_ticket += 1
        # A space is shown only while the batch size box holds one it takes (_read_numbers).
        ticket, space, batch = self._cost_ticket, self._last_space, self.batch_size.read()
        if self._cost_future is not None:
            self._cost_future.cancel()  # not started yet: an edit made it out of date
        future = self._cost_future = off_loop(loop, self._measure, space, batch)
        future.add_done_callback(lambda done: self._measured(done, ticket, batch))

    def _measured(self, done: Any, ticket: int, batch: int) -> None:
        """Show a worker's measurement unless the space changed meanwhile; a failure
        the measurement did not foresee becomes the cost line, not a stuck 'computing'."""
        if ticket != self._cost_ticket or done.cancelled():
            return
        error = done.exception()
        if error is not None:
            self._show_costs(f"supernet cost: not measured ({status_reason(error)})", batch)
            return
        self._show_costs(done.result(), batch)

    def update_costs(self, build_large: bool = False) -> dict[str, Any]:
        """Build the supernet at a tiny batch and measure params, MACs and memory.

        Args:
            build_large: build and measure a supernet of more than
                :data:`LIVE_MAX_PARAMS` parameters, or one whose size cannot be counted
                on the meta device, too (GBs of RAM and minutes); else it is only counted.

        Returns:
            ``{"params", "macs", "memory"}`` (memory: :func:`estimate_memory`'s dict; for
            DiNTS also ``"monai"``, MONAI's estimate in MiB), or {} when the space has no
            supernet here (NB201, NB101 and chain spaces are searched by discrete strategies)
            or it was too large to build (the cost line gives its counts).

        Example:
            >>> SpaceBuilder(live_costs=False).update_costs()["params"] > 0  # doctest: +SKIP
            True
        """
        if self._last_space is None:
            return {}
        self._cost_ticket += 1  # this measurement is newer than any still in a worker
        batch = self.batch_size.read()
        return self._show_costs(self._measure(self._last_space, batch, build_large), batch)

    def _measure(self, space: Any, batch: int, build_large: bool = False) -> dict[str, Any] | str:
        """The costs of ``space``'s supernet, or the one-line reason there are none."""
        if space.name != "darts" and space.task != "segmentation":
            return (
                "supernet cost: the bilevel search (and its supernet) covers DARTS cell and "
                "segmentation spaces; NB201, NB101 and chain spaces are searched by discrete "
                "strategies."
            )
        import torch

        from nasbench.models.costs import count_macs, count_parameters

        sample = (self.in_channels, *([self.image_size] * self.spatial_dims))
        method = (space.strategies or ("darts",))[0]
        try:
            check_size = getattr(space, "check_input_size", None)
            if check_size is not None:
                check_size(self.image_size, offered=self.offered_sizes)
            if not build_large:
                # Counted first on the meta device (~as long as building it): a supernet the
                # controls allow may need GBs of RAM to build and measure.
                counted = too_large_to_build(
                    lambda: space.supernet(method=method, seed=0), (1, *sample)
                )
                if counted is not None:
                    lower = "" if counted["params"] is None else "lower the channels or cells, or "
                    return too_large_text(
                        "supernet cost", counted,
                        f"{lower}call builder.update_costs(build_large=True) to measure it anyway.",
                    )  # fmt: skip
            # CPU only: a bare fork_rng() would start CUDA on every GPU just to count.
            with torch.random.fork_rng(devices=[]):
                net = space.supernet(method=method, seed=0)
                params = count_parameters(net)
                macs = count_macs(net, (1, *sample))
                memory = estimate_memory(net, sample, batch)
                monai = getattr(net, "memory_estimate", None)
        except (NasbenchError, RuntimeError, ValueError) as err:
            return f"supernet cost: {err}"
        out = {"params": params, "macs": macs, "memory": memory}
        if monai is not None:
            out["monai"] = monai((batch, *sample))
        return out

    def _show_costs(self, result: dict[str, Any] | str, batch: int) -> dict[str, Any]:
        if isinstance(result, str):
            self.costs = {}
            self.cost_label.value = message_html(result, "info")
            return {}
        params, macs, memory = result["params"], result["macs"], result["memory"]
        self.costs = dict(result)
        monai = ""
        if "monai" in result:
            m = result["monai"]
            monai = (
                f"<br><b>MONAI DiNTS estimate</b>: {m['monai_mb']:.1f} MiB "
                f"(every path on: {m['monai_full_mb']:.1f} MiB)"
            )
        check = ""
        if self.spatial_dims == 3 or self._last_space.task == "segmentation":
            check = " <b>check it fits your GPU (or RAM) before launch.</b>"
        # The caveat is text, not a hover: a keyboard or touch reader gets no hover.
        self.cost_label.value = (
            f"<b>supernet</b>: {cost_text(params, macs)}; "
            f"<b>est. memory</b> at batch {batch}: {_bytes(memory['total'])}{check}{monai}"
            f"<br><small>{html.escape(str(self.image_size))}px input, "
            f"{self.in_channels} channel(s); {MEMORY_CAVEAT}</small>"
        )
        return self.costs
