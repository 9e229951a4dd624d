"""Landmark distance error of MARL-GDAS agents against hand-designed agents and a regressor.

Per seed, one ``nasbench.search(SearchConfig(strategy="marl-gdas", ...))`` on
``synthetic-landmarks3d`` (3 landmarks per volume, 1.2 x 0.8 x 0.8 mm voxels):

1. the search: K = 3 deep Q-learning agents whose Q-network is the GDAS supernet of
   shared cells (5 normal + 3 reduce) and per-agent cells (3 normal + 1 reduce) over
   the ten GDAS ops; GDAS architecture step after each weight step;
2. in the same run: agents with the derived cells retrained from scratch, agents with
   cells drawn uniformly at random from the same ops (``random``, seeded, trained
   exactly as the searched ones: the random-search baseline), agents with the
   hand-designed 3x3-conv cell in the same layout (same rounds, same episodes), and a
   3D CNN regressing the coordinates from the whole volume;
3. all scored on the test volumes from the same start positions: mean Euclidean
   error per landmark (voxels and mm) and the angle between the true plane and the plane
   through the three estimates; ``start`` is the error of not moving at all.

Each arm of agents keeps the weights of its round that localised the 12 validation
volumes best (``val_vox``, ``best_round``; ``--last-round``: the last round's weights,
the behaviour before). ``free_ops`` is the share of the searched agents' cell edges that
carry a parameter-free op (skip, pools), for the searched and the random cells.
``amax_start`` / ``amax_end`` (searched row): the mean largest softmax weight of an
edge's alphas before and after the search (0.1 is uniform over the ten ops, 1 decided);
``aent_start`` / ``aent_end``: their mean entropy in nats (2.303 uniform).

Ratios are the searched agents' mean mm error over each baseline's (below 1: better).
Times are wall seconds on this machine (its load moves them).

Usage::

    python benchmarks/localisation.py --quick           # seconds: the test's size
    python benchmarks/localisation.py                   # ~16 minutes on a CPU: 32^3, patch 11,
                                                        # 48 train volumes, 1+1 shared and 1+0
                                                        # own cells, search 8 x 32 updates,
                                                        # agents 14 x 32
    python benchmarks/localisation.py --shared 5 3 --own 3 1   # the paper's layout (slower)
    python benchmarks/localisation.py --seeds 0 1 --retrain-rounds 20 --json out.json
    python benchmarks/localisation.py --last-round      # no validation selection
    python benchmarks/localisation.py --old-arch        # the architecture step before
                                                        # issue 22's fix
    python benchmarks/localisation.py --no-random       # without the random-cell arm
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd
from _script import count, output_file, positive_number, refuse_unoffered_size, run_main, write_json

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ARMS = ("start", "searched", "random", "hand", "regression")

QUICK = {
    "size": 16, "limit": 4, "rounds": 2, "updates": 2, "patch": 5, "episode_steps": 4,
    "agent": {"channels": 2, "n_nodes": 1, "shared_normal": 1, "shared_reduce": 1,
              "agent_normal": 1, "agent_reduce": 0, "coarse_step": 2, "envs": 2,
              "batch_size": 4, "buffer_size": 64, "regressor_epochs": 2, "random_cell": True},
}  # fmt: skip

# The flags --quick sets itself (QUICK above; one given beside it is refused).
QUICK_SETS = ("size", "limit", "rounds", "updates", "patch", "episode_steps", "channels",
              "nodes", "envs", "batch_size", "regressor_epochs", "shared", "own",
              "retrain_rounds", "curriculum", "lr", "single_scale")  # fmt: skip

OLD_ARCH = {"arch_lr": 3e-3, "arch_beta1": 0.5, "arch_weight_decay": 1e-3, "arch_warmup": 0.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the test's tiny size (seconds)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--size", type=count(1), default=32, help="volume edge: 16, 24, 32 or 48")
    p.add_argument(
        "--limit",
        type=count(1),
        default=48,
        help="volumes per split at most (48: every training volume; the test split has 12)",
    )
    p.add_argument("--rounds", type=count(1), default=8, help="episode batches of the search")
    p.add_argument(
        "--retrain-rounds",
        type=count(0),
        default=14,
        help="episode batches of the searched and hand-designed agents' training (0: --rounds)",
    )
    p.add_argument(
        "--curriculum",
        type=fraction,
        default=0.0,
        help="fraction of the rounds whose episodes start near the landmarks (0: off)",
    )
    p.add_argument("--updates", type=count(1), default=32, help="Q-learning updates per round")
    p.add_argument("--batch-size", type=count(1), default=16, help="transitions per update")
    p.add_argument("--envs", type=count(1), default=16, help="volumes per batch of episodes")
    p.add_argument(
        "--shared",
        type=count(0),
        nargs=2,
        default=(1, 1),
        metavar=("NORMAL", "REDUCE"),
        help="shared cells (the paper: 5 3)",
    )
    p.add_argument(
        "--own",
        type=count(0),
        nargs=2,
        default=(1, 0),
        metavar=("NORMAL", "REDUCE"),
        help="cells of each agent (the paper: 3 1)",
    )
    p.add_argument(
        "--single-scale",
        action="store_true",
        help="full-resolution patches at every step (the old observation)",
    )
    p.add_argument(
        "--last-round",
        action="store_true",
        help="agents keep their last round's weights (default: the best on validation)",
    )
    p.add_argument(
        "--lr", type=positive_number, default=1e-3, help="Adam learning rate of the agents"
    )
    p.add_argument(
        "--no-random",
        action="store_true",
        help="leave out the agents of randomly drawn cells (the random-search baseline)",
    )
    p.add_argument(
        "--old-arch",
        action="store_true",
        help="the architecture step before issue 22's fix: Adam lr 3e-3, beta1 0.5, weight "
        "decay 1e-3, no warm-up",
    )
    p.add_argument("--patch", type=count(1), default=11, help="patch edge each agent sees")
    p.add_argument("--episode-steps", type=count(1), default=24)
    p.add_argument("--channels", type=count(1), default=4)
    p.add_argument("--nodes", type=count(1), default=2, help="intermediate nodes per cell")
    p.add_argument("--regressor-epochs", type=count(1), default=60)
    p.add_argument("--json", type=output_file, default=None, help="also write the rows here")
    args = p.parse_args(argv)
    if args.quick:
        # The sizes --quick sets itself: one given beside it is refused, not ignored.
        for flag in QUICK_SETS:
            if getattr(args, flag) != p.get_default(flag):
                p.error(f"--quick sets --{flag.replace('_', '-')} itself; drop one")
    refuse_unoffered_size(p, "synthetic-landmarks3d", args.size)
    return args


def fraction(text: str) -> float:
    """An argparse ``type`` for a number in [0, 1] (``--curriculum``).

    Example:
        >>> fraction("0.5")
        0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text}")
    return value


