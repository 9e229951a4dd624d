"""``nasbench report RUN``: one self-contained HTML page about a run.

The page opens with what a reader wants first: the status with the headline validation
metrics, the final genotype drawn as inline SVG, the test table of ``nasbench retrain`` (the
cell trained from scratch next to its baselines) when it ran, collapse warnings and the final
alphas; then
the plotly figures of :mod:`nasbench.viz` (alpha trajectories, animation, genotype timeline,
history, collapse watch; the hyper-parameter policy of a joint search, AutoHAS, when the run
recorded one), the events, and the configuration folded at the end. plotly.js is embedded
once, inline, so the file opens offline and can be mailed or archived as it is. A figure the
run has no data for yet (a run that has just started, a search without eigenvalues) is
replaced by a one-line note, so even an empty run gives a readable page; that page carries no
plotly.js at all. The file is readable by all (0644).

Example:
    >>> write_report("runs/darts-1")  # doctest: +SKIP
    PosixPath('runs/darts-1/report.html')
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import os
import shlex
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from nasbench.errors import ConfigError, NasbenchError
from nasbench.metric_names import best_of
from nasbench.runs.alpha_summary import collapse_warnings
from nasbench.runs.environment import import_options
from nasbench.runs.schema import run_folder, shown_epoch
from nasbench.runs.store import TERMINAL_STATUSES, announced_writer
from nasbench.runs.summary import KILLED, LIVE_STATUSES, retraining, shown_status
from nasbench.tempfiles import remove_stale_temps, temp_prefix
from nasbench.viz.alphas import (
    SCHEDULE_KINDS,
    plot_alpha_animation,
    plot_alpha_heatmap,
    plot_alphas,
)
from nasbench.viz.comparison import plot_best_so_far
from nasbench.viz.history import EIGENVALUE, PARAMETER_FREE, plot_eigenvalues, plot_history
from nasbench.viz.hp_distribution import hp_distribution, plot_hp_distribution
from nasbench.viz.landmarks import AGENT_METRIC, plot_agent_rewards
from nasbench.viz.meta_learning import plot_adaptation, plot_learner_history
from nasbench.viz.pareto import plot_pareto
from nasbench.viz.timeline import plot_genotype_timeline

REPORT_NAME = "report.html"
REPORT_MODE = 0o644
REPORT_SUFFIXES = (".html", ".htm")

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.note { color: #666; font-style: italic; }
.status-finished { color: #117733; } .status-failed { color: #CC3311; }
.status-running { color: #0072B2; } .status-stopped { color: #AA7700; }
.status-killed { color: #CC3311; }
.genotype svg { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
"""


# Where a report path is given: write_report's argument, or report's flag.
WHERE_TO = "(path= in Python, --out on the command line)"


