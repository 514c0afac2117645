"""Live sources: a camera, a network stream, or a file played at its own pace.

A reader thread decodes the source and keeps only the newest frame in a one-frame slot
(`NewestFrame`). Whoever takes frames from the slot gets the latest picture; a frame that was
replaced before anyone took it is dropped and counted, never queued, so a slow consumer loses
frames instead of falling behind. Every frame carries its capture time, ``time.monotonic()``
when the reader thread had it decoded.

>>> with LiveSource("udp://127.0.0.1:5000") as source:
...     frame = source.get(timeout=1.0)  # LiveFrame or None
...     frame.image.shape, frame.captured  # (H, W, 3), monotonic seconds

A network source that stalls (no data for ``read_timeout``) or ends is reopened with
exponential back-off, for as long as the source runs. A camera that stops delivering frames
ends the source with `SourceLost`. Cameras are opened through PyAV's capture devices (v4l2,
avfoundation, dshow) where the installed FFmpeg has them, else through OpenCV; the PyAV wheels
from PyPI come without them, so OpenCV is the usual route.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from vidgan.errors import InputError
from vidgan.video.colour import RANGE_MPEG, SPC_UNSPECIFIED, Colour, resolve_colour
from vidgan.video.reader import VideoReader

log = logging.getLogger(__name__)

# FFmpeg's capture device per platform, and how a camera index names the device there
_CAMERA_FORMATS = {"linux": "v4l2", "darwin": "avfoundation", "win32": "dshow"}

# options that keep a network demuxer from buffering: it hands on each packet as it arrives
_LOW_DELAY = {
    "fflags": "nobuffer",
    "flags": "low_delay",
    "probesize": "500000",
    "analyzeduration": "500000",
}
# MPEG-TS transports: no parser either. The H.264 parser knows a frame has ended only when
# the next one starts, a frame period late; a PES packet holds one whole frame already.
_TS = {"fflags": "nobuffer+noparse"}
# UDP: FFmpeg's receive queue (5 MB) survives overruns, dropping data instead of failing
_UDP = {"overrun_nonfatal": "1", "buffer_size": "4194304"}
# the FFmpeg options a camera read through OpenCV understands
_OPENCV_OPTIONS = ("video_size", "framerate")


class SourceLost(InputError):
    """The source stopped for good: a camera disappeared, or a file could not be read on."""


class UnusedOptionError(ValueError):
    """Options given for a source (`SourceSettings.options`) that nothing opening it takes:
    mistyped, or meant for another kind of source. ``names`` lists them."""

    def __init__(self, source: str, names: Sequence[str], why: str) -> None:
        self.source = source
        self.names = tuple(names)
        options = "option" if len(names) == 1 else "options"
        quoted = ", ".join(repr(n) for n in names)
        super().__init__(f"{source}: nothing here takes the {options} {quoted} ({why})")


@dataclass(frozen=True, slots=True)
class LiveFrame:
    """One captured picture: uint8 RGB (H, W, 3), its capture time and its place in the source.

    ``captured`` is ``time.monotonic()`` when the reader thread had the frame decoded;
    ``index`` counts the frames the source delivered before this one, across reconnects.
    """

    image: np.ndarray
    captured: float
    index: int


class NewestFrame:
    """A one-frame slot between two threads that keeps only the newest frame.

    `put` replaces the frame in the slot; one that nobody took is counted in ``dropped``. With
    ``lossless=True`` `put` waits instead until the slot is empty (a file read as fast as the
    consumer goes); ``put(frame, wait=True)`` waits once in a lossy slot (the later frames of
    one batch, which must all reach the consumer). `close` ends the slot: `get` returns what is
    left, then raises the error the slot was closed with, or returns None for a clean end (see
    ``ended``).
    """

    def __init__(self, *, lossless: bool = False) -> None:
        self.lossless = lossless
        self.dropped = 0
        self.error: BaseException | None = None
        self._frame: LiveFrame | None = None
        self._closed = False
        self._cond = threading.Condition()

    @property
    def ended(self) -> bool:
        """Closed and emptied: no frame will come any more."""
        with self._cond:
            return self._closed and self._frame is None

    def put(self, frame: LiveFrame, *, wait: bool = False) -> None:
        with self._cond:
            while (wait or self.lossless) and self._frame is not None and not self._closed:
                self._cond.wait(0.1)
            if self._closed:
                return
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._cond.notify_all()

    def get(self, timeout: float) -> LiveFrame | None:
        """The newest frame not yet taken, waiting up to ``timeout`` seconds; None if none came."""
        with self._cond:
            if self._frame is None and not self._closed:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            self._cond.notify_all()
            if frame is None and self._closed and self.error is not None:
                raise self.error
            return frame

    def close(self, error: BaseException | None = None) -> None:
        with self._cond:
            if not self._closed:
                self._closed = True
                self.error = error
            self._cond.notify_all()


@dataclass(frozen=True)
class SourceSettings:
    """How a live source is opened and kept alive.

    ``options`` go to FFmpeg (the demuxer, the protocol and the decoder), after vidgan's own
    low-latency options for network sources, so they can override them. ``realtime`` plays a
    file at its own frame rate; without it every frame of the file is delivered, as fast as the
    consumer takes them. Back-off between reconnection attempts doubles from ``backoff`` up to
    ``max_backoff`` seconds.
    """

    options: dict[str, str] = field(default_factory=dict)
    realtime: bool = True
    connect_timeout: float = 10.0
    read_timeout: float = 2.0
    backoff: float = 0.5
    max_backoff: float = 8.0


def source_kind(source: str) -> str:
    """``camera`` (an index or a device path), ``url`` (anything with ://) or ``file``."""
    if source.isdigit() or source.startswith(("/dev/video", "video=")):
        return "camera"
    if "://" in source:
        return "url"
    return "file"


class LiveSource:
    """A camera, network stream or file, read in a thread into a `NewestFrame` slot.

    Opening happens in the constructor, so a source that cannot be opened at all fails there
    with an InputError; capture starts there too (or at `start`, with ``start=False``). Later
    losses are reconnected (network) or end the source (camera, file). ``width``, ``height``,
    ``rate`` (None where unknown) and ``colour`` (the YUV matrix the source used, which a
    recording keeps) describe the picture.
    """

    def __init__(
        self, source: str, settings: SourceSettings = SourceSettings(), *, start: bool = True
    ) -> None:
        self.source = source
        self.kind = source_kind(source)
        self.settings = settings
        self.frames = 0  # delivered to the slot
        self.disconnects = 0  # losses of a network source
        self.reconnects = 0  # successful reopenings after a loss
        self.slot = NewestFrame(lossless=self.kind == "file" and not settings.realtime)
        self._stop = threading.Event()
        self._reader = self._open()
        try:
            self._reader.check_options(list(settings.options))
        except BaseException:
            self._reader.close()
            raise
        self.width, self.height, self.rate, self.colour = self._reader.describe()
        self._thread = threading.Thread(target=self._run, name="vidgan-capture", daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        """Start capturing (the constructor does, unless told ``start=False``)."""
        self._thread.start()

    # context manager

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, wait: float | None = None) -> None:
        """Stop the reader thread; it leaves at its next frame or read timeout."""
        self._stop.set()
        self.slot.close()
        if self._thread.is_alive():
            self._thread.join(self.settings.read_timeout + 1 if wait is None else wait)
        elif self._thread.ident is None:  # opened, never started
            self._reader.close()

    @property
    def dropped(self) -> int:
        return self.slot.dropped

    def get(self, timeout: float) -> LiveFrame | None:
        """The newest frame, or None after ``timeout`` seconds without one.

        Raises SourceLost (or the source's InputError) once a camera or file has stopped.
        """
        return self.slot.get(timeout)

    # opening

    def _open(self) -> _Capture:
        s = self.settings
        if self.kind == "camera":
            return _open_camera(self.source, s)
        options = dict(s.options)
        if self.kind == "url":
            scheme = self.source.split("://", 1)[0].lower()
            ts = _TS if scheme in ("udp", "srt", "tcp") else {}
            udp = _UDP if scheme == "udp" else {}
            options = {**_LOW_DELAY, **ts, **udp, **s.options}
        reader = VideoReader(
            self.source,
            options=options,
            timeout=(s.connect_timeout, s.read_timeout) if self.kind == "url" else None,
            live=self.kind != "file",
        )
        return _PyAVCapture(reader, paced=self.kind == "file" and s.realtime)

    # the reader thread

    def _run(self) -> None:
        reader: _Capture | None = self._reader
        attempt = 0
        while not self._stop.is_set():
            reason = "the stream ended"
            try:
                if reader is None:
                    reader = self._open()
                    if self._stop.is_set():
                        return  # closed while reconnecting: the reader is closed below
                    self.reconnects += 1
                    log.warning("%s: reconnected", self.source)
                attempt = 0
                for image in reader.frames():
                    if self._stop.is_set():
                        return
                    self.slot.put(LiveFrame(image, time.monotonic(), self.frames))
                    self.frames += 1
            except InputError as e:
                reason = e.message
                if "exit requested" in reason.lower():  # PyAV's read timeout
                    reason = f"no data for {self.settings.read_timeout:g} s"
                if self.kind != "url":
                    lost = "the camera stopped delivering frames" if self.kind == "camera" else ""
                    self.slot.close(SourceLost(f"{lost}: {reason}" if lost else reason, e.path))
                    return
            except BaseException as e:  # an unexpected failure reaches the consumer
                self.slot.close(e)
                return
            finally:
                if reader is not None:
                    reader.close()
                reader = None
            if self.kind == "file":
                self.slot.close()
                return
            if self.kind == "camera":
                self.slot.close(SourceLost("the camera stopped delivering frames", self.source))
                return

            # a network source: wait, then try again, ever more patiently
            if attempt == 0:
                self.disconnects += 1
            delay = min(self.settings.max_backoff, self.settings.backoff * 2**attempt)
            attempt += 1
            log.warning("%s: %s; reconnecting in %.1f s", self.source, reason, delay)
            self._stop.wait(delay)


class _Capture:
    """What the reader thread reads from: frames as uint8 RGB (H, W, 3)."""

    def describe(self) -> tuple[int, int, Fraction | None, Colour]:
        """Width, height, frame rate (None where unknown) and colour matrix."""
        raise NotImplementedError

    def check_options(self, names: Sequence[str]) -> None:
        """Raise UnusedOptionError for the option names that opening the source left unused
        (where the capture can tell; this one cannot)."""

    def frames(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _PyAVCapture(_Capture):
    """A file, URL or capture device through `VideoReader`; ``paced`` plays it at its own rate."""

    def __init__(self, reader: VideoReader, *, paced: bool) -> None:
        self.reader = reader
        self.paced = paced

    def describe(self) -> tuple[int, int, Fraction | None, Colour]:
        info = self.reader.info
        return info.width, info.height, info.rate, info.colour

    def check_options(self, names: Sequence[str]) -> None:
        unused = self.reader.unused_options(names) if names else []
        if unused is None:
            log.debug("%s: FFmpeg's option tables cannot be read; not checking", self.reader.path)
        elif unused:
            info = self.reader.info
            raise UnusedOptionError(
                self.reader.path,
                unused,
                f"not the {info.container} demuxer, FFmpeg's protocols, nor the {info.codec} "
                "decoder",
            )

    def frames(self) -> Iterator[np.ndarray]:
        start: float | None = None
        first = Fraction(0)
        for frame in self.reader:
            if self.paced:
                if start is None:
                    start, first = time.monotonic(), frame.time
                wait = start + float(frame.time - first) - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            yield frame.image

    def close(self) -> None:
        self.reader.close()


class _OpenCVCapture(_Capture):
    """A camera through OpenCV, holding one buffered frame at most where the driver allows."""

    def __init__(self, source: str, options: dict[str, str]) -> None:
        import cv2

        self.source = source
        self._cv2 = cv2
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # its own reasons
        try:
            self.cap = cv2.VideoCapture(int(source) if source.isdigit() else source)
        finally:
            cv2.utils.logging.setLogLevel(level)
        if not self.cap.isOpened():
            raise InputError("cannot open this camera (is it connected, or in use?)", source)
        self.cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        # the FFmpeg options a camera takes most often, in OpenCV's terms
        if "video_size" in options:
            w, _, h = options["video_size"].partition("x")
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, float(w))
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, float(h))
        if "framerate" in options:
            self.cap.set(cv2.CAP_PROP_FPS, float(Fraction(options["framerate"])))
        ok, self._first = self.cap.read()
        if not ok:
            self.cap.release()
            raise InputError("the camera opened but delivers no frames", source)

    def check_options(self, names: Sequence[str]) -> None:
        unused = [n for n in names if n not in _OPENCV_OPTIONS]
        if unused:
            why = "a camera read through OpenCV takes only video_size and framerate"
            raise UnusedOptionError(self.source, unused, why)

    def describe(self) -> tuple[int, int, Fraction | None, Colour]:
        h, w = self._first.shape[:2]
        fps = self.cap.get(self._cv2.CAP_PROP_FPS)
        rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else None
        return w, h, rate, resolve_colour(SPC_UNSPECIFIED, RANGE_MPEG, 2, 2, h, "yuv420p")

    def frames(self) -> Iterator[np.ndarray]:
        bgr: np.ndarray | None = self._first
        while bgr is not None:
            yield self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)
            ok, bgr = self.cap.read()
            if not ok:
                raise InputError("the camera stopped delivering frames", self.source)

    def close(self) -> None:
        self.cap.release()


def _open_camera(source: str, settings: SourceSettings) -> _Capture:
    """A camera through PyAV's capture device where FFmpeg has one, else through OpenCV."""
    import av

    fmt = _CAMERA_FORMATS.get(sys.platform)
    if fmt is not None and fmt in av.formats_available:
        if sys.platform == "linux" and source.isdigit():
            target = f"/dev/video{source}"
        elif fmt == "dshow" and not source.startswith("video="):
            target = None  # dshow names devices; OpenCV takes the index
        else:
            target = source
        if target is not None:
            try:
                reader = VideoReader(target, options=dict(settings.options), format=fmt, live=True)
                return _PyAVCapture(reader, paced=False)
            except InputError as e:
                log.info("%s: PyAV cannot open the camera (%s); trying OpenCV", source, e.message)
    device = f"/dev/video{source}" if sys.platform == "linux" and source.isdigit() else source
    if device.startswith("/dev/") and not os.path.exists(device):
        raise InputError("no such camera", source)
    try:
        return _OpenCVCapture(source, settings.options)
    except ValueError:
        raise InputError("bad video_size or framerate option for the camera", source) from None
