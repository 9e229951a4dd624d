"""Dice and time of a searched NAS-Unet against MONAI's U-Net trained on the same data.

One run does four things on one dataset and prints one table:

1. a NAS-Unet search (``proxyless``: binary gates, one path in memory, as NAS-Unet
   searched; ``--strategy`` picks another) through ``nasbench.search``;
2. the derived genotype built as a discrete network and trained from scratch;
3. MONAI's residual ``UNet`` trained with the same recipe (optimizer, epochs, batch,
   seed) on the same splits: the baseline the ratios are taken against;
4. the thresholding floor (intensity bands fitted on the training masks).

Steps 2-4 are :func:`nasbench.evaluation.final_evaluation.retrain`, so the numbers are the ones a
user gets from ``nasbench retrain``. Ratios (``dice_vs_unet``, ``time_vs_unet``) compare
with the U-Net measured in the same run: the machine's load moves absolute times, not
ratios much. Test Dice is the mean over foreground classes (organ, lesion).

Usage::

    python benchmarks/segmentation.py                          # 2D, 64x64, CPU-sized
    python benchmarks/segmentation.py --dims 3 --size 32       # 3D volumes
    python benchmarks/segmentation.py --device cuda --limit 400 --train-epochs 30
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dims", type=int, choices=(2, 3), default=2)
    p.add_argument("--size", type=int, default=64, help="image edge (64 in 2D, 32 in 3D)")
    p.add_argument("--limit", type=int, default=160, help="images per split")
    p.add_argument("--strategy", default="proxyless", help="darts, gdas or proxyless")
    p.add_argument("--search-epochs", type=int, default=3)
    p.add_argument("--train-epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=0.005, help="Adam learning rate (both nets)")
    p.add_argument("--nodes", type=int, default=2, help="NAS-Unet nodes per cell")
    p.add_argument("--depth", type=int, default=2, help="DownSC cells (U-Net levels)")
    p.add_argument("--channels", type=int, default=8)
    p.add_argument(
        "--trellis-layers", type=int, default=4, help="trellis row's layers (0: no trellis row)"
    )
    p.add_argument("--c2fnas", action="store_true", help="3D: add a C2FNAS row (two stages)")
    p.add_argument("--c2fnas-cells", type=int, default=5, help="C2FNAS cells")
    p.add_argument("--c2fnas-candidates", type=int, default=4, help="C2FNAS stage-1 topologies")
    p.add_argument("--vnas", action="store_true", help="3D: add a V-NAS row (2D/3D/P3D per layer)")
    p.add_argument("--dints", action="store_true", help="3D: add a DiNTS row (MONAI's DiNTS)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the table here")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> pd.DataFrame:
    """Search, retrain, compare; returns the table (one row per model)."""
    import torch

    from nasbench.config import DatasetConfig, SearchConfig
    from nasbench.engine.search import search
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.evaluation.train_loop import TrainConfig

    dataset = "synthetic-seg3d" if args.dims == 3 else "synthetic-seg"
    space = {
        "name": "nasunet",
        "n_nodes": args.nodes,
        "skeleton": {"depth": args.depth, "channels": args.channels, "spatial_dims": args.dims},
    }
    config = SearchConfig(
        dataset=DatasetConfig(
            name=dataset, size=args.size, limit=args.limit, batch_size=args.batch_size
        ),
        space=space,
        strategy=args.strategy,
        epochs=args.search_epochs,
        w_lr=0.05,
        device=args.device,
        seed=args.seed,
    )
    recipe = TrainConfig(
        epochs=args.train_epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer="adam",
        limit=args.limit,
        test_limit=args.limit,  # "images per split", the test split too, as measured
        augment=False,
        device=args.device,
        seed=args.seed,
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    print(f"dataset {dataset} at {args.size}^{args.dims}, {args.limit} images per split")
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        start = time.perf_counter()
        result = search(config, run_dir)
        search_s = time.perf_counter() - start
        print(f"searched in {search_s:.1f}s: {result.genotype.to_darts_text()}")
        report = retrain(run_dir, recipe, baseline=True)
    rows = []
    for name, res in report.results.items():
        rows.append(
            {
                "model": {"searched": "NAS-Unet (searched)", "unet": "MONAI UNet"}.get(name, name),
                "params": res.params,
                "test_dice": res.test["dice"],
                **{k: v for k, v in res.test.items() if k.startswith("dice_")},
                "test_hd95": res.test.get("hd95"),
                "train_s": res.wall_s,
                "search_s": search_s if name == "searched" else 0.0,
            }
        )
    if args.trellis_layers:
        rows.append(trellis_row(args, recipe, dataset))
    if args.c2fnas:
        rows.append(c2fnas_row(args, recipe))
    if args.vnas:
        rows.append(volume_row(args, recipe, "V-NAS", {"name": "vnas"}, args.strategy))
    if args.dints:
        rows.append(volume_row(args, recipe, "DiNTS", {"name": "dints", "num_blocks": 4}, "dints"))
    table = pd.DataFrame(rows)
    unet = table[table.model == "MONAI UNet"].iloc[0]
    table["dice_vs_unet"] = table.test_dice / unet.test_dice
    table["time_vs_unet"] = (table.train_s + table.search_s) / unet.train_s
    return table


def trellis_row(args: argparse.Namespace, recipe, dataset: str) -> dict:
    """The Auto-DeepLab / MS-NAS trellis searched by PC-DARTS (cell alphas and scale betas),
    its Viterbi path + cell retrained with the NAS-Unet's recipe on the same splits."""
    from nasbench.config import DatasetConfig, SearchConfig

    space = {
        "name": "trellis",
        "num_layers": args.trellis_layers,
        "n_nodes": args.nodes,
        "skeleton": {"depth": args.depth, "channels": args.channels, "spatial_dims": args.dims},
    }
    config = SearchConfig(
        dataset=DatasetConfig(
            name=dataset, size=args.size, limit=args.limit, batch_size=args.batch_size
        ),
        space=space,
        strategy="pcdarts",
        epochs=args.search_epochs,
        w_lr=0.05,
        device=args.device,
        seed=args.seed,
    )
    return searched_row("Trellis (searched)", config, recipe, lambda g: f"path {g.path}")


