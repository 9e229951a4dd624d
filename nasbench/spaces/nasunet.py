"""The NAS-Unet space (Weng et al., 2019): a DownSC and an UpSC cell in a U shape.

Both cells are DARTS-style DAGs with two inputs and ``n_nodes`` intermediate nodes,
each node taking ``inputs_per_node`` distinct earlier states. What an edge may hold
depends on its role (:func:`nasbench.spaces.seg_genotypes.edge_role`): DownSC edges from the
inputs take a Down op (``avg_pool``, ``max_pool``, ``down_cweight``,
``down_dil_conv``, ``down_dep_conv``, ``down_conv``), UpSC edges from the previous
cell an Up op (``up_cweight``, ``up_dep_conv``, ``up_conv``, ``up_dil_conv``), every
other edge a Normal op (``identity``, ``cweight``, ``dil_conv``, ``dep_conv``,
``conv``): the primitive sets of ``nasbench.spaces.ops``. The skeleton
(:class:`~nasbench.spaces.skeleton.UNetSkeleton`) stacks ``depth`` DownSC and
``depth + 1`` UpSC cells (:mod:`nasbench.models.unet`).

It is searched by the differentiable methods ``darts``, ``gdas`` and ``proxyless``
(NAS-Unet's own update: ProxylessNAS binary gates, one path in memory); PC-DARTS's
partial-channel bypass cannot up-sample, so it is not offered.

Example:
    >>> space = NasUnetSpace(n_nodes=2)
    >>> space.size() == space.cell_size("down") * space.cell_size("up")
    True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from nasbench.errors import SpaceError
from nasbench.options import plain_numbers
from nasbench.spaces.base import (
    Space,
    check_n_nodes,
    check_op_dims,
    op_outside_error,
    register_space,
    resolve_ops,
)
from nasbench.spaces.genotype import inputs_in_order, parse_genotype
from nasbench.spaces.seg_genotypes import UNET_CELL_TYPES as CELL_TYPES
from nasbench.spaces.seg_genotypes import NasUnetGenotype, edge_role
from nasbench.spaces.skeleton import UNetSkeleton

ZERO_OP = "none"
ROLE_SETS = {"down": "nasunet_down", "up": "nasunet_up", "normal": "nasunet_normal"}


@register_space("nasunet")
class NasUnetSpace(Space):
    """NAS-Unet's DownSC + UpSC cell space, 2D or 3D.

    Args:
        down_ops: op-set name or op list for the down-sampling edges.
        up_ops: op-set name or op list for the up-sampling edges.
        normal_ops: op-set name or op list for every other edge.
        n_nodes: intermediate nodes per cell.
        inputs_per_node: distinct inputs per node (1 or 2).
        skeleton: a :class:`UNetSkeleton` or its dict (depth, channels, classes, dims).

    Example:
        >>> NasUnetSpace(n_nodes=1).cell_size("down")
        36
    """

    task = "segmentation"
    strategies = ("darts", "gdas", "proxyless")

    def __init__(
        self,
        down_ops: str | Sequence[str] = ROLE_SETS["down"],
        up_ops: str | Sequence[str] = ROLE_SETS["up"],
        normal_ops: str | Sequence[str] = ROLE_SETS["normal"],
        n_nodes: int = 2,
        inputs_per_node: int = 2,
        skeleton: UNetSkeleton | Mapping[str, Any] | None = None,
    ) -> None:
        n_nodes, inputs_per_node = plain_numbers(n_nodes), plain_numbers(inputs_per_node)
        for label, value in (("n_nodes", n_nodes), ("inputs_per_node", inputs_per_node)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpaceError(f"NasUnetSpace {label} must be an integer >= 1, got {value!r}.")
        check_n_nodes("NasUnetSpace", n_nodes)
        if inputs_per_node > 2:
            raise SpaceError(
                f"NasUnetSpace inputs_per_node={inputs_per_node} exceeds the 2 inputs the "
                "first node can pick; use 1 or 2."
            )
        self.op_sets: dict[str, str | None] = {}
        self.role_ops: dict[str, tuple[str, ...]] = {}
        for role, ops in (("down", down_ops), ("up", up_ops), ("normal", normal_ops)):
            self.op_sets[role], self.role_ops[role] = resolve_ops(
                ops, ROLE_SETS[role], upsampling=role == "up"
            )
        self.choices = {
            r: tuple(o for o in ops if o != ZERO_OP) for r, ops in self.role_ops.items()
        }
        for role, choices in self.choices.items():
            if not choices:
                raise SpaceError(f"NasUnetSpace {role}_ops needs at least one op but 'none'.")
        self.n_nodes, self.inputs_per_node = n_nodes, inputs_per_node
        self.skeleton = UNetSkeleton.coerce(skeleton)
        for ops in self.role_ops.values():
            check_op_dims(ops, self.skeleton.spatial_dims, "NasUnetSpace")
        self.concat = tuple(range(2, n_nodes + 2))

    # -- counting ---------------------------------------------------------------------------

    def _edge_choices(self, cell_type: str, inp: int) -> tuple[str, ...]:
        return self.choices[edge_role(cell_type, inp)]

    def _node_options(self, cell_type: str, i: int) -> list[tuple[tuple[str, int], ...]]:
        out = []
        for inputs in itertools.combinations(range(i + 2), self.inputs_per_node):
            per_edge = [self._edge_choices(cell_type, j) for j in inputs]
            for ops in itertools.product(*per_edge):
                out.append(tuple(zip(ops, inputs, strict=True)))
        return out

    def _node_count(self, cell_type: str, i: int) -> int:
        return sum(
            math.prod(len(self._edge_choices(cell_type, j)) for j in inputs)
            for inputs in itertools.combinations(range(i + 2), self.inputs_per_node)
        )

    def cell_size(self, cell_type: str) -> int:
        """Distinct cells of one type (``"down"`` or ``"up"``)."""
        return math.prod(self._node_count(cell_type, i) for i in range(self.n_nodes))

    def size(self) -> int:
        """Distinct (DownSC, UpSC) pairs."""
        return self.cell_size("down") * self.cell_size("up")

    # -- membership -------------------------------------------------------------------------

    def validate(self, genotype: NasUnetGenotype | str) -> NasUnetGenotype:
        """Check that ``genotype`` belongs to this space (wiring, node count, op per role).

        Example:
            >>> space = NasUnetSpace(n_nodes=1)
            >>> space.validate(space.sample(np.random.default_rng(0))).kind
            'nasunet'
        """
        g = parse_genotype(genotype)
        if not isinstance(g, NasUnetGenotype):
            raise SpaceError(f"the 'nasunet' space holds NAS-Unet genotypes, not {g.kind!r} ones.")
        if g.inputs_per_node != self.inputs_per_node:
            raise SpaceError(
                f"genotype has {g.inputs_per_node} inputs per node; this space uses "
                f"{self.inputs_per_node}."
            )
        if g.n_nodes != self.n_nodes:
            raise SpaceError(
                f"genotype cells have {g.n_nodes} nodes; this space uses {self.n_nodes}."
            )
        for cell_type in CELL_TYPES:
            _, concat = g.cell(cell_type)
            if tuple(sorted(concat)) != self.concat:
                raise SpaceError(
                    f"{cell_type}_concat is {list(concat)}; this space concatenates every "
                    f"node {list(self.concat)}."
                )
            for i, pairs in enumerate(g.nodes(cell_type)):
                inputs = [j for _, j in pairs]
                if len(set(inputs)) != len(inputs):
                    raise SpaceError(
                        f"{cell_type} cell: node {i + 2} takes input {inputs[0]} twice; "
                        "this space needs distinct inputs per node."
                    )
                for op, j in pairs:
                    role = edge_role(cell_type, j)
                    if op not in self.choices[role]:
                        where = f"{cell_type} cell, {role} edge {j}->{i + 2}"
                        if op == "shuffle_conv":  # published genotypes use it; say what it is
                            raise SpaceError(
                                f"{where}: op 'shuffle_conv' (NAS-Unet's code builds it as "
                                f"its 'conv') is not in this space's {role} ops; write 'conv', "
                                f"or add 'shuffle_conv' to {role}_ops."
                            )
                        raise op_outside_error(op, where, self.choices[role], self.op_sets[role])
        return g

    # -- sampling and moves -----------------------------------------------------------------

    def _make(self, down: Sequence, up: Sequence) -> NasUnetGenotype:
        # Each node's inputs in ascending order, as enumerate() lists them (a node sums
        # its inputs, so their order is not another cell).
        ipn = self.inputs_per_node
        return NasUnetGenotype(
            inputs_in_order(down, ipn), self.concat, inputs_in_order(up, ipn), self.concat, ipn
        )

    def canonical(self, genotype: NasUnetGenotype | str) -> str:
        """A key equal for cells that differ only in the order of a node's inputs: the
        JSON with each node's inputs in ascending order (a discrete search's cache key).

        Example:
            >>> space = NasUnetSpace(n_nodes=1)
            >>> g = space.sample(np.random.default_rng(0))
            >>> space.canonical(g) == g.to_json()
            True
        """
        g = self.validate(genotype)
        return self._make(g.down, g.up).to_json()

    def _sample_cell(self, cell_type: str, rng: np.random.Generator) -> list[tuple[str, int]]:
        pairs: list[tuple[str, int]] = []
        for i in range(self.n_nodes):
            combos = list(itertools.combinations(range(i + 2), self.inputs_per_node))
            # Weighted by how many op choices each input set offers: uniform over cells.
            weights = np.array(
                [math.prod(len(self._edge_choices(cell_type, j)) for j in c) for c in combos],
                dtype=float,
            )
            inputs = combos[int(rng.choice(len(combos), p=weights / weights.sum()))]
            for j in inputs:
                choices = self._edge_choices(cell_type, j)
                pairs.append((choices[int(rng.integers(len(choices)))], int(j)))
        return pairs

    def sample(self, rng: np.random.Generator) -> NasUnetGenotype:
        """A uniformly random (DownSC, UpSC) pair."""
        down = self._sample_cell("down", rng)
        return self._make(down, self._sample_cell("up", rng))

    def neighbours(self, genotype: NasUnetGenotype | str) -> list[NasUnetGenotype]:
        """Every genotype one op or one input of one edge away (the op kept when the new
        input's role allows it)."""
        g = self.validate(genotype)
        out = []
        for cell_type in CELL_TYPES:
            pairs = list(g.cell(cell_type)[0])
            other = g.cell("up" if cell_type == "down" else "down")[0]
            for k, (op, j) in enumerate(pairs):
                node = k // self.inputs_per_node
                start = node * self.inputs_per_node
                taken = {x for _, x in pairs[start : start + self.inputs_per_node]}
                changes = [(o, j) for o in self._edge_choices(cell_type, j) if o != op]
                changes += [
                    (op, x)
                    for x in range(node + 2)
                    if x not in taken and op in self._edge_choices(cell_type, x)
                ]
                for change in changes:
                    new = pairs.copy()
                    new[k] = change
                    out.append(
                        self._make(new, other) if cell_type == "down" else self._make(other, new)
                    )
        return out

    def _iter_all(self) -> Iterator[NasUnetGenotype]:
        cells = {}
        for cell_type in CELL_TYPES:
            options = [self._node_options(cell_type, i) for i in range(self.n_nodes)]
            cells[cell_type] = [
                [p for node in combo for p in node] for combo in itertools.product(*options)
            ]
        for down in cells["down"]:
            for up in cells["up"]:
                yield self._make(down, up)

    # -- encodings --------------------------------------------------------------------------

    def _cell_width(self, cell_type: str) -> int:
        return sum(
            len(self._edge_choices(cell_type, j)) for i in range(self.n_nodes) for j in range(i + 2)
        )

    def encoding_length(self, encoding: str = "onehot") -> int:
        """Length of :meth:`encode` vectors (one entry per node, input and allowed op)."""
        self._check_onehot(encoding)
        return sum(self._cell_width(ct) for ct in CELL_TYPES)

    def encode(self, genotype: NasUnetGenotype | str, encoding: str = "onehot") -> np.ndarray:
        """One-hot (node, input, op) vector of both cells.

        Example:
            >>> space = NasUnetSpace(n_nodes=2)
            >>> float(space.encode(space.sample(np.random.default_rng(0))).sum())
            8.0
        """
        self._check_onehot(encoding)
        g = self.validate(genotype)
        parts = []
        for cell_type in CELL_TYPES:
            vec = np.zeros(self._cell_width(cell_type), dtype=np.float32)
            offsets, at = {}, 0
            for i in range(self.n_nodes):
                for j in range(i + 2):
                    offsets[(i, j)] = at
                    at += len(self._edge_choices(cell_type, j))
            for i, pairs in enumerate(g.nodes(cell_type)):
                for op, j in pairs:
                    vec[offsets[(i, j)] + self._edge_choices(cell_type, j).index(op)] = 1.0
            parts.append(vec)
        return np.concatenate(parts)

    def _check_onehot(self, encoding: str) -> None:
        self._check_encoding(encoding)
        if encoding != "onehot":
            raise SpaceError("the 'nasunet' space has the 'onehot' encoding only.")

    # -- networks and serialisation ---------------------------------------------------------

    def default_skeleton(self) -> UNetSkeleton:
        """The space's U-Net skeleton."""
        return self.skeleton

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        ops = {
            f"{role}_ops": self.op_sets[role] or list(self.role_ops[role])
            for role in ("down", "up", "normal")
        }
        return {
            "name": self.name,
            **ops,
            "n_nodes": self.n_nodes,
            "inputs_per_node": self.inputs_per_node,
            "skeleton": self.skeleton.to_dict(),
        }
