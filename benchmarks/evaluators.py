"""How well does each evaluation strategy rank architectures, and what does it cost?

One fixed sample of NAS-Bench-201 cells (``--n``, drawn with ``--seed``) is trained
from scratch with the ``train`` evaluator (the ground truth: test accuracy after
``--train-epochs`` epochs, averaged over ``--truth-seeds`` training seeds; one seed
against another measures the ranking's own noise), then scored by every cheaper evaluator:

- ``smash``: the SMASH hypernetwork, trained once (``--smash-epochs``), scored by
  validation loss with generated weights (Brock et al., 2018);
- ``weight_sharing``: a single-path supernet trained once (``--ws-epochs``);
- ``proxy:<name>``: each zero-cost proxy at initialisation;
- ``short_training``: the same recipe stopped after ``--short-epochs`` epochs, scored
  by validation AUC;
- ``params``: the parameter count, the baseline a cheap evaluator should beat.

For each it prints Spearman's rho and Kendall's tau against the ground truth (and
Spearman's rho against the from-scratch test AUC, ``spearman_rho_auc``), the
one-time cost (a supernet or hypernetwork trained once), the cost per candidate and
the total wall time; ``--json`` keeps the table and the per-architecture scores, and
``--html`` writes :func:`nasbench.viz.plot_evaluator_correlations` of it.

Usage::

    python benchmarks/evaluators.py                                  # synthetic, 30 cells
    python benchmarks/evaluators.py --dataset breastmnist --root ../shared/data/medmnist \\
        --json evaluators.json --html evaluators.html
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from _script import count, output_file, run_main, write_json, write_text

# A rank correlation needs at least 3 candidates (nasbench.viz.proxies.MIN_POINTS):
# fewer give NaN for every evaluator.
MIN_CANDIDATES = 3
PROXY_NAMES = ("naswot", "synflow", "grad_norm", "snip", "jacob_cov")


@dataclass(frozen=True)
class BenchSettings:
    """Sizes of one benchmark run. CPU-sized: on 2 cores at load average 4, one training
    seed of the 30 cells takes about 8 minutes and the other evaluators about 7."""

    dataset: str = "synthetic"
    root: str | None = None
    n: int = 30
    seed: int = 0
    channels: int = 8
    n_cells: int = 5
    limit: int | None = None
    train_epochs: int = 8
    truth_seeds: int = 2
    short_epochs: int = 1
    smash_epochs: int = 20
    ws_epochs: int = 20

    def skeleton(self) -> dict[str, int]:
        return {"n_cells": self.n_cells, "channels": self.channels}

    def data(self) -> Any:
        from nasbench.evaluation.train_evaluator import DataSpec

        return DataSpec(self.dataset, 28, self.limit, self.root, download=self.root is None)


def sample_architectures(space: Any, n: int, seed: int) -> list[Any]:
    """``n`` distinct cells (by canonical form), sampled uniformly with ``seed``.

    Raises:
        SpaceError: ``n`` is more than the space's distinct cells (sampling would not end).
    """
    from nasbench.errors import SpaceError

    distinct = len({space.canonical(g) for g in space.enumerate()})  # < 1 s for NB201
    if n > distinct:
        raise SpaceError(
            f"--n {n} is more than the {distinct:,} distinct cells of the space; "
            f"ask for at most {distinct:,}."
        )
    rng = np.random.default_rng(seed)
    seen, out = set(), []
    while len(out) < n:
        g = space.sample(rng)
        key = space.canonical(g)
        if key not in seen:
            seen.add(key)
            out.append(g)
    return out


def _score_all(name: str, evaluator: Any, genotypes: list[Any], budget: Any = None) -> dict:
    """Score every genotype; split the first call's one-time cost from the per-candidate cost."""
    scores, costs = [], []
    for g in genotypes:
        start = time.perf_counter()
        scores.append(evaluator.evaluate(g, budget).score)
        costs.append(time.perf_counter() - start)
    once = float(getattr(evaluator, "train_seconds", 0.0))
    costs[0] -= once
    return {"evaluator": name, "scores": scores, "once_s": once, "per_candidate_s": costs}