def write_report(run_dir: str | Path, path: str | Path | None = None) -> Path:
    """Write the HTML report of a run, atomically (a temporary file, then ``os.replace``).

    Args:
        run_dir: a run folder (it holds ``run.sqlite``) or a loaded Run; a running search
            may be writing it.
        path: where to write; default ``<run_dir>/report.html``.

    Returns:
        The path of the written file.

    Example:
        >>> write_report("runs/darts-1", "darts-1.html")  # doctest: +SKIP
        PosixPath('darts-1.html')
    """
    from nasbench.runs import load

    run_dir = run_folder(run_dir)  # a loaded Run, or "~/runs/x"; None is a one-line error
    target = Path(path) if path is not None else run_dir / REPORT_NAME
    if target.is_dir():
        raise ConfigError(
            f"report path {target} is a folder; give a file name such as "
            f"{target / REPORT_NAME} {WHERE_TO}."
        )
    _refuse_to_overwrite(target, run_dir)
    run = load(run_dir)
    try:
        text = report_html(run)
    finally:
        run.close()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(target)
        # The pid in its name tells a later write whether the writer still lives.
        handle = tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            dir=target.parent,
            prefix=temp_prefix(target),
            suffix=".tmp",
            delete=False,
        )
    except OSError as err:  # a folder that cannot be made or written: say so in one line
        reason = err.strerror or type(err).__name__
        blocker = next((p for p in target.parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            reason = f"{blocker} is a file, not a folder"
        raise ConfigError(
            f"cannot write the report to {target} ({reason}); give a path in a folder you can "
            f"write {WHERE_TO}."
        ) from None
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # A report is for reading and sharing: rw-r--r-- (a temporary file starts rw-------).
        os.chmod(handle.name, REPORT_MODE)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return target


def _refuse_to_overwrite(target: Path, run_dir: Path) -> None:
    """Refuse a report path that would replace something that is not a report, or that
    names no HTML file.

    ``os.replace`` swaps any file for the report: the run's own database or checkpoint
    (the run would be lost), a device such as ``/dev/null``, or a file of another kind.
    """
    if target.exists() and not target.is_file():
        raise ConfigError(
            f"report path {target} is not a regular file; give an .html file name {WHERE_TO}."
        )
    resolved, run = target.resolve(), run_dir.resolve()
    inside = resolved.parent == run and resolved.name != REPORT_NAME
    if inside and resolved.suffix.lower() not in REPORT_SUFFIXES:
        raise ConfigError(
            f"report path {target} is inside the run folder and would replace its "
            f"{resolved.name}; write to {run_dir / REPORT_NAME} or to an .html file elsewhere."
        )
    if resolved.parent != run and run in resolved.parents:
        raise ConfigError(
            f"report path {target} is inside the run's {resolved.relative_to(run).parts[0]}/ "
            f"folder; write to {run_dir / REPORT_NAME} or to an .html file elsewhere."
        )
    if target.suffix.lower() not in REPORT_SUFFIXES:
        # A report is an HTML page: under another name (last.pt, run.sqlite, notes.txt) it
        # would pass for a file of that kind, or replace one.
        raise ConfigError(
            f"report path {target} does not end in .html or .htm; give an .html file name "
            f"{WHERE_TO}."
        )


def report_html(run: Any) -> str:
    """Build the report page of a loaded run.

    Args:
        run: a :class:`nasbench.runs.Run`.

    Returns:
        The complete HTML document (plotly.js inline once, when there is a figure).

    Example:
        >>> text = report_html(load("runs/darts-1"))  # doctest: +SKIP
    """
    name = Path(run.run_dir).resolve().name
    # What a reader wants first: how it went, what it found, where the alphas ended.
    sections = [_overview(run), _section("Final genotype", _genotype_block(run))]
    candidates = _candidates_block(run)
    if candidates:
        sections.append(_section("Candidates evaluated (best first)", candidates))
    results = _test_results(run.history)
    if results:
        sections.append(_section("Test results of the search", results))
    retrained = _retrain_block(run)
    if retrained:
        sections.append(_section("Retrained from scratch, next to baselines", retrained))
    ranking = _topology_ranking(run)
    if ranking:
        sections.append(_section("Stage 1: topology ranking (C2FNAS)", ranking))
    warnings = collapse_warnings(run)
    if warnings:
        sections.append(_section("Warnings", "\n".join(_note(w) for w in warnings)))
    figures = 0
    for title, blocks in _figure_sections(run):
        parts = []
        for block in blocks:
            if isinstance(block, go.Figure):
                parts.append(_figure_div(block, f"figure-{figures}"))
                figures += 1
            else:
                parts.append(_note(block))
        sections.append(_section(title, "\n".join(parts)))
    sections.append(_section("Run history", _status_table(run)))
    sections.append(_section("Events", _events_table(run)))
    sections.append(
        "<section>\n<details>\n<summary><h2 style='display:inline'>Configuration</h2></summary>\n"
        f"{_config_table(run.config)}\n</details>\n</section>"
    )
    script = f'<script type="text/javascript">{get_plotlyjs()}</script>' if figures else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>nasbench report: {html.escape(name)}</title>\n<style>{_STYLE}</style>\n"
        f"{script}\n</head>\n<body>\n<h1>nasbench report: {html.escape(name)}</h1>\n"
        + "\n".join(sections)
        + f'\n<p class="note">Written {dt.datetime.now().isoformat(timespec="seconds")} '
        "by nasbench.viz.report.</p>\n</body>\n</html>\n"
    )


# ------------------------------------------------------------------------ figures
def _figure_sections(run: Any) -> Iterator[tuple[str, list[go.Figure | str]]]:
    alphas = run.alphas
    if alphas.empty and _done(run.candidates) is not None:
        # A discrete search: candidates and their scores, no alphas ever.
        yield "Best score so far", [_try(plot_best_so_far, [run])]
        objectives = _objectives(run)
        if len(objectives) >= 2:  # a multi-objective search (NSGA-II): its front, not a best
            (y, y_sense), (x, x_sense) = objectives[:2]
            yield "Pareto front", [_try(plot_pareto, run, x=x, y=y, minimize_x=x_sense == "min",
                                        maximize_y=y_sense == "max")]  # fmt: skip
        history = run.history
        if not history.empty and history["phase"].isin(("train", "val", "test")).any():
            yield "Training history", [_try(plot_history, run)]
        yield from _policy_section(run)
        return
    cells = [str(c) for c in dict.fromkeys(alphas["cell_type"])] if not alphas.empty else []
    alpha_cells = [
        c
        for c in cells
        if not alphas[(alphas["cell_type"] == c) & (alphas["kind"] == "alpha")].empty
    ]
    if not alpha_cells:
        alpha_cells = [None]  # gives the plots' own "no alpha snapshots yet" note
    yield (
        "Final alphas (last snapshot)",
        [_try(plot_alpha_heatmap, run, cell_type=c) for c in alpha_cells],
    )
    yield "Alpha trajectories", [_try(plot_alphas, run, cell_type=c) for c in alpha_cells]
    kinds = [str(k) for k in dict.fromkeys(alphas["kind"]) if str(k) != "alpha"] if cells else []
    for kind in kinds:
        kind_cells = [
            c
            for c in cells
            if not alphas[(alphas["cell_type"] == c) & (alphas["kind"] == kind)].empty
        ]
        heading = f"{kind.capitalize()} trajectories"
        if kind in SCHEDULE_KINDS:
            heading = f"Temperature ({kind})"
        yield heading, [_try(plot_alphas, run, cell_type=c, kind=kind) for c in kind_cells]
    yield "Alpha animation", [_try(plot_alpha_animation, run, cell_type=c) for c in alpha_cells]
    if _last_genotype_kind(run) in TIMELINE_KINDS:
        yield "Genotype timeline", [_try(plot_genotype_timeline, run)]
    if _strategy(run) == "metanas":
        # Its three learners log under their own prefixes (metanas_, reptile_, ...).
        yield "Meta-training history", [_try(plot_learner_history, run)]
        yield "Adaptation to new tasks", [_try(plot_adaptation, run)]
    else:
        yield from _history_sections(run)
    history = run.history
    if not history.empty and (history["name"] == EIGENVALUE).any():
        yield "Collapse watch", [_try(plot_eigenvalues, run)]
    yield from _policy_section(run)


def _history_sections(run: Any) -> Iterator[tuple[str, list[go.Figure | str]]]:
    """The curves of the phases the run logged: training (train, val, test), and a
    localisation search's per-round ``search`` metrics with its agents' own figure."""
    history = run.history
    phases = set(history["phase"].astype(str)) if not history.empty else set()
    search = history[history["phase"] == "search"] if "search" in phases else history.iloc[0:0]
    names = [str(n) for n in dict.fromkeys(search["name"]) if pd.notna(n)]
    agents = [n for n in names if AGENT_METRIC.match(n)]
    curves = [n for n in names if not AGENT_METRIC.match(n)]
    # A localisation search logs no train/val rows (its test rows are the arms' results,
    # tabled above): a "Training history" would only say it has none.
    if not curves or phases & {"train", "val"}:
        figure = _try(plot_history, run)
        pretext = _pretext_task(run)
        if pretext is not None and isinstance(figure, go.Figure):
            figure = _pretext_labels(figure, pretext[0])
        yield "Training history", [figure]
    if curves:
        yield "Search history", [_try(plot_history, run, metrics=curves, phases=("search",))]
    if agents:
        yield "Per-agent reward and distance", [_try(plot_agent_rewards, run)]


def _policy_section(run: Any) -> Iterator[tuple[str, list[go.Figure | str]]]:
    policy = hp_distribution(run)
    if not policy.empty:  # a joint architecture + hyper-parameter search (AutoHAS)
        yield "Hyper-parameter policy", [plot_hp_distribution(policy)]


# Phases in which a search (not a retrain) records test scores: a localisation search's
# arms (``test``) and METANAS's meta-test summary (``test_summary``).
SEARCH_TEST_PHASES = ("test", "test_summary")


# Genotypes whose edges a timeline can follow (viz.timeline): DARTS and NB201 cells.
TIMELINE_KINDS = ("darts", "nb201", None)


def _strategy(run: Any) -> str | None:
    """The run's strategy name from its configuration; None when it has none."""
    config = getattr(run, "config", None)
    strategy = config.get("strategy") if isinstance(config, Mapping) else None
    return strategy if isinstance(strategy, str) else None


def _last_genotype_kind(run: Any) -> str | None:
    """The kind of the run's last derived genotype; None when it has none (the timeline
    then says so itself)."""
    genotypes = run.genotypes
    if genotypes.empty:
        return None
    return getattr(genotypes.iloc[-1]["genotype"], "kind", None)


def _try(plot: Callable[..., go.Figure], run: Any, **options: Any) -> go.Figure | str:
    # A figure without data is a note on the page, not a failed report; so is a figure
    # that fails on rows it did not expect (a store edited by hand): the rest still reads.
    try:
        return plot(run, **options)
    except NasbenchError as err:
        return str(err)
    except Exception as err:  # noqa: BLE001 - one figure must not take the report with it
        return f"this figure could not be drawn ({type(err).__name__}: {err})."


def _figure_div(fig: go.Figure, div_id: str) -> str:
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        auto_play=False,
        config={"responsive": True, "displaylogo": False},
    )


