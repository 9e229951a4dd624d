"""The chain space of NAS-RL (Zoph & Le, 2017) and MetaQNN (Baker et al., 2017).

A network is a stack of ``min_depth..max_depth`` layers. A convolution layer
(``conv`` or ``sep_conv``) picks a filter height and width, a stride and a
number of filters; a pooling layer (``max_pool`` or ``avg_pool``) picks a square
kernel from ``pool_kernels`` and a stride, and keeps the channel count
(``filters=0``). With the defaults one layer has 2 * 4 * 4 * 2 * 4 + 2 * 2 * 2 =
264 choices and the space has sum_{d=1..6} 264^d members.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from nasbench.errors import SpaceError, closest_name
from nasbench.options import plain_numbers
from nasbench.spaces.base import MAX_LAYERS, Space, check_at_most, register_space
from nasbench.spaces.genotype import ChainGenotype, ChainLayer, parse_genotype
from nasbench.spaces.skeleton import Skeleton

CONV_TYPES = ("conv", "sep_conv")
POOL_TYPES = ("max_pool", "avg_pool")


def _int_choices(label: str, values: Sequence[int]) -> tuple[int, ...]:
    try:
        out = tuple(plain_numbers(v) for v in values)
    except TypeError:
        raise SpaceError(
            f"ChainSpace {label} must be a list of integers, got {values!r}."
        ) from None
    if not out or len(set(out)) != len(out):
        raise SpaceError(f"ChainSpace {label} must list at least one value, each once: {out!r}.")
    for v in out:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise SpaceError(f"ChainSpace {label} must hold integers >= 1, got {v!r}.")
    return out


@register_space("chain")
class ChainSpace(Space):
    """The NAS-RL / MetaQNN chain space.

    Args:
        layer_types: a subset of conv, sep_conv, max_pool, avg_pool.
        kernels: filter heights and widths for convolutions.
        pool_kernels: square kernel sizes for pooling layers.
        strides: stride choices.
        filters: number-of-filters choices for convolutions.
        min_depth: fewest layers.
        max_depth: most layers.
        skeleton: in/out settings (in_channels, num_classes, spatial_dims); None gives Skeleton().

    Example:
        >>> ChainSpace(max_depth=2).size() == 264 + 264**2
        True
    """

    def __init__(
        self,
        layer_types: Sequence[str] = CONV_TYPES + POOL_TYPES,
        kernels: Sequence[int] = (1, 3, 5, 7),
        pool_kernels: Sequence[int] = (3, 5),
        strides: Sequence[int] = (1, 2),
        filters: Sequence[int] = (24, 36, 48, 64),
        min_depth: int = 1,
        max_depth: int = 6,
        skeleton: Skeleton | Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(layer_types, str):
            layer_types = (layer_types,)
        self.layer_types = tuple(layer_types)
        known = CONV_TYPES + POOL_TYPES
        if not self.layer_types or len(set(self.layer_types)) != len(self.layer_types):
            raise SpaceError(f"ChainSpace layer_types must list types once each: {layer_types!r}.")
        for t in self.layer_types:
            if t not in known:
                raise SpaceError(
                    f"unknown chain layer type {t!r}; use {', '.join(known)}."
                    f"{closest_name(str(t), known)}"
                )
        self.kernels = _int_choices("kernels", kernels)
        self.pool_kernels = _int_choices("pool_kernels", pool_kernels)
        self.strides = _int_choices("strides", strides)
        self.filters = _int_choices("filters", filters)
        min_depth, max_depth = plain_numbers(min_depth), plain_numbers(max_depth)
        for label, v in (("min_depth", min_depth), ("max_depth", max_depth)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise SpaceError(f"ChainSpace {label} must be an integer >= 1, got {v!r}.")
        if min_depth > max_depth:
            raise SpaceError(f"ChainSpace min_depth {min_depth} exceeds max_depth {max_depth}.")
        check_at_most("ChainSpace", "max_depth", max_depth, MAX_LAYERS, "a layer each to build")
        self.min_depth, self.max_depth = min_depth, max_depth
        if isinstance(skeleton, Mapping):
            skeleton = Skeleton.from_dict(skeleton)
        if skeleton is not None and not isinstance(skeleton, Skeleton):
            raise SpaceError(f"skeleton must be a Skeleton or a dict, got {skeleton!r}.")
        self.skeleton = skeleton or Skeleton()
        self.all_kernels = tuple(sorted(set(self.kernels) | set(self.pool_kernels)))

    # -- the layer alphabet -----------------------------------------------------------------

    def layer_choices(self) -> list[ChainLayer]:
        """Return every layer one position can hold, in a fixed order."""
        # Built once per alphabet (the key notices a field changed since): sampling asks
        # for it on every draw, and building and checking a few hundred layers cost ~1 ms.
        key = tuple(
            tuple(field)
            for field in (self.layer_types, self.kernels, self.pool_kernels, self.strides,
                          self.filters)
        )  # fmt: skip
        if getattr(self, "_layer_choices", (None,))[0] != key:
            self._layer_choices = (key, self._build_layer_choices())
        return list(self._layer_choices[1])

    def _build_layer_choices(self) -> list[ChainLayer]:
        out = []
        for t in self.layer_types:
            if t in POOL_TYPES:
                for k, s in itertools.product(self.pool_kernels, self.strides):
                    out.append(ChainLayer(t, k, k, s, 0))
            else:
                for kh, kw, s, f in itertools.product(
                    self.kernels, self.kernels, self.strides, self.filters
                ):
                    out.append(ChainLayer(t, kh, kw, s, f))
        return out

    def _n_layer_choices(self) -> int:
        n_conv = sum(t in CONV_TYPES for t in self.layer_types)
        n_pool = len(self.layer_types) - n_conv
        k, s = len(self.kernels), len(self.strides)
        return n_conv * k * k * s * len(self.filters) + n_pool * len(self.pool_kernels) * s

    def size(self) -> int:
        """Return sum over depths d of (choices per layer) ** d."""
        n = self._n_layer_choices()
        return sum(n**d for d in range(self.min_depth, self.max_depth + 1))

    # -- membership -------------------------------------------------------------------------

    def _check_layer(self, k: int, layer: ChainLayer) -> None:
        where = f"layer {k}"
        if layer.layer_type not in self.layer_types:
            hint = closest_name(layer.layer_type, self.layer_types)
            raise SpaceError(
                f"{where}: layer type {layer.layer_type!r} is not in this space "
                f"({', '.join(self.layer_types)}).{hint}"
            )
        if layer.stride not in self.strides:
            raise SpaceError(f"{where}: stride {layer.stride} is not in {list(self.strides)}.")
        if layer.layer_type in POOL_TYPES:
            if layer.kernel_h != layer.kernel_w or layer.kernel_h not in self.pool_kernels:
                raise SpaceError(
                    f"{where}: pooling kernel {layer.kernel_h}x{layer.kernel_w} must be square "
                    f"with size in {list(self.pool_kernels)}."
                )
            if layer.filters != 0:
                raise SpaceError(f"{where}: pooling keeps the channels; set filters=0.")
            return
        for label, value in (("kernel_h", layer.kernel_h), ("kernel_w", layer.kernel_w)):
            if value not in self.kernels:
                raise SpaceError(f"{where}: {label} {value} is not in {list(self.kernels)}.")
        if layer.filters not in self.filters:
            raise SpaceError(f"{where}: filters {layer.filters} is not in {list(self.filters)}.")

    def validate(self, genotype: ChainGenotype | str) -> ChainGenotype:
        """Check that ``genotype`` belongs to this space.

        Args:
            genotype: a :class:`ChainGenotype` or its JSON text.

        Returns:
            The genotype.

        Example:
            >>> ChainSpace().validate(ChainGenotype([ChainLayer("conv", 3, 3, 1, 36)]))
            ChainGenotype(...)
        """
        g = parse_genotype(genotype)
        if not isinstance(g, ChainGenotype):
            raise SpaceError(f"the 'chain' space holds chain genotypes, not {g.kind!r} ones.")
        if not self.min_depth <= g.depth <= self.max_depth:
            raise SpaceError(
                f"genotype has {g.depth} layers; this space allows "
                f"{self.min_depth}..{self.max_depth}."
            )
        for k, layer in enumerate(g.layers):
            self._check_layer(k, layer)
        return g

    # -- sampling and moves -----------------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> ChainGenotype:
        """Return a uniformly random member (deeper stacks are more numerous, hence likelier)."""
        n = self._n_layer_choices()
        depths = list(range(self.min_depth, self.max_depth + 1))
        # n ** d, scaled by n ** -max_depth so deep stacks do not overflow a float.
        weights = np.exp((np.array(depths, dtype=np.float64) - self.max_depth) * np.log(n))
        depth = depths[int(rng.choice(len(depths), p=weights / weights.sum()))]
        choices = self.layer_choices()
        return ChainGenotype(tuple(choices[int(i)] for i in rng.integers(len(choices), size=depth)))

    def _field_changes(self, layer: ChainLayer) -> list[ChainLayer]:
        """Layers that differ from ``layer`` in one field (type changes stay in its family)."""
        out = []
        family = POOL_TYPES if layer.layer_type in POOL_TYPES else CONV_TYPES
        for t in self.layer_types:
            if t in family and t != layer.layer_type:
                out.append(
                    ChainLayer(t, layer.kernel_h, layer.kernel_w, layer.stride, layer.filters)
                )
        if family is POOL_TYPES:
            out += [
                ChainLayer(layer.layer_type, k, k, layer.stride, 0)
                for k in self.pool_kernels
                if k != layer.kernel_h
            ]
        else:
            h, w, f = layer.kernel_h, layer.kernel_w, layer.filters
            out += [
                ChainLayer(layer.layer_type, k, w, layer.stride, f) for k in self.kernels if k != h
            ]
            out += [
                ChainLayer(layer.layer_type, h, k, layer.stride, f) for k in self.kernels if k != w
            ]
            out += [
                ChainLayer(layer.layer_type, h, w, layer.stride, x) for x in self.filters if x != f
            ]
        out += [
            ChainLayer(layer.layer_type, layer.kernel_h, layer.kernel_w, s, layer.filters)
            for s in self.strides
            if s != layer.stride
        ]
        return out

    def _moves(self, g: ChainGenotype) -> dict[str, list[ChainGenotype]]:
        layers = list(g.layers)
        change = [
            ChainGenotype(tuple(layers[:k] + [new] + layers[k + 1 :]))
            for k, layer in enumerate(layers)
            for new in self._field_changes(layer)
        ]
        add: dict[ChainGenotype, None] = {}
        if g.depth < self.max_depth:
            for k in range(g.depth + 1):
                for new in self.layer_choices():
                    add[ChainGenotype(tuple(layers[:k] + [new] + layers[k:]))] = None
        remove: dict[ChainGenotype, None] = {}
        if g.depth > self.min_depth:
            for k in range(g.depth):
                remove[ChainGenotype(tuple(layers[:k] + layers[k + 1 :]))] = None
        # Dicts dedupe (inserting a copy next to an equal layer) and keep a fixed order.
        return {"change": change, "add": list(add), "remove": list(remove)}

    def neighbours(self, genotype: ChainGenotype | str) -> list[ChainGenotype]:
        """Return every member one change away: one field of one layer, or one layer added/removed.

        Args:
            genotype: a member of the space.

        Returns:
            The distinct neighbours in a fixed order (changes, additions, removals).

        Example:
            >>> ns = ChainSpace().neighbours(ChainGenotype([ChainLayer("conv", 3, 3, 1, 36)]))
        """
        moves = self._moves(self.validate(genotype))
        return moves["change"] + moves["add"] + moves["remove"]

    def mutate(self, genotype: ChainGenotype | str, rng: np.random.Generator) -> ChainGenotype:
        """Return a random neighbour: first a move kind (change/add/remove), then a move.

        Choosing the kind first keeps additions (the most numerous moves) from
        crowding out field changes.

        Args:
            genotype: a member of the space.
            rng: the random generator.

        Returns:
            A member that differs from ``genotype`` by one change.

        Example:
            >>> parent = ChainSpace().sample(np.random.default_rng(0))
            >>> child = ChainSpace().mutate(parent, np.random.default_rng(1))
            >>> ChainSpace().contains(child)
            True
        """
        moves = [m for m in self._moves(self.validate(genotype)).values() if m]
        if not moves:
            raise SpaceError("this chain space has no neighbour of this genotype.")
        kind = moves[int(rng.integers(len(moves)))]
        return kind[int(rng.integers(len(kind)))]

    def _iter_all(self) -> Iterator[ChainGenotype]:
        choices = self.layer_choices()
        for d in range(self.min_depth, self.max_depth + 1):
            for layers in itertools.product(choices, repeat=d):
                yield ChainGenotype(layers)

    # -- encodings --------------------------------------------------------------------------

    def _slot_length(self) -> int:
        k = len(self.all_kernels)
        return len(self.layer_types) + 1 + 2 * k + len(self.strides) + len(self.filters)

    def encoding_length(self, encoding: str = "onehot") -> int:
        """Return ``max_depth * (types + 1 + 2 * kernels + strides + filters)``.

        A chain has one path, so "path" and "onehot" are the same vector.
        """
        self._check_encoding(encoding)
        return self.max_depth * self._slot_length()

    def encode(self, genotype: ChainGenotype | str, encoding: str = "onehot") -> np.ndarray:
        """Encode a chain as a fixed-length float32 vector, padded to ``max_depth``.

        Each layer slot holds one-hot blocks for type (plus an "empty" bit for slots
        past the end), kernel height, kernel width, stride and filters (all zero for
        pooling). A chain has a single input-to-output path, so the "path" encoding
        is this same vector.

        Args:
            genotype: a member of the space.
            encoding: "onehot" or "path".

        Returns:
            A float32 vector of length ``encoding_length(encoding)``.

        Example:
            >>> g = ChainSpace().sample(np.random.default_rng(0))
            >>> ChainSpace().encode(g).shape
            (114,)
        """
        self._check_encoding(encoding)
        g = self.validate(genotype)
        slot = self._slot_length()
        n_types, n_k, n_s = len(self.layer_types), len(self.all_kernels), len(self.strides)
        vec = np.zeros(self.max_depth * slot, dtype=np.float32)
        for p in range(self.max_depth):
            base = p * slot
            if p >= g.depth:
                vec[base + n_types] = 1.0  # empty slot
                continue
            layer = g.layers[p]
            vec[base + self.layer_types.index(layer.layer_type)] = 1.0
            at = base + n_types + 1
            vec[at + self.all_kernels.index(layer.kernel_h)] = 1.0
            vec[at + n_k + self.all_kernels.index(layer.kernel_w)] = 1.0
            vec[at + 2 * n_k + self.strides.index(layer.stride)] = 1.0
            if layer.layer_type in CONV_TYPES:
                vec[at + 2 * n_k + n_s + self.filters.index(layer.filters)] = 1.0
        return vec

    # -- serialisation ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        return {
            "name": self.name,
            "layer_types": list(self.layer_types),
            "kernels": list(self.kernels),
            "pool_kernels": list(self.pool_kernels),
            "strides": list(self.strides),
            "filters": list(self.filters),
            "min_depth": self.min_depth,
            "max_depth": self.max_depth,
            "skeleton": self.skeleton.to_dict(),
        }