def run_benchmark(settings: BenchSettings, log: Any = print) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the sample with every evaluator and correlate each with from-scratch training.

    Args:
        settings: sizes and data.
        log: called with one progress line per evaluator.

    Returns:
        ``(table, scores)``: one row per evaluator (``spearman_rho``, ``kendall_tau``,
        ``spearman_rho_auc``, ``once_s``, ``per_candidate_s``, ``total_s``), and one row
        per architecture with each evaluator's score and the ground truth
        (``scratch_test_acc``, ``scratch_test_auc``).
    """
    from nasbench.evaluation import create_evaluator
    from nasbench.spaces import NB201Space
    from nasbench.viz.proxies import rank_correlations

    s = settings
    space = NB201Space()
    genotypes = sample_architectures(space, s.n, s.seed)
    data, skeleton = s.data(), s.skeleton()

    def make(name: str, config: dict[str, Any]) -> Any:
        device = {} if name == "proxy" else {"device": "cpu"}  # proxies run on the CPU anyway
        config = {**config, **device, "skeleton": skeleton}
        return create_evaluator(name, config, space=space, dataset=data, seed=s.seed)

    truths, scratch_s = [], 0.0
    for seed in range(s.truth_seeds):
        train = create_evaluator(
            "train",
            {"epochs": s.train_epochs, "skeleton": skeleton, "device": "cpu"},
            space=space,
            dataset=data,
            seed=s.seed + seed,
        )
        start = time.perf_counter()
        truths.append([train.evaluate(g) for g in genotypes])
        scratch_s += time.perf_counter() - start
        log(f"from scratch, seed {s.seed + seed}: {s.n} cells x {s.train_epochs} epochs")
    truth = truths[0]
    runs = []
    params = [r.cost["params"] for r in truth]
    runs.append({"evaluator": "params", "scores": params, "once_s": 0.0, "per_candidate_s": [0.0]})
    # Scored by validation AUC: after one epoch on an imbalanced set most networks predict
    # the majority class, so their validation accuracies tie and rank nothing.
    short = make("train", {"epochs": s.train_epochs, "metric": "val_auc"})
    runs.append(
        _score_all(f"short_training ({s.short_epochs} ep)", short, genotypes, s.short_epochs)
    )
    for proxy in PROXY_NAMES:
        runs.append(_score_all(f"proxy:{proxy}", make("proxy", {"proxy": proxy}), genotypes))
    ws = make("weight_sharing", {"epochs": s.ws_epochs})
    runs.append(_score_all(f"weight_sharing ({s.ws_epochs} ep)", ws, genotypes))
    smash = make("smash", {"epochs": s.smash_epochs})
    runs.append(_score_all(f"smash ({s.smash_epochs} ep)", smash, genotypes))
    # The ground truth averages the training seeds; one seed against another measures the
    # ranking's own noise (not a ceiling: the seeds' mean is steadier than one seed).
    per_seed = np.array([[r.metrics["test_acc"] for r in t] for t in truths])
    ground = per_seed.mean(axis=0)
    ground_auc = np.array([[r.metrics["test_auc"] for r in t] for t in truths]).mean(axis=0)
    rows = []
    for run in runs:
        values = np.asarray(run["scores"], dtype=float)
        corr = rank_correlations(values, ground)
        per = float(np.mean(run["per_candidate_s"]))
        rows.append(
            {
                "evaluator": run["evaluator"],
                "spearman_rho": corr["spearman_rho"],
                "kendall_tau": corr["kendall_tau"],
                "spearman_rho_auc": rank_correlations(values, ground_auc)["spearman_rho"],
                "once_s": run["once_s"],
                "per_candidate_s": per,
                "total_s": run["once_s"] + per * s.n,
            }
        )
        log(f"{run['evaluator']}: rho {corr['spearman_rho']:.3f}")
    if s.truth_seeds > 1:
        ceiling = rank_correlations(per_seed[1], per_seed[0])
        rows.append(
            {
                "evaluator": f"from scratch ({s.train_epochs} ep), seed vs seed",
                "spearman_rho": ceiling["spearman_rho"],
                "kendall_tau": ceiling["kendall_tau"],
                "spearman_rho_auc": math.nan,
                "once_s": 0.0,
                "per_candidate_s": scratch_s / s.truth_seeds / s.n,
                "total_s": scratch_s / s.truth_seeds,
            }
        )
    scores = pd.DataFrame(
        {
            "genotype": [g.to_string() for g in genotypes],
            "scratch_test_acc": ground,
            "scratch_test_auc": ground_auc,
        }
    )
    for run in runs:
        scores[run["evaluator"]] = run["scores"]
    return pd.DataFrame(rows), scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = BenchSettings()
    parser.add_argument("--dataset", default=defaults.dataset)
    parser.add_argument("--root", default=None, help="folder of the dataset's .npz (offline)")
    least = {"n": MIN_CANDIDATES, "seed": None}  # every other size: at least 1
    names = ("n", "seed", "channels", "n_cells", "limit", "train_epochs", "truth_seeds")
    for name in (*names, "short_epochs", "smash_epochs", "ws_epochs"):
        minimum = least.get(name, 1)
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=int if minimum is None else count(minimum),
            default=getattr(defaults, name),
        )
    parser.add_argument(
        "--json", type=output_file, default=None, help="write the table and scores here"
    )
    parser.add_argument(
        "--html", type=output_file, default=None, help="write the correlation figure here"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    settings = BenchSettings(**{k: v for k, v in vars(args).items() if k not in ("json", "html")})
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"load average {os.getloadavg()[0]:.2f}; {settings}",
        flush=True,
    )
    table, scores = run_benchmark(settings, log=lambda line: print(line, flush=True))
    with pd.option_context("display.width", 140, "display.max_columns", 10):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        payload = {"table": table.to_dict("records"), "scores": scores.to_dict("records")}
        write_json(args.json, payload)
    if args.html:
        from nasbench.viz import plot_evaluator_correlations

        figure = plot_evaluator_correlations(table)
        write_text(args.html, figure.to_html(include_plotlyjs="cdn"))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
