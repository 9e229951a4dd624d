"""The search-space protocol and the space registry.

Every space (``"darts"``, ``"nb201"``, ``"chain"``; for segmentation ``"nasunet"``,
``"vnas"``, ``"dints"``) follows :class:`SearchSpace`:
it counts, samples, mutates, lists neighbours, encodes, validates, round-trips
through a dict, and hands networks over to :mod:`nasbench.models`. Spaces
register by name (timm style) so a widget dropdown can list them and a
``SearchConfig`` can name one.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from nasbench import registry
from nasbench.errors import SpaceError, closest_name
from nasbench.protocols import Genotype
from nasbench.protocols import Space as SpaceProtocol

ENCODINGS = ("onehot", "path")
# Above this many members, enumerate() refuses: a list that long is never what a person wants.
ENUMERATE_LIMIT = 1_000_000
# Nodes of a cell: edges (and a supernet's mixed ops) grow with their square, so a typo such
# as 1000000 would fill the memory before any error; no published cell has more than 7.
MAX_NODES = 32


# Layers of a chain or trellis, blocks per V-NAS level: a network of more would build for
# minutes before any memory error (the deepest published chains and trellises have ~20).
MAX_LAYERS = 100


def check_at_most(space: str, label: str, value: int, most: int, why: str) -> None:
    """Raise a one-line SpaceError when an integer setting is past its cap.

    Args:
        space: the space's class name, for the message.
        label: the setting's name.
        value: its value (type and lower bound checked by the caller).
        most: the cap.
        why: what the cap protects, shown in the message.

    Example:
        >>> check_at_most("ChainSpace", "max_depth", 6, MAX_LAYERS, "each layer is built")
    """
    if value > most:
        raise SpaceError(f"{space} {label} {value} is too many ({why}); use at most {most}.")


def size_advice(
    size: int,
    multiple: int,
    depth: int,
    extra_halvings: int = 0,
    offered: Sequence[int] | None = None,
) -> str:
    """What to change when a U-shaped network's image size is not a multiple of its
    ``multiple`` (``2 ** (depth + extra_halvings)``): the nearest sizes that are, and the
    deepest depth this size allows.

    Args:
        size: the image edge asked for.
        multiple: what the edge must be a multiple of.
        depth: the skeleton's depth.
        extra_halvings: halvings besides the depth (a strided stem).
        offered: the sizes the dataset comes in, when it has a fixed set: the advice
            then names those that fit, not sizes it cannot give.

    Returns:
        Advice such as ``"use an image size of 96 or 128, or depth 2"``.

    Example:
        >>> size_advice(28, 16, depth=4)
        'use an image size of 16 or 32, or depth 2'
        >>> size_advice(28, 16, depth=4, offered=(28, 64, 128))
        'use an image size of 64 or 128, or depth 2'
    """
    if offered is None:
        below, above = (size // multiple) * multiple, (size // multiple + 1) * multiple
        fitting = [s for s in (below, above) if s > 0]
    else:
        fitting = sorted(s for s in offered if s % multiple == 0)
    fits = 0  # the largest depth whose halvings divide the size
    while fits < depth and size % 2 ** (fits + 1 + extra_halvings) == 0:
        fits += 1
    deeper = f"depth {fits}" if fits >= 1 else ""
    if not fitting:
        sizes = ", ".join(map(str, offered or ()))
        return (
            f"use {deeper} (none of the dataset's sizes, {sizes}, is a multiple of {multiple})"
            if deeper
            else f"pick a dataset with an image size that is a multiple of {multiple}"
        )
    sizes = " or ".join(map(str, fitting))
    return f"use an image size of {sizes}" + (f", or {deeper}" if deeper else "")


def check_n_nodes(space: str, n_nodes: int) -> None:
    """Raise a one-line SpaceError when an integer ``n_nodes`` exceeds :data:`MAX_NODES`.

    Args:
        space: the space's class name, for the message.
        n_nodes: the nodes asked for (its type and lower bound are checked by the caller).

    Example:
        >>> check_n_nodes("CellSpace", 4)
    """
    if n_nodes > MAX_NODES:
        raise SpaceError(
            f"{space} n_nodes {n_nodes} is too many (the edges grow with its square); use at "
            f"most {MAX_NODES}."
        )


# What strategies, widgets and the CLI may rely on in any space, as a protocol (torch-free,
# below every layer that receives a space); kept here under its old name.
SearchSpace = SpaceProtocol


class Space(ABC):
    """Shared behaviour of the concrete spaces; subclasses fill in the abstract methods.

    Attributes:
        name: the registry name.
        task: what its networks do: ``"classification"``, ``"segmentation"`` or
            ``"reconstruction"``.
        strategies: the strategies that can search it (None: any that fits its kind).
    """

    name: ClassVar[str] = ""
    task: ClassVar[str] = "classification"
    strategies: ClassVar[tuple[str, ...] | None] = None

    def check_strategy(self, method: Any) -> None:
        """Raise a one-line SpaceError when ``method`` (a name) cannot search this space.

        Args:
            method: a strategy name, or a method object (not checked: the caller built it).

        Example:
            >>> space.check_strategy("pcdarts")  # doctest: +SKIP
            SpaceError: the vnas space is searched by darts, gdas, proxyless, not 'pcdarts'.
        """
        allowed = self.strategies
        if isinstance(method, str) and allowed is not None and method not in allowed:
            raise SpaceError(
                f"the {self.name} space is searched by {', '.join(allowed)}, not {method!r}."
            )

    @abstractmethod
    def size(self) -> int:
        """Return the exact number of genotypes in the space."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """Return a uniformly random genotype (same rng state, same genotype)."""

    @abstractmethod
    def neighbours(self, genotype: Genotype) -> list[Any]:
        """Return every genotype one change away (all distinct, all inside the space)."""

    @abstractmethod
    def validate(self, genotype: Genotype) -> Any:
        """Return the genotype (parsed if text) or raise a one-line SpaceError."""

    @abstractmethod
    def encode(self, genotype: Genotype, encoding: str = "onehot") -> np.ndarray:
        """Return a fixed-length float32 vector for BO/RL predictors."""

    @abstractmethod
    def encoding_length(self, encoding: str = "onehot") -> int:
        """Return the length of :meth:`encode` vectors for this space."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with ``"name"`` and every constructor argument."""

    @abstractmethod
    def _iter_all(self) -> Iterator[Any]:
        """Yield every genotype (only called when the space is small)."""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Space:
        """Build the space from :meth:`to_dict` output.

        Args:
            d: a dict from ``to_dict()``; ``"name"`` must match this space.

        Returns:
            The space.

        Example:
            >>> CellSpace.from_dict(CellSpace().to_dict()) == CellSpace()
            True
        """
        if not isinstance(d, Mapping):
            raise SpaceError(f"a space must be a dict, got {type(d).__name__}.")
        d = dict(d)
        name = d.pop("name", cls.name)
        if name != cls.name:
            raise SpaceError(f"expected a {cls.name!r} space, got {name!r}.")
        known = [k for k in inspect.signature(cls).parameters if k not in ("self", "name")]
        for key in d:
            if key not in known:
                raise SpaceError(
                    f"the {cls.name!r} space has no setting {key!r}; use one of "
                    f"{', '.join(known)}.{closest_name(str(key), known)}"
                )
        try:
            return cls(**d)
        except TypeError as err:
            raise SpaceError(f"bad {cls.name!r} space settings: {err}.") from None

    def mutate(self, genotype: Genotype, rng: np.random.Generator) -> Any:
        """Return a random neighbour: one change, different from the parent, inside the space.

        Args:
            genotype: a member of the space.
            rng: the random generator.

        Returns:
            A genotype that differs from ``genotype`` by one change.

        Example:
            >>> space = NB201Space()
            >>> parent = space.sample(np.random.default_rng(0))
            >>> child = space.mutate(parent, np.random.default_rng(1))
            >>> child != parent and space.contains(child)
            True
        """
        options = self.neighbours(genotype)
        if not options:
            raise SpaceError(f"the {self.name!r} space has no neighbour of this genotype.")
        return options[int(rng.integers(len(options)))]

    def contains(self, genotype: Genotype) -> bool:
        """Return True when ``genotype`` is a member of this space."""
        try:
            self.validate(genotype)
        except SpaceError:
            return False
        return True

    def enumerate(self) -> Iterator[Any]:
        """Yield every genotype of a small space.

        Returns:
            An iterator over all members, in a fixed order.

        Example:
            >>> sum(1 for _ in NB201Space().enumerate())
            15625
        """
        n = self.size()
        if n > ENUMERATE_LIMIT:
            raise SpaceError(
                f"the {self.name!r} space has {n:.3e} members, too many to enumerate "
                f"(limit {ENUMERATE_LIMIT:,}); use sample() or neighbours() instead."
            )
        return self._iter_all()

    def build(self, genotype: Genotype, skeleton: Any = None) -> Any:
        """Build the discrete network of ``genotype`` (what :func:`nasbench.models.build` does).

        The network class is the ``"network"`` registry's entry for the genotype's kind,
        filled by :mod:`nasbench.models`, so spaces never import the models layer.

        Args:
            genotype: a member of the space (or its text).
            skeleton: a :class:`~nasbench.spaces.skeleton.Skeleton`; None uses the space's.

        Returns:
            A torch ``nn.Module``.

        Example:
            >>> net = CellSpace().build(zoo["DARTS_V2"])  # doctest: +SKIP
        """
        genotype = self.validate(genotype)
        network = registry.get("network", genotype.kind).obj
        return network(genotype, skeleton if skeleton is not None else self.default_skeleton())

    def default_skeleton(self) -> Any:
        """Return the skeleton used when :meth:`build` gets none."""
        from nasbench.spaces.skeleton import Skeleton

        return getattr(self, "skeleton", None) or Skeleton()

    def supernet(self, **kwargs: Any) -> Any:
        """Build the weight-sharing supernet of this space.

        The builder is the ``"supernet"`` registry's entry for this space (NAS-Unet, V-NAS,
        DiNTS), else the DARTS cell supernet's (:func:`supernet_builder`).

        Args:
            **kwargs: passed on (method, method_config, seed, skeleton, ...).

        Returns:
            A torch ``nn.Module`` holding every candidate op.
        """
        return registry.get("supernet", supernet_builder(self)).obj(self, **kwargs)

    def _check_encoding(self, encoding: str) -> None:
        if encoding not in ENCODINGS:
            raise SpaceError(
                f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}."
                f"{closest_name(str(encoding), ENCODINGS)}"
            )

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(sorted(self.to_dict().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "name")
        return f"{type(self).__name__}({args})"


def resolve_ops(
    ops: str | Sequence[str], default_set: str, upsampling: bool = False
) -> tuple[str | None, tuple[str, ...]]:
    """Turn an op-set name or an op list into (set name or None, op names).

    Every name is checked against the op registry (:mod:`nasbench.spaces.ops`), and
    against the way the space resamples: an up op in a space whose stride-2 edges halve
    the size would build a network whose shapes do not meet.

    Args:
        ops: an op-set name such as "darts", or a list of op names.
        default_set: the set name to report when ``ops`` equals that set exactly.
        upsampling: True where every op must double the size at stride 2 (NAS-Unet's
            up edges), False where none may.

    Returns:
        (op-set name, or None for a custom list; the op names in order).

    Example:
        >>> resolve_ops("nb201", "nb201")[1]
        ('none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3')
    """
    from nasbench.spaces import ops as op_registry

    if isinstance(ops, str):
        if ops not in op_registry.OP_SETS:
            hint = closest_name(ops, list(op_registry.OP_SETS))
            raise SpaceError(
                f"unknown op set {ops!r}; known sets: {', '.join(op_registry.OP_SETS)}.{hint}"
            )
        names = tuple(op_registry.OP_SETS[ops])
        _check_resampling(names, upsampling, f"op set {ops!r}")
        return ops, names
    names = tuple(ops)
    if not names:
        raise SpaceError("a space needs at least one op.")
    known = op_registry.op_names()
    for op in names:
        if not isinstance(op, str) or op not in known:
            hint = closest_name(str(op), list(known))
            raise SpaceError(f"unknown op {op!r}; register it first or pick a known op.{hint}")
    if len(set(names)) != len(names):
        raise SpaceError(f"the op list {list(names)} repeats an op; list each once.")
    _check_resampling(names, upsampling, "op list")
    if names == tuple(op_registry.OP_SETS.get(default_set, ())):
        return default_set, names
    return None, names


def check_op_dims(names: Sequence[str], spatial_dims: int, space: str) -> None:
    """Refuse ops that do not exist in the space's dims (V-NAS's ops are 3D only), when
    the space is made rather than when its network is first built.

    Args:
        names: the space's op names.
        spatial_dims: the skeleton's dims.
        space: the space's class name, for the message.

    Example:
        >>> check_op_dims(("sep_conv_3x3",), 3, "CellSpace")
    """
    from nasbench.spaces.ops import op_spatial_dims

    for op in names:
        dims = op_spatial_dims(op)
        if spatial_dims not in dims:
            only = " or ".join(f"{d}D" for d in dims)
            raise SpaceError(
                f"{space} is {spatial_dims}D (its skeleton's spatial_dims) but op {op!r} works "
                f"on {only} data only; remove it, or set the skeleton's spatial_dims to "
                f"{dims[0]} for {dims[0]}D data."
            )


def _check_resampling(names: Sequence[str], upsampling: bool, what: str) -> None:
    from nasbench.spaces.ops import op_upsamples

    wrong = [op for op in names if op_upsamples(op) != upsampling]
    if not wrong:
        return
    if upsampling:
        raise SpaceError(
            f"the {what} holds {wrong[0]!r}, which does not up-sample; NAS-Unet's up edges "
            "need ops that double the size (the 'nasunet_up' set)."
        )
    raise SpaceError(
        f"the {what} holds {wrong[0]!r}, an up-sampling (NAS-Unet up) op; this space's "
        "reduction edges halve the size, so pick ops that keep or halve it."
    )


def op_outside_error(
    op: str, where: str, allowed: Sequence[str], set_name: str | None
) -> SpaceError:
    """Return the one-line error for an op that the space does not offer."""
    label = f"op set {set_name!r}" if set_name else "this space's op list"
    hint = closest_name(op, list(allowed))
    return SpaceError(
        f"{where}: op {op!r} is not in {label} ({', '.join(allowed)}); "
        f"use one of those or widen the space.{hint}"
    )


def register_space(name: str) -> Callable[[type[Space]], type[Space]]:
    """Class decorator that makes a space creatable by name.

    Args:
        name: the registry key (e.g. "darts").

    Returns:
        The decorator; it sets ``cls.name`` and returns the class unchanged otherwise.

    Example:
        >>> @register_space("tiny")
        ... class TinySpace(Space): ...
    """

    def decorator(cls: type[Space]) -> type[Space]:
        registry.register("space", name, cls)
        cls.name = name
        return cls

    return decorator


def supernet_builder(space: Any) -> str:
    """The ``"supernet"`` registry name that builds ``space``'s supernet.

    A space class (or a base of it) registered there has its own supernet builder;
    every other space gets the DARTS cell supernet's, ``"darts"``, which needs cells.

    Example:
        >>> supernet_builder(create_space("nasunet")), supernet_builder(create_space("nb201"))
        ('nasunet', 'darts')
    """
    for cls in type(space).__mro__:
        name = cls.__dict__.get("name")
        if name and registry.is_registered("supernet", name):
            return name
    return "darts"


def list_spaces() -> tuple[str, ...]:
    """Return the names of the registered spaces."""
    return registry.names("space")


def create_space(name: str, **kwargs: Any) -> Space:
    """Create a registered space by name.

    Args:
        name: "darts", "nb201", "chain" or any registered name.
        **kwargs: the space's constructor arguments.

    Returns:
        The space.

    Example:
        >>> create_space("nb201").size()
        15625
    """
    cls = registry.get("space", name).obj
    registry.check_keywords(cls, kwargs, f"bad settings for the {name!r} space: it", SpaceError)
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise SpaceError(f"bad settings for the {name!r} space: {err}.") from None


def space_from_dict(d: Mapping[str, Any]) -> Space:
    """Create a space from its :meth:`Space.to_dict` form.

    Args:
        d: a dict with ``"name"`` and the constructor arguments.

    Returns:
        The space.

    Example:
        >>> space = create_space("nb201", ops=["none", "skip_connect"])
        >>> space_from_dict(space.to_dict()) == space
        True
    """
    if not isinstance(d, Mapping) or "name" not in d:
        raise SpaceError("a space dict needs a 'name' key such as 'darts', 'nb201' or 'chain'.")
    return registry.get("space", d["name"]).obj.from_dict(d)
