"""Synthetic degradations for training and evaluating restoration: water, noise, blur, compression.

The underwater part follows the revised image-formation model of Akkaynak and Treibitz
("A Revised Underwater Image Formation Model", CVPR 2018), in which the direct signal and the
backscatter have their own attenuation coefficients:

    I_c = J_c · exp(-βD_c · d) + B∞_c · (1 - exp(-βB_c · d))

J is the scene as it would look in air, d the distance to the camera in metres, B∞ the colour
of the water far away. The coefficients come from Jerlov's water types, integrated roughly
over the red, green and blue bands of a camera: in clear ocean water red is lost ten to twenty
times faster than blue; coastal waters, rich in plankton and dissolved matter, lose blue
faster and turn green and yellow. Light reaching the scene from the surface is filtered the
same way over its own depth, which gives the overall colour cast.

Sensor noise is Poisson-Gaussian with a low-frequency chroma part; compression is real JPEG
(OpenCV) or H.264 (PyAV). A clip samples its parameters once and lets them drift slowly, as in
real footage; the noise is drawn anew for every frame.

    >>> rng = np.random.default_rng(0)
    >>> params = sample_params(rng)
    >>> degraded = degrade_clip(clean, params, rng)      # float32 (T, H, W, 3) in [0, 1]
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import cv2
import numpy as np

# βD per Jerlov type, 1/m, for (red, green, blue); approximate band averages
JERLOV: dict[str, tuple[float, float, float]] = {
    "I": (0.34, 0.050, 0.021),
    "IA": (0.34, 0.056, 0.030),
    "IB": (0.35, 0.066, 0.040),
    "II": (0.38, 0.090, 0.085),
    "III": (0.43, 0.150, 0.180),
    "1C": (0.44, 0.180, 0.290),
    "3C": (0.50, 0.270, 0.460),
    "5C": (0.60, 0.380, 0.680),
    "7C": (0.75, 0.540, 0.960),
    "9C": (0.90, 0.720, 1.300),
}
OCEAN = ("I", "IA", "IB", "II", "III")
COASTAL = ("1C", "3C", "5C", "7C", "9C")


def transmission(beta: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Per-channel transmission exp(-β_c · d): float (..., H, W, 3) for depth (..., H, W)."""
    return np.exp(-depth[..., None] * beta.astype(np.float32))


def underwater(
    clean: np.ndarray,
    depth: np.ndarray,
    beta_d: np.ndarray,
    beta_b: np.ndarray,
    water: np.ndarray,
) -> np.ndarray:
    """Apply I = J·exp(-βD·d) + B∞·(1 - exp(-βB·d)).

    Args:
        clean: float (..., H, W, 3), linear-ish RGB in [0, 1].
        depth: float (..., H, W), camera-to-scene distance in metres, broadcastable to clean.
        beta_d, beta_b: (3,) attenuation of the direct signal and of the backscatter, 1/m.
        water: (3,) the veiling light B∞ in [0, 1].
    """
    direct = clean * transmission(beta_d, depth)
    backscatter = water.astype(np.float32) * (1 - transmission(beta_b, depth))
    return (direct + backscatter).astype(np.float32)


def smooth_field(rng: np.random.Generator, height: int, width: int, cells: int = 4) -> np.ndarray:
    """A smooth random field in [0, 1], float (H, W): coarse noise, upsampled bicubically."""
    coarse = rng.random((cells + 1, cells + 1)).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    lo, hi = float(field.min()), float(field.max())
    return (field - lo) / (hi - lo + 1e-6)


@dataclass(frozen=True)
class Params:
    """One clip's degradation. Zero or None in a field turns that part off."""

    water_type: str | None = "II"
    beta_d: tuple[float, float, float] = (0.0, 0.0, 0.0)
    beta_b: tuple[float, float, float] = (0.0, 0.0, 0.0)
    water: tuple[float, float, float] = (0.0, 0.0, 0.0)
    distance: float = 0.0  # mean camera-to-scene distance, m
    distance_spread: float = 0.0  # relative variation over the picture
    scene_depth: float = 0.0  # depth below the surface; filters the light reaching the scene
    exposure: float = 1.0  # scale after the water, as a camera's auto exposure would
    blur: float = 0.0  # Gaussian sigma, pixels
    light: float = 1.0  # below 1: low light, amplified back with its noise
    shot: float = 0.0  # Poisson strength: variance = shot · signal
    read: float = 0.0  # Gaussian noise sigma
    chroma: float = 0.0  # low-frequency colour noise sigma
    jpeg: int | None = None  # JPEG quality
    h264_crf: int | None = None  # H.264 CRF, for whole clips
    drift: float = 0.0  # relative change of distance over the clip


def water_params(rng: np.random.Generator, water_type: str | None = None) -> dict[str, object]:
    """Underwater parameters for one clip, for a given or a random Jerlov type."""
    name = water_type or str(rng.choice(list(JERLOV)))
    beta_d = np.array(JERLOV[name]) * rng.uniform(0.8, 1.25)
    # backscatter falls off a little differently from the direct signal (the revised model)
    beta_b = beta_d * rng.uniform(0.6, 0.95, size=3)
    scene_depth = rng.uniform(1.0, 12.0)
    # the veiling light is daylight filtered by the water above: blue in ocean, green on coasts
    water = np.exp(-beta_d * scene_depth * rng.uniform(0.6, 1.0)) * rng.uniform(0.35, 0.75)
    reach = 1.0 / beta_d.mean()  # a distance at which the picture is clearly hazy, but not gone
    return {
        "water_type": name,
        "beta_d": tuple(beta_d.tolist()),
        "beta_b": tuple(beta_b.tolist()),
        "water": tuple(np.clip(water, 0, 1).tolist()),
        "distance": float(rng.uniform(0.15, 0.9) * reach),
        "distance_spread": float(rng.uniform(0.1, 0.6)),
        "scene_depth": float(scene_depth),
        "exposure": float(rng.uniform(1.0, 1.6)),
        "drift": float(rng.uniform(0.0, 0.2)),
    }


