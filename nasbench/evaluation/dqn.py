"""Deep Q-learning of K collaborating agents on plain torch, and the regression baseline.

One Q-network (``net((patches, states)) -> Q (B, K, 6)``) serves all agents; each
agent's loss is the Huber loss between ``Q_k(s, a_k)`` and its Double DQN target
``r_k + gamma * (1 - done) * Q'_k(s', argmax_a Q_k(s', a))`` (the online network picks
the action, the target network ``Q'``, copied every ``target_every`` updates, values
it; ``double_dqn=False``: plain ``max_a Q'_k(s', a)``). Experience comes from
epsilon-greedy episodes (epsilon falls linearly over the rounds) on the training volumes
and lands in a replay buffer.

As in the multi-scale DQN landmark agents, the observation is multi-scale (see
:mod:`nasbench.evaluation.landmark_env`), the learner's reward is the distance decrease
in units of the current step, clipped to [-1, 1] (so every scale's Q-values have the same
range), and a change of step size ends the transition chain: the last transition of a
scale is terminal for bootstrapping, each scale a task of its own.

A round is: one batch of episodes, then ``updates`` gradient steps on replay batches.
A differentiable search hooks in through ``arch_step(batch, loss_fn)`` (called after
each weight step, on its own replay batch) and ``on_round(round)``.

With ``validate`` (a score of the network, lower better; :func:`validation_score`:
the mean distance of greedy episodes on held-out volumes) the loop keeps the weights of
the round that scored best and ends with them, as the DQN landmark agents select their
model on validation volumes: the greedy policy of a Q-network still learning swings from
one round to the next, and the last round's weights are one draw of that swing.

Example:
    >>> q_targets(torch.tensor([[1.0]]), torch.tensor([[[0.0, 2.0]]]), torch.tensor([0.0]), 0.5)
    tensor([[2.]])
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench.errors import ConfigError
from nasbench.evaluation.landmark_env import (
    N_ACTIONS,
    STATE_DIM,
    LandmarkEnv,
    curriculum_radius,
    near_starts,
    random_starts,
    step_schedule,
)


@dataclass
class DqnSettings:
    """Settings of the Q-learning loop.

    Attributes:
        rounds: episode batches.
        updates: gradient steps per round.
        envs: volumes per episode batch.
        episode_steps: actions per episode.
        coarse_step: the first step size (halved down to 1 over the episode).
        patch: observed patch edge.
        batch_size: transitions per update.
        buffer_size: replay capacity (transitions).
        gamma: discount.
        lr: Adam learning rate of the weights.
        epsilon_start, epsilon_end: exploration, linear over the rounds.
        target_every: updates between target-network copies. 32 (a round's updates in
            the localisation benchmark): copied every 10 updates the target chased the
            online network and the Q-values of some runs grew past their bound
            ``1 / (1 - gamma)`` (issue 22, ``benchmarks/README.md``).
        multiscale: patches sampled every ``step`` voxels (False: full resolution).
        double_dqn: Double DQN targets (False: plain max over the target network).
        scale_rewards: the learner's reward is the distance decrease over the step size,
            clipped to [-1, 1] (False: the raw decrease in voxels).
        scale_terminal: the last transition at each step size is terminal.
        curriculum: start curriculum, the fraction of the rounds whose episodes start
            near the landmarks, in a box widening over those rounds
            (:func:`~nasbench.evaluation.landmark_env.curriculum_radius`); 0: every
            episode starts in the central box.
    """

    rounds: int = 10
    updates: int = 20
    envs: int = 4
    episode_steps: int = 24
    coarse_step: int = 4
    patch: int = 11
    batch_size: int = 16
    buffer_size: int = 4000
    gamma: float = 0.9
    lr: float = 1e-3
    epsilon_start: float = 1.0
    epsilon_end: float = 0.1
    target_every: int = 32
    multiscale: bool = True
    double_dqn: bool = True
    scale_rewards: bool = True
    scale_terminal: bool = True
    curriculum: float = 0.0


def q_targets(
    rewards: torch.Tensor,
    next_q: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    next_online: torch.Tensor | None = None,
) -> torch.Tensor:
    """Q-learning targets ``r + gamma * (1 - done) * Q'(s', a*)`` per agent.

    Args:
        rewards: ``(B, K)``.
        next_q: ``(B, K, A)`` target-network values of the next states.
        dones: ``(B,)`` 1 where the episode (or the scale) ended with this transition.
        gamma: discount.
        next_online: ``(B, K, A)`` online-network values of the next states: Double DQN,
            ``a* = argmax next_online``; None: ``a* = argmax next_q``.

    Returns:
        ``(B, K)``.

    Example:
        >>> q_targets(torch.tensor([[0.0]]), torch.tensor([[[1.0, 3.0]]]), torch.tensor([0.0]),
        ...           1.0, next_online=torch.tensor([[[5.0, 0.0]]]))
        tensor([[1.]])
    """
    if next_online is None:
        value = next_q.max(dim=-1).values
    else:
        value = next_q.gather(-1, next_online.argmax(dim=-1, keepdim=True)).squeeze(-1)
    return rewards + gamma * (1.0 - dones.float())[:, None] * value


def epsilon_at(round_: int, rounds: int, start: float, end: float) -> float:
    """Linear exploration schedule from ``start`` (round 0) to ``end`` (last round).

    Example:
        >>> epsilon_at(0, 5, 1.0, 0.1), epsilon_at(4, 5, 1.0, 0.1)
        (1.0, 0.1)
    """
    frac = round_ / (rounds - 1) if rounds > 1 else 1.0
    return start * (1.0 - frac) + end * frac  # exact at both ends


class ReplayBuffer:
    """A ring buffer of transitions ``(obs, actions, rewards, next_obs, done)``.

    Args:
        capacity: transitions kept (the oldest are overwritten).
        n_agents, patch: observation shape.
    """

    def __init__(self, capacity: int, n_agents: int, patch: int) -> None:
        if capacity < 1:
            raise ConfigError(f"the replay buffer needs a positive capacity, got {capacity}.")
        shape = (capacity, n_agents, 1, patch, patch, patch)
        self.patches = torch.zeros(shape)
        self.next_patches = torch.zeros(shape)
        self.positions = torch.zeros(capacity, n_agents, STATE_DIM)
        self.next_positions = torch.zeros(capacity, n_agents, STATE_DIM)
        self.actions = torch.zeros(capacity, n_agents, dtype=torch.long)
        self.rewards = torch.zeros(capacity, n_agents)
        self.dones = torch.zeros(capacity)
        self.capacity, self.size, self._next = capacity, 0, 0

    def add(
        self, obs: tuple, actions: torch.Tensor, rewards: torch.Tensor, next_obs: tuple, done: bool
    ) -> None:
        """Add one transition per environment (the leading dim of every tensor), in order.

        Environment ``e`` lands in the slot after environment ``e - 1``'s, wrapping round
        the ring; with more environments than slots only the last ``capacity`` stay.
        """
        n = actions.shape[0]
        keep = min(n, self.capacity)  # the earlier ones would be overwritten in order anyway
        first = self._next + (n - keep)
        idx = (first + torch.arange(keep)) % self.capacity
        src = slice(n - keep, n)
        self.patches[idx], self.positions[idx] = obs[0][src], obs[1][src]
        self.next_patches[idx], self.next_positions[idx] = next_obs[0][src], next_obs[1][src]
        self.actions[idx], self.rewards[idx] = actions[src], rewards[src]
        self.dones[idx] = float(done)
        self._next = (self._next + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, n: int, generator: torch.Generator) -> dict[str, Any]:
        """``n`` transitions drawn uniformly (with replacement)."""
        idx = torch.randint(0, self.size, (n,), generator=generator)
        return {
            "obs": (self.patches[idx], self.positions[idx]),
            "next_obs": (self.next_patches[idx], self.next_positions[idx]),
            "actions": self.actions[idx],
            "rewards": self.rewards[idx],
            "dones": self.dones[idx],
        }


def td_loss(q: torch.Tensor, target: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Huber loss between ``Q(s, a)`` and the targets; ``target = (actions, y)``."""
    actions, y = target
    chosen = q.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    return F.smooth_l1_loss(chosen, y)


