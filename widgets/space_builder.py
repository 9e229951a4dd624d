"""Build a search space visually: space type, op palette, cell and skeleton settings.

The builder shows the supernet cell and the macro skeleton (graphviz), the
space size, and the supernet cost: parameters, MACs and an estimated training
memory at the chosen batch size. Invalid choices (no ops, zero nodes) show an
inline message and set ``valid`` to False, which disables Run in the launcher.

Segmentation spaces (NAS-Unet, V-NAS, DiNTS) have fixed op sets per edge role, so
they show depth (and nodes or blocks) instead of the palette, a sampled member
instead of the supernet cell, and the memory estimate before launch: for U-Nets
and 3D data it decides whether a search fits at all.

Memory estimate: :func:`nasbench.models.memory.estimate_memory` (activations saved
for backward at batch 1 and 2, scaled linearly, plus 3x the weights; a lower bound
of the real peak). For U-Net spaces (NAS-Unet, V-NAS, DiNTS) and 3D data it is the
figure to read before launching; DiNTS also shows MONAI's own estimate.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from nasbench.errors import NasbenchError
from nasbench.models.memory import estimate_memory, saved_activation_bytes
from nasbench.spaces import OP_SETS, op_family, op_spatial_dims, space_from_dict
from widgets._svg import message_html, show_drawing
from widgets._tasks import Debouncer, running_loop

__all__ = [
    "SpaceBuilder",
    "estimate_memory",
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
)
SEGMENTATION_TYPES = ("nasunet", "vnas", "dints")
# The op sets a cell palette offers (the U-Net sets need the U-Net space).
PALETTE_SETS = ("darts", "nasnet", "gdas", "nb201", "elixir", "vnas")
CHAIN_LAYER_TYPES = ("conv", "sep_conv", "max_pool", "avg_pool")
CUSTOM = "custom"


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


def _human(n: float, unit: str = "") -> str:
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {suffix}{unit}"
    return f"{n:.0f} {unit}".rstrip()


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


class SpaceBuilder(widgets.VBox):
    """Build a search space and see its size and supernet cost.

    Args:
        space_type: "darts", "nb201" or "chain".
        spatial_dims: 2 or 3 (the dataset decides; see :meth:`set_dataset`).
        image_size: image edge length used for MACs and memory.
        live_costs: compute the supernet cost on every change (debounced in Jupyter);
            with False only :meth:`update_costs` computes it.

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
        self.spatial_dims = spatial_dims
        self.image_size = image_size
        self.in_channels = 1
        self.num_classes = 2
        self.live_costs = live_costs
        self._held = 0
        self._cost_ticket = 0
        self._last_space: Any = None
        self.costs: dict[str, Any] = {}
        style = {"description_width": "130px"}
        self.space_type = widgets.Dropdown(
            options=SPACE_TYPES, value=space_type, description="space", style=style
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
        self.n_nodes = widgets.BoundedIntText(value=4, min=0, max=12, description="nodes",
                                              style=style)  # fmt: skip
        self.inputs_per_node = widgets.Dropdown(
            options=[1, 2], value=2, description="inputs per node", style=style
        )
        self.max_depth = widgets.BoundedIntText(value=6, min=1, max=30, description="max depth",
                                                style=style)  # fmt: skip
        self.n_cells = widgets.BoundedIntText(value=5, min=1, max=40, description="cells",
                                              style=style)  # fmt: skip
        self.reduction_at = widgets.Text(
            value="auto",
            description="reduction at",
            style=style,
            tooltip="cell indices, e.g. 1, 3; auto: n/3 and 2n/3",
        )
        self.channels = widgets.BoundedIntText(value=8, min=1, max=512, description="channels",
                                               style=style)  # fmt: skip
        self.depth = widgets.BoundedIntText(
            value=2, min=1, max=6, description="depth", style=style,
            tooltip="resolution levels below the input",
        )  # fmt: skip
        self.blocks = widgets.BoundedIntText(
            value=3, min=1, max=16, description="blocks", style=style,
            tooltip="DiNTS topology blocks",
        )  # fmt: skip
        self.batch_size = widgets.BoundedIntText(
            value=16, min=1, max=4096, description="batch size", style=style
        )
        self.message = widgets.HTML()
        self.message.add_class("nasbench-space-message")
        self.size_label = widgets.HTML()
        self.size_label.add_class("nasbench-space-size")
        self.cost_label = widgets.HTML()
        self.cost_label.add_class("nasbench-space-cost")
        self.cell_drawing = widgets.HTML()
        self.cell_drawing.add_class("nasbench-supernet-drawing")
        self.skeleton_drawing = widgets.HTML()
        self.skeleton_drawing.add_class("nasbench-skeleton-drawing")
        self.cell_box = widgets.VBox([self.n_nodes, self.inputs_per_node])
        self.chain_box = widgets.VBox(
            [
                widgets.HBox(
                    list(self.layer_types.values()), layout=widgets.Layout(flex_flow="row wrap")
                ),
                self.max_depth,
            ]
        )
        self._costs_later = Debouncer(self._live_costs, delay=0.6)

        self._build_palette()
        for control in (
            self.n_nodes, self.inputs_per_node, self.max_depth, self.n_cells,
            self.reduction_at, self.channels, self.depth, self.blocks,
            *self.layer_types.values(),
        ):  # fmt: skip
            control.observe(self._changed, "value")
        self.batch_size.observe(lambda _: self._schedule_costs(), "value")
        self.space_type.observe(self._on_type, "value")
        self.op_set.observe(self._on_op_set, "value")
        super().__init__(
            children=[
                self.space_type,
                widgets.HBox(
                    [
                        widgets.VBox(
                            [
                                self.op_set,
                                self.palette_box,
                                self.cell_box,
                                self.chain_box,
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
                widgets.HTML("<b>supernet cell</b>"),
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
                        widgets.Label(family, layout=widgets.Layout(width="80px")),
                        widgets.HBox(buttons, layout=widgets.Layout(flex_flow="row wrap")),
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
        ops = self.selected_ops()
        match = next((s for s in PALETTE_SETS if set(OP_SETS.get(s, ())) == set(ops)), CUSTOM)
        if self.op_set.value != match:
            with self.hold_updates():
                self.op_set.value = match
        self._changed()

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

    def _on_type(self, _: Any = None) -> None:
        kind = self.space_type.value
        with self.hold_updates():
            if kind == "nb201":
                self.op_set.value = "nb201"
                self.n_nodes.value = 4
                self.reduction_at.value = "auto"
            elif kind == "darts" and self.op_set.value == "nb201":
                self.op_set.value = "darts"
        is_chain, is_unet = kind == "chain", kind in SEGMENTATION_TYPES
        no_nodes = is_chain or kind in ("vnas", "dints")
        self.cell_box.layout.display = "none" if no_nodes else None
        self.inputs_per_node.layout.display = None if kind == "darts" else "none"
        self.chain_box.layout.display = None if is_chain else "none"
        for control in (self.palette_box, self.op_set):
            control.layout.display = "none" if is_chain or is_unet else None
        for control in (self.n_cells, self.reduction_at):
            control.layout.display = "none" if is_chain or is_unet else None
        self.channels.layout.display = "none" if is_chain else None
        self.depth.layout.display = None if is_unet else "none"
        self.blocks.layout.display = None if kind == "dints" else "none"

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
        with self.hold_updates():
            if dims_changed:
                self._build_palette()

    # ---------------------------------------------------------------- the space
    def space_dict(self) -> dict[str, Any]:
        """The space as a dict from the controls (not yet validated)."""
        kind = self.space_type.value
        skeleton: dict[str, Any] = {
            "n_cells": self.n_cells.value,
            "channels": self.channels.value,
            "spatial_dims": self.spatial_dims,
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
        }
        positions = parse_positions(self.reduction_at.value)
        if positions is not None:
            skeleton["reduction_at"] = list(positions)
        if kind in SEGMENTATION_TYPES:
            unet = {k: skeleton[k] for k in ("channels", "spatial_dims", "in_channels")}
            unet.update({"depth": self.depth.value, "num_classes": max(2, self.num_classes)})
            out: dict[str, Any] = {"name": kind, "skeleton": unet}
            if kind == "nasunet":
                out["n_nodes"] = self.n_nodes.value
            if kind == "dints":
                out["num_blocks"] = self.blocks.value
            return out
        if kind == "chain":
            layer_types = [t for t, b in self.layer_types.items() if b.value]
            return {"name": "chain", "layer_types": layer_types, "max_depth": self.max_depth.value,
                    "skeleton": {k: skeleton[k] for k in
                                 ("spatial_dims", "in_channels", "num_classes")}}  # fmt: skip
        ops: Any = self.op_set.value if self.op_set.value != CUSTOM else self.selected_ops()
        out = {"name": kind, "ops": ops, "n_nodes": self.n_nodes.value, "skeleton": skeleton}
        if kind == "darts":
            out["inputs_per_node"] = self.inputs_per_node.value
        return out

    def _check(self) -> Any:
        """Build the space or raise a one-line error (ValueError or NasbenchError)."""
        kind = self.space_type.value
        if kind in SEGMENTATION_TYPES:
            if kind == "nasunet" and self.n_nodes.value < 1:
                raise ValueError(f"a nasunet cell needs at least 1 node; got {self.n_nodes.value}.")
            return space_from_dict(self.space_dict())
        if kind == "chain":
            if not any(b.value for b in self.layer_types.values()):
                raise ValueError("choose at least one layer type.")
        else:
            if not self.selected_ops():
                raise ValueError("choose at least one op from the palette.")
            if kind == "darts" and self.selected_ops() == ["none"]:
                raise ValueError("choose at least one op other than 'none'.")
            minimum = 2 if kind == "nb201" else 1
            if self.n_nodes.value < minimum:
                raise ValueError(
                    f"a {kind} cell needs at least {minimum} node(s); got {self.n_nodes.value}."
                )
        try:
            positions = parse_positions(self.reduction_at.value)
        except ValueError:
            raise ValueError(
                f"reduction positions {self.reduction_at.value!r}: write cell indices like "
                "'1, 3', or 'auto'."
            ) from None
        del positions
        return space_from_dict(self.space_dict())

    def update(self) -> None:
        """Validate, then redraw the size, the drawings and (debounced) the cost."""
        try:
            space = self._check()
        except (ValueError, NasbenchError) as err:
            self._last_space = None
            self.error = str(err)
            self.message.value = message_html(str(err), "error")
            self.valid = False
            self.space_config = {}
            self.size_label.value = ""
            self.cost_label.value = ""
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

    # ------------------------------------------------------------------ costs
    def _schedule_costs(self) -> None:
        if self._last_space is None:
            return
        self.cost_label.value = "<i>supernet cost: computing…</i>"
        if self.live_costs:
            self._costs_later()

    def _live_costs(self) -> None:
        if not self.live_costs or self._last_space is None:
            return
        loop = running_loop()
        if loop is None:
            self.update_costs()
            return
        # In Jupyter: measure in a worker thread so the kernel stays responsive.
        self._cost_ticket += 1
        ticket, space, batch = self._cost_ticket, self._last_space, self.batch_size.value
        future = loop.run_in_executor(None, self._measure, space, batch)
        future.add_done_callback(
            lambda f: self._show_costs(f.result(), batch) if ticket == self._cost_ticket else None
        )

    def update_costs(self) -> dict[str, Any]:
        """Build the supernet at a tiny batch and measure params, MACs and memory.

        Returns:
            ``{"params", "macs", "memory"}`` (memory: :func:`estimate_memory`'s dict; for
            DiNTS also ``"monai"``, MONAI's estimate in MiB), or {} when the space has no
            supernet here (NB201 and chain spaces are searched by discrete strategies).
        """
        if self._last_space is None:
            return {}
        batch = self.batch_size.value
        return self._show_costs(self._measure(self._last_space, batch), batch)

    def _measure(self, space: Any, batch: int) -> dict[str, Any] | str:
        """The costs of ``space``'s supernet, or the one-line reason there are none."""
        if space.name != "darts" and space.task != "segmentation":
            return (
                "supernet cost: the bilevel search (and its supernet) covers DARTS cell and "
                "U-Net spaces; NB201 and chain spaces are searched by discrete strategies."
            )
        import torch

        from nasbench.models.costs import count_macs, count_parameters

        sample = (self.in_channels, *([self.image_size] * self.spatial_dims))
        method = (space.strategies or ("darts",))[0]
        try:
            check_size = getattr(space, "check_input_size", None)
            if check_size is not None:
                check_size(self.image_size)
            with torch.random.fork_rng():
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
        self.cost_label.value = (
            f"<b>supernet</b>: {_human(params)} parameters, {_human(macs, 'MAC')} per image; "
            f"<b>est. memory</b> at batch {batch}: {_bytes(memory['total'])} "
            f"<span title='activations saved for backward at batch 1 and 2, scaled linearly, "
            f"plus 3x the weights; a lower bound of the real peak'>(?)</span>{check}{monai}"
            f"<br><small>{html.escape(str(self.image_size))}px input, "
            f"{self.in_channels} channel(s)</small>"
        )
        return self.costs
