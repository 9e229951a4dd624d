"""The multi-agent landmark environment: K agents walk a volume towards K landmarks.

Agent ``k`` sits at an integer voxel ``p_k`` and observes the ``P x P x P`` patch centred
there (zero outside the volume). An action moves it by ``+-step`` along one axis
(6 actions: ``+d, -d, +h, -h, +w, -w``); positions are clipped to the volume. The
step shrinks over an episode (e.g. 4, 2, 1 voxels over equal thirds of its steps),
so agents move coarsely first, then finely. The reward of agent ``k`` is the decrease
of its Euclidean distance to its landmark, ``|p_k - t_k| - |p_k' - t_k|`` (voxels).

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

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from nasbench.errors import ConfigError

N_ACTIONS = 6
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


def extract_patches(volumes: torch.Tensor, positions: torch.Tensor, patch: int) -> torch.Tensor:
    """Patches centred at each agent's position, zero outside the volume.

    Args:
        volumes: ``(E, S, S, S)``.
        positions: ``(E, K, 3)`` integer voxel positions.
        patch: odd patch edge ``P``.

    Returns:
        ``(E, K, 1, P, P, P)``.

    Example:
        >>> v = torch.arange(27.0).view(1, 3, 3, 3)
        >>> extract_patches(v, torch.tensor([[[0, 0, 0]]]), 3)[0, 0, 0, 1:, 1:, 1:].flatten()
        tensor([ 0.,  1.,  3.,  4.,  9., 10., 12., 13.])
    """
    if patch < 1 or patch % 2 == 0:
        raise ConfigError(f"the patch edge must be a positive odd number, got {patch}.")
    r = patch // 2
    padded = F.pad(volumes, (r, r) * 3)
    E, K = positions.shape[:2]
    out = volumes.new_empty((E, K, 1, patch, patch, patch))
    for e in range(E):
        for k in range(K):
            d, h, w = (int(c) for c in positions[e, k])
            out[e, k, 0] = padded[e, d : d + patch, h : h + patch, w : w + patch]
    return out


class LandmarkEnv:
    """``E`` volumes with ``K`` agents each, stepped in lockstep.

    Args:
        volumes: ``(E, S, S, S)`` float volumes.
        targets: ``(E, K, 3)`` landmark coordinates (voxels, may be fractional).
        patch: observed patch edge (odd).
        steps: step sizes over the episode, coarse to fine.
        max_steps: actions per episode; the step size index is
            ``t * len(steps) // max_steps``.
    """

    def __init__(
        self,
        volumes: torch.Tensor,
        targets: torch.Tensor,
        patch: int = 11,
        steps: Sequence[int] = (4, 2, 1),
        max_steps: int = 24,
    ) -> None:
        if volumes.dim() != 4 or targets.dim() != 3 or targets.shape[0] != volumes.shape[0]:
            raise ConfigError(
                f"volumes must be (E, S, S, S) and targets (E, K, 3); got "
                f"{tuple(volumes.shape)} and {tuple(targets.shape)}."
            )
        self.volumes = volumes.float()
        self.targets = targets.float()
        self.patch = int(patch)
        self.steps = tuple(int(s) for s in steps)
        self.max_steps = int(max_steps)
        self.size = volumes.shape[1]
        self.t = 0
        self.positions = torch.zeros_like(self.targets, dtype=torch.long)

    @property
    def step_size(self) -> int:
        """The step size now."""
        return self.steps[min(self.t * len(self.steps) // self.max_steps, len(self.steps) - 1)]

    def observe(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(patches (E, K, 1, P, P, P), positions (E, K, 3) in [0, 1])``."""
        scale = max(self.size - 1, 1)
        return extract_patches(self.volumes, self.positions, self.patch), self.positions / scale

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
        before = self.distances()
        move = _MOVES[actions.long()] * self.step_size
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
