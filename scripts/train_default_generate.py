"""Train the embedded default of `vidgan generate`, from nothing, on one CPU core.

    python scripts/train_default_generate.py --out /work/runs/generate-default --install

trains the two-stream video GAN at 16 frames of 32x32 (the architecture is the one that makes
32 frames of 64x64 on a GPU, with one stage fewer) on the procedural source (bold shapes moving
over sixteen fixed backgrounds from scikit-image's, scikit-learn's and matplotlib's sample
photographs; `pip install scikit-image`), then, with --install, copies the moving average of
the generator into vidgan/weights/generate.safetensors. It runs on one thread so that it takes
one core whatever the machine has; its 11000 steps took 4652 s (78 min) on the 2-core
development machine, the other core busy with another training (0.42 s a step). The run
resumes if interrupted; rerunning a finished run only exports and installs.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import time

import torch

from vidgan.data.procedural import ProceduralSource
from vidgan.models.video_gan import GenerateConfig
from vidgan.train.gan import TrainSettings, train
from vidgan.train.generate import GenerateTask, GenerateTrainConfig, ProceduralClips

# 16 frames of 32x32, z of 100, widths 8 (foreground), 32 (background), 16 (discriminator)
DEFAULT = GenerateConfig(frames=16, size=32, width=8, bg_width=32, d_width=16)
WEIGHTS = os.path.join(os.path.dirname(__file__), "..", "vidgan", "weights", "generate.safetensors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/generate-default")
    parser.add_argument("--steps", type=int, default=11000)
    parser.add_argument("--lr-g", type=float, default=2e-4)
    parser.add_argument("--lr-d", type=float, default=4e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--install", action="store_true", help="copy into vidgan/weights/")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)

    model = DEFAULT
    task = GenerateTask(
        ProceduralClips(ProceduralSource(), model.frames, model.size),
        model=model,
        config=GenerateTrainConfig(batch=16),
    )
    settings = TrainSettings(
        out=args.out,
        steps=args.steps,
        lr_g=args.lr_g,  # the paper's Adam, with the discriminator twice as fast (TTUR)
        lr_d=args.lr_d,
        betas=(0.5, 0.999),
        ema=0.999,
        log_every=50,
        sample_every=250,
        checkpoint_every=250,
        device="cpu",
    )

    def show(step: int, logs: dict[str, float]) -> None:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in logs.items() if k != "step")
        logging.info("step %d: %s", step, shown)

    started = time.perf_counter()
    path = train(task, settings, on_step=show)
    logging.info("trained in %.0f s: %s", time.perf_counter() - started, path)
    if args.install:
        shutil.copyfile(path, WEIGHTS)
        logging.info("installed %s", os.path.abspath(WEIGHTS))


if __name__ == "__main__":
    main()
