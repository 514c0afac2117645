"""The restoration GAN on a stream: the network in torch at low resolution, the correction at
full resolution with OpenCV.

The full-resolution step is a handful of per-pixel multiply-adds (see
`vidgan.models.restorer.apply_coefficients`, which is the same arithmetic in torch, used in
training). OpenCV's vectorised loops do it several times faster than torch's CPU kernels, and
it is this step, not the network, that decides whether 720p restores in real time.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import torch

from vidgan.engine.device import autocast_dtype
from vidgan.engine.runner import temporal_windows
from vidgan.models.restorer import RestoreNet

log = logging.getLogger(__name__)


def apply_coefficients_cv(frame: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """OpenCV twin of `apply_coefficients` for one frame.

    Args:
        frame: uint8 RGB (H, W, 3).
        coef: float32 (h, w, 9): gain, offset and detail gain (three channels each).

    Returns:
        uint8 RGB (H, W, 3).
    """
    h, w = frame.shape[:2]
    # out = (1+g)·base + o + (1+k)·(I - base) = (1+k)·I + (g-k)·base + o, in 0..255 units
    k1 = 1 + coef[..., 6:9]
    gk = coef[..., 0:3] - coef[..., 6:9]
    o = coef[..., 3:6] * 255
    low = np.ascontiguousarray(np.concatenate([k1, gk, o], axis=-1))
    maps = [
        cv2.resize(low[..., i : i + 3], (w, h), interpolation=cv2.INTER_LINEAR) for i in (0, 3, 6)
    ]

    image = frame.astype(np.float32)
    base = cv2.blur(image, (3, 3))
    out = cv2.add(cv2.multiply(image, maps[0]), cv2.multiply(base, maps[1]))
    out = cv2.add(out, maps[2])
    np.maximum(out, 0, out=out)
    return cv2.convertScaleAbs(out)  # rounds and saturates at 255


class GanRestorer:
    """A trained RestoreNet as an engine Processor: uint8 (N, H, W, 3) in and out.

    With ``temporal=False`` every frame is shown to the network as its own past: the per-frame
    variant, for comparison.

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
        name: str = "gan",
        cpu_threads: int | None = 1,
    ) -> None:
        self.net = net.to(device).eval()
        self.device = device
        self.dtype = autocast_dtype(device, precision)
        self.scale = net.config.scale
        self.context = net.config.context
        self.temporal = temporal
        self.name = name
        self._history: torch.Tensor | None = None
        if device.type == "cpu" and cpu_threads:
            torch.set_num_threads(cpu_threads)

    def reset(self) -> None:
        self._history = None

    @torch.inference_mode()
    def process(self, frames: np.ndarray) -> np.ndarray:
        n, h, w, _ = frames.shape
        lh, lw = max(1, round(h / self.scale)), max(1, round(w / self.scale))

        # low-resolution views, averaged over each block, as training's avg_pool does
        views = np.stack([cv2.resize(f, (lw, lh), interpolation=cv2.INTER_AREA) for f in frames])
        x = torch.from_numpy(views).to(self.device).permute(0, 3, 1, 2).float().div_(255)
        if self.temporal:
            windows, self._history = temporal_windows(x, self._history, self.context)
        else:
            windows = x[:, None].expand(-1, self.context + 1, -1, -1, -1)  # (N, T, 3, h, w)

        if self.dtype is None:
            coef = self.net(windows)
        else:
            with torch.autocast(self.device.type, dtype=self.dtype):
                coef = self.net(windows)
        coef_np = coef.float().permute(0, 2, 3, 1).cpu().numpy()  # (N, h, w, 9)

        out = np.empty_like(frames)
        for i in range(n):
            out[i] = apply_coefficients_cv(frames[i], coef_np[i])
        return out