def greedy_actions(q: torch.Tensor) -> torch.Tensor:
    """``(B, K)`` argmax actions."""
    return q.argmax(dim=-1)


class _Modes:
    """Train/eval switching of a network through a cached module list.

    ``nn.Module.train`` walks the whole module tree and goes through ``__setattr__`` for
    every module; a supernet holds thousands (ten ops per edge), and the loop switches
    modes several times per update. Setting the flag on the cached list is the same
    state (no module of this project overrides ``train``) at a fraction of the cost.
    """

    def __init__(self, net: nn.Module) -> None:
        self.net = net
        self.modules = list(net.modules())

    def set(self, training: bool) -> None:
        """Put every module in training (True) or evaluation (False) mode."""
        for m in self.modules:
            object.__setattr__(m, "training", training)


def _act(
    net: nn.Module,
    obs: tuple,
    epsilon: float,
    generator: torch.Generator,
    modes: _Modes | None = None,
) -> torch.Tensor:
    shape = obs[1].shape[:2]  # (E, K): the states' leading dims
    if epsilon >= 1.0:
        # Every action is random (a uniform draw in [0, 1) is always below 1): the greedy
        # forward would be thrown away, a twelfth of a QUICK search's forwards. The
        # eval-mode forward draws no random numbers, so the generator's stream is as before.
        actions = torch.zeros(shape, dtype=torch.long)
    else:
        modes = modes or _Modes(net)
        was_training = net.training
        modes.set(False)
        with torch.no_grad():
            actions = greedy_actions(net(obs))
        modes.set(was_training)
    explore = torch.rand(shape, generator=generator) < epsilon
    random = torch.randint(0, N_ACTIONS, shape, generator=generator)
    return torch.where(explore, random, actions)


