"""The genotype of a NASH network-morphism run: layers and skip connections (kind ``"morph"``).

NASH (Elsken et al., 2017) climbs from network to network by function-preserving morphisms
(:mod:`nasbench.models.morphism`); the run store records every candidate's
:class:`MorphGenotype`. The genotype lives here, in the spaces layer, so that it is
registered with :func:`~nasbench.spaces.genotype.register_genotype_kind` whenever
:mod:`nasbench.spaces` is imported: the run reader, the genotype viewer and ``retrain``
parse a NASH run's genotypes like any other kind. The network it describes
(``MorphNet``) and the morphisms stay in the models layer.

Example:
    >>> from nasbench.spaces import parse_genotype
    >>> g = MorphGenotype.plain(in_channels=1, channels=(8, 16))
    >>> parse_genotype(g.to_json()) == g
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.errors import ConfigError, SpaceError
from nasbench.spaces.genotype import _check_int, _check_keys, _check_kind, register_genotype_kind


@dataclass(frozen=True)
class MorphLayer:
    """One conv-BN-ReLU layer of a ``MorphNet``.

    Attributes:
        kernel: odd kernel size (padding ``kernel // 2`` keeps odd kernels size-preserving).
        stride: 1, or more to downsample (output size ``ceil(n / stride)``).
        channels: output channels.
    """

    kernel: int
    stride: int
    channels: int


def _int_list(value: Any, length: int | None, where: str) -> list[Any]:
    """``value`` as a list (of ``length`` entries when given), or a one-line SpaceError."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise SpaceError(f"{where} must be a list, got {value!r}.")
    value = list(value)
    if length is not None and len(value) != length:
        raise SpaceError(f"{where} must have {length} entries, got {value!r}.")
    return value


@register_genotype_kind
@dataclass(frozen=True)
class MorphGenotype:
    """The architecture of a ``MorphNet``: its layers and skip connections.

    A frozen, hashable value with a canonical JSON form, so a run store can record it as
    a candidate like any other genotype.

    Attributes:
        layers: the conv-BN-ReLU layers in order.
        skips: ``(i, j)`` pairs, ``0 <= i < j <= len(layers)``: activation ``i`` (0 = the
            input) is added to activation ``j`` through a 1x1 convolution.
        in_channels: channels of the input image.

    Example:
        >>> MorphGenotype.plain(channels=(8, 16)).to_string()
        '3x3/1-8 > 3x3/2-16'
    """

    layers: tuple[MorphLayer, ...]
    skips: tuple[tuple[int, int], ...] = ()
    in_channels: int = 1
    kind: ClassVar[str] = "morph"

    @classmethod
    def plain(
        cls,
        in_channels: int = 1,
        channels: Sequence[int] = (16, 32, 64),
        strides: Sequence[int] | None = None,
        kernel: int = 3,
    ) -> MorphGenotype:
        """A skip-free stack: one layer per entry of ``channels``.

        Args:
            in_channels: image channels.
            channels: output channels per layer.
            strides: per-layer strides; None gives 1 for the first layer and 2 after.
            kernel: the kernel size of every layer.

        Returns:
            The genotype.

        Example:
            >>> len(MorphGenotype.plain(channels=(8, 8)).layers)
            2
        """
        strides = tuple(strides) if strides is not None else (1,) + (2,) * (len(channels) - 1)
        if len(strides) != len(channels):
            raise ConfigError(
                f"strides has {len(strides)} entries for {len(channels)} layers; give one each."
            )
        layers = tuple(MorphLayer(kernel, s, c) for s, c in zip(strides, channels, strict=True))
        return cls(layers, (), in_channels).validate()

    def validate(self) -> MorphGenotype:
        """Return ``self`` or raise a one-line ConfigError naming the bad part."""
        if not self.layers:
            raise ConfigError("a MorphGenotype needs at least one layer.")
        for k, layer in enumerate(self.layers):
            if layer.kernel < 1 or layer.kernel % 2 == 0:
                raise ConfigError(f"layer {k}: kernel {layer.kernel} must be odd and >= 1.")
            if layer.stride < 1 or layer.channels < 1:
                raise ConfigError(f"layer {k}: stride and channels must be >= 1, got {layer}.")
        n = len(self.layers)
        for i, j in self.skips:
            if not 0 <= i < j <= n:
                raise ConfigError(f"skip {i}->{j} must satisfy 0 <= i < j <= {n} (layers).")
        if len(set(self.skips)) != len(self.skips):
            raise ConfigError(f"skips {list(self.skips)} repeat a connection; list each once.")
        return self

    def channels_at(self, index: int) -> int:
        """Channels of activation ``index`` (0 = the input image)."""
        return self.in_channels if index == 0 else self.layers[index - 1].channels

    def stride_between(self, i: int, j: int) -> int:
        """Total stride from activation ``i`` to activation ``j``."""
        return math.prod(layer.stride for layer in self.layers[i:j])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``kind`` = ``"morph"``)."""
        return {
            "kind": self.kind,
            "in_channels": self.in_channels,
            "layers": [[la.kernel, la.stride, la.channels] for la in self.layers],
            "skips": [list(s) for s in sorted(self.skips)],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MorphGenotype:
        """Rebuild a genotype from :meth:`to_dict` output.

        Args:
            d: a dict with ``layers`` (``[kernel, stride, channels]`` each) and optionally
                ``kind``, ``skips`` (``[i, j]`` pairs) and ``in_channels``.

        Returns:
            The genotype; a malformed dict raises a one-line SpaceError.

        Example:
            >>> MorphGenotype.from_dict({"kind": "morph", "layers": [[3, 1, 8]]}).layers
            (MorphLayer(kernel=3, stride=1, channels=8),)
        """
        _check_kind(d, cls.kind)
        _check_keys(d, ("kind", "in_channels", "layers", "skips"), "morph genotype")
        if "layers" not in d:
            raise SpaceError("a morph genotype needs 'layers': [kernel, stride, channels] each.")
        layers = tuple(
            MorphLayer(
                *(
                    _check_int(v, f"morph layer {k} {name}", minimum=1)
                    for v, name in zip(
                        _int_list(la, 3, f"morph layer {k} ([kernel, stride, channels])"),
                        ("kernel", "stride", "channels"),
                        strict=True,
                    )
                )
            )
            for k, la in enumerate(_int_list(d["layers"], None, "morph layers"))
        )
        skips = tuple(
            tuple(_check_int(v, f"morph skip {k}") for v in _int_list(s, 2, f"morph skip {k}"))
            for k, s in enumerate(_int_list(d.get("skips", ()), None, "morph skips"))
        )
        in_channels = _check_int(d.get("in_channels", 1), "morph in_channels", minimum=1)
        try:
            return cls(layers, skips, in_channels).validate()
        except ConfigError as err:  # a stored or pasted genotype is a space-level input
            raise SpaceError(f"morph genotype: {err}") from None

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys, skips sorted)."""
        # Not the compact form of the other kinds: stored NASH runs key candidates by it.
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_string(self) -> str:
        """Compact text: ``"3x3/1-16 > 3x3/2-32 ; skips 0->2"``."""
        body = " > ".join(
            f"{la.kernel}x{la.kernel}/{la.stride}-{la.channels}" for la in self.layers
        )
        if self.skips:
            body += " ; skips " + ", ".join(f"{i}->{j}" for i, j in sorted(self.skips))
        return body