def config_for(args: argparse.Namespace, seed: int):
    """The search config of one seed."""
    from nasbench.config import SearchConfig

    if args.quick:
        q = QUICK
        agent = {**q["agent"], "patch": q["patch"], "episode_steps": q["episode_steps"],
                 "select_on_val": not args.last_round}  # fmt: skip
        size, limit, rounds, updates = q["size"], q["limit"], q["rounds"], q["updates"]
    else:
        agent = {
            "patch": args.patch, "episode_steps": args.episode_steps, "channels": args.channels,
            "n_nodes": args.nodes, "regressor_epochs": args.regressor_epochs,
            "batch_size": args.batch_size, "lr": args.lr, "envs": args.envs,
            "shared_normal": args.shared[0], "shared_reduce": args.shared[1],
            "agent_normal": args.own[0], "agent_reduce": args.own[1],
            "multiscale": not args.single_scale, "retrain_rounds": args.retrain_rounds,
            "start_curriculum": args.curriculum, "select_on_val": not args.last_round,
        }  # fmt: skip
        size, limit, rounds, updates = args.size, args.limit, args.rounds, args.updates
    agent["random_cell"] = not args.no_random
    if args.old_arch:
        agent.update(OLD_ARCH)
    return SearchConfig(
        strategy="marl-gdas",
        dataset={"name": "synthetic-landmarks3d", "size": size, "limit": limit},
        strategy_config=agent,
        epochs=rounds,
        max_steps_per_epoch=updates,
        device="cpu",
        seed=seed,
    )


