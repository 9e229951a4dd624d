"""Wall time of one MARL Q-learning round at the localisation benchmark's default sizes.

Times ``train_dqn`` for one round on ``synthetic-landmarks3d`` (16 train volumes of
32^3, 3 agents, patch 11, 16 volumes per batch of 24-step episodes, batch 16, 1 + 1
shared and 1 + 0 own cells, C = 4, 2 nodes) twice, with 0 and with ``--updates``
updates, and reports the episodes' seconds and the seconds per update (the
difference over the updates). ``--net supernet`` is the search's network with the GDAS
architecture step after each weight step; ``--net hand`` the hand-designed agents.
``--contiguous`` runs the cells in the contiguous memory format instead of channels-last.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/localisation_step.py --net hand --updates 10
    OMP_NUM_THREADS=1 python benchmarks/localisation_step.py --net supernet --updates 6
    OMP_NUM_THREADS=1 python benchmarks/localisation_step.py --net hand --contiguous
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1 (the per-update time divides by it)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The script's options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--net", choices=("hand", "supernet"), default="hand")
    p.add_argument(
        "--updates", type=positive_int, default=10, help="updates of the timed round (>= 1)"
    )
    p.add_argument("--size", type=int, default=32, help="volume edge")
    p.add_argument("--contiguous", action="store_true", help="cells not in channels-last")
    return p.parse_args(argv)


def build(net: str, contiguous: bool, patch: int = 11) -> tuple:
    """``(network, extra train_dqn arguments)`` of the benchmark's default layout."""
    from nasbench.models.marl_network import MarlNetwork, MarlSupernet
    from nasbench.strategies import create_strategy

    layout = {"channels": 4, "shared": (1, 1), "own": (1, 0), "patch": patch}
    if net == "hand":
        model = MarlNetwork.hand_designed(3, n_nodes=2, **layout)
        model.body.channels_last = not contiguous
        return model, {}
    method = create_strategy("marl-gdas", {"n_nodes": 2}, seed=0)
    model = MarlSupernet(3, method, n_nodes=2, seed=0, **layout)
    model.body.channels_last = not contiguous
    method.on_epoch_start(0, 1)

    def arch_step(batch: dict, loss_fn) -> dict:  # noqa: ANN001
        val = (batch["obs"], batch["target"])
        return method.arch_step(model, val, val, loss_fn, 1e-3, None)

    return model, {"weight_parameters": model.weight_parameters(), "arch_step": arch_step}


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Time the round; print and return ``episodes_s`` and ``update_s``."""
    import torch

    from nasbench.config import SearchConfig
    from nasbench.engine.localisation import _volumes
    from nasbench.evaluation.dqn import DqnSettings, train_dqn

    args = parse_args(argv)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # its one-off import, untimed
    dataset = {"name": "synthetic-landmarks3d", "size": args.size, "limit": 16}
    volumes, targets, _ = _volumes(SearchConfig(strategy="marl-gdas", dataset=dataset), "train")
    seconds = []
    for updates in (0, args.updates):
        net, extra = build(args.net, args.contiguous)
        settings = DqnSettings(rounds=1, updates=updates, envs=16, batch_size=16)
        started = time.perf_counter()
        train_dqn(net, volumes, targets, settings, seed=0, **extra)
        seconds.append(time.perf_counter() - started)
    out = {"episodes_s": seconds[0], "update_s": (seconds[1] - seconds[0]) / args.updates}
    layout = "contiguous" if args.contiguous else "channels-last"
    print(
        f"{args.net} ({layout}), torch threads {torch.get_num_threads()}, load "
        f"{os.getloadavg()[0]:.2f}: episodes (24 steps x 16 volumes) {out['episodes_s']:.2f} s, "
        f"{out['update_s']:.3f} s per update"
    )
    return out


if __name__ == "__main__":
    main()
