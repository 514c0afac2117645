"""Measure the video GAN against held-out procedural clips, with an untrained generator as floor.

    python scripts/eval_generate.py                       # the embedded default
    python scripts/eval_generate.py --weights runs/g/generator.safetensors --json figures.json

(a) Classifier two-sample test: a fresh small 3D CNN is trained for a fixed number of steps to
    tell real clips from generated ones, and its accuracy on clips it never saw is reported:
    50% means it cannot tell them apart, 100% that it always can. One critic on one held-out
    set of 96 clips is a noisy judge, so the figure is the mean over ``--critic-seeds`` critics
    (each seed changes the critic's initialisation and batches), each seed's figure beside it.
(b) Motion: optical-flow magnitudes (OpenCV's Farneback) over all pixels and frame pairs, their
    mean, 90th and 99th percentiles, the share of pixels moving more than half a pixel, and the
    Wasserstein-1 distance between the generated and the real distributions.
(c) Masks: the share of the clips' temporal variance that falls inside the generator's mask
    (1: everything that changes is in the mask), the mean change of the composite where the
    mask stays below 0.5 (0: a still background), and the mask's mean coverage, next to the
    same figures for the real clips with their true masks.
(d) Diversity: the mean L1 distance between clips of different seeds, and between their
    backgrounds, next to the same for real clips; a collapsed generator scores near 0.
(e) Speed: milliseconds per clip of the weights' own size, and per 32-frame 64x64 clip of the
    same architecture at that size (the paper's; speed does not depend on the weights),
    generated in batches of 16 on this CPU.
(f) Animation: the L1 between an animated still and the clip's first frame, and how much the
    animated clips move.

Real clips come from the procedural source drawn with seeds the training never used (its
backgrounds are the same photographs), at the weights' own clip length and size. The trained
and the untrained generator face the same real clips and the same critic initialisation and
batches. Everything is seeded; one run takes a few minutes on
two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidgan.data.procedural import ProceduralSource
from vidgan.models.video_gan import GenerateConfig, VideoGenerator, standing_statistics
from vidgan.models.weights import load_generator
from vidgan.tasks.generate import latents
from vidgan.train.generate import ProceduralClips, background_stillness, motion_share_in_mask

HELD_OUT_SEED = 987_654  # the training draws from seed 0 and 10_000 + seed


def real_clips(config: GenerateConfig, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(clips (N, T, 3, H, W), masks (N, T, 1, H, W)) from the procedural source."""
    clips, masks = ProceduralClips(ProceduralSource(), config.frames, config.size).draw(
        np.random.default_rng(seed), n
    )
    assert masks is not None
    return torch.from_numpy(clips), torch.from_numpy(masks)


@torch.no_grad()
def paint(g: VideoGenerator, n: int, seed: int, batch: int = 16) -> tuple[torch.Tensor, ...]:
    """(video, foreground, mask, background) for n latents of ``seed``."""
    z = latents(seed, n, g.config.latent)
    parts = [g(z[i : i + batch]) for i in range(0, n, batch)]
    return tuple(torch.cat(p) for p in zip(*parts, strict=True))


# (a) classifier two-sample test


