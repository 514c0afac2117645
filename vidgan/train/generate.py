"""Training the two-stream video GAN (Vondrick et al. 2016) on procedural clips or on a folder
of videos, with the encoder that animates still images trained alongside.

Each step draws real clips and latents. Most of the batch is painted from random latents; a
share (``animate_share``) is painted from the latent the encoder gives the real clip's first
frame, and that clip's first frame must match the still (an L1 term), so the generator learns
to continue a picture it is shown. The discriminator sees the whole batch. As in the paper, an
L1 penalty on the mask (weight 0.1) keeps the foreground to what the background cannot
explain, i.e. to what moves.

    vidgan train generate --data procedural --out runs/generate-1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.utils import save_image

from vidgan.data.clips import ClipSource
from vidgan.data.procedural import ProceduralSource
from vidgan.models.video_gan import (
    ClipDiscriminator,
    GenerateConfig,
    Streams,
    VideoGenerator,
    labelled_sheet,
    standing_statistics,
)
from vidgan.models.weights import save_weights
from vidgan.train.gan import StepResult
from vidgan.train.losses import hinge_d, hinge_g


@dataclass(frozen=True)
class GenerateTrainConfig:
    """The batch and the weights of the losses."""

    batch: int = 8
    max_stride: int = 2  # real clips from videos take every 1st .. every max_stride-th frame
    w_mask: float = 0.1  # L1 on the mask, as in the paper
    animate_share: float = 0.25  # of each batch, painted from encoded first frames
    w_recon: float = 1.0  # L1 between an animated clip's first frame and its still


class RealClips(Protocol):
    """Where real clips come from: (B, T, 3, H, W) in [0, 1], and true masks where known."""

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray | None]: ...


class ProceduralClips:
    """Real clips from `ProceduralSource`, with their masks (B, T, 1, H, W)."""

    def __init__(self, source: ProceduralSource, frames: int, size: int) -> None:
        self.source, self.frames, self.size = source, frames, size

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        pairs = [self.source.sample(rng, self.frames, self.size) for _ in range(n)]
        clips = np.stack([c for c, _ in pairs]).transpose(0, 1, 4, 2, 3)
        masks = np.stack([m for _, m in pairs])[:, :, None]
        return np.ascontiguousarray(clips), masks


class FolderClips:
    """Real clips cut from the videos (and panned stills) of `ClipSource`: random start,
    random frame stride up to ``max_stride``, random square crop."""

    def __init__(self, source: ClipSource, frames: int, size: int, max_stride: int = 2) -> None:
        self.source, self.frames, self.size, self.max_stride = source, frames, size, max_stride

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        clips = [self.source.sample(rng, self.frames, self.size, self.max_stride) for _ in range(n)]
        return np.ascontiguousarray(np.stack(clips).transpose(0, 1, 4, 2, 3)), None


def folder_source(folders: list[str], size: int) -> ClipSource:
    """A `ClipSource` whose media are scaled so that a crop of ``size`` sees much of a frame."""
    return ClipSource(folders, max_side=2 * size)


# figures


def motion_share_in_mask(video: torch.Tensor, mask: torch.Tensor) -> float:
    """Share of the clips' frame-to-frame change that falls inside ``mask``, (B, T, 1, H, W).

    Each change |x[t+1] - x[t]| counts as inside by the larger of the two frames' mask values,
    so with the true mask of a clip whose background is still the share is 1; a mask that
    misses what moves scores near 0.
    """
    change = torch.diff(video.float(), dim=1).abs().sum(2)  # (B, T-1, H, W)
    m = mask.float()[:, :, 0]
    inside = torch.maximum(m[:, 1:], m[:, :-1])
    return float((change * inside).sum() / change.sum().clamp_min(1e-12))


def background_stillness(video: torch.Tensor, mask: torch.Tensor, below: float = 0.5) -> float:
    """Mean absolute frame-to-frame change of the composite where the mask stays < ``below``
    over the whole clip, in [0, 1] units; 0 is a perfectly still background."""
    still = (mask.float().amax(1) < below).float()  # (B, 1, H, W)
    change = torch.diff(video.float(), dim=1).abs().mean((1, 2))[:, None]  # (B, 1, H, W)
    return float((change * still).sum() / still.sum().clamp_min(1))


class GenerateTask:
    """The video GAN, for `vidgan.train.gan.train`."""

    def __init__(
        self,
        real: RealClips,
        *,
        model: GenerateConfig = GenerateConfig(),
        config: GenerateTrainConfig = GenerateTrainConfig(),
        seed: int = 0,
    ) -> None:
        self.real, self.model_config, self.config = real, model, config
        self.generator = VideoGenerator(model)
        self.discriminators = nn.ModuleDict({"clip": ClipDiscriminator(model)})
        # fixed validation latents and clips, drawn once from their own generators
        self._val_z = torch.from_numpy(
            np.random.default_rng(20_000 + seed).standard_normal((8, model.latent), np.float32)
        )
        self._val_real = real.draw(np.random.default_rng(10_000 + seed), 8)
        self._n_animate = round(config.batch * config.animate_share) if model.encoder else 0

    def batch(self, rng: np.random.Generator, device: torch.device) -> dict[str, torch.Tensor]:
        clips, masks = self.real.draw(rng, self.config.batch)
        z = rng.standard_normal((self.config.batch - self._n_animate, self.model_config.latent))
        out = {
            "real": torch.from_numpy(clips).to(device),  # (B, T, 3, H, W)
            "z": torch.from_numpy(z.astype(np.float32)).to(device),
        }
        if masks is not None:
            out["mask"] = torch.from_numpy(masks).to(device)
        return out

    # losses

    def _paint(self, g: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[Streams, torch.Tensor]:
        """Streams for the whole batch (latents first, then encoded stills), and the stills."""
        assert isinstance(g, VideoGenerator)
        stills = batch["real"][: self._n_animate, 0]  # (A, 3, H, W)
        z = batch["z"]
        if self._n_animate:
            z = torch.cat([z, g.encode(stills)])
        return g(z), stills

    def generator_step(
        self, g: nn.Module, ds: nn.ModuleDict, batch: dict[str, torch.Tensor], adversarial: bool
    ) -> StepResult:
        c = self.config
        streams, stills = self._paint(g, batch)
        mask_l1 = streams.mask.mean()
        loss = c.w_mask * mask_l1
        logs = {"mask": mask_l1.item()}
        if self._n_animate:
            recon = F.l1_loss(streams.video[-self._n_animate :, 0], stills)
            loss = loss + c.w_recon * recon
            logs["recon"] = recon.item()
        if adversarial:
            adv = hinge_g(ds["clip"](streams.video))
            loss = loss + adv
            logs["g_adv"] = adv.item()
        else:
            logs["g_adv"] = float("nan")  # the log keeps its columns
        logs["g_loss"] = loss.item()
        return StepResult(loss, logs, {"video": streams.video})

    def discriminator_step(
        self, ds: nn.ModuleDict, batch: dict[str, torch.Tensor], fakes: dict[str, torch.Tensor]
    ) -> StepResult:
        real, fake = ds["clip"](batch["real"]), ds["clip"](fakes["video"])
        loss = hinge_d(real, fake)
        logs = {"d_loss": loss.item(), "d_real": real.mean().item(), "d_fake": fake.mean().item()}
        return StepResult(loss, logs)

    # evaluation and export

    @staticmethod
    def _settle(g: nn.Module) -> VideoGenerator:
        """The moving average with batch-norm statistics of its own (the loop copies the
        training generator's into it, which can make every latent paint the same clip)."""
        assert isinstance(g, VideoGenerator)
        standing_statistics(g)
        return g

    @torch.no_grad()
    def validate(self, g: nn.Module, device: torch.device) -> dict[str, float]:
        g = self._settle(g)
        streams = g(self._val_z.to(device))
        video = streams.video
        logs = {
            "val_mask": round(streams.mask.mean().item(), 4),
            "val_motion": round(torch.diff(video, dim=1).abs().mean().item(), 5),
            "val_motion_in_mask": round(motion_share_in_mask(video, streams.mask), 4),
        }
        if self._n_animate:
            stills = torch.from_numpy(self._val_real[0][:, 0]).to(device)
            animated = g(g.encode(stills)).video
            logs["val_recon"] = round(F.l1_loss(animated[:, 0], stills).item(), 4)
        return logs

    @torch.no_grad()
    def sample_sheet(self, g: nn.Module, device: torch.device, path: str) -> None:
        """A PNG, one row per validation latent: composite | foreground | mask | background."""
        save_image(labelled_sheet(self._settle(g)(self._val_z.to(device))), path)

    def export(self, g: nn.Module, path: str, meta: dict[str, str]) -> None:
        save_weights(self._settle(g), path, self.model_config.to_dict(), **meta)
