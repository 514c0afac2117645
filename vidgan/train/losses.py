"""Losses for the GANs. None needs pretrained weights: no perceptual network, no hub."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def charbonnier(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """A smooth L1: sqrt((x - y)² + eps²), averaged."""
    return torch.sqrt((x - y) ** 2 + eps * eps).mean()


def _gaussian(
    size: int = 11, sigma: float = 1.5, device: torch.device | None = None
) -> torch.Tensor:
    t = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-(t**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004) of (B, C, H, W) images, Gaussian window 11, sigma 1.5."""
    c = x.shape[1]
    g = _gaussian(device=x.device)
    kh = g.view(1, 1, -1, 1).repeat(c, 1, 1, 1)
    kw = g.view(1, 1, 1, -1).repeat(c, 1, 1, 1)

    def blur(z: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(z, kh, groups=c), kw, groups=c)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cov = blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean()


def temporal_consistency(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between the frame-to-frame changes of the output and of the target, (B, T, C, H, W).

    The target's own changes stand in for the true motion, so no optical flow is needed;
    flicker, which the target does not have, is what this punishes.
    """
    return (torch.diff(out, dim=1) - torch.diff(target, dim=1)).abs().mean()


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's hinge loss on raw scores."""
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def hinge_g(fake: torch.Tensor) -> torch.Tensor:
    """The generator's side of the hinge loss."""
    return -fake.mean()


def psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    """PSNR in dB of images in [0, 1]."""
    mse = F.mse_loss(x.float(), y.float()).item()
    return float("inf") if mse == 0 else 10 * torch.log10(torch.tensor(1.0 / mse)).item()
