"""Clean and paired training clips, sampled from folders of videos and images.

Everything is decoded once and held in memory at a bounded size (the corpora here are small);
a clip is a random crop of consecutive frames of a video, or of a still image seen by a slowly
panning camera, so stills teach the temporal model too.

    >>> source = ClipSource(["corpus/train"])
    >>> clip = source.sample(rng, length=3, size=128)   # float32 (3, 128, 128, 3) in [0, 1]
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import cv2
import numpy as np

from vidgan.errors import InputError
from vidgan.video.reader import VideoReader

log = logging.getLogger(__name__)

VIDEO_EXTS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".ts")
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _fit(image: np.ndarray, max_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def read_image(path: str, max_side: int) -> np.ndarray:
    """uint8 RGB (H, W, 3); gray and alpha images are made RGB."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise InputError("not a readable image", path)
    return _fit(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), max_side)


def read_video(path: str, max_side: int, max_frames: int) -> np.ndarray:
    """uint8 RGB (T, H, W, 3), the first ``max_frames`` frames."""
    frames = []
    with VideoReader(path) as reader:
        for frame in reader:
            frames.append(_fit(frame.image, max_side))
            if len(frames) >= max_frames:
                break
    return np.stack(frames)


def list_media(folder: str) -> list[str]:
    """Videos and images in ``folder`` and below, sorted."""
    if not os.path.isdir(folder):
        raise InputError("not a folder", folder)
    found = []
    for root, _, files in os.walk(folder):
        for name in files:
            if name.lower().endswith(VIDEO_EXTS + IMAGE_EXTS):
                found.append(os.path.join(root, name))
    return sorted(found)


def load_media(path: str, max_side: int, max_frames: int) -> np.ndarray:
    """A video as (T, H, W, 3), an image as (1, H, W, 3); uint8 RGB."""
    if path.lower().endswith(VIDEO_EXTS):
        return read_video(path, max_side, max_frames)
    return read_image(path, max_side)[None]


@dataclass(frozen=True)
class Crop:
    """Where a clip is cut from its media: start frame, stride, position and motion, flips."""

    start: int
    stride: int
    top: float
    left: float
    dy: float
    dx: float
    flip: bool
    rot: int
    span: int  # side of the square cut from the media, area-resized to the clip's size


