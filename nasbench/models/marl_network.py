"""Multi-agent Q-networks for 3D landmark localisation: shared cells plus cells per agent.

After the multi-agent localisation NAS of 3D ultrasound (shared cells searched for
every agent, a few cells searched per agent), here with DARTS cells in 3D:

    patch of agent k (1, P, P, P) -> stem -> shared cells (normal and reduce, one
    alpha per cell type, the same weights for every agent) -> agent k's own cells
    (their own alphas and weights) -> pool to a 3 x 3 x 3 grid, flatten -> h_k
    Q_k = head_k([h_k, mean_j h_j, states of all agents])   (6 actions)

The features keep a coarse 3 x 3 x 3 layout (as the DQN landmark agents' conv + fully
connected Q-networks do) rather than a global pool: which way to move depends on where
in the patch the landmark lies, which a global average throws away. A state is an
agent's position in [0, 1] and its current step size over the coarsest (the scale of
its multi-scale patch; see :mod:`nasbench.evaluation.landmark_env`).

Communication between agents is simplified to the last line: each agent's head sees
its own features, the mean of every agent's features and every agent's state, instead
of a learned message-passing module.

:class:`MarlSupernet` carries mixed edges (made by a differentiable method, e.g. GDAS)
and architecture groups ``shared_normal``, ``shared_reduce``, ``agent<k>_normal``,
``agent<k>_reduce``; :class:`MarlNetwork` is the same network with fixed ops, built from
one genotype per part (the derived cells, or the hand-designed :func:`hand_genotype`).

Inputs are ``(patches (B, K, 1, P, P, P), states (B, K, 4))``; the output is
``Q (B, K, 6)``.

The cells run in the channels-last 3D memory format (``body.channels_last``, on by
default): on the CPU oneDNN's 3D convolutions, above all their backward pass, are 1.5 to
3 times faster on few channels in that layout (``benchmarks/README.md``, issue 22). The
values are those of the contiguous layout up to float rounding.

Example:
    >>> net = MarlNetwork.hand_designed(n_agents=2, channels=4, n_nodes=2, shared=(2, 1),
    ...                                 own=(1, 1))
    >>> net((torch.zeros(3, 2, 1, 9, 9, 9), torch.zeros(3, 2, STATE_DIM))).shape
    torch.Size([3, 2, 6])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from nasbench.device import seeded
from nasbench.errors import ConfigError
from nasbench.models.cells import Cell, cell_edges
from nasbench.models.network import genotype_cell
from nasbench.models.supernet import SupernetBase
from nasbench.protocols import ArchGroup, DifferentiableMethod
from nasbench.spaces.blocks import bn_cls, conv_cls
from nasbench.spaces.genotype import Genotype
from nasbench.spaces.ops import create_op, op_names

N_ACTIONS = 6  # +-1 step along d, h and w
MARL_OPS = op_names("gdas")  # the ten-op GDAS cell space
HEAD_HIDDEN = 64
STATE_DIM = 4  # an agent's state: position (d, h, w) in [0, 1], step over the coarsest
POOL_EDGE = 3  # features keep a POOL_EDGE^3 spatial grid (where the landmark lies)
MIN_REDUCE_EDGE = 6


def cell_kinds(n_normal: int, n_reduce: int) -> tuple[str, ...]:
    """Cell types in order, the reductions spread evenly (5 + 3: N N R N R N R N).

    Example:
        >>> cell_kinds(3, 1)
        ('normal', 'normal', 'reduce', 'normal')
    """
    n = n_normal + n_reduce
    at = {round((j + 1) * n / (n_reduce + 1)) for j in range(n_reduce)}
    return tuple("reduce" if i in at else "normal" for i in range(n))


def hand_genotype(n_nodes: int) -> Genotype:
    """The hand-designed cell: node ``i`` sums 3x3 convs of the two states before it.

    Example:
        >>> hand_genotype(2).normal
        (('conv_3x3', 1), ('conv_3x3', 0), ('conv_3x3', 2), ('conv_3x3', 1))
    """
    pairs = tuple(p for i in range(n_nodes) for p in (("conv_3x3", i + 1), ("conv_3x3", i)))
    concat = tuple(range(2, 2 + n_nodes))
    return Genotype(normal=pairs, normal_concat=concat, reduce=pairs, reduce_concat=concat)


class _Body(nn.Module):
    """Stem, shared cells, agent cells and heads; the cells' edges come from the caller."""

    def __init__(
        self,
        n_agents: int,
        channels: int,
        shared: tuple[int, int],
        own: tuple[int, int],
        make_cell: Callable[[str, str, int, int, int, bool, bool], Cell],
        patch: int,
    ) -> None:
        super().__init__()
        if n_agents < 1:
            raise ConfigError(f"n_agents must be at least 1, got {n_agents}.")
        self.n_agents = n_agents
        self.channels_last = True
        C = int(channels)
        C_curr = 2 * C
        self.stem = nn.Sequential(
            conv_cls(3)(1, C_curr, 3, padding=1, bias=False), bn_cls(3)(C_curr)
        )
        self.shared_kinds = cell_kinds(*shared)
        self.own_kinds = cell_kinds(*own)
        # (C_pp, C_p, C, reduction_prev, spatial edge) along the chain of cells
        state = (C_curr, C_curr, C, False, int(patch))

        def chain(part: str, kinds: tuple[str, ...], state: tuple) -> tuple:
            C_pp, C_p, C_curr, reduction_prev, edge = state
            cells = nn.ModuleList()
            for kind in kinds:
                # Channels double per reduce cell up to 4x the first cells' (3D ops are dear).
                C_curr = min(C_curr * 2, 4 * C) if kind == "reduce" else C_curr
                # A reduce cell on an edge under 6 voxels keeps the size (3x3 pools need 3
                # voxels) and only doubles the channels, so small patches fit.
                stride2 = kind == "reduce" and edge >= MIN_REDUCE_EDGE
                cell = make_cell(part, kind, C_pp, C_p, C_curr, stride2, reduction_prev)
                cells.append(cell)
                edge = (edge + 1) // 2 if stride2 else edge
                reduction_prev = stride2
                C_pp, C_p = C_p, cell.multiplier * C_curr
            return cells, (C_pp, C_p, C_curr, reduction_prev, edge)

        self.shared_cells, start = chain("shared", self.shared_kinds, state)
        self.agent_cells = nn.ModuleList()
        for k in range(n_agents):
            cells, end = chain(f"agent{k}", self.own_kinds, start)
            self.agent_cells.append(cells)
        C_p = end[1]
        self.features = C_p * POOL_EDGE**3
        self.pool = nn.AdaptiveAvgPool3d(POOL_EDGE)
        head_in = 2 * self.features + STATE_DIM * n_agents
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Linear(head_in, HEAD_HIDDEN), nn.ReLU(), nn.Linear(HEAD_HIDDEN, N_ACTIONS)
            )
            for _ in range(n_agents)
        )

    def forward(self, obs: Sequence[torch.Tensor], args: Callable[[str, str], Any]) -> torch.Tensor:
        patches, states = obs
        B, K = patches.shape[:2]
        if K != self.n_agents:
            raise ConfigError(f"the network has {self.n_agents} agents, the input {K} patches.")
        if states.shape[-1] != STATE_DIM:
            raise ConfigError(
                f"agent states must have {STATE_DIM} numbers (position d, h, w and scale), "
                f"got {states.shape[-1]}."
            )
        x = patches.reshape(B * K, *patches.shape[2:])
        s0 = s1 = self.stem(x)
        if self.channels_last:
            s0 = s1 = s0.contiguous(memory_format=torch.channels_last_3d)
        for cell, kind in zip(self.shared_cells, self.shared_kinds, strict=True):
            s0, s1 = s1, cell(s0, s1, edge_args=args("shared", kind))
        s0 = s0.reshape(B, K, *s0.shape[1:])
        s1 = s1.reshape(B, K, *s1.shape[1:])
        feats = []
        for k, cells in enumerate(self.agent_cells):
            a0, a1 = s0[:, k], s1[:, k]
            for cell, kind in zip(cells, self.own_kinds, strict=True):
                a0, a1 = a1, cell(a0, a1, edge_args=args(f"agent{k}", kind))
            feats.append(self.pool(a1).flatten(1))
        h = torch.stack(feats, dim=1)  # (B, K, F)
        context = torch.cat([h.mean(dim=1), states.reshape(B, -1)], dim=1)
        q = [head(torch.cat([h[:, k], context], dim=1)) for k, head in enumerate(self.heads)]
        return torch.stack(q, dim=1)


