"""Draw any genotype (a run's, the zoo's, or pasted text) and compare two side by side.

Each side picks its source: the zoo, a run's derived genotypes, or pasted text
(canonical JSON, the DARTS ``Genotype(...)`` notation or an NB201 string, read
by ``nasbench.spaces.parse_genotype``; a bad text shows its one-line error).
A multi-agent run (marl-gdas) also offers each agent's own cell at an epoch: its
``agent_genotypes`` events name every part's cell, the genotype rows only the shared one.
Both cells are drawn, with the network's parameters and MACs in the chosen
skeleton (counted in the views' worker thread in Jupyter, so a large network does
not freeze the kernel); in compare mode the edges that differ are drawn thick and red
(``nasbench.viz.diff_edges``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import html
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import traitlets

from nasbench.errors import ConfigError, NasbenchError, status_reason
from nasbench.spaces import parse_genotype, zoo, zoo_info
from widgets._layout import wrapping_row
from widgets._number_box import NumberBox
from widgets._svg import message_html, show_drawing
from widgets._tasks import CELL_WAIT_S, Debouncer, running_loop, submit_work
from widgets.space_builder import too_large_text, too_large_to_build

SOURCES = (("zoo", "zoo"), ("run", "run"), ("pasted text", "text"))
# The part whose cell a run's genotype rows hold; a multi-agent run's events name the others.
SHARED_PART = "shared"
AGENT_EVENT = "agent_genotypes"


class GenotypeSource(widgets.VBox):
    """Where one genotype comes from: the zoo, a run, or pasted text.

    A run whose events hold ``agent_genotypes`` (a marl-gdas search) gets a ``part``
    dropdown beside ``epoch``: "shared" (the run's genotype rows) or one agent's own cell.

    Attributes:
        genotype_json: canonical JSON of the chosen genotype ("" when none or invalid).
        error: the parse error of pasted text ("" when fine).

    Example:
        >>> source = GenotypeSource()
        >>> source.kind.value = "text"
        >>> source.text.value = "Genotype(normal=[('skip', 0)"
        >>> source.genotype is None and source.error != ""
        True
    """

    genotype_json = traitlets.Unicode("")
    error = traitlets.Unicode("")

    def __init__(self, label: str = "genotype", zoo_name: str = "DARTS_V2") -> None:
        self._genotypes: list[Any] = []
        self.run_skeleton: dict[str, Any] = {}  # the chosen run's space skeleton
        # The chosen run's data (channels, classes, dims): its genotype is costed in them.
        self.run_dataset: dict[str, int] | None = None
        # The chosen run's space, skeleton and image size, as it searched: its genotype is
        # built and costed in them (None: the config names none that can be rebuilt).
        self.run_frame: tuple[Any, Any, int | None] | None = None
        self._run_error = ""  # why the chosen run could not be read
        # (epoch, step) of each epoch option, and the run's agent_genotypes payloads by
        # (epoch, step): an agent's cell is looked up at the chosen option's round.
        self._epoch_keys: list[tuple[int, int]] = []
        self._agent_payloads: dict[tuple[int, int | None], Any] = {}
        self._has_parts = False  # the run logged agent_genotypes events
        # part -> the kind of cell it does not own, and the setting that says so
        self._missing_cells: dict[str, tuple[str, str]] = {}
        self._reading_run = False  # the part is reset with the run: no update in between
        self.kind = widgets.Dropdown(options=SOURCES, value="zoo", description=label)
        self.zoo = widgets.Dropdown(options=sorted(zoo), value=zoo_name, description="zoo")
        self.run = widgets.Dropdown(
            options=[], description="run", layout=widgets.Layout(width="420px", max_width="100%")
        )
        self.epoch = widgets.Dropdown(options=[], description="epoch")
        self.part = widgets.Dropdown(options=[SHARED_PART], value=SHARED_PART, description="part")
        self.text = widgets.Textarea(
            placeholder="Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=range(2, 6), "
            "reduce=[...], reduce_concat=range(2, 6))",
            description="text",
            continuous_update=False,
            layout=widgets.Layout(width="600px", max_width="100%", height="80px"),
        )
        self.message = widgets.HTML()
        self.message.add_class("nasbench-genotype-error")
        self.kind.observe(self._on_kind, "value")
        self.run.observe(self._on_run, "value")
        for control in (self.zoo, self.epoch, self.text):
            control.observe(lambda _: self._update(), "value")
        self.part.observe(self._on_part, "value")
        super().__init__(
            children=[
                self.kind,
                self.zoo,
                self.run,
                wrapping_row([self.epoch, self.part]),
                self.text,
                self.message,
            ]
        )
        self._on_kind()

    @property
    def genotype(self) -> Any:
        """The chosen genotype object, or None."""
        return parse_genotype(self.genotype_json) if self.genotype_json else None

    def set_runs(self, run_dirs: list[str]) -> None:
        """Offer these run folders as sources (keeps the current choice when it is listed;
        a chosen run deleted since stays chosen, and says it is gone, rather than another
        run's genotype taking its place)."""
        current = self.run.value
        gone = bool(current) and current not in run_dirs and not Path(current).exists()
        self.run.options = [current, *run_dirs] if gone else list(run_dirs)
        if current in self.run.options:
            self.run.value = current
        if gone:
            self._on_run()  # its one-line "does not exist", in place of its genotype

    def _on_kind(self, _: Any = None) -> None:
        kind = self.kind.value
        self.zoo.layout.display = None if kind == "zoo" else "none"
        for control in (self.run, self.epoch):
            control.layout.display = None if kind == "run" else "none"
        self._show_part()
        self.text.layout.display = None if kind == "text" else "none"
        self._update()

    def _show_part(self) -> None:
        # Only a run with agents has parts to choose: the others look as they always did.
        shown = self.kind.value == "run" and self._has_parts
        self.part.layout.display = None if shown else "none"

    def _on_part(self, _: Any = None) -> None:
        if not self._reading_run:
            self._update()

    def follow(self, run: Any) -> None:
        """Read ``run`` again when it is this source's run (a running search derives a
        genotype each epoch), keeping the epoch and part chosen, unless the epoch was the
        one the search returns so far, which follows to the new one.

        Args:
            run: a loaded :class:`nasbench.runs.Run` (e.g. the Monitor's, whose rows are
                read already).
        """
        if not self.run.value or Path(self.run.value).expanduser() != run.run_dir:
            return
        epoch, part = self.epoch.value, self.part.value
        followed = epoch is None or epoch == self._returned_index
        self._on_run(run=run)
        if not followed and epoch < len(self.epoch.options):
            self.epoch.value = epoch
        if part in self.part.options:
            self.part.value = part

    def _on_run(self, _: Any = None, run: Any = None) -> None:
        """Read the chosen run (from ``run`` when given: a Run of that folder, read
        already) and offer its epochs, at the genotype its search returned."""
        from nasbench.runs import load
        from nasbench.runs.returned import returned_genotype_row

        self._genotypes = []
        self._returned_index = 0
        self.run_skeleton = {}
        self.run_dataset = None
        self.run_frame = None
        self._run_error = ""
        self._epoch_keys = []
        self._agent_payloads = {}
        self._has_parts = False
        self._missing_cells = {}
        options: list[tuple[str, int]] = []
        events, config = None, {}
        if self.run.value:
            try:
                # A Run handed in stays open: its owner (the Monitor) reads it again.
                reading = contextlib.nullcontext(run) if run is not None else load(self.run.value)
                with reading as run:
                    frame = run.genotypes
                    events = run.events
                    space = run.config.get("space")
                    skeleton = space.get("skeleton") if isinstance(space, dict) else None
                    self.run_skeleton = dict(skeleton) if isinstance(skeleton, dict) else {}
                    self.run_dataset = _run_dataset(run.config)
                    self.run_frame = _run_frame(run.config, not run.candidates.empty)
                    config = run.config
            except NasbenchError as err:
                from widgets.monitor import unreadable_run_text  # with plotly: only when needed

                # Kept: _update() must not hide why.
                self._run_error = unreadable_run_text(self.run.value, err, "genotype")
            else:
                self._genotypes = list(frame["genotype"])
                # The genotype the search returned (an early stop's, not the collapsing
                # last one), as the monitor, the report and retraining take it.
                row = returned_genotype_row(frame, events)
                self._returned_index = 0 if row is None else frame.index.get_loc(row.name)
                self._epoch_keys = [
                    (int(e), int(s)) for e, s in zip(frame["epoch"], frame["step"], strict=True)
                ]
                options = [
                    (f"epoch {e + 1} (step {s})", i)  # from 1, as the monitor
                    for i, (e, s) in enumerate(self._epoch_keys)
                ]
        agents: list[str] = []
        if events is not None and not self._run_error:
            self._agent_payloads, agents = _agent_payloads(events)
            self._has_parts = bool(self._agent_payloads)
            if self._has_parts:
                self._missing_cells = _cells_not_owned(config, [SHARED_PART, *agents])
        # Another run starts at its shared cell (the part is reset before the epochs, so
        # no agent of the old run is looked up in the new run's rounds).
        self._reading_run = True
        try:
            self.part.options = [SHARED_PART, *agents]
            self.part.value = SHARED_PART
        finally:
            self._reading_run = False
        self._show_part()
        self.epoch.options = options
        if options:
            self.epoch.value = self._returned_index
        self._update()

    def _update(self) -> None:
        kind = self.kind.value
        genotype, error = None, ""
        if kind == "zoo":
            genotype = zoo[self.zoo.value]
            info = zoo_info(self.zoo.value)
            self.message.value = (
                f"<small>{html.escape(info.authors)}, <i>{html.escape(info.paper)}</i>, "
                f"{html.escape(info.venue)} {info.year}; {info.search_method}, "
                f"{info.search_cost_gpu_days} GPU days</small>"
            )
        elif kind == "run":
            index = self.epoch.value
            chosen = index is not None and index < len(self._genotypes)
            problem: tuple[str, str] | tuple[()] = ()  # why the epoch and part show no cell
            if chosen and self.part.value != SHARED_PART:
                genotype, problem = self._agent_cell(self.part.value, index)
            elif chosen:
                genotype = self._genotypes[index]
                if genotype is None:
                    # The row exists but its text no longer parses (a store edited by hand).
                    problem = (
                        "this epoch's genotype cannot be read (its stored text does not "
                        "parse); pick another epoch.", "error",
                    )  # fmt: skip
            if self._run_error:
                self.message.value = message_html(self._run_error, "error")
            elif problem:
                self.message.value = message_html(*problem)
            elif genotype is None:
                self.message.value = message_html("pick a run with derived genotypes.", "info")
            elif self._has_parts and self.part.value in self._missing_cells:
                # Its genotype repeats its one kind of cell in the other's place (the
                # derivation fills both): the drawing must not pass for a cell it owns.
                part = self.part.value
                kind, setting = self._missing_cells[part]
                owned = "normal" if kind == "reduction" else "reduction"
                self.message.value = message_html(
                    f"{part} owns no {kind} cell ({setting} = 0): the {kind} cell drawn "
                    f"repeats its {owned} cell.", "info",
                )  # fmt: skip
            else:
                self.message.value = ""
        else:
            text = self.text.value.strip()
            if text:
                try:
                    genotype = parse_genotype(text)
                except (NasbenchError, ValueError, SyntaxError) as err:
                    error = str(err).splitlines()[0] if str(err) else type(err).__name__
            self.message.value = message_html(error, "error") if error else ""
        self.error = error
        self.genotype_json = genotype.to_json() if genotype is not None else ""

    def _agent_cell(self, part: str, index: int) -> tuple[Any, tuple[str, str] | tuple[()]]:
        """``part``'s cell at epoch option ``index`` from the run's agent_genotypes events,
        and ``(text, level)`` saying why there is none (empty when there is one)."""
        from nasbench.spaces import genotype_from_dict

        epoch, step = self._epoch_keys[index]
        payload = self._agent_payloads.get((epoch, step), self._agent_payloads.get((epoch, None)))
        where = f"epoch {epoch + 1} (step {step})"
        if payload is None:
            return None, (
                f"{part}'s cell is not stored for {where} (the run logged no "
                f"{AGENT_EVENT} event then); pick another epoch, or the part shared.", "info",
            )  # fmt: skip
        cell = payload.get(part) if isinstance(payload, dict) else None
        if cell is None:
            return None, (
                f"{part}'s cell at {where} cannot be read (its {AGENT_EVENT} event names "
                "no cell for it: the event is damaged); pick another epoch.", "error",
            )  # fmt: skip
        try:
            return genotype_from_dict(cell), ()
        except Exception:  # noqa: BLE001 - a damaged row is named, never a traceback
            return None, (
                f"{part}'s cell at {where} cannot be read (its stored genotype does not "
                "parse); pick another epoch.", "error",
            )  # fmt: skip


def _agent_payloads(events: Any) -> tuple[dict[tuple[int, int | None], Any], list[str]]:
    """A run's ``agent_genotypes`` payloads by (epoch, step), and the agents they name.

    Args:
        events: ``run.events`` (columns ``kind``, ``epoch``, ``step``, ``payload``).

    Returns:
        ``(payloads, agents)``: the payload of each round (a later event of the same round,
        e.g. after a resume, wins; step None where the event has none; events without an
        epoch cannot be placed and are left out) and the parts other than "shared" in
        order (``agent2`` before ``agent10``).

    Example:
        >>> import pandas as pd
        >>> events = pd.DataFrame({"kind": ["agent_genotypes"], "epoch": [0], "step": [2],
        ...                        "payload": [{"shared": {}, "agent10": {}, "agent2": {}}]})
        >>> _agent_payloads(events)[1]
        ['agent2', 'agent10']
    """
    import pandas as pd

    rows = events[events["kind"] == AGENT_EVENT]
    payloads: dict[tuple[int, int | None], Any] = {}
    names: dict[str, None] = {}  # insertion-ordered set
    for epoch, step, payload in zip(rows["epoch"], rows["step"], rows["payload"], strict=True):
        if pd.isna(epoch):
            continue
        payloads[(int(epoch), None if pd.isna(step) else int(step))] = payload
        if isinstance(payload, dict):
            names.update(dict.fromkeys(k for k in payload if k != SHARED_PART))
    return payloads, sorted(names, key=_natural_key)


def _cells_not_owned(config: Any, parts: list[str]) -> dict[str, tuple[str, str]]:
    """The kind of cell ("normal" or "reduction") each part of a multi-agent run does not
    own, and the strategy setting that gives it none (``shared_reduce``, ``agent_reduce``,
    ...; the marl-gdas defaults where a setting is not stored); parts owning both are
    left out.

    Example:
        >>> _cells_not_owned({"strategy_config": {"agent_reduce": 0}}, ["shared", "agent0"])
        {'agent0': ('reduction', 'agent_reduce')}
    """
    from nasbench.strategies.differentiable.marl_gdas import MarlGdasConfig

    defaults = MarlGdasConfig()
    given = config.get("strategy_config") if isinstance(config, dict) else None
    given = given if isinstance(given, dict) else {}

    def count(setting: str) -> int:
        value = given.get(setting, getattr(defaults, setting))
        return value if isinstance(value, int) else getattr(defaults, setting)

    missing = {}
    for part in parts:
        prefix = "shared" if part == SHARED_PART else "agent"
        for kind, suffix in (("normal", "normal"), ("reduction", "reduce")):
            setting = f"{prefix}_{suffix}"
            if count(setting) == 0:
                missing[part] = (kind, setting)
    return missing


def _natural_key(name: str) -> list[Any]:
    """Sort key that orders the numbers in a name by value (agent2 before agent10)."""
    return [int(piece) if piece.isdigit() else piece for piece in re.split(r"(\d+)", name)]


def _skeleton(
    genotype: Any,
    n_cells: Callable[[], int],
    channels: int,
    dataset: dict[str, int],
    run_skeleton: dict[str, Any] | None = None,
) -> Any:
    """The frame the controls give ``genotype``: a cell stack; for the encoder-decoder kinds
    a U-Net skeleton (the depth trellis and C2FNAS genotypes fix; V-NAS in 3D); for an
    unrolled reconstruction genotype its cascades. A run's genotype is framed by the run
    itself (:func:`_run_frame`); where that cannot be rebuilt, ``run_skeleton`` (the
    run's recorded depth or cascades, channels, dims) overrules the controls, as the
    drawing shows it. ``n_cells`` reads the cell count, called for a cell stack only: a
    box typed wrong that the genotype does not use does not stop its costs."""
    from nasbench.spaces import Skeleton, UNetSkeleton
    from nasbench.spaces.recon import ReconSkeleton

    kind = getattr(genotype, "kind", "")
    if kind == "recon":
        keep = {k: run_skeleton[k] for k in ("cascades", "cells", "channels")
                if k in (run_skeleton or {})}  # fmt: skip
        return ReconSkeleton(**{"channels": channels, **keep})
    if run_skeleton and "depth" in run_skeleton:
        keep = {
            k: run_skeleton[k] for k in ("depth", "channels", "spatial_dims") if k in run_skeleton
        }
        return UNetSkeleton(**{**_unet_dataset(dataset), **keep})
    if kind == "trellis":
        return UNetSkeleton(depth=genotype.num_scales - 1, channels=channels,
                            **_unet_dataset(dataset))  # fmt: skip
    if kind == "c2fnas":
        return UNetSkeleton(depth=max(genotype.levels), channels=channels,
                            **{**_unet_dataset(dataset), "spatial_dims": 3})  # fmt: skip
    if kind == "vnas":  # its layers choose 2D, 3D or pseudo-3D kernels: a 3D network
        return UNetSkeleton(channels=channels, **{**_unet_dataset(dataset), "spatial_dims": 3})
    if kind == "dints":  # its codes fix the levels below the input, its op codes 3D cells
        return UNetSkeleton(depth=genotype.num_depths, channels=channels,
                            **{**_unet_dataset(dataset), "spatial_dims": 3})  # fmt: skip
    if kind == "nasunet":
        return UNetSkeleton(channels=channels, **_unet_dataset(dataset))
    return Skeleton(n_cells=n_cells(), channels=channels, **dataset)


def _run_dataset(config: Any) -> dict[str, int] | None:
    """The channels, classes and dims of the data a run searched on (from its config's
    dataset name); None when the config names none the registry knows (a folder since
    moved): the viewer's dataset is used then."""
    from nasbench.data import get_info

    dataset = config.get("dataset") if isinstance(config, dict) else None
    name = dataset.get("name") if isinstance(dataset, dict) else dataset
    if not isinstance(name, str):
        return None
    try:
        info = get_info(name)
    except NasbenchError:
        return None
    return {
        "in_channels": info.in_channels,
        "num_classes": max(1, info.num_classes),
        "spatial_dims": info.spatial_dims,
    }


def _run_frame(config: Any, evaluated: bool = False) -> tuple[Any, Any, int | None] | None:
    """The space a run searched, its skeleton with the run's data (as retraining builds it:
    ``nasbench.evaluation.final_evaluation``) and the image size it searched at.

    Args:
        config: the run's stored config.
        evaluated: the run evaluated candidates (a discrete search): its evaluator built
            them in ``evaluator_config.skeleton`` where that is given
            (``nasbench.evaluation.train_evaluator.skeleton_for``).

    Returns:
        ``(space, skeleton, size)`` (size None when the config names none), or None when the
        config names no space or dataset that can be rebuilt (an old run, a folder since
        moved): the viewer's controls frame the genotype then.
    """
    from nasbench.data import get_info
    from nasbench.spaces import space_from_dict
    from nasbench.spaces.skeleton import skeleton_overrides

    space = config.get("space") if isinstance(config, dict) else None
    dataset = config.get("dataset") if isinstance(config, dict) else None
    name = dataset.get("name") if isinstance(dataset, dict) else dataset
    if not isinstance(space, dict) or not isinstance(name, str):
        return None
    try:
        info = get_info(name)
        io = {k: getattr(info, k) for k in ("in_channels", "num_classes", "spatial_dims")}
        built = space_from_dict({**space, "skeleton": {**skeleton_overrides(space), **io}})
        skeleton = built.default_skeleton()
        settings = config.get("evaluator_config")
        override = settings.get("skeleton") if evaluated and isinstance(settings, dict) else None
        if isinstance(override, dict) and override:
            skeleton = type(skeleton).from_dict({**override, **io})
    except (NasbenchError, TypeError, ValueError):
        return None
    size = dataset.get("size") if isinstance(dataset, dict) else None
    return built, skeleton, size if isinstance(size, int) and size > 0 else None


def _run_space(genotype: Any, run_frame: Any) -> tuple[Any, Any, int | None, str]:
    """The space, skeleton and image size a run's ``genotype`` is costed in, and what the
    costs line says of that frame: ``(None, None, None, why)`` when the viewer's controls
    must frame it (a run whose space cannot be rebuilt, or does not build the genotype:
    a localisation search's shared cell has its own node count)."""
    if run_frame is None:
        why = "; its run's frame cannot be rebuilt: the recorded skeleton, else the controls'"
        return None, None, None, why
    space, skeleton, size = run_frame
    try:
        space.validate(genotype)
    except (NasbenchError, TypeError, ValueError):
        return None, None, None, "; the controls' frame: the run's space does not build it"
    return space, skeleton, size, ", as the run searched"


def _run_costs(space: Any, genotype: Any, skeleton: Any, image_size: int) -> dict[str, float]:
    """Parameters and MACs of ``genotype`` as ``space`` builds it (an ALB run's detector,
    not a classifier of its cells) in ``skeleton``, for one image."""
    import torch

    from nasbench.models import count_macs, count_parameters

    with torch.random.fork_rng(devices=[]):  # the kernel's random state is left alone
        model = space.build(genotype, skeleton)
    shape = (1, skeleton.in_channels, *([int(image_size)] * skeleton.spatial_dims))
    # No latency, as genotype_costs measures none for the costs line.
    return {"params": count_parameters(model), "macs": count_macs(model, shape),
            "latency_ms": float("nan")}  # fmt: skip


def _unet_dataset(dataset: dict[str, int]) -> dict[str, int]:
    """The dataset's part of a U-Net skeleton (a mask has at least 2 classes)."""
    return {**dataset, "num_classes": max(2, dataset["num_classes"])}


def genotype_costs(genotype: Any, skeleton: Any, image_size: int) -> dict[str, float]:
    """Parameters and MACs of ``genotype`` built in ``skeleton`` for one image."""
    from nasbench.models import network_costs

    return network_costs(genotype, skeleton, image_size, repeats=0)


def costs_line(
    genotype: Any, skeleton: Any, image_size: int, space: Any = None, whose: str = ""
) -> tuple[dict[str, float], str]:
    """The costs of ``genotype`` in ``skeleton`` and the viewer's costs line (HTML).

    Args:
        genotype: the genotype shown.
        skeleton: the frame it is built in.
        image_size: the image's (a volume's) side in pixels.
        space: the run's space, which builds its own genotypes (an ALB run's detector);
            None: :func:`nasbench.models.build` builds it.
        whose: what the line adds about the frame (", as the run searched").

    Returns:
        ``(costs, line)``: params and MACs (empty when the network is too large to build
        or fails to build) and the line that says them, or why they are missing.

    Example:
        >>> from nasbench.spaces import Skeleton, zoo
        >>> costs, line = costs_line(zoo["DARTS_V2"], Skeleton(n_cells=5, channels=8), 28)
        >>> round(costs["params"]) > 0 and "parameters" in line
        True
    """
    try:
        counted = _too_large(genotype, skeleton, image_size, space)
        if counted is not None:  # building it could exhaust the kernel's memory
            advice = (
                "lower the cells, channels or image size."
                if counted["params"] is not None and space is None  # the controls apply
                else "measure it in a cell: nasbench.models.network_costs(genotype, "
                "skeleton, image_size, repeats=0)."
            )
            return {}, message_html(too_large_text("costs", counted, advice), "info")
        if space is not None:
            costs = _run_costs(space, genotype, skeleton, image_size)
        else:
            costs = genotype_costs(genotype, skeleton, image_size)
    except Exception as err:  # noqa: BLE001 - one line here; the other views go on
        return {}, message_html(f"costs: not computed ({status_reason(err)})", "error")
    depth = getattr(skeleton, "depth", None)
    frame_text = f"depth {depth}" if depth is not None else f"{skeleton.n_cells} cells"
    frame_text += f", C={skeleton.channels}"
    if getattr(skeleton, "spatial_dims", 2) == 3:  # the size is a volume's side then
        frame_text += ", 3D"
    if getattr(genotype, "kind", "") == "morph":  # its layers fix depth and widths
        frame_text = f"{len(genotype.layers)} layers as searched"
    line = (
        f"<b>{costs['params'] / 1e6:.3f} M</b> parameters, "
        f"<b>{costs['macs'] / 1e6:.1f} M</b> MACs per image "
        f"({frame_text}, {image_size}px{whose})"
    )
    return costs, line


def _too_large(genotype: Any, skeleton: Any, image_size: int, space: Any = None) -> dict | None:
    """The meta-device counts of a network too large to build for the costs line (params
    None: it could not be counted, so it is not built either), else None (see
    ``widgets.space_builder.too_large_to_build``); built by ``space`` when given."""
    from nasbench.models import build

    dims = getattr(skeleton, "spatial_dims", 2)
    shape = (1, getattr(skeleton, "in_channels", 1), *([int(image_size)] * dims))
    if space is not None:
        return too_large_to_build(lambda: space.build(genotype, skeleton), shape)
    return too_large_to_build(lambda: build(genotype, skeleton, seed=0), shape)


def run_folders(runs: Any) -> list[str]:
    """The run folders ``runs`` names, each checked to hold a run.

    Args:
        runs: a run folder, a :class:`nasbench.runs.Run`, or a list of either.

    Returns:
        The folders as strings, in order.

    Raises:
        ConfigError: a folder that does not exist or holds no run, or a value that is
            neither a folder nor a Run.

    Example:
        >>> run_folders("/no/such/run")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        nasbench.errors.ConfigError: run folder '/no/such/run' does not exist; ...
    """
    from nasbench.runs import Run
    from nasbench.runs.schema import require_run

    # One run where a list is expected: iterating a folder's name would give its letters.
    if isinstance(runs, (str, os.PathLike, Run)):
        runs = [runs]
    if not isinstance(runs, (list, tuple)):
        raise ConfigError(
            f"run_dirs must be a run folder or a list of them, got {runs!r}; "
            'pass e.g. ["runs/darts-1"].'
        )
    folders = []
    for run in runs:
        if isinstance(run, Run):
            run = run.run_dir
        elif not isinstance(run, (str, os.PathLike)):
            raise ConfigError(
                f"run_dirs holds {run!r}, which is not a run folder; pass folders a search "
                "wrote to (or Run objects)."
            )
        require_run(run)  # a missing folder now, not an empty "run" list later
        folders.append(str(run))
    return folders


class GenotypeViewer(widgets.VBox):
    """Draw a genotype with its costs; compare two with the differing edges highlighted.

    Args:
        run_dirs: run folders offered as sources (one folder or Run, or a list of them;
            see :func:`run_folders`).

    Raises:
        ConfigError: a run folder that does not exist or holds no run.

    Attributes:
        highlight_a: edges of A not in B (as drawn), empty unless comparing.
        highlight_b: edges of B not in A.

    Example:
        >>> viewer = GenotypeViewer()
        >>> viewer.compare.value = True
        >>> viewer.source_b.zoo.value = "DARTS_V1"
        >>> len(viewer.highlight_a) > 0
        True
    """

    def __init__(self, run_dirs: str | os.PathLike | list[Any] | None = None) -> None:
        folders = run_folders(run_dirs) if run_dirs is not None else []
        self.dataset = {"in_channels": 1, "num_classes": 2, "spatial_dims": 2}
        self._highlight_a: set = set()
        self._highlight_b: set = set()
        self._costs_a: dict[str, float] = {}
        self._costs_b: dict[str, float] = {}
        # Costs a worker computes in Jupyter, per side: (ticket, future, label); shown only
        # when the ticket is still the viewer's (no update since).
        self._cost_ticket = 0
        self._cost_jobs: dict[str, tuple[int, Any, widgets.HTML]] = {}
        self.source_a = GenotypeSource("genotype A")
        self.source_b = GenotypeSource("genotype B", zoo_name="DARTS_V1")
        self.compare = widgets.Checkbox(value=False, description="compare with B")
        self.compare.add_class("nasbench-genotype-compare")
        style = {"description_width": "90px"}
        self.n_cells = NumberBox(8, min=1, max=40, whole=True, description="cells",
                                 style=style)  # fmt: skip
        self.channels = NumberBox(16, min=1, max=512, whole=True, description="channels",
                                  style=style)  # fmt: skip
        self.image_size = NumberBox(
            28, min=8, max=512, whole=True, description="image size", style=style
        )
        self.drawing_a = widgets.HTML()
        self.drawing_a.add_class("nasbench-genotype-a")
        self.drawing_b = widgets.HTML()
        self.drawing_b.add_class("nasbench-genotype-b")
        self.costs_label_a = widgets.HTML()
        self.costs_label_b = widgets.HTML()
        self.diff_label = widgets.HTML()
        self.diff_label.add_class("nasbench-genotype-diff")
        self.side_b = widgets.VBox([self.source_b, self.costs_label_b, self.drawing_b])
        # Costs build two networks (seconds on a CPU): in Jupyter they run once the cell that
        # made the viewer has returned, and once per burst of changes (see Debouncer).
        self.update_soon = Debouncer(self.update, delay=0.05)
        for control in (self.source_a, self.source_b):
            control.observe(lambda _: self.update_soon(), "genotype_json")
            # Another run (or source) with the same genotype text is still costed and drawn
            # in its own skeleton and data: the text alone does not change then.
            control.run.observe(lambda _: self.update_soon(), "value")
            control.kind.observe(lambda _: self.update_soon(), "value")
        for control in (self.compare, self.n_cells, self.channels, self.image_size):
            control.observe(lambda _: self.update_soon(), "value")
        super().__init__(
            children=[
                wrapping_row([self.compare, self.n_cells, self.channels, self.image_size]),
                self.diff_label,
                wrapping_row(
                    [widgets.VBox([self.source_a, self.costs_label_a, self.drawing_a]), self.side_b]
                ),  # fmt: skip
            ]
        )
        self.add_class("nasbench-genotype-viewer")
        if folders:
            self.set_runs(folders)
        self.update_soon()

    def set_runs(self, run_dirs: list[str]) -> None:
        """Offer these run folders as genotype sources on both sides."""
        self.source_a.set_runs(run_dirs)
        self.source_b.set_runs(run_dirs)

    def follow(self, run: Any) -> None:
        """Show what ``run`` derived since it was shown (a running search's new epochs) on
        each side that shows it, keeping the epoch and part chosen there (see
        :meth:`GenotypeSource.follow`).

        Args:
            run: a loaded :class:`nasbench.runs.Run` (e.g. the Monitor's).

        Example:
            >>> from nasbench.runs import load  # doctest: +SKIP
            >>> GenotypeViewer("runs/darts-1").follow(load("runs/darts-1"))  # doctest: +SKIP
        """
        self.source_a.follow(run)
        self.source_b.follow(run)

    def show_run(self, run_dir: str | os.PathLike) -> None:
        """Show the genotype ``run_dir``'s search returned as genotype A.

        That is the last one derived, except after RobustDARTS's early stop: then the
        earlier epoch's cell it returned (as the monitor, the report and retraining use).

        Args:
            run_dir: a run folder (added to the offered runs when it is not listed).

        Example:
            >>> GenotypeViewer().show_run("runs/darts-1")  # doctest: +SKIP
        """
        run_dir = str(run_dir)
        options = list(self.source_a.run.options)
        if run_dir not in options:
            self.set_runs([run_dir, *options])
        self.source_a.run.value = run_dir
        self.source_a._on_run()
        self.source_a.kind.value = "run"

    def set_dataset(self, info: Any, size: int) -> None:
        """Cost networks for this dataset's channels, classes, dims and image size."""
        self.dataset = {
            "in_channels": info.in_channels,
            "num_classes": max(1, info.num_classes),
            "spatial_dims": info.spatial_dims,
        }
        self.image_size.value = size
        self.update_soon()

    def close(self) -> None:
        """Drop an update still waiting for its quiet time (it would build two networks
        for a closed view), then close every widget of the viewer (idempotent).

        Example:
            >>> GenotypeViewer().close()  # doctest: +SKIP
        """
        if self.comm is None:
            return  # closed already (ipywidgets' __del__ calls close again)
        try:
            from widgets._figures import close_widgets  # plotly: imported with the first figure
        except ImportError:  # Python exits (this is ipywidgets' __del__): nothing to free
            return

        self.update_soon.fn = lambda: None
        self.update_soon.flush()  # cancels the waiting call, running the no-op instead
        self._cost_ticket += 1  # a worker's costs, when they come, are shown nowhere
        for _, job, _ in self._cost_jobs.values():
            job.cancel()  # not started yet: nothing to build for a closed view
        self._cost_jobs.clear()
        close_widgets(self)

    def _side(self, side: str, genotype: Any, drawing: widgets.HTML, label: widgets.HTML,
              highlight: set, source: GenotypeSource) -> dict[str, float]:  # fmt: skip
        from nasbench.viz.genotype_graph import draw_run_genotype

        if genotype is None:
            drawing.value = ""
            label.value = ""
            return {}
        kind = getattr(genotype, "kind", "")
        # A run's genotype is drawn as the run searched it (e.g. its cascades), as the
        # report and the monitor draw it.
        from_run = source.kind.value == "run"
        frame = source.run_skeleton if from_run else None
        # A run's genotype is costed in the run's own data (a DiNTS run's 3D volumes), not
        # in whatever dataset the picker holds.
        dataset = source.run_dataset if from_run and source.run_dataset else self.dataset
        show_drawing(
            drawing,
            lambda: draw_run_genotype(genotype, frame, highlight=highlight or None)
            if kind == "darts" else draw_run_genotype(genotype, frame),
        )  # fmt: skip
        # A run's genotype is costed as the run searched it: its space builds it (an ALB
        # run's detector) in its skeleton, at its image size; the controls frame the others.
        space, searched, whose = None, None, ""
        if from_run:
            space, skeleton, searched, whose = _run_space(genotype, source.run_frame)
        try:
            # The boxes are read only where they frame the genotype: a box typed wrong says so.
            size = searched or self.image_size.read()
            if space is None:
                skeleton = _skeleton(
                    genotype, self.n_cells.read, self.channels.read(), dataset, frame
                )
        except Exception as err:  # noqa: BLE001 - one line here; the other views go on
            label.value = message_html(f"costs: not computed ({status_reason(err)})", "error")
            return {}
        args = (genotype, skeleton, size, space, whose)
        loop = running_loop()
        if loop is None:  # plain Python, tests: at once
            costs, label.value = costs_line(*args)
            return costs
        # In Jupyter: built and counted in the views' worker thread, so a large network
        # does not freeze the kernel (and its other views) while it is built.
        label.value = "<i>costs: computing…</i>"
        job = submit_work(costs_line, *args)
        self._cost_jobs[side] = (self._cost_ticket, job, label)
        asyncio.wrap_future(job, loop=loop).add_done_callback(lambda _: self._show_costs(side))
        return {}

    def _show_costs(self, side: str) -> None:
        """Show ``side``'s costs once its worker has them, unless an update since made them
        out of date (each update starts new ones)."""
        ticket, job, label = self._cost_jobs.get(side) or (None, None, None)
        if job is None or ticket != self._cost_ticket or not job.done():
            return
        del self._cost_jobs[side]
        if job.cancelled():
            return
        error = job.exception()
        if error is not None:  # costs_line turns what it foresees into the line itself
            costs, line = {}, message_html(f"costs: not computed ({status_reason(error)})",
                                           "error")  # fmt: skip
        else:
            costs, line = job.result()
        label.value = line
        setattr(self, f"_costs_{side}", costs)

    def _costs_ready(self) -> None:
        """Wait for the costs a worker is still computing and show them: a notebook cell
        reading them runs on the loop's thread, which cannot deliver the worker's result
        until the cell ends."""
        self.update_soon.flush()
        for side in list(self._cost_jobs):
            _, job, _ = self._cost_jobs[side]
            concurrent.futures.wait([job], timeout=CELL_WAIT_S)
            self._show_costs(side)

    # What a notebook reads is current: a redraw still waiting for its quiet time runs first
    # (a lesson reads the counts in the cell that changed the genotypes).
    @property
    def highlight_a(self) -> set:
        """Edges of A not in B (as drawn), empty unless comparing."""
        self.update_soon.flush()
        return self._highlight_a

    @property
    def highlight_b(self) -> set:
        """Edges of B not in A."""
        self.update_soon.flush()
        return self._highlight_b

    @property
    def costs_a(self) -> dict[str, float]:
        """Parameters and MACs of A in the chosen skeleton."""
        self._costs_ready()
        return self._costs_a

    @property
    def costs_b(self) -> dict[str, float]:
        """Parameters and MACs of B (empty unless comparing)."""
        self._costs_ready()
        return self._costs_b

    def update(self) -> None:
        """Redraw both sides, their costs and the highlighted differences."""
        from nasbench.viz import diff_edges

        a = self.source_a.genotype
        b = self.source_b.genotype if self.compare.value else None
        self.side_b.layout.display = None if self.compare.value else "none"
        self._highlight_a, self._highlight_b = set(), set()
        self.diff_label.value = ""
        if a is not None and b is not None:
            if getattr(a, "kind", "") == getattr(b, "kind", "") == "darts":
                self._highlight_a = diff_edges(a, b)
                self._highlight_b = diff_edges(b, a)
                self.diff_label.value = (
                    f"<b>{len(self._highlight_a)}</b> edge(s) of A differ from B "
                    "(thick red); identical cells have none."
                )
            else:
                self.diff_label.value = message_html(
                    "edge differences are drawn for two DARTS/NASNet genotypes.", "info"
                )
        self._cost_ticket += 1  # costs a worker still computes are of genotypes no longer shown
        self._cost_jobs.clear()
        self._costs_a = self._side(
            "a", a, self.drawing_a, self.costs_label_a, self._highlight_a, self.source_a
        )
        self._costs_b = self._side(
            "b", b, self.drawing_b, self.costs_label_b, self._highlight_b, self.source_b
        )
