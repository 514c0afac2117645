"""The restoration GAN on a stream: the network in torch at low resolution, the correction at
full resolution with OpenCV.

The full-resolution step is a handful of per-pixel multiply-adds (see
`vidgan.models.restorer.apply_coefficients`, which is the same arithmetic in torch, used in
training). OpenCV's vectorised loops do it several times faster than torch's CPU kernels, and
it is this step, not the network, that decides whether 720p restores in real time.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidgan.engine.device import autocast_dtype
from vidgan.engine.runner import temporal_windows
from vidgan.models.restorer import LUMA, RestoreNet

LUMA3 = np.array([LUMA] * 3, np.float32)  # RGB -> (Y, Y, Y) for cv2.transform
VIEW_LINES = 180  # the step, in lines, by which the view grows coarser
MOTION = 0.08  # mean change of a low-resolution cell, in [0, 1], that stops the blending


def _buffers(work: dict[str, np.ndarray], shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Full-frame float32 scratch buffers, made once per frame size."""
    if work.get("image") is None or work["image"].shape != shape:
        for key in ("image", "base", "luma", "map", "acc"):
            work[key] = np.empty(shape, np.float32)
    return work


def view_scale(height: int, width: int, scale: int) -> int:
    """The network sees 1/scale of a frame below 360 lines, and coarser in steps of 180 lines:
    1/16 at 360p, 1/32 at 720p, 1/48 at 1080p.

    Half of its training clips show whole pictures scaled down to 128x128, so a cell covering
    1/16 of the picture or less is what it learnt on. A fixed-size view keeps the network's
    cost flat: at 1/8 it took 9 ms a frame on one core at 360p and 24 ms at 720p, the largest
    part of the time; at the coarser view the held-out PSNR was the same (18.88 against
    18.83 dB underwater, 30.27 against 30.29 on noise).
    """
    return scale * max(1, min(height, width) // VIEW_LINES)


def prepare_frame(frame: np.ndarray, low: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One frame's low-resolution view and detail energy, as the network is trained to see them.

    Args:
        frame: uint8 RGB (H, W, 3).
        low: (h, w) of the network's view.

    Returns:
        The view, uint8 (h, w, 3), area-averaged as ``low_view``; and the detail energy of the
        frame's every other pixel, float32 (h, w, 3) in [0, 1] units, as ``detail_energy``.
    """
    h, w = frame.shape[:2]
    lh, lw = low
    view = cv2.resize(frame, (lw, lh), interpolation=cv2.INTER_AREA)
    half = cv2.resize(frame, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_NEAREST)
    half_f = half.astype(np.float32)
    detail = cv2.subtract(half_f, cv2.blur(half_f, (3, 3)))
    cv2.multiply(detail, detail, dst=detail, scale=1 / 255**2)
    energy = np.sqrt(cv2.resize(detail, (lw, lh), interpolation=cv2.INTER_AREA))
    return view, energy


def apply_coefficients_cv(
    frame: np.ndarray,
    coef: np.ndarray,
    out: np.ndarray | None = None,
    work: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """OpenCV twin of `apply_coefficients` for one frame.

    Args:
        frame: uint8 RGB (H, W, 3).
        coef: float32 (h, w, 12): gain, luma mix, offset and detail gain (three channels each).
        out: where to write the result, uint8 (H, W, 3); a new array when None.
        work: a dict kept between calls for scratch buffers. Reusing them matters: fresh
            full-frame allocations are returned to the system and faulted in again every
            frame, which more than doubled the time of this function in measurement.

    Returns:
        uint8 RGB (H, W, 3).
    """
    h, w = frame.shape[:2]
    work = _buffers({} if work is None else work, frame.shape)
    image, base, luma, big, acc = (work[k] for k in ("image", "base", "luma", "map", "acc"))
    np.copyto(image, frame, casting="unsafe")
    cv2.blur(image, (3, 3), dst=base)
    cv2.transform(image, LUMA3, dst=luma)

    # out = (1+g)·base + m·Y + o + (1+k)·(I - base) = o + (1+k)·I + (g-k)·base + m·Y, in 0..255;
    # each map is upsampled into one buffer and multiply-added into the sum at once
    cv2.resize(np.ascontiguousarray(coef[..., 6:9] * 255), (w, h), dst=acc)
    terms = (
        (image, 1 + coef[..., 9:12]),
        (base, coef[..., 0:3] - coef[..., 9:12]),
        (luma, np.ascontiguousarray(coef[..., 3:6])),
    )
    for plane, small in terms:
        cv2.resize(small, (w, h), dst=big, interpolation=cv2.INTER_LINEAR)
        cv2.accumulateProduct(plane, big, acc)
    if out is None:
        out = np.empty_like(frame)
    # to uint8, rounded and saturated (the stubs do not know the scalar form)
    zero = (0.0, 0.0, 0.0, 0.0)
    cv2.add(acc, zero, dst=out, dtype=cv2.CV_8U)  # type: ignore[call-overload]
    return out


class GanRestorer:
    """A trained RestoreNet as an engine Processor: uint8 (N, H, W, 3) in and out.

    Temporal state, carried from call to call until `reset`: the views of the last
    ``context`` frames, which the network sees beside the current one; and the network's last
    coefficients. Each frame's coefficients are blended with the previous frame's, with weight
    ``smooth`` where the low-resolution picture holds still and less where it changes (none
    where a cell moves by ``MOTION`` or more, as at a cut). The network alone left the
    coefficients to jitter from frame to frame: in measurement this blend took the underwater
    flicker from 1.36 to under 1.0 (the clean clip's is 0.80) at no cost in PSNR.

    With ``temporal=False`` there is no state: every frame is shown to the network as its own
    past and its coefficients are used as they are. This is the per-frame variant, for
    comparison.

    On the CPU this sets torch to one intra-op thread (``cpu_threads``): the network is tiny,
    and more threads only fight the decoder, the encoder and OpenCV for the same cores, which
    made it ten times slower in measurement on a busy 2-core machine.
    """

    def __init__(
        self,
        net: RestoreNet,
        device: torch.device,
        *,
        precision: str = "auto",
        temporal: bool = True,
        smooth: float = 0.7,
        name: str = "gan",
        cpu_threads: int | None = 1,
    ) -> None:
        self.net = net.to(device).eval()
        self.device = device
        self.dtype = autocast_dtype(device, precision)
        self.scale = net.config.scale
        self.context = net.config.context
        self.temporal = temporal
        self.smooth = smooth if temporal else 0.0
        self.name = name
        self._history: torch.Tensor | None = None
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None  # coefficients, view
        self._work: dict[str, np.ndarray] = {}
        if device.type == "cpu" and cpu_threads:
            torch.set_num_threads(cpu_threads)

    def reset(self) -> None:
        self._history = None
        self._last = None

    def _blend(self, coef: torch.Tensor, views: torch.Tensor) -> torch.Tensor:
        """Blend (N, 12, h, w) coefficients over time, frame by frame; views (N, 3, h, w)."""
        out = torch.empty_like(coef)
        for i in range(len(coef)):
            c, v = coef[i], views[i]
            if self._last is not None and self._last[0].shape == c.shape:
                change = (v - self._last[1]).abs().mean(0, keepdim=True)  # (1, h, w)
                keep = self.smooth * (1 - change / MOTION).clamp(min=0)
                c = keep * self._last[0] + (1 - keep) * c
            self._last = c, v
            out[i] = c
        return out

    @torch.inference_mode()
    def process(self, frames: np.ndarray) -> np.ndarray:
        n, h, w, _ = frames.shape
        scale = view_scale(h, w, self.scale)
        low = max(1, round(h / scale)), max(1, round(w / scale))

        # each frame's low-resolution view and detail energy, for the network
        views, energies = zip(*(prepare_frame(f, low) for f in frames), strict=True)
        x = torch.from_numpy(np.stack(views)).to(self.device).permute(0, 3, 1, 2).float().div_(255)
        e = torch.from_numpy(np.stack(energies)).to(self.device).permute(0, 3, 1, 2)
        if self.temporal:
            windows, self._history = temporal_windows(x, self._history, self.context)
        else:
            windows = x[:, None].expand(-1, self.context + 1, -1, -1, -1)  # (N, T, 3, h, w)

        if self.dtype is None:
            coef = self.net(windows, e)
        else:
            with torch.autocast(self.device.type, dtype=self.dtype):
                coef = self.net(windows, e)
        coef = coef.float()
        if self.smooth > 0:
            coef = self._blend(coef, x)
        coef_np = coef.permute(0, 2, 3, 1).cpu().numpy()  # (N, h, w, 12)

        out = np.empty_like(frames)
        for i in range(n):
            apply_coefficients_cv(frames[i], coef_np[i], out=out[i], work=self._work)
        return out
