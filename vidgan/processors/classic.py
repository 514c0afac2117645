"""A classical restorer for underwater colour cast, haze and noise: the baseline a GAN must beat.

``ClassicRestorer`` is a :class:`~vidgan.engine.processor.Processor` built from OpenCV and numpy
only. Each frame goes through five steps:

1. red-channel compensation (Ancuti et al., "Color Balance and Fusion for Underwater Image
   Enhancement", TIP 2018): ``r += k (1 - r) g`` with k the gap between the green and red means.
   Water absorbs red so strongly that a white-balance gain alone would amplify little but noise;
2. dehazing by the dark channel prior (He, Sun and Tang, CVPR 2009) on the compensated frame:
   airlight from the pixels with the brightest dark channel, transmission
   ``t = 1 - w * dark(I / A)``, refined and brought to full resolution in one go by a fast
   guided filter (He and Sun, "Fast Guided Filter", 2015), then ``J = (I - A) / max(t, t0) + A``.
   ``w`` is a gentle 0.7 and the transmission is raised where a pixel is already close to the
   airlight (the usual tolerance for bright areas that break the prior), so white objects and
   clean frames are not crushed;
3. a shades-of-gray white balance (Finlayson and Trezzi, "Shades of Gray and Colour
   Constancy", 2004) with Minkowski norm p = 6, estimated on the dehazed frame: estimated on
   the hazy one, the gains would mostly neutralise the colour of the water rather than the
   colour of the light reaching the scene;
4. mild contrast by CLAHE (Zuiderveld, Graphics Gems IV, 1994) on the luma, with a low clip
   limit; and denoising by a guided filter whose strength follows the noise sigma, estimated
   with Immerkaer's operator ("Fast Noise Variance Estimation", 1996; a median instead of his
   mean, so texture is not taken for noise) and scaled by the gain steps 1-3 gave each pixel.
   The filter's edge-aware weight comes from the luma and is shared by the three colours, so
   chroma noise goes with luma noise. Bilateral filtering (~15 ms) and non-local means (~1 s)
   per 720p frame on one core were measured and rejected as too slow;
5. temporal stability: every global estimate (red compensation, airlight, white-balance gains,
   noise sigma) and the coarse transmission map are exponential moving averages over frames, so
   the output does not flicker. The first frame initialises them.

Statistics are gathered on a copy whose longest side is ``work_size`` pixels; CLAHE and the
denoising filter run at half resolution and reach full resolution as smooth corrections (a
contrast offset, the guided filter's linear coefficients). Full-resolution work is thus a few
dozen arithmetic passes over single planes, into buffers reused from frame to frame. On one core
of a slow 2-core virtual machine (AMD EPYC, 2.4 GHz) a frame takes a median 5-6 ms at 640x360
and 16-19 ms at 1280x720; 1-2 ms and 4-5 ms more when it is noisy enough to be denoised.

Known limits: one transmission serves the three channels, while under water red is attenuated
far faster than blue, so distant parts of a scene keep some blue-green cast after the global
white balance. The white balance assumes the scene is gray on average, so a clean frame
dominated by one colour (a red cup filling the picture) is pulled towards gray.

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

# Immerkaer's operator, the difference of two Laplacians, is [1, -2, 1] (x) [1, -2, 1]: separable
# and zero on any plane. Its response to white noise of std sigma has std 6 * sigma (the root of
# the sum of its squared taps), and the median of |N(0, 1)| is 0.6745
_SECOND_DIFFERENCE = np.array([1, -2, 1], dtype=np.float32)
_MAD_TO_SIGMA = 1.0 / (6.0 * 0.6745)

# noise std (8-bit levels) that is not taken for noise: quantisation alone reads ~0.3 and fine
# texture up to ~1.5 on clean photographs. It is subtracted in quadrature, so the denoising
# strength grows continuously from zero instead of switching on at a threshold, which flickers.
_SIGMA_FLOOR = 1.5


@dataclass
class _Estimates:
    """The global parameters of one frame, or their moving averages.

    Attributes:
        red_comp: red compensation factor k in ``r + k (1 - r) g``, r and g in [0, 1].
        gains: white-balance gains, float32, shape (3,), applied after dehazing.
        airlight: airlight of the red-compensated frame, float32, shape (3,), in [0, 1].
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
        self.inv_t = np.empty((h, w), dtype=np.float32)
        self.haze = np.empty((h, w), dtype=np.float32)
        self.a = np.empty((h, w), dtype=np.float32)
        self.b = np.empty((h, w), dtype=np.float32)
        self.tmp = np.empty((h, w), dtype=np.float32)


