"""The search-side subcommands of the CLI: search, resume, stop, report, runs, quickstart.

Each is a pair ``configure(parser)`` / ``run(args) -> exit status`` that
``nasbench.cli`` registers; the work itself is one call into the engine, so the
CLI, the widgets (which start ``python -m nasbench search`` as a subprocess) and
the tests run the same code.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sqlite3
import time
from pathlib import Path
from typing import Any

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import ConfigError, NasbenchError
from nasbench.runs.summary import END_REASONS

QUICKSTART_RUN_DIR = "runs/quickstart"


def recorded_environment(run_dir: str | Path) -> dict[str, Any]:
    """A run's recorded environment, read without pandas or torch; ``{}`` when there is
    none to read (no run, a damaged store): it only adds options to a printed command.

    Example:
        >>> recorded_environment("runs/nowhere")
        {}
    """
    try:
        row = _first_row(run_dir, "SELECT value FROM meta WHERE key = 'environment'")
        environment = json.loads(row[0]) if row else {}
    except (NasbenchError, sqlite3.Error, OSError, ValueError, TypeError):
        return {}
    return environment if isinstance(environment, dict) else {}


def _first_row(run_dir: str | Path, query: str) -> tuple[Any, ...] | None:
    """The first row ``query`` reads from a run's store, opened read-only (no pandas)."""
    from nasbench.runs.store import open_read_only, require_run

    conn = open_read_only(require_run(run_dir))
    try:
        return conn.execute(query).fetchone()
    finally:
        conn.close()


def resume_refused(run_dir: str | Path) -> str:
    """Why a run cannot be continued after a stop, as the search recorded it when it
    started (:func:`nasbench.engine.run_setup.resume_refusal`); ``""`` when it can, or
    when there is no record to read. Read without torch, for ``nasbench stop``.

    Example:
        >>> resume_refused("runs/nowhere")
        ''
    """
    query = "SELECT payload FROM events WHERE kind = 'not_resumable' ORDER BY id DESC LIMIT 1"
    try:  # the kind is run_setup.NOT_RESUMABLE; run_setup loads torch, which `stop` skips
        row = _first_row(run_dir, query)
        message = json.loads(row[0]).get("message") if row else ""
    except (NasbenchError, sqlite3.Error, OSError, ValueError, TypeError, AttributeError):
        return ""
    return message if isinstance(message, str) else ""


def run_command(command: str, run_dir: str | Path) -> str:
    """The shell command that runs ``nasbench <command> <run_dir>`` for a run, with the
    ``--import`` options of the user modules it recorded.

    Args:
        command: ``"resume"`` or ``"retrain"``.
        run_dir: the run folder.

    Returns:
        E.g. ``nasbench --import myext resume runs/walk``.

    Example:
        >>> run_command("resume", "runs/my run")
        "nasbench resume 'runs/my run'"
    """
    from nasbench.runs.environment import import_options  # no torch: `stop`, `runs` skip it

    options = import_options(recorded_environment(run_dir))
    words = ["nasbench", *options, command, str(run_dir)]
    return " ".join(shlex.quote(word) for word in words)


def quickstart_config(seed: int = 0) -> SearchConfig:
    """The README's main job: a short first-order DARTS search on the offline default.

    Five cells of four nodes, eight channels, 256 synthetic images (128 per half),
    three epochs: 24 steps, about 35 s on 2 idle CPU cores (about 1 s a step; two
    minutes when other jobs share the cores).
    Twenty-four steps at the paper's architecture learning rate (3e-4) barely move
    the alphas, so the quickstart uses ten times that: the trajectories it shows
    are the real dynamics, sped up.
    """
    return SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=256, batch_size=16),
        space={"name": "darts", "n_nodes": 4, "skeleton": {"n_cells": 5, "channels": 8}},
        strategy="darts",
        strategy_config={"arch_lr": 3e-3},
        epochs=3,
        seed=seed,
    )


