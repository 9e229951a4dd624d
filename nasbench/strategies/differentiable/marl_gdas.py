"""MARL-GDAS: GDAS over the cells of collaborating Q-learning agents (landmark localisation).

After the multi-agent NAS for plane localisation in 3D ultrasound: K agents, one per
landmark, each a deep Q-network; every agent runs the same shared cells (five normal,
three reduce, one alpha per cell type) and four cells of its own (three normal, one
reduce, its own alphas), over the ten GDAS ops. The Gumbel machinery (hard one-hot
sample per edge, straight-through weights, tau annealed over the rounds, its own
generator) is :class:`~nasbench.strategies.differentiable.gdas.Gdas`'s, inherited
unchanged; what differs is the loop around it: the weight step and the architecture
step both minimise the temporal-difference loss of replayed transitions, on two
different replay batches (the RL stand-in for DARTS's train and validation halves).

The architecture optimizer differs from GDAS's image-classification settings (issue
22): the TD loss of a replay batch gives each alpha a gradient of about 1e-5 whose
noise is about six times its mean, so GDAS's Adam (lr 3e-4, beta1 0.5, weight decay
1e-3) held the alphas near zero (the decay term outweighs the gradient once an alpha
passes about 0.01) and moved them by a random walk. Here: lr 3e-2, beta1 0.9 (momentum
averages the noise), no weight decay, and the first quarter of the rounds trains the
Q-network only (``arch_warmup``), tau annealing 10 -> 0.1 over the rest.

The network is :class:`nasbench.models.marl_network.MarlSupernet`; the loop, the
derived networks' retraining and the baselines are ``nasbench.engine.localisation``.
A search runs through ``nasbench.search(SearchConfig(strategy="marl-gdas",
dataset={"name": "synthetic-landmarks3d", "size": 32}))``; ``epochs`` are rounds (a
batch of episodes, then ``max_steps_per_epoch`` updates, default 20).

Example:
    >>> from nasbench.strategies import create_strategy
    >>> create_strategy("marl-gdas", {"patch": 9}).config.patch
    9
"""

from __future__ import annotations

from dataclasses import dataclass

from nasbench.strategies import register_strategy
from nasbench.strategies.differentiable.base import option
from nasbench.strategies.differentiable.gdas import Gdas, GdasConfig


@dataclass
class MarlGdasConfig(GdasConfig):
    """GDAS settings plus the agents' network and Q-learning settings."""

    arch_lr: float = option(
        3e-2,
        "Adam learning rate of the architecture weights (the TD gradient is noisy: 3e-3 "
        "moved the alphas by a random walk of about 0.03)",
        above=0.0,
    )
    arch_beta1: float = option(
        0.9,
        "Adam beta1 of the architecture optimizer (averages the noisy TD gradient)",
        min=0.0,
        below=1.0,
    )
    arch_weight_decay: float = option(
        0.0,
        "weight decay of the architecture weights (GDAS's 1e-3 outweighs a TD gradient of "
        "1e-5 per alpha and pins the alphas near zero)",
        min=0.0,
        max=1.0,
    )
    arch_warmup: float = option(
        0.25,
        "fraction of the rounds of Q-learning before the first architecture step (tau "
        "anneals after it)",
        min=0.0,
        max=0.9,
    )
    channels: int = option(4, "channels of the first cells", min=1)
    n_nodes: int = option(2, "intermediate nodes per cell", min=1, max=4)
    shared_normal: int = option(5, "shared normal cells", min=0)
    shared_reduce: int = option(3, "shared reduce cells", min=0)
    agent_normal: int = option(3, "normal cells of each agent", min=0)
    agent_reduce: int = option(1, "reduce cells of each agent", min=0)
    patch: int = option(11, "edge of the patch each agent sees (odd, voxels)", min=3, max=31)
    episode_steps: int = option(24, "actions per episode", min=1)
    coarse_step: int = option(4, "first step size (voxels), halved to 1 over an episode", min=1)
    envs: int = option(16, "volumes per batch of episodes", min=1)
    batch_size: int = option(16, "transitions per update", min=1)
    buffer_size: int = option(4000, "replay buffer capacity (transitions)", min=1)
    gamma: float = option(0.9, "discount factor", min=0.0, max=1.0)
    lr: float = option(1e-3, "Adam learning rate of the network weights", min=0.0)
    epsilon_start: float = option(1.0, "exploration rate of the first round", min=0.0, max=1.0)
    epsilon_end: float = option(0.1, "exploration rate of the last round", min=0.0, max=1.0)
    target_every: int = option(
        32, "updates between target-network copies (10 let the Q-values diverge)", min=1
    )
    multiscale: bool = option(True, "patch sampled every step voxels (coarse view at big steps)")
    double_dqn: bool = option(True, "Double DQN targets (online net picks, target net values)")
    start_curriculum: float = option(
        0.0,
        "fraction of the rounds whose episodes start near the landmarks, widening (0: off)",
        min=0.0,
        max=1.0,
    )
    retrain_rounds: int = option(
        0, "rounds to retrain derived/baseline agents (0: as search)", min=0
    )
    select_on_val: bool = option(
        True,
        "retrained agents keep the round's weights that localise the validation volumes best",
    )
    baselines: bool = option(True, "also train the hand-designed agents and the regressor")
    random_cell: bool = option(
        False, "also train agents of cells drawn at random from the ops (seeded), as searched"
    )
    regressor_epochs: int = option(40, "epochs of the direct regression baseline", min=1)


@register_strategy("marl-gdas", MarlGdasConfig, kind="multi-agent")
class MarlGdas(Gdas):
    """GDAS for the shared and per-agent cells of a multi-agent Q-network.

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> method = create_strategy("marl-gdas", seed=0)
        >>> method.on_epoch_start(0, 4); method.tau
        10.0
    """

    name = "marl-gdas"
