"""3D search + retrain on a skewed 28³ binary volume set, next to the same-run 3D CNN.

A user's 3D search (GDAS on a 28³ binary set) + ``nasbench retrain`` predicted the
majority class for every test case. This measures, over seeds, on a seeded synthetic
set written in the official NoduleMNIST3D layout (``nasbench.data.skewed_npz``: 75/25
by default, label 1 an ellipsoidal lesion in textured tissue):

* a differentiable search (GDAS by default) in the DARTS cell space with 3D operations,
  then ``retrain`` of its cell from scratch beside the small 3D CNN (``baseline="cnn"``)
  with the same recipe; test AUC and ACC, the majority-class rate (ACC of always
  answering the majority class) and the share of test cases predicted as the majority
  class (1.0 is the collapse);
* the seconds of one search step per strategy (GDAS, DARTS, PC-DARTS), from
  ``nasbench.engine.bilevel.time_estimate``'s 2-step probe (what ``nasbench search
  --estimate`` prints), on the same data and supernet.

``--class-weight`` is the retrain recipe's weighting; the default, ``auto``, weighs the
loss (``balanced``) because the volume set is skewed; ``none`` is the recipe before.

Usage:
    python benchmarks/volumes.py                       # 15 min at load 3-4 (2 cores)
    python benchmarks/volumes.py --class-weight none   # the unweighted recipe
    python benchmarks/volumes.py --quick               # a minute: checks the plumbing
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _script import count, refuse_failing, run_main

REPO = Path(__file__).resolve().parents[1]
DATASET = "nodulemnist3d"


def search_config(args: argparse.Namespace, root: Path, strategy: str, seed: int):
    """The 3D search of one seed: DARTS cells with 3D operations on the skewed set."""
    from nasbench.config import DatasetConfig, SearchConfig

    dataset = DatasetConfig(
        name=DATASET, root=str(root), download=False, batch_size=args.batch_size
    )
    skeleton = {"n_cells": args.cells, "channels": args.channels, "spatial_dims": 3}
    return SearchConfig(
        dataset=dataset,
        space={"name": "darts", "n_nodes": args.nodes, "skeleton": skeleton},
        strategy=strategy,
        epochs=1,
        max_steps_per_epoch=args.search_steps,
        device="cpu",
        seed=seed,
    )


def predicted_majority(model, dataset, majority: int) -> float:
    """Share of ``dataset`` that ``model`` predicts as class ``majority`` (arg-max).

    Args:
        model: a trained classifier.
        dataset: items ``(volume, label)``.
        majority: the majority class of the training split.

    Returns:
        A share in [0, 1]; 1.0 means every case got the majority class.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 2))
        >>> 0.0 <= predicted_majority(net, [(torch.zeros(1, 2, 2, 2), 0)] * 3, 0) <= 1.0
        True
    """
    import torch

    model.eval()
    with torch.no_grad():
        images = torch.stack([dataset[i][0] for i in range(len(dataset))])
        predictions = torch.cat([model(chunk).argmax(1) for chunk in images.split(32)])
    return float((predictions == majority).float().mean())


def run_seed(args: argparse.Namespace, root: Path, seed: int, runs: Path) -> list[dict]:
    """Search then retrain with one seed; one row per model (searched, cnn)."""
    from nasbench import search
    from nasbench.data import load
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.evaluation.train_loop import TrainConfig

    run_dir = runs / f"{args.strategy}-seed{seed}"
    started = time.monotonic()
    search(search_config(args, root, args.strategy, seed), run_dir)
    search_s = time.monotonic() - started
    recipe = TrainConfig(
        epochs=args.retrain_epochs,
        batch_size=args.batch_size,
        seed=seed,
        device="cpu",
        class_weight=args.class_weight,
    )
    report = retrain(run_dir, recipe, baseline="cnn", download=False)
    train = load(DATASET, "train", root=root, download=False)
    test = load(DATASET, "test", root=root, download=False)
    majority = int(np.bincount(train.targets).argmax())
    majority_acc = float(np.mean(np.asarray(test.targets) == majority))
    rows = []
    for row in report.table().to_dict("records"):
        name = row["model"]
        rows.append(
            {
                "model": name,
                "seed": seed,
                "test_auc": row["test_auc"],
                "test_acc": row["test_acc"],
                "majority_acc": majority_acc,
                "pred_majority": predicted_majority(report.models[name], test, majority),
                "class_weight": getattr(report.results[name], "class_weight", args.class_weight),
                "params": row["params"],
                "search_s": search_s if name == "searched" else 0.0,
                "train_s": row["wall_s"],
            }
        )
    return rows


def step_times(args: argparse.Namespace, root: Path) -> pd.DataFrame:
    """Seconds per search step of each strategy (2-step probe, the first dropped)."""
    from nasbench.engine.bilevel import time_estimate

    rows = []
    for strategy in args.step_strategies:
        estimate = time_estimate(search_config(args, root, strategy, 0), probe_steps=2)
        rows.append(
            {
                "strategy": strategy,
                "step_s": round(estimate["step_s"], 2),
                "build_s": round(estimate["build_s"], 1),
                "eval_s": round(estimate["eval_s"], 1),
            }
        )
    return pd.DataFrame(rows)


def summarise(rows: list[dict]) -> pd.DataFrame:
    """Mean ± std over seeds per model.

    Args:
        rows: what :func:`run_seed` returned, over seeds.

    Returns:
        One row per model: AUC, ACC (mean ± std text), the majority-class ACC, the mean
        share predicted as the majority class, the weighting used, params, seconds.

    Example:
        >>> rows = [{"model": "cnn", "seed": s, "test_auc": a, "test_acc": 0.8,
        ...          "majority_acc": 0.75, "pred_majority": 1.0, "class_weight": "none",
        ...          "params": 9, "search_s": 0.0, "train_s": 1.0}
        ...         for s, a in enumerate((0.9, 0.8))]
        >>> summarise(rows).loc[0, "test_auc"]
        '0.850 ± 0.071'
    """
    frame = pd.DataFrame(rows)
    out = []
    for model, group in frame.groupby("model", sort=False):
        spread = {
            m: group[m].std(ddof=1) if len(group) > 1 else 0.0 for m in ("test_auc", "test_acc")
        }
        out.append(
            {
                "model": model,
                "test_auc": f"{group['test_auc'].mean():.3f} ± {spread['test_auc']:.3f}",
                "test_acc": f"{group['test_acc'].mean():.3f} ± {spread['test_acc']:.3f}",
                "majority_acc": round(float(group["majority_acc"].mean()), 3),
                "pred_majority": round(float(group["pred_majority"].mean()), 3),
                "class_weight": ",".join(sorted(set(group["class_weight"]))),
                "params": int(group["params"].iloc[0]),
                "search_s": round(float(group["search_s"].mean()), 1),
                "train_s": round(float(group["train_s"].mean()), 1),
                "seeds": len(group),
            }
        )
    return pd.DataFrame(out)


def verdict(rows: list[dict]) -> list[str]:
    """Per seed: does the searched cell beat the majority class (ACC) and the CNN (AUC)?"""
    frame = pd.DataFrame(rows).set_index(["seed", "model"])
    lines = []
    for seed in sorted({s for s, _ in frame.index}):
        ours, cnn = frame.loc[(seed, "searched")], frame.loc[(seed, "cnn")]
        beats_majority = ours["test_acc"] > ours["majority_acc"]
        beats_cnn = ours["test_auc"] > cnn["test_auc"]
        lines.append(
            f"seed {seed}: searched ACC {ours['test_acc']:.3f} vs majority "
            f"{ours['majority_acc']:.3f} ({'beats' if beats_majority else 'does not beat'}); "
            f"AUC {ours['test_auc']:.3f} vs CNN {cnn['test_auc']:.3f} "
            f"({'beats' if beats_cnn else 'does not beat'}); predicted majority for "
            f"{ours['pred_majority']:.0%} of cases"
        )
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--strategy", default="gdas", help="the searching strategy")
    parser.add_argument("--search-steps", type=count(1), default=8, help="search steps (1 epoch)")
    parser.add_argument("--retrain-epochs", type=count(1), default=6)
    parser.add_argument("--class-weight", default="auto", choices=("auto", "none", "balanced"))
    parser.add_argument("--train", type=count(1), default=240, help="training volumes")
    parser.add_argument("--val", type=count(1), default=60, help="validation volumes")
    parser.add_argument("--test", type=count(1), default=120, help="test volumes")
    parser.add_argument("--positive", type=share, default=0.25, help="share of label 1")
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--nodes", type=count(1), default=2)
    parser.add_argument("--cells", type=count(1), default=3)
    parser.add_argument("--channels", type=count(1), default=4)
    parser.add_argument("--batch-size", type=count(1), default=16)
    parser.add_argument(
        "--step-strategies", nargs="*", default=["gdas", "darts", "pcdarts"],
        help="strategies whose step time is probed (none: skip)",
    )  # fmt: skip
    parser.add_argument("--runs", default=None, help="keep data and runs here (default: temp)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the plumbing")
    args = parser.parse_args(argv)
    if args.quick:
        # The sizes --quick sets itself: one given beside it is refused, not replaced.
        for flag in ("search_steps", "retrain_epochs", "train", "val", "test"):
            if getattr(args, flag) != parser.get_default(flag):
                parser.error(f"--quick sets --{flag.replace('_', '-')} itself; drop one")
        args.seeds, args.search_steps, args.retrain_epochs = args.seeds[:1], 2, 1
        args.train, args.val, args.test = 32, 16, 16
        # One strategy's step probe: the three at 28^3 and batch 16 take minutes on a CPU.
        args.step_strategies = args.step_strategies[:1]
    refuse_bad_names(parser, args)
    return args


def share(text: str) -> float:
    """An argparse ``type`` for a share strictly between 0 and 1 (``--positive``).

    Example:
        >>> share("0.25")
        0.25
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text}")
    return value


