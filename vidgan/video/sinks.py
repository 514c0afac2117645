"""Live sinks: where `vidgan stream` hands each processed frame, as soon as it exists.

Every sink takes uint8 RGB frames, shape (H, W, 3), with their capture time
(``time.monotonic()`` seconds):

- `EncodedSink`: a file or a network URL through a live `VideoWriter`. Timestamps come from
  capture times, so the recording keeps the real timing of what was seen, stalls included.
- `WindowSink`: an OpenCV window (needs a display and OpenCV built with a GUI). Closing it or
  pressing q or Esc asks the stream to stop.
- `VirtualCameraSink`: a virtual webcam through pyvirtualcam (the ``virtualcam`` extra).
"""

from __future__ import annotations

import os
import re
import sys
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from vidgan.errors import OutputError
from vidgan.video.colour import Colour
from vidgan.video.writer import VideoWriter, WriterSettings

# capture times are written in milliseconds
TIME_BASE = Fraction(1, 1000)


class StopRequested(Exception):
    """A sink's user asked to stop (closed the window); the stream ends cleanly."""


class Sink(Protocol):
    """Takes processed frames: uint8 RGB (H, W, 3) and their monotonic capture time."""

    name: str

    def write(self, image: np.ndarray, captured: float) -> None: ...

    def close(self) -> None: ...


class EncodedSink:
    """A file or a network stream, encoded as frames arrive, stamped with their capture time.

    The first frame is at time zero; later ones at their capture time after it, in
    milliseconds, so a dropped or stalled stretch shows as a longer frame, not as a jump in
    speed. ``settings.tune`` = ``zerolatency`` keeps x264 from holding frames back.
    """

    def __init__(
        self,
        target: str,
        *,
        width: int,
        height: int,
        rate: Fraction | None,
        colour: Colour,
        settings: WriterSettings,
    ) -> None:
        self.name = target
        self.writer = VideoWriter(
            target,
            width=width,
            height=height,
            time_base=TIME_BASE,
            rate=rate,
            colour=colour,
            settings=settings,
            live=True,
        )
        self._start: float | None = None
        self._last = -1

    def write(self, image: np.ndarray, captured: float) -> None:
        if self._start is None:
            self._start = captured
        pts = max(self._last + 1, round((captured - self._start) / TIME_BASE))
        self._last = pts
        self.writer.write(image, pts)

    @property
    def frames(self) -> int:
        return self.writer.frames_written

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.abort()


def check_display() -> None:
    """Raise OutputError, with the reason, when no window can be shown here."""
    import cv2

    gui = re.search(r"GUI:\s*(\S+)", cv2.getBuildInformation())
    if gui is not None and gui.group(1).upper() == "NONE":
        raise OutputError(
            "showing a window needs OpenCV with a GUI, and this one has none "
            "(opencv-python-headless); install opencv-python, or write to a file or URL"
        )
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise OutputError(
            "showing a window needs a display, and none is set (DISPLAY, WAYLAND_DISPLAY); "
            "write to a file or URL instead"
        )


class WindowSink:
    """An OpenCV window; q, Esc or closing the window raises StopRequested."""

    def __init__(self, title: str = "vidgan stream") -> None:
        import cv2

        check_display()
        self.name = "window"
        self.title = title
        self._cv2 = cv2
        cv2.namedWindow(title, cv2.WINDOW_NORMAL)

    def write(self, image: np.ndarray, captured: float) -> None:
        cv2 = self._cv2
        cv2.imshow(self.title, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), 27) or cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            raise StopRequested

    def close(self) -> None:
        self._cv2.destroyWindow(self.title)


class VirtualCameraSink:
    """A virtual webcam (v4l2loopback, OBS, Unity Capture) through pyvirtualcam."""

    def __init__(self, width: int, height: int, rate: Fraction | None) -> None:
        try:
            import pyvirtualcam
        except ImportError:
            raise OutputError(
                "a virtual camera needs pyvirtualcam: pip install 'vidgan[virtualcam]'"
            ) from None
        self.name = "virtual camera"
        fps = float(rate) if rate else 30.0
        try:
            self.camera: Any = pyvirtualcam.Camera(
                width, height, fps, fmt=pyvirtualcam.PixelFormat.RGB
            )
        except RuntimeError as e:  # no backend: v4l2loopback, OBS or Unity Capture missing
            raise OutputError(f"cannot start a virtual camera ({e})") from None

    def write(self, image: np.ndarray, captured: float) -> None:
        self.camera.send(image)

    def close(self) -> None:
        self.camera.close()
