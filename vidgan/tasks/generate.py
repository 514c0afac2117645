"""`vidgan generate` and `vidgan animate`: short synthetic clips from the two-stream video GAN
(Vondrick et al., "Generating Videos with Scene Dynamics", 2016).

Clip i of a run is painted from a latent drawn from the seed and i alone, so ``seed=3, n=8``
starts with the same four clips as ``seed=3, n=4``. Beside the clips goes one PNG sheet with,
for every clip, frames of the composite, the foreground, the mask and the background: what
each of the two streams learned.

>>> import vidgan
>>> result = vidgan.generate("out/", n=8, seed=1)        # out/clip_000.mp4 ... + out/sheet.png
>>> result = vidgan.animate("photo.png", "photo.mp4")    # the photo's predicted future
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import cv2
import numpy as np
import torch
from torchvision.utils import save_image

from vidgan.engine.device import select_device
from vidgan.errors import InputError, OutputError
from vidgan.models.video_gan import Streams, labelled_sheet
from vidgan.models.weights import load_generator
from vidgan.video import VideoWriter, WriterSettings
from vidgan.video.colour import RANGE_MPEG, SPC_UNSPECIFIED, resolve_colour
from vidgan.video.writer import CONTAINERS, check_output_path

log = logging.getLogger(__name__)

MAX_FRAMES = 1024  # longer clips are refused: they extrapolate far beyond the trained length
EMBEDDED_ANIMATE_CAVEAT = (
    "the embedded model does not animate photographs usefully yet: its encoder was trained "
    "for 78 CPU minutes on procedural clips of 32x32, and its first frames are no closer to "
    "the still than an untrained encoder's (see vidgan/weights/generate.md); train your own "
    "with `vidgan train generate` and pass --weights"
)


@dataclass
class GenerateResult:
    """What a call wrote."""

    clips: list[str]
    sheet: str | None
    frames: int
    seconds: float
    extra: list[str] = field(default_factory=list)  # the interpolation clip, when asked for


def latents(seed: int, count: int, size: int, first: int = 0) -> torch.Tensor:
    """(count, size) standard normal latents; latent i depends on (seed, first + i) only."""
    rows = [np.random.default_rng([seed, first + i]).standard_normal(size) for i in range(count)]
    return torch.from_numpy(np.stack(rows).astype(np.float32))


def slerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """(steps, D) points on the great circle from a to b, (D,) each, scaled linearly between
    their norms: the path keeps the norm that Gaussian latents have, unlike a straight line."""
    na, nb = a.norm(), b.norm()
    ua, ub = a / na, b / nb
    omega = torch.arccos((ua * ub).sum().clamp(-1, 1))
    t = torch.linspace(0, 1, steps)[:, None]
    if omega < 1e-6:
        direction = ua.expand(steps, -1)
    else:
        direction = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / torch.sin(omega)
    return direction * (na + (nb - na) * t)


def _check_frames(frames: int | None) -> None:
    if frames is not None and not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames must be from 1 to {MAX_FRAMES} (got {frames})")


def _to_uint8(video: torch.Tensor) -> np.ndarray:
    """(T, 3, H, W) in [0, 1] -> uint8 (T, H, W, 3): the one place clips leave the model."""
    return (video.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def write_clip(
    video: torch.Tensor, path: str, fps: int, settings: WriterSettings = WriterSettings()
) -> str:
    """Encode (T, 3, H, W) in [0, 1] to ``path`` through vidgan's writer; returns the path."""
    frames = _to_uint8(video)
    h, w = frames.shape[1:3]
    colour = resolve_colour(SPC_UNSPECIFIED, RANGE_MPEG, 2, 2, h, "yuv420p")
    with VideoWriter(
        path,
        width=w,
        height=h,
        time_base=Fraction(1, fps),
        rate=Fraction(fps),
        colour=colour,
        settings=settings,
    ) as writer:
        for t, image in enumerate(frames):
            writer.write(np.ascontiguousarray(image), t, 1)
    return writer.path


def save_sheet(streams: Streams, path: str) -> None:
    """`labelled_sheet` as a PNG, written whole or not at all."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.png")
    save_image(labelled_sheet(streams), tmp)
    os.replace(tmp, path)


# what `generate` writes into its folder; videos of these names are its own
_CLIP_NAME = re.compile(rf"(clip_\d{{3,}}|interpolation)\.({'|'.join(CONTAINERS)})")


def _out_paths(folder: str, n: int, ext: str, interpolate: bool, overwrite: bool) -> list[str]:
    """Every file a run will write, all checked before any work is done.

    Clips and walks that an earlier run wrote into the folder (``clip_NNN.*``,
    ``interpolation.*``) and that this run would not replace count as this run's outputs too:
    they are refused without ``overwrite`` and removed with it, so that the folder never mixes
    two runs' clips.
    """
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError("is a file; give a folder for the clips", folder)
    os.makedirs(folder, exist_ok=True)
    names = [f"clip_{i:03d}.{ext}" for i in range(n)]
    names += [f"interpolation.{ext}"] if interpolate else []
    paths = [check_output_path(os.path.join(folder, name), overwrite=overwrite) for name in names]
    sheet_path = os.path.join(folder, "sheet.png")
    if os.path.exists(sheet_path) and not overwrite:
        raise OutputError("already exists (use -y/--overwrite to replace it)", sheet_path)
    stale = [
        os.path.join(folder, name)
        for name in sorted(os.listdir(folder))
        if _CLIP_NAME.fullmatch(name) and name not in names
    ]
    stale = [p for p in stale if os.path.isfile(p)]
    if stale and not overwrite:
        raise OutputError(
            "holds clips of an earlier run (use -y/--overwrite to replace them)", stale[0]
        )
    for p in stale:
        os.remove(p)
        log.info("removed %s, from an earlier run", p)
    return paths


@contextlib.contextmanager
def _all_or_nothing(paths: list[str], folder: str, made: bool) -> Iterator[None]:
    """On any failure or interruption inside, remove what the run wrote (``paths``, and the
    ``folder`` if the run ``made`` it and nothing else went there), then re-raise. An earlier
    run's sheet goes too: its clips were already replaced or removed."""
    try:
        yield
    except BaseException:
        for p in paths:
            with contextlib.suppress(FileNotFoundError):
                os.remove(p)
        if made:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