def c2fnas_row(args: argparse.Namespace, recipe) -> dict:
    """C2FNAS on 3D volumes: stage 1 ranks ``--c2fnas-candidates`` U-shaped topologies by a
    short proxy training, stage 2 searches each cell's 2D/3D/P3D conv (``--strategy``,
    ``--search-epochs``); the genotype is retrained with the recipe of the other rows."""
    from nasbench.config import DatasetConfig, SearchConfig

    if args.dims != 3:
        raise SystemExit("--c2fnas searches 3D volumes; add --dims 3.")
    space = {
        "name": "c2fnas",
        "num_cells": args.c2fnas_cells,
        "candidates": args.c2fnas_candidates,
        "proxy_steps": 8,
        "skeleton": {"depth": args.depth, "channels": args.channels, "spatial_dims": 3},
    }
    config = SearchConfig(
        dataset=DatasetConfig(
            name="synthetic-seg3d", size=args.size, limit=args.limit, batch_size=args.batch_size
        ),
        space=space,
        strategy=args.strategy,
        epochs=args.search_epochs,
        w_lr=0.05,
        device=args.device,
        seed=args.seed,
    )
    return searched_row("C2FNAS (searched)", config, recipe, lambda g: g.to_json())


def volume_row(args: argparse.Namespace, recipe, name: str, space: dict, strategy: str) -> dict:
    """A 3D space searched on the same volumes (V-NAS: a 2D, 3D or pseudo-3D conv per
    layer; DiNTS: MONAI's topology and cell search), with the NAS-Unet's depth, width,
    search epochs and retraining recipe."""
    from nasbench.config import DatasetConfig, SearchConfig

    if args.dims != 3:
        raise SystemExit(f"--{space['name']} searches 3D volumes; add --dims 3.")
    config = SearchConfig(
        dataset=DatasetConfig(
            name="synthetic-seg3d", size=args.size, limit=args.limit, batch_size=args.batch_size
        ),
        space={
            **space,
            "skeleton": {"depth": args.depth, "channels": args.channels, "spatial_dims": 3},
        },  # fmt: skip
        strategy=strategy,
        epochs=args.search_epochs,
        w_lr=0.05,
        device=args.device,
        seed=args.seed,
    )
    return searched_row(f"{name} (searched)", config, recipe, lambda g: g.to_json())


def searched_row(model: str, config, recipe, describe) -> dict:
    """Search ``config`` in a temporary folder, retrain its genotype with ``recipe``, and
    return the table row (``describe(genotype)`` is printed with the search time)."""
    from nasbench.engine.search import search
    from nasbench.evaluation.final_evaluation import retrain

    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        start = time.perf_counter()
        result = search(config, run_dir)
        search_s = time.perf_counter() - start
        print(f"{model} searched in {search_s:.1f}s: {describe(result.genotype)}")
        res = retrain(run_dir, recipe, baseline=False).results["searched"]
    return {
        "model": model,
        "params": res.params,
        "test_dice": res.test["dice"],
        **{k: v for k, v in res.test.items() if k.startswith("dice_")},
        "test_hd95": res.test.get("hd95"),
        "train_s": res.wall_s,
        "search_s": search_s,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    args = parse_args(argv)
    table = run(args)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.json:
        Path(args.json).write_text(json.dumps(table.to_dict("records"), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
