"""Landmark localisation figures: every arm's estimates in 3D, and each agent's curves.

Both follow the two-step shape of ``viz``: a ``_get_*_info`` step returns the numbers
(a NamedTuple, no plotly), and ``plot_*`` draws them. The inputs are what a
``marl-gdas`` run records: its ``landmark_estimates`` event (every arm's estimates on a
few test volumes, see :func:`nasbench.engine.localisation.estimate_records`) and the
per-agent search metrics ``agent<k>_reward`` / ``agent<k>_dist_vox``.

Example:
    >>> run = nasbench.runs.load("runs/landmarks")  # doctest: +SKIP
    >>> plot_landmark_estimates(run, volume=0).show()  # doctest: +SKIP
    >>> plot_agent_rewards(run).show()  # doctest: +SKIP
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError

LANDMARK_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")
ARM_SYMBOLS = {
    "searched": "circle",
    "random": "square",
    "hand": "diamond",
    "regression": "cross",
    "start": "circle-open",
}
# A localisation search's per-agent metrics (phase "search"): agent<k>_reward, _dist_vox.
AGENT_METRIC = re.compile(r"^agent(\d+)_(reward|dist_vox)$")


class LandmarkInfo(NamedTuple):
    """What :func:`plot_landmark_estimates` draws (coordinates in mm, ``[d, h, w]``)."""

    names: list[str]
    spacing: np.ndarray  # (3,) mm per voxel
    truth: np.ndarray  # (K, 3)
    estimates: dict[str, np.ndarray]  # arm -> (K, 3)
    distances: dict[str, np.ndarray]  # arm -> (K,) mm


def _estimates_payload(run: Any) -> dict[str, Any]:
    from nasbench.viz.alphas import frame_of

    none = (
        "this run has no landmark_estimates event; pass a finished marl-gdas run "
        "(it records every arm's test estimates at its end)."
    )
    # A path or None is named as what it is, with the call that opens a run.
    events = frame_of(run, "events", ("kind", "payload"), none)
    rows = events[events["kind"] == "landmark_estimates"]
    if rows.empty:
        raise ConfigError(none)
    return rows.iloc[-1]["payload"]


def _get_landmark_info(payload: dict[str, Any], volume: int, arms: Any) -> LandmarkInfo:
    records = [r for r in payload["records"] if r["volume"] == volume]
    if not records:
        have = sorted({r["volume"] for r in payload["records"]})
        raise ConfigError(f"volume {volume} has no recorded estimates; pick one of {have}.")
    recorded = list(dict.fromkeys(r["arm"] for r in records))
    chosen = recorded if arms is None else list(arms)
    unknown = [a for a in chosen if a not in recorded]
    if unknown:
        raise ConfigError(f"unknown arm(s) {unknown}; this run recorded {recorded}.")
    names = list(payload["names"])
    truth = np.zeros((len(names), 3))
    estimates = {a: np.zeros((len(names), 3)) for a in chosen}
    distances = {a: np.zeros(len(names)) for a in chosen}
    for r in records:
        truth[r["agent"]] = r["truth_mm"]
        if r["arm"] in estimates:
            estimates[r["arm"]][r["agent"]] = r["estimate_mm"]
            distances[r["arm"]][r["agent"]] = r["dist_mm"]
    spacing = np.asarray(payload["spacing"], float)
    if spacing.ndim == 2:  # one row per recorded volume (runs before 2026-12 kept one)
        spacing = spacing[volume]
    return LandmarkInfo(names, spacing, truth, estimates, distances)


def _plane_patch(points: np.ndarray, margin: float = 1.4) -> go.Mesh3d:
    """A square of the plane through three points, centred on them."""
    centre = points.mean(axis=0)
    normal = np.cross(points[1] - points[0], points[2] - points[0])
    normal = normal / max(np.linalg.norm(normal), 1e-9)
    u = points[0] - centre
    u = u / max(np.linalg.norm(u), 1e-9)
    v = np.cross(normal, u)
    half = margin * float(np.linalg.norm(points - centre, axis=1).max())
    corners = np.array(
        [centre + half * (a * u + b * v) for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    )
    return go.Mesh3d(
        x=corners[:, 0], y=corners[:, 1], z=corners[:, 2], i=[0, 0], j=[1, 2], k=[2, 3],
        color="#7f7f7f", opacity=0.2, name="true plane (first three)", showlegend=True,
        hoverinfo="skip",
    )  # fmt: skip


def _volume_array(image: Any) -> np.ndarray:
    """The ``(S, S, S)`` array of a volume given as ``(S, S, S)`` or ``(1, S, S, S)``
    (as the dataset yields it), numpy or torch; anything else is a one-line error."""
    array = np.asarray(image, dtype=float)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]  # the dataset's single channel
    if array.ndim != 3:
        raise ConfigError(
            f"image must be one volume of shape (S, S, S) or (1, S, S, S), got shape "
            f"{tuple(array.shape)}; pass the dataset's volume, e.g. test[0][0]."
        )
    return array


def _slices(image: np.ndarray, spacing: np.ndarray, every: int) -> list[go.Surface]:
    """Three orthogonal grey slices through the volume's centre (mm axes)."""
    image = np.asarray(image, dtype=float)[::every, ::every, ::every]
    size = np.array(image.shape)
    coords = [np.arange(n) * every * s for n, s in zip(size, spacing, strict=True)]
    mid = size // 2
    traces = []
    for axis in range(3):
        a, b = [i for i in range(3) if i != axis]
        grid_a, grid_b = np.meshgrid(coords[a], coords[b], indexing="ij")
        plane = np.take(image, mid[axis], axis=axis)
        xyz = [None, None, None]
        xyz[a], xyz[b] = grid_a, grid_b
        xyz[axis] = np.full_like(grid_a, coords[axis][mid[axis]])
        traces.append(
            go.Surface(
                x=np.round(xyz[0], 2), y=np.round(xyz[1], 2), z=np.round(xyz[2], 2),
                surfacecolor=np.round(plane, 3), colorscale="Greys", showscale=False,
                opacity=0.45, name="volume slices", hoverinfo="skip", showlegend=axis == 0,
                legendgroup="slices",
            )
        )  # fmt: skip
    return traces


