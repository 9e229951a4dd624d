"""Reconstruction baselines: zero-filled, MONAI's U-Net and MONAI's VarNet, sized to match.

- :class:`ZeroFilled`: the magnitude of the zero-filled image; nothing to learn, the
  floor every network must clear.
- :class:`ResidualUNet`: MONAI's ``BasicUNet`` on the zero-filled magnitude, adding its
  output to it (the image-domain U-Net of fastMRI's baseline, residual as is usual).
- :class:`VarNet`: MONAI's ``VariationalNetworkModel`` (Sriram et al., 2020): cascades of
  ``ComplexUnet`` refinements with learned soft data consistency on single-coil k-space,
  coil sensitivities estimated from the centre lines (one coil here).

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
from nasbench.errors import ConfigError

ZERO_FILLED = "zero-filled"
UNET = "unet"
VARNET = "varnet"
TRAINED_BASELINES = (UNET, VARNET)
MAX_WIDTH = 64
SENSITIVITY_FEATURES = (2, 2, 4, 8, 16, 2)
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


class VarNet(nn.Module):
    """MONAI's ``VariationalNetworkModel`` on the sample's single-coil k-space.

    MONAI's model takes one mask per batch, and here every sample has its own, so the
    batch is run one sample at a time (its ``ComplexUnet`` uses instance norm, so the
    result is the same).

    Args:
        width: the refinement ``ComplexUnet``'s first-level features.
        cascades: unrolled cascades (MONAI's ``num_cascades``).
    """

    def __init__(self, width: int = 4, cascades: int = 3) -> None:
        super().__init__()
        from monai.apps.reconstruction.networks.nets.coil_sensitivity_model import (
            CoilSensitivityModel,
        )
        from monai.apps.reconstruction.networks.nets.complex_unet import ComplexUnet
        from monai.apps.reconstruction.networks.nets.varnet import VariationalNetworkModel

        features = (width, width, 2 * width, 4 * width, 8 * width, width)
        self.varnet = VariationalNetworkModel(
            CoilSensitivityModel(features=SENSITIVITY_FEATURES),
            ComplexUnet(features=features),
            num_cascades=cascades,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, kspace, mask = unpack(x)
        with torch.autocast(x.device.type, enabled=False):
            out = []
            for k, m in zip(kspace, mask, strict=True):
                # MONAI's layout: (batch, coils, H, W, 2) and a mask (1, 1, 1, W, 1).
                masked = torch.view_as_real(k)[None, None]
                out.append(self.varnet(masked, m.bool().reshape(1, 1, 1, -1, 1)))
        return torch.cat(out)[:, None]


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
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make(best)