# ------------------------------------------------------------------------ text parts
def _section(title: str, body: str) -> str:
    return f"<section>\n<h2>{html.escape(title)}</h2>\n{body}\n</section>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _overview(run: Any) -> str:
    alive, starting = run.writer_alive(), announced_writer(run.run_dir)
    if run.status in LIVE_STATUSES and alive is False:
        # Read before the probe, the status may be the running of a search that has ended
        # since; its writer stored its last status before letting go: read that one.
        with contextlib.suppress(NasbenchError):  # a closed Run keeps what it read
            run.refresh()
    # A resume or retrain announced but not yet writing reads as resuming or retraining.
    retrain = bool(alive) and starting is None and retraining(run.run_dir)
    status = shown_status(run.status, alive, retrain, starting)
    progress = run.progress
    killed = status == KILLED
    rows = [("status", f'<b class="status-{html.escape(status)}">{html.escape(status)}</b>')]
    if killed:
        why = (
            "no process writes this run: it was killed (a kill, the out-of-memory killer, "
            "a restart)"
        )
        rows.append(("note", _resume_note(run, why)))
    elif status == "stopped":
        rows.append(("note", _resume_note(run, "the search was stopped before its end")))
    if run.message:
        rows.append(("message", html.escape(run.message)))
    config = run.config
    for key in ("strategy", "dataset", "space"):
        if key in config:
            rows.append((key, html.escape(_short(config[key]))))
    done = _done(run.candidates) if run.alphas.empty else None
    failed = _failed(run.candidates) if run.alphas.empty else run.candidates.iloc[:0]
    if done is not None or len(failed):  # a discrete search counts evaluations, not steps
        total = progress.get("total_steps")
        # A failed (diverged) candidate spent an evaluation of the budget too.
        evaluated = (0 if done is None else len(done)) + len(failed)
        rows.append(("evaluations", f"{evaluated}" + (f" of {total}" if total else "")))
        if done is not None:
            best = done.iloc[0]
            rows.append(("best score", f"<b>{float(best['metrics.score']):.4g}</b> (candidate "
                                       f"{html.escape(str(best['candidate_id']))})"))  # fmt: skip
    elif progress.get("step"):
        total = progress.get("total_steps")
        rows.append(("step", f"{progress['step']}" + (f" of {total}" if total else "")))
        epochs = progress.get("total_epochs")
        # Numbered from 1, as the monitor numbers them.
        shown = min(progress["epoch"] + 1, epochs) if epochs else progress["epoch"] + 1
        rows.append(("epoch", f"{shown}" + (f" of {epochs}" if epochs else "")))
    created = getattr(run, "created", float("nan"))
    if created == created:  # not NaN
        when = dt.datetime.fromtimestamp(created).isoformat(timespec="seconds")
        rows.append(("created", when))
    rows.extend(_headline_metrics(run.history))
    rows.append(("run folder", html.escape(str(run.run_dir))))
    body = "\n".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    pretext = _pretext_task(run)
    note = "" if pretext is None else "\n" + _note(_pretext_note(*pretext))
    return _section("Run", f"<table>\n{body}\n</table>{note}")