def train_dqn(
    net: nn.Module,
    volumes: torch.Tensor,
    targets: torch.Tensor,
    settings: DqnSettings,
    seed: int = 0,
    weight_parameters: list[torch.Tensor] | None = None,
    arch_step: Callable[[dict, Callable], dict] | None = None,
    on_round: Callable[[int, dict], bool | None] | None = None,
    validate: Callable[[nn.Module], float] | None = None,
) -> list[dict[str, float]]:
    """Train ``net`` by deep Q-learning on the training volumes.

    Args:
        net: the Q-network.
        volumes: ``(N, S, S, S)`` training volumes.
        targets: ``(N, K, 3)`` their landmarks.
        settings: the loop's settings.
        seed: seeds the episodes, exploration and replay sampling.
        weight_parameters: what the weight optimizer steps (default every parameter).
        arch_step: ``arch_step({"obs": ..., "target": (actions, y)}, td_loss)`` after each
            weight step (a differentiable search's architecture update).
        on_round: called before round ``r`` with the last round's metrics; returning True
            stops the loop (a stop request).
        validate: scores the network after each round (lower is better, e.g.
            :func:`validation_score`); the network ends with the weights of the best
            round (the earliest on ties) instead of the last one's. None: the last round's.

    Returns:
        One metrics dict per round: ``td_loss``, ``reward`` (mean per step and agent),
        ``epsilon``, per agent k ``agent<k>_reward`` (its mean reward per step) and
        ``agent<k>_dist_vox`` (its mean distance to its landmark at the episode's end),
        with ``validate`` its score ``val`` and ``best`` (1.0 on the kept round, else
        0.0), and, with ``arch_step``, its metrics.
    """
    s = settings
    gen = torch.Generator().manual_seed(seed)
    buffer = ReplayBuffer(s.buffer_size, targets.shape[1], s.patch)
    params = list(net.parameters()) if weight_parameters is None else weight_parameters
    optimizer = torch.optim.Adam(params, lr=s.lr)
    target_net = copy.deepcopy(net)
    modes, target_modes = _Modes(net), _Modes(target_net)
    steps, updates, history, last = step_schedule(s.coarse_step), 0, [], {}
    best: tuple[float, int, dict] | None = None  # (score, round, weights)
    for r in range(s.rounds):
        if on_round is not None and on_round(r, last):
            break
        epsilon = epsilon_at(r, s.rounds, s.epsilon_start, s.epsilon_end)
        pick = torch.randint(0, volumes.shape[0], (s.envs,), generator=gen)
        env = LandmarkEnv(
            volumes[pick], targets[pick], s.patch, steps, s.episode_steps, s.multiscale
        )
        radius = curriculum_radius(r, s.rounds, s.curriculum, volumes.shape[1])
        if radius is None:
            starts = random_starts(s.envs, targets.shape[1], volumes.shape[1], gen)
        else:
            starts = near_starts(targets[pick], radius, volumes.shape[1], gen)
        obs = env.reset(starts)
        rewards, agent_rewards, done = [], [], False
        while not done:
            actions = _act(net, obs, epsilon, gen, modes)
            step = env.step_size
            next_obs, reward, done = env.step(actions)
            learn = (reward / step).clamp(-1.0, 1.0) if s.scale_rewards else reward
            end = done or (s.scale_terminal and env.step_size != step)
            buffer.add(obs, actions, learn, next_obs, end)
            rewards.append(float(reward.mean()))
            agent_rewards.append(reward.mean(dim=0))
            obs = next_obs
        losses, arch = [], []
        modes.set(True)
        online = modes if s.double_dqn else None
        for _ in range(s.updates):
            batch = buffer.sample(s.batch_size, gen)
            y = _targets(target_modes, batch, s.gamma, online)
            loss = td_loss(net(batch["obs"]), (batch["actions"], y))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 10.0)
            optimizer.step()
            losses.append(float(loss.detach()))
            if arch_step is not None:
                other = buffer.sample(s.batch_size, gen)
                y2 = _targets(target_modes, other, s.gamma, online)
                arch.append(
                    arch_step({"obs": other["obs"], "target": (other["actions"], y2)}, td_loss)
                )
            updates += 1
            if updates % s.target_every == 0:
                target_net.load_state_dict(net.state_dict())
        last = {
            "td_loss": float(np.mean(losses)),
            "reward": float(np.mean(rewards)),
            "epsilon": epsilon,
        }
        per_agent = torch.stack(agent_rewards).mean(dim=0)
        end_dist = env.distances().mean(dim=0)
        for k in range(targets.shape[1]):
            last[f"agent{k}_reward"] = float(per_agent[k])
            last[f"agent{k}_dist_vox"] = float(end_dist[k])
        for key in arch[0] if arch else ():
            last[key] = float(np.mean([a[key] for a in arch]))
        if validate is not None:
            last["val"] = float(validate(net))
            modes.set(True)
            if best is None or last["val"] < best[0]:
                best = (last["val"], r, copy.deepcopy(net.state_dict()))
        history.append(last)
    if best is not None:
        net.load_state_dict(best[2])
        for r, h in enumerate(history):
            h["best"] = float(r == best[1])
    return history


