"""Procedural clips for the video GAN: moving shapes over real still backgrounds, with the
true foreground mask of every frame.

The backgrounds are photographs that ship inside Python packages (scikit-image's sample
data, and scikit-learn's and matplotlib's where installed), found on disk at run time, so
nothing is downloaded. Each clip holds one of them still and moves one or two objects over
it: discs, squares and diamonds of one bold colour, travelling in a straight line at constant
speed and bouncing off the borders.

The content is kept simple on purpose, so that the default generator learns it in about
ninety minutes on one CPU core: by default a background is the whole centre square of a
photograph or its mirror image (eight photographs give sixteen backgrounds, which a small
background stream can learn to paint), and objects are solid colours. ``ProceduralConfig``
turns on random crops (``fixed_backgrounds=False``) and striped or checkered objects
(``textured=True``) for a harder source. The known masks let the evaluation check that the
generator's own mask follows what moves.

    >>> source = ProceduralSource()
    >>> clip, mask = source.sample(rng, length=32, size=64)
    >>> clip.shape, mask.shape   # float32 (32, 64, 64, 3) and (32, 64, 64), both in [0, 1]
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass

import cv2
import numpy as np

from vidgan.data.clips import read_image
from vidgan.errors import InputError

log = logging.getLogger(__name__)

# colour photographs shipped by packages: (package, folder inside it, file names)
SAMPLE_IMAGES = (
    ("skimage", "data", ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")),
    ("skimage", "data", ("motorcycle_left.png",)),
    ("sklearn", "datasets/images", ("china.jpg", "flower.jpg")),
    ("matplotlib", "mpl-data/sample_data", ("grace_hopper.jpg",)),
)


def sample_image_paths() -> list[str]:
    """The sample photographs found in the installed packages, without importing them."""
    found = []
    for package, folder, names in SAMPLE_IMAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = os.path.join(list(spec.submodule_search_locations)[0], folder)
        found += [os.path.join(root, n) for n in names if os.path.exists(os.path.join(root, n))]
    return found


@dataclass(frozen=True)
class ProceduralConfig:
    """What the clips hold. Sizes and speeds are fractions of the frame side."""

    max_images: int = 8  # backgrounds come from the first few sample images found
    fixed_backgrounds: bool = True  # the centre square or its mirror; else a random crop
    min_crop: float = 0.6  # a random crop's side, as a share of the shorter side, or more
    textured: bool = False  # objects may be striped or checkered, not only solid
    max_objects: int = 2
    radius: tuple[float, float] = (0.12, 0.2)
    speed: tuple[float, float] = (0.02, 0.05)  # per frame


class ProceduralSource:
    """Clips of moving shapes over real stills, each with its true foreground mask."""

    def __init__(self, config: ProceduralConfig = ProceduralConfig(), max_side: int = 256) -> None:
        paths = sample_image_paths()[: config.max_images]
        if not paths:
            raise InputError(
                "the procedural source needs sample photographs from scikit-image, scikit-learn "
                "or matplotlib; install one of them (pip install scikit-image)"
            )
        self.config = config
        self.paths = paths
        self.images = [read_image(p, max_side) for p in paths]
        log.info("procedural backgrounds: %s", ", ".join(os.path.basename(p) for p in paths))

    def background(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """float32 (size, size, 3) in [0, 1]: a square crop of a random sample image (its
        centre square, or a random one), mirrored half the time."""
        image = self.images[int(rng.integers(len(self.images)))]
        h, w = image.shape[:2]
        if self.config.fixed_backgrounds:
            side = min(h, w)
            y, x = (h - side) // 2, (w - side) // 2
        else:
            side = int(min(h, w) * rng.uniform(self.config.min_crop, 1.0))
            y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = cv2.resize(
            image[y : y + side, x : x + side], (size, size), interpolation=cv2.INTER_AREA
        )
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        return crop.astype(np.float32) / 255

    def sample(
        self, rng: np.random.Generator, length: int, size: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(clip, mask): float32 (length, size, size, 3) and (length, size, size) in [0, 1]."""
        c = self.config
        clip = np.repeat(self.background(rng, size)[None], length, 0)  # (T, H, W, 3)
        mask = np.zeros((length, size, size), np.float32)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5  # pixel centres
        for _ in range(int(rng.integers(1, c.max_objects + 1))):
            radius = rng.uniform(*c.radius) * size
            shape = int(rng.integers(3))
            pattern = _Pattern.draw(rng, radius, c.textured)
            path = _bouncing_path(rng, length, size, radius, c.speed)  # (T, 2)
            for t, (cy, cx) in enumerate(path):
                dy, dx = yy - cy, xx - cx
                inside = _shape(shape, dy, dx, radius)
                clip[t][inside] = pattern.fill(dy, dx)[inside]
                mask[t][inside] = 1.0
        return clip, mask


def _shape(kind: int, dy: np.ndarray, dx: np.ndarray, r: float) -> np.ndarray:
    """Boolean (H, W): a disc, a square or a diamond of half-size r around the offsets' origin."""
    if kind == 0:
        return dy**2 + dx**2 <= r * r
    if kind == 1:
        return np.maximum(abs(dy), abs(dx)) <= r * 0.85
    return abs(dy) + abs(dx) <= r * 1.2


@dataclass(frozen=True)
class _Pattern:
    """An object's surface: a saturated solid colour, or (textured) stripes or a checker of two
    colours."""

    kind: int
    a: np.ndarray
    b: np.ndarray
    period: float

    @staticmethod
    def draw(rng: np.random.Generator, r: float, textured: bool) -> _Pattern:
        a, b = _bright_colour(rng), _bright_colour(rng) * 0.4
        return _Pattern(int(rng.integers(3)) if textured else 0, a, b, max(2.0, r / 2))

    def fill(self, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
        """float32 (H, W, 3) from offsets to the object's centre: the pattern moves with it."""
        if self.kind == 0:
            return np.broadcast_to(self.a, (*dy.shape, 3))
        if self.kind == 1:
            on = (dy // self.period) % 2 == 0
        else:
            on = ((dy // self.period) + (dx // self.period)) % 2 == 0
        return np.where(on[..., None], self.a, self.b).astype(np.float32)


def _bright_colour(rng: np.random.Generator) -> np.ndarray:
    hue = rng.uniform(0, 180)
    hsv = np.array([[[hue, 230, 255]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255


def _bouncing_path(
    rng: np.random.Generator, length: int, size: int, r: float, speed: tuple[float, float]
) -> np.ndarray:
    """(T, 2) centres (y, x) of a straight constant-speed path reflected at the borders."""
    lo, hi = r, size - r
    start = rng.uniform(lo, hi, 2)
    angle = rng.uniform(0, 2 * np.pi)
    v = rng.uniform(*speed) * size * np.array([np.sin(angle), np.cos(angle)])
    raw = start[None] + np.arange(length)[:, None] * v[None] - lo  # unfolded, from lo
    span = hi - lo
    folded = np.mod(raw, 2 * span)
    return lo + np.where(folded > span, 2 * span - folded, folded)