def _resume_note(run: Any, why: str) -> str:
    """``why`` a run ended early, then the command that continues it (HTML), or why no
    command can (a strategy whose state no checkpoint holds, as its search recorded)."""
    events = run.events
    # The kind is engine.run_setup.NOT_RESUMABLE; run_setup loads torch, which a report skips.
    refusals = events[events["kind"] == "not_resumable"] if not events.empty else events
    payload = refusals["payload"].iloc[-1] if not refusals.empty else None
    refused = payload.get("message") if isinstance(payload, dict) else None
    if isinstance(refused, str) and refused:
        return html.escape(f"{why}; {refused}.")
    # The --import options of the modules it needs, as `nasbench stop` and `runs` say it.
    words = ["nasbench", *import_options(run.environment), "resume", str(run.run_dir)]
    command = html.escape(" ".join(shlex.quote(word) for word in words))
    return f"{html.escape(why)}; continue it with <code>{command}</code>"


def _pretext_task(run: Any) -> tuple[str, Mapping[str, Any]] | None:
    """The pretext task an UnNAS run searched on, with its settings; None for other runs."""
    if _strategy(run) != "unnas":
        return None
    from nasbench.strategies.selfsupervised.unnas import UnnasConfig

    settings = run.config.get("strategy_config")
    settings = settings if isinstance(settings, Mapping) else {}
    return str(settings.get("pretext", UnnasConfig.pretext)), settings


def _pretext_note(pretext: str, settings: Mapping[str, Any]) -> str:
    """What an UnNAS run's metrics measure: the pretext task's, not the labelled task's."""
    from nasbench.data.pretext import ROTATIONS
    from nasbench.strategies.selfsupervised.unnas import UnnasConfig

    n = {"rotation": ROTATIONS}.get(pretext)
    if pretext == "jigsaw":
        n = int(settings.get("jigsaw_permutations", UnnasConfig.jigsaw_permutations))
    task = f"{n} classes, chance accuracy {1 / n:.4g}" if n else "a regression"
    return (
        f"UnNAS searched without labels: its losses and scores are the {pretext} pretext "
        f"task's ({task}), not the labelled task's."
    )


def _pretext_labels(fig: go.Figure, pretext: str) -> go.Figure:
    """Name the pretext task in a history figure's title and its panels' titles."""
    fig.update_layout(title=f"Training history on the {pretext} pretext task (no labels)")
    for annotation in fig.layout.annotations:  # the subplot titles: one per metric
        if annotation.text != PARAMETER_FREE:  # a count of the cell's ops, not a score
            annotation.text = f"{annotation.text} ({pretext} pretext)"
    return fig


