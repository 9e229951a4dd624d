"""PSNR/SSIM of a searched unrolled network against zero-filled, U-Net and VarNet, over seeds.

Per seed, on 4x-undersampled slices of the MNI152 template (``mni152-recon``):

1. a DARTS search of the unrolled space (T cascades, each a searched cell then hard
   data consistency) through ``nasbench.search``;
2. :func:`nasbench.evaluation.final_evaluation.retrain`: the derived cell built as a discrete
   network and trained from scratch; MONAI's ``BasicUNet`` (residual, on the
   zero-filled magnitude) and MONAI's ``VariationalNetworkModel`` sized to the
   searched network's parameter count and trained with the same recipe; the
   zero-filled floor. The numbers are the ones ``nasbench retrain`` gives.

The targets (issue 15): the searched network beats zero-filled by at least 4 dB PSNR,
and matches or beats the same-size U-Net on SSIM; both are checked on the mean over
seeds and reported per seed. Times are wall seconds on this machine (its load moves
them; the ratios to the U-Net measured in the same run move less).

Usage::

    python benchmarks/reconstruction.py                         # 3 seeds, 32x32, CPU-sized
    python benchmarks/reconstruction.py --size 64 --seeds 0 1 2 --train-epochs 20
    python benchmarks/reconstruction.py --dataset mni152-recon-4coil --seeds 0  # 4 coils
    python benchmarks/reconstruction.py --device cuda --size 64 --search-epochs 20
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

TARGET_GAIN_DB = 4.0
NAMES = {"searched": "searched (unrolled)", "unet": "MONAI BasicUNet", "varnet": "MONAI VarNet"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--dataset", default="mni152-recon", help="mni152-recon (4x), -8x or -4coil (4 coils, 4x)"
    )
    p.add_argument("--size", type=count(1), default=32, help="slice edge: 32, 64 or 128")
    p.add_argument("--search-limit", type=count(1), default=96, help="slices searched (halved)")
    p.add_argument("--limit", type=count(1), default=None, help="slices per split when retraining")
    p.add_argument("--search-epochs", type=count(1), default=2)
    p.add_argument("--train-epochs", type=count(1), default=8)
    p.add_argument("--batch-size", type=count(1), default=8)
    p.add_argument(
        "--lr", type=positive_number, default=2e-3, help="Adam learning rate (all networks)"
    )
    p.add_argument("--nodes", type=count(1), default=2, help="intermediate nodes of the cell")
    p.add_argument("--cascades", type=count(1), default=3)
    p.add_argument("--channels", type=count(1), default=8)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--json", type=output_file, default=None, help="also write the per-seed rows here"
    )
    args = p.parse_args(argv)
    refuse_bad_names(p, args, args.dataset)
    return args


def refuse_bad_names(p: argparse.ArgumentParser, args: argparse.Namespace, dataset: str) -> None:
    """A one-line usage error for an unknown --dataset or --device, or a --size the
    dataset does not offer, before any search."""
    from nasbench.data import get_info
    from nasbench.device import resolve_device

    refuse_failing(p, [("--dataset", lambda: get_info(args.dataset)),
                       ("--device", lambda: resolve_device(args.device))])  # fmt: skip
    refuse_unoffered_size(p, dataset, args.size)


def run_seed(args: argparse.Namespace, seed: int) -> pd.DataFrame:
    """Search and retrain with one seed; one row per model."""
    from nasbench.config import DatasetConfig, SearchConfig
    from nasbench.engine.search import search
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.evaluation.train_loop import TrainConfig

    space = {
        "name": "unrolled",
        "n_nodes": args.nodes,
        "skeleton": {"cascades": args.cascades, "channels": args.channels},
    }
    config = SearchConfig(
        dataset=DatasetConfig(
            name=args.dataset, size=args.size, limit=args.search_limit, batch_size=args.batch_size
        ),
        space=space,
        strategy="darts",
        epochs=args.search_epochs,
        w_lr=0.01,
        device=args.device,
        seed=seed,
    )
    recipe = TrainConfig(
        epochs=args.train_epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer="adam",
        weight_decay=0.0,
        limit=args.limit,
        test_limit=args.limit,  # "slices per split", the test split too, as measured
        device=args.device,
        seed=seed,
    )
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        start = time.perf_counter()
        result = search(config, run_dir)
        search_s = time.perf_counter() - start
        print(f"seed {seed}: searched in {search_s:.1f}s: {result.genotype.normal}", flush=True)
        report = retrain(run_dir, recipe, baseline=True)
    rows = [
        {
            "seed": seed,
            "model": NAMES.get(name, name),
            "params": res.params,
            "test_psnr": res.test["psnr"],
            "test_ssim": res.test["ssim"],
            "test_nmse": res.test["nmse"],
            "train_s": res.wall_s,
            "search_s": search_s if name == "searched" else 0.0,
        }
        for name, res in report.results.items()
    ]
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Mean and spread over seeds per model, and the verdicts on the two targets."""
    summary = table.groupby("model", sort=False).agg(
        params=("params", "mean"),
        psnr_mean=("test_psnr", "mean"),
        psnr_std=("test_psnr", "std"),
        ssim_mean=("test_ssim", "mean"),
        ssim_std=("test_ssim", "std"),
        nmse_mean=("test_nmse", "mean"),
        time_s=("train_s", "mean"),
    )
    per_seed = table.pivot(index="seed", columns="model", values=["test_psnr", "test_ssim"])
    searched, unet = NAMES["searched"], NAMES["unet"]
    gain = per_seed["test_psnr"][searched] - per_seed["test_psnr"]["zero-filled"]
    ssim_gap = per_seed["test_ssim"][searched] - per_seed["test_ssim"][unet]
    verdicts = [
        f"PSNR gain over zero-filled: {gain.mean():.2f} dB (per seed "
        f"{', '.join(f'{g:.2f}' for g in gain)}); target >= {TARGET_GAIN_DB} dB: "
        f"{'met' if gain.mean() >= TARGET_GAIN_DB else 'NOT met'}",
        f"SSIM minus same-size U-Net: {ssim_gap.mean():+.4f} (per seed "
        f"{', '.join(f'{g:+.4f}' for g in ssim_gap)}); target >= 0: "
        f"{'met' if ssim_gap.mean() >= 0 else 'NOT met'}",
    ]
    return summary, verdicts


def main(argv: list[str] | None = None) -> int:
    """Run every seed, print the per-seed rows, the summary and the verdicts."""
    import torch

    args = parse_args(argv)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{args.dataset} at {args.size}x{args.size}; search {args.search_epochs} epochs on "
        f"{args.search_limit} slices; retrain {args.train_epochs} epochs; seeds {args.seeds}"
    )
    start = time.perf_counter()
    table = pd.concat([run_seed(args, seed) for seed in args.seeds], ignore_index=True)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    summary, verdicts = summarise(table)
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\n".join(verdicts))
    print(f"total {time.perf_counter() - start:.0f}s, load average {os.getloadavg()[0]:.1f}")
    if args.json:
        write_json(args.json, table.to_dict("records"))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