def plot_landmark_estimates(
    run: Any,
    volume: int = 0,
    arms: Any = None,
    plane: bool = True,
    image: Any = None,
    every: int = 2,
) -> go.Figure:
    """Every arm's landmark estimates on one test volume in 3D, next to the truth.

    Each landmark has its colour, each arm its marker; a thin line joins each estimate
    to its true landmark, so the line's length is the error (in mm: the axes are the
    volume's physical extent, d x h x w).

    Args:
        run: a finished ``marl-gdas`` :class:`nasbench.runs.Run` (its
            ``landmark_estimates`` event), or that event's payload (a dict).
        volume: which recorded test volume (the first few test volumes are recorded).
        arms: the arms to draw (default every recorded one: ``start``, ``searched``,
            ``random``, ``hand``, ``regression``).
        plane: also draw the true plane through the first three landmarks (3 or more).
        image: optionally the ``(S, S, S)`` test volume, drawn as three orthogonal
            grey slices through its centre.
        every: keep every ``every``-th voxel of ``image`` along each axis (keeps the
            figure small).

    Returns:
        A plotly figure: one ``Scatter3d`` trace of markers per arm (named after the
        arm), one of lines per arm (``"<arm> error"``), the truth, the plane and slices.

    Example:
        >>> fig = plot_landmark_estimates(nasbench.runs.load("runs/lm"))  # doctest: +SKIP
        >>> [t.name for t in fig.data][:2]  # doctest: +SKIP
        ['truth', 'start']
    """
    if not isinstance(every, int) or every < 1:
        raise ConfigError(f"every must be a positive integer, got {every!r}.")
    payload = run if isinstance(run, dict) else _estimates_payload(run)
    info = _get_landmark_info(payload, volume, arms)
    colors = [LANDMARK_COLORS[k % len(LANDMARK_COLORS)] for k in range(len(info.names))]
    fig = go.Figure()
    if image is not None:
        fig.add_traces(_slices(_volume_array(image), info.spacing, every))
    if plane and len(info.names) >= 3:
        fig.add_trace(_plane_patch(info.truth[:3]))
    t = info.truth
    fig.add_scatter3d(
        x=t[:, 0], y=t[:, 1], z=t[:, 2], mode="markers+text", name="truth",
        text=info.names, textposition="top center",
        marker={"symbol": "diamond-open", "size": 9, "color": colors, "line": {"width": 3}},
        hovertemplate="%{text} (truth)<br>%{x:.1f}, %{y:.1f}, %{z:.1f} mm<extra></extra>",
    )  # fmt: skip
    for arm, found in info.estimates.items():
        labels = [
            f"{arm}: {n}, error {d:.1f} mm"
            for n, d in zip(info.names, info.distances[arm], strict=True)
        ]
        fig.add_scatter3d(
            x=found[:, 0], y=found[:, 1], z=found[:, 2], mode="markers", name=arm,
            legendgroup=arm, text=labels,
            marker={"symbol": ARM_SYMBOLS.get(arm, "x"), "size": 5, "color": colors},
            hovertemplate="%{text}<extra></extra>",
        )  # fmt: skip
        xs, ys, zs = [], [], []
        for k in range(len(info.names)):
            for axis, out in enumerate((xs, ys, zs)):
                out.extend([found[k, axis], t[k, axis], None])
        fig.add_scatter3d(
            x=xs, y=ys, z=zs, mode="lines", name=f"{arm} error", legendgroup=arm,
            showlegend=False, line={"color": "#999", "width": 2}, hoverinfo="skip",
        )  # fmt: skip
    mean = ", ".join(f"{a} {d.mean():.1f}" for a, d in info.distances.items())
    fig.update_layout(
        # the means go on a second line: with five arms one line overruns the figure
        title=f"Landmark estimates on test volume {volume}<br><sup>mean error mm: {mean}</sup>",
        height=520,
        margin={"l": 0, "r": 0, "t": 70, "b": 0},
        scene={
            "xaxis_title": "d (mm)",
            "yaxis_title": "h (mm)",
            "zaxis_title": "w (mm)",
            "aspectmode": "data",
        },
        legend={"title": {"text": "arm (marker); colour: landmark"}},
    )
    return fig


