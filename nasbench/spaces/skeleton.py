"""The macro skeletons cells are stacked in: DARTS/NASNet stacks and U-shaped networks.

:class:`Skeleton` says how many cells, how wide, where the reduction cells sit, and
what goes in and out (stem, classes, 2D or 3D). :class:`UNetSkeleton` says how deep
and wide an encoder-decoder segmentation network is. A genotype plus a skeleton is
everything :func:`nasbench.models.build` needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from nasbench.errors import SpaceError, closest_name
from nasbench.options import plain_numbers

# More cells than any published cell network stacks (DARTS: 8 searched, 20 retrained).
MAX_CELLS = 100
# Levels below the input past any image: each halves it, so 16 asks for 65,536-pixel edges
# (U-Nets use 3-5; DiNTS's path list and C2FNAS's size rule grow with the depth).
MAX_DEPTH = 16
# Convs per NAS-Unet stem: NAS-Unet has 1 and 2-3 make the stems non-linear; every extra
# one runs at full resolution, so 16 is already a deep stem and 1,000,000 hangs the build.
MAX_STEM_CONVS = 16


def skeleton_overrides(space: Mapping[str, Any]) -> dict[str, Any]:
    """The ``skeleton`` entry of a space dict as a dict: {} when missing or null.

    Raises:
        SpaceError: it is neither a JSON object nor null.

    Example:
        >>> skeleton_overrides({"name": "darts", "skeleton": None})
        {}
    """
    given = space.get("skeleton")
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise SpaceError(
            'space.skeleton must be a JSON object such as {"n_cells": 5, "channels": 8}, or '
            f"left out for the default, got {given!r}."
        )
    return dict(given)


def store_plain_numbers(skeleton: Any) -> None:
    """Replace numpy numbers in a frozen skeleton's fields by plain ones, so that its checks
    accept them and its ``to_dict`` writes JSON."""
    for f in fields(skeleton):
        value = getattr(skeleton, f.name)
        if plain_numbers(value) is not value:
            object.__setattr__(skeleton, f.name, plain_numbers(value))


def _positive_int(name: str, value: Any, minimum: int = 1, kind: str = "Skeleton") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpaceError(f"{kind}.{name} must be an integer >= {minimum}, got {value!r}.")


@dataclass(frozen=True)
class Skeleton:
    """A macro network: stem, ``n_cells`` cells (some of them reductions), head.

    Args:
        n_cells: number of stacked cells (DARTS evaluation: 20; search: 8).
        channels: initial cell channels C (doubled at every reduction).
        reduction_at: indices of the reduction cells; None puts them at
            n_cells // 3 and 2 * n_cells // 3, as DARTS does.
        stem_multiplier: the stem outputs ``stem_multiplier * channels`` channels.
        in_channels: image channels.
        num_classes: classifier outputs.
        spatial_dims: 2 or 3.
        auxiliary: add the auxiliary head after the second reduction (training only).
        drop_path_prob: drop-path probability for cell edges, in [0, 1).

    Example:
        >>> Skeleton(n_cells=20, channels=36).reductions()
        (6, 13)
    """

    n_cells: int = 8
    channels: int = 16
    reduction_at: tuple[int, ...] | None = None
    stem_multiplier: int = 3
    in_channels: int = 1
    num_classes: int = 2
    spatial_dims: int = 2
    auxiliary: bool = False
    drop_path_prob: float = 0.0

    def __post_init__(self) -> None:
        store_plain_numbers(self)
        for name in ("n_cells", "channels", "stem_multiplier", "in_channels", "num_classes"):
            _positive_int(name, getattr(self, name))
        if self.n_cells > MAX_CELLS:  # would build for minutes before any memory error
            raise SpaceError(
                f"Skeleton.n_cells {self.n_cells} is past {MAX_CELLS}; DARTS searches 8 cells "
                "and retrains 20, so give a count up to that order."
            )
        if self.spatial_dims not in (2, 3) or isinstance(self.spatial_dims, bool):
            raise SpaceError(f"Skeleton.spatial_dims must be 2 or 3, got {self.spatial_dims!r}.")
        if not isinstance(self.auxiliary, bool):
            raise SpaceError(f"Skeleton.auxiliary must be True or False, got {self.auxiliary!r}.")
        p = self.drop_path_prob
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
            raise SpaceError(f"Skeleton.drop_path_prob must be in [0, 1), got {p!r}.")
        object.__setattr__(self, "drop_path_prob", float(p))
        if self.reduction_at is not None:
            if isinstance(self.reduction_at, (str, bytes)):
                raise SpaceError("Skeleton.reduction_at must be a list of cell indices.")
            try:
                at = tuple(self.reduction_at)
            except TypeError:
                raise SpaceError(
                    f"Skeleton.reduction_at must be a list of cell indices, "
                    f"got {self.reduction_at!r}."
                ) from None
            for r in at:
                if isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < self.n_cells:
                    raise SpaceError(
                        f"Skeleton.reduction_at has {r!r}, outside the cells 0..{self.n_cells - 1}."
                    )
            if len(set(at)) != len(at):
                raise SpaceError(f"Skeleton.reduction_at {list(at)} repeats a cell.")
            object.__setattr__(self, "reduction_at", tuple(sorted(at)))

    def reductions(self) -> tuple[int, ...]:
        """Return the indices of the reduction cells.

        Returns:
            ``reduction_at`` if given, else (n_cells // 3, 2 * n_cells // 3) without repeats,
            as DARTS places them; for fewer than 3 cells, where that rule would make every
            cell a reduction (so the normal cell would be neither built nor searched), the
            last cell only, or none for a single cell.

        Example:
            >>> Skeleton(n_cells=8).reductions(), Skeleton(n_cells=2).reductions()
            ((2, 5), (1,))
        """
        if self.reduction_at is not None:
            return self.reduction_at
        if self.n_cells < 3:
            return tuple(range(1, self.n_cells))
        return tuple(sorted({self.n_cells // 3, 2 * self.n_cells // 3}))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        d = asdict(self)
        if self.reduction_at is not None:
            d["reduction_at"] = list(self.reduction_at)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Skeleton:
        """Build a skeleton from :meth:`to_dict` output (missing keys take defaults).

        Args:
            d: a dict of Skeleton fields.

        Returns:
            The skeleton.

        Example:
            >>> Skeleton.from_dict({"n_cells": 20, "channels": 36}).channels
            36
        """
        if not isinstance(d, Mapping):
            raise SpaceError(f"a skeleton must be a dict, got {type(d).__name__}.")
        names = [f.name for f in fields(cls)]
        for key in d:
            if key not in names:
                hint = closest_name(str(key), names)
                raise SpaceError(
                    f"unknown skeleton key {key!r}; expected {', '.join(names)}.{hint}"
                )
        return cls(**dict(d))


@dataclass(frozen=True)
class UNetSkeleton:
    """The macro frame of an encoder-decoder segmentation network (NAS-Unet, V-NAS, DiNTS).

    Args:
        depth: resolution levels below the input: NAS-Unet's DownSC cells (the decoder
            has ``depth + 1`` UpSC cells), V-NAS's encoder downsamplings, DiNTS's
            ``num_depths``.
        channels: width at the top resolution (doubled at every level down). DiNTS:
            MONAI's ``32 * channel_mul``.
        in_channels: image channels.
        num_classes: segmentation classes, the background included.
        spatial_dims: 2 or 3.
        stem_kernel: kernel of NAS-Unet's full-resolution stem (``stem0``), odd: 1 as
            in NAS-Unet (each pixel alone until the last UpSC cell), 3 to let it see each
            pixel's neighbourhood (small structures). Other U-shaped spaces ignore it.
        stem_convs: convolutions in each NAS-Unet stem: 1 as in NAS-Unet (one conv and
            BatchNorm, linear), more adds ReLU, 3x3 conv, BatchNorm per extra conv, so the
            full- and half-resolution features the decoder reads are non-linear.

    Example:
        >>> UNetSkeleton(depth=3, channels=8).widths()
        (8, 16, 32, 64)
    """

    depth: int = 2
    channels: int = 8
    in_channels: int = 1
    num_classes: int = 2
    spatial_dims: int = 2
    stem_kernel: int = 1
    stem_convs: int = 1

    def __post_init__(self) -> None:
        store_plain_numbers(self)
        for name in ("depth", "channels", "in_channels", "stem_kernel", "stem_convs"):
            _positive_int(name, getattr(self, name), kind="UNetSkeleton")
        if self.depth > MAX_DEPTH:
            raise SpaceError(
                f"UNetSkeleton.depth {self.depth} is past {MAX_DEPTH}: each level halves the "
                f"image, so its edge would need 2**{self.depth} pixels; U-Nets use 3 to 5 levels, "
                "so give a depth up to that order."
            )
        if self.stem_convs > MAX_STEM_CONVS:
            raise SpaceError(
                f"UNetSkeleton.stem_convs {self.stem_convs} is past {MAX_STEM_CONVS}: each runs "
                "at full resolution; NAS-Unet's stems have 1 conv and 2 or 3 make them "
                "non-linear, so give a count up to that order."
            )
        if self.stem_kernel % 2 == 0:
            raise SpaceError(
                f"UNetSkeleton.stem_kernel must be odd (1, 3, 5, ...) to keep the image size, "
                f"got {self.stem_kernel}."
            )
        _positive_int("num_classes", self.num_classes, minimum=2, kind="UNetSkeleton")
        if self.spatial_dims not in (2, 3) or isinstance(self.spatial_dims, bool):
            raise SpaceError(
                f"UNetSkeleton.spatial_dims must be 2 or 3, got {self.spatial_dims!r}."
            )

    def widths(self) -> tuple[int, ...]:
        """Channels per resolution level, top first: ``channels * 2**level``."""
        return tuple(self.channels * 2**level for level in range(self.depth + 1))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> UNetSkeleton:
        """Build a skeleton from :meth:`to_dict` output (missing keys take defaults).

        Example:
            >>> UNetSkeleton.from_dict({"depth": 3}).depth
            3
        """
        if not isinstance(d, Mapping):
            raise SpaceError(f"a skeleton must be a dict, got {type(d).__name__}.")
        names = [f.name for f in fields(cls)]
        for key in d:
            if key not in names:
                hint = closest_name(str(key), names)
                raise SpaceError(
                    f"unknown U-Net skeleton key {key!r}; expected {', '.join(names)}.{hint}"
                )
        return cls(**dict(d))

    @classmethod
    def coerce(cls, skeleton: Any, **defaults: Any) -> UNetSkeleton:
        """A skeleton from None (``defaults``), a dict (over ``defaults``) or a skeleton."""
        if skeleton is None:
            return cls(**defaults)
        if isinstance(skeleton, Mapping):
            return cls.from_dict({**defaults, **dict(skeleton)})
        if not isinstance(skeleton, cls):
            raise SpaceError(f"skeleton must be a UNetSkeleton or a dict, got {skeleton!r}.")
        return skeleton