def refuse_bad_names(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A one-line usage error for an unknown --strategy or --step-strategies name, or a
    --runs that is not a folder, before any data is written."""
    from nasbench.strategies import get_strategy

    named = [("--strategy", args.strategy)]
    named += [("--step-strategies", name) for name in args.step_strategies]
    refuse_failing(parser, [(flag, lambda name=name: get_strategy(name)) for flag, name in named])
    if args.runs is not None and (not args.runs.strip() or Path(args.runs).is_file()):
        parser.error(f"--runs {args.runs!r} is not a folder; give a folder for the runs")


def main(argv: list[str] | None = None) -> int:
    import torch

    args = parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from nasbench.data.skewed_npz import write_skewed_npz

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.runs) if args.runs else Path(tmp)
        root = base / "data"
        splits = {"train": args.train, "val": args.val, "test": args.test}
        write_skewed_npz(root, DATASET, 28, splits, args.positive, args.data_seed)
        rows = []
        for seed in args.seeds:
            rows += run_seed(args, root, seed, base / "runs")
            print(f"seed {seed} done", file=sys.stderr, flush=True)
        steps = step_times(args, root) if args.step_strategies else pd.DataFrame()
    load = os.getloadavg()
    print(
        f"# {DATASET} layout, 28³, {args.train}/{args.val}/{args.test} volumes, "
        f"{args.positive:.0%} positive; {args.strategy} {args.search_steps} steps, "
        f"retrain {args.retrain_epochs} epochs, class_weight={args.class_weight}; "
        f"torch threads {torch.get_num_threads()}; load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(summarise(rows).to_string(index=False))
    print("\n".join(verdict(rows)))
    if len(steps):
        print(
            f"\n# one search step (batch {args.batch_size}, {args.cells} cells, "
            f"C={args.channels}, {args.nodes} nodes)"
        )
        print(steps.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(run_main(main))