def configure_search(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nasbench search``."""
    from nasbench.options import add_no_download_flag

    parser.add_argument(
        "--config",
        help="a SearchConfig JSON file (README: 'A search config'); without one, "
        "SearchConfig's documented defaults (the synthetic set, whole, DARTS, 2 epochs), "
        "not the quickstart's shortened settings",
    )
    parser.add_argument("--run-dir", required=True, help="folder for the run store (new)")
    parser.add_argument("--dataset", help="override dataset.name")
    parser.add_argument("--strategy", help="override the strategy (darts, gdas, pcdarts, ...)")
    parser.add_argument("--epochs", type=int, help="override epochs")
    parser.add_argument("--limit", type=int, help="override dataset.limit (images searched)")
    parser.add_argument("--root", help="override dataset.root (data folder)")
    parser.add_argument("--seed", type=int, help="override the seed")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override the device")
    parser.add_argument(
        "--max-seconds",
        type=float,
        help="wall-time budget; a differentiable search runs fewer epochs or steps to fit it",
    )
    add_no_download_flag(parser)
    parser.add_argument(
        "--estimate",
        action="store_true",
        help="print the time (from a 2-step probe) and memory a differentiable search "
        "will need, then exit without creating the run folder",
    )
    parser.add_argument("--report", action="store_true", help="write report.html at the end")


def config_from_args(args: argparse.Namespace) -> SearchConfig:
    """The config file (or ``SearchConfig()``'s defaults) with the command-line overrides."""
    config = SearchConfig.load(args.config) if args.config else SearchConfig()
    for key in ("strategy", "epochs", "seed", "device", "max_seconds"):
        if getattr(args, key) is not None:
            setattr(config, key, getattr(args, key))
    for flag, key in (("dataset", "name"), ("limit", "limit"), ("root", "root")):
        if getattr(args, flag) is not None:
            setattr(config.dataset, key, getattr(args, flag))
    if args.no_download:
        config.dataset.download = False
    return config


def run_search_command(args: argparse.Namespace) -> int:
    """``nasbench search``: run a search to the end (or until a stop request)."""
    from nasbench.engine.search import search

    config = config_from_args(args)
    if args.estimate:
        _print_estimate(config)
        return 0
    result = search(config, args.run_dir, progress=True)
    _print_result(result)
    if args.report:
        _print_report(args.run_dir)
    return 0


def _print_estimate(config: SearchConfig) -> None:
    """``nasbench search --estimate``: time and memory before launch; nothing is written."""
    from nasbench.engine.bilevel import memory_estimate, time_estimate
    from nasbench.engine.run_setup import network_must_fit
    from nasbench.strategies import get_strategy

    kind = get_strategy(config.strategy).kind
    if kind == "discrete":
        raise ConfigError(
            f"--estimate probes the supernet of a differentiable search; {config.strategy!r} "
            "is discrete, so bound it with max_evaluations or --max-seconds instead."
        )
    if kind in ("meta", "multi-agent"):  # loops of their own, sized by epochs, not probed
        raise ConfigError(
            f"--estimate probes the supernet of a differentiable search; {config.strategy!r} "
            f"is {kind} and runs a loop of its own, so size it with epochs instead (try a "
            "run with epochs = 1 to time one)."
        )
    with network_must_fit(config, estimate_hint=False):
        seconds = time_estimate(config)
        memory = memory_estimate(config)
    stage1 = ""
    if "stage1_s" in seconds:
        stage1 = (
            f" (of which {seconds['stage1_s']:.1f} s C2FNAS stage 1: "
            f"{seconds['stage1_candidates']} topologies trained)"
        )
    largest = " (C2FNAS: on its largest topology)" if "stage1_s" in seconds else ""
    print(
        f"estimate: {seconds['step_s']:.2f} s/step x {seconds['steps_per_epoch']} steps x "
        f"{seconds['epochs']} epochs + {seconds['eval_s']:.1f} s validation per epoch + "
        f"{seconds['build_s']:.1f} s to build{stage1} = about {seconds['total_s']:.0f} s; "
        f"memory about {memory['total_mb']:.0f} MiB per step{largest}"
    )
    if "plan" in seconds:
        plan = seconds["plan"]
        print(
            f"with max_seconds {plan['max_seconds']:g}: {plan['epochs']} epoch(s) x "
            f"{plan['steps_per_epoch']} steps, about {plan['estimate_s']:.0f} s "
            "(the search measures again on its first steps)"
        )


def configure_resume(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nasbench resume``."""
    parser.add_argument("run_dir", help="a run folder holding a stopped or killed search")
    parser.add_argument("--report", action="store_true", help="write report.html at the end")


def run_resume_command(args: argparse.Namespace) -> int:
    """``nasbench resume``: continue a run from its last checkpoint (``resume`` checks the
    run's user code first, as it does from Python)."""
    from nasbench.runs.store import announce_writer, withdraw_writer

    # First, before torch loads: `stop` and `runs` see the resume from now on (`main` has
    # announced it already unless its arguments were unclear), and the requests a stop
    # writes meanwhile are kept: those since the process started (or since it announced).
    announced = announce_writer(args.run_dir, "resume")
    started = min(process_started(), announced or math.inf)
    from nasbench.engine.search import resume

    try:
        result = resume(args.run_dir, progress=True, started=started)
    finally:  # the resume is over: a stop from now on has nothing to stop
        withdraw_writer()
    _print_result(result)
    if args.report:
        _print_report(args.run_dir)
    return 0


def process_started() -> float:
    """When this process started, on ``time.time()``'s clock: what Linux's ``/proc`` says
    (to 10 ms), else, or where it says something implausible, now.

    A Launcher's Resume starts ``nasbench resume`` and may be asked to stop before the
    process has even imported the engine; the resume honours requests written since.

    Example:
        >>> process_started() <= time.time()
        True
    """
    now = time.time()
    try:
        ticks = int(Path("/proc/self/stat").read_bytes().rsplit(b")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    # A container may show its own uptime against the host's start ticks: distrust that.
    return now - age if 0 <= age < 60 else now


def check_run_code(run_dir: str | Path, command: str) -> None:
    """Refuse, before any name is looked up, a run whose user modules this process has
    not imported or whose ops changed since it started
    (:func:`nasbench.engine.run_setup.check_user_code`); a folder without a readable run
    is left to the command, which says so.

    Args:
        run_dir: the run folder.
        command: ``"retrain"`` (``resume`` checks in the engine), for the command the
            message gives.

    Example:
        >>> check_run_code("runs/nowhere", "retrain")  # no run: the command itself says so
    """
    environment = recorded_environment(run_dir)
    if not environment:
        return
    from nasbench.engine.run_setup import check_user_code
    from nasbench.runs import load

    with load(run_dir) as run:
        config = run.config
    check_user_code(config, environment, run_dir, command)


def configure_run_dir(parser: argparse.ArgumentParser) -> None:
    """A single positional run folder."""
    parser.add_argument("run_dir", help="a run folder")


def run_stop_command(args: argparse.Namespace) -> int:
    """``nasbench stop``: ask a running search to checkpoint and stop."""
    from nasbench.runs.store import announced_writer, request_stop, run_status, writer_alive
    from nasbench.runs.summary import KILLED, RESUMING, RETRAINING, retraining, shown_status

    _refuse_launched_without_store(args.run_dir)
    # First: a writer that let go (or a command that withdrew) wrote its last status.
    alive, starting = writer_alive(args.run_dir), announced_writer(args.run_dir)
    status = run_status(args.run_dir)
    shown = shown_status(status, alive, bool(alive) and retraining(args.run_dir), starting)
    if shown == RETRAINING:  # a retrain reads no stop requests
        raise ConfigError(
            f"run '{args.run_dir}' is being retrained, not searched; `nasbench stop` stops "
            "searches only — stop the retrain with Ctrl-C in its terminal (or its notebook's "
            "interrupt)."
        )
    refused = resume_refused(args.run_dir)
    if shown == RESUMING:
        # A resume starting up (from its first moment it announces itself; its store says
        # how the last search ended until its first step): it keeps the requests written
        # since it started, and its first step honours them.
        request_stop(args.run_dir)
        print(
            f"stop requested for {args.run_dir}; the search is starting (resuming) and "
            "stops at its first step."
        )
        return 0
    if status in ("finished", "failed", "stopped"):  # no search writes it: the row would wait
        # Only a stopped search has more to do; a finished one is done, a failed one would
        # fail again unless its cause is fixed.
        what_next = {
            "stopped": refused or f"continue it with `{run_command('resume', args.run_dir)}`",
            "failed": f"`nasbench runs {Path(args.run_dir).parent}` shows why it failed",
            "finished": f"its results are in `nasbench report {args.run_dir}`",
        }[status]
        raise ConfigError(
            f"run '{args.run_dir}' is {status}; no search is running there, so there is "
            f"nothing to stop ({what_next})."
        )
    if shown == KILLED:
        what_next = refused or f"continue it with `{run_command('resume', args.run_dir)}`"
        raise ConfigError(
            f"run '{args.run_dir}' says {status} but no process is writing it (it was killed, "
            f"or its machine restarted), so there is nothing to stop; {what_next}."
        )
    request_stop(args.run_dir)
    if refused:  # asked for all the same: the user may mean to end it
        print(
            f"stop requested for {args.run_dir}; the search stops after its current step, "
            f"for good: {refused}."
        )
    else:
        print(f"stop requested for {args.run_dir}; the search stops after its current step.")
    return 0


def _refuse_launched_without_store(run_dir: str) -> None:
    """Refuse ``nasbench stop`` on a launcher's run folder whose search has not created
    its run store: a stop request is a row in that store, and the search reads none
    before it has one, so there is nowhere to put it yet.

    Raises:
        ConfigError: one line, saying what to do instead: for a search still starting,
            stop it again once it runs (or end its recorded process now); for one that
            failed before its store, why (``nasbench runs`` shows it too).
    """
    from nasbench.runs.launched import FAILED, launched_summary, recorded_process
    from nasbench.runs.schema import run_folder

    folder = run_folder(run_dir)
    row = launched_summary(folder)
    if row is None:
        return
    if row["status"] == FAILED:
        raise ConfigError(
            f"run '{run_dir}' failed before its search created a run store, so there is "
            f"nothing to stop: {row['message']}"
        )
    recorded = recorded_process(folder)
    # Nothing to lose yet (no store, no checkpoint): ending the process is safe.
    end_now = f", or end it now with `kill {recorded[0]}`" if recorded else ""
    raise ConfigError(
        f"run '{run_dir}' is starting: its search has not created its run store yet, so "
        f"there is nowhere to send a stop request; run `nasbench stop {shlex.quote(run_dir)}` "
        f"again once `nasbench runs {shlex.quote(str(folder.resolve().parent))}` lists it as "
        f"running{end_now}."
    )


def configure_report(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nasbench report``."""
    parser.add_argument("run_dir", help="a run folder")
    parser.add_argument("--out", help="HTML file to write (default RUN/report.html)")


def run_report_command(args: argparse.Namespace) -> int:
    """``nasbench report``: write the run's self-contained HTML report."""
    _print_report(args.run_dir, args.out)
    return 0


def configure_runs(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nasbench runs``."""
    parser.add_argument(
        "folder", nargs="?", default="runs", help="folder of run folders (default: %(default)s)"
    )


def run_runs_command(args: argparse.Namespace) -> int:
    """``nasbench runs``: list the runs in a folder, and the launcher's run folders whose
    search has not created its run store (starting, or failed before it), as the Runs tab
    lists them."""
    from nasbench.runs.launched import launched_summary
    from nasbench.runs.schema import DB_NAME
    from nasbench.runs.summary import folder_summaries

    if not Path(args.folder).is_dir():
        problem = "is a file" if Path(args.folder).exists() else "does not exist"
        raise ConfigError(f"folder {args.folder} {problem}; pass the folder holding runs.")
    # Newest first, as nasbench.runs.list_runs orders them (without importing pandas).
    rows = sorted(folder_summaries(args.folder), key=_created, reverse=True)
    if not rows:
        if (Path(args.folder) / DB_NAME).is_file() or launched_summary(args.folder):
            raise ConfigError(
                f"{args.folder} is a run folder, not a folder of runs; list it with its "
                f"neighbours: `nasbench runs {Path(args.folder).resolve().parent}`."
            )
        print(f"no runs in {args.folder}")
        return 0
    columns = ["run_dir", "status", "dataset", "strategy", "best_metric_name", "best_metric"]
    cells = [columns] + [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    for row in rows:
        if row["status"] == "unreadable":
            print(f"{row['run_dir']}: {row['message']}")
        elif row["status"] in ("failed", "starting") and row.get("message"):
            # The one line the search ended with (what `nasbench stop` points failed runs
            # to), or, for a launched search with no store yet, what the Runs tab says.
            print(f"{row['run_dir']}: {row['status']}: {row['message']}")
        elif row["status"] == "killed":
            resume = f"continue it with `{run_command('resume', row['run_dir'])}`"
            print(f"{row['run_dir']}: killed; {resume_refused(row['run_dir']) or resume}")
    return 0


def _created(row: dict) -> float:
    created = row.get("created")
    return created if created == created else float("-inf")  # NaN (unreadable) sorts last


def _cell(value: object) -> str:
    if value is None or value != value:  # None and NaN print as pandas does
        return "NaN" if isinstance(value, float) else "None"
    return f"{value:.6f}" if isinstance(value, float) else str(value)


def configure_quickstart(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nasbench quickstart``."""
    parser.add_argument("--run-dir", default=None, help=f"default {QUICKSTART_RUN_DIR}-<time>")
    parser.add_argument(
        "--seed", type=int, default=0, help="the search seed (default: %(default)s)"
    )


def run_quickstart_command(args: argparse.Namespace) -> int:
    """``nasbench quickstart``: the README's main job, ending with the report's path."""
    from nasbench.engine.search import search
    from nasbench.runs.store import check_new_run_dir

    run_dir = args.run_dir or f"{QUICKSTART_RUN_DIR}-{time.strftime('%Y%m%d-%H%M%S')}"
    check_new_run_dir(run_dir)  # before announcing a run store that cannot be made there
    args.run_dir = run_dir  # so an interrupt names the folder to resume
    config = quickstart_config(args.seed)
    print(
        f"quickstart: {config.strategy.upper()} on the offline '{config.dataset.name}' dataset, "
        f"{config.epochs} epochs; run store in {run_dir}"
    )
    result = search(config, run_dir, progress=True)
    _print_result(result)
    _print_report(run_dir)
    return 0


def _print_result(result) -> None:
    metrics = ", ".join(f"{k} {v:.3f}" for k, v in result.metrics.items())
    reason = END_REASONS.get(_status_message(result.run_dir))
    why = f" ({reason})" if reason else ""
    print(f"{result.status} after {result.steps} steps{why}; {metrics or 'not validated yet'}")
    genotype = result.genotype
    if genotype is None:  # stopped before any candidate trained (every one so far failed)
        text = "none yet (no candidate has trained)"
    elif hasattr(genotype, "to_darts_text"):
        text = genotype.to_darts_text()
    else:
        text = genotype.to_json()
    print(f"genotype: {text}")
    print(f"run store: {Path(result.run_dir).resolve()}")
    if result.status == "stopped":
        refused = resume_refused(result.run_dir)
        resume = run_command("resume", result.run_dir)
        print(f"{refused}; start a new run" if refused else f"continue it with `{resume}`")


def _status_message(run_dir: str | Path) -> str:
    """The message of the run's latest status: a discrete search's reason for ending."""
    try:
        row = _first_row(run_dir, "SELECT message FROM status ORDER BY id DESC LIMIT 1")
    except (NasbenchError, sqlite3.Error, OSError):
        return ""
    return str(row[0]) if row else ""


def _print_report(run_dir: str | Path, out: str | None = None) -> None:
    from nasbench.viz.report import write_report

    path = write_report(run_dir, out)
    print(f"report: {Path(path).resolve()}")
