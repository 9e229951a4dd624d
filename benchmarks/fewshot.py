"""Few-shot NAS: METANAS against fixed-architecture Reptile and DARTS on the pooled tasks,
N-way K-shot on medical images, all three measured in one run.

One ``nasbench.search`` with strategy ``metanas`` meta-trains the three learners on the
same tasks (meta-train set, its ``train`` split) from the same supernet, then adapts
each to the same meta-test tasks (meta-test set, its ``test`` split: other classes,
here another dataset) and scores the query sets. The table gives the mean query accuracy
with its 95% confidence interval over the test episodes, and the paired difference
METANAS - Reptile (same episodes) with its own 95% interval.

Usage::

    python benchmarks/fewshot.py --root ../shared/data/medmnist             # pneumonia -> breast
    python benchmarks/fewshot.py --quick                                     # synthetic, seconds
    # meta-validation: tasks from the meta-train set's val split (pick settings here)
    python benchmarks/fewshot.py --root ../shared/data/medmnist --meta-test pneumoniamnist \
        --split val
    # the meta-learned alphas fixed at the meta-test; METANAS's Adam alpha steps in a task
    python benchmarks/fewshot.py --root ../shared/data/medmnist --test-arch-lr-scale 0
    python benchmarks/fewshot.py --root ../shared/data/medmnist --inner-arch-optimizer adam \
        --inner-arch-lr 0.005
    # METANAS's relaxation: temperature annealing, soft pruning, alpha warm-up
    python benchmarks/fewshot.py --root ../shared/data/medmnist --temperature-min 0.05 \
        --prune-below 0.01 --meta-arch-lr 0.6 --warmup-fraction 0.5
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _script import count, run_main

# A small DARTS cell (five ops, two nodes, two cells of four channels) keeps a 28 px
# 2-way 5-shot task learner at tens of milliseconds per step on one CPU core.
SPACE = {
    "name": "darts",
    "ops": ["skip_connect", "conv_3x3", "dil_conv_3x3", "max_pool_3x3", "avg_pool_3x3"],
    "n_nodes": 2,
    "skeleton": {"n_cells": 2, "channels": 4},
}


@dataclass(frozen=True)
class FewShotSettings:
    """Sizes of one comparison (the defaults: a few minutes on one CPU core)."""

    meta_train: str = "pneumoniamnist"
    meta_test: str = "breastmnist"
    root: str | None = None
    n_way: int = 2
    k_shot: int = 5
    n_query: int = 10
    epochs: int = 4
    meta_steps: int = 10
    meta_batch_size: int = 4
    inner_steps: int = 5
    inner_arch_lr: float = 3.0
    inner_arch_optimizer: str = "sgd"
    test_arch_lr_scale: float = 1.0
    meta_arch_lr: float = 1.0
    temperature_min: float = 1.0
    prune_below: float = 0.0
    warmup_fraction: float = 0.0
    split: str = "test"
    pooled: bool = True
    test_inner_steps: int = 5
    test_episodes: int = 200
    seed: int = 0


QUICK = FewShotSettings(
    meta_train="synthetic-multiclass",
    meta_test="",
    epochs=1,
    meta_steps=2,
    meta_batch_size=2,
    inner_steps=2,
    test_inner_steps=2,
    test_episodes=6,
)


def search_config(s: FewShotSettings) -> Any:
    """The one SearchConfig of the comparison."""
    from nasbench.config import SearchConfig

    return SearchConfig(
        dataset={"name": s.meta_train, "root": s.root, "download": s.root is None},
        space=SPACE,
        strategy="metanas",
        strategy_config={
            "n_way": s.n_way,
            "k_shot": s.k_shot,
            "n_query": s.n_query,
            "meta_test_dataset": s.meta_test,
            "meta_steps": s.meta_steps,
            "meta_batch_size": s.meta_batch_size,
            "inner_steps": s.inner_steps,
            "inner_arch_lr": s.inner_arch_lr,
            "inner_arch_optimizer": s.inner_arch_optimizer,
            "test_arch_lr_scale": s.test_arch_lr_scale,
            "meta_arch_lr": s.meta_arch_lr,
            "temperature_min": s.temperature_min,
            "prune_below": s.prune_below,
            "warmup_fraction": s.warmup_fraction,
            "meta_test_split": s.split,
            "pooled_baseline": s.pooled,
            "test_inner_steps": s.test_inner_steps,
            "test_episodes": s.test_episodes,
            "val_episodes": 2,
        },
        epochs=s.epochs,
        device="cpu",
        seed=s.seed,
    )


def compare(s: FewShotSettings, run_dir: str | Path) -> dict[str, Any]:
    """Run the comparison; return per learner mean, CI and the paired difference.

    Returns:
        ``{"table": {learner: (mean, ci95)}, "diff": (mean, ci95), "seconds": float}``.
    """
    import nasbench
    from nasbench.strategies.meta import fewshot_summary, mean_ci95

    started = time.perf_counter()
    nasbench.search(search_config(s), run_dir)
    seconds = time.perf_counter() - started
    with nasbench.runs.load(run_dir) as run:
        summary = fewshot_summary(run)
        test = run.metrics_wide("test")
    table = {n: (float(r.acc_mean), float(r.acc_ci95)) for n, r in summary.iterrows()}
    diff = mean_ci95(np.asarray(test["metanas_acc"]) - np.asarray(test["reptile_acc"]))
    return {"table": table, "diff": diff, "seconds": seconds}


def report(s: FewShotSettings, out: dict[str, Any]) -> list[str]:
    """The printed lines: the setting, one line per learner, the paired difference, the ratio."""
    lines = [
        f"{s.n_way}-way {s.k_shot}-shot, meta-train {s.meta_train}, meta-test "
        f"{s.meta_test or 'held-out classes'} ({s.split}), {s.test_episodes} episodes, "
        f"{s.test_inner_steps} adaptation steps ({out['seconds']:.0f} s)"
    ]
    for name, (mean, ci) in out["table"].items():
        lines.append(f"  {name:<13} {100 * mean:5.1f}% ± {100 * ci:4.1f}")
    mean, ci = out["diff"]
    reptile = out["table"]["reptile"][0]
    lines.append(f"  metanas - reptile (paired): {100 * mean:+.1f} ± {100 * ci:.1f} points")
    lines.append(
        f"  ratio metanas / reptile: {out['table']['metanas'][0] / max(reptile, 1e-9):.3f}"
    )
    return lines


def number_in(low: float, high: float | None = None):
    """An argparse ``type`` for a finite number in ``[low, high]`` (``high`` None: no top).

    Example:
        >>> number_in(0.0, 1.0)("0.5")
        0.5
    """

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        top = math.inf if high is None else high
        if not (math.isfinite(value) and low <= value <= top):
            where = f"at least {low:g}" if high is None else f"in [{low:g}, {high:g}]"
            raise argparse.ArgumentTypeError(f"must be a finite number {where}, got {text}")
        return value

    return convert


def build_parser() -> argparse.ArgumentParser:
    """The command line (its defaults: :class:`FewShotSettings`'s)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny synthetic run (tests)")
    parser.add_argument("--root", default=None, help="folder of the MedMNIST .npz files")
    parser.add_argument("--meta-train", default=FewShotSettings.meta_train)
    parser.add_argument("--meta-test", default=FewShotSettings.meta_test)
    parser.add_argument("--k-shot", type=count(1), default=FewShotSettings.k_shot, help="1 or 5")
    parser.add_argument("--episodes", type=count(1), default=FewShotSettings.test_episodes)
    parser.add_argument("--epochs", type=count(1), default=FewShotSettings.epochs)
    parser.add_argument(
        "--inner-arch-lr", type=number_in(0.0), default=FewShotSettings.inner_arch_lr
    )
    parser.add_argument(
        "--inner-arch-optimizer",
        default=FewShotSettings.inner_arch_optimizer,
        choices=("sgd", "adam"),
        help="the task learner's alpha optimizer (METANAS: adam, --inner-arch-lr 0.005)",
    )
    parser.add_argument(
        "--test-arch-lr-scale",
        type=number_in(0.0, 1.0),
        default=FewShotSettings.test_arch_lr_scale,
        help="alpha lr at the meta-test adaptation over --inner-arch-lr (0: alphas fixed)",
    )
    parser.add_argument("--meta-steps", type=count(1), default=FewShotSettings.meta_steps)
    parser.add_argument("--meta-arch-lr", type=number_in(0.0), default=FewShotSettings.meta_arch_lr)
    parser.add_argument(
        "--temperature-min", type=number_in(1e-3, 1.0), default=FewShotSettings.temperature_min
    )
    parser.add_argument(
        "--prune-below", type=number_in(0.0, 1.0), default=FewShotSettings.prune_below
    )
    parser.add_argument(
        "--warmup-fraction", type=number_in(0.0, 1.0), default=FewShotSettings.warmup_fraction
    )
    parser.add_argument(
        "--split",
        default="test",
        choices=("test", "val"),
        help="val: meta-validation tasks (pick settings here; --meta-test may then be "
        "the meta-train set, whose val split meta-training never sees)",
    )
    parser.add_argument(
        "--no-pooled", action="store_true", help="leave out pooled DARTS (a third cheaper)"
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser


def parse_settings(argv: list[str] | None = None) -> FewShotSettings:
    """The settings of a command line; a bad value, or a flag beside ``--quick`` (which
    sets every size itself), is a one-line usage error (exit 2) before anything runs."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick:
        given = [
            action.option_strings[0]
            for action in parser._actions
            if action.dest not in ("help", "quick") and getattr(args, action.dest) != action.default
        ]
        if given:
            parser.error(f"--quick sets {given[0]} itself; drop one")
        settings = QUICK
    else:
        settings = FewShotSettings(
            meta_train=args.meta_train,
            meta_test=args.meta_test,
            root=args.root,
            k_shot=args.k_shot,
            test_episodes=args.episodes,
            epochs=args.epochs,
            inner_arch_lr=args.inner_arch_lr,
            inner_arch_optimizer=args.inner_arch_optimizer,
            test_arch_lr_scale=args.test_arch_lr_scale,
            meta_steps=args.meta_steps,
            meta_arch_lr=args.meta_arch_lr,
            temperature_min=args.temperature_min,
            prune_below=args.prune_below,
            warmup_fraction=args.warmup_fraction,
            split=args.split,
            pooled=not args.no_pooled,
            seed=args.seed,
        )
    refuse_bad_data(parser, settings)
    return settings


def refuse_bad_data(parser: argparse.ArgumentParser, s: FewShotSettings) -> None:
    """A usage error unless both sets are known and, under ``--root``, their files are
    there, and the settings validate (as the search would, minutes later)."""
    from nasbench.data import get_info
    from nasbench.errors import NasbenchError

    for flag, name in (("--meta-train", s.meta_train), ("--meta-test", s.meta_test)):
        if not name:
            continue  # meta-test "": the meta-train set's held-out classes
        try:
            info = get_info(name)
        except NasbenchError as err:
            parser.error(f"{flag} {name}: {' '.join(str(err).split())}")
        if s.root is not None and info.source == "medmnist":
            if not (Path(s.root).expanduser() / f"{name}.npz").is_file():
                parser.error(f"{flag} {name}: no {name}.npz in {s.root}; pass --root "
                             "<folder holding it>")  # fmt: skip
    try:
        search_config(s).validate()
    except NasbenchError as err:
        parser.error(" ".join(str(err).split()))


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(argv)
    with tempfile.TemporaryDirectory() as folder:
        out = compare(settings, Path(folder) / "metanas")
    print("\n".join(report(settings, out)))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
