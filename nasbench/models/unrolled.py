"""Unrolled MRI reconstruction networks: cascades of (cell denoiser, k-space data consistency).

:class:`Unrolled` is the frame shared by the discrete network of a genotype
(:class:`UnrolledNetwork`) and the supernet
(:class:`~nasbench.models.unrolled_supernet.UnrolledSupernet`), as :class:`UShape`
is for NAS-Unet: what differs is only the module on each cell edge and how a cell
is called. Per cascade: the complex image (2 channels) -> 3x3 stem -> ``cells``
DARTS cells -> ReLU, 1x1 head to 2 channels, added to the cascade's input ->
:class:`DataConsistency`. The output is the magnitude ``(N, 1, H, W)``.

The cascades work on one coil-combined image whatever the coil count, so one network
reads single-coil samples ``(N, 3, H, W)`` and ``C``-coil ones ``(N, 4C + 1, H, W)``
(:mod:`nasbench.data.kspace`); only data consistency sees the coils.

Example:
    >>> from nasbench.spaces.recon import ReconGenotype, ReconSkeleton
    >>> g = ReconGenotype([("conv_3x3", 0), ("res_conv_3x3", 1)], [2])
    >>> net = UnrolledNetwork(g, ReconSkeleton(cascades=2, channels=4))
    >>> net(torch.zeros(1, 3, 16, 16)).shape
    torch.Size([1, 1, 16, 16])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from nasbench import registry
from nasbench.data.kspace import sense_expand, sense_reduce, unpack
from nasbench.models.cells import Cell, EdgeFactory, check_op_names
from nasbench.models.network import _op_factory, genotype_cell

# edges_for(C) -> the edge factory of a cell of width C; run_cell(cell, s0, s1) -> its output.
EdgesFor = Callable[[int], EdgeFactory]
RunCell = Callable[[Cell, torch.Tensor, torch.Tensor], torch.Tensor]
LEARNED_DC_INIT = 2.0  # sigmoid(2) ~ 0.88 of the measured value at the start


class DataConsistency(nn.Module):
    """Put the measured k-space back into a predicted image.

    The predicted image is spread over the coils and taken to k-space
    (:func:`~nasbench.data.kspace.sense_expand`: ``fft2c(S_c * image)``); at sampled
    columns each coil's k-space is then replaced by the measured one (``hard``) or
    moved a learned fraction ``sigmoid(w)`` of the way there (``learned``, Schlemper et
    al.'s soft consistency for noisy data); the coils are brought back to one image
    by :func:`~nasbench.data.kspace.sense_reduce` (``sum_c conj(S_c) ifft2c(k_c)``).
    With one coil and no maps that is plain FFT, merge, inverse FFT. Runs in float32,
    outside autocast: the FFT has no bfloat16 kernel.

    Args:
        kind: ``"hard"`` or ``"learned"``.

    Example:
        >>> dc = DataConsistency("hard")
        >>> k0, mask = torch.zeros(1, 1, 4, 4, dtype=torch.complex64), torch.ones(1, 1, 1, 4)
        >>> float(dc(torch.ones(1, 2, 4, 4), k0, mask).abs().max())
        0.0
    """

    def __init__(self, kind: str = "hard") -> None:
        super().__init__()
        self.kind = kind
        self.weight = nn.Parameter(torch.tensor(LEARNED_DC_INIT)) if kind == "learned" else None

    def forward(
        self,
        image: torch.Tensor,
        kspace: torch.Tensor,
        mask: torch.Tensor,
        maps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The consistent image ``(N, 2, H, W)``.

        Args:
            image: the prediction ``(N, 2, H, W)`` (real, imaginary).
            kspace: the measured coil k-spaces, complex ``(N, C, H, W)``.
            mask: the sampled columns ``(N, 1, 1, W)``.
            maps: complex ``(N, C, H, W)`` sensitivity maps, None for one coil.
        """
        with torch.autocast(image.device.type, enabled=False):
            image = image.float()
            predicted = sense_expand(torch.complex(image[:, 0], image[:, 1]), maps)
            merged = sense_reduce(self.merge(predicted, kspace, mask), maps)
            return torch.stack([merged.real, merged.imag], dim=1)

    def merge(
        self, predicted: torch.Tensor, kspace: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Coil k-spaces ``(N, C, H, W)``: measured where sampled (or the learned blend),
        predicted elsewhere."""
        step = mask if self.weight is None else mask * torch.sigmoid(self.weight)
        return predicted + step * (kspace - predicted)


class Unrolled(nn.Module):
    """The cascades around the cells; what sits on a cell's edges comes from ``edges_for``.

    Args:
        skeleton: a :class:`~nasbench.spaces.recon.ReconSkeleton`.
        edges: the cells' ``(node, input)`` edges.
        concat: the states a cell concatenates.
        edges_for: the edge factory (:class:`~nasbench.models.cells.Cell`) of width ``C``.
        affine: learnable batch-norm in the cells' preprocessing (search: False).
    """

    def __init__(
        self,
        skeleton: Any,
        edges: Sequence[tuple[int, int]],
        concat: Sequence[int],
        edges_for: EdgesFor,
        affine: bool = True,
    ) -> None:
        super().__init__()
        C = skeleton.channels
        self.stems = nn.ModuleList()
        self.cells = nn.ModuleList()
        self.heads = nn.ModuleList()
        self.consistency = nn.ModuleList()
        for _ in range(skeleton.cascades):
            self.stems.append(nn.Conv2d(2, C, 3, padding=1))
            cells, C_pp, C_p = nn.ModuleList(), C, C
            for _ in range(skeleton.cells):
                cell = Cell(
                    2,
                    C_pp,
                    C_p,
                    C,
                    reduction=False,
                    reduction_prev=False,
                    edges=edges,
                    edge_factory=edges_for(C),
                    concat=concat,
                    affine=affine,
                )
                cells.append(cell)
                C_pp, C_p = C_p, cell.multiplier * C
            self.cells.append(cells)
            head = nn.Conv2d(C_p, 2, 1)
            # Zero-initialised, so an untrained cascade passes its input through and the
            # network starts at the zero-filled image rather than below it.
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
            self.heads.append(nn.Sequential(nn.ReLU(), head))
            self.consistency.append(DataConsistency(skeleton.data_consistency))

    def forward(self, x: torch.Tensor, run_cell: RunCell) -> torch.Tensor:
        """Magnitudes ``(N, 1, H, W)`` of a batch of samples (either layout)."""
        return magnitude(self.images(x, run_cell)[-1])

    def cascade_images(self, x: torch.Tensor, run_cell: RunCell) -> list[torch.Tensor]:
        """The magnitude after every cascade (the zero-filled image first), for figures."""
        return [magnitude(image) for image in self.images(x, run_cell)]

    def images(self, x: torch.Tensor, run_cell: RunCell) -> list[torch.Tensor]:
        """The complex image ``(N, 2, H, W)``: zero-filled, then after every cascade."""
        acquired = unpack(x)
        zero_filled = acquired.zero_filled
        images = [torch.stack([zero_filled.real, zero_filled.imag], dim=1)]
        for stem, cells, head, dc in zip(
            self.stems, self.cells, self.heads, self.consistency, strict=True
        ):
            s0 = s1 = stem(images[-1])
            for cell in cells:
                s0, s1 = s1, run_cell(cell, s0, s1)
            predicted = images[-1] + head(s1).float()
            images.append(dc(predicted, acquired.kspace, acquired.mask, acquired.maps))
        return images


def magnitude(image: torch.Tensor) -> torch.Tensor:
    """``|image|`` ``(N, 1, H, W)`` of a 2-channel complex image; differentiable at 0.

    Example:
        >>> magnitude(torch.tensor([[[[3.0]], [[4.0]]]])).item()
        5.0"""
    return torch.sqrt(image.pow(2).sum(dim=1, keepdim=True) + 1e-12)


@registry.register("network", "recon")
class UnrolledNetwork(nn.Module):
    """The network of a :class:`~nasbench.spaces.recon.ReconGenotype` in a skeleton.

    Args:
        genotype: the cell every cascade uses.
        skeleton: a :class:`~nasbench.spaces.recon.ReconSkeleton`.

    Example: see the module docstring; ``nasbench.models.build(genotype, skeleton)`` makes one.
    """

    def __init__(self, genotype: Any, skeleton: Any) -> None:
        super().__init__()
        edges, names, concat = genotype_cell(genotype, "normal")
        check_op_names(names, "The genotype")
        self.unrolled = Unrolled(skeleton, edges, concat, lambda C: _op_factory(names, 2, C))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Magnitudes ``(N, 1, H, W)`` of samples ``(N, 3 or 4C + 1, H, W)``."""
        return self.unrolled(x, _call_cell)

    def cascade_images(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The image after every cascade (zero-filled first)."""
        return self.unrolled.cascade_images(x, _call_cell)


def _call_cell(cell: Cell, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
    return cell(s0, s1)
