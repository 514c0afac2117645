"""Running a torch generator on a stream of frames: device, precision, padding, windows, tiling.

This is the one place where frames change layout on their way into and out of models:

    uint8 (N, H, W, 3) on the host ──▶ upload as uint8 ──▶ float (N, C, H, W) in [0, 1] on device
    ──▶ padded to the model's size multiple ──▶ windows (N, T, C, H, W) when the model looks back
    ──▶ model ──▶ cropped, quantised to uint8 on device ──▶ (N, H, W, 3) on the host

A model states what it needs through three optional attributes: ``size_multiple`` (its input
sides must divide by it), ``context`` (how many past frames it sees besides the current one)
and ``causal`` (True when it never needs future frames, so a live stream can feed it).
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidgan.engine.device import autocast_dtype

log = logging.getLogger(__name__)


def temporal_windows(
    x: torch.Tensor, history: torch.Tensor | None, context: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Give each of N frames the ``context`` frames before it, across calls.

    Args:
        x: (N, C, H, W), the next frames of a stream.
        history: (context, C, H, W), the last frames of the previous call; None at the start of a
            stream or after a change of size, where the first frame stands in for its past.

    Returns:
        windows (N, context + 1, C, H, W) with the current frame last, and the new history.
    """
    if history is None or history.shape[-3:] != x.shape[-3:]:
        history = x[:1].expand(context, -1, -1, -1)
    seq = torch.cat([history, x])  # (context + N, C, H, W)
    windows = seq.unfold(0, context + 1, 1).permute(0, 4, 1, 2, 3)  # (N, T, C, H, W)
    return windows, seq[-context:].clone()


class TorchRunner:
    """Adapts an ``nn.Module`` generator to the engine's Processor protocol.

    The model takes float (B, C, H, W) in [0, 1], or (B, T, C, H, W) with T = context + 1 when
    it has a ``context``, the current frame last; it returns (B, C, H, W) in [0, 1].

    An out-of-memory error halves the batch, and at a batch of one splits the picture into
    overlapping tiles, instead of ending the run; the smaller size is kept for later batches.
    """

    name = "torch"

    def __init__(
        self,
        model: nn.Module,
        device: torch.device,
        *,
        precision: str = "auto",
        name: str | None = None,
        tile_overlap: int = 16,
    ) -> None:
        self.model = model.to(device).eval()
        self.device = device
        self.dtype = autocast_dtype(device, precision)
        self.multiple = int(getattr(model, "size_multiple", 1))
        self.context = int(getattr(model, "context", 0))
        self.tile_overlap = tile_overlap
        self.max_batch: int | None = None  # learned from out-of-memory errors
        self.tiles = 1  # tiles per side once a single frame no longer fits
        if name:
            self.name = name
        if device.type == "cpu":
            # 4-D weights only: Module.to(memory_format=channels_last) fails on a Conv3d's 5-D ones
            for t in [*self.model.parameters(), *self.model.buffers()]:
                if t.dim() == 4:
                    t.data = t.data.contiguous(memory_format=torch.channels_last)
        self._history: torch.Tensor | None = None

    def reset(self) -> None:
        self._history = None

    @torch.inference_mode()
    def process(self, frames: np.ndarray) -> np.ndarray:
        n, h, w, _ = frames.shape

        # upload uint8, normalise on the device; NHWC memory read as NCHW is channels_last
        x = torch.from_numpy(frames).to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).float().div_(255)  # (N, C, H, W)
        ph, pw = -h % self.multiple, -w % self.multiple
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")  # (N, C, H + ph, W + pw)

        # temporal windows: each frame with the `context` frames before it
        if self.context:
            x, self._history = temporal_windows(x, self._history, self.context)

        y = self._run(x)  # (N, C, H + ph, W + pw)

        # back to uint8 on the device, so only a quarter of the bytes travel back
        y = y[..., :h, :w].clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return y.permute(0, 2, 3, 1).contiguous().cpu().numpy()  # (N, H, W, 3)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dtype is None:
            return self.model(x).float()
        with torch.autocast(self.device.type, dtype=self.dtype):
            return self.model(x).float()

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        """The model over a batch, in pieces small enough to fit."""
        step = self.max_batch or len(x)
        outputs = []
        i = 0
        while i < len(x):
            piece = x[i : i + step]
            try:
                outputs.append(self._tiled(piece) if self.tiles > 1 else self._forward(piece))
                i += step
                continue
            except torch.OutOfMemoryError:
                if step == 1 and self.tiles >= 16:
                    raise
            # out of the except block, so the failed pass's tensors can be freed
            self._free()
            if step > 1:
                step = self.max_batch = step // 2
                log.warning("out of memory: batch lowered to %d", step)
            else:
                self.max_batch = 1
                self.tiles *= 2
                log.warning("out of memory: splitting frames into %dx%d tiles", *(self.tiles,) * 2)
        return torch.cat(outputs)

    def _tiled(self, x: torch.Tensor) -> torch.Tensor:
        """Run on ``tiles`` x ``tiles`` overlapping crops and stitch their centres."""
        h, w = x.shape[-2:]
        m = self.multiple
        th = -(-h // self.tiles // m) * m
        tw = -(-w // self.tiles // m) * m
        pad = -(-self.tile_overlap // m) * m
        out = torch.empty((x.shape[0], 3, h, w), device=x.device)
        for top in range(0, h, th):
            for left in range(0, w, tw):
                # a crop with a margin; every bound is a multiple of m, as h and w are
                t0, l0 = max(0, top - pad), max(0, left - pad)
                t1, l1 = min(h, top + th + pad), min(w, left + tw + pad)
                y = self._forward(x[..., t0:t1, l0:l1])
                bh, bw = min(th, h - top), min(tw, w - left)
                out[..., top : top + bh, left : left + bw] = y[
                    ..., top - t0 : top - t0 + bh, left - l0 : left - l0 + bw
                ]
        return out

    def _free(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
