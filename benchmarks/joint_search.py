"""Joint architecture + hyper-parameter search (AutoHAS) against the two-stage habit:
architecture search at default hyper-parameters, then a separate HP search, at equal budget.

Per seed, every method spends the same budget (``--budget`` shared-weight
steps, or the images they train on) on the NB201 space:

- ``joint``: one AutoHAS search over the cell *and* the hyper-parameters;
- ``two_stage``: AutoHAS with every hyper-parameter fixed to its default for
  ``budget // 2`` steps (a pure architecture search on shared weights, ENAS-like),
  then AutoHAS with that cell fixed for the other half (a pure HP search on shared
  weights, REINFORCE over the same choices);
- ``two_stage_bo``: the same architecture stage, then the project's Bayesian
  optimisation over the HP grid (:class:`nasbench.spaces.hyperparameters.HPSpace`),
  each setting trained from scratch for ``--hp-epochs``, with as many settings as the
  images of the shared HP stage buy (at least one).

Each method's final pick (the policy's most probable cell and values, or BO's best) is trained
from scratch with the ``train`` evaluator at the picked learning rate, weight decay,
batch size and augmentation (on when the picked strength is above 0) for
``--epochs`` epochs; the table reports test accuracy, mean ± std over the seeds, and
the search's wall time and images.

Usage::

    python benchmarks/joint_search.py                   # synthetic, 3 seeds
    python benchmarks/joint_search.py --dataset breastmnist --root ../shared/data/medmnist
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from _script import count, output_file, run_main, write_text

DEFAULT_HPS = {"lr": 0.05, "weight_decay": 3e-4, "augment": 0.0, "batch_size": 32}


# two_stage spends budget // 2 on its architecture stage and the rest on its HP stage;
# each is a search of at least one candidate.
MIN_BUDGET = 2


@dataclass(frozen=True)
class JointSettings:
    """Sizes of one comparison (CPU-sized: a few minutes on 2 loaded cores)."""

    dataset: str = "synthetic"
    root: str | None = None
    seeds: int = 3
    budget: int = 120
    epochs: int = 6
    n_cells: int = 5
    channels: int = 8
    limit: int | None = None
    hp_epochs: int = 1


def _search(strategy_config: dict[str, Any], budget: int, data: tuple, seed: int) -> Any:
    """One AutoHAS search of ``budget`` candidates; returns the strategy and its images seen."""
    from nasbench.spaces import NB201Space
    from nasbench.strategies import create_strategy
    from nasbench.strategies.discrete import Budget, run_discrete

    train, val, _, info = data
    strategy = create_strategy("autohas", strategy_config, space=NB201Space(), seed=seed)
    evaluator = strategy.bind(train, val, info.task, device="cpu")
    out = run_discrete(strategy, evaluator, Budget(max_evaluations=budget), cache="none")
    return strategy, sum(t.result.cost["images"] for t in out.history)


def _train(genotype: Any, hps: dict[str, float], epochs: int, spec: Any, net: dict, seed: int):
    """Train ``genotype`` from scratch with the recipe ``hps`` (augmentation on above 0)."""
    from nasbench.evaluation import create_evaluator
    from nasbench.spaces import NB201Space

    recipe = {
        "epochs": epochs,
        "lr": float(hps["lr"]),
        "weight_decay": float(hps["weight_decay"]),
        "batch_size": int(hps["batch_size"]),
        "augment": hps["augment"] > 0,
        "metric": "val_auc",  # short runs on an imbalanced set tie on accuracy
        "skeleton": net,
        "device": "cpu",
    }
    trainer = create_evaluator("train", recipe, space=NB201Space(), dataset=spec, seed=seed)
    return trainer.evaluate(genotype)


class RecipeEvaluator:
    """Scores a hyper-parameter setting by training one fixed cell from scratch with it.

    Args:
        genotype: the cell (found by the architecture stage).
        epochs: training epochs per setting.
        spec: the data.
        net: the skeleton.
        seed: the training seed.
        train_size: images in the training split (one setting costs ``epochs`` of them).
    """

    def __init__(
        self, genotype: Any, epochs: int, spec: Any, net: dict, seed: int, train_size: int
    ):
        self.genotype, self.epochs, self.spec, self.net, self.seed = (
            genotype,
            epochs,
            spec,
            net,
            seed,
        )
        self.images_per_setting = epochs * train_size

    def evaluate(self, setting: Any, budget: float | None = None) -> Any:
        """``score`` = validation AUC after ``epochs``; cost ``images`` trained on."""
        from nasbench.evaluation import Result

        result = _train(
            self.genotype, setting.as_dict(), self.epochs, self.spec, self.net, self.seed
        )
        return Result({"score": result.score}, {"images": float(self.images_per_setting)})


def _bayesopt_hps(cell: Any, images: float, settings: JointSettings, spec, net, seed, train_size):
    """The project's Bayesian optimisation over the HP grid, each setting trained from
    scratch for ``hp_epochs``, with as many settings as ``images`` allow (at least one)."""
    from nasbench.spaces.hyperparameters import HPSpace
    from nasbench.strategies import create_strategy
    from nasbench.strategies.discrete import Budget, run_discrete
    from nasbench.strategies.discrete.autohas import HP_NAMES, AutoHasConfig

    space = HPSpace({name: getattr(AutoHasConfig(), name) for name in HP_NAMES})
    evaluator = RecipeEvaluator(cell, settings.hp_epochs, spec, net, seed, train_size)
    trials = max(1, round(images / evaluator.images_per_setting))
    # Random proposals first, at least one setting left to the GP (bayesopt refuses less).
    config = {"n_initial": max(1, min(3, trials - 1)), "pool_size": 50, "n_mutations": 20}
    strategy = create_strategy("bayesopt", config, space=space, seed=seed)
    out = run_discrete(strategy, evaluator, Budget(max_evaluations=trials))
    return out.best_genotype.as_dict(), out.evaluations * evaluator.images_per_setting


def run_comparison(settings: JointSettings, log: Any = print) -> pd.DataFrame:
    """Every method on every seed, each pick trained from scratch.

    Args:
        settings: sizes and data.
        log: called with one line per finished method and seed.

    Returns:
        One row per (method, seed): ``cell``, the picked HPs, ``test_acc``, ``val_acc``,
        ``search_s``, ``images``.
    """
    from nasbench.evaluation.train_evaluator import DataSpec, load_evaluation_data

    s = settings
    spec = DataSpec(s.dataset, 28, s.limit, s.root, download=s.root is None)
    net = {"n_cells": s.n_cells, "channels": s.channels}
    rows = []
    for seed in range(s.seeds):
        data = load_evaluation_data(spec, seed)
        half = s.budget // 2
        if seed == 0:  # untimed: the process's first-call costs would land on joint's clock
            _search(net, 1, data, seed)
        start = time.perf_counter()
        joint, images = _search(net, s.budget, data, seed)
        joint_s = time.perf_counter() - start
        picks = {"joint": (joint.best_genotype(), joint.best_hps(), images, joint_s)}
        start = time.perf_counter()
        fixed = {name: [value] for name, value in DEFAULT_HPS.items()}
        arch, images_a = _search({**net, **fixed}, half, data, seed)
        cell = arch.best_genotype()
        stage_a = time.perf_counter() - start
        hp, images_b = _search(
            {**net, "architecture": cell.to_string()}, s.budget - half, data, seed
        )
        picks["two_stage"] = (cell, hp.best_hps(), images_a + images_b, time.perf_counter() - start)
        start = time.perf_counter()
        hps, images_c = _bayesopt_hps(cell, images_b, s, spec, net, seed, len(data[0]))
        bo_s = stage_a + time.perf_counter() - start
        picks["two_stage_bo"] = (cell, hps, images_a + images_c, bo_s)
        for method, (genotype, hps, images, search_s) in picks.items():
            result = _train(genotype, hps, s.epochs, spec, net, seed)
            row = {
                "method": method,
                "seed": seed,
                "cell": genotype.to_string(),
                **hps,
                "test_acc": result.metrics["test_acc"],
                "test_auc": result.metrics["test_auc"],
                "val_acc": result.metrics["val_acc"],
                "images": images,
                "search_s": search_s,
            }
            rows.append(row)
            log(f"seed {seed} {method}: test_acc {row['test_acc']:.3f} hps {hps}")
    return pd.DataFrame(rows)


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of test accuracy (and mean test AUC), images and search time per method."""
    return frame.groupby("method").agg(
        test_acc_mean=("test_acc", "mean"),
        test_acc_std=("test_acc", "std"),
        test_auc_mean=("test_auc", "mean"),
        images=("images", "mean"),
        search_s=("search_s", "mean"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = JointSettings()
    parser.add_argument("--dataset", default=defaults.dataset)
    parser.add_argument("--root", default=None, help="folder of the dataset's .npz (offline)")
    for name in ("seeds", "budget", "epochs", "n_cells", "channels", "limit", "hp_epochs"):
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=count(1), default=getattr(defaults, name)
        )
    parser.add_argument(
        "--csv", type=output_file, default=None, help="write the per-seed rows here"
    )
    args = parser.parse_args(argv)
    if args.budget < MIN_BUDGET:
        parser.error(
            f"argument --budget: must be at least {MIN_BUDGET}, got {args.budget}: two_stage "
            "splits it into an architecture stage of budget // 2 searches and an HP stage "
            "of the rest, each at least 1"
        )
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    settings = JointSettings(**{k: v for k, v in vars(args).items() if k != "csv"})
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"load average {os.getloadavg()[0]:.2f}; {settings}",
        flush=True,
    )
    frame = run_comparison(settings, log=lambda line: print(line, flush=True))
    with pd.option_context("display.width", 160, "display.max_columns", 12):
        print(frame.drop(columns=["cell"]).to_string(index=False, float_format="{:.4g}".format))
        print(summarise(frame).to_string(float_format="{:.3f}".format))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.csv:
        write_text(args.csv, frame.to_csv(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
