"""The restoration generator: a small network sees the video at low resolution and predicts, for
every region, how to correct the full-resolution picture.

The correction follows the physics of the degradation. Underwater, each colour channel is
attenuated and veiled by the water, I = J·t + B·(1 - t), which a per-channel gain and offset
undo: J = I/t - B·(1 - t)/t. Both vary smoothly over the picture, so they are predicted at a
fraction of the resolution and upsampled. Deep down the red channel is almost gone, and no gain
brings back what was quantised away, so a fourth map lends each channel some of the picture's
luma Y (Rec. 601 weights, mostly green), whose structure survives. Noise lives at the finest
scale, so the picture is split into a 3x3 box-filtered base and the detail that remains; a last
map scales the detail: below one it denoises, above one it restores contrast. Per pixel and
channel:

    out = G · base + M · Y + O + K · (I - base)

Noise is invisible at low resolution (averaging 8x8 pixels divides it by eight), so the
network is also shown how much fine detail each region holds, sqrt(mean((I - base)²)): noise
raises it everywhere, flat regions included, where texture does not.

Most of a water's cast is one correction for the whole picture, and judging it is a white
balance: it compares the channels' means, spreads and darkest and brightest levels. Those
statistics enter the network as logarithms, the gain leaves it as one, so that a ratio of
statistics is a straight line for the network to learn. A global head, a small MLP on those
statistics alone, adds the same correction to every cell, and the convolutional branch adds
what differs from region to region. The global head is fitted first, on its own, to whole
pictures (see `vidgan.train.restore`), which it learns in minutes where the whole GAN took
far longer to learn the same thing.

This is the deep-guided-filter idea (Wu et al., CVPR 2018) and HDRNet's (Gharbi et al.,
SIGGRAPH 2017) split between a low-resolution network and a cheap full-resolution operator:
the network never touches the full-resolution frame, so a 720p video restores on a laptop CPU.

Time: the network sees the current frame's low-resolution view together with the views of the
``context`` frames before it, so its corrections are consistent from frame to frame; it never
looks ahead, so files and live streams are treated alike.

    >>> net = RestoreNet(RestoreConfig())
    >>> coef = net(views, energy)               # (B, T, 3, h, w), (B, 3, h, w) -> (B, 12, h, w)
    >>> out = apply_coefficients(frames, coef)  # (B, 3, H, W) -> (B, 3, H, W)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class RestoreConfig:
    """Hyper-parameters of the generator."""

    width: int = 24  # channels of the low-resolution network
    scale: int = 8  # the low-resolution view is 1/scale of the frame
    context: int = 1  # past frames the network sees besides the current one

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def low_view(frames: torch.Tensor, scale: int) -> torch.Tensor:
    """Area-average (..., 3, H, W) down by ``scale`` (H and W must divide by it)."""
    lead = frames.shape[:-3]
    x = frames.reshape(-1, *frames.shape[-3:])
    x = F.avg_pool2d(x, scale)
    return x.reshape(*lead, *x.shape[-3:])


def box3(x: torch.Tensor) -> torch.Tensor:
    """3x3 mean with mirrored borders (as OpenCV's blur): (B, C, H, W) -> (B, C, H, W)."""
    return F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3, stride=1)


LUMA = (0.299, 0.587, 0.114)  # Rec. 601, as OpenCV's RGB -> gray
COEFFICIENTS = 12  # gain, luma mix, offset and detail gain, three channels each


