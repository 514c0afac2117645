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
from vidgan.models.restorer import RestoreNet


def apply_coefficients_cv(
    frame: np.ndarray,
    coef: np.ndarray,
    out: np.ndarray | None = None,
    work: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """OpenCV twin of `apply_coefficients` for one frame.

    Args:
        frame: uint8 RGB (H, W, 3).
        coef: float32 (h, w, 9): gain, offset and detail gain (three channels each).
        out: where to write the result, uint8 (H, W, 3); a new array when None.
        work: a dict kept between calls for scratch buffers. Reusing them matters: fresh
            full-frame allocations are returned to the system and faulted in again every
            frame, which more than doubled the time of this function in measurement.

    Returns:
        uint8 RGB (H, W, 3).
    """
    h, w = frame.shape[:2]
    work = {} if work is None else work
    if work.get("image") is None or work["image"].shape != frame.shape:
        for key in ("image", "base", "a", "b", "m0", "m1", "m2"):
            work[key] = np.empty(frame.shape, np.float32)
    # out = (1+g)·base + o + (1+k)·(I - base) = (1+k)·I + (g-k)·base + o, in 0..255 units
    low = [
        np.ascontiguousarray(1 + coef[..., 6:9]),
        np.ascontiguousarray(coef[..., 0:3] - coef[..., 6:9]),
        np.ascontiguousarray(coef[..., 3:6] * 255),
    ]
    maps = [work["m0"], work["m1"], work["m2"]]
    for small, big in zip(low, maps, strict=True):
        cv2.resize(small, (w, h), dst=big, interpolation=cv2.INTER_LINEAR)

    image = work["image"]
    np.copyto(image, frame, casting="unsafe")
    cv2.blur(image, (3, 3), dst=work["base"])
    cv2.multiply(image, maps[0], dst=work["a"])
    cv2.multiply(work["base"], maps[1], dst=work["b"])
    cv2.add(work["a"], work["b"], dst=work["a"])
    if out is None:
        out = np.empty_like(frame)
    cv2.add(work["a"], maps[2], dst=out, dtype=cv2.CV_8U)  # rounds, saturates at 0 and 255
    return out


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
        self._work: dict[str, np.ndarray] = {}
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
            apply_coefficients_cv(frames[i], coef_np[i], out=out[i], work=self._work)
        return out
