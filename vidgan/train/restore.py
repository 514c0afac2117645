"""Training the restoration GAN: synthetic degradations of clean clips, or a user's own pairs.

Each example is a short clip. The generator restores every frame from its window of degraded
frames (the first frame standing in for its own past, as at the start of a stream), and the
losses look at single frames (Charbonnier, SSIM, a PatchGAN) and at the clip as a whole (the
change between frames against the target's, and a 3D discriminator), so flicker costs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.utils import make_grid, save_image

from vidgan.data.clips import ClipSource, PairedSource
from vidgan.data.degrade import degrade_clip, sample_params
from vidgan.models.discriminators import PatchDiscriminator, TemporalDiscriminator
from vidgan.models.restorer import (
    RestoreConfig,
    RestoreGenerator,
    apply_coefficients,
    colour_statistics,
    low_view,
)
from vidgan.models.weights import save_weights
from vidgan.train.gan import StepResult
from vidgan.train.losses import charbonnier, hinge_d, hinge_g, psnr, ssim, temporal_consistency

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestoreTrainConfig:
    """The examples and the weights of the losses."""

    batch: int = 8
    crop: int = 128  # must divide by the generator's scale
    length: int = 3  # frames per training clip
    w_pixel: float = 1.0
    w_ssim: float = 1.0
    w_temporal: float = 2.0
    w_adv: float = 0.01
    w_adv_temporal: float = 0.01
    paired_share: float = 0.5  # of each batch, when both synthetic and paired data are given
    # share of clean clips that show a wider view, scaled down: at work the network sees whole
    # frames, and a picture's colour cast is judged best from all of it
    zoom_out: float = 0.5
    # the global colour head is fitted first, alone, to this many degraded whole pictures
    colour_examples: int = 4096
    colour_steps: int = 3000  # of batch 64; 0 leaves the head at the identity


def windows(clip: torch.Tensor, context: int) -> torch.Tensor:
    """(B, T, C, H, W) -> (B·T, context + 1, C, H, W): each frame with its past, padded at t=0."""
    b, t = clip.shape[:2]
    padded = torch.cat([clip[:, :1].expand(-1, context, -1, -1, -1), clip], 1)
    idx = torch.arange(t)[:, None] + torch.arange(context + 1)[None]  # (T, context + 1)
    return padded[:, idx].reshape(b * t, context + 1, *clip.shape[2:])


def restore_clip(g: nn.Module, degraded: torch.Tensor, context: int) -> torch.Tensor:
    """Run the generator over every frame of (B, T, C, H, W) clips; same shape out."""
    b, t = degraded.shape[:2]
    return g(windows(degraded, context)).reshape(b, t, *degraded.shape[2:])


class RestoreTask:
    """The restoration GAN, for `vidgan.train.gan.train`."""

    def __init__(
        self,
        clean: ClipSource | None,
        paired: PairedSource | None = None,
        *,
        model: RestoreConfig = RestoreConfig(),
        config: RestoreTrainConfig = RestoreTrainConfig(),
        seed: int = 0,
    ) -> None:
        if clean is None and paired is None:
            raise ValueError("training needs clean data, paired data, or both")
        if config.crop % model.scale:
            raise ValueError(f"the crop ({config.crop}) must divide by the scale ({model.scale})")
        self.clean, self.paired = clean, paired
        self.model_config, self.config = model, config
        self.generator = RestoreGenerator(model)
        self.discriminators = nn.ModuleDict(
            {"patch": PatchDiscriminator(), "temporal": TemporalDiscriminator()}
        )
        # the global colour head is trained by `warm_up` only; the GAN trains the rest around it
        self.generator.net.colour.requires_grad_(False)
        # a fixed validation batch, drawn once from its own generator
        self._val = self._examples(np.random.default_rng(10_000 + seed), 8)

    # data

    def _examples(
        self,
        rng: np.random.Generator,
        n: int,
        length: int | None = None,
        zoom_out: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(degraded, target) clips, float32 (N, T, crop, crop, 3) each; ``length`` and
        ``zoom_out`` default to the config's."""
        c = self.config
        length = c.length if length is None else length
        zoom_out = c.zoom_out if zoom_out is None else zoom_out
        degraded, target = [], []
        for _ in range(n):
            use_paired = self.paired is not None and (
                self.clean is None or rng.random() < c.paired_share
            )
            if use_paired:
                assert self.paired is not None
                raw, ref = self.paired.sample(rng, length, c.crop)
            else:
                assert self.clean is not None
                ref = self.clean.sample(rng, length, c.crop, zoom_out=zoom_out)
                raw = degrade_clip(ref, sample_params(rng), rng)
            degraded.append(raw)
            target.append(ref)
        return np.stack(degraded), np.stack(target)

    def warm_up(
        self, g: nn.Module, rng: np.random.Generator, device: torch.device
    ) -> dict[str, float]:
        """Fit the generator's global colour head, alone, before the GAN starts.

        The head maps a picture's colour statistics to one correction for all of it, which is
        what a white balance does. Through the whole GAN it was learnt slowly and poorly (the
        held-out underwater PSNR stayed near the classical baseline's); fitted by itself to
        degraded whole pictures, on an L1 loss at 1/4 of the crop, it is learnt in minutes.

        Returns the L1 before and after.
        """
        c = self.config
        if not (c.colour_steps and c.colour_examples):
            return {}
        assert isinstance(g, RestoreGenerator)
        net = g.net
        head = net.colour
        # single frames of whole pictures (paired media as they come)
        degraded, target = (
            torch.from_numpy(a[:, 0]).permute(0, 3, 1, 2).to(device)
            for a in self._examples(rng, c.colour_examples, length=1, zoom_out=1.0)
        )  # (N, 3, crop, crop)
        stats = colour_statistics(low_view(degraded, self.model_config.scale))
        small, small_t = F.avg_pool2d(degraded, 4), F.avg_pool2d(target, 4)

        def l1(i: torch.Tensor) -> torch.Tensor:
            coef = head(stats[i])[:, :, None, None]  # (B, 12, 1, 1), the same for every cell
            return (apply_coefficients(small[i], net.finish(coef)) - small_t[i]).abs().mean()

        every = torch.arange(len(degraded), device=device)
        with torch.no_grad():
            before = l1(every).item()
        head.requires_grad_(True)
        opt = torch.optim.Adam(head.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        for _ in range(c.colour_steps):
            loss = l1(torch.randint(len(degraded), (64,), generator=gen).to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        head.requires_grad_(False)
        with torch.no_grad():
            after = l1(every).item()
        log.info(
            "colour head fitted to %d whole pictures: L1 %.4f -> %.4f", len(every), before, after
        )
        return {"colour_l1_before": before, "colour_l1_after": after}

    @staticmethod
    def _tensor(x: np.ndarray, device: torch.device) -> torch.Tensor:
        return torch.from_numpy(x).permute(0, 1, 4, 2, 3).contiguous().to(device)  # (B, T, C, H, W)

    def batch(self, rng: np.random.Generator, device: torch.device) -> dict[str, torch.Tensor]:
        degraded, target = self._examples(rng, self.config.batch)
        return {"degraded": self._tensor(degraded, device), "target": self._tensor(target, device)}

    # losses

    def generator_step(
        self, g: nn.Module, ds: nn.ModuleDict, batch: dict[str, torch.Tensor], adversarial: bool
    ) -> StepResult:
        c = self.config
        target = batch["target"]
        out = restore_clip(g, batch["degraded"], self.model_config.context)  # (B, T, C, H, W)
        frames, frames_t = out.flatten(0, 1), target.flatten(0, 1)

        pixel = charbonnier(frames, frames_t)
        structure = 1 - ssim(frames.float(), frames_t.float())
        temporal = temporal_consistency(out, target)
        loss = c.w_pixel * pixel + c.w_ssim * structure + c.w_temporal * temporal
        logs = {"pixel": pixel.item(), "ssim": 1 - structure.item(), "temporal": temporal.item()}
        if adversarial:
            adv = hinge_g(ds["patch"](out[:, -1]))
            adv_t = hinge_g(ds["temporal"](out))
            loss = loss + c.w_adv * adv + c.w_adv_temporal * adv_t
            logs.update(g_adv=adv.item(), g_adv_t=adv_t.item())
        else:
            logs.update(g_adv=float("nan"), g_adv_t=float("nan"))  # the log keeps its columns
        logs["g_loss"] = loss.item()
        return StepResult(loss, logs, {"out": out})

    def discriminator_step(
        self, ds: nn.ModuleDict, batch: dict[str, torch.Tensor], fakes: dict[str, torch.Tensor]
    ) -> StepResult:
        real, fake = batch["target"], fakes["out"]
        # the PatchGAN judges each clip's last frame, the one restored with its full context;
        # the 3D discriminator judges the clip
        d_patch = hinge_d(ds["patch"](real[:, -1]), ds["patch"](fake[:, -1]))
        d_temporal = hinge_d(ds["temporal"](real), ds["temporal"](fake))
        loss = d_patch + d_temporal
        return StepResult(loss, {"d_patch": d_patch.item(), "d_temporal": d_temporal.item()})

    # evaluation and export

    @torch.no_grad()
    def _validation_outputs(
        self, g: nn.Module, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        degraded = self._tensor(self._val[0], device)
        target = self._tensor(self._val[1], device)
        return degraded, restore_clip(g, degraded, self.model_config.context), target

    def validate(self, g: nn.Module, device: torch.device) -> dict[str, float]:
        degraded, out, target = self._validation_outputs(g, device)
        return {
            "val_psnr": round(psnr(out, target), 3),
            "val_psnr_input": round(psnr(degraded, target), 3),
        }

    def sample_sheet(self, g: nn.Module, device: torch.device, path: str) -> None:
        """A PNG with one row per validation clip: degraded | restored | target (last frame)."""
        degraded, out, target = self._validation_outputs(g, device)
        rows = torch.stack([degraded[:, -1], out[:, -1], target[:, -1]], 1).flatten(0, 1)
        size = 192
        rows = F.interpolate(rows.float().cpu(), size=(size, size), mode="nearest")
        save_image(make_grid(rows, nrow=3, padding=2, pad_value=1.0), path)

    def export(self, g: nn.Module, path: str, meta: dict[str, str]) -> None:
        net = g.net if isinstance(g, RestoreGenerator) else g
        save_weights(net, path, self.model_config.to_dict(), **meta)
