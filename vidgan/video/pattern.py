"""A live test source: a moving picture with its frame number drawn in, sent at a steady rate.

`PatternSender` encodes synthetic frames (libx264 ultrafast, zerolatency, no B-frames) to a
network URL, paced with ``time.monotonic()``, and remembers when it sent each one. A receiver
reads the number back with `read_index`, so the time from sending to output can be measured
end to end on one machine. The tests and ``scripts/soak_stream.py`` use it; it also checks a
network path before a real camera is put on it.

>>> with PatternSender("udp://127.0.0.1:5000?pkt_size=1316") as sender:
...     ...  # receive; sender.sent_at(read_index(image)) is when that frame left
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from fractions import Fraction
from types import TracebackType

import numpy as np

from vidgan.video.colour import RANGE_MPEG, SPC_UNSPECIFIED, resolve_colour
from vidgan.video.sinks import EncodedSink
from vidgan.video.writer import WriterSettings

_BITS = 20  # frame numbers up to about a million: over nine hours at 30 fps
_BLOCK = 24  # px, the side of one bit's square
_KEEP = 4096  # send times remembered, by frame number modulo this


@functools.lru_cache(maxsize=4)
def _background(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A red ramp across (W,), a green ramp down and a blue checkerboard (H, W)."""
    y, x = np.mgrid[0:height, 0:width]
    red = (np.arange(width) * 255 // max(1, width)).astype(np.uint8)
    green = (y * 255 // max(1, height)).astype(np.uint8)
    blue = ((x // 32 + y // 32) % 2 * 80 + 60).astype(np.uint8)
    return red, green, blue


def pattern_image(index: int, width: int, height: int) -> np.ndarray:
    """Frame ``index``: a drifting gradient with the number as a row of black or white squares.

    Returns uint8 RGB (H, W, 3); the squares sit along the top edge, the lowest bit first.
    """
    red, green, blue = _background(width, height)
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = np.roll(red, index * 4)[None, :]
    image[..., 1] = green
    image[..., 2] = blue
    for bit in range(_BITS):
        level = 235 if index >> bit & 1 else 16
        image[:_BLOCK, bit * _BLOCK : (bit + 1) * _BLOCK] = level
    return image


def read_index(image: np.ndarray) -> int:
    """The frame number `pattern_image` drew into ``image``, uint8 RGB (H, W, 3)."""
    index = 0
    c = _BLOCK // 2
    for bit in range(_BITS):
        x = bit * _BLOCK + c
        if image[c - 4 : c + 4, x - 4 : x + 4].mean() > 128:
            index |= 1 << bit
    return index


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port on ``host`` that nothing listens on now, for a loopback test stream."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class PatternSender:
    """Sends `pattern_image` frames to ``url`` at ``fps`` from a thread until stopped."""

    def __init__(
        self,
        url: str,
        *,
        size: tuple[int, int] = (640, 480),
        fps: int = 30,
        keyframe_every: int = 15,
    ) -> None:
        self.url = url
        self.width, self.height = size
        self.fps = fps
        self.sent = 0
        self.error: BaseException | None = None
        self._settings = WriterSettings(
            crf=23, preset="ultrafast", tune="zerolatency", gop=keyframe_every
        )
        self._times = np.zeros(_KEEP)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PatternSender:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vidgan-pattern", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def sent_at(self, index: int) -> float:
        """The monotonic time frame ``index`` was handed to the encoder (recent frames only)."""
        return float(self._times[index % _KEEP])

    def _run(self) -> None:
        colour = resolve_colour(SPC_UNSPECIFIED, RANGE_MPEG, 2, 2, self.height, "yuv420p")
        try:
            sink = EncodedSink(
                self.url,
                width=self.width,
                height=self.height,
                rate=Fraction(self.fps),
                colour=colour,
                settings=self._settings,
            )
        except BaseException as e:
            self.error = e
            return
        try:
            start = time.monotonic()
            step = 1 / self.fps
            while not self._stop.is_set():
                index = self.sent
                image = pattern_image(index, self.width, self.height)
                due = start + index * step
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                now = time.monotonic()
                self._times[index % _KEEP] = now
                sink.write(image, now)
                self.sent += 1
        except BaseException as e:
            self.error = e
        finally:
            try:
                sink.close()
            except BaseException as e:  # stopped before the first frame: nothing was sent
                self.error = self.error or e
