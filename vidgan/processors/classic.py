"""A classical restorer for underwater colour cast, haze and noise: the baseline a GAN must beat.

``ClassicRestorer`` is a :class:`~vidgan.processors.base.Processor` built from OpenCV and numpy
only. Each frame goes through five steps:

1. red-channel compensation (Ancuti et al., "Color Balance and Fusion for Underwater Image
   Enhancement", TIP 2018), then a shades-of-gray white balance (Finlayson and Trezzi, "Shades
   of Gray and Colour Constancy", 2004) with Minkowski norm p = 6. Red comes first because water
   absorbs it so strongly that a white-balance gain alone would amplify little but noise;
2. dehazing by the dark channel prior (He, Sun and Tang, CVPR 2009): airlight from the brightest
   dark-channel pixels, transmission ``t = 1 - w * dark(I / A)``, refined and brought to full
   resolution in one go by a fast guided filter (He and Sun, "Fast Guided Filter", 2015), then
   ``J = (I - A) / max(t, t0) + A``. The transmission is relaxed where a pixel is already close
   to the airlight (the tolerance of Li et al., "Edge-preserving decomposition-based single image
   haze removal", TIP 2015), which keeps white objects and clean frames from being crushed;
3. mild contrast: CLAHE (Zuiderveld 1994) with a low clip limit on the luma;
4. denoising of the luma by a self-guided filter whose strength follows the noise sigma, which is
   estimated with Immerkaer's operator ("Fast Noise Variance Estimation", 1996; a median instead
   of his mean, so texture is not taken for noise) and scaled by the gain steps 1-2 gave each
   pixel. The chroma of a noisy frame is box-blurred. Bilateral filtering (~15 ms) and non-local
   means (~1 s) per 720p frame on one core were measured and rejected as too slow;
5. temporal stability: every global estimate (red compensation, white-balance gains, airlight,
   noise sigma) and the coarse transmission map are exponential moving averages over frames, so
   the output does not flicker. The first frame initialises them.

Statistics are gathered on a copy whose longest side is ``work_size`` pixels; CLAHE and the
denoising filter run at half resolution and reach full resolution as smooth corrections (the
guided filter's linear coefficients, a contrast offset), so full-resolution work is a couple of
dozen arithmetic passes over single planes, with buffers reused from frame to frame. On one core
of a slow 2-core CPU that is about 10-15 ms for a 1280x720 frame and 3-5 ms for 640x360.

Usage::

    restorer = ClassicRestorer(strength=1.0)
    for batch in batches:  # uint8 RGB, (N, H, W, 3), in presentation order
        restored = restorer.process(batch)
    restorer.reset()  # before another stream
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# Rec. 601 luma weights, the ones cv2.COLOR_RGB2GRAY uses
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# Immerkaer's operator: the difference of two Laplacians, zero on any plane; its response to
# white noise of std sigma has std 6 * sigma, and the median of |N(0, 1)| is 0.6745
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_MAD_TO_SIGMA = 1.0 / (6.0 * 0.6745)

# noise std (8-bit levels) below which a frame is not denoised; quantisation alone gives ~0.3,
# and fine texture reads as about 1 on clean photographs
_SIGMA_MIN = 1.5


@dataclass
class _Estimates:
    """The global parameters of one frame, or their moving averages.

    Attributes:
        red_comp: red compensation factor k in ``r + k (1 - r) g``, r and g in [0, 1].
        gains: white-balance gains, float32, shape (3,), applied after red compensation.
        airlight: airlight of the white-balanced frame, float32, shape (3,), in [0, 1].
        sigma: noise std of the input luma, in 8-bit levels.
        t_coarse: raw transmission at work resolution, float32, shape (h, w), in [0, 1].
    """

    red_comp: float
    gains: np.ndarray
    airlight: np.ndarray
    sigma: float
    t_coarse: np.ndarray

    def blend(self, new: _Estimates, keep: float) -> _Estimates:
        """Moving average: ``keep`` of this state plus ``1 - keep`` of the new estimate."""
        t_coarse = new.t_coarse
        if self.t_coarse.shape == new.t_coarse.shape:
            t_coarse = cv2.addWeighted(self.t_coarse, keep, new.t_coarse, 1.0 - keep, 0.0)
        return _Estimates(
            red_comp=keep * self.red_comp + (1.0 - keep) * new.red_comp,
            gains=(keep * self.gains + (1.0 - keep) * new.gains).astype(np.float32),
            airlight=(keep * self.airlight + (1.0 - keep) * new.airlight).astype(np.float32),
            sigma=keep * self.sigma + (1.0 - keep) * new.sigma,
            t_coarse=t_coarse,
        )


class _Workspace:
    """Full-resolution buffers for one frame size, reused from frame to frame.

    Fresh frame-sized arrays cost page faults on every frame, a sizeable part of the budget.
    """

    def __init__(self, h: int, w: int) -> None:
        self.shape = (h, w)
        self.gray = np.empty((h, w), dtype=np.uint8)
        self.planes_u8 = [np.empty((h, w), dtype=np.uint8) for _ in range(3)]
        self.planes = [np.empty((h, w), dtype=np.float32) for _ in range(3)]
        self.luma = np.empty((h, w), dtype=np.float32)
        self.inv_t = np.empty((h, w), dtype=np.float32)
        self.haze = np.empty((h, w), dtype=np.float32)
        self.a = np.empty((h, w), dtype=np.float32)
        self.b = np.empty((h, w), dtype=np.float32)
        self.tmp = np.empty((h, w), dtype=np.float32)


def _box(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, mirrored at the borders; float32 (h, w) in and out."""
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def _guided_coeffs(
    guide: np.ndarray, src: np.ndarray, r: int, eps: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gray guided filter (He, Sun and Tang, ECCV 2010), returned as its linear coefficients.

    The filtered image is ``a * guide + b``. Returning a and b, which are smooth, lets the caller
    upsample them and apply them to the guide at a higher resolution (the fast guided filter).

    Args:
        guide: float32, shape (h, w).
        src: float32, shape (h, w), the image to filter.
        r: window radius in pixels.
        eps: regulariser, a scalar or a float32 (h, w) map, in squared units of the guide;
            larger smooths more.

    Returns:
        a, b: float32, shape (h, w) each.
    """
    mean_i = _box(guide, r)
    mean_p = _box(src, r)
    cov_ip = _box(guide * src, r) - mean_i * mean_p
    var_i = _box(guide * guide, r) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return _box(a, r), _box(b, r)


def _noise_sigma(gray: np.ndarray) -> float:
    """Noise std of a uint8 (H, W) image in 8-bit levels: Immerkaer's operator, then a median.

    At most 8 bands of 16 rows, spread over the height, are looked at: plenty for one number.
    """
    h, w = gray.shape
    if h < 3 or w < 3:
        return 0.0

    # stack evenly spaced row bands; the rows at the seams are dropped after filtering
    band = min(16, h)
    n_bands = max(1, min(8, h // band))
    starts = np.linspace(0, h - band, n_bands).astype(np.int64)
    rows = (starts[:, None] + np.arange(band)[None, :]).reshape(-1)
    response = cv2.filter2D(gray[rows], cv2.CV_32F, _IMMERKAER)  # (n_bands * band, w)
    response = response.reshape(n_bands, band, w)[:, 1:-1, 1:-1]

    # the median of |response| over at most ~20k samples
    values = np.abs(response).reshape(-1)
    values = values[:: max(1, values.size // 20000)]
    mid = values.size // 2
    return float(np.partition(values, mid)[mid]) * _MAD_TO_SIGMA


class ClassicRestorer:
    """Restores underwater colour, haze and noise with classical image processing.

    Args:
        strength: scales every correction (red compensation, white balance, dehazing, contrast);
            0 leaves colour and contrast alone, 1 is the tuned default.
        denoise: whether to denoise at all; when on, the strength follows the estimated noise.
        smoothing: weight of the past in the moving averages of the global estimates, in [0, 1);
            0 estimates every frame on its own, 0.9 has a time constant of about ten frames.
        work_size: longest side, in pixels, of the copy on which statistics are gathered.
        t_min: lowest transmission allowed, so the dehazing gain is at most ``1 / t_min``.
        haze_weight: fraction of the haze the dark channel prior removes (w in He et al.).
        tolerance: distance to the airlight (in [0, 1]) below which the transmission is raised,
            so bright objects that merely resemble haze are not over-dehazed.
        clahe_clip: CLAHE clip limit; low values give mild contrast.
        denoise_factor: guided-filter regulariser as a multiple of the local noise std.
    """

    name = "classic"

    def __init__(
        self,
        *,
        strength: float = 1.0,
        denoise: bool = True,
        smoothing: float = 0.85,
        work_size: int = 256,
        t_min: float = 0.2,
        haze_weight: float = 0.85,
        tolerance: float = 0.25,
        clahe_clip: float = 1.5,
        denoise_factor: float = 2.0,
    ) -> None:
        if strength < 0:
            raise ValueError(f"strength must be >= 0, got {strength}")
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        if work_size < 16:
            raise ValueError(f"work_size must be >= 16, got {work_size}")
        if not 0.0 < t_min <= 1.0:
            raise ValueError(f"t_min must be in (0, 1], got {t_min}")
        self.strength = float(strength)
        self.denoise = denoise
        self.smoothing = float(smoothing)
        self.work_size = int(work_size)
        self.t_min = float(t_min)
        self.haze_weight = float(haze_weight)
        self.tolerance = float(tolerance)
        self.clahe_clip = float(clahe_clip)
        self.denoise_factor = float(denoise_factor)
        self._state: _Estimates | None = None
        self._workspace: _Workspace | None = None
        self._clahe: dict[tuple[int, int], cv2.CLAHE] = {}

    def reset(self) -> None:
        """Forget the moving averages, before the first frame of a new stream."""
        self._state = None

    @property
    def estimates(self) -> dict[str, float | list[float]]:
        """The current smoothed global estimates, empty before the first frame; for logging."""
        if self._state is None:
            return {}
        return {
            "red_comp": self._state.red_comp,
            "gains": [float(g) for g in self._state.gains],
            "airlight": [float(a) for a in self._state.airlight],
            "sigma": self._state.sigma,
            "mean_transmission": float(self._state.t_coarse.mean()),
        }

    def process(self, frames: np.ndarray) -> np.ndarray:
        """Restore the next frames of the stream.

        Args:
            frames: uint8 RGB, shape (N, H, W, 3), in presentation order; any H, W >= 1.

        Returns:
            uint8 RGB, shape (N, H, W, 3), C-contiguous.
        """
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(
                f"expected uint8 frames of shape (N, H, W, 3), got {frames.dtype} {frames.shape}"
            )
        restored = np.empty(frames.shape, dtype=np.uint8)
        for i in range(frames.shape[0]):
            self._restore(np.ascontiguousarray(frames[i]), restored[i])
        if self._state is not None and frames.shape[0] > 0:
            logger.debug("classic restorer estimates: %s", self.estimates)
        return restored

    # estimation, at work resolution

    def _estimate(self, small: np.ndarray, gray: np.ndarray) -> _Estimates:
        """The global parameters of one frame.

        Args:
            small: float32 RGB in [0, 1], shape (h, w, 3), the frame at work resolution.
            gray: uint8, shape (H, W), the full-resolution luma, for the noise estimate.
        """
        s = self.strength
        r, g, b = cv2.split(small)  # (h, w) each: numpy is slow along a short last axis

        # red compensation (Ancuti et al. 2018, alpha = 1)
        red_comp = s * max(cv2.mean(g)[0] - cv2.mean(r)[0], 0.0)
        r = r + np.float32(red_comp) * (1.0 - r) * g

        # shades-of-gray white balance, p = 6, normalised to keep the mean level
        norms = np.array([cv2.mean(cv2.pow(p, 6.0))[0] ** (1.0 / 6.0) for p in (r, g, b)])
        norms = np.maximum(norms, 1e-3)
        gains = (np.clip(norms.mean() / norms, 0.4, 2.5) ** s).astype(np.float32)
        balanced = [np.clip(p * gain, 0.0, 1.0) for p, gain in zip((r, g, b), gains)]

        # airlight: mean colour of the 0.1 % of pixels with the brightest dark channel
        patch = self._patch(small.shape[:2])
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (patch, patch))
        dark = cv2.erode(cv2.min(cv2.min(balanced[0], balanced[1]), balanced[2]), kernel)
        count = max(1, dark.size // 1000)
        top = np.argpartition(dark.reshape(-1), dark.size - count)[-count:]
        airlight = np.array([p.reshape(-1)[top].mean() for p in balanced], dtype=np.float32)
        airlight = np.clip(airlight, 0.3, 1.0)

        # transmission by the dark channel prior, raised where a pixel is close to the airlight
        w = np.float32(min(self.haze_weight * s, 0.98))
        ratio = [p * np.float32(1.0 / a) for p, a in zip(balanced, airlight)]
        t = 1.0 - w * cv2.erode(cv2.min(cv2.min(ratio[0], ratio[1]), ratio[2]), kernel)
        dist = [cv2.absdiff(p, float(a)) for p, a in zip(balanced, airlight)]
        dist = cv2.max(cv2.max(dist[0], dist[1]), dist[2])
        t *= np.maximum(np.float32(self.tolerance) / np.maximum(dist, np.float32(1e-3)), 1.0)

        return _Estimates(
            red_comp=red_comp,
            gains=gains,
            airlight=airlight,
            sigma=_noise_sigma(gray),
            t_coarse=np.clip(t, 0.0, 1.0),
        )

    @staticmethod
    def _patch(shape: tuple[int, ...]) -> int:
        """Dark-channel patch size: about 1/36 of the work image's longest side, odd."""
        return max(1, (max(shape) // 36) | 1)

    def _clahe_for(self, shape: tuple[int, int]) -> cv2.CLAHE:
        """A CLAHE with tiles of at least 16 pixels (at half resolution), cached per grid."""
        h, w = shape
        grid = (max(1, min(8, w // 16)), max(1, min(8, h // 16)))
        if grid not in self._clahe:
            self._clahe[grid] = cv2.createCLAHE(clipLimit=self.clahe_clip, tileGridSize=grid)
        return self._clahe[grid]

    # restoration, at full resolution

    def _buffers(self, h: int, w: int) -> _Workspace:
        """Buffers for frames of this size, kept from the previous frame when it matches."""
        if self._workspace is None or self._workspace.shape != (h, w):
            self._workspace = _Workspace(h, w)
        return self._workspace

    def _restore(self, frame: np.ndarray, out: np.ndarray) -> None:
        """Restore one frame.

        Args:
            frame: uint8 RGB, shape (H, W, 3), C-contiguous.
            out: uint8, shape (H, W, 3), C-contiguous; receives the restored frame.
        """
        h, w = frame.shape[:2]
        ws = self._buffers(h, w)
        scale = min(1.0, self.work_size / max(h, w))
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        hw, hh = (w + 1) // 2, (h + 1) // 2

        # work-resolution copy and full-resolution luma
        small = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)
        small = small.astype(np.float32) * np.float32(1.0 / 255.0)  # (sh, sw, 3), [0, 1]
        cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY, dst=ws.gray)

        # global estimates, smoothed over time
        new = self._estimate(small, ws.gray)
        self._state = new if self._state is None else self._state.blend(new, self.smoothing)
        est = self._state
        gains = est.gains
        air = est.airlight * np.float32(255.0)

        # transmission: guided filter at work resolution, its coefficients applied to the luma
        small_gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        radius = max(2, 2 * self._patch((sh, sw)))
        a, b = _guided_coeffs(small_gray, est.t_coarse, radius, 1e-3)
        cv2.resize(a * np.float32(1.0 / 255.0), (w, h), dst=ws.a, interpolation=cv2.INTER_LINEAR)
        cv2.resize(b, (w, h), dst=ws.b, interpolation=cv2.INTER_LINEAR)
        inv_t, haze = ws.inv_t, ws.haze
        np.multiply(ws.a, ws.gray, out=inv_t)
        np.add(inv_t, ws.b, out=inv_t)
        np.clip(inv_t, self.t_min, 1.0, out=inv_t)
        np.divide(np.float32(1.0), inv_t, out=inv_t)  # (H, W), 1 / t in [1, 1 / t_min]
        np.subtract(np.float32(1.0), inv_t, out=haze)  # (H, W), 1 - 1 / t, <= 0

        # dehaze before the white-balance gain: J_c = gain_c * p_c, where
        # p_c = I_c / t + (A_c / gain_c) * (1 - 1 / t), which is (gain_c I_c - A_c) / t + A_c
        cv2.split(frame, ws.planes_u8)
        p = ws.planes
        for c in range(3):
            np.multiply(ws.planes_u8[c], inv_t, out=p[c])

        # red compensation, I_r += k (255 - I_r) I_g / 255, on the already divided planes
        if est.red_comp > 0:
            np.subtract(np.float32(255.0), ws.planes_u8[0], out=ws.tmp)
            np.multiply(ws.tmp, p[1], out=ws.tmp)
            cv2.scaleAdd(ws.tmp, est.red_comp / 255.0, p[0], dst=p[0])
        for c in range(3):
            cv2.scaleAdd(haze, float(air[c] / gains[c]), p[c], dst=p[c])
        luma = ws.luma
        weights = _LUMA * gains
        cv2.addWeighted(p[0], float(weights[0]), p[1], float(weights[1]), 0.0, dst=luma)
        cv2.scaleAdd(p[2], float(weights[2]), luma, dst=luma)

        # denoising and local contrast of the luma, at half resolution
        luma_half = cv2.resize(luma, (hw, hh), interpolation=cv2.INTER_AREA)
        noisy = self.denoise and est.sigma > _SIGMA_MIN
        if noisy:
            gain_half = cv2.resize(inv_t, (hw, hh), interpolation=cv2.INTER_AREA)
            a, b = self._denoise_coeffs(luma_half, gain_half, est)
            base_half = a * luma_half + b
        else:
            base_half = luma_half
        base_u8 = cv2.convertScaleAbs(np.clip(base_half, 0.0, 255.0))
        contrast = self._clahe_for((hh, hw)).apply(base_u8)
        delta_half = cv2.subtract(contrast, base_u8, dtype=cv2.CV_32F)
        delta_half *= np.float32(min(self.strength, 1.0))

        # full-resolution luma change: (a - 1) * luma + b + contrast, or the contrast alone
        delta = ws.tmp
        if noisy:
            cv2.resize(a - 1.0, (w, h), dst=ws.a, interpolation=cv2.INTER_LINEAR)
            cv2.resize(b + delta_half, (w, h), dst=ws.b, interpolation=cv2.INTER_LINEAR)
            np.multiply(ws.a, luma, out=delta)
            np.add(delta, ws.b, out=delta)
        else:
            cv2.resize(delta_half, (w, h), dst=delta, interpolation=cv2.INTER_LINEAR)

        # recombine; when noisy, the chroma (plane minus luma) is blurred at half resolution
        radius = self._chroma_radius(est.sigma) if noisy else 0
        if radius > 0:
            np.add(luma, delta, out=delta)  # the new luma
            for c in range(3):
                chroma = cv2.resize(p[c], (hw, hh), interpolation=cv2.INTER_AREA)
                chroma = _box(chroma * gains[c] - luma_half, radius)
                cv2.resize(chroma, (w, h), dst=ws.a, interpolation=cv2.INTER_LINEAR)
                np.add(delta, ws.a, out=p[c])
        else:
            for c in range(3):
                cv2.scaleAdd(p[c], float(gains[c]), delta, dst=p[c])

        # back to uint8 (convertScaleAbs rounds and saturates; the clip removes negatives)
        for c in range(3):
            np.clip(p[c], 0.0, 255.0, out=p[c])
            cv2.convertScaleAbs(p[c], dst=ws.planes_u8[c])
        cv2.merge(ws.planes_u8, dst=out)

    def _denoise_coeffs(
        self, luma_half: np.ndarray, gain_half: np.ndarray, est: _Estimates
    ) -> tuple[np.ndarray, np.ndarray]:
        """Self-guided filter coefficients for the half-resolution luma.

        The regulariser is the square of ``denoise_factor`` times the local noise std, which is
        the input's noise times the white-balance and dehazing gain of each pixel: flat areas are
        smoothed and edges kept wherever the restoration amplified the noise.

        Args:
            luma_half: float32, shape (h, w), in 8-bit levels.
            gain_half: float32, shape (h, w), the dehazing gain 1 / t.
            est: the current estimates, for sigma and the white-balance gains.

        Returns:
            a, b: float32, shape (h, w) each; the denoised luma is ``a * luma + b``.
        """
        wb_gain = float(np.sqrt(np.sum((_LUMA * est.gains) ** 2) / np.sum(_LUMA**2)))
        std = gain_half * np.float32(self.denoise_factor * est.sigma * wb_gain)
        return _guided_coeffs(luma_half, luma_half, 2, std * std)

    @staticmethod
    def _chroma_radius(sigma: float) -> int:
        """Box radius, at half resolution, for the chroma of a frame with this noise std."""
        if sigma < 3.0:
            return 0
        return 1 if sigma < 8.0 else 2
