"""The search-side subcommands of the CLI: search, resume, stop, report, runs, quickstart.

Each is a pair ``configure(parser)`` / ``run(args) -> exit status`` that
``nasbench.cli`` registers; the work itself is one call into the engine, so the
CLI, the widgets (which start ``python -m nasbench search`` as a subprocess) and
the tests run the same code.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import ConfigError

QUICKSTART_RUN_DIR = "runs/quickstart"


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
    """``nasbench resume``: continue a run from its last checkpoint."""
    from nasbench.engine.search import resume

    _print_result(resume(args.run_dir, progress=True))
    if args.report:
        _print_report(args.run_dir)
    return 0


def configure_run_dir(parser: argparse.ArgumentParser) -> None:
    """A single positional run folder."""
    parser.add_argument("run_dir", help="a run folder")


def run_stop_command(args: argparse.Namespace) -> int:
    """``nasbench stop``: ask a running search to checkpoint and stop."""
    from nasbench.runs.store import request_stop, run_status, writer_alive

    status = run_status(args.run_dir)
    if status in ("finished", "failed", "stopped"):  # no search writes it: the row would wait
        # Only a stopped search has more to do; a finished one is done, a failed one would
        # fail again unless its cause is fixed.
        what_next = {
            "stopped": f"continue it with `nasbench resume {args.run_dir}`",
            "failed": f"`nasbench runs {Path(args.run_dir).parent}` shows why it failed",
            "finished": f"its results are in `nasbench report {args.run_dir}`",
        }[status]
        raise ConfigError(
            f"run '{args.run_dir}' is {status}; no search is running there, so there is "
            f"nothing to stop ({what_next})."
        )
    if writer_alive(args.run_dir) is False:
        raise ConfigError(
            f"run '{args.run_dir}' says {status} but no process is writing it (it was killed, "
            f"or its machine restarted), so there is nothing to stop; continue it with "
            f"`nasbench resume {args.run_dir}`."
        )
    request_stop(args.run_dir)
    print(f"stop requested for {args.run_dir}; the search stops after its current step.")
    return 0


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
    """``nasbench runs``: list the runs in a folder."""
    from nasbench.runs.schema import DB_NAME
    from nasbench.runs.summary import run_summaries

    if not Path(args.folder).is_dir():
        problem = "is a file" if Path(args.folder).exists() else "does not exist"
        raise ConfigError(f"folder {args.folder} {problem}; pass the folder holding runs.")
    # Newest first, as nasbench.runs.list_runs orders them (without importing pandas).
    rows = sorted(run_summaries(args.folder), key=_created, reverse=True)
    if not rows:
        if (Path(args.folder) / DB_NAME).is_file():
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
        elif row["status"] == "killed":
            print(f"{row['run_dir']}: killed; continue it with `nasbench resume {row['run_dir']}`")
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
    print(f"{result.status} after {result.steps} steps; {metrics or 'not validated yet'}")
    genotype = result.genotype
    text = genotype.to_darts_text() if hasattr(genotype, "to_darts_text") else genotype.to_json()
    print(f"genotype: {text}")
    print(f"run store: {Path(result.run_dir).resolve()}")
    if result.status == "stopped":
        print(f"continue it with `nasbench resume {result.run_dir}`")


def _print_report(run_dir: str | Path, out: str | None = None) -> None:
    from nasbench.viz.report import write_report

    path = write_report(run_dir, out)
    print(f"report: {Path(path).resolve()}")
