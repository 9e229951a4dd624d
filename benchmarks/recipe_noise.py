"""Training-seed noise of ``retrain``'s recipe, and what EMA weights and flip TTA do to it.

One training run per (model, seed), scored four ways at once: the raw weights or an
exponential moving average of them (one per ``--decays``), each with and without flip
test-time augmentation. Neither changes training (the average only reads the weights, TTA
only evaluation), so every variant comes from the same trajectory, exactly as
``train_model`` would produce it with ``ema_decay``/``tta_flip`` set: per variant the
epoch with the best validation AUC (ties: the lower validation loss) is kept and scored on
the whole test split. The models are the small CNN baseline and a fixed cell (a zoo name
or DARTS text) at ``--cells``/``--channels``, built as ``retrain`` builds it.

Usage:
    python benchmarks/recipe_noise.py --model cnn --seeds 0 1 2 3
    python benchmarks/recipe_noise.py --model DARTS_V2 --cells 8 --channels 16 --seeds 1 2
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "medmnist"


def make_model(args: argparse.Namespace, seed: int) -> torch.nn.Module:
    """The small CNN, or the cell in the skeleton ``retrain`` would build, seeded."""
    from nasbench.data import get_info
    from nasbench.evaluation.baselines import small_cnn
    from nasbench.evaluation.final_evaluation import _parse, _seeded, _skeleton
    from nasbench.evaluation.train_loop import TrainConfig
    from nasbench.models import build
    from nasbench.spaces.zoo import zoo

    info = get_info(args.dataset)
    if args.model == "cnn":
        return _seeded(seed, small_cnn, info.spatial_dims, info.in_channels, info.num_classes)
    genotype = zoo[args.model] if args.model in zoo else _parse(args.model)
    grown = {"n_cells": args.cells, "channels": args.channels}
    skeleton = _skeleton({"space": {"name": "darts"}}, info, genotype, TrainConfig(), grown)
    return build(genotype, skeleton, seed=seed)


def run(args: argparse.Namespace, seed: int, splits: dict) -> dict[str, tuple[float, float, int]]:
    """Train once with ``seed``; test (AUC, ACC, kept epoch) per scoring variant."""
    import nasbench.evaluation.train_loop as tl
    from nasbench.data.batches import EpochBatches

    config = tl.TrainConfig(epochs=args.epochs, seed=seed, device="cpu").validate()
    mirrored = dataclasses.replace(config, tta_flip=True)
    model = make_model(args, seed)
    task = tl._task(args.task, splits["train"], config)
    loss_fn, device = task.loss(), torch.device("cpu")
    batches = EpochBatches(splits["train"], config.batch_size, config.seed, stream=tl.TRAIN_STREAM)
    optimizer = tl._optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=config.epochs, eta_min=config.lr_min
    )
    val_set, test_set = tl._Evaluation(splits["val"]), tl._Evaluation(splits["test"])
    averages = {f"ema{d:g}": tl.WeightAverage(model, d) for d in args.decays}

    class Every:
        def update(self, trained: torch.nn.Module) -> None:
            for average in averages.values():
                average.update(trained)

    best: dict[str, tuple] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        for epoch in range(config.epochs):
            tl._set_drop_path(model, config, epoch)
            tl._train_epoch(model, batches, epoch, optimizer, loss_fn, task, config, Every())
            scheduler.step()
            scored = {"raw": model, **{k: a.model for k, a in averages.items()}}
            for name, net in scored.items():
                for suffix, recipe in (("", config), ("+tta", mirrored)):
                    val = tl._evaluate(net, val_set, loss_fn, task, recipe, device, full=False)
                    key = tl._selection_key(val, "auc", task)
                    if name + suffix not in best or key > best[name + suffix][0]:
                        best[name + suffix] = (key, epoch, tl._state_copy(net), recipe)
    out = {}
    for name, (_, epoch, state, recipe) in best.items():
        net = make_model(args, seed)
        net.load_state_dict(state)
        test = tl._evaluate(net, test_set, loss_fn, task, recipe, device)
        out[name] = (test["auc"], test["acc"], epoch)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run every seed, print each one's variants and the mean ± std per variant."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--dataset", default="breastmnist", help="a MedMNIST 2D set")
    parser.add_argument("--root", default=str(SHARED), help="folder holding <dataset>.npz")
    parser.add_argument("--model", default="cnn", help="cnn, a zoo cell or DARTS text")
    parser.add_argument("--cells", type=int, default=8, help="cells (a cell model)")
    parser.add_argument("--channels", type=int, default=16, help="channels (a cell model)")
    parser.add_argument("--epochs", type=int, default=30, help="training epochs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--decays", type=float, nargs="+", default=[0.9, 0.99], help="EMA")
    args = parser.parse_args(argv)
    from nasbench.data import get_info, load

    args.task = get_info(args.dataset).task
    torch.set_num_threads(1)
    splits = {
        s: load(args.dataset, s, root=args.root, download=False) for s in ("train", "val", "test")
    }
    results = []
    for seed in args.seeds:
        started = time.monotonic()
        results.append(run(args, seed, splits))
        cells = "  ".join(f"{k} {a:.3f}/{c:.3f}@{e}" for k, (a, c, e) in results[-1].items())
        print(f"seed {seed} ({time.monotonic() - started:.0f} s): {cells}", flush=True)
    print(f"{args.model} on {args.dataset}, seeds {args.seeds}: test AUC / ACC, mean ± std")
    for name in results[0]:
        auc = [r[name][0] for r in results]
        acc = [r[name][1] for r in results]
        spread = (lambda v: statistics.stdev(v)) if len(results) > 1 else (lambda v: 0.0)
        print(f"  {name:<12} {statistics.mean(auc):.3f} ± {spread(auc):.3f}   "
              f"{statistics.mean(acc):.3f} ± {spread(acc):.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
