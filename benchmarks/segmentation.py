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
    python benchmarks/segmentation.py --seeds 0 1 2             # mean ± std over seeds

Search small, retrain larger: the derived NAS-Unet is retrained at ``--retrain-depth``
(default 3) and ``--retrain-channels`` (default: the widest width, no narrower than the
searched one, whose parameters stay at most the same-run U-Net's; 0 for either: as
searched), with the U-Net's recipe; each run checks and prints the parameters against the
U-Net's (``params check``, ``params_vs_unet``). On small images (28 px) the U-Net is so
small that even the searched width exceeds it: the searched width is kept and the check
says ``EXCEEDS``.
In 3D the fitted network matches the 3D U-Net's 1.2M parameters, which is slow on a CPU:
add ``--retrain-channels 0 --retrain-depth 0`` for the searched skeleton.

The NAS-Unet gets non-linear stems by default (``--stem-kernel 3 --stem-convs 3``: a 3x3
full-resolution stem, three convs per stem), searched and retrained alike; ``--stem-kernel 1
--stem-convs 1`` is NAS-Unet as published. ``--seg-loss dicece_batch`` trains every
retrained network with Dice over the batch (default: the plain DiceCE).
benchmarks/README.md has what each measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _script import count, output_file, positive_number, refuse_failing, run_main, write_json

# Search small, retrain larger (as benchmarks/medmnist.py): the derived NAS-Unet is
# retrained at this depth (the U-Net's three levels) and, by default, the widest width whose
# parameters stay at most the same-run U-Net's.
RETRAIN_DEPTH = 3
# The NAS-Unet's stems (searched and retrained alike): a 3x3 full-resolution stem and three
# convs per stem, so the decoder's full- and half-resolution skips are non-linear. NAS-Unet
# as published is --stem-kernel 1 --stem-convs 1 (benchmarks/README.md, issue 20).
STEM_KERNEL = 3
STEM_CONVS = 3
SEARCHED_MODEL = "NAS-Unet (searched)"
UNET_MODEL = "MONAI UNet"

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dims", type=int, choices=(2, 3), default=2)
    p.add_argument(
        "--size", type=count(1), default=64,
        help="image edge (2D: 28, 64 or 128, default 64; 3D: 28, 32 or 64, e.g. 32)",
    )  # fmt: skip
    p.add_argument("--limit", type=count(1), default=160, help="images per split")
    p.add_argument("--strategy", default="proxyless", help="darts, gdas or proxyless")
    p.add_argument("--search-epochs", type=count(1), default=3)
    p.add_argument("--train-epochs", type=count(1), default=12)
    p.add_argument("--batch-size", type=count(1), default=8)
    p.add_argument(
        "--lr", type=positive_number, default=0.005, help="Adam learning rate (both nets)"
    )
    p.add_argument(
        "--seg-loss", default="dicece", choices=("dicece", "dicece_batch"),
        help="training loss of every retrained network (dicece_batch: Dice over the batch)",
    )  # fmt: skip
    p.add_argument("--nodes", type=count(1), default=2, help="NAS-Unet nodes per cell")
    p.add_argument("--depth", type=count(1), default=2, help="DownSC cells (U-Net levels)")
    p.add_argument("--channels", type=count(1), default=8)
    p.add_argument(
        "--stem-kernel", type=count(1), default=STEM_KERNEL,
        help="kernel of the NAS-Unet's full-resolution stem, searched and retrained (1: as "
        "NAS-Unet; 3: sees each pixel's neighbourhood)",
    )  # fmt: skip
    p.add_argument(
        "--stem-convs", type=count(1), default=STEM_CONVS,
        help="convolutions per NAS-Unet stem, searched and retrained (1: as NAS-Unet)",
    )  # fmt: skip
    p.add_argument(
        "--retrain-channels", type=int, default=-1,
        help="channels of the retrained NAS-Unet (0: as searched; -1: the widest whose "
        "parameters stay at most the same-run U-Net's, never narrower than searched)",
    )  # fmt: skip
    p.add_argument(
        "--retrain-depth", type=int, default=RETRAIN_DEPTH,
        help="DownSC cells of the retrained NAS-Unet (0: as searched)",
    )  # fmt: skip
    p.add_argument(
        "--trellis-layers",
        type=count(0),
        default=4,
        help="trellis row's layers (0: no trellis row)",
    )
    p.add_argument("--c2fnas", action="store_true", help="3D: add a C2FNAS row (two stages)")
    p.add_argument("--c2fnas-cells", type=count(1), default=5, help="C2FNAS cells")
    p.add_argument(
        "--c2fnas-candidates", type=count(1), default=4, help="C2FNAS stage-1 topologies"
    )
    p.add_argument("--vnas", action="store_true", help="3D: add a V-NAS row (2D/3D/P3D per layer)")
    p.add_argument("--dints", action="store_true", help="3D: add a DiNTS row (MONAI's DiNTS)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--seed", type=int, default=0, help="the seed when --seeds is not given")
    p.add_argument(
        "--seeds", type=int, nargs="+", default=None,
        help="run once per seed and print mean ± std per row (default: --seed only)",
    )  # fmt: skip
    p.add_argument("--json", type=output_file, default=None, help="also write the table here")
    args = p.parse_args(argv)
    if args.retrain_channels < -1:
        p.error(f"--retrain-channels must be -1 (fit the U-Net), 0 or positive, got "
                f"{args.retrain_channels}.")  # fmt: skip
    if args.retrain_depth < 0:
        p.error(f"--retrain-depth must be 0 (as searched) or positive, got {args.retrain_depth}.")
    args.seeds = list(args.seeds) if args.seeds else [args.seed]
    if len(set(args.seeds)) != len(args.seeds):
        p.error(f"--seeds must differ, got {args.seeds}.")
    refuse_bad_names(p, args)
    return args


