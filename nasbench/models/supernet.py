"""The weight-sharing supernet of a DARTS/NASNet cell space, 2D and 3D.

Stem, ``n_cells`` cells (normal and reduction cells at the skeleton's positions),
global average pooling and a linear classifier, as DARTS's ``model_search.py``. The
cells are :class:`nasbench.models.cells.Cell` (the same wiring as the discrete
networks) with a mixed edge, made by the search method, on every candidate edge.

The architecture tensors (``alpha`` per cell type, shape ``(n_edges, n_ops)``, plus
``beta`` for PC-DARTS) are ``nn.Parameter`` s of the supernet so they move with
``.to(device)`` and live in ``state_dict()``, but :meth:`Supernet.weight_parameters`
leaves them out, so the weight optimizer never sees them. Once per forward the
method turns them into one :class:`EdgePlan` per edge and cell type (softmax weights,
a Gumbel sample, binary gates...), shared by every cell of that type.

Two options trade nothing in the result for speed or memory (``benchmarks/supernet.py``
measures them): ``checkpoint_cells`` recomputes each cell's activations in the backward
pass instead of storing them (torch.utils.checkpoint), and ``channels_last`` runs the
network in the channels-last memory format, whose depthwise convolutions and pools are
much faster on CPU (and use the tensor cores on CUDA). A third, finer one belongs to the
edges: DARTS's ``memory="recompute-edge"`` keeps only each mixed edge's input and
recomputes its ops in the backward pass (:mod:`nasbench.models.mixed_edge`), and
DARTS's ``fuse_ops`` runs an edge's separable and dilated convolutions as a few fused
calls (:mod:`nasbench.models.fused_edge`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from nasbench import registry
from nasbench.device import seeded
from nasbench.errors import ConfigError, SpaceError
from nasbench.models.cells import Cell, SharedInputRelu, cell_edges
from nasbench.models.mixed_edge import frozen_running_stats
from nasbench.protocols import MODES, ArchGroup, DifferentiableMethod, Space
from nasbench.spaces.base import supernet_builder
from nasbench.spaces.blocks import GlobalAvgPool, bn_cls, conv_cls

CELL_TYPES = ("normal", "reduce")
ALPHA_INIT_SCALE = 1e-3  # DARTS initialises alphas as 1e-3 * randn


class SupernetBase(nn.Module):
    """What every weight-sharing supernet shares: architecture tensors, forward modes, options.

    A subclass builds its network, sets ``cell_types`` (its architecture groups) and
    answers :meth:`group` and :meth:`derive`; then :meth:`_build_arch` creates one
    ``alpha_<group>`` tensor per group (plus the method's extra tensors) and
    ``method.setup(self)`` creates the architecture optimizer.

    Args:
        method: a :class:`DifferentiableMethod` (it makes the edges and owns the
            architecture optimizer).
        checkpoint_cells: recompute each cell in the backward pass (None: the method
            config's ``checkpoint_cells``, else False).
        channels_last: run in the channels-last memory format (None: from the method
            config, else False).
    """

    cell_types: tuple[str, ...] = ()

    def __init__(
        self,
        method: DifferentiableMethod,
        checkpoint_cells: bool | None = None,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__()
        self.method = method
        self.checkpoint_cells = _option(method, "checkpoint_cells", checkpoint_cells)
        self.channels_last = _option(method, "channels_last", channels_last)
        self._mode: str | None = None

    def group(self, cell_type: str) -> ArchGroup:
        """The rows (edges) and columns (ops) of the architecture matrix ``cell_type``."""
        raise NotImplementedError

    def derive(self, scores: dict[str, Any]) -> Any:
        """The genotype that per-group edge scores ``(n_edges, n_ops)`` point to."""
        raise NotImplementedError

    def _build_arch(self, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        shapes = {}
        for ct in self.cell_types:
            n_edges, n_ops = len(self.group(ct).edges), len(self.group(ct).op_names)
            shapes[ct] = {
                "alpha": (n_edges, n_ops),
                **self.method.extra_arch_shapes(n_edges, n_ops),
            }
        kinds = dict.fromkeys(kind for ct in self.cell_types for kind in shapes[ct])
        self.arch = nn.ParameterDict()
        # Kinds outer, groups inner: the draw order of the DARTS supernet.
        for kind in kinds:
            for ct in self.cell_types:
                if kind in shapes[ct]:
                    init = ALPHA_INIT_SCALE * torch.randn(shapes[ct][kind], generator=gen)
                    self.arch[f"{kind}_{ct}"] = nn.Parameter(init)

    # ---- parameters -------------------------------------------------------------------------
    def alpha(self, cell_type: str) -> nn.Parameter:
        """The ``(n_edges, n_ops)`` alpha of ``cell_type``."""
        return self.arch_tensor("alpha", cell_type)

    def arch_tensor(self, kind: str, cell_type: str) -> nn.Parameter:
        """An architecture tensor by kind (``"alpha"``, ``"beta"``) and cell type."""
        key = f"{kind}_{cell_type}"
        if key not in self.arch:
            raise ConfigError(
                f"This supernet has no '{key}'; it has {', '.join(self.arch.keys())}."
            )
        return self.arch[key]

    def arch_parameters(self) -> list[nn.Parameter]:
        """Every architecture tensor (alphas, and betas where the method has them)."""
        return list(self.arch.values())

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every parameter except the architecture tensors: what the weight optimizer steps
        (in ``parameters()`` order)."""
        arch = {id(p) for p in self.arch.values()}
        return [p for p in parameters_in_order(self) if id(p) not in arch]

    # ---- forward ----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """``"train"``/``"eval"`` from ``self.training`` unless :meth:`forward_mode` overrides."""
        return self._mode or ("train" if self.training else "eval")

    @contextlib.contextmanager
    def forward_mode(self, mode: str) -> Iterator[None]:
        """Run forwards in ``mode``: ``"train"``, ``"eval"``, ``"relaxed"`` (softmax mixture
        of every op, for the Hessian) or ``"arch"`` (ProxylessNAS two-path sampling).

        Example:
            >>> with net.forward_mode("relaxed"):  # doctest: +SKIP
            ...     logits = net(x)
        """
        if mode not in MODES:
            raise ConfigError(f"Unknown forward mode '{mode}'; use one of {', '.join(MODES)}.")
        previous, self._mode = self._mode, mode
        try:
            yield
        finally:
            self._mode = previous

    def _plans(self) -> tuple[str, dict[str, list]]:
        """The forward mode and the method's edge plans of every group for one forward."""
        mode = self.mode
        return mode, {ct: self.method.edge_plans(self, ct, mode) for ct in self.cell_types}

    def _memory_format(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last and x.dim() in (4, 5):
            fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
            x = x.contiguous(memory_format=fmt)
        return x

    def _run_cell(
        self, cell: nn.Module, mode: str, *inputs: torch.Tensor, edge_args, **kwargs: Any
    ) -> Any:
        """``cell(*inputs, edge_args=..., **kwargs)``, recomputed in the backward pass
        when asked."""
        # Not in "relaxed" mode: the Hessian differentiates twice through the forward.
        if self.checkpoint_cells and torch.is_grad_enabled() and mode in ("train", "arch"):
            return checkpoint(
                cell,
                *inputs,
                edge_args=edge_args,
                **kwargs,
                use_reentrant=False,
                context_fn=_recompute_contexts(cell),
            )
        return cell(*inputs, edge_args=edge_args, **kwargs)

    # ---- reading ----------------------------------------------------------------------------
    def genotype(self):
        """The derived genotype now (the method's rule)."""
        return self.method.derive_genotype(self)

    def alpha_records(self):
        """The method's snapshot of the architecture state (list of AlphaRecord)."""
        return self.method.alpha_records(self)


class Supernet(SupernetBase):
    """A DARTS-style supernet whose mixed edges come from a differentiable method.

    Args:
        op_names: candidate ops on every edge.
        n_nodes: intermediate nodes per cell.
        inputs_per_node: edges a derived genotype keeps per node.
        skeleton: a ``nasbench.spaces.skeleton.Skeleton``.
        method: a :class:`DifferentiableMethod` (it makes the edges and owns the
            architecture optimizer).
        seed: seeds the weight initialisation and the alphas (the global RNG is untouched).
        checkpoint_cells: recompute each cell in the backward pass rather than keep its
            activations (a fraction of the memory, roughly one more forward of time).
            None: the method config's ``checkpoint_cells`` if it has one, else False.
        channels_last: run in the channels-last memory format. None: the method
            config's ``channels_last`` if it has one, else False.

    Attributes:
        edges: ``(node, input)`` per alpha row (``cell_edges`` order).
        edge_names: ``"input->state"`` per row, e.g. ``"0->2"``.
        op_names: one per alpha column.
        cell_types: the cell types present (``"normal"``, and ``"reduce"`` if any).
        non_zero_ops: column indices of the ops other than 'none'.
        zero_op: column of 'none', or None.
        share_relu: compute each cell output's ReLU once for the two cells that read it
            (True; their preprocessors begin with it); False runs it in both, as DARTS's
            ``Network`` does (the benchmark's textbook baseline).
    """

    def __init__(
        self,
        op_names: tuple[str, ...],
        n_nodes: int,
        inputs_per_node: int,
        skeleton: Any,
        method: DifferentiableMethod,
        seed: int = 0,
        checkpoint_cells: bool | None = None,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__(method, checkpoint_cells, channels_last)
        self.share_relu = True
        self.op_names = tuple(op_names)
        self.n_nodes = int(n_nodes)
        self.inputs_per_node = int(inputs_per_node)
        self.skeleton = skeleton
        self.edges = cell_edges(self.n_nodes)
        self.edge_names = tuple(f"{i}->{node + 2}" for node, i in self.edges)
        self._group = ArchGroup(tuple(self.edges), self.edge_names, self.op_names)
        self.non_zero_ops = self._group.non_zero_ops
        self.zero_op = self._group.zero_op
        if not self.non_zero_ops:
            raise SpaceError("A supernet needs at least one op other than 'none'.")
        reductions = set(skeleton.reductions())
        self.cell_type_of = tuple(
            "reduce" if i in reductions else "normal" for i in range(skeleton.n_cells)
        )
        self.cell_types = tuple(ct for ct in CELL_TYPES if ct in self.cell_type_of)
        with seeded(seed):
            self._build_network(skeleton)
        self._build_arch(seed)
        method.setup(self)

    def _build_network(self, sk: Any) -> None:
        dims, C = sk.spatial_dims, sk.channels
        C_curr = sk.stem_multiplier * C
        self.stem = nn.Sequential(
            conv_cls(dims)(sk.in_channels, C_curr, 3, padding=1, bias=False),
            bn_cls(dims)(C_curr),
        )
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for cell_type in self.cell_type_of:
            reduction = cell_type == "reduce"
            if reduction:
                C_curr *= 2
            cell = Cell(
                dims,
                C_prev_prev,
                C_prev,
                C_curr,
                reduction=reduction,
                reduction_prev=reduction_prev,
                edges=self.edges,
                edge_factory=self._edge_factory(dims, C_curr),
                concat=tuple(range(2, 2 + self.n_nodes)),
                affine=False,
            )
            self.cells.append(cell)
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(C_prev, sk.num_classes)

    def _edge_factory(self, dims: int, C: int):
        def factory(node: int, inp: int, stride: int) -> nn.Module:
            return self.method.make_edge(dims, C, stride, self.op_names)

        return factory

    def group(self, cell_type: str) -> ArchGroup:
        """Every cell type shares the edges and ops of the DARTS cell."""
        return self._group

    def op_costs(self, cell_type: str) -> torch.Tensor:
        """Parameters of each candidate op on each alpha row, summed over the cells of
        ``cell_type`` (what a derived network pays for picking it; 'none', skips and
        pools cost nothing, a reduction cell's skip its factorized reduce).

        Args:
            cell_type: one of :attr:`cell_types`.

        Returns:
            A float tensor ``(n_edges, n_ops)``, laid out as :meth:`alpha`.
        """
        costs = torch.zeros(len(self.edges), len(self.op_names))
        for cell, kind in zip(self.cells, self.cell_type_of, strict=True):
            if kind != cell_type:
                continue
            for row, edge in enumerate(cell.edge_ops):
                for column, op in enumerate(edge.ops):
                    costs[row, column] += sum(p.numel() for p in op.parameters())
        return costs

    def derive(self, scores: dict[str, Any], min_parametric: int = 0):
        """The DARTS rule (``nasbench.models.derive``); the normal cell keeps at least
        ``min_parametric`` parametric ops."""
        from nasbench.models.derive import derive_genotype

        return derive_genotype(
            scores,
            edges=self.edges,
            op_names=self.op_names,
            n_nodes=self.n_nodes,
            inputs_per_node=self.inputs_per_node,
            min_parametric=min_parametric,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)`` of a batch ``(N, in_channels, *spatial)``."""
        mode, plans = self._plans()
        x = self._memory_format(x)
        s0 = s1 = self.stem(x)
        relu = SharedInputRelu(self.share_relu)
        for cell, cell_type in zip(self.cells, self.cell_type_of, strict=True):
            *inputs, rectified = relu.inputs(cell, s0, s1)
            out = self._run_cell(
                cell, mode, *inputs, edge_args=plans[cell_type], rectified=rectified
            )
            s0, s1 = s1, out
        return self.classifier(self.global_pooling(s1).flatten(1))


def parameters_in_order(module: nn.Module) -> list[nn.Parameter]:
    """``list(module.parameters())``, 2.5x faster on a supernet's thousands of modules.

    ``nn.Module.parameters()`` builds a dotted name for every module and parameter; a
    search step asks for the weights twice (the architecture step freezes them, the
    weight step clips their gradients), which cost 3.5 ms each on the DARTS supernet
    (8 cells, 5,096 modules), 1.5% of a GDAS step at batch 16.

    Example:
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
        >>> [p.shape for p in parameters_in_order(net)] == [p.shape for p in net.parameters()]
        True
    """
    seen: set[int] = set()
    found = []
    stack = [module]
    while stack:  # pre-order, children in registration order: as named_modules()
        m = stack.pop()
        for p in m._parameters.values():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                found.append(p)
        stack.extend(reversed([c for c in m._modules.values() if c is not None]))
    return found


def _option(method: DifferentiableMethod, name: str, value: bool | None) -> bool:
    if value is not None:
        return bool(value)
    return bool(getattr(getattr(method, "config", None), name, False))


def _recompute_contexts(module: nn.Module):
    """``context_fn`` for checkpoint: the recomputation must not move BatchNorm's
    running statistics a second time."""
    return lambda: (contextlib.nullcontext(), frozen_running_stats(module))


def has_cells(space: Space) -> bool:
    """True when ``space`` has DARTS-style cells (ops, nodes, inputs per node), the
    structure :func:`build_supernet` stacks into a supernet."""
    return all(hasattr(space, attr) for attr in ("ops", "n_nodes", "inputs_per_node"))


def has_supernet(space: Space) -> bool:
    """True when a differentiable search can run on ``space``: it has DARTS-style cells,
    or builds a supernet of its own (NAS-Unet, V-NAS, DiNTS).

    Example:
        >>> from nasbench.spaces import create_space
        >>> has_supernet(create_space("darts")), has_supernet(create_space("nb201"))
        (True, False)
    """
    return supernet_builder(space) != "darts" or has_cells(space)


@registry.register("supernet", "darts")
def build_supernet(
    space: Space,
    method: str | DifferentiableMethod = "darts",
    method_config: Any = None,
    skeleton: Any = None,
    seed: int = 0,
    *,
    checkpoint_cells: bool | None = None,
    channels_last: bool | None = None,
) -> Supernet:
    """Build the supernet of a cell space for a differentiable method.

    Args:
        space: a ``CellSpace`` (anything with ``ops``, ``n_nodes``, ``inputs_per_node``
            and ``skeleton``).
        method: a registered differentiable strategy name (``"darts"``, ``"gdas"``,
            ``"pcdarts"``, ``"proxyless"``) or a method instance.
        method_config: the method's config (dataclass or dict); only with a name.
        skeleton: overrides ``space.skeleton``.
        seed: seeds weights, alphas and the method's sampling generator.
        checkpoint_cells: recompute cells in the backward pass to save memory
            (None: from the method config, else off).
        channels_last: channels-last memory format (None: from the method config, else off).

    Returns:
        A :class:`Supernet`; ``supernet.method`` is the method.

    Example:
        >>> from nasbench.spaces.cell import CellSpace
        >>> from nasbench.spaces.skeleton import Skeleton
        >>> space = CellSpace(n_nodes=2, skeleton=Skeleton(n_cells=3, channels=8))
        >>> net = build_supernet(space, "gdas", seed=0)
        >>> net(torch.zeros(2, 1, 16, 16)).shape
        torch.Size([2, 2])
    """
    if not has_cells(space):
        name = getattr(space, "name", type(space).__name__)
        raise SpaceError(
            f"Space '{name}' has no DARTS-style cells; build a supernet from a CellSpace."
        )
    method = make_method(method, method_config, seed)
    skeleton = skeleton if skeleton is not None else space.skeleton
    return Supernet(
        tuple(space.ops),
        space.n_nodes,
        space.inputs_per_node,
        skeleton,
        method,
        seed=seed,
        checkpoint_cells=checkpoint_cells,
        channels_last=channels_last,
    )


def make_method(
    method: str | DifferentiableMethod,
    method_config: Any = None,
    seed: int = 0,
    kinds: tuple[str, ...] = ("differentiable", "self-supervised"),
) -> DifferentiableMethod:
    """The search method a supernet is built for.

    Args:
        method: a registered strategy name or a method instance.
        method_config: the method's config (dataclass or dict); only with a name.
        seed: seeds the method's sampling generator.
        kinds: the strategy kinds the caller accepts.

    Returns:
        The method instance.

    Example:
        >>> make_method("gdas", {"tau_max": 5.0}).config.tau_max
        5.0
    """
    if isinstance(method, str):
        entry = registry.get("strategy", method)
        if entry.kind not in kinds:
            raise ConfigError(
                f"Strategy '{entry.name}' is {entry.kind}; a supernet needs a differentiable one."
            )
        return registry.create("strategy", method, method_config, seed=seed)
    if method_config is not None:
        raise ConfigError("Pass method_config only with a method name, not with a method object.")
    return method
