"""The core nouns as protocols: Genotype, Space, Supernet, DifferentiableMethod and Run.

These say what every layer may rely on in the objects the others hand it, without
importing the layers that make them, and without torch: a tensor or module in a
signature is ``Any`` here. The concrete types (the genotypes of
:mod:`nasbench.spaces.genotype`, the spaces, :class:`nasbench.models.supernet.Supernet`,
:class:`nasbench.strategies.differentiable.base.DifferentiableMethod`,
:class:`nasbench.runs.reader.Run`) match them structurally; nothing inherits from them.

The small value types a supernet and a method exchange sit here too, so that the
models layer and the strategies layer both take them from below: :class:`ArchGroup`
(the rows and columns of one architecture matrix), :data:`MODES` and :data:`ZERO_OP`;
so does :func:`carries_weights`, the one test of a discrete strategy that scores its own
candidates, which the config, the engine and the launcher all ask.

Example:
    >>> from nasbench.spaces import create_space, zoo
    >>> isinstance(create_space("darts"), Space), isinstance(zoo["DARTS_V2"], Genotype)
    (True, True)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

# Forward modes a supernet can be in (see Supernet.mode).
MODES = ("train", "eval", "relaxed", "arch")
# The op that stands for "no edge"; a mixed edge never computes it.
ZERO_OP = "none"


@runtime_checkable
class Genotype(Protocol):
    """A discrete architecture: a frozen, hashable value with a canonical JSON form."""

    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...


@runtime_checkable
class Space(Protocol):
    """What strategies, widgets and the CLI may rely on in any search space."""

    name: ClassVar[str]

    def size(self) -> int: ...
    def sample(self, rng: Any) -> Genotype: ...
    def mutate(self, genotype: Genotype, rng: Any) -> Genotype: ...
    def neighbours(self, genotype: Genotype) -> list[Genotype]: ...
    def encode(self, genotype: Genotype, encoding: str = "onehot") -> Any: ...
    def encoding_length(self, encoding: str = "onehot") -> int: ...
    def contains(self, genotype: Genotype) -> bool: ...
    def validate(self, genotype: Any) -> Genotype: ...
    def enumerate(self) -> Iterator[Genotype]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def build(self, genotype: Any, skeleton: Any = None) -> Any: ...
    def supernet(self, **kwargs: Any) -> Supernet: ...


@dataclass(frozen=True)
class ArchGroup:
    """The rows and columns of one architecture matrix.

    Attributes:
        edges: ``(node, input)`` per row.
        edge_names: a name per row, e.g. ``"0->2"``.
        op_names: the candidate ops, one per column.

    Example:
        >>> g = ArchGroup(((0, 0),), ("0->2",), ("none", "skip_connect"))
        >>> g.non_zero_ops, g.zero_op
        ((1,), 0)
    """

    edges: tuple[tuple[int, int], ...]
    edge_names: tuple[str, ...]
    op_names: tuple[str, ...]

    @property
    def non_zero_ops(self) -> tuple[int, ...]:
        """Column indices of the ops other than 'none'."""
        return tuple(k for k, op in enumerate(self.op_names) if op != ZERO_OP)

    @property
    def zero_op(self) -> int | None:
        """Column of 'none', or None."""
        return self.op_names.index(ZERO_OP) if ZERO_OP in self.op_names else None


@runtime_checkable
class Supernet(Protocol):
    """A weight-sharing network over a space, read by methods through its groups.

    ``cell_types`` names the architecture groups; ``alpha(ct)`` is a group's
    ``(n_edges, n_ops)`` tensor and ``group(ct)`` its rows and columns; ``derive``
    turns per-group scores into the genotype they point to.
    """

    method: DifferentiableMethod
    mode: str

    @property
    def cell_types(self) -> tuple[str, ...]: ...
    def alpha(self, cell_type: str) -> Any: ...
    def group(self, cell_type: str) -> ArchGroup: ...
    def arch_parameters(self) -> list[Any]: ...
    def derive(self, scores: Mapping[str, Any]) -> Genotype: ...
    def __call__(self, x: Any) -> Any: ...


@runtime_checkable
class DifferentiableMethod(Protocol):
    """A differentiable strategy: how a mixed edge combines its ops, how alphas step."""

    name: ClassVar[str]
    config: Any
    seed: int

    def make_edge(self, spatial_dims: int, C: int, stride: int, op_names: Sequence[str]) -> Any: ...
    def extra_arch_shapes(self, n_edges: int, n_ops: int) -> dict[str, tuple[int, ...]]: ...
    def setup(self, supernet: Supernet) -> None: ...
    def edge_plans(self, supernet: Supernet, cell_type: str, mode: str) -> list[Any]: ...
    def arch_step(
        self,
        supernet: Supernet,
        train_batch: Any,
        val_batch: Any,
        loss_fn: Any,
        w_lr: float,
        w_optimizer: Any,
    ) -> dict[str, float]: ...
    def on_epoch_start(self, epoch: int, total_epochs: int) -> None: ...
    def alpha_records(self, supernet: Supernet) -> list[Any]: ...
    def derive_genotype(self, supernet: Supernet) -> Genotype: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class Run(Protocol):
    """A read-only view of a run in the store (:func:`nasbench.runs.load`).

    The tables (``history``, ``alphas``, ``genotypes``, ``candidates``, ``events``)
    are pandas DataFrames; ``refresh`` reads what the writer added since.
    """

    run_dir: Any
    config: dict[str, Any]

    @property
    def status(self) -> str: ...
    @property
    def progress(self) -> dict[str, Any]: ...
    def refresh(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


def carries_weights(strategy: Any) -> bool:
    """Whether a discrete strategy (class or instance) scores its own candidates.

    Such a strategy (NASH, ENAS, AutoHAS) has a ``bind(train, val, ...)`` that gives it
    the data: it trains networks it keeps between candidates, so no evaluator, executor
    or cache applies, and no checkpoint holds what it has learned.

    Args:
        strategy: a strategy class or instance.

    Returns:
        True when it has a callable ``bind``.

    Example:
        >>> from nasbench.strategies import get_strategy
        >>> carries_weights(get_strategy("enas").cls), carries_weights(get_strategy("random").cls)
        (True, False)
    """
    return callable(getattr(strategy, "bind", None))


__all__ = [
    "MODES",
    "ZERO_OP",
    "ArchGroup",
    "DifferentiableMethod",
    "Genotype",
    "Run",
    "Space",
    "Supernet",
    "carries_weights",
]