def _test_results(history: pd.DataFrame) -> str:
    """The scores a search itself records on its test data (a localisation search's arms,
    METANAS's meta-test summary): the last value of each, one row per metric."""
    if history.empty:
        return ""
    rows = history[history["phase"].isin(SEARCH_TEST_PHASES) & history["value"].notna()]
    # Per-episode rows (METANAS's phase "test") are summarised by test_summary instead:
    # a name recorded once is a result, one recorded per episode is not.
    once = rows.groupby(["phase", "name"])["value"].transform("size") == 1
    rows = rows[(rows["phase"] != "test") | once]
    if rows.empty:
        return ""
    last = rows.sort_values("step").groupby("name", sort=False)["value"].last()
    body = "\n".join(
        f"<tr><th>{html.escape(str(name))}</th><td>{_number(value)}</td></tr>"
        for name, value in last.items()
    )
    return f"<table>\n{body}\n</table>"


# Words of the metrics that measure the machine's run, not the cell (peak_memory_mb,
# epoch wall seconds): the lowest of them is no "best".
MEASURED_WORDS = frozenset({"memory", "mb", "wall", "seconds"})


def _headline_metrics(history: pd.DataFrame) -> list[tuple[str, str]]:
    """Last and best value of each validation metric (best: the lowest of a loss, NMSE,
    HD95, distance...; no best where the name does not say which way is better, nor for
    memory and time, which measure the run, not the cell)."""
    rows = []
    if history.empty:
        return rows
    val = history[(history["phase"] == "val") & history["value"].notna()]
    for name, part in val.groupby("name", sort=False):
        values = part.sort_values("step")["value"]
        measured = MEASURED_WORDS & set(str(name).lower().split("_"))
        best = None if measured else best_of(str(name), values.tolist())
        shown = f"<b>{values.iloc[-1]:.4g}</b>"
        rows.append(
            (html.escape(str(name)), shown + ("" if best is None else f" (best {best:.4g})"))
        )
    return rows


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, Mapping):
        text = str(value.get("name") or text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _config_table(config: Mapping[str, Any]) -> str:
    rows = list(_flatten(config))
    if not rows:
        return _note("this run stored no configuration.")
    body = "\n".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(_short(value))}</td></tr>"
        for key, value in rows
    )
    return f"<table>\n{body}\n</table>"


def _genotype_block(run: Any) -> str:
    genotypes = run.genotypes
    if genotypes.empty:
        ended = run.status in TERMINAL_STATUSES or (
            run.status in LIVE_STATUSES and run.writer_alive() is False  # killed
        )
        state = (
            "derived no genotype: its search ended before it derived one"
            if ended
            else "has no derived genotype yet"
        )
        return _note(
            f"this run {state}; a differentiable search logs one per epoch, a discrete "
            "search its best candidate when it ends."
        )
    from nasbench.runs.returned import returned_genotype_row

    last = returned_genotype_row(genotypes, run.events)
    genotype = last["genotype"]
    caption = f"Derived after epoch {int(last['epoch']) + 1}, step {int(last['step'])}."
    if run.alphas.empty and _done(run.candidates) is not None:
        caption = f"The best candidate after {int(last['step'])} evaluations."
    elif last.name != genotypes.index[-1]:
        final = genotypes.iloc[-1]
        caption += (
            f" The search stopped early after epoch {int(final['epoch']) + 1} and returned "
            "this cell, derived before the collapse its stopping rule detected."
        )
    if genotype is None:
        return _note(caption + " Its stored form could not be parsed:") + (
            f"<pre>{html.escape(str(last['genotype_json']))}</pre>"
        )
    text = genotype.to_darts_text() if hasattr(genotype, "to_darts_text") else genotype.to_json()
    try:
        from nasbench.viz import render

        svg = render(_drawing(genotype, run.config), "svg").decode("utf-8")
        drawing = f'<div class="genotype">{svg[svg.find("<svg") :]}</div>'
    except NasbenchError as err:
        drawing = _note(f"drawing unavailable: {err}")
    return f"<p>{html.escape(caption)}</p>\n{drawing}\n<pre>{html.escape(text)}</pre>"


def _drawing(genotype: Any, config: Mapping[str, Any]) -> Any:
    """The genotype's drawing; a reconstruction network with the run's own cascades."""
    from nasbench.viz.genotype_graph import draw_run_genotype, run_skeleton

    return draw_run_genotype(genotype, run_skeleton(config))


