"""The multi-agent landmark environment: K agents walk a volume towards K landmarks.

Agent ``k`` sits at an integer voxel ``p_k``. An action moves it by ``+-step`` along one
axis (6 actions: ``+d, -d, +h, -h, +w, -w``); positions are clipped to the volume. The
step shrinks over an episode (e.g. 4, 2, 1 voxels over equal thirds of its steps),
so agents move coarsely first, then finely. The reward of agent ``k`` is the decrease
of its Euclidean distance to its landmark, ``|p_k - t_k| - |p_k' - t_k|`` (voxels).

Observation (multi-scale, as the multi-scale DQN landmark agents): agent ``k`` sees the
``P x P x P`` patch centred at ``p_k`` sampled every ``step`` voxels (zero outside the
volume) from the volume smoothed over about ``step`` voxels (a box mean, so a small
landmark between the samples is not lost), so at the coarse step a patch of the same
voxel count covers a field ``step`` times wider (patch 11 at step 4: 41 voxels, a whole
32^3 volume) and the landmark is in view; at step 1 it is the full-resolution patch.
Beside the patch each agent observes its state ``(d, h, w, scale)``: its position in
[0, 1] and the current step as a fraction of the coarsest (1 at the coarse step), so the
network knows the scale it acts at. ``multiscale=False`` gives the single-scale patch
(always full resolution).

The environment is vectorised over ``E`` volumes run in lockstep, so one network
forward serves every agent of every volume.

Example:
    >>> env = LandmarkEnv(torch.zeros(1, 8, 8, 8), torch.tensor([[[4.0, 4.0, 4.0]]]), patch=3,
    ...                   steps=(2, 1))
    >>> _ = env.reset(torch.tensor([[[2, 4, 4]]]))
    >>> env.step(torch.tensor([[0]]))[1]  # +d by the coarse step 2: distance 2 -> 0
    tensor([[2.]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from nasbench.errors import ConfigError

N_ACTIONS = 6
STATE_DIM = 4  # position (d, h, w) in [0, 1] and the step size over the coarsest
# action -> (axis, sign)
_MOVES = torch.tensor([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])


def step_schedule(coarse: int) -> tuple[int, ...]:
    """Step sizes from ``coarse`` down to 1, halving (4 -> (4, 2, 1)).

    Example:
        >>> step_schedule(4), step_schedule(1)
        ((4, 2, 1), (1,))
    """
    if coarse < 1:
        raise ConfigError(f"the coarse step must be at least 1 voxel, got {coarse}.")
    steps = [int(coarse)]
    while steps[-1] > 1:
        steps.append(max(1, steps[-1] // 2))
    return tuple(steps)


def extract_patches(
    volumes: torch.Tensor, positions: torch.Tensor, patch: int, spacing: int = 1
) -> torch.Tensor:
    """Patches centred at each agent's position, sampled every ``spacing`` voxels.

    With ``spacing = 1`` a patch is the full-resolution ``P x P x P`` block around the
    agent; with ``spacing = s`` it has the same ``P^3`` voxels but covers a field of
    ``s * (P - 1) + 1`` voxels (every ``s``-th voxel), the coarse view of the
    multi-scale agents. Samples outside the volume are zero.

    Args:
        volumes: ``(E, S, S, S)``.
        positions: ``(E, K, 3)`` integer voxel positions.
        patch: odd patch edge ``P``.
        spacing: voxels between neighbouring samples (at least 1).

    Returns:
        ``(E, K, 1, P, P, P)``.

    Example:
        >>> v = torch.arange(27.0).view(1, 3, 3, 3)
        >>> extract_patches(v, torch.tensor([[[0, 0, 0]]]), 3)[0, 0, 0, 1:, 1:, 1:].flatten()
        tensor([ 0.,  1.,  3.,  4.,  9., 10., 12., 13.])
        >>> extract_patches(v, torch.tensor([[[0, 0, 0]]]), 3, spacing=2)[0, 0, 0, 2, 2, 2]
        tensor(26.)
    """
    if patch < 1 or patch % 2 == 0:
        raise ConfigError(f"the patch edge must be a positive odd number, got {patch}.")
    if spacing < 1:
        raise ConfigError(f"the patch spacing must be at least 1 voxel, got {spacing}.")
    E, K = positions.shape[:2]
    S = volumes.shape[1:]
    offsets = (torch.arange(patch) - patch // 2) * int(spacing)
    idx = positions.long()[..., None] + offsets  # (E, K, 3, P)
    inside = [(idx[:, :, a] >= 0) & (idx[:, :, a] < S[a]) for a in range(3)]
    d, h, w = (idx[:, :, a].clamp(0, S[a] - 1) for a in range(3))
    e = torch.arange(E).view(E, 1, 1, 1, 1)
    out = volumes[e, d[..., :, None, None], h[..., None, :, None], w[..., None, None, :]]
    mask = inside[0][..., :, None, None] & inside[1][..., None, :, None]
    mask = mask & inside[2][..., None, None, :]
    return (out * mask).unsqueeze(2)


def smooth(volumes: torch.Tensor, step: int) -> torch.Tensor:
    """The volumes averaged over a cube of ``2 * (step // 2) + 1`` voxels (step 1: as is).

    Example:
        >>> v = torch.zeros(1, 5, 5, 5); v[0, 2, 2, 2] = 27.0
        >>> float(smooth(v, 2)[0, 1, 1, 1]), float(smooth(v, 1)[0, 1, 1, 1])
        (1.0, 0.0)
    """
    r = int(step) // 2
    if r == 0:
        return volumes
    return F.avg_pool3d(volumes[:, None], 2 * r + 1, stride=1, padding=r, count_include_pad=False)[
        :, 0
    ]


class LandmarkEnv:
    """``E`` volumes with ``K`` agents each, stepped in lockstep.

    Args:
        volumes: ``(E, S, S, S)`` float volumes.
        targets: ``(E, K, 3)`` landmark coordinates (voxels, may be fractional).
        patch: observed patch edge (odd).
        steps: step sizes over the episode, coarse to fine.
        max_steps: actions per episode; the step size index is
            ``t * len(steps) // max_steps``.
        multiscale: sample the patch every ``step`` voxels (True) or at full
            resolution whatever the step (False).
    """

    def __init__(
        self,
        volumes: torch.Tensor,
        targets: torch.Tensor,
        patch: int = 11,
        steps: Sequence[int] = (4, 2, 1),
        max_steps: int = 24,
        multiscale: bool = True,
    ) -> None:
        if (
            volumes.dim() != 4
            or targets.dim() != 3
            or targets.shape[0] != volumes.shape[0]
            or targets.shape[2] != 3
        ):
            raise ConfigError(
                f"volumes must be (E, S, S, S) and targets (E, K, 3); got "
                f"{tuple(volumes.shape)} and {tuple(targets.shape)}."
            )
        size = volumes.shape[1]
        # Half a voxel of slack: a coordinate rescaled with the volume may round past an edge.
        outside = (targets < -0.5) | (targets > size - 0.5)
        if not torch.isfinite(targets.float()).all() or outside.any():
            raise ConfigError(
                f"landmark targets must be finite voxel coordinates inside the volume (0 to "
                f"{size - 1}); some are not (NaN, or outside it)."
            )
        if not steps or any(int(s) < 1 for s in steps):
            raise ConfigError(f"steps must be one or more step sizes >= 1, got {tuple(steps)}.")
        if int(max_steps) < 1:
            raise ConfigError(f"max_steps must be at least 1 action, got {max_steps!r}.")
        self.volumes = volumes.float()
        self.targets = targets.float()
        self.patch = int(patch)
        self.steps = tuple(int(s) for s in steps)
        self.max_steps = int(max_steps)
        self.multiscale = bool(multiscale)
        # The volume each step size samples: smoothed over about that many voxels.
        self._views = {
            step: smooth(self.volumes, step if self.multiscale else 1) for step in self.steps
        }
        self.size = volumes.shape[1]
        self.t = 0
        self.positions = torch.zeros_like(self.targets, dtype=torch.long)

    @property
    def step_size(self) -> int:
        """The step size now."""
        return self.steps[min(self.t * len(self.steps) // self.max_steps, len(self.steps) - 1)]

    def observe(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(patches (E, K, 1, P, P, P), states (E, K, STATE_DIM))``.

        A state is the position in [0, 1] along ``d, h, w`` and the step size now over
        the coarsest step size.
        """
        step = self.step_size
        spacing = step if self.multiscale else 1
        patches = extract_patches(self._views[step], self.positions, self.patch, spacing)
        where = self.positions / max(self.size - 1, 1)
        scale = torch.full_like(where[..., :1], step / max(self.steps))
        return patches, torch.cat([where, scale], dim=-1)

    def distances(self) -> torch.Tensor:
        """``(E, K)`` Euclidean distance of each agent to its landmark (voxels)."""
        return (self.positions.float() - self.targets).norm(dim=-1)

    def reset(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Place the agents at ``positions (E, K, 3)`` (clipped) and observe."""
        self.positions = positions.long().clamp(0, self.size - 1).clone()
        self.t = 0
        return self.observe()

    def step(self, actions: torch.Tensor) -> tuple[tuple, torch.Tensor, bool]:
        """Move every agent; return ``(observation, rewards (E, K), done)``."""
        if actions.shape != self.positions.shape[:2]:
            raise ConfigError(
                f"actions must be (E, K) = {tuple(self.positions.shape[:2])}, "
                f"got {tuple(actions.shape)}."
            )
        actions = actions.long()
        if ((actions < 0) | (actions >= len(_MOVES))).any():
            raise ConfigError(
                f"actions must be move indices 0-{len(_MOVES) - 1} (+-d, +-h, +-w); got "
                f"{sorted(set(actions[(actions < 0) | (actions >= len(_MOVES))].tolist()))}."
            )
        before = self.distances()
        move = _MOVES[actions] * self.step_size
        self.positions = (self.positions + move).clamp(0, self.size - 1)
        self.t += 1
        rewards = before - self.distances()
        return self.observe(), rewards, self.t >= self.max_steps


def random_starts(
    n: int, n_agents: int, size: int, generator: torch.Generator, margin: float = 0.25
) -> torch.Tensor:
    """Start positions ``(n, K, 3)`` drawn uniformly in the central box of the volume.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> p = random_starts(2, 3, 32, g)
        >>> p.shape, bool((p >= 8).all() and (p <= 24).all())
        (torch.Size([2, 3, 3]), True)
    """
    low, high = int(size * margin), int(round(size * (1 - margin)))
    return torch.randint(low, high + 1, (n, n_agents, 3), generator=generator)


def curriculum_radius(round_: int, rounds: int, fraction: float, size: int) -> int | None:
    """Half-width of the start box around the landmark in round ``round_`` (None: no box).

    The first ``ceil(fraction * rounds)`` rounds start the agents near their landmarks,
    in a box whose half-width grows linearly to about a quarter of the volume edge (the
    half-width of :func:`random_starts`' central box); later rounds, and every round
    with ``fraction = 0``, start in the central box.

    Example:
        >>> [curriculum_radius(r, 6, 0.5, 32) for r in range(6)]
        [2, 4, 6, None, None, None]
    """
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"the start curriculum is a fraction of the rounds, got {fraction}.")
    n = math.ceil(fraction * rounds)
    if round_ >= n:
        return None
    return max(1, round(size / 4 * (round_ + 1) / (n + 1)))


def near_starts(
    targets: torch.Tensor, radius: int, size: int, generator: torch.Generator
) -> torch.Tensor:
    """Start positions ``(n, K, 3)`` uniform in the box of half-width ``radius`` voxels
    around each landmark (rounded), clipped to the volume.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> p = near_starts(torch.full((2, 3, 3), 10.2), 2, 32, g)
        >>> bool(((p - 10).abs() <= 2).all())
        True
    """
    offsets = torch.randint(-radius, radius + 1, targets.shape, generator=generator)
    return (targets.round().long() + offsets).clamp(0, size - 1)
