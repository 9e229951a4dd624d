"""AP50 and FROC of a searched ALB lesion detector against the same detector on a fixed backbone.

Per seed, one run does three things on ``synthetic-lesions`` and the seeds' rows make
one table:

1. an ALB search (ElixirNet's block: DARTS cells over the ``elixir`` ops, inside the
   FCOS-style detector; ``--strategy`` darts or gdas) through ``nasbench.search``;
2. the derived genotype built as a discrete detector and trained from scratch;
3. the same detector on a fixed ResNet-style backbone of matched size, trained with
   the same recipe on the same splits: the baseline the ratios are taken against.

Steps 2-3 are :func:`nasbench.evaluation.final_evaluation.retrain` (what ``nasbench
retrain`` runs). Scores on the test split: AP50 and mAP@[.5:.95] (pycocotools) and the
FROC sensitivity at 0.5/1/2/4 false positives per image (``froc`` is their mean).
The verdict compares the means over seeds.

Usage::

    python benchmarks/detection.py                 # 3 seeds, 64x64, CPU-sized
    python benchmarks/detection.py --quick         # seconds: the tests' size
    python benchmarks/detection.py --augment       # retrain with box-aware augmentation
    python benchmarks/detection.py --device cuda --limit 600 --train-epochs 30
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _script import (
    count,
    output_file,
    positive_number,
    refuse_failing,
    refuse_unoffered_size,
    run_main,
    write_json,
)

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEARCHED, FIXED = "ALB (searched)", "ResNet backbone (fixed)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options (``--quick`` shrinks every size to a smoke test's)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=count(1), default=64, help="image edge (32, 64 or 96)")
    p.add_argument("--search-limit", type=count(1), default=32, help="images the search sees")
    p.add_argument("--limit", type=count(1), default=64, help="images per retraining split")
    p.add_argument("--strategy", default="darts", help="darts or gdas")
    p.add_argument("--search-epochs", type=count(1), default=2)
    p.add_argument("--train-epochs", type=count(1), default=5)
    p.add_argument("--batch-size", type=count(1), default=8)
    p.add_argument(
        "--lr", type=positive_number, default=0.002, help="Adam learning rate (both nets)"
    )
    p.add_argument("--channels", type=count(1), default=8, help="ALB cell channels")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--augment",
        action="store_true",
        help="box-aware flips, turns, zoom/shift and intensity jitter while retraining",
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one seed (tests)")
    p.add_argument("--json", type=output_file, default=None, help="also write the table here")
    args = p.parse_args(argv)
    if args.quick:
        # The sizes --quick sets itself: one given beside it is refused, not replaced.
        for flag in ("size", "search_limit", "limit", "search_epochs", "train_epochs", "channels"):
            if getattr(args, flag) != p.get_default(flag):
                p.error(f"--quick sets --{flag.replace('_', '-')} itself; drop one")
        args.size, args.search_limit, args.limit = 32, 16, 16
        args.search_epochs, args.train_epochs, args.channels = 1, 1, 4
        args.seeds = args.seeds[:1]
    refuse_bad_names(p, args, "synthetic-lesions")
    return args


def refuse_bad_names(p: argparse.ArgumentParser, args: argparse.Namespace, dataset: str) -> None:
    """A one-line usage error for an unknown --strategy or --device, or a --size the
    dataset does not offer, before any search."""
    from nasbench.device import resolve_device
    from nasbench.strategies import get_strategy

    refuse_failing(p, [("--strategy", lambda: get_strategy(args.strategy)),
                       ("--device", lambda: resolve_device(args.device))])  # fmt: skip
    refuse_unoffered_size(p, dataset, args.size)


def run_seed(args: argparse.Namespace, seed: int) -> list[dict]:
    """Search and retrain for one seed; one row per model."""
    from nasbench.config import DatasetConfig, SearchConfig
    from nasbench.engine.search import search
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.evaluation.train_loop import TrainConfig

    config = SearchConfig(
        dataset=DatasetConfig(
            name="synthetic-lesions",
            size=args.size,
            limit=args.search_limit,
            batch_size=args.batch_size,
        ),
        space={"name": "alb", "skeleton": {"channels": args.channels}},
        strategy=args.strategy,
        epochs=args.search_epochs,
        max_steps_per_epoch=2 if args.quick else None,
        w_lr=0.01,
        device=args.device,
        seed=seed,
    )
    recipe = TrainConfig(
        epochs=args.train_epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer="adam",
        limit=args.limit,
        test_limit=args.limit,
        augment=args.augment,
        device=args.device,
        seed=seed,
    )
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        start = time.perf_counter()
        result = search(config, run_dir)
        search_s = time.perf_counter() - start
        print(f"seed {seed}: searched in {search_s:.1f}s: {result.genotype.to_darts_text()}")
        sys.stdout.flush()
        report = retrain(run_dir, recipe, baseline=True)
    names = {"searched": SEARCHED, "resnet-detector": FIXED}
    return [
        {
            "seed": seed,
            "model": names[name],
            "params": res.params,
            "test_ap50": res.test["ap50"],
            "test_map": res.test["map"],
            "test_froc": res.test["froc"],
            **{f"test_froc_{r}": res.test[f"froc_{r}"] for r in ("0.5", "1", "2", "4")},
            "train_s": res.wall_s,
            "search_s": search_s if name == "searched" else 0.0,
        }
        for name, res in report.results.items()
    ]


def summarise(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Mean and standard deviation over seeds per model, and the verdicts.

    Returns:
        ``(summary indexed by model, verdict lines)``; the verdicts compare the searched
        detector's mean AP50 and FROC with the fixed backbone's.
    """
    scores = ["test_ap50", "test_map", "test_froc", "params", "train_s", "search_s"]
    grouped = table.groupby("model")[scores]
    summary = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=0).add_suffix("_std"))
    verdicts = []
    for score in ("test_ap50", "test_froc"):
        searched = summary.loc[SEARCHED, f"{score}_mean"]
        fixed = summary.loc[FIXED, f"{score}_mean"]
        better = "higher" if searched > fixed else "NOT higher"
        ratio = searched / fixed if fixed > 0 else float("inf")
        verdicts.append(
            f"{score[5:].upper()}: searched {searched:.3f} vs fixed {fixed:.3f} "
            f"({searched - fixed:+.3f}, ratio {ratio:.2f}): the searched ALB is {better} "
            f"over {table.seed.nunique()} seed(s)."
        )
    return summary, verdicts


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the per-seed table, the summary and the verdicts."""
    import torch

    args = parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    print(
        f"synthetic-lesions at {args.size}x{args.size}: search on {args.search_limit} images, "
        f"retrain on {args.limit} per split, seeds {args.seeds}, "
        f"augmentation {'on' if args.augment else 'off'}"
    )
    fmt = lambda v: f"{v:.3f}"  # noqa: E731
    rows = []
    for seed in args.seeds:
        rows += run_seed(args, seed)
        # Each seed's rows as they come: a long run shows its progress.
        print(pd.DataFrame(rows[-2:]).to_string(index=False, float_format=fmt), flush=True)
    table = pd.DataFrame(rows)
    summary, verdicts = summarise(table)
    print(table.to_string(index=False, float_format=fmt))
    print(summary.to_string(float_format=fmt))
    print("\n".join(verdicts))
    if args.json:
        write_json(args.json, table.to_dict("records"))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
