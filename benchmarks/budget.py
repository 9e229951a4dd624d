"""How well a differentiable search keeps a wall-time budget (``max_seconds``).

Runs the quickstart's search (first-order DARTS, 5 cells, C=8, 256 synthetic images,
3 epochs of 8 steps) under each budget given, and prints the plan the search made
(epochs x steps of the configured ones), its estimate, the wall time it took and the
ratio wall / budget. Budget ``0`` is the unbudgeted run, printed for reference (what
the full search costs on this machine now); the ratios are taken against each budget,
not against it.

    OMP_NUM_THREADS=1 python benchmarks/budget.py --budgets 0,45,150
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from _script import run_main  # noqa: E402

from nasbench.engine.commands import quickstart_config  # noqa: E402
from nasbench.engine.search import search  # noqa: E402
from nasbench.runs import load  # noqa: E402


def budgets(text: str) -> list[float]:
    """An argparse ``type``: every budget of ``"0,45,150"`` checked before the first
    search runs (finite seconds, 0 or more; 0 is the unbudgeted run).

    Example:
        >>> budgets("0, 45,0.001")
        [0.0, 45.0, 0.001]
    """
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected seconds (0 or more), comma-separated, got {part.strip()!r} in {text!r}"
            ) from None
        if not math.isfinite(value) or value < 0:
            raise argparse.ArgumentTypeError(
                f"a budget is finite seconds, 0 (none) or more, got {part.strip()!r}"
            )
        values.append(value)
    return values


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--budgets", type=budgets, default="0,45,150", help="seconds, comma-separated; 0: none"
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()}")
    print("budget_s  plan   of     estimate_s  wall_s  wall/budget")
    for budget in args.budgets:
        config = quickstart_config(args.seed)
        config.device = "cpu"
        config.max_seconds = budget or None
        with tempfile.TemporaryDirectory() as folder:
            run_dir = Path(folder) / "run"
            started = time.perf_counter()
            result = search(config, run_dir)
            wall = time.perf_counter() - started
            events = load(run_dir).events
        plans = events[events.kind == "search_budget"]
        if plans.empty:
            print(f"{'none':>8}  {config.epochs}x{result.steps // config.epochs:<4} -      "
                  f"{'-':>10}  {wall:6.1f}  -")  # fmt: skip
            continue
        plan = plans.iloc[0].payload
        print(
            f"{budget:8g}  {plan['epochs']}x{plan['steps_per_epoch']:<4} "
            f"{plan['configured_epochs']}x{plan['configured_steps_per_epoch']:<4} "
            f"{plan['estimate_s']:10.1f}  {wall:6.1f}  {wall / budget:.2f}"
        )


if __name__ == "__main__":
    raise SystemExit(run_main(main))