def _status_table(run: Any) -> str:
    """Every status change: when the search started, stopped, was resumed, failed, ended."""
    history = run.status_history
    if history.empty:
        return _note("no status recorded.")
    rows, started = [], False
    for _, row in history.iterrows():
        status = str(row["status"])
        # Every "running" after the first is a resume (after a stop, a failure or a kill,
        # which leaves no status of its own); the pid says which process went on.
        label = "running (resumed)" if status == "running" and started else status
        started = started or status == "running"
        when = dt.datetime.fromtimestamp(float(row["time"])).isoformat(sep=" ", timespec="seconds")
        cells = (when, label, row["message"], row["pid"])
        rows.append("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in cells) + "</tr>")
    return (
        "<table>\n<tr><th>time</th><th>status</th><th>message</th><th>process</th></tr>\n"
        + "\n".join(rows)
        + "\n</table>"
    )


def _topology_ranking(run: Any) -> str:
    """A two-stage search's first stage (C2FNAS): its topologies, best first, with their
    proxy scores; empty for every other run. Stage 2's alphas are the usual alpha figures."""
    events = run.events
    rows = events[events.kind == "c2fnas_topologies"] if not events.empty else events
    if rows.empty:
        return ""
    payload = rows.iloc[-1]["payload"]
    candidates = payload.get("candidates", [])
    scores = sorted({k for c in candidates for k in c if k.startswith("val_")})
    head = ["rank", "topology (level per cell)", *scores, "params", "seconds"]
    lines = []
    for c in candidates:
        rank = c.get("rank")  # stored from 0; the page counts from 1
        shown = _number(rank + 1 if isinstance(rank, (int, float)) else rank)
        cells = [shown, "-".join(map(str, c.get("topology", [])))]
        cells += [_number(c.get(k)) for k in (*scores, "params", "seconds")]
        lines.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in cells) + "</tr>")
    body = "\n".join(lines)
    chosen = "-".join(map(str, payload.get("topology", [])))
    requested = payload.get("requested")
    fewer = ""
    if isinstance(requested, int) and requested > len(candidates):
        # The space had fewer U-shaped topologies than asked: say so, or the table looks cut.
        fewer = (
            f" The space has only {len(candidates)} U-shaped topolog"
            f"{'y' if len(candidates) == 1 else 'ies'}, so all were scored "
            f"({requested} candidates were asked for)."
        )
    return (
        f"<p>Stage 2 searched the convs of topology <b>{html.escape(chosen)}</b>, the lowest "
        f"validation loss after the proxy training.{fewer}</p>\n<table>\n<tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + f"</tr>\n{body}\n</table>"
    )


def _objectives(run: Any) -> list[tuple[str, str]]:
    """``(name, "max" | "min")`` of the objectives a discrete search optimised, as its
    start event records them; [] for one objective or a run that records none."""
    events = run.events
    if events.empty:
        return []
    started = events[events["kind"].isin(("discrete_search_started", "discrete_search_resumed"))]
    for payload in reversed(started["payload"].tolist()):
        specs = payload.get("objectives") if isinstance(payload, dict) else None
        if isinstance(specs, list) and all(isinstance(s, str) for s in specs):
            return [tuple(s.rsplit(":", 1)) for s in specs if ":" in s]  # type: ignore[misc]
    return []


def _done(candidates: pd.DataFrame) -> pd.DataFrame | None:
    """The evaluated candidates with a score, best first; None when there are none."""
    if candidates.empty or "metrics.score" not in candidates.columns:
        return None
    done = candidates[(candidates["status"] == "done") & candidates["metrics.score"].notna()]
    if done.empty:
        return None
    return done.sort_values("metrics.score", ascending=False, kind="stable")


def _candidates_block(run: Any, shown: int = 10) -> str:
    """A discrete search's best candidates: score, the evaluator's other metrics, cost and
    genotype, then the candidates that failed and why; empty for a run without evaluated
    candidates."""
    candidates = run.candidates
    done = _done(candidates)
    failed = _failed(candidates)
    if done is None and failed.empty:
        return ""
    evaluated = (0 if done is None else len(done)) + len(failed)
    caption = f"{evaluated} candidates evaluated"
    caption += f", {len(failed)} failed" if len(failed) else ""
    blocks = []
    if done is None:  # every candidate evaluated so far failed: no score to rank by
        blocks.append(_note(f"{caption}; none trained, so there is no best yet."))
    else:
        metrics = [c for c in done.columns if c.startswith("metrics.") and c != "metrics.score"]
        costs = [c for c in ("cost.params", "cost.epochs", "cost.wall_s") if c in done.columns]
        head = ["rank", "candidate", "score", *(c.split(".", 1)[1] for c in metrics + costs)]
        head.append("genotype")
        rows = []
        for rank, (_, row) in enumerate(done.head(shown).iterrows(), start=1):
            cells = [str(rank), str(row["candidate_id"]), _number(float(row["metrics.score"]))]
            cells += [_number(_plain(row[c])) for c in metrics + costs]
            rows.append([*cells, _short(row["genotype_json"], 160)])
        caption += f"; the best {min(shown, len(done))} by score (higher is better)."
        blocks.append(_table(caption, head, rows))
    if len(failed):
        rows = [
            [str(row["candidate_id"]), _short(str(row["info"].get("diverged", "")), 240),
             _short(row["genotype_json"], 160)]
            for _, row in failed.head(shown).iterrows()
        ]  # fmt: skip
        more = f" (the first {shown})" if len(failed) > shown else ""
        blocks.append(_table(f"Failed candidates{more}: their evaluation diverged.",
                             ["candidate", "why", "genotype"], rows))  # fmt: skip
    return "\n".join(blocks)