def luma(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 1, H, W), Rec. 601 weights."""
    return sum(w * x[:, i : i + 1] for i, w in enumerate(LUMA))  # type: ignore[return-value]


def detail_energy(frames: torch.Tensor, scale: int) -> torch.Tensor:
    """Root mean square of the fine detail over each low-resolution block.

    (B, 3, H, W) in [0, 1] -> (B, 3, H/scale, W/scale); H and W must divide by ``scale``, and
    ``scale`` by 2. Every other pixel of every other line is enough to see noise, at a quarter
    of the cost.
    """
    half = frames[..., ::2, ::2]
    detail = half - box3(half)
    return F.avg_pool2d(detail * detail, scale // 2).sqrt()


QUANTILES = (0.02, 0.1, 0.5, 0.9, 0.98)
STATISTICS = 3 * (2 + len(QUANTILES))  # per channel: mean, deviation and the quantiles
LOG_GAIN = 3.0  # gains are kept within exp(±3), 1/20 to 20
COLOUR_HIDDEN = 64  # units of the global colour head's two hidden layers


def colour_statistics(view: torch.Tensor) -> torch.Tensor:
    """A picture's colour, as a white balance or a dehazing would measure it, on a log scale.

    (B, 3, h, w) in [0, 1] -> (B, STATISTICS): per channel the log of the mean, of the standard
    deviation and of the ``QUANTILES`` (the darkest pixels tell the veiling light, the
    brightest and the mean how strongly each channel is attenuated).
    """
    flat = view.flatten(2).float()  # (B, 3, h·w)
    mean = flat.mean(2)
    spread = (flat - mean[..., None]).square().mean(2).sqrt()  # 0, not NaN, for one pixel
    levels = torch.quantile(flat, torch.tensor(QUANTILES, device=view.device), dim=2)  # (Q, B, 3)
    stats = torch.cat([mean, spread, levels.permute(1, 0, 2).flatten(1)], 1)
    return torch.log(stats + 1 / 256)


def apply_coefficients(frames: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    """Apply low-resolution coefficients to full-resolution frames.

    Args:
        frames: float (B, 3, H, W) in [0, 1].
        coef: float (B, 12, h, w): gain, luma mix, offset and detail gain, three channels
            each, as predicted by RestoreNet (zero everywhere is the identity).

    Returns:
        float (B, 3, H, W), clamped to [0, 1].
    """
    h, w = frames.shape[-2:]
    maps = F.interpolate(coef, size=(h, w), mode="bilinear", align_corners=False)
    gain, mix, offset, detail_gain = 1 + maps[:, 0:3], maps[:, 3:6], maps[:, 6:9], 1 + maps[:, 9:]
    base = box3(frames)
    out = gain * base + mix * luma(frames) + offset + detail_gain * (frames - base)
    return out.clamp(0, 1)


class RestoreNet(nn.Module):
    """Low-resolution views of a window of frames in, correction coefficients out.

    Inputs: views (B, T, 3, h, w) with T = context + 1, the current frame last, values in
    [0, 1]; the current frame's `detail_energy`, (B, 3, h, w). Output (B, 12, h, w). The last
    layer starts at zero, so an untrained network is the identity.
    """

    size_multiple = 1

    def __init__(self, config: RestoreConfig = RestoreConfig()) -> None:
        super().__init__()
        self.config = config
        self.context = config.context
        w = config.width
        c_in = 3 * (config.context + 1)

        self.stem = nn.Sequential(nn.Conv2d(c_in + 6, w, 3, padding=1), nn.LeakyReLU(0.1))
        self.down = nn.Sequential(
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1),
            nn.LeakyReLU(0.1),
        )
        self.glob = nn.Sequential(nn.Linear(2 * w + STATISTICS, 2 * w), nn.LeakyReLU(0.1))
        self.mid = nn.Sequential(nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.LeakyReLU(0.1))
        last = nn.Conv2d(w, COEFFICIENTS, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)  # type: ignore[arg-type]
        self.head = nn.Sequential(nn.Conv2d(3 * w, w, 3, padding=1), nn.LeakyReLU(0.1), last)
        colour = nn.Linear(COLOUR_HIDDEN, COEFFICIENTS)
        nn.init.zeros_(colour.weight)
        nn.init.zeros_(colour.bias)
        self.colour = nn.Sequential(
            nn.Linear(STATISTICS, COLOUR_HIDDEN),
            nn.LeakyReLU(0.1),
            nn.Linear(COLOUR_HIDDEN, COLOUR_HIDDEN),
            nn.LeakyReLU(0.1),
            colour,
        )

    def forward(self, views: torch.Tensor, energy: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = views.shape
        current = views[:, -1]  # (B, 3, h, w)
        stats = colour_statistics(current)  # (B, STATISTICS)
        # the change since the previous frame tells motion from noise
        change = (current - views[:, -2]) if t > 1 else torch.zeros_like(current)

        # local features at 1/scale, then at 1/(2 scale) with the picture's global colour
        # detail energy on a log scale: noise of sigma 0.005 to 0.1 spans a few units
        noise = torch.log2(energy * 64 + 1 / 64)
        x = self.stem(torch.cat([views.reshape(b, t * c, h, w), change, noise], 1))  # (B, w, h, w)
        y = self.down(x)  # (B, 2w, h/2, w/2)
        pooled = torch.cat([y.mean((2, 3)), stats], 1)  # (B, 2w + STATISTICS)
        y = self.mid(y + self.glob(pooled)[:, :, None, None])

        # back to 1/scale, with the finer features, to the coefficients; plus the global
        # colour correction, the same for every cell
        y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
        coef = self.head(torch.cat([x, y], 1)) + self.colour(stats)[:, :, None, None]
        return self.finish(coef)  # (B, 12, h, w)

    @staticmethod
    def finish(coef: torch.Tensor) -> torch.Tensor:
        """Raw outputs (B, 12, h, w) to `apply_coefficients`' coefficients. The gain is
        predicted as its logarithm: ratios of channel statistics, which is what a white
        balance is, are sums and differences of log statistics."""
        gain = coef[:, 0:3].clamp(-LOG_GAIN, LOG_GAIN).exp() - 1
        return torch.cat([gain, coef[:, 3:]], 1)


class RestoreGenerator(nn.Module):
    """RestoreNet with its full-resolution operator, for training: frames in, frames out.

    Input float (B, T, 3, H, W) in [0, 1], H and W multiples of ``scale``; output the restored
    current frame, (B, 3, H, W).
    """

    def __init__(self, config: RestoreConfig = RestoreConfig()) -> None:
        super().__init__()
        self.config = config
        self.net = RestoreNet(config)
        self.size_multiple = config.scale
        self.context = config.context

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        scale = self.config.scale
        current = frames[:, -1]
        coef = self.net(low_view(frames, scale), detail_energy(current, scale))
        return apply_coefficients(current, coef)