def generate(
    folder: str,
    n: int = 8,
    *,
    seed: int = 0,
    frames: int | None = None,
    fps: int = 16,
    weights: str | None = None,
    device: str = "auto",
    batch: int = 16,
    interpolate: bool = False,
    steps: int = 8,
    ext: str = "mp4",
    settings: WriterSettings = WriterSettings(),
    on_clip: Callable[[int, int], None] | None = None,
) -> GenerateResult:
    """Write ``n`` clips (``clip_000.mp4`` ...) and ``sheet.png`` into ``folder``.

    ``frames`` defaults to the length the weights were trained for; other lengths extend the
    foreground's motion and are less tested. ``interpolate`` adds ``interpolation.mp4``:
    ``steps`` clips on the path from clip 0's latent to clip 1's, side by side, left to right.
    ``on_clip(done, total)`` reports progress.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1 (got {n})")
    _check_frames(frames)
    started = time.perf_counter()
    g = load_generator(weights).to(select_device(device))  # before the folder is made
    made = not os.path.isdir(folder)
    paths = _out_paths(folder, n, ext, interpolate, settings.overwrite)
    sheet_path = os.path.join(folder, "sheet.png")
    with _all_or_nothing([*paths, sheet_path], folder, made):
        dev = next(g.parameters()).device
        z = latents(seed, n, g.config.latent)
        log.info("generating %d clips of %d frames, seed %d", n, frames or g.config.frames, seed)

        # the clips, in batches
        shown: list[Streams] = []
        with torch.no_grad():
            for start in range(0, n, batch):
                out = g(z[start : start + batch].to(dev), frames)
                for i, video in enumerate(out.video):
                    write_clip(video, paths[start + i], fps, settings)
                    if on_clip is not None:
                        on_clip(start + i + 1, n)
                if start < 16:  # the sheet shows at most 16 clips
                    shown.append(Streams(*(t[: 16 - start].cpu() for t in out)))

            # the walk between two latents
            extra = []
            if interpolate:
                other = z[1] if n > 1 else latents(seed, 1, g.config.latent, first=1)[0]
                walk = g(slerp(z[0], other, steps).to(dev), frames).video  # (S, T, 3, H, W)
                strip = torch.cat(list(walk), dim=-1)  # (T, 3, H, S·W)
                extra.append(write_clip(strip, paths[-1], fps, settings))

        save_sheet(Streams(*(torch.cat(parts) for parts in zip(*shown, strict=True))), sheet_path)
        t = frames or g.config.frames
        return GenerateResult(paths[:n], sheet_path, t, time.perf_counter() - started, extra)


def load_still(path: str, size: int) -> torch.Tensor:
    """(1, 3, size, size) in [0, 1]: the image's centre square, resized."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise InputError("not a readable image", path)
    h, w = image.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    square = cv2.resize(
        image[y : y + side, x : x + side], (size, size), interpolation=cv2.INTER_AREA
    )
    rgb = cv2.cvtColor(square, cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255


def animate(
    image: str,
    output: str,
    *,
    frames: int | None = None,
    fps: int = 16,
    weights: str | None = None,
    device: str = "auto",
    settings: WriterSettings = WriterSettings(),
) -> GenerateResult:
    """Write ``output``: the generator's prediction of the future of the still ``image``.

    The image's centre square is resized to the model's size (32x32 for the default) and
    encoded into a latent; the clip painted from it starts at the image. Also writes
    ``output``'s name + ``.sheet.png`` with the streams.
    """
    _check_frames(frames)
    started = time.perf_counter()
    if not os.path.exists(image):
        raise InputError("no such file", image)
    path = check_output_path(output, source=image, overwrite=settings.overwrite)
    sheet_path = os.path.splitext(path)[0] + ".sheet.png"
    if os.path.exists(sheet_path) and not settings.overwrite:
        raise OutputError("already exists (use -y/--overwrite to replace it)", sheet_path)
    if os.path.exists(sheet_path) and os.path.samefile(sheet_path, image):
        raise OutputError("is the input image; choose another output name", sheet_path)
    g = load_generator(weights).to(select_device(device))
    if g.encoder is None:
        raise InputError("these weights have no image encoder; train with the encoder", weights)
    dev = next(g.parameters()).device
    still = load_still(image, g.config.size).to(dev)
    if weights is None:
        warnings.warn(EMBEDDED_ANIMATE_CAVEAT, stacklevel=2)
    with torch.no_grad():
        out: Streams = g(g.encode(still), frames)
    write_clip(out.video[0], path, fps, settings)
    save_sheet(Streams(*(t.cpu() for t in out)), sheet_path)
    return GenerateResult([path], sheet_path, out.video.shape[1], time.perf_counter() - started)