class Critic(nn.Module):
    """A small 3D CNN: (B, T, 3, H, W) -> (B,) logits of 'real'."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv3d(3, w, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv3d(w, 2 * w, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv3d(2 * w, 4 * w, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool3d(1),
        )
        self.head = nn.Linear(4 * w, 1)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.body(clip.transpose(1, 2) * 2 - 1)  # (B, C, 1, 1, 1)
        return self.head(x.flatten(1))[:, 0]


def two_sample_accuracy(
    real: torch.Tensor, fake: torch.Tensor, steps: int, seed: int, batch: int = 32
) -> float:
    """Held-out accuracy of a fresh critic trained on the first 2/3 of each set."""
    torch.manual_seed(seed)
    cut_r, cut_f = len(real) * 2 // 3, len(fake) * 2 // 3
    x_train = torch.cat([real[:cut_r], fake[:cut_f]])
    y_train = torch.cat([torch.ones(cut_r), torch.zeros(cut_f)])
    x_test = torch.cat([real[cut_r:], fake[cut_f:]])
    y_test = torch.cat([torch.ones(len(real) - cut_r), torch.zeros(len(fake) - cut_f)])
    critic = Critic()
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = torch.from_numpy(rng.choice(len(x_train), batch, replace=False))
        loss = F.binary_cross_entropy_with_logits(critic(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        guess = torch.cat([critic(x_test[i : i + 64]) for i in range(0, len(x_test), 64)]) > 0
    return float((guess.float() == y_test).float().mean())


# (b) motion


def flow_magnitudes(clips: torch.Tensor) -> np.ndarray:
    """All per-pixel optical-flow magnitudes (pixels per frame) of (N, T, 3, H, W) clips."""
    frames = (clips.clamp(0, 1) * 255).byte().permute(0, 1, 3, 4, 2).numpy()  # (N, T, H, W, 3)
    out = []
    for clip in frames:
        gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in clip]
        for a, b in zip(gray[:-1], gray[1:], strict=True):
            flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 2, 9, 3, 5, 1.1, 0)
            out.append(np.linalg.norm(flow, axis=-1).ravel())
    return np.concatenate(out)


def motion_figures(mags: np.ndarray, real: np.ndarray | None) -> dict[str, float]:
    figures = {
        "flow_mean": float(mags.mean()),
        "flow_p90": float(np.percentile(mags, 90)),
        "flow_p99": float(np.percentile(mags, 99)),
        "moving_share": float((mags > 0.5).mean()),
    }
    if real is not None:
        q = np.linspace(0, 100, 1001)
        figures["flow_w1_to_real"] = float(
            np.abs(np.percentile(mags, q) - np.percentile(real, q)).mean()
        )
    return figures


# (d) diversity


def mean_pairwise_l1(x: torch.Tensor) -> float:
    """Mean L1 between all pairs of the N items of x, (N, ...)."""
    flat = x.flatten(1).float()
    return float(torch.cdist(flat, flat, p=1).sum() / (len(x) * (len(x) - 1)) / flat.shape[1])


def evaluate(
    g: VideoGenerator,
    real: torch.Tensor,
    real_mags: np.ndarray,
    n: int,
    critic_steps: int,
    critic_seeds: int,
) -> dict[str, float]:
    video, _, mask, background = paint(g, n, seed=1)
    accuracies = {
        f"c2st_accuracy_seed{s}": two_sample_accuracy(real, video, critic_steps, seed=s)
        for s in range(critic_seeds)
    }
    figures = {
        "c2st_accuracy": float(np.mean(list(accuracies.values()))),
        **accuracies,
        **motion_figures(flow_magnitudes(video[:32]), real_mags),
        "motion_in_mask": motion_share_in_mask(video, mask),
        "background_change": background_stillness(video, mask),
        "mask_coverage": float(mask.mean()),
        "diversity_clips": mean_pairwise_l1(video[:64]),
        "diversity_backgrounds": mean_pairwise_l1(background[:64]),
    }
    return figures


@torch.no_grad()
def animation_figures(g: VideoGenerator, real: torch.Tensor) -> dict[str, float]:
    if g.encoder is None:
        return {}
    stills = real[:64, 0]
    video = g(g.encode(stills)).video
    return {
        "animate_first_frame_l1": float((video[:, 0] - stills).abs().mean()),
        "animate_motion": float(torch.diff(video, dim=1).abs().mean()),
        "animate_motion_real": float(torch.diff(real[:64], dim=1).abs().mean()),
    }


@torch.no_grad()
def ms_per_clip(g: VideoGenerator, batch: int = 16, repeats: int = 5) -> float:
    z = torch.randn(batch, g.config.latent)
    g(z)  # warm up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        g(z)
        best = min(best, time.perf_counter() - started)
    return 1000 * best / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="generator weights [default: embedded]")
    parser.add_argument("--clips", type=int, default=144, help="real and generated clips each")
    parser.add_argument("--critic-steps", type=int, default=100)
    parser.add_argument("--critic-seeds", type=int, default=3, help="critics to average [3]")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    trained = load_generator(args.weights)
    torch.manual_seed(0)
    untrained = VideoGenerator(trained.config)
    standing_statistics(untrained)  # its own batch statistics, as the trained one has
    real, real_masks = real_clips(trained.config, args.clips, HELD_OUT_SEED)
    real_mags = flow_magnitudes(real[:32])

    results: dict[str, dict[str, float]] = {
        "real": {
            **motion_figures(real_mags, None),
            "motion_in_mask": motion_share_in_mask(real, real_masks),
            "background_change": background_stillness(real, real_masks),
            "mask_coverage": float(real_masks.mean()),
            "diversity_clips": mean_pairwise_l1(real[:64]),
            "diversity_backgrounds": mean_pairwise_l1(real[:64, 0]),
        },
        "trained": {
            **evaluate(trained, real, real_mags, args.clips, args.critic_steps, args.critic_seeds),
            **animation_figures(trained, real),
        },
        "untrained": {
            **evaluate(
                untrained, real, real_mags, args.clips, args.critic_steps, args.critic_seeds
            ),
            **animation_figures(untrained, real),
        },
    }
    paper_size = GenerateConfig(**{**trained.config.to_dict(), "frames": 32, "size": 64})
    sized = VideoGenerator(paper_size).eval()
    for name, g in (("trained", trained), ("untrained", untrained), ("32x64x64", sized)):
        results.setdefault(name, {})
        torch.set_num_threads(args.threads)
        results[name]["ms_per_clip"] = ms_per_clip(g)
        torch.set_num_threads(1)
        results[name]["ms_per_clip_1_thread"] = ms_per_clip(g)
    torch.set_num_threads(args.threads)

    keys = sorted({k for figures in results.values() for k in figures})
    print(f"{'figure':28s}" + "".join(f"{name:>12s}" for name in results))
    for k in keys:
        row = "".join(
            f"{results[name][k]:12.4f}" if k in results[name] else f"{'-':>12s}" for name in results
        )
        print(f"{k:28s}{row}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