def validation_score(
    volumes: torch.Tensor, targets: torch.Tensor, settings: DqnSettings, starts: torch.Tensor
) -> Callable[[nn.Module], float]:
    """A ``validate`` for :func:`train_dqn`: mean voxel distance of greedy episodes.

    Args:
        volumes, targets: ``(N, S, S, S)`` and ``(N, K, 3)`` held-out (validation) volumes.
        settings: the loop's settings (patch, steps, episode length).
        starts: ``(N, K, 3)`` start voxels, the same for every round.

    Returns:
        ``score(net)``: the mean distance in voxels over every volume and landmark where
        :func:`localise` leaves the agents (the network is left in evaluation mode).

    Example:
        >>> class Plus(nn.Module):
        ...     def forward(self, obs):  # always +d
        ...         q = torch.zeros(*obs[1].shape[:2], 6); q[..., 0] = 1; return q
        >>> score = validation_score(torch.zeros(1, 8, 8, 8), torch.tensor([[[4, 4, 4]]]),
        ...                          DqnSettings(patch=3, episode_steps=3, coarse_step=1),
        ...                          torch.tensor([[[1, 4, 4]]]))
        >>> score(Plus())
        0.0
    """
    if volumes.shape[0] == 0:
        raise ConfigError("validation needs at least one volume; the split is empty.")

    def score(net: nn.Module) -> float:
        found = localise(net, volumes, targets, settings, starts)
        return float((found - targets.float()).norm(dim=-1).mean())

    return score


def _targets(
    target: _Modes, batch: dict, gamma: float, online: _Modes | None = None
) -> torch.Tensor:
    # The target network runs in eval mode: its BatchNorm uses running statistics, so
    # targets do not depend on which transitions share the batch. The online network
    # (Double DQN's action choice) likewise, then back to its own mode.
    target.set(False)
    with torch.no_grad():
        next_online = None
        if online is not None:
            was_training = online.net.training
            online.set(False)
            next_online = online.net(batch["next_obs"])
            online.set(was_training)
        next_q = target.net(batch["next_obs"])
        return q_targets(batch["rewards"], next_q, batch["dones"], gamma, next_online)


