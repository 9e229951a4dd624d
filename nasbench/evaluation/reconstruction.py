"""MRI reconstruction with MONAI: L1 + SSIM loss, PSNR, SSIM and NMSE.

Networks map a batch of undersampled samples ``(N, 3, H, W)``
(:mod:`nasbench.data.kspace`) to magnitude images ``(N, 1, H, W)``; targets are the
fully sampled magnitudes in [0, 1]. PSNR and SSIM are MONAI's ``PSNRMetric`` and
``SSIMMetric`` with a data range of 1; NMSE is fastMRI's
``||y - x||^2 / ||y||^2``, per image, then averaged.

Example:
    >>> y = torch.rand(2, 1, 16, 16)
    >>> scores = reconstruction_scores(y, y)
    >>> scores["ssim"], scores["nmse"]
    (1.0, 0.0)
"""

from __future__ import annotations

import torch
from torch import nn

from nasbench.errors import ConfigError

DATA_RANGE = 1.0
SSIM_WINDOW = 7  # fastMRI's; MONAI's default 11 is wide for 32-pixel images
SSIM_WEIGHT = 0.5  # of (1 - SSIM) next to L1 in the training loss


def check_images(output: torch.Tensor, target: torch.Tensor) -> None:
    """Raise a one-line ConfigError unless ``output`` is a magnitude batch shaped like ``target``.

    Example:
        >>> check_images(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8))  # fits: no error
    """
    if output.is_complex():
        raise ConfigError(
            "a reconstruction network must output magnitude images (real); pass .abs() of "
            "the complex image."
        )
    if output.shape != target.shape or output.dim() != 4 or output.shape[1] != 1:
        raise ConfigError(
            f"reconstruction needs images (N, 1, H, W) the size of the targets; got "
            f"{tuple(output.shape)} for targets {tuple(target.shape)} (channels last, or is "
            "the network a classifier or a segmenter?)."
        )
    if not len(output):
        raise ConfigError("reconstruction scores need at least one image; the batch is empty.")
    if min(output.shape[-2:]) < SSIM_WINDOW:
        raise ConfigError(
            f"images of {tuple(output.shape[-2:])} pixels are smaller than the SSIM window "
            f"({SSIM_WINDOW}); reconstruct images of at least {SSIM_WINDOW}x{SSIM_WINDOW}."
        )


class ReconstructionLoss(nn.Module):
    """``L1 + ssim_weight * (1 - SSIM)``: MONAI's ``SSIMLoss`` next to the L1 distance.

    Args:
        ssim_weight: weight of the SSIM term (0: plain L1).

    Example:
        >>> y = torch.rand(2, 1, 16, 16)
        >>> float(ReconstructionLoss()(y, y)) < 1e-4
        True
    """

    def __init__(self, ssim_weight: float = SSIM_WEIGHT) -> None:
        super().__init__()
        from monai.losses import SSIMLoss

        self.ssim_weight = float(ssim_weight)
        self.ssim = SSIMLoss(spatial_dims=2, data_range=DATA_RANGE, win_size=SSIM_WINDOW)

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        check_images(output, target)
        loss = nn.functional.l1_loss(output, target)
        if self.ssim_weight:
            loss = loss + self.ssim_weight * self.ssim(output.float(), target.float())
        return loss


def per_image_scores(output: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """PSNR, SSIM and NMSE of every image of a batch.

    Args:
        output: reconstructions ``(N, 1, H, W)``.
        target: fully sampled images, same shape, in [0, 1].

    Returns:
        ``{"psnr": (N,), "ssim": (N,), "nmse": (N,)}``.

    Example:
        >>> y = torch.rand(2, 1, 16, 16)
        >>> per_image_scores(y, y)["psnr"].tolist()
        [100.0, 100.0]
    """
    from monai.metrics import PSNRMetric, SSIMMetric

    check_images(output, target)
    output, target = output.detach().float(), target.detach().float()
    psnr = PSNRMetric(max_val=DATA_RANGE, reduction="none")(output, target).reshape(-1)
    ssim = SSIMMetric(
        spatial_dims=2, data_range=DATA_RANGE, win_size=SSIM_WINDOW, reduction="none"
    )(output, target).reshape(-1)
    dims = tuple(range(1, target.dim()))
    energy = (target**2).sum(dims).clamp_min(1e-12)
    nmse = ((output - target) ** 2).sum(dims) / energy
    # A perfect reconstruction has infinite PSNR; cap it so a mean stays finite.
    return {"psnr": psnr.clamp(max=100.0), "ssim": ssim, "nmse": nmse}


def reconstruction_scores(output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """The batch means of :func:`per_image_scores`."""
    return {k: float(v.mean()) for k, v in per_image_scores(output, target).items()}


class ReconstructionMeter:
    """Accumulates PSNR, SSIM and NMSE over the batches of a split (image means).

    Args:
        loss_fn: when given, ``result()`` also holds ``loss``, the batch-size weighted mean.

    Example:
        >>> meter = ReconstructionMeter()
        >>> meter.update(torch.ones(1, 1, 8, 8), torch.ones(1, 1, 8, 8))
        >>> meter.result()["nmse"]
        0.0
    """

    def __init__(self, loss_fn: nn.Module | None = None) -> None:
        self.loss_fn = loss_fn
        self._scores: dict[str, list[torch.Tensor]] = {"psnr": [], "ssim": [], "nmse": []}
        self._loss, self._seen = 0.0, 0

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch of reconstructions and targets ``(N, 1, H, W)``."""
        target = target.to(output.device)
        for name, values in per_image_scores(output, target).items():
            self._scores[name].append(values.cpu())
        if self.loss_fn is not None:
            self._loss += float(self.loss_fn(output.float(), target.float())) * len(target)
        self._seen += len(target)

    def result(self) -> dict[str, float]:
        """``psnr``, ``ssim``, ``nmse`` (and ``loss`` with a loss function)."""
        if not self._seen:
            raise ConfigError("no batch was scored; the split is empty.")
        out = {k: float(torch.cat(v).mean()) for k, v in self._scores.items()}
        if self.loss_fn is not None:
            out["loss"] = self._loss / self._seen
        return out


class ReconstructionTask:
    """MRI reconstruction: L1 + SSIM loss, PSNR/SSIM/NMSE scores; models select on PSNR.

    Example:
        >>> task = ReconstructionTask()
        >>> task.select, task.primary
        ('psnr', 'psnr')
    """

    kind = "reconstruction"
    select = "psnr"
    primary = "psnr"
    name = "reconstruction"

    def loss(self) -> nn.Module:
        """:class:`ReconstructionLoss`."""
        return ReconstructionLoss()

    def target(self, y: torch.Tensor) -> torch.Tensor:
        """Magnitude images ``(N, 1, H, W)``, float."""
        return y.float()

    def batch_metrics(self, output: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """``psnr`` of the batch (SSIM is left to the split's meter: it costs more)."""
        check_images(output, y)
        return {"psnr": float(per_image_scores(output, y)["psnr"].mean())}

    def infer(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """A plain forward pass (whole images)."""
        return model(x)

    def meter(self, loss_fn: nn.Module | None = None, full: bool = True) -> ReconstructionMeter:
        """A split accumulator (``full`` changes nothing: every score is cheap)."""
        return ReconstructionMeter(loss_fn)