class MarlSupernet(SupernetBase):
    """The multi-agent Q-network with a mixed edge (from ``method``) on every cell edge.

    Args:
        n_agents: agents (targets).
        method: a differentiable method (GDAS): makes the edges, plans each forward and
            owns the architecture optimizer.
        channels: channels of the first cells.
        n_nodes: intermediate nodes per cell.
        shared: ``(normal, reduce)`` shared cells (the paper: 5, 3).
        own: ``(normal, reduce)`` cells per agent (the paper: 3, 1).
        op_names: candidate ops (default the ten GDAS ops).
        patch: the patch edge the network is built for (where reductions stop).
        seed: weights and alphas (the global RNG is untouched).

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> net = MarlSupernet(2, create_strategy("gdas"), channels=4, n_nodes=2,
        ...                    shared=(1, 1), own=(1, 1))
        >>> net.cell_types
        ('shared_normal', 'shared_reduce', 'agent0_normal', 'agent0_reduce', 'agent1_normal', \
'agent1_reduce')
    """

    def __init__(
        self,
        n_agents: int,
        method: DifferentiableMethod,
        channels: int = 4,
        n_nodes: int = 2,
        shared: tuple[int, int] = (5, 3),
        own: tuple[int, int] = (3, 1),
        op_names: Sequence[str] = MARL_OPS,
        patch: int = 11,
        seed: int = 0,
    ) -> None:
        super().__init__(method, checkpoint_cells=False, channels_last=False)
        self.op_names = tuple(op_names)
        self.n_nodes = int(n_nodes)
        self.edges = cell_edges(self.n_nodes)
        names = tuple(f"{i}->{node + 2}" for node, i in self.edges)
        self._group = ArchGroup(tuple(self.edges), names, self.op_names)

        def make_cell(part, kind, C_pp, C_p, C, reduction, reduction_prev):
            return Cell(
                3,
                C_pp,
                C_p,
                C,
                reduction=reduction,
                reduction_prev=reduction_prev,
                edges=self.edges,
                edge_factory=lambda n, i, s: method.make_edge(3, C, s, self.op_names),
                concat=tuple(range(2, 2 + self.n_nodes)),
                affine=False,
            )

        with seeded(seed):
            self.body = _Body(n_agents, channels, shared, own, make_cell, patch)
        parts = ["shared"] + [f"agent{k}" for k in range(n_agents)]
        kinds = {"shared": self.body.shared_kinds, **{p: self.body.own_kinds for p in parts[1:]}}
        self.cell_types = tuple(
            f"{p}_{kind}" for p in parts for kind in ("normal", "reduce") if kind in kinds[p]
        )
        self._build_arch(seed)
        method.setup(self)

    def group(self, cell_type: str) -> ArchGroup:
        """Every group shares the edges and ops of the DARTS cell."""
        return self._group

    def derive(self, scores: Mapping[str, Any]) -> dict[str, Genotype]:
        """One genotype per part (``shared``, ``agent0``...) by the DARTS rule."""
        from nasbench.models.derive import derive_genotype

        parts = dict.fromkeys(ct.rsplit("_", 1)[0] for ct in self.cell_types)
        return {
            part: derive_genotype(
                {
                    kind: scores[f"{part}_{kind}"]
                    for kind in ("normal", "reduce")
                    if f"{part}_{kind}" in scores
                },
                edges=self.edges,
                op_names=self.op_names,
                n_nodes=self.n_nodes,
            )
            for part in parts
        }

    def random_genotypes(self, seed: int) -> dict[str, Genotype]:
        """Cells drawn uniformly at random from this supernet's space, one per part.

        Every score is an independent uniform draw and the cells are derived by the
        same rule as the searched ones (:meth:`derive`), so each edge's op is uniform
        over the ops but 'none' and each node's two inputs uniform over the pairs of
        earlier states: the random-search baseline of the same space.

        Args:
            seed: seeds the draw (its own generator; the global RNG is untouched).

        Returns:
            ``{"shared": g, "agent0": g0, ...}`` as :meth:`derive`.

        Example:
            >>> from nasbench.strategies import create_strategy
            >>> net = MarlSupernet(1, create_strategy("gdas"), shared=(1, 0), own=(1, 0))
            >>> net.random_genotypes(3) == net.random_genotypes(3)
            True
        """
        gen = torch.Generator().manual_seed(int(seed))
        shape = (len(self.edges), len(self.op_names))
        return self.derive({ct: torch.rand(shape, generator=gen).numpy() for ct in self.cell_types})

    def forward(self, obs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Q-values ``(B, K, 6)`` of ``(patches, states)``."""
        _, plans = self._plans()
        return self.body(obs, lambda part, kind: plans[f"{part}_{kind}"])


class MarlNetwork(nn.Module):
    """The multi-agent Q-network with fixed ops: one genotype per part.

    Args:
        genotypes: ``{"shared": g, "agent0": g0, ...}`` (what :meth:`MarlSupernet.derive`
            returns: a part with no cell, such as the agents' when ``own`` is ``(0, 0)``,
            has no genotype).
        channels, shared, own, patch: as :class:`MarlSupernet`.
        seed: weight initialisation.
        n_agents: agents (targets); None counts the ``agent<k>`` genotypes, which only
            works when each agent has cells of its own.
    """

    def __init__(
        self,
        genotypes: Mapping[str, Genotype],
        channels: int = 4,
        shared: tuple[int, int] = (5, 3),
        own: tuple[int, int] = (3, 1),
        patch: int = 11,
        seed: int = 0,
        n_agents: int | None = None,
    ) -> None:
        super().__init__()
        if n_agents is None:
            n_agents = sum(1 for part in genotypes if part.startswith("agent"))
        agents = [f"agent{k}" for k in range(n_agents)] if sum(own) else []
        missing = [p for p in ["shared"] * bool(sum(shared)) + agents if p not in genotypes]
        if missing:
            raise ConfigError(f"genotypes lack the part(s) {', '.join(missing)}.")
        self.genotypes = dict(genotypes)

        def make_cell(part, kind, C_pp, C_p, C, reduction, reduction_prev):
            edges, names, concat = genotype_cell(self.genotypes[part], kind)
            ops = iter(names)
            return Cell(
                3,
                C_pp,
                C_p,
                C,
                reduction=reduction,
                reduction_prev=reduction_prev,
                edges=edges,
                edge_factory=lambda n, i, s: create_op(next(ops), 3, C, C, s),
                concat=concat,
            )

        with seeded(seed):
            self.body = _Body(n_agents, channels, shared, own, make_cell, patch)

    @classmethod
    def hand_designed(cls, n_agents: int, n_nodes: int = 2, **kwargs: Any) -> MarlNetwork:
        """The baseline: every cell the hand-designed 3x3-conv cell (:func:`hand_genotype`)."""
        g = hand_genotype(n_nodes)
        parts = {"shared": g, **{f"agent{k}": g for k in range(n_agents)}}
        return cls(parts, n_agents=n_agents, **kwargs)

    def forward(self, obs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Q-values ``(B, K, 6)`` of ``(patches, states)``."""
        return self.body(obs, lambda part, kind: None)


class LandmarkRegressor(nn.Module):
    """The direct regression baseline: a 3D CNN from the whole volume to K landmarks.

    Four conv-BN-ReLU blocks (stride 2 from the second), global pooling and a linear
    layer giving ``(B, K, 3)`` coordinates as fractions of the volume edge.

    Args:
        n_landmarks: K.
        channels: channels of the first block (doubling per block).
        seed: weight initialisation.

    Example:
        >>> LandmarkRegressor(3, channels=4)(torch.zeros(2, 1, 16, 16, 16)).shape
        torch.Size([2, 3, 3])
    """

    def __init__(self, n_landmarks: int, channels: int = 8, seed: int = 0) -> None:
        super().__init__()
        self.n_landmarks = int(n_landmarks)
        with seeded(seed):
            layers, c_in = [], 1
            for i in range(4):
                c_out = channels * 2**i
                layers += [
                    nn.Conv3d(c_in, c_out, 3, stride=1 if i == 0 else 2, padding=1, bias=False),
                    nn.BatchNorm3d(c_out),
                    nn.ReLU(),
                ]
                c_in = c_out
            self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool3d(1), nn.Flatten())
            self.out = nn.Linear(c_in, 3 * self.n_landmarks)

    def forward(self, volume: torch.Tensor) -> torch.Tensor:
        """Landmarks ``(B, K, 3)`` in fractions of the edge of ``volume (B, 1, S, S, S)``."""
        return torch.sigmoid(self.out(self.features(volume))).view(-1, self.n_landmarks, 3)