def localise(
    net: nn.Module,
    volumes: torch.Tensor,
    targets: torch.Tensor,
    settings: DqnSettings,
    starts: torch.Tensor,
) -> torch.Tensor:
    """Greedy episodes from ``starts`` with oscillation stopping; final positions ``(N, K, 3)``.

    As in the DQN / MARL landmark papers, an agent that returns to a position it visited
    at the finest step size is oscillating around its landmark: it stops there, and its
    estimate is the mean of the positions of that cycle rather than whichever end of the
    cycle the step budget happens to hit. With no 'stay' action an agent on its landmark
    steps off and back, so a perfect agent's estimate is half a voxel off. An agent that
    never oscillates ends where the episode's step budget leaves it. Simplification: the
    step size still shrinks on the episode's fixed schedule (``LandmarkEnv.step_size``)
    rather than on each agent's own oscillation.

    Args:
        net: the Q-network.
        volumes, targets: ``(N, S, S, S)`` and ``(N, K, 3)``.
        settings: the loop's settings (patch, steps, episode length).
        starts: ``(N, K, 3)`` start voxels.

    Returns:
        ``(N, K, 3)`` float voxel estimates.

    Example:
        >>> class Plus(nn.Module):
        ...     def forward(self, obs):  # always +d
        ...         q = torch.zeros(*obs[1].shape[:2], 6); q[..., 0] = 1; return q
        >>> localise(Plus(), torch.zeros(1, 8, 8, 8), torch.zeros(1, 1, 3),
        ...          DqnSettings(patch=3, episode_steps=3, coarse_step=1),
        ...          torch.tensor([[[1, 4, 4]]]))
        tensor([[[4., 4., 4.]]])
    """
    net.eval()
    env = LandmarkEnv(
        volumes,
        targets,
        settings.patch,
        step_schedule(settings.coarse_step),
        settings.episode_steps,
        settings.multiscale,
    )
    obs, done = env.reset(starts), False
    n, k = env.positions.shape[:2]
    history = [env.positions.clone()]
    stopped = torch.zeros(n, k, dtype=torch.bool)
    estimate = env.positions.float().clone()
    with torch.no_grad():
        while not done and not bool(stopped.all()):
            fine = env.step_size == 1
            before = env.positions.clone()
            obs, _, done = env.step(greedy_actions(net(obs)))
            # Stopped agents stay put (their observation is ignored hereafter).
            env.positions = torch.where(stopped[..., None], before, env.positions)
            history.append(env.positions.clone())
            if fine:
                for i, j in zip(*torch.nonzero(~stopped, as_tuple=True), strict=True):
                    now = history[-1][i, j]
                    seen = [
                        t for t in range(len(history) - 1) if torch.equal(history[t][i, j], now)
                    ]
                    if seen:  # a cycle: positions from the earlier visit up to now
                        cycle = torch.stack([h[i, j] for h in history[seen[-1] : -1]])
                        estimate[i, j] = cycle.float().mean(dim=0)
                        stopped[i, j] = True
            if not done:
                obs = env.observe()
    return torch.where(stopped[..., None], estimate, env.positions.float())


def _mm_per_voxel(spacing: Any, n: int) -> torch.Tensor:
    """``(n, 1, 3)`` mm per voxel from one ``(d, h, w)`` spacing or one per volume."""
    mm = torch.as_tensor(np.asarray(spacing, dtype=np.float64))
    if mm.shape not in ((3,), (n, 3)):
        raise ConfigError(
            f"spacing must be (d, h, w) mm per voxel, or one such row per volume ({n}), "
            f"got shape {tuple(mm.shape)}."
        )
    return mm.reshape(-1, 1, 3).expand(n, 1, 3)


def distance_errors(
    predicted: torch.Tensor,
    targets: torch.Tensor,
    spacing: Any,
    names: tuple[str, ...],
) -> dict[str, float]:
    """Mean distance error per landmark and overall, in voxels and in mm.

    Args:
        predicted, targets: ``(N, K, 3)`` voxel coordinates.
        spacing: mm per voxel along ``d, h, w``: one ``(3,)`` for every volume, or
            ``(N, 3)``, each volume's own (a folder of scans of different resolutions).
        names: one name per landmark.

    Returns:
        ``dist_vox_<name>``, ``dist_mm_<name>``, ``dist_vox``, ``dist_mm``.

    Example:
        >>> p, t = torch.zeros(1, 1, 3), torch.tensor([[[3.0, 4.0, 0.0]]])
        >>> round(distance_errors(p, t, (1.0, 2.0, 1.0), ("a",))["dist_mm_a"], 4)
        8.544
    """
    diff = predicted.double() - targets.double()
    vox = diff.norm(dim=-1).mean(dim=0)
    mm = (diff * _mm_per_voxel(spacing, len(diff))).norm(dim=-1).mean(dim=0)
    out: dict[str, float] = {}
    for k, name in enumerate(names):
        out[f"dist_vox_{name}"] = float(vox[k])
        out[f"dist_mm_{name}"] = float(mm[k])
    out["dist_vox"], out["dist_mm"] = float(vox.mean()), float(mm.mean())
    return out