def _failed(candidates: pd.DataFrame) -> pd.DataFrame:
    """The candidates whose evaluation failed (a diverged training), in the order run."""
    if candidates.empty or "status" not in candidates.columns:
        return candidates.iloc[:0]
    return candidates[candidates["status"] == "failed"]


def _plain(value: Any) -> Any:
    """A frame cell as a plain number (numpy scalars, NaN as None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return float(value) if isinstance(value, (int, float)) or hasattr(value, "item") else value


def _retrain_block(run: Any) -> str:
    """The latest ``nasbench retrain`` of the searched cell, and a later one of a given
    genotype: each model's test metrics, size and cost next to its baselines; empty when
    none ran."""
    events = run.events
    done = events[events.kind == "retrain_finished"] if not events.empty else events
    failed = _latest_retrain_failed(events)
    if done.empty:
        return _note(f"The retrain did not finish ({failed}); no retrain has.") if failed else ""
    payloads = list(done["payload"])
    searched = [p for p in payloads if _retrained_source(p, run) == "searched"]
    blocks = []
    if failed:
        blocks.append(
            _note(
                f"The latest retrain did not finish ({failed}); the tables below are of the "
                "last one that did."
            )
        )
    if searched:
        table = _retrain_table(searched[-1], "searched cell", len(searched), run)
        blocks.append(_not_returned_note(searched[-1], run) + table)
    if _retrained_source(payloads[-1], run) == "given":
        given = [p for p in payloads if _retrained_source(p, run) == "given"]
        table = _retrain_table(payloads[-1], "given genotype", len(given), run)
        note = _note(
            "The last retrain trained a genotype given to it (retrain(genotype=...) or "
            "--genotype), not the cell this search returned; the training curves below "
            "are its curves."
        )
        blocks.append(note + "\n" + table)
    return "\n".join(blocks)


def _latest_retrain_failed(events: pd.DataFrame) -> str | None:
    """Why the latest retrain ended without finishing (its ``retrain_failed`` event), or
    None when it finished, runs now, or none ran."""
    if events.empty:
        return None
    ends = events[events.kind.isin(["retrain_finished", "retrain_failed"])]
    if ends.empty or ends["kind"].iloc[-1] != "retrain_failed":
        return None
    payload = ends["payload"].iloc[-1]
    error = payload.get("error") if isinstance(payload, dict) else None
    return str(error or "no reason recorded")


def _not_returned_note(payload: dict, run: Any) -> str:
    """A note when the searched cell a retrain trained is not the one the search returns
    now (it was retrained while the search was stopped, and the search went on since);
    nothing when they are the same or either is unknown. Retrains recorded before
    ``genotype_source`` are left alone: they trained the last row, which an early stop
    need not return, and :func:`_retrained_source` tells those apart already."""
    from nasbench.runs.returned import returned_genotype_row

    returned = returned_genotype_row(run.genotypes, run.events)
    recorded = payload.get("genotype_source") == "searched"
    if returned is None or not recorded or not isinstance(payload.get("genotype"), dict):
        return ""
    try:
        same = payload["genotype"] == json.loads(str(returned["genotype_json"]))
    except ValueError:
        return ""  # an unreadable record cannot tell
    if same:
        return ""
    return (
        _note(
            "The retrained cell is not the cell this search returns (the search changed its "
            "answer after this retrain, e.g. it was resumed), so these figures are not the "
            "returned cell's; retrain the run again for them."
        )
        + "\n"
    )


def _retrained_source(payload: dict, run: Any) -> str:
    """``"searched"`` or ``"given"``: recorded since retrains say so; for older ones,
    whether the retrained genotype is the one the search returned."""
    if payload.get("genotype_source") in ("searched", "given"):
        return payload["genotype_source"]
    if "genotype" not in payload:
        return "searched"  # nothing to tell it by; retrains train the searched cell unless told
    from nasbench.runs.returned import returned_genotype_row

    genotypes = run.genotypes
    returned = returned_genotype_row(genotypes, run.events)
    if returned is None:
        return "given"
    # Retrains before then trained the last row even where an early stop returned an
    # earlier one: either is the search's cell.
    candidates = [returned["genotype_json"], genotypes.iloc[-1]["genotype_json"]]
    try:
        recorded = [json.loads(str(text)) for text in candidates]
    except ValueError:
        return "searched"  # an unreadable record cannot tell; keep the older label
    return "searched" if payload.get("genotype") in recorded else "given"


def _retrain_table(payload: dict, label: str, times: int, run: Any) -> str:
    """One retrain's table: a row per model, the retrained network labelled ``label``,
    captioned with its recipe, and a note when it read other data than the search."""
    models = payload.get("models") or {}
    metrics = list(dict.fromkeys(k for m in models.values() for k in (m.get("test") or {})))
    head = ["model", *(f"test {k}" for k in metrics), "params", "MACs", "epochs (best)", "s"]
    rows = []
    for name, model in models.items():
        test = model.get("test") or {}
        best = model.get("best_epoch")
        trained = isinstance(model.get("epochs_run"), (int, float)) and model["epochs_run"] > 0
        kept = isinstance(best, (int, float)) and best == best and trained
        epochs = f"{_number(model.get('epochs_run'))}" + (f" ({int(best) + 1})" if kept else "")
        cells = [label if name == "searched" else name, *(_number(test.get(k)) for k in metrics)]
        cells += [_number(model.get("params")), _number(model.get("macs")), epochs]
        rows.append([*cells, _number(model.get("wall_s"))])
    train = payload.get("train_config") or {}
    recipe = ", ".join(_recipe(train, payload.get("skeleton") or {}, run.config))
    caption = (
        f"The {label} trained from scratch on {payload.get('dataset', 'the run dataset')} "
        f"({recipe}); {_tested_on(train, payload.get('splits') or {})} of the epoch chosen "
        "on validation."
    )
    if times > 1:
        caption += f" The {label} was retrained {times} times; the last is shown."
    return _data_note(payload, run) + _table(caption, head, rows)


# Recipe fields every caption names; the others only where they differ from the default.
_RECIPE_ALWAYS = ("epochs", "batch_size", "lr", "limit", "seed")
# Where it ran, not how it trained: no part of the recipe a reader compares.
_NOT_RECIPE = ("device", "eval_batch_size", "test_limit")


def _recipe(train: Mapping[str, Any], skeleton: Mapping[str, Any], config: Mapping) -> list[str]:
    """The retrain's recipe as ``name value`` parts: the usual few, every other setting
    that differs from ``TrainConfig``'s default, and the network's size where it is not
    the searched one (--cells, --channels, --max-params)."""
    from nasbench.evaluation.train_loop import TrainConfig

    defaults = TrainConfig().to_dict()
    parts = [f"{k} {train[k]}" for k in _RECIPE_ALWAYS if k in train]
    parts += [
        f"{k} {value}"
        for k, value in train.items()
        if k not in (*_RECIPE_ALWAYS, *_NOT_RECIPE) and k in defaults and value != defaults[k]
    ]
    searched = _searched_sizes(config)
    for key, name in (("n_cells", "cells"), ("channels", "channels"), ("depth", "depth")):
        if key in skeleton and key in searched and skeleton[key] != searched[key]:
            parts.append(f"{name} {skeleton[key]} (searched {searched[key]})")
    return parts


def _searched_sizes(config: Mapping[str, Any]) -> dict[str, Any]:
    """The searched network's cells, channels or depth (empty when the space cannot say)."""
    from nasbench.spaces import space_from_dict

    try:
        skeleton = space_from_dict(config.get("space") or {"name": "darts"}).default_skeleton()
        return skeleton.to_dict()
    except (NasbenchError, AttributeError, TypeError, ValueError):
        return {}


