"""The two-stream video generator and its 3D discriminator, after Vondrick, Pirsiavash and
Torralba, "Generating Videos with Scene Dynamics" (NeurIPS 2016).

From one latent vector z, a 3D-convolutional foreground stream paints a moving foreground f
and a mask m, a 2D stream paints one static background b, and the clip is their composite

    video = m · f + (1 - m) · b

so the background cannot move and everything that moves has to go through the mask. A 3D
convolutional discriminator judges whole clips. The encoder of "animating static images"
maps a still to a latent, and the generator then predicts the still's future frames.

Differences from the paper, for a CPU and for artefact-free pictures:
- every upsampling is nearest-neighbour resizing followed by a 3x3(x3) convolution, not a
  transposed convolution, so there is no checkerboard pattern; the foreground's convolutions
  pad time by repeating the first and last frames, not with zeros, so that the clip's ends
  are painted like its middle (with zeros, the mask learned to vanish at both ends);
- batch normalisation, as in the paper; in eval mode it uses its running statistics, so a
  generated clip does not depend on the rest of its batch;
- the foreground's first space-time grid is a point plus a velocity in feature space,
  ``seed(k) = base(z) + (k - (K - 1)/2) · velocity(z)`` for time slots k < K. At the trained
  length this is exactly as general as the paper's projection when K <= 2 (two points make
  a line), and it lets the same weights make longer clips by extending the line;
- the discriminator is spectrally normalised and trained with the hinge loss.

Layout: clips are (B, T, 3, H, W) floats in [0, 1], as everywhere in vidgan; Conv3d's
(B, C, T, H, W) is used only inside the modules.

    >>> g = VideoGenerator(GenerateConfig())
    >>> out = g(torch.randn(8, 100))       # out.video: (8, 32, 3, 64, 64) in [0, 1]
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass(frozen=True)
class GenerateConfig:
    """Hyper-parameters of the video GAN. ``size`` is a power of two, at least 8; ``frames`` a
    multiple of ``size / 4`` (the generator doubles time and space together from a 4x4 grid)."""

    frames: int = 32  # clip length the model is trained for
    size: int = 64  # frame side
    latent: int = 100  # size of z
    width: int = 8  # channels of the foreground's last grid before full size; doubled per coarser
    bg_width: int = 16  # the same for the background stream
    d_width: int = 16  # channels of the discriminator's first stage; doubled per stage
    encoder: bool = True  # also build the still-image encoder (for `vidgan animate`)

    def __post_init__(self) -> None:
        stages = math.log2(self.size / 4) if self.size >= 8 else 0.5
        if stages != int(stages):
            raise ValueError(f"size must be a power of two from 8 up (got {self.size})")
        if self.frames < 1 or self.frames % (self.size // 4):
            raise ValueError(
                f"frames must be a multiple of size / 4 = {self.size // 4} (got {self.frames})"
            )

    @property
    def stages(self) -> int:
        """Doublings from the 4x4 seed to the full size."""
        return int(math.log2(self.size // 4))

    @property
    def step(self) -> int:
        """Frames per time slot of the seed grid: clip lengths are multiples of this."""
        return 2**self.stages

    def to_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in asdict(self).items()}


# the mask's initial log-odds: sigmoid(-1) = 27% everywhere, about twice the share of a
# procedural frame that moves. Starting at one half, the foreground stream learned to paint
# static detail over the whole frame; at 12% (-2) it stopped moving in a pilot run.
MASK_PRIOR = -1.0


class Streams(NamedTuple):
    """What the generator paints; every tensor is in [0, 1]."""

    video: torch.Tensor  # (B, T, 3, H, W), the composite
    foreground: torch.Tensor  # (B, T, 3, H, W)
    mask: torch.Tensor  # (B, T, 1, H, W), 1 where the foreground shows
    background: torch.Tensor  # (B, 3, H, W), the same for every frame


class _TimeEdgeConv3d(nn.Conv3d):
    """A 3x3x3 convolution that pads time by repeating the first and last frames and space
    with zeros: zeros in time made the mask fade out at both ends of the clip."""

    def __init__(self, c_in: int, c_out: int, bias: bool = True) -> None:
        super().__init__(c_in, c_out, 3, padding=(0, 1, 1), bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # F.pad's "replicate" on 5-D tensors is several times slower on the CPU than this copy
        x = torch.cat([x[:, :, :1], x, x[:, :, -1:]], 2)  # (B, C, T + 2, H, W)
        return super().forward(x)


def _up(dims: int, c_in: int, c_out: int) -> nn.Sequential:
    """Double every axis (T, H, W for dims=3; H, W for dims=2) by nearest resizing, then a 3x3
    (x3) convolution, batch norm and ReLU."""
    if dims == 3:
        conv: nn.Module = _TimeEdgeConv3d(c_in, c_out, bias=False)
        norm: nn.Module = nn.BatchNorm3d(c_out)
    else:
        conv, norm = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv, norm, nn.ReLU())


def _widths(finest: int, stages: int) -> list[int]:
    """Channels from the coarsest grid to the finest: finest·2^stages ... finest, capped."""
    return [min(finest * 2 ** (stages - i), 512) for i in range(stages + 1)]


class ImageEncoder(nn.Module):
    """(B, 3, H, W) in [0, 1] -> (B, latent): a still's latent, for animating it."""

    def __init__(self, config: GenerateConfig) -> None:
        super().__init__()
        widths = _widths(config.bg_width, config.stages)[::-1]  # finest first
        layers: list[nn.Module] = []
        c_in = 3
        for w in widths[1:]:
            layers += [nn.Conv2d(c_in, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c_in = w
        self.body = nn.Sequential(*layers)  # (B, C, 4, 4)
        self.head = nn.Linear(c_in * 16, config.latent)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.body(image * 2 - 1)
        return self.head(x.flatten(1))


class VideoGenerator(nn.Module):
    """z (B, latent) -> `Streams`: composite clip, foreground, mask and background."""

    def __init__(self, config: GenerateConfig = GenerateConfig()) -> None:
        super().__init__()
        self.config = config
        c, n = config, config.stages
        # widths from the 4x4 seed to half size; the full-size grid is only the output's, since
        # a 3x3x3 convolution there costs as much as all the coarser ones together
        fg, bg = _widths(c.width, n - 1), _widths(c.bg_width, n - 1)

        # foreground stream: a moving point in feature space, then space-time upsampling
        self.fg_base = nn.Linear(c.latent, fg[0] * 16)
        self.fg_velocity = nn.Linear(c.latent, fg[0] * 16)
        self.fg_norm = nn.Sequential(nn.BatchNorm3d(fg[0]), nn.ReLU())
        self.fg_body = nn.Sequential(*[_up(3, fg[i], fg[i + 1]) for i in range(n - 1)])
        out = _TimeEdgeConv3d(fg[-1], 4)  # 3 colour channels and the mask
        assert out.bias is not None
        with torch.no_grad():  # the mask starts small (see MASK_PRIOR)
            out.bias[3] = MASK_PRIOR
        self.fg_out = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), out)

        # background stream: one still, upsampled in space only
        self.bg_seed = nn.Linear(c.latent, bg[0] * 16)
        self.bg_norm = nn.Sequential(nn.BatchNorm2d(bg[0]), nn.ReLU())
        self.bg_body = nn.Sequential(*[_up(2, bg[i], bg[i + 1]) for i in range(n - 1)])
        self.bg_out = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(bg[-1], 3, 3, padding=1),
        )

        self.encoder = ImageEncoder(config) if c.encoder else None

    def forward(self, z: torch.Tensor, frames: int | None = None) -> Streams:
        """Paint clips of ``frames`` frames (default: the trained length) from z, (B, latent).

        Lengths other than the trained one extend the foreground's feature-space line; they
        are cut from the next multiple of `GenerateConfig.step` up.
        """
        c = self.config
        b, t = z.shape[0], frames or c.frames
        slots = -(-t // c.step)  # ceil

        # foreground seed: (B, C, K, 4, 4), slot k at base + (k - (K-1)/2)·velocity
        k = torch.arange(slots, device=z.device, dtype=z.dtype) - (slots - 1) / 2
        base = self.fg_base(z).view(b, -1, 1, 4, 4)
        velocity = self.fg_velocity(z).view(b, -1, 1, 4, 4)
        x = base + k.view(1, 1, -1, 1, 1) * velocity  # (B, C, K, 4, 4)
        x = self.fg_norm(x)

        # foreground and mask: (B, 4, K·step, H, W) -> (B, T, 4, H, W)
        x = self.fg_out(self.fg_body(x))[:, :, :t].transpose(1, 2)
        foreground = torch.sigmoid(x[:, :, :3])
        mask = torch.sigmoid(x[:, :, 3:])

        # background: (B, 3, H, W)
        y = self.bg_norm(self.bg_seed(z).view(b, -1, 4, 4))
        background = torch.sigmoid(self.bg_out(self.bg_body(y)))

        # composite, the background broadcast over time
        video = mask * foreground + (1 - mask) * background[:, None]
        return Streams(video, foreground, mask, background)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1], H = W = size -> z (B, latent)."""
        if self.encoder is None:
            raise ValueError("this generator was built without an image encoder")
        return self.encoder(image)


@torch.no_grad()
def standing_statistics(
    g: VideoGenerator, batches: int = 16, batch: int = 8, seed: int = 0
) -> None:
    """Set the batch norms' running statistics to the average over ``batches`` batches of
    random latents, then leave ``g`` in eval mode.

    The statistics that training keeps (a moving average over a generator that keeps
    changing, or another network's, for the weights' moving average) can be far enough from
    the final weights' that every latent gives the same clip; recomputing them is BigGAN's
    "standing statistics" (Brock et al., ICLR 2019).
    """
    norms = [m for m in g.modules() if isinstance(m, nn.BatchNorm2d | nn.BatchNorm3d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average
    g.train()
    device = next(g.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    for _ in range(batches):
        g(torch.randn(batch, g.config.latent, generator=rng).to(device))
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    g.eval()


class ClipDiscriminator(nn.Module):
    """(B, T, 3, H, W) in [0, 1] -> (B, 1, T', 4, 4) real-vs-fake scores for space-time regions.

    Strided 4x4x4 convolutions halve time and space together down to a 4x4 grid (time stops
    halving at one frame), then a 1x3x3 convolution scores each cell.
    """

    def __init__(self, config: GenerateConfig = GenerateConfig()) -> None:
        super().__init__()
        widths = _widths(config.d_width, config.stages - 1)[::-1]  # finest first
        layers: list[nn.Module] = []
        c_in, t = 3, config.frames
        for w in widths:
            kt, st = (4, 2) if t >= 4 else (1, 1)
            layers += [
                spectral_norm(
                    nn.Conv3d(c_in, w, (kt, 4, 4), stride=(st, 2, 2), padding=(kt // 4, 1, 1))
                ),
                nn.LeakyReLU(0.2),
            ]
            c_in, t = w, t // st
        self.body = nn.Sequential(*layers)
        self.head = spectral_norm(nn.Conv3d(c_in, 1, (1, 3, 3), padding=(0, 1, 1)))

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = clip.transpose(1, 2) * 2 - 1  # (B, 3, T, H, W), the layout Conv3d wants
        return self.head(self.body(x))


def sheet(streams: Streams, columns: int = 4) -> torch.Tensor:
    """A picture of what the two streams paint, (3, H', W') in [0, 1], one row per clip:
    ``columns`` frames of the composite, the same frames of the foreground and of the mask,
    then the background. Frames are picked evenly from the first to the last."""
    b, t = streams.video.shape[:2]
    idx = torch.linspace(0, t - 1, columns).round().long()
    tiles = torch.cat(
        [
            streams.video[:, idx],
            streams.foreground[:, idx],
            streams.mask[:, idx].expand(-1, -1, 3, -1, -1),
            streams.background[:, None],
        ],
        1,
    )  # (B, 3·columns + 1, 3, H, W)
    from torchvision.utils import make_grid  # torchvision takes ~2 s to import: only when drawn

    return make_grid(
        tiles.flatten(0, 1).float().cpu(), nrow=3 * columns + 1, padding=2, pad_value=1
    )


SHEET_LABELS = ("composite", "foreground", "mask", "background")


def labelled_sheet(streams: Streams, columns: int = 4, min_tile: int = 96) -> torch.Tensor:
    """`sheet`, enlarged by a whole factor (at least 2) so that a tile is ``min_tile`` pixels
    or more, under a white band that names the column groups: (3, H', W') in [0, 1]."""
    size = streams.video.shape[-1]
    scale = max(2, math.ceil(min_tile / size))
    picture = F.interpolate(sheet(streams, columns)[None], scale_factor=scale, mode="nearest")[0]
    tile = (size + 2) * scale  # make_grid's padding is 2
    band = max(16, tile // 4)
    header = np.full((band, picture.shape[2], 3), 255, np.uint8)
    left = 1
    for label, span in zip(SHEET_LABELS, (columns, columns, columns, 1), strict=True):
        width = span * tile
        font = 0.5
        (w, h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font, 1)
        if w > width - 4:  # shrink to fit a single tile
            font *= (width - 4) / w
            (w, h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font, 1)
        origin = (left + (width - w) // 2, (band + h) // 2)
        cv2.putText(
            header, label, origin, cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), 1, cv2.LINE_AA
        )
        left += width
    top = torch.from_numpy(header).permute(2, 0, 1).float() / 255
    return torch.cat([top, picture], 1)
