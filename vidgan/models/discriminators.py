"""Discriminators: a spatial PatchGAN for single frames and a 3D one for short clips.

The PatchGAN (Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
CVPR 2017) scores overlapping patches, so it judges texture and colour locally. The temporal
discriminator convolves over time as well (as in TecoGAN's or Vondrick et al.'s 3D critics):
a clip whose frames flicker or drift differently from real footage is told apart even when
every frame alone looks right. Spectral normalisation keeps both well behaved without
gradient penalties.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    """(B, 3, H, W) in [0, 1] -> (B, 1, H/8, W/8) real-vs-fake scores."""

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            spectral_norm(nn.Conv2d(3, w, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(w, 2 * w, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(2 * w, 4 * w, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(4 * w, 1, 3, padding=1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x * 2 - 1)


class TemporalDiscriminator(nn.Module):
    """(B, T, 3, H, W) in [0, 1] -> (B, 1, T', H/16, W/16) scores of space-time patches.

    It looks at the clip at half resolution: flicker and drift are low-frequency, and 3D
    convolutions are the costliest part of training on a CPU.
    """

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            spectral_norm(nn.Conv3d(3, w, (3, 4, 4), stride=(1, 2, 2), padding=(1, 1, 1))),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv3d(w, 2 * w, (3, 4, 4), stride=(1, 2, 2), padding=(1, 1, 1))),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv3d(2 * w, 4 * w, (3, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1))),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv3d(4 * w, 1, (1, 3, 3), padding=(0, 1, 1))),
        )

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = clip.transpose(1, 2) * 2 - 1  # (B, 3, T, H, W): the layout Conv3d wants
        x = F.avg_pool3d(x, (1, 2, 2))  # (B, 3, T, H/2, W/2)
        return self.body(x)
