"""Score vidgan's restorers on held-out footage with seeded synthetic degradations, and time them.

The held-out items are clips no model was tuned on: by default the first 48 frames of
``samples/bunny.mp4`` at 640x360, and three scikit-image stills (coffee, chelsea, rocket) made
into 24-frame 320x240 clips by a slow pan (about one pixel per frame). Each item is degraded by
``vidgan.data.degrade`` with a fixed list of settings in two groups:

- underwater: one clip per Jerlov water type (I, II, III, 1C, 5C, 9C), parameters drawn by
  ``water_params``, no sensor noise;
- noise: Gaussian read noise of sigma 0.02, 0.04 and 0.06, and sigma 0.02 followed by JPEG at
  quality 40; no water.

Every random draw comes from a generator seeded by (``--seed``, item, setting), so a run is
reproducible and adding a model does not change the degraded clips. Each method sees the
degraded uint8 frames in order, in batches of 4, after ``reset()``: ``input`` (the degraded clip
itself) and every model of ``--models`` that ``vidgan.tasks.restore.MODELS`` holds and that
``MODELS[name]("cpu", "fp32")`` builds here; the others are skipped with a note.

Metrics, averaged over the items and settings of a group:

- PSNR and SSIM against the clean clip (scikit-image, uint8, data range 255), mean over frames;
- flicker: mean absolute difference (0-255 levels) between each output frame and the previous
  output frame warped onto it. The warp is Farneback optical flow computed once on the CLEAN
  clip, so every method is motion-compensated identically; pixels that fail a forward-backward
  consistency check or leave the picture are left out. The clean clip's own figure is the floor;
- UIQM (Panetta, Gao and Agaian, IEEE J. Oceanic Eng. 2016) and UCIQE (Yang and Sowmya, IEEE
  TIP 2015), no-reference underwater quality scores, on every 4th frame; see ``uiqm`` and
  ``uciqe``. Both reward colour and contrast, and UIQM also rewards noise: read them beside the
  full-reference figures, never alone.

The speed part runs ``vidgan restore IN -o OUT -m MODEL -y`` as a subprocess on a 10 s clip
(``samples/bunny.mp4`` looped, video only) at 1280x720 and at 640x360, and reports frames per
second of wall time, start-up included, beside the fps vidgan prints itself. It uses vidgan's
default device and precision ("auto"), as a user's run would.

Usage::

    python scripts/eval_restore.py                      # classic, gan, gan-perframe
    python scripts/eval_restore.py --models classic identity --json eval.json --sheet eval.png
    python scripts/eval_restore.py --clip dive.mp4 --frames 32 --no-stills --no-speed
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import partial
from typing import Any

import cv2
import numpy as np
import skimage.data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vidgan.data.degrade import Params, degrade_clip, water_params
from vidgan.engine.processor import Processor
from vidgan.tasks.restore import MODELS
from vidgan.video import VideoReader, VideoWriter, WriterSettings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNNY = os.path.join(ROOT, "samples", "bunny.mp4")

DEFAULT_MODELS = ("classic", "gan", "gan-perframe")
WATER_TYPES = ("I", "II", "III", "1C", "5C", "9C")
READ_SIGMAS = (0.02, 0.04, 0.06)
JPEG_QUALITY = 40
STILLS = ("coffee", "chelsea", "rocket")
CLIP_SIZE = (640, 360)  # clips are shrunk to fit in this box
PAN_SIZE = (320, 240)
BATCH = 4
NR_STEP = 4  # no-reference metrics on every 4th frame
SPEED_SECONDS = 10.0
SPEED_SIZES = ((640, 360), (1280, 720))
# the sheet's rows: (item index, modulo the item count; setting label)
EXAMPLES = ((0, "III"), (1, "9C"), (2, "read 0.04"), (3, f"read 0.02 + jpeg {JPEG_QUALITY}"))

# the last line `vidgan restore` prints without -q
WROTE = re.compile(
    r"wrote .+: (?P<frames>\d+) frames in (?P<secs>[\d.]+) s \((?P<fps>[\d.]+) fps\)"
)


@dataclass(frozen=True)
class Item:
    """A held-out clean clip: uint8 RGB frames, shape (T, H, W, 3)."""

    name: str
    frames: np.ndarray


@dataclass(frozen=True)
class Setting:
    """One degradation: ``make(rng)`` draws its ``Params`` from the clip's own generator."""

    group: str
    label: str
    make: Callable[[np.random.Generator], Params]