def _tested_on(train: Mapping[str, Any], splits: Mapping[str, Any]) -> str:
    """What the test figures cover: the whole test split, or the --test-limit subset."""
    limit = train.get("test_limit")
    if limit is None:
        return "test-split metrics"
    tested = splits.get("test")
    if tested is None:  # recorded before retrains kept their split sizes
        return f"test metrics on at most {limit} test images (test_limit {limit})"
    if int(tested) < int(limit):  # the limit took the whole split
        return "test-split metrics"
    return f"test metrics on {tested} test images (test_limit {limit}, not the whole split)"


def _data_note(payload: Mapping[str, Any], run: Any) -> str:
    """A note when the retrain read other files than the search recorded (its fingerprint,
    :mod:`nasbench.data.fingerprint`); nothing when either recorded none."""
    from nasbench.data.fingerprint import DATA_FINGERPRINT

    searched = (run.environment or {}).get(DATA_FINGERPRINT)
    if searched is None or DATA_FINGERPRINT not in payload:
        return ""
    if payload[DATA_FINGERPRINT] == searched:
        return ""
    return (
        _note(
            f"This retrain read other data than the search: the files of "
            f"{payload.get('dataset', 'the dataset')} changed (replaced, added or removed) "
            "after the search ran, so these are the cell's figures on other data, not the "
            "searched cell's on the data it was searched on."
        )
        + "\n"
    )


def _table(caption: str, head: list[str], rows: list[list[str]]) -> str:
    """A captioned HTML table of text cells (escaped here)."""
    lines = ["<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in rows]
    return (
        f"<p>{html.escape(caption)}</p>\n<table>\n<tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + "</tr>\n"
        + "\n".join(lines)
        + "\n</table>"
    )


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _events_table(run: Any) -> str:
    events = run.events
    if events.empty:
        return _note("no events logged.")
    body = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(_cell(v))}</td>"
            for v in (row["kind"], shown_epoch(row["epoch"]), row["step"], row["payload"])
        )
        + "</tr>"
        for _, row in events.tail(200).iterrows()
    )
    return (
        _note("Epochs count from 1; the details are the stored payloads, whose epoch fields "
              "are the run store's indices (from 0).")
        + "\n<table>\n<tr><th>event</th><th>epoch</th><th>step</th><th>details</th></tr>\n"
        f"{body}\n</table>"
    )  # fmt: skip


def _cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _short(value, 300)
    return "" if pd.isna(value) else str(value)