class AgentCurves(NamedTuple):
    """What :func:`plot_agent_rewards` draws: per agent, its rounds and values."""

    rounds: dict[int, np.ndarray]  # agent -> (R,) round, counted from 1
    reward: dict[int, np.ndarray]  # agent -> (R,) mean reward per step
    dist: dict[int, np.ndarray]  # agent -> (R,) distance at the episode's end (voxels)


def _get_agent_curves(run_or_frame: Any) -> AgentCurves:
    from nasbench.viz.alphas import frame_of

    none = (
        "no per-agent metrics (agent<k>_reward, agent<k>_dist_vox) in this run; "
        "pass a marl-gdas run that has finished at least one round."
    )
    frame = frame_of(run_or_frame, "history", ("phase", "name", "value"), none)
    frame = frame[(frame["phase"] == "search") & frame["name"].astype(str).str.match(AGENT_METRIC)]
    if frame.empty:
        raise ConfigError(none)
    rounds, reward, dist = {}, {}, {}
    for name, part in frame.groupby(frame["name"].astype(str), sort=False):
        match = AGENT_METRIC.match(name)
        agent, what = int(match.group(1)), match.group(2)
        part = part.sort_values("epoch")
        # A round is an epoch of the store (indexed from 0): counted from 1, as the search's
        # progress line ("round 1/R"), the timeline and the Dice figures count epochs.
        rounds[agent] = part["epoch"].to_numpy() + 1
        (reward if what == "reward" else dist)[agent] = part["value"].to_numpy(dtype=float)
    return AgentCurves(dict(sorted(rounds.items())), reward, dist)


def plot_agent_rewards(run_or_frame: Any) -> go.Figure:
    """Each agent's mean reward per step and its distance at the episode's end, per round.

    A rising reward and a falling distance mean the agent learnt to walk to its landmark.

    Args:
        run_or_frame: a ``marl-gdas`` :class:`nasbench.runs.Run` or its ``history`` frame
            (search-phase metrics ``agent<k>_reward`` and ``agent<k>_dist_vox``).

    Returns:
        A two-row plotly figure (reward, distance) with one line per agent
        (named ``agent<k>``), x the search round counted from 1 (the store's epoch + 1).

    Example:
        >>> fig = plot_agent_rewards(nasbench.runs.load("runs/lm"))  # doctest: +SKIP
        >>> fig.layout.title.text  # doctest: +SKIP
        'Per-agent reward and distance'
    """
    curves = _get_agent_curves(run_or_frame)
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True,
        subplot_titles=("mean reward per step (distance decrease, voxels)",
                        "distance to the landmark at the episode's end (voxels)"),
    )  # fmt: skip
    for agent, rounds in curves.rounds.items():
        color = LANDMARK_COLORS[agent % len(LANDMARK_COLORS)]
        for row, values in ((1, curves.reward.get(agent)), (2, curves.dist.get(agent))):
            if values is None:
                continue
            fig.add_scatter(
                x=rounds, y=values, mode="lines+markers", name=f"agent{agent}",
                legendgroup=f"agent{agent}", showlegend=row == 1, line={"color": color},
                hovertemplate=f"agent{agent}<br>round %{{x}}<br>%{{y:.4g}}<extra></extra>",
                row=row, col=1,
            )  # fmt: skip
    fig.update_xaxes(title_text="search round", row=2, col=1)
    n_rounds = max((len(r) for r in curves.rounds.values()), default=1)
    fig.update_xaxes(tick0=1, dtick=max(1, -(-n_rounds // 10)))  # whole rounds only
    fig.update_layout(title="Per-agent reward and distance", height=460, hovermode="x")
    return fig