@dataclass
class Evaluation:
    """Everything measured: one record per (item, setting, method), clean references per item."""

    records: list[dict[str, object]] = field(default_factory=list)
    clean: list[dict[str, object]] = field(default_factory=list)
    # (item, setting label, {"clean" | "degraded" | method: uint8 (H, W, 3)}, {method: PSNR})
    examples: list[tuple[str, str, dict[str, np.ndarray], dict[str, float]]] = field(
        default_factory=list
    )
    methods: list[str] = field(default_factory=list)


# held-out data


def load_clip(path: str, frames: int, box: tuple[int, int] = CLIP_SIZE) -> Item:
    """The first ``frames`` frames of a video, shrunk (INTER_AREA) to fit in ``box``."""
    with VideoReader(path) as reader:
        images = [f.image for f in itertools.islice(reader, frames)]
    h, w = images[0].shape[:2]
    scale = min(box[0] / w, box[1] / h, 1.0)
    if scale < 1.0:
        size = (round(w * scale), round(h * scale))
        images = [cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in images]
    name = os.path.splitext(os.path.basename(path))[0]
    return Item(name, np.stack(images))


def pan_clip(name: str, image: np.ndarray, frames: int, size: tuple[int, int] = PAN_SIZE) -> Item:
    """A still made into a clip: a ``size`` window moving 1 px right and 0.5 px down per frame."""
    h, w = image.shape[:2]
    cw, ch = size
    if cw + frames > w or ch + frames // 2 > h:
        raise ValueError(f"{name}: {w}x{h} is too small for a {frames}-frame pan of {cw}x{ch}")
    x0, y0 = (w - cw - frames) // 2, (h - ch - frames // 2) // 2
    crops = [image[y0 + i // 2 : y0 + i // 2 + ch, x0 + i : x0 + i + cw] for i in range(frames)]
    return Item(name, np.ascontiguousarray(np.stack(crops)[..., :3]))


def held_out_items(clips: Sequence[str], frames: int, stills: bool = True) -> list[Item]:
    """The clips (``frames`` each), then the scikit-image stills panned over ``frames // 2``."""
    items = [load_clip(path, frames) for path in clips]
    if stills:
        items += [pan_clip(n, getattr(skimage.data, n)(), max(2, frames // 2)) for n in STILLS]
    return items


# degradations


def _water(water_type: str, rng: np.random.Generator) -> Params:
    return Params(**water_params(rng, water_type))  # type: ignore[arg-type]


def _noise(read: float, jpeg: int | None, rng: np.random.Generator) -> Params:
    return Params(water_type=None, read=read, jpeg=jpeg)


def default_settings() -> list[Setting]:
    """Six water types without noise, then three read-noise levels and noise + JPEG, no water."""
    settings = [Setting("underwater", w, partial(_water, w)) for w in WATER_TYPES]
    settings += [Setting("noise", f"read {s:g}", partial(_noise, s, None)) for s in READ_SIGMAS]
    label = f"read {READ_SIGMAS[0]:g} + jpeg {JPEG_QUALITY}"
    settings.append(Setting("noise", label, partial(_noise, READ_SIGMAS[0], JPEG_QUALITY)))
    return settings


def to_uint8(clip: np.ndarray) -> np.ndarray:
    """float in [0, 1] -> uint8, rounded as the degradation engine rounds."""
    return (np.clip(clip, 0, 1) * 255 + 0.5).astype(np.uint8)


# full-reference metrics and flicker


def psnr(out: np.ndarray, clean: np.ndarray) -> float:
    """Mean over frames of PSNR in dB, uint8 (T, H, W, 3) each; inf when every frame is exact."""
    with np.errstate(divide="ignore"):
        values = [
            peak_signal_noise_ratio(c, o, data_range=255) for c, o in zip(clean, out, strict=True)
        ]
    return float(np.mean(values))


def ssim(out: np.ndarray, clean: np.ndarray) -> float:
    """Mean over frames of SSIM, uint8 (T, H, W, 3) each; scikit-image's 7x7 uniform windows."""
    values = [
        structural_similarity(c, o, channel_axis=-1, data_range=255)
        for c, o in zip(clean, out, strict=True)
    ]
    return float(np.mean(values))


def _farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Flow f with a(x) ≈ b(x + f(x)): float32 (H, W, 2) for grey uint8 (H, W) frames."""
    # pyramid 0.5 x 4 levels, 21 px windows, 3 iterations, polynomial n = 7, sigma = 1.5
    return cv2.calcOpticalFlowFarneback(  # type: ignore[call-overload]
        a, b, None, 0.5, 4, 21, 3, 7, 1.5, 0
    )


class Motion:
    """Warps from each frame of a clean clip to the next, to measure flicker of any output.

    For t >= 1, ``maps[t - 1]`` holds the remap coordinates that bring frame t-1 onto frame t
    and the mask of pixels whose motion is trusted: inside the picture, and passing the
    forward-backward check |f_b(x) + f_f(x + f_b(x))|² < 0.01 (|f_b|² + |f_f|²) + 0.5
    (Sundaram, Brox and Keutzer, ECCV 2010), which drops occlusions and unreliable flow.
    """

    def __init__(self, clean: np.ndarray) -> None:
        t, h, w, _ = clean.shape
        grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in clean]
        gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
        self.maps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for i in range(1, t):
            back = _farneback(grey[i], grey[i - 1])  # frame i at x is frame i-1 at x + back
            fwd = _farneback(grey[i - 1], grey[i])
            mx, my = gx + back[..., 0], gy + back[..., 1]
            fwd_at = cv2.remap(fwd, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            err = np.sum((back + fwd_at) ** 2, axis=-1)
            scale = np.sum(back**2, axis=-1) + np.sum(fwd_at**2, axis=-1)
            inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
            self.maps.append((mx, my, inside & (err < 0.01 * scale + 0.5)))

    def flicker(self, clip: np.ndarray) -> float:
        """Mean |out_t - warp(out_{t-1})| in 0-255 levels over trusted pixels; nan for T < 2."""
        values = []
        for i, (mx, my, valid) in enumerate(self.maps, start=1):
            if not valid.any():
                continue
            prev = cv2.remap(clip[i - 1].astype(np.float32), mx, my, cv2.INTER_LINEAR)
            values.append(float(np.abs(clip[i].astype(np.float32) - prev)[valid].mean()))
        return float(np.mean(values)) if values else math.nan


# no-reference underwater metrics


def _blocks(x: np.ndarray, size: int) -> np.ndarray:
    """Non-overlapping size x size blocks of (H, W[, C]) as (k2, k1, size * size [* C])."""
    k2, k1 = x.shape[0] // size, x.shape[1] // size
    x = x[: k2 * size, : k1 * size]
    tiles = x.reshape(k2, size, k1, size, -1).swapaxes(1, 2)
    return tiles.reshape(k2, k1, -1)


def _trimmed_stats(x: np.ndarray, alpha: float = 0.1) -> tuple[float, float]:
    """Asymmetric alpha-trimmed mean (alpha_L = alpha_R = ``alpha``) and the variance about it."""
    s = np.sort(x.ravel())
    k = s.size
    lo, hi = math.ceil(alpha * k), math.floor(alpha * k)
    mu = float(s[lo : k - hi].mean())
    return mu, float(np.mean((s - mu) ** 2))


def uicm(rgb: np.ndarray) -> float:
    """Colourfulness: -0.0268 sqrt(μ_RG² + μ_YB²) + 0.1586 sqrt(σ²_RG + σ²_YB).

    RG = R - G and YB = (R + G) / 2 - B on 0-255 values; μ is the alpha-trimmed mean
    (10 % cut at each end), σ² the mean squared deviation from it over all pixels.
    """
    r, g, b = (rgb[..., c].astype(np.float64) for c in range(3))
    mu_rg, var_rg = _trimmed_stats(r - g)
    mu_yb, var_yb = _trimmed_stats((r + g) / 2 - b)
    return -0.0268 * math.hypot(mu_rg, mu_yb) + 0.1586 * math.sqrt(var_rg + var_yb)


def eme(x: np.ndarray, size: int = 10) -> float:
    """Measure of enhancement: (2 / k1k2) Σ log(max / min) over size x size blocks.

    Blocks whose minimum (or maximum) is 0 add nothing, as in the reference implementation.
    """
    tiles = _blocks(x, size)
    hi, lo = tiles.max(axis=-1), tiles.min(axis=-1)
    ok = lo > 0
    return float(2.0 / hi.size * np.log(hi[ok] / lo[ok]).sum())


def uism(rgb: np.ndarray) -> float:
    """Sharpness: Σ_c λ_c EME(|Sobel(c)| · c), λ = (0.299, 0.587, 0.114), 10x10 blocks."""
    total = 0.0
    for c, weight in enumerate((0.299, 0.587, 0.114)):
        ch = rgb[..., c].astype(np.float64)
        edges = np.hypot(cv2.Sobel(ch, cv2.CV_64F, 1, 0), cv2.Sobel(ch, cv2.CV_64F, 0, 1))
        total += weight * eme(edges * ch)
    return total


def uiconm(rgb: np.ndarray, size: int = 10) -> float:
    """Contrast: logAMEE = -(1 / k1k2) Σ (max - min)/(max + min) · log((max - min)/(max + min)).

    Over size x size blocks taken across the three channels at once; blocks with max = min add
    nothing.
    """
    tiles = _blocks(rgb.astype(np.float64), size)
    hi, lo = tiles.max(axis=-1), tiles.min(axis=-1)
    ok = hi > lo
    ratio = (hi[ok] - lo[ok]) / (hi[ok] + lo[ok])
    return float(-1.0 / hi.size * (ratio * np.log(ratio)).sum())


def uiqm(rgb: np.ndarray) -> float:
    """Underwater Image Quality Measure (Panetta, Gao and Agaian 2016) of uint8 RGB (H, W, 3).

        UIQM = c1 · UICM + c2 · UISM + c3 · UIConM,  c1 = 0.0282, c2 = 0.2953, c3 = 3.5753

    UICM measures colourfulness (``uicm``), UISM sharpness (``uism``), UIConM contrast
    (``uiconm``). The paper's PLIP arithmetic in UIConM is replaced by ordinary arithmetic, and
    the blocks are 10x10 and span the three channels, as in the reference implementation most
    underwater papers report with (FUnIE-GAN's), so figures compare with theirs. Higher is
    "better", but noise raises UISM and UICM: compare methods on the same clips only.
    """
    return 0.0282 * uicm(rgb) + 0.2953 * uism(rgb) + 3.5753 * uiconm(rgb)


def uciqe(rgb: np.ndarray) -> float:
    """Underwater Colour Image Quality Evaluation (Yang and Sowmya 2015) of uint8 RGB (H, W, 3).

        UCIQE = 0.4680 · σ_c + 0.2745 · con_l + 0.2576 · μ_s

    in CIELab (sRGB, D65; OpenCV) with L*, a* and b* divided by 100, so the units stay alike:
    σ_c is the standard deviation of chroma C = sqrt(a² + b²), con_l the luminance contrast
    (99th minus 1st percentile of L), μ_s the mean saturation C / L over pixels with L* > 1.
    """
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab) / 100
    lum, chroma = lab[..., 0], np.hypot(lab[..., 1], lab[..., 2])
    lo, hi = np.percentile(lum, [1, 99])
    lit = lum > 0.01
    saturation = float((chroma[lit] / lum[lit]).mean()) if lit.any() else 0.0
    return 0.4680 * float(chroma.std()) + 0.2745 * float(hi - lo) + 0.2576 * saturation


def no_reference(clip: np.ndarray) -> dict[str, float]:
    """Mean UIQM and UCIQE over every ``NR_STEP``-th frame of uint8 (T, H, W, 3)."""
    frames = clip[::NR_STEP]
    return {
        "uiqm": float(np.mean([uiqm(f) for f in frames])),
        "uciqe": float(np.mean([uciqe(f) for f in frames])),
    }


# running the methods


def build_processors(
    names: Sequence[str], weights: str | None = None
) -> tuple[dict[str, Processor], list[str]]:
    """Build each named model with ``MODELS[name]("cpu", "fp32", weights)``; a note for each
    left out.

    A name missing from ``MODELS`` is left out, and so is a model that cannot be built here
    (a GAN without its weights file, say). ``weights`` (None: the embedded ones) goes to the
    models that take weights, the GANs; the others ignore it.
    """
    processors: dict[str, Processor] = {}
    notes: list[str] = []
    for name in dict.fromkeys(names):
        if name not in MODELS:
            notes.append(f"no model {name!r} in vidgan (have: {', '.join(MODELS)}); skipped")
            continue
        try:
            processors[name] = MODELS[name]("cpu", "fp32", weights)
        except Exception as e:
            notes.append(f"model {name!r} cannot be built ({type(e).__name__}: {e}); skipped")
    return processors, notes


def run_processor(processor: Processor, frames: np.ndarray) -> tuple[np.ndarray, float]:
    """Reset, then feed uint8 (T, H, W, 3) in order in batches of ``BATCH``: output, seconds."""
    out = np.empty_like(frames)
    processor.reset()
    started = time.perf_counter()
    for s in range(0, len(frames), BATCH):
        chunk = frames[s : s + BATCH]
        result = np.asarray(processor.process(chunk))
        if result.shape != chunk.shape or result.dtype != np.uint8:
            raise ValueError(
                f"{processor.name}: returned {result.dtype} {result.shape} for {chunk.shape}"
            )
        out[s : s + BATCH] = result
    return out, time.perf_counter() - started


def pick_examples(n_items: int, settings: Sequence[Setting]) -> list[tuple[int, int]]:
    """The (item, setting) indices shown on the sheet; the first pair when none is named."""
    labels = [s.label for s in settings]
    picked = [(i % n_items, labels.index(lab)) for i, lab in EXAMPLES if lab in labels]
    return list(dict.fromkeys(picked)) or [(0, 0)]


def evaluate(
    items: Sequence[Item],
    settings: Sequence[Setting],
    processors: dict[str, Processor],
    *,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> Evaluation:
    """Degrade every item with every setting, run ``input`` and each processor, and measure."""
    result = Evaluation(methods=["input", *processors])
    examples = set(pick_examples(len(items), settings))

    for i, item in enumerate(items):
        # the clean clip: its motion, and the references for flicker and the no-reference scores
        started = time.perf_counter()
        clean = item.frames
        motion = Motion(clean)
        result.clean.append(
            {"item": item.name, "flicker": motion.flicker(clean), **no_reference(clean)}
        )
        clean_f = clean.astype(np.float32) / 255

        for j, setting in enumerate(settings):
            # the degraded clip, from its own generator
            rng = np.random.default_rng([seed, i, j])
            params = setting.make(rng)
            degraded = to_uint8(degrade_clip(clean_f, params, rng))

            # the methods; byte-identical outputs (identity = input) share their figures
            cache: dict[bytes, dict[str, float]] = {}
            outputs: dict[str, np.ndarray] = {}
            scores: dict[str, float] = {}
            for method in result.methods:
                if method == "input":
                    out, seconds = degraded, 0.0
                else:
                    out, seconds = run_processor(processors[method], degraded)
                key = hashlib.blake2b(out.tobytes(), digest_size=16).digest()
                if key not in cache:
                    cache[key] = {
                        "psnr": psnr(out, clean),
                        "ssim": ssim(out, clean),
                        "flicker": motion.flicker(out),
                        **no_reference(out),
                    }
                result.records.append(
                    {
                        "item": item.name,
                        "group": setting.group,
                        "setting": setting.label,
                        "method": method,
                        **cache[key],
                        "flicker_clean": result.clean[-1]["flicker"],
                        "ms_per_frame": 1000 * seconds / len(clean) if seconds else None,
                        "params": asdict(params),
                    }
                )
                outputs[method] = out
                scores[method] = cache[key]["psnr"]

            if (i, j) in examples:
                mid = len(clean) // 2
                shown = {"clean": clean[mid], "degraded": degraded[mid]}
                shown.update({m: outputs[m][mid] for m in result.methods if m != "input"})
                result.examples.append((item.name, setting.label, shown, scores))

        if log is not None:
            log(
                f"  {item.name}: {len(clean)} frames {clean.shape[2]}x{clean.shape[1]}, "
                f"{len(settings)} settings, {time.perf_counter() - started:.1f} s"
            )
    return result


# summaries


METRICS = ("psnr", "ssim", "flicker", "uiqm", "uciqe", "ms_per_frame")


def summarise(ev: Evaluation) -> dict[str, dict[str, dict[str, float]]]:
    """group -> method (and "clean") -> metric -> mean over items and settings."""
    summary: dict[str, dict[str, dict[str, float]]] = {}
    groups = list(dict.fromkeys(str(r["group"]) for r in ev.records))
    clean = {str(c["item"]): c for c in ev.clean}
    for group in groups:
        rows = [r for r in ev.records if r["group"] == group]
        # the clean reference, weighted as the methods are: once per (item, setting)
        first = [clean[str(r["item"])] for r in rows if r["method"] == "input"]
        summary[group] = {"clean": {k: _mean(c[k] for c in first) for k in METRICS[2:5]}}
        for method in ev.methods:
            mine = [r for r in rows if r["method"] == method]
            summary[group][method] = {k: _mean(r[k] for r in mine) for k in METRICS}
    return summary


def _mean(values: Iterable[Any]) -> float:
    data = [float(v) for v in values if v is not None]
    return float(np.mean(data)) if data else math.nan


def _fmt(value: float | None, digits: int) -> str:
    if value is None or math.isnan(value):
        return "-"
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


def quality_table(summary: dict[str, dict[str, dict[str, float]]]) -> str:
    """The quality summary as aligned text."""
    head = f"{'group':<11} {'method':<14} {'PSNR':>6} {'SSIM':>6} {'flicker':>8} {'(clean)':>8}"
    head += f" {'UIQM':>6} {'UCIQE':>6} {'ms/frame':>9}"
    lines = [head, "-" * len(head)]
    for group, methods in summary.items():
        clean = methods["clean"]
        for method, m in methods.items():
            lines.append(
                f"{group:<11} {method:<14} {_fmt(m.get('psnr'), 2):>6} "
                f"{_fmt(m.get('ssim'), 4):>6} {_fmt(m['flicker'], 2):>8} "
                f"{_fmt(clean['flicker'], 2):>8} {_fmt(m['uiqm'], 3):>6} "
                f"{_fmt(m['uciqe'], 3):>6} {_fmt(m.get('ms_per_frame'), 1):>9}"
            )
    return "\n".join(lines)


# the contact sheet


def _label(image: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.45) -> None:
    """White text with a dark outline, drawn in place on uint8 RGB."""
    for colour, thick in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)


def contact_sheet(ev: Evaluation, height: int = 180, gap: int = 4) -> np.ndarray:
    """One uint8 RGB picture: a row per example, columns clean | degraded | each method."""
    columns = ["clean", "degraded", *[m for m in ev.methods if m != "input"]]
    cells: list[list[np.ndarray]] = []
    for _, _, shown, _ in ev.examples:
        row = []
        for col in columns:
            im = shown[col]
            width = round(im.shape[1] * height / im.shape[0])
            row.append(cv2.resize(im, (width, height), interpolation=cv2.INTER_AREA))
        cells.append(row)
    cell_w = max(c.shape[1] for row in cells for c in row)
    header = 24
    sheet = np.full(
        (header + len(cells) * (height + gap), len(columns) * (cell_w + gap) - gap, 3),
        32,
        np.uint8,
    )
    for c, name in enumerate(columns):
        _label(sheet, name, (c * (cell_w + gap) + 6, 17), 0.55)
    for r, (row, (item, setting, _, scores)) in enumerate(zip(cells, ev.examples, strict=True)):
        y = header + r * (height + gap)
        for c, (cell, name) in enumerate(zip(row, columns, strict=True)):
            x = c * (cell_w + gap)
            sheet[y : y + height, x : x + cell.shape[1]] = cell
            key = "input" if name == "degraded" else name
            if key in scores:
                _label(sheet, f"{_fmt(scores[key], 1)} dB", (x + 6, y + height - 8))
        _label(sheet, f"{item} / {setting}", (6, y + 16))
    return sheet


# speed


def make_speed_clips(
    folder: str, seconds: float = SPEED_SECONDS
) -> tuple[dict[tuple[int, int], str], int]:
    """``seconds`` of samples/bunny.mp4, looped, video only, at each of ``SPEED_SIZES``.

    Returns the path per size and the frame count.
    """
    with VideoReader(BUNNY) as reader:
        info = reader.info
    rate = info.rate or Fraction(25)
    step = max(1, round(1 / (rate * info.time_base)))
    total = round(seconds * rate)
    paths = {size: os.path.join(folder, f"bunny_{size[1]}p.mp4") for size in SPEED_SIZES}
    writers = {
        size: VideoWriter(
            path,
            width=size[0],
            height=size[1],
            time_base=info.time_base,
            rate=rate,
            colour=info.colour,
            settings=WriterSettings(overwrite=True),
        )
        for size, path in paths.items()
    }
    written = 0
    try:
        while written < total:
            with VideoReader(BUNNY) as reader:
                for frame in itertools.islice(reader, total - written):
                    for (w, h), writer in writers.items():
                        image = frame.image
                        if image.shape[:2] != (h, w):
                            image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
                        writer.write(image, written * step)
                    written += 1
        for writer in writers.values():
            writer.close()
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    return paths, total


def measure_speed(
    models: Sequence[str], log: Callable[[str], None], repeat: int = 1
) -> list[dict[str, object]]:
    """Time ``vidgan restore`` per model and size as a subprocess, start-up included.

    Each figure is the best of ``repeat`` rounds; a round times every model and size once, so a
    busy spell on a shared machine hits all of them alike.
    """
    best: dict[tuple[str, str], dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="vidgan-eval-") as folder:
        clips, total = make_speed_clips(folder)
        for _ in range(repeat):
            for model in models:
                for (w, h), clip in clips.items():
                    out = os.path.join(folder, f"out_{model}_{h}p.mp4")
                    cmd = [sys.executable, "-m", "vidgan", "restore", clip, "-o", out]
                    started = time.perf_counter()
                    done = subprocess.run([*cmd, "-m", model, "-y"], capture_output=True, text=True)
                    wall = time.perf_counter() - started
                    if done.returncode != 0:
                        log(f"  {model} {w}x{h}: failed: {done.stderr.strip().splitlines()[-1:]}")
                        continue
                    said = WROTE.search(done.stderr)
                    frames = int(said["frames"]) if said else total
                    log(f"  {model} {w}x{h}: {frames} frames in {wall:.1f} s")
                    key = (model, f"{w}x{h}")
                    if key in best and best[key]["wall_s"] <= wall:  # type: ignore[operator]
                        continue
                    best[key] = {
                        "model": model,
                        "size": key[1],
                        "frames": frames,
                        "wall_s": wall,
                        "fps": frames / wall,
                        "vidgan_fps": float(said["fps"]) if said else None,
                    }
    return list(best.values())


def speed_table(rows: list[dict[str, object]]) -> str:
    """fps per model and size: wall clock (vidgan's own figure)."""
    sizes = [f"{w}x{h}" for w, h in SPEED_SIZES]
    head = f"{'model':<14}" + "".join(f" {s + ' fps':>22}" for s in sizes)
    lines = [head, "-" * len(head)]
    for model in dict.fromkeys(str(r["model"]) for r in rows):
        line = f"{model:<14}"
        for size in sizes:
            hit = [r for r in rows if r["model"] == model and r["size"] == size]
            if hit:
                own = hit[0]["vidgan_fps"]
                text = f"{hit[0]['fps']:.1f} ({_fmt(own, 1)})"  # type: ignore[arg-type]
            else:
                text = "-"
            line += f" {text:>22}"
        lines.append(line)
    return "\n".join(lines)


# the command line


def _json_safe(value: object) -> object:
    """inf and nan as strings, so the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), metavar="NAME")
    parser.add_argument(
        "--clip", nargs="+", default=[BUNNY], metavar="PATH", help="real clips [samples/bunny.mp4]"
    )
    parser.add_argument(
        "--frames", type=int, default=48, help="frames per clip; stills pan over half [48]"
    )
    parser.add_argument("--no-stills", action="store_true", help="leave out the panned stills")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-speed", action="store_true", help="skip the vidgan restore timing")
    parser.add_argument("--repeat", type=int, default=1, help="speed: best of N rounds [1]")
    parser.add_argument("--weights", metavar="FILE", help="GAN weights [the embedded default]")
    parser.add_argument("--json", metavar="FILE", help="write every figure here")
    parser.add_argument("--sheet", metavar="FILE.png", help="write a side-by-side picture here")
    args = parser.parse_args(argv)
    if args.frames < 2:
        parser.error("--frames must be at least 2")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    processors, notes = build_processors(args.models, args.weights)
    models = list(processors)
    for note in notes:
        print(f"note: {note}")

    # quality
    started = time.perf_counter()
    log("loading held-out clips")
    items = held_out_items(args.clip, args.frames, stills=not args.no_stills)
    settings = default_settings()
    log(f"evaluating input and {', '.join(models) or 'no model'} on {len(items)} items")
    ev = evaluate(items, settings, processors, seed=args.seed, log=log)
    summary = summarise(ev)
    quality_s = time.perf_counter() - started
    print()
    print(f"quality: mean over {len(items)} items x settings per group (seed {args.seed})")
    print(f"items: {', '.join(f'{it.name} {len(it.frames)}f' for it in items)}")
    print(quality_table(summary))
    print("(flicker: 0-255 levels, motion from the clean clip; ms/frame: process() on the CPU;")
    print(f" quality part {quality_s:.0f} s)")

    # speed
    speed: list[dict[str, object]] = []
    if not args.no_speed and models:
        log("timing vidgan restore")
        load = os.getloadavg()
        speed = measure_speed(models, log, max(1, args.repeat))
        print()
        rounds = f", best of {args.repeat}" if args.repeat > 1 else ""
        what = f"{SPEED_SECONDS:g} s clip{rounds}, fps of wall time (vidgan's own)"
        print(f"speed: vidgan restore, {what}")
        print(speed_table(speed))
        print(f"(load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after)")

    # files
    if args.json:
        report = {
            "seed": args.seed,
            "models": models,
            "skipped": notes,
            "items": [{"name": it.name, "shape": list(it.frames.shape)} for it in items],
            "settings": [{"group": s.group, "label": s.label} for s in settings],
            "summary": summary,
            "records": ev.records,
            "clean": ev.clean,
            "speed": speed,
        }
        with open(args.json, "w") as f:
            json.dump(_json_safe(report), f, indent=1)
        print(f"wrote {args.json}")
    if args.sheet:
        sheet = contact_sheet(ev)
        if not cv2.imwrite(args.sheet, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
            raise SystemExit(f"cannot write {args.sheet}")
        print(f"wrote {args.sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