def _plan(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    length: int,
    size: int,
    max_stride: int,
    zoom_out: float = 0.0,
) -> Crop:
    frames, h, w = shape[:3]
    # with probability ``zoom_out``, a wider view (up to the whole picture) scaled down to size
    room = min(h, w) / size
    span = int(size * rng.uniform(1.0, room)) if room > 1 and rng.random() < zoom_out else size
    still = frames == 1
    stride = 1 if still else int(rng.integers(1, max_stride + 1))
    stride = max(1, min(stride, (frames - 1) // max(1, length - 1))) if not still else 1
    start = 0 if still else int(rng.integers(0, max(1, frames - (length - 1) * stride)))
    # a still gets a slow pan; a video's own motion is kept
    speed = 2.0 if still else 0.0
    dy, dx = rng.uniform(-speed, speed, 2) if still else (0.0, 0.0)
    travel_y, travel_x = abs(dy) * (length - 1), abs(dx) * (length - 1)
    top = rng.uniform(travel_y * (dy < 0), max(travel_y * (dy < 0), h - span - travel_y * (dy > 0)))
    left = rng.uniform(
        travel_x * (dx < 0), max(travel_x * (dx < 0), w - span - travel_x * (dx > 0))
    )
    flip, rot = bool(rng.random() < 0.5), int(rng.integers(0, 4))
    return Crop(start, stride, top, left, dy, dx, flip, rot, span)


def _cut(media: np.ndarray, crop: Crop, length: int, size: int) -> np.ndarray:
    frames, h, w = media.shape[:3]
    span = crop.span
    out = np.empty((length, size, size, 3), np.uint8)
    for t in range(length):
        src = media[min(frames - 1, crop.start + t * crop.stride)]
        y = int(round(min(max(crop.top + crop.dy * t, 0), max(0, h - span))))
        x = int(round(min(max(crop.left + crop.dx * t, 0), max(0, w - span))))
        patch = src[y : y + span, x : x + span]
        if patch.shape[:2] != (size, size):  # a wider view, or media smaller than the crop
            smaller = patch.shape[0] > size and patch.shape[1] > size
            patch = cv2.resize(
                patch, (size, size), interpolation=cv2.INTER_AREA if smaller else cv2.INTER_LINEAR
            )
        if crop.flip:
            patch = patch[:, ::-1]
        out[t] = np.rot90(patch, crop.rot)
    return out


class ClipSource:
    """Clean clips from every video and image under some folders."""

    def __init__(self, folders: list[str], *, max_side: int = 640, max_frames: int = 300) -> None:
        paths = [p for folder in folders for p in list_media(folder)]
        if not paths:
            raise InputError("no videos or images found", ", ".join(folders))
        self.paths = paths
        self.media = [load_media(p, max_side, max_frames) for p in paths]
        frames = sum(len(m) for m in self.media)
        log.info("%d files, %d frames in memory", len(paths), frames)
        # videos are drawn in proportion to their length, stills as one frame each
        weights = np.array([max(1.0, len(m) / 10) for m in self.media])
        self._weights = weights / weights.sum()

    def sample(
        self,
        rng: np.random.Generator,
        length: int,
        size: int,
        max_stride: int = 2,
        zoom_out: float = 0.0,
    ) -> np.ndarray:
        """float32 (length, size, size, 3) in [0, 1]. With probability ``zoom_out`` the clip
        shows a wider part of the picture (up to all of it), area-scaled down to ``size``."""
        media = self.media[int(rng.choice(len(self.media), p=self._weights))]
        crop = _plan(rng, media.shape, length, size, max_stride, zoom_out)
        return _cut(media, crop, length, size).astype(np.float32) / 255


class PairedSource:
    """Pairs of degraded and reference media with the same names in two folders."""

    def __init__(
        self, raw: str, reference: str, *, max_side: int = 640, max_frames: int = 300
    ) -> None:
        raws = {os.path.splitext(os.path.relpath(p, raw))[0]: p for p in list_media(raw)}
        refs = {
            os.path.splitext(os.path.relpath(p, reference))[0]: p for p in list_media(reference)
        }
        names = sorted(raws.keys() & refs.keys())
        if not names:
            raise InputError(f"no files with the same names in {raw} and {reference}", raw)
        self.pairs = []
        for name in names:
            a = load_media(raws[name], max_side, max_frames)
            b = load_media(refs[name], max_side, max_frames)
            n = min(len(a), len(b))
            (ha, wa), (hb, wb) = a.shape[1:3], b.shape[1:3]
            if abs(wa / ha - wb / hb) > 0.02 * wa / ha:
                raise InputError(
                    f"{wa}x{ha} and its reference {refs[name]} ({wb}x{hb}) are not the same "
                    "picture: their shapes differ",
                    raws[name],
                )
            if len(a) != len(b):
                log.warning(
                    "%s: %d frames, its reference %d; training uses the first %d",
                    raws[name], len(a), len(b), n,
                )  # fmt: skip
            if a.shape[1:] != b.shape[1:]:
                b = np.stack(
                    [cv2.resize(f, a.shape[2:0:-1], interpolation=cv2.INTER_AREA) for f in b]
                )
            self.pairs.append((a[:n], b[:n]))

    def sample(
        self, rng: np.random.Generator, length: int, size: int, max_stride: int = 2
    ) -> tuple[np.ndarray, np.ndarray]:
        """(raw, reference), each float32 (length, size, size, 3) in [0, 1], cut alike."""
        a, b = self.pairs[int(rng.integers(len(self.pairs)))]
        crop = _plan(rng, a.shape, length, size, max_stride)
        return (
            _cut(a, crop, length, size).astype(np.float32) / 255,
            _cut(b, crop, length, size).astype(np.float32) / 255,
        )