def run_seed(args: argparse.Namespace, seed: int, folder: Path) -> list[dict]:
    """Search (and retrain and score, in the same run) for one seed; one row per arm."""
    import nasbench
    from nasbench.runs import load

    result = nasbench.search(config_for(args, seed), folder / f"seed{seed}")
    events = load(folder / f"seed{seed}").events
    seconds = events[events["kind"] == "localisation_seconds"].iloc[-1]["payload"]
    agent = config_for(args, seed).strategy_config
    cells = events[events["kind"] == "agent_genotypes"].iloc[-1]["payload"]
    free = {"searched": free_op_share(cells, agent)}
    drawn = events[events["kind"] == "random_genotypes"]
    if len(drawn):
        free["random"] = free_op_share(drawn.iloc[-1]["payload"], agent)
    m = result.metrics
    rows = []
    nan = float("nan")
    for arm in ARMS:
        if f"{arm}_dist_vox" not in m:
            continue
        row = {"seed": seed, "arm": arm, "dist_vox": m[f"{arm}_dist_vox"],
               "dist_mm": m[f"{arm}_dist_mm"], "plane_deg": m[f"{arm}_plane_angle_deg"],
               "params": m.get(f"{arm}_params", 0.0),
               "val_vox": m.get(f"{arm}_val_dist_vox", nan),
               "best_round": m.get(f"{arm}_best_round", nan),
               "free_ops": free.get(arm, nan),
               "train_s": seconds.get(arm, 0.0), "search_s": seconds["search"]}  # fmt: skip
        if arm == "searched":  # how far the search moved its alphas from uniform
            for key, short in (("alpha_max_softmax", "amax"), ("alpha_entropy", "aent")):
                row[f"{short}_start"] = m[f"search_{key}_start"]
                row[f"{short}_end"] = m[f"search_{key}_end"]
        for name in sorted(k for k in m if k.startswith(f"{arm}_dist_mm_")):
            row[name[len(arm) + 1 :]] = m[name]
        rows.append(row)
    return rows


def free_op_share(genotypes: dict, agent: dict) -> float:
    """Share of the edges of the cells the searched agents build that are parameter-free.

    Args:
        genotypes: ``{part: genotype dict}`` (the ``agent_genotypes`` event).
        agent: the strategy config (how many shared and own cells of each kind).

    Returns:
        Parameter-free edges (skip, pools) over all edges, each built cell counted once
        per copy in the layout.
    """
    from nasbench.spaces import is_parameter_free

    free = total = 0
    for part, g in genotypes.items():
        where = "shared" if part == "shared" else "agent"
        for kind in ("normal", "reduce"):
            copies = int(agent.get(f"{where}_{kind}", 0))
            ops = [op for op, _ in g[kind]]
            free += copies * sum(is_parameter_free(op) for op in ops)
            total += copies * len(ops)
    return free / total if total else 0.0


def summarise(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Mean over seeds per arm, and the searched agents' error ratios to each baseline.

    Returns:
        ``(summary indexed by arm, lines of ratios)``.
    """
    summary = table.groupby("arm", sort=False).mean(numeric_only=True).drop(columns="seed")
    searched = summary.loc["searched", "dist_mm"]
    lines = []
    for arm in ("random", "hand", "regression", "start"):
        if arm in summary.index:
            ratio = searched / summary.loc[arm, "dist_mm"]
            verdict = "better" if ratio < 1 else "not better"
            lines.append(f"searched / {arm}: {ratio:.3f} of the mm error ({verdict})")
    return summary, lines


def main(argv: list[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Run the benchmark and print its table."""
    import torch

    args = parse_args(argv)
    print(f"torch threads {torch.get_num_threads()}, CPU, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [r for seed in args.seeds for r in run_seed(args, seed, Path(tmp))]
    table = pd.DataFrame(rows)
    summary, lines = summarise(table)
    with pd.option_context("display.width", 160, "display.max_columns", 40):
        print(table.round(3).to_string(index=False))
        print("\nmean over seeds:")
        print(summary.round(3).to_string())
    for line in lines:
        print(line)
    if args.json is not None:
        write_json(args.json, rows)
    return summary, lines


def _cli() -> int:
    main()
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(_cli))