def _box(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, mirrored at the borders; float32 (h, w) in and out.

    Small windows use a separable filter, about twice as fast as cv2.boxFilter on one core;
    large ones use cv2.boxFilter, whose running sums cost the same for any radius.
    """
    size = 2 * r + 1
    if r > 3:
        return cv2.boxFilter(x, -1, (size, size), borderType=cv2.BORDER_REFLECT)
    k = np.full(size, 1.0 / size, dtype=np.float32)
    return cv2.sepFilter2D(x, -1, k, k, borderType=cv2.BORDER_REFLECT)


def _shrink(frame: np.ndarray, size: int) -> np.ndarray:
    """Shrink a uint8 (H, W, 3) frame so that its longest side is at most ``size``.

    Frames more than twice too large are first resized bilinearly to twice the target, then
    area-averaged by exactly two: three to four times faster than one area resize by a
    non-integer ratio, and only a little noisier, which statistics do not mind.
    """
    h, w = frame.shape[:2]
    scale = min(1.0, size / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    if scale <= 0.5:
        frame = cv2.resize(frame, (2 * sw, 2 * sh), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)


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
    k = _SECOND_DIFFERENCE
    response = cv2.sepFilter2D(gray[rows], cv2.CV_32F, k, k)  # (n_bands * band, w)
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
        haze_weight: float = 0.7,
        tolerance: float = 0.25,
        clahe_clip: float = 1.5,
        denoise_factor: float = 1.5,
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
        if frames.shape[0] > 0 and logger.isEnabledFor(logging.DEBUG):
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

        # airlight: mean colour of the 0.5 % of pixels with the brightest dark channel (He et al.
        # take 0.1 %; more pixels make a steadier estimate from frame to frame)
        comp = (r, g, b)
        patch = self._patch(small.shape[:2])
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (patch, patch))
        dark = cv2.erode(cv2.min(cv2.min(comp[0], comp[1]), comp[2]), kernel)
        count = min(dark.size, max(16, dark.size // 200))
        top = np.argpartition(dark.reshape(-1), dark.size - count)[-count:]
        airlight = np.array([p.reshape(-1)[top].mean() for p in comp], dtype=np.float32)
        airlight = np.maximum(airlight, np.float32(0.05))

        # transmission by the dark channel prior, raised where a pixel is close to the airlight
        w = np.float32(min(self.haze_weight * s, 0.98))
        ratio = [p * np.float32(1.0 / a) for p, a in zip(comp, airlight, strict=True)]
        t = 1.0 - w * cv2.erode(cv2.min(cv2.min(ratio[0], ratio[1]), ratio[2]), kernel)
        dist = [np.abs(p - a) for p, a in zip(comp, airlight, strict=True)]
        dist = cv2.max(cv2.max(dist[0], dist[1]), dist[2])
        t *= np.maximum(np.float32(self.tolerance) / np.maximum(dist, np.float32(1e-3)), 1.0)
        t = np.clip(t, 0.0, 1.0)

        # shades-of-gray white balance of the dehazed frame, p = 6, keeping the mean level
        inv_t = 1.0 / np.maximum(t, np.float32(self.t_min))
        dehazed = [(p - a) * inv_t + a for p, a in zip(comp, airlight, strict=True)]
        dehazed = [np.clip(p, 0.0, 1.0) for p in dehazed]
        norms = np.array([cv2.mean(cv2.pow(p, 6.0))[0] ** (1.0 / 6.0) for p in dehazed])
        norms = np.maximum(norms, 1e-3)
        gains = (np.clip(norms.mean() / norms, 0.4, 2.5) ** s).astype(np.float32)

        return _Estimates(
            red_comp=red_comp,
            gains=gains,
            airlight=airlight,
            sigma=_noise_sigma(gray),
            t_coarse=t,
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
        hw, hh = (w + 1) // 2, (h + 1) // 2

        # work-resolution copy and full-resolution luma
        small = _shrink(frame, self.work_size).astype(np.float32)
        small *= np.float32(1.0 / 255.0)  # (sh, sw, 3), in [0, 1]
        sh, sw = small.shape[:2]
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
        inv_t_coarse = 1.0 / np.maximum(est.t_coarse, np.float32(self.t_min))
        a, b = _guided_coeffs(small_gray, inv_t_coarse, radius, 1e-3)
        cv2.resize(a * np.float32(1.0 / 255.0), (w, h), dst=ws.a, interpolation=cv2.INTER_LINEAR)
        cv2.resize(b, (w, h), dst=ws.b, interpolation=cv2.INTER_LINEAR)
        inv_t, haze = ws.inv_t, ws.haze
        np.multiply(ws.a, ws.gray, out=inv_t)
        np.add(inv_t, ws.b, out=inv_t)
        np.clip(inv_t, 1.0, 1.0 / self.t_min, out=inv_t)  # (H, W), 1 / t
        np.subtract(np.float32(1.0), inv_t, out=haze)  # (H, W), 1 - 1 / t, <= 0

        # dehaze, leaving the white-balance gain for the very end: J_c = gain_c * p_c with
        # p_c = I_c / t + A_c * (1 - 1 / t), which is (I_c - A_c) / t + A_c
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
            cv2.scaleAdd(haze, float(air[c]), p[c], dst=p[c])

        # half resolution: the restored colours (with gain) and their luma
        half = [
            cv2.resize(p[c], (hw, hh), interpolation=cv2.INTER_AREA) * gains[c] for c in range(3)
        ]
        luma_half = _LUMA[0] * half[0] + _LUMA[1] * half[1] + _LUMA[2] * half[2]

        # denoising: one edge-aware weight from the luma, shared by the three colours
        sigma = float(np.sqrt(max(est.sigma**2 - _SIGMA_FLOOR**2, 0.0)))
        noisy = self.denoise and sigma > 0.0
        if noisy:
            gain_half = cv2.resize(inv_t_coarse, (hw, hh), interpolation=cv2.INTER_LINEAR)
            a, offsets = self._denoise_coeffs(luma_half, half, gain_half, sigma, gains)
            luma_half = a * luma_half + (
                _LUMA[0] * offsets[0] + _LUMA[1] * offsets[1] + _LUMA[2] * offsets[2]
            )

        # mild local contrast: CLAHE on the half-resolution luma, kept as an offset
        luma_u8 = cv2.convertScaleAbs(np.clip(luma_half, 0.0, 255.0))
        contrast = self._clahe_for((hh, hw)).apply(luma_u8)
        delta = cv2.subtract(contrast, luma_u8, dtype=cv2.CV_32F)
        # keep only the smooth part: the fine part is CLAHE's re-quantisation of the luma,
        # which changes from frame to frame and shows as flicker
        delta = cv2.GaussianBlur(delta, (0, 0), 3.0)
        delta *= np.float32(min(self.strength, 1.0))

        # full resolution: out_c = gain_c * (a * p_c + offset_c / gain_c), or without the a
        if noisy:
            cv2.resize(a, (w, h), dst=ws.a, interpolation=cv2.INTER_LINEAR)
        else:
            cv2.resize(delta, (w, h), dst=ws.b, interpolation=cv2.INTER_LINEAR)
        for c in range(3):
            gain = float(gains[c])
            if noisy:
                offset = (offsets[c] + delta) * np.float32(1.0 / gain)
                cv2.resize(offset, (w, h), dst=ws.tmp, interpolation=cv2.INTER_LINEAR)
                cv2.accumulateProduct(p[c], ws.a, ws.tmp)
                result = ws.tmp
            else:
                cv2.scaleAdd(ws.b, 1.0 / gain, p[c], dst=p[c])
                result = p[c]

            # to uint8: clip, then gain, rounding and saturation in one convertScaleAbs
            np.clip(result, 0.0, 255.0 / gain, out=result)
            cv2.convertScaleAbs(result, dst=ws.planes_u8[c], alpha=gain)
        cv2.merge(ws.planes_u8, dst=out)

    def _denoise_coeffs(
        self,
        luma: np.ndarray,
        colours: list[np.ndarray],
        gain: np.ndarray,
        sigma: float,
        gains: np.ndarray,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Guided-filter denoising of the three colours with one weight taken from the luma.

        Each colour c becomes ``a * c + (1 - a) * mean(c)``, a blend of the pixel and its window
        mean with the luma's self-guided weight ``a = var / (var + eps)`` (box-averaged, as in
        the guided filter): flat areas (a ~ 0) are replaced by their mean, luma and chroma noise
        alike, while edges and texture (a ~ 1) are kept. eps is the square of
        ``denoise_factor`` times the local noise std, i.e. the input's noise times the
        white-balance and dehazing gain of each pixel.

        Args:
            luma: float32, shape (h, w), in 8-bit levels.
            colours: three float32 (h, w) planes, the restored R, G, B, in 8-bit levels.
            gain: float32, shape (h, w), the dehazing gain 1 / t.
            sigma: noise std of the input luma, in 8-bit levels.
            gains: float32, shape (3,), the white-balance gains.

        Returns:
            a: float32, shape (h, w), the smoothed weight.
            offsets: three float32 (h, w) planes; the denoised colour c is ``a * c + offset``.
        """
        wb_gain = float(np.sqrt(np.sum((_LUMA * gains) ** 2) / np.sum(_LUMA**2)))
        eps = gain * np.float32(self.denoise_factor * sigma * wb_gain)
        eps *= eps
        eps += np.float32(1e-6)  # keeps 0 / 0 out of perfectly flat areas

        r = 2
        mean = _box(luma, r)
        var = _box(luma * luma, r) - mean * mean
        a = _box(var / (var + eps), r)
        offsets = [(1.0 - a) * _box(c, r) for c in colours]
        return a, offsets