def refuse_bad_names(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A one-line usage error for an unknown --strategy or --device, before any search
    (a --size the dataset does not offer: :func:`main`)."""
    from nasbench.device import resolve_device
    from nasbench.strategies import get_strategy

    refuse_failing(p, [("--strategy", lambda: get_strategy(args.strategy)),
                       ("--device", lambda: resolve_device(args.device))])  # fmt: skip


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
        "skeleton": {
            "depth": args.depth,
            "channels": args.channels,
            "spatial_dims": args.dims,
            "stem_kernel": args.stem_kernel,
            "stem_convs": args.stem_convs,
        },
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
        seg_loss=args.seg_loss,
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    print(f"dataset {dataset} at {args.size}^{args.dims}, {args.limit} images per split")
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        start = time.perf_counter()
        result = search(config, run_dir)
        search_s = time.perf_counter() - start
        print(f"searched in {search_s:.1f}s: {result.genotype.to_darts_text()}")
        grown = retrain_skeleton(args, result.genotype, dataset)
        print(f"retraining the NAS-Unet at {grown or 'the searched skeleton'}")
        report = retrain(run_dir, recipe, baseline=True, skeleton=grown)
    rows = []
    for name, res in report.results.items():
        rows.append(
            {
                "model": {"searched": SEARCHED_MODEL, "unet": UNET_MODEL}.get(name, name),
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
    unet = table[table.model == UNET_MODEL].iloc[0]
    table["params_vs_unet"] = table.params / unet.params
    table["dice_vs_unet"] = table.test_dice / unet.test_dice
    table["time_vs_unet"] = (table.train_s + table.search_s) / unet.train_s
    print(params_check(table))
    return table


def retrain_skeleton(args: argparse.Namespace, genotype, dataset: str) -> dict:
    """The fields of the searched skeleton the NAS-Unet is retrained with changed.

    Args:
        args: ``--retrain-depth`` (0: as searched) and ``--retrain-channels`` (0: as
            searched; -1: :func:`fit_channels`, the widest at most the U-Net's parameters).
        genotype: the derived NAS-Unet genotype (its ops set the parameters per width).
        dataset: the dataset name (input channels, classes, dims).

    Returns:
        A dict for ``retrain(skeleton=...)``, e.g. ``{"depth": 3, "channels": 14}``.
    """
    depth = args.retrain_depth or args.depth
    channels = args.retrain_channels
    if channels == -1:
        stem = {"stem_kernel": args.stem_kernel, "stem_convs": args.stem_convs}
        channels = fit_channels(genotype, dataset, args.size, depth, start=args.channels, **stem)
    grown = {"channels": channels, "depth": args.retrain_depth}
    return {name: value for name, value in grown.items() if value}


def count_params(model) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def unet_params(dataset: str, size: int) -> int:
    """Parameters of the MONAI U-Net ``retrain`` trains as the baseline on ``dataset``."""
    from nasbench.data import get_info
    from nasbench.evaluation.final_evaluation import unet_for_size

    info = get_info(dataset)
    return count_params(unet_for_size(size)(info.spatial_dims, info.in_channels, info.num_classes))


def fit_channels(
    genotype,
    dataset: str,
    size: int,
    depth: int,
    start: int = 1,
    stem_kernel: int = 1,
    stem_convs: int = 1,
) -> int:
    """The widest NAS-Unet (``genotype`` at ``depth``) with at most the U-Net's parameters.

    Args:
        genotype: the NAS-Unet genotype to build.
        dataset: the dataset name (input channels, classes, dims).
        size: image edge (sets the U-Net's levels).
        depth: DownSC cells of the network built.
        start: the smallest width tried (the searched one); returned even when it is
            over the U-Net's parameters (the check after training says so).
        stem_kernel: kernel of the full-resolution stem (the skeleton's ``stem_kernel``).
        stem_convs: convolutions per stem (the skeleton's ``stem_convs``).

    Returns:
        The channel count.
    """
    from nasbench.data import get_info
    from nasbench.models import build
    from nasbench.spaces.skeleton import UNetSkeleton

    info = get_info(dataset)
    limit = unet_params(dataset, size)

    def params(channels: int) -> int:
        skeleton = UNetSkeleton(
            depth=depth,
            channels=channels,
            in_channels=info.in_channels,
            num_classes=info.num_classes,
            spatial_dims=info.spatial_dims,
            stem_kernel=stem_kernel,
            stem_convs=stem_convs,
        )
        return count_params(build(genotype, skeleton, seed=0))

    channels = max(1, start)
    while params(channels + 1) <= limit:
        channels += 1
    return channels


def params_check(table: pd.DataFrame) -> str:
    """One line: are the retrained NAS-Unet's parameters at most the same-run U-Net's?

    Args:
        table: one seed's table (rows ``NAS-Unet (searched)`` and ``MONAI UNet``).

    Returns:
        ``"params check: NAS-Unet 123 <= MONAI UNet 456 (0.27x): ok"``, or ``EXCEEDS``
        in place of ``ok`` (with ``>``) when the searched network is the larger.

    Example:
        >>> params_check(pd.DataFrame({"model": [SEARCHED_MODEL, UNET_MODEL],
        ...                            "params": [10, 40]}))
        'params check: NAS-Unet 10 <= MONAI UNet 40 (0.25x): ok'
    """
    params = table.set_index("model")["params"]
    ours, unet = int(params[SEARCHED_MODEL]), int(params[UNET_MODEL])
    sign, word = ("<=", "ok") if ours <= unet else (">", "EXCEEDS the U-Net")
    return f"params check: NAS-Unet {ours} {sign} MONAI UNet {unet} ({ours / unet:.2f}x): {word}"


def summarise(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Mean ± std over seeds per model (row order of the first table).

    ``dice_vs_unet`` is each seed's ratio to that seed's U-Net, averaged over seeds;
    ``params`` is the mean (the searched cells, hence parameters, change with the seed).

    Args:
        tables: what :func:`run` returned, one per seed, each with a ``seed`` column.

    Returns:
        One row per model: ``test_dice``, ``dice_vs_unet`` and ``params_vs_unet`` as
        ``"0.512 ± 0.010"`` text, ``dice_mean``, ``dice_std``, ``ratio_mean``,
        ``ratio_std`` as numbers, ``params``, mean ``train_s`` and ``search_s``, ``seeds``.

    Example:
        >>> t = [pd.DataFrame({"model": ["a", UNET_MODEL], "params": [1, 2], "seed": s,
        ...                    "test_dice": [d, 0.5], "dice_vs_unet": [d / 0.5, 1.0],
        ...                    "params_vs_unet": [0.5, 1.0], "train_s": 1.0, "search_s": 0.0})
        ...      for s, d in ((0, 0.4), (1, 0.6))]
        >>> summarise(t).loc[0, "test_dice"]
        '0.500 ± 0.141'
    """
    frame = pd.concat(tables, ignore_index=True)
    out = []
    for model, group in frame.groupby("model", sort=False):

        def spread(column: str, group=group) -> tuple[float, float]:
            values = group[column].astype(float)
            return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0

        dice, ratio, params = spread("test_dice"), spread("dice_vs_unet"), spread("params_vs_unet")
        out.append({
            "model": model,
            "params": int(round(group["params"].mean())),
            "test_dice": f"{dice[0]:.3f} ± {dice[1]:.3f}",
            "dice_vs_unet": f"{ratio[0]:.3f} ± {ratio[1]:.3f}",
            "params_vs_unet": f"{params[0]:.3f} ± {params[1]:.3f}",
            "dice_mean": dice[0],
            "dice_std": dice[1],
            "ratio_mean": ratio[0],
            "ratio_std": ratio[1],
            "train_s": round(float(group["train_s"].mean()), 1),
            "search_s": round(float(group["search_s"].mean()), 1),
            "seeds": len(group),
        })  # fmt: skip
    return pd.DataFrame(out)


def verdict(summary: pd.DataFrame) -> str:
    """One line: does the searched NAS-Unet reach the U-Net's mean Dice at no more parameters?

    Args:
        summary: :func:`summarise`'s table.

    Returns:
        ``"verdict: met ..."`` or ``"verdict: not met ..."`` with the mean Dice of both,
        their ratio and the mean parameters of both.
    """
    rows = summary.set_index("model")
    ours, unet = rows.loc[SEARCHED_MODEL], rows.loc[UNET_MODEL]
    dice_ok = ours.dice_mean >= unet.dice_mean
    params_ok = ours.params <= unet.params
    word = "met" if dice_ok and params_ok else "not met"
    return (
        f"verdict: {word}: NAS-Unet Dice {ours.dice_mean:.3f} vs MONAI UNet {unet.dice_mean:.3f} "
        f"(ratio {ours.ratio_mean:.3f} ± {ours.ratio_std:.3f} over {int(ours.seeds)} seeds), "
        f"params {int(ours.params)} vs {int(unet.params)}"
    )


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
    from nasbench.data import get_info

    args = parse_args(argv)
    sizes = get_info("synthetic-seg3d" if args.dims == 3 else "synthetic-seg").sizes
    if args.size not in sizes:  # before any seed's header or search
        print(
            f"segmentation.py: error: --size {args.size} is not offered in {args.dims}D; use "
            f"one of {list(sizes)}.",
            file=sys.stderr,
        )
        return 2
    tables = []
    for seed in args.seeds:
        print(f"--- seed {seed}")
        table = run(argparse.Namespace(**{**vars(args), "seed": seed}))
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        tables.append(table.assign(seed=seed))
    summary = summarise(tables)
    if len(tables) > 1:
        print(f"--- mean ± std over seeds {args.seeds}")
        shown = ["model", "params", "test_dice", "dice_vs_unet", "params_vs_unet"]
        print(summary[shown + ["train_s", "search_s"]].to_string(index=False))
    print(verdict(summary))
    if args.json:
        records = pd.concat(tables, ignore_index=True).to_dict("records")
        write_json(args.json, {"runs": records, "summary": summary.to_dict("records")})
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