def plane_errors(
    predicted: torch.Tensor, targets: torch.Tensor, spacing: Any = None
) -> dict[str, float]:
    """Errors of the plane through the first three predicted landmarks, per volume averaged.

    The angle is between the two planes' normals (0 to 90 degrees), measured in mm when
    ``spacing`` is given (voxels that are not cubes tilt a plane drawn in voxel indices);
    the offset is the distance from the true landmarks' centroid to the predicted plane
    (voxels). A volume whose three predicted landmarks are collinear has no plane and
    counts as 90 degrees and the distance to the nearest predicted landmark. A volume
    whose three TRUE landmarks are collinear has no plane to find and is left out; with
    none left there are no plane errors (an empty dict).

    Args:
        predicted, targets: ``(N, K >= 3, 3)`` voxel coordinates.
        spacing: None (angles in voxel space), one ``(d, h, w)`` mm per voxel, or one
            per volume ``(N, 3)``.

    Returns:
        ``plane_angle_deg`` and ``plane_offset_vox``, or {} when no volume's true
        landmarks span a plane.

    Example:
        >>> t = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
        >>> p = t + torch.tensor([0.0, 0.0, 2.0])
        >>> plane_errors(p, t)
        {'plane_angle_deg': 0.0, 'plane_offset_vox': 2.0}
    """
    if predicted.shape[1] < 3:
        raise ConfigError(f"a plane needs 3 landmarks per volume, got {predicted.shape[1]}.")
    n = len(predicted)
    mm = torch.ones(n, 1, 3, dtype=torch.float64) if spacing is None else _mm_per_voxel(spacing, n)
    angles, offsets = [], []
    for p, t, scale in zip(predicted.double(), targets.double(), mm, strict=True):
        n_true = _normal(t * scale)
        if n_true is None:  # collinear truth: no plane to find in this volume
            continue
        n_pred = _normal(p * scale)
        centre = t[:3].mean(dim=0)
        if n_pred is None:
            angles.append(90.0)
            offsets.append(float((p[:3] - centre).norm(dim=1).min()))
            continue
        cos = float((n_true @ n_pred).abs().clamp(max=1.0))
        angles.append(float(np.degrees(np.arccos(cos))))
        n_vox = _normal(p)
        offsets.append(0.0 if n_vox is None else float((n_vox @ (centre - p[0])).abs()))
    if not angles:
        return {}
    return {"plane_angle_deg": float(np.mean(angles)), "plane_offset_vox": float(np.mean(offsets))}


def _normal(points: torch.Tensor) -> torch.Tensor | None:
    """Unit normal of the plane through the first three points; None when collinear."""
    normal = torch.linalg.cross(points[1] - points[0], points[2] - points[0])
    length = float(normal.norm())
    scale = float((points[1] - points[0]).norm() * (points[2] - points[0]).norm())
    if length <= 1e-9 * max(scale, 1e-12):
        return None
    return normal / length


def train_regressor(
    model: nn.Module,
    volumes: torch.Tensor,
    targets: torch.Tensor,
    epochs: int,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
) -> list[float]:
    """Fit the direct regression baseline (MSE on coordinates as fractions of the edge).

    Returns:
        The mean training loss per epoch.
    """
    gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scale = max(volumes.shape[1] - 1, 1)
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(volumes.shape[0], generator=gen)
        epoch = []
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            loss = F.mse_loss(model(volumes[idx, None]), targets[idx] / scale)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            epoch.append(float(loss.detach()))
        losses.append(float(np.mean(epoch)))
    return losses


def regress(model: nn.Module, volumes: torch.Tensor) -> torch.Tensor:
    """The regressor's landmarks ``(N, K, 3)`` in voxels."""
    model.eval()
    with torch.no_grad():
        return model(volumes[:, None]) * max(volumes.shape[1] - 1, 1)