def noise_params(rng: np.random.Generator, strength: float = 1.0) -> dict[str, object]:
    """Sensor noise, low light, blur and compression for one clip."""
    low_light = rng.random() < 0.3
    return {
        "light": float(rng.uniform(0.15, 0.5)) if low_light else 1.0,
        "shot": float(rng.uniform(0.0, 0.01) * strength),
        "read": float(rng.uniform(0.005, 0.06) * strength),
        "chroma": float(rng.uniform(0.0, 0.02) * strength),
        "blur": float(rng.uniform(0.0, 1.0)) if rng.random() < 0.5 else 0.0,
        "jpeg": int(rng.integers(30, 90)) if rng.random() < 0.4 else None,
    }


def sample_params(
    rng: np.random.Generator, *, underwater: bool | None = None, noise: bool | None = None
) -> Params:
    """Random degradations: underwater, noise, or (the default) each with its own chance."""
    water = rng.random() < 0.8 if underwater is None else underwater
    noisy = rng.random() < 0.8 if noise is None else noise
    fields: dict[str, object] = {"water_type": None}
    if water:
        fields.update(water_params(rng))
    if noisy:
        fields.update(noise_params(rng))
    return Params(**fields)  # type: ignore[arg-type]


def _noise(image: np.ndarray, p: Params, rng: np.random.Generator) -> np.ndarray:  # float (H, W, 3)
    h, w, _ = image.shape
    out = image * p.light
    if p.shot > 0:
        # Poisson noise of variance shot·signal, through its Gaussian approximation
        out = out + rng.standard_normal(out.shape, dtype=np.float32) * np.sqrt(
            np.maximum(out, 0) * p.shot * p.light
        )
    if p.read > 0:
        out = out + rng.standard_normal(out.shape, dtype=np.float32) * (p.read * p.light)
    if p.chroma > 0:
        small = rng.standard_normal((max(1, h // 8), max(1, w // 8), 3), dtype=np.float32)
        out = out + cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) * (p.chroma * p.light)
    return out / p.light


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    u8 = np.ascontiguousarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)[..., ::-1])
    ok, data = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else None
    assert decoded is not None
    return decoded[..., ::-1].astype(np.float32) / 255


def h264_roundtrip(clip: np.ndarray, crf: int) -> np.ndarray:
    """Encode a clip with x264 in memory and decode it again: float (T, H, W, 3) in [0, 1]."""
    t, h, w, _ = clip.shape
    u8 = (np.clip(clip, 0, 1) * 255 + 0.5).astype(np.uint8)
    he, we = h - h % 2, w - w % 2
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = we, he, "yuv420p"
        stream.codec_context.options = {"crf": str(crf), "preset": "veryfast"}
        for frame in u8[:, :he, :we]:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))
    buffer.seek(0)
    result = u8.astype(np.float32) / 255
    with av.open(buffer) as src:
        for i, frame in enumerate(src.decode(video=0)):
            result[i, :he, :we] = frame.to_ndarray(format="rgb24").astype(np.float32) / 255
    return result


def degrade_clip(
    clean: np.ndarray, p: Params, rng: np.random.Generator, depth: np.ndarray | None = None
) -> np.ndarray:
    """Degrade a clip: float (T, H, W, 3) in [0, 1] in, the same shape and range out.

    ``depth`` is a relative depth map (H, W) in [0, 1]; by default a smooth random field tilted
    by a ramp, as a sea floor seen at an angle.
    """
    t, h, w, _ = clean.shape
    out = clean.astype(np.float32)

    # water: the light reaching the scene, then the path to the camera
    if p.water_type is not None and p.distance > 0:
        if depth is None:
            ramp = np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None]
            depth = 0.6 * ramp + 0.4 * smooth_field(rng, h, w)
        beta_d = np.array(p.beta_d, np.float32)
        light = np.exp(-beta_d * p.scene_depth)
        light = light / light.max()
        drift = 1 + p.drift * np.linspace(-0.5, 0.5, t, dtype=np.float32)
        spread = 1 + p.distance_spread * (depth - 0.5)
        for i in range(t):
            d = p.distance * spread * drift[i]
            out[i] = (
                underwater(out[i] * light, d, beta_d, np.array(p.beta_b), np.array(p.water))
                * p.exposure
            )

    # optics and sensor
    if p.blur > 0:
        out = np.stack([cv2.GaussianBlur(f, (0, 0), p.blur) for f in out])
    if p.shot > 0 or p.read > 0 or p.chroma > 0:
        out = np.stack([_noise(f, p, rng) for f in out])
    out = np.clip(out, 0, 1)

    # compression
    if p.jpeg is not None:
        out = np.stack([_jpeg(f, p.jpeg) for f in out])
    if p.h264_crf is not None:
        out = h264_roundtrip(out, p.h264_crf)
    return out.astype(np.float32)


def clean_params() -> Params:
    """No degradation at all."""
    return Params(water_type=None)
