"""Reconstruction baselines: zero-filled, MONAI's U-Net and MONAI's VarNet, sized to match.

- :class:`ZeroFilled`: the magnitude of the zero-filled image; nothing to learn, the
  floor every network must clear.
- :class:`ResidualUNet`: MONAI's ``BasicUNet`` on the zero-filled magnitude, adding its
  output to it (the image-domain U-Net of fastMRI's baseline, residual as is usual).
- :class:`VarNet`: MONAI's ``VariationalNetworkModel`` (Sriram et al., 2020): cascades of
  ``ComplexUnet`` refinements with learned soft data consistency on the coils' k-space
  (one coil: the sensitivity map is 1; several: the sample's maps).

Every baseline reads both sample layouts (one coil or ``C``; :mod:`nasbench.data.kspace`).

:func:`matched_baseline` picks the width whose parameter count is closest to the
searched network's, so a comparison is not won by size.

Example:
    >>> net = matched_baseline("unet", target_params=30_000, cascades=3, seed=0)
    >>> 20_000 < sum(p.numel() for p in net.parameters()) < 45_000
    True
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nasbench.data.kspace import unpack, zero_filled_magnitude
from nasbench.device import seeded
from nasbench.errors import ConfigError

ZERO_FILLED = "zero-filled"
UNET = "unet"
VARNET = "varnet"
TRAINED_BASELINES = (UNET, VARNET)
MAX_WIDTH = 64
UNET_FACTOR = 16  # BasicUNet halves the image four times


class ZeroFilled(nn.Module):
    """``|zero-filled image|``: the inverse FFT of the undersampled k-space, nothing learned.

    Example:
        >>> ZeroFilled()(torch.zeros(2, 3, 8, 8)).shape
        torch.Size([2, 1, 8, 8])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return zero_filled_magnitude(x)


class ResidualUNet(nn.Module):
    """MONAI ``BasicUNet`` refining the zero-filled magnitude: ``zf + unet(zf)``.

    Args:
        width: the first level's features (MONAI's ``features`` become
            ``(w, w, 2w, 4w, 8w, w)``).
    """

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        from monai.networks.nets import BasicUNet

        features = (width, width, 2 * width, 4 * width, 8 * width, width)
        self.unet = BasicUNet(spatial_dims=2, in_channels=1, out_channels=1, features=features)
        # Starts as the identity (zero-filled), as the unrolled network's cascades do.
        nn.init.zeros_(self.unet.final_conv.weight)
        nn.init.zeros_(self.unet.final_conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image = zero_filled_magnitude(x)
        # Four poolings: pad to a multiple of 16 (as MONAI's ComplexUnet does), crop back.
        h, w = image.shape[-2:]
        padded = nn.functional.pad(image, (0, -w % UNET_FACTOR, 0, -h % UNET_FACTOR))
        return image + self.unet(padded)[..., :h, :w]


class UnitSensitivity(nn.Module):
    """The coil sensitivity of a single-coil acquisition: 1 everywhere (MONAI's layout
    ``(N, coils, H, W, 2)``, real part 1, imaginary part 0)."""

    def forward(self, masked_kspace: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ones = torch.ones_like(masked_kspace[..., :1])
        return torch.cat([ones, torch.zeros_like(ones)], dim=-1)


class VarNet(nn.Module):
    """MONAI's ``VariationalNetworkModel`` on the sample's coil k-spaces.

    With one coil the sensitivity map is 1 (:class:`UnitSensitivity`). With several,
    the sample carries its maps, and MONAI's ``VarNetBlock`` cascades (soft data
    consistency per coil, ``ComplexUnet`` refinement between MONAI's
    ``sensitivity_map_reduce`` and ``sensitivity_map_expand``) are run with them, as
    the searched network runs with them. MONAI's ``CoilSensitivityModel``, which
    estimates maps from the fully sampled centre, is not used: the maps are known,
    so estimating them would only handicap the baseline, and it takes one mask per
    batch where every sample here has its own. The output is MONAI's: the root sum of
    squares of the coil images (with maps whose squares sum to 1, the magnitude).

    Args:
        width: the refinement ``ComplexUnet``'s first-level features.
        cascades: unrolled cascades (MONAI's ``num_cascades``).
    """

    def __init__(self, width: int = 4, cascades: int = 3) -> None:
        super().__init__()
        from monai.apps.reconstruction.networks.nets.complex_unet import ComplexUnet
        from monai.apps.reconstruction.networks.nets.varnet import VariationalNetworkModel

        features = (width, width, 2 * width, 4 * width, 8 * width, width)
        self.varnet = VariationalNetworkModel(
            UnitSensitivity(), ComplexUnet(features=features), num_cascades=cascades
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        acquired = unpack(x)
        # MONAI's layout: k-space (N, coils, H, W, 2), a mask over the columns (W).
        masked = torch.view_as_real(acquired.kspace).float()
        columns = acquired.mask.bool().reshape(len(x), 1, 1, -1, 1)
        with torch.autocast(x.device.type, enabled=False):
            if acquired.maps is None:
                return self.varnet(masked, columns)[:, None]
            return self._with_maps(masked, columns, torch.view_as_real(acquired.maps))

    def _with_maps(
        self, masked: torch.Tensor, columns: torch.Tensor, maps: torch.Tensor
    ) -> torch.Tensor:
        # VariationalNetworkModel.forward with the given maps in place of its estimate.
        from monai.apps.reconstruction.complex_utils import complex_abs_t
        from monai.apps.reconstruction.mri_utils import root_sum_of_squares_t
        from monai.networks.blocks.fft_utils_t import ifftn_centered_t

        kspace = masked.clone()
        for cascade in self.varnet.cascades:
            kspace = cascade(kspace, masked, columns, maps)
        coil_images = complex_abs_t(ifftn_centered_t(kspace, spatial_dims=2))
        return root_sum_of_squares_t(coil_images, spatial_dim=1)[:, None]


def _factory(name: str, cascades: int) -> Callable[[int], nn.Module]:
    if name == UNET:
        return ResidualUNet
    if name == VARNET:
        return lambda width: VarNet(width, cascades)
    raise ConfigError(
        f"no reconstruction baseline {name!r}; use one of {', '.join(TRAINED_BASELINES)}."
    )


def matched_baseline(name: str, target_params: int, cascades: int = 3, seed: int = 0) -> nn.Module:
    """A trained baseline whose width brings its parameter count closest to ``target_params``.

    Args:
        name: ``"unet"`` or ``"varnet"``.
        target_params: the searched network's parameter count.
        cascades: VarNet's cascades (the searched network's).
        seed: seeds the initial weights (the global RNG is left as it was).

    Returns:
        The model (the narrowest one when even that is larger than the target).

    Example:
        >>> net = matched_baseline("varnet", target_params=20_000, cascades=2)
        >>> net(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 1, 32, 32])
    """
    make = _factory(name, cascades)

    def params(width: int) -> int:
        return sum(p.numel() for p in make(width).parameters())

    # Parameters grow with the width squared: walk up until they pass the target.
    best, best_gap = 1, abs(params(1) - target_params)
    for width in range(2, MAX_WIDTH + 1):
        gap = abs(params(width) - target_params)
        if gap > best_gap:
            break
        best, best_gap = width, gap
    with seeded(seed):
        return make(best)
