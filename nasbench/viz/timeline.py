"""A plotly figure of the derived genotype per epoch: the op each edge held, and when it changed.

Rows are the cell's edges named as in the alpha plots (``"i->j"``: state i into state j, where
states 0 and 1 are the cell inputs and 2.. the intermediate nodes); a coloured square marks the op
chosen on that edge at that epoch (colours of :func:`nasbench.viz.palette.op_color`), a small grey
dot an edge the cell does not use then, and a red ring each epoch where the edge's choice changed.
The figure counts epochs from 1, as the monitor and the report do; :func:`genotype_changes`
keeps the run store's epoch index (from 0).

Example:
    >>> plot_genotype_timeline(load("runs/darts-1")).show()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError, NasbenchError
from nasbench.viz.alphas import empty_hint, frame_of
from nasbench.viz.palette import HIGHLIGHT_COLOR, op_color, op_symbol

NOT_CHOSEN = "—"


def edge_choices(genotype: Any) -> dict[str, dict[str, str]]:
    """Map each cell of a genotype to {edge name: chosen op}.

    Args:
        genotype: a DARTS/NASNet :class:`~nasbench.spaces.genotype.Genotype` or an
            :class:`~nasbench.spaces.genotype.NB201Genotype`.

    Returns:
        ``{cell_type: {"i->j": op}}``, edges in (node, input) order. A node that takes the same
        input twice (NASNet-A does) shows both ops joined by ``" + "``.

    Example:
        >>> from nasbench.spaces.zoo import zoo
        >>> edge_choices(zoo["DARTS_V2"])["normal"]["0->2"]
        'sep_conv_3x3'
    """
    kind = getattr(genotype, "kind", None)
    if kind == "darts":
        cells: dict[str, dict[str, str]] = {}
        per_node = genotype.inputs_per_node
        for cell_type in ("normal", "reduce"):
            pairs, _ = genotype.cell(cell_type)
            found: dict[tuple[int, int], list[str]] = {}
            for k, (op, source) in enumerate(pairs):
                found.setdefault((k // per_node + 2, int(source)), []).append(op)
            cells[cell_type] = {
                f"{i}->{j}": " + ".join(sorted(ops)) for (j, i), ops in sorted(found.items())
            }
        return cells
    if kind == "nb201":
        return {
            "cell": {
                f"{i}->{j}": op
                for j, pairs in enumerate(genotype.nodes, start=1)
                for op, i in pairs
            }
        }
    raise ConfigError(
        f"a genotype timeline needs cell genotypes (DARTS or NAS-Bench-201), got "
        f"{type(genotype).__name__}."
    )


def _genotypes(frame: pd.DataFrame) -> list[tuple[int, Any]]:
    from nasbench.spaces.genotype import parse_genotype

    rows = []
    # A row without an epoch (a store edited by hand) has no place on the timeline.
    frame = frame[pd.to_numeric(frame["epoch"], errors="coerce").notna()]
    for _, row in frame.sort_values("epoch", kind="stable").iterrows():
        genotype = row["genotype"] if "genotype" in frame.columns else None
        if genotype is None:
            genotype = parse_genotype(row["genotype_json"])
        rows.append((int(row["epoch"]), genotype))
    return rows


def genotype_changes(run_or_frame: Any) -> pd.DataFrame:
    """Tidy table of the chosen op per (epoch, cell, edge), with a flag where it changed.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``genotypes`` frame.

    Returns:
        Columns epoch, cell_type, edge, op (``"—"`` when the edge is not used), changed (True
        where the op differs from the previous logged epoch; False at the first epoch) and
        previous (the op before a change, else None).

    Example:
        >>> genotype_changes(run).query("changed")  # doctest: +SKIP
    """
    frame = frame_of(
        run_or_frame,
        "genotypes",
        ("epoch",),
        empty_hint(
            run_or_frame,
            "derived genotypes",
            "this run has no derived genotypes yet; a search logs one at the end of each epoch.",
            "this run derived no genotype: it ended before the end of its first epoch.",
        ),
    )
    if "genotype" not in frame.columns and "genotype_json" not in frame.columns:
        raise ConfigError("the genotypes frame needs a 'genotype' or 'genotype_json' column.")
    history = [(epoch, edge_choices(g)) for epoch, g in _genotypes(frame)]
    edges: dict[str, dict[str, None]] = {}
    for _, cells in history:
        for cell_type, choices in cells.items():
            edges.setdefault(cell_type, {}).update(dict.fromkeys(choices))
    rows = []
    for cell_type, names in edges.items():
        order = sorted(names, key=lambda e: tuple(int(p) for p in e.split("->"))[::-1])
        for edge in order:
            before = None
            for index, (epoch, cells) in enumerate(history):
                op = cells.get(cell_type, {}).get(edge, NOT_CHOSEN)
                changed = index > 0 and op != before
                rows.append((epoch, cell_type, edge, op, changed, before if changed else None))
                before = op
    return pd.DataFrame(rows, columns=["epoch", "cell_type", "edge", "op", "changed", "previous"])


def first_op(label: str) -> str:
    """The first op of a timeline label (an edge may read ``"op_a + op_b"``)."""
    return label.split(" + ")[0]


class _TimelineInfo(NamedTuple):
    """What the genotype timeline draws (the data step of plot_genotype_timeline)."""

    table: pd.DataFrame  # genotype_changes of every cell
    cells: list[str]  # the cells shown, one panel each
    space_ops: list[str]  # the space's ops (and any other op seen): fixes each op's marker
    n_changes: int  # changes in the shown cells
    n_rows: int  # edges over the shown panels
    n_epochs: int


def _run_space_ops(run_or_frame: Any) -> list[str]:
    """Every op of a run's search space, from its configuration; [] for a frame, or a
    configuration whose space cannot say (an op's marker then ranks it among those seen)."""
    config = getattr(run_or_frame, "config", None)
    space = config.get("space") if isinstance(config, Mapping) else None
    if not isinstance(space, Mapping):
        return []
    from nasbench.spaces import space_from_dict

    try:
        ops = getattr(space_from_dict(dict(space)), "ops", None)
    except (NasbenchError, TypeError, ValueError):
        return []
    return [str(op) for op in ops] if isinstance(ops, (list, tuple)) else []


def _get_timeline_info(
    run_or_frame: Any, cell_type: str, ops: Sequence[str] | None = None
) -> _TimelineInfo:
    """The per-epoch choices table, the cells to show and the counts the layout needs."""
    table = genotype_changes(run_or_frame)
    cells = list(dict.fromkeys(table["cell_type"]))
    if cell_type != "both":
        if cell_type not in cells:
            raise ConfigError(
                f"the genotypes have no cell '{cell_type}'; use 'both' or one of "
                f"{', '.join(cells)}."
            )
        cells = [cell_type]
    return _TimelineInfo(
        table=table,
        cells=cells,
        # The space's ops, not only those this run chose: an op's marker is then the same
        # in every run of the space (op_symbol ranks an op within its family among ``ops``).
        space_ops=sorted(
            {first_op(op) for op in table["op"] if op != NOT_CHOSEN}
            | set(_run_space_ops(run_or_frame) if ops is None else ops)
        ),
        n_changes=int(table.loc[table["cell_type"].isin(cells), "changed"].sum()),
        n_rows=sum(table.loc[table["cell_type"] == c, "edge"].nunique() for c in cells),
        n_epochs=table["epoch"].nunique(),
    )


def plot_genotype_timeline(
    run_or_frame: Any, cell_type: str = "both", ops: Sequence[str] | None = None
) -> go.Figure:
    """Which op each edge held at every epoch, with each change ringed in red.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``genotypes`` frame.
        cell_type: "both" (one panel per cell), or one cell ("normal", "reduce"; "cell" for
            NAS-Bench-201).
        ops: every op of the search space, which fixes each op's marker symbol so that an
            op has one marker in every run of the space; None reads them from a Run's
            configuration (a bare frame: the ops its genotypes chose).

    Returns:
        A figure with one marker trace per op (legend = ops), a ``"not chosen"`` trace and a
        ``"changed"`` trace whose points are the (epoch, edge) pairs where the choice changed.

    Example:
        >>> fig = plot_genotype_timeline(run)  # doctest: +SKIP
        >>> [t.name for t in fig.data][-1]  # doctest: +SKIP
        'changed'
    """
    info = _get_timeline_info(run_or_frame, cell_type, ops)
    table, cells, space_ops = info.table, info.cells, info.space_ops
    fig = make_subplots(
        rows=len(cells),
        cols=1,
        shared_xaxes=True,
        subplot_titles=[f"{c} cell" for c in cells],
        vertical_spacing=0.12 / len(cells),
    )
    shown: set[str] = set()
    for row, cell in enumerate(cells, start=1):
        part = table[table["cell_type"] == cell]
        for op, group in part.groupby("op", sort=False):
            chosen = op != NOT_CHOSEN
            name = op if chosen else "not chosen"
            fig.add_trace(
                go.Scatter(
                    x=group["epoch"] + 1,  # counted from 1, as the monitor and report count
                    y=group["edge"],
                    mode="markers",
                    name=name,
                    legendgroup=name,
                    showlegend=name not in shown,
                    marker={
                        "symbol": op_symbol(first_op(op), space_ops) if chosen else "circle",
                        "size": 14 if chosen else 5,
                        "color": op_color(first_op(op)) if chosen else "#BBBBBB",
                    },
                    meta=cell,
                    hovertemplate=f"{cell} edge %{{y}}<br>epoch %{{x}}<br>{name}<extra></extra>",
                ),
                row=row,
                col=1,
            )
            shown.add(name)
        changes = part[part["changed"]]
        fig.add_trace(
            go.Scatter(
                x=changes["epoch"] + 1,
                y=changes["edge"],
                mode="markers",
                name="changed",
                legendgroup="changed",
                showlegend="changed" not in shown,
                marker={
                    "symbol": "circle-open",
                    "size": 22,
                    "color": HIGHLIGHT_COLOR,
                    "line": {"width": 2},
                },
                customdata=list(zip(changes["previous"], changes["op"], strict=True)),
                meta=cell,
                hovertemplate=(
                    f"{cell} edge %{{y}}, epoch %{{x}}<br>changed: %{{customdata[0]}} → "
                    "%{customdata[1]}<extra></extra>"
                ),
            ),
            row=row,
            col=1,
        )
        shown.add("changed")
        order = list(dict.fromkeys(part["edge"]))
        fig.update_yaxes(
            categoryorder="array", categoryarray=order, autorange="reversed", row=row, col=1
        )
    n_changes = info.n_changes
    fig.update_layout(
        title=f"Derived genotype per epoch ({n_changes} change{'s' * (n_changes != 1)} ringed)",
        height=max(300, 26 * info.n_rows + 140 * len(cells)),
        hovermode="closest",
    )
    fig.update_xaxes(
        title_text="epoch",
        dtick=1 if info.n_epochs <= 30 else None,
        row=len(cells),
        col=1,
    )
    return fig
