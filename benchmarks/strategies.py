"""Regret of discrete search strategies on a tabular benchmark, over seeds.

For each strategy (random search, regularized evolution, REINFORCE, Bayesian
optimisation, hill climbing) and seed, run the shared ask/tell loop against a
table lookup and report the *regret after N queries*: the table's best score minus
the best score the strategy has found after N evaluations (cache hits are free),
as mean ± std over seeds. Lower is better; random search is the baseline to beat.
It also writes the best-so-far comparison figure (mean line and std band per
strategy, random dashed) as a self-contained HTML file.

The table is the SYNTHETIC NB201 landscape (:mod:`nasbench.bench.synthetic`, not
trained) by default, or a Parquet file from ``nasbench bench generate`` /
``nasbench.bench.import_nb201``; such a table must cover every architecture of its
space (generate it without ``--sample``).

Usage::

    python benchmarks/strategies.py                       # synthetic table, 5 seeds
    python benchmarks/strategies.py --table nb201_breast.parquet --seeds 10 \\
        --queries 25,50,100 --out comparison.html
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _script import count, output_file, run_main, write_text

DEFAULT_STRATEGIES = ("random", "evolution", "reinforce", "bayesopt", "hill_climbing")
DEFAULT_QUERIES = (25, 50, 100, 200)
# The figure's default place: next to this script, wherever it is run from.
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "strategies.html"
# Budget-sized settings: the registry defaults target longer runs. REINFORCE with its
# defaults (lr 0.05, one result per update) collapses onto a few cells within ~20
# queries on the synthetic table and then only repeats cached ones.
STRATEGY_CONFIGS: dict[str, dict[str, Any]] = {
    "evolution": {"population_size": 10, "sample_size": 3},
    "reinforce": {"lr": 0.02, "batch_size": 5},
    "bayesopt": {"n_initial": 10, "pool_size": 100, "n_mutations": 50},
}


def load_table(path: str | None, seed: int = 0) -> Any:
    """The benchmark table: a Parquet file, or the synthetic NB201 table when ``path`` is None."""
    from nasbench.bench import BenchmarkTable, synthetic_nb201_table

    if path:
        return BenchmarkTable.load(path)
    return synthetic_nb201_table(seed=seed)


def run_one(name: str, table: Any, space: Any, seed: int, budget: int, metric: str) -> pd.DataFrame:
    """One search; returns its evaluations in order (cache hits left out).

    Returns:
        A frame with ``score`` and ``elapsed`` (simulated training seconds so far, from the
        table's ``train_seconds_per_epoch``, or real seconds when the table has none).
    """
    import nasbench.strategies.discrete.hill_climbing  # noqa: F401 - registers "hill_climbing"
    from nasbench.evaluation.table_lookup import TableEvalConfig, TableEvaluator
    from nasbench.strategies import create_strategy
    from nasbench.strategies.discrete import Budget, run_discrete

    evaluator = TableEvaluator(TableEvalConfig(metric=metric), space=space, table=table)
    strategy = create_strategy(name, STRATEGY_CONFIGS.get(name), space=space, seed=seed)
    out = run_discrete(strategy, evaluator, Budget(max_evaluations=budget))
    trials = [t for t in out.history if not t.cached]
    simulated = np.cumsum([t.result.cost.get("wall_s", 0.0) for t in trials])
    elapsed = simulated if simulated.size and simulated[-1] > 0 else [t.elapsed for t in trials]
    return pd.DataFrame({"score": [t.result.score for t in trials], "elapsed": elapsed})


def regret_after(scores: np.ndarray, best: float, queries: Sequence[int]) -> list[float]:
    """Regret (``best - best found``) after each N in ``queries`` (a shorter run keeps its last)."""
    found = np.maximum.accumulate(scores)
    return [float(best - found[min(n, len(found)) - 1]) for n in queries]


def format_table(
    regrets: dict[str, np.ndarray],
    queries: Sequence[int],
    seeds: int,
    evaluations: dict[str, list[int]] | None = None,
) -> str:
    """Rows = strategies, columns = N queries, cells = mean ± std of the regret.

    A last column gives the mean evaluations actually made: a strategy that stops early
    (converged, only repeating cached genotypes) keeps its last regret for larger N.
    """
    head = f"{'strategy':<15}" + "".join(f"{f'N={n}':>20}" for n in queries) + f"{'evals':>8}"
    lines = [
        f"regret after N queries (mean ± population std over {seeds} seeds; lower is better)",
        head,
    ]
    for name, values in regrets.items():
        cells = "".join(
            f"{f'{values[:, k].mean():.4f} ± {values[:, k].std():.4f}':>20}"
            for k in range(len(queries))
        )
        made = (evaluations or {}).get(name)
        lines.append(f"{name:<15}{cells}{np.mean(made) if made else float('nan'):>8.0f}")
    return "\n".join(lines)


def write_html(fig: Any, out: Path) -> Path:
    """Write the figure whole or not at all (temp file + rename, readable by others under
    the umask), plotly.js embedded (works offline)."""
    return write_text(out, fig.to_html(include_plotlyjs=True, full_html=True))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison; print the regret table; write the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=None, help="Parquet table (default: synthetic NB201)")
    parser.add_argument("--seeds", type=count(1), default=5, help="seeds per strategy (>= 1)")
    parser.add_argument(
        "--queries",
        default=",".join(map(str, DEFAULT_QUERIES)),
        help="comma-separated N at which the regret is reported",
    )
    parser.add_argument("--strategies", default=",".join(DEFAULT_STRATEGIES))
    parser.add_argument("--metric", default="val_acc", help="table column maximised")
    parser.add_argument(
        "--out",
        type=output_file,
        default=DEFAULT_OUT,
        help="figure (HTML; default: out/strategies.html next to this script)",
    )
    parser.add_argument("--table-seed", type=int, default=0, help="seed of the synthetic table")
    args = parser.parse_args(argv)

    import nasbench.strategies.discrete.hill_climbing  # noqa: F401 - registers "hill_climbing"
    from nasbench.spaces import NB201Space
    from nasbench.strategies import make_config
    from nasbench.viz import plot_best_so_far

    try:
        queries = sorted({int(q) for q in args.queries.split(",") if q.strip()})
    except ValueError:
        parser.error(f"--queries must be comma-separated integers, got {args.queries!r}")
    if not queries or queries[0] < 1:
        parser.error("--queries must be positive integers")
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    if not names:
        parser.error(f"--strategies is empty; give some of {', '.join(DEFAULT_STRATEGIES)}")
    for name in names:  # an unknown name or a bad setting, before the first search
        make_config(name, STRATEGY_CONFIGS.get(name))
    table = load_table(args.table, args.table_seed)
    space = table.space if table.space is not None else NB201Space()
    best = float(table.best(args.metric)[args.metric])
    print(f"table: {table!r}\nbest {args.metric}: {best:.4f}; strategies: {', '.join(names)}")
    regrets: dict[str, np.ndarray] = {}
    frames: dict[str, list[pd.DataFrame]] = {}
    for name in names:
        start = time.perf_counter()
        runs = [
            run_one(name, table, space, seed, queries[-1], args.metric)
            for seed in range(args.seeds)
        ]
        frames[name] = runs
        regrets[name] = np.array([regret_after(r["score"].to_numpy(), best, queries) for r in runs])
        print(f"  {name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    evaluations = {name: [len(r) for r in runs] for name, runs in frames.items()}
    print(format_table(regrets, queries, args.seeds, evaluations))
    print(f"settings: {STRATEGY_CONFIGS} (others: registry defaults)")
    fig = plot_best_so_far(frames, x="evaluations", metric="score")
    fig.update_layout(
        title=f"Best {args.metric} so far on {table.dataset or 'the table'} "
        f"(mean ± std over {args.seeds} seeds; dashed: random search)"
    )
    print(f"figure: {write_html(fig, Path(args.out))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
