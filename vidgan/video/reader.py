"""Decoding a video into upright RGB frames with their timestamps, one frame at a time.

The reader keeps no more than the decoder's own buffers in memory, takes timestamps from the
container (synthesising them where a raw stream has none), turns the picture upright according
to the display matrix, and converts to RGB with the matrix and range the stream declares.
"""

from __future__ import annotations

import itertools
import logging
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import ColorRange, VideoReformatter

from vidgan.errors import InputError
from vidgan.video.colour import SWS_FLAGS
from vidgan.video.options import unused_options
from vidgan.video.probe import VideoInfo, describe_stream, open_input, video_stream

log = logging.getLogger(__name__)

# a damaged packet or two is concealed and skipped; beyond this many the file is called damaged
_MAX_DECODE_ERRORS = 8


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded picture.

    ``image`` is uint8 RGB, shape (H, W, 3), upright. ``pts`` counts ``time_base`` units.
    """

    image: np.ndarray
    pts: int
    time_base: Fraction
    duration: int | None = None

    @property
    def time(self) -> Fraction:
        return self.pts * self.time_base


class VideoReader:
    """Iterate the frames of a file or URL in presentation order.

    >>> with VideoReader("clip.mp4") as reader:
    ...     for frame in reader:
    ...         frame.image.shape  # (H, W, 3)

    A change of picture size in mid-stream is rescaled to the first frame's size, with a
    warning: the frame count and timing are kept, which is what an encoder downstream needs.
    ``format``, ``timeout`` are as for `open_input`. ``live`` decodes without frame threads,
    so frames come out as soon as they arrive, and takes any number of undecodable packets:
    a stream joined mid-way has them until its first keyframe, a lossy network now and then.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        deinterlace: bool = False,
        options: dict[str, str] | None = None,
        format: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        live: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self._container = open_input(self.path, options, format=format, timeout=timeout)
        try:
            self._stream = video_stream(self._container, self.path)
            # frame threads hold one frame each before the first comes out: fine for files,
            # a frame period of latency per thread for a live source
            self._stream.thread_type = "SLICE" if live else "AUTO"
            self._live = live
            self._frames = self._decode()
            self._first = next(self._frames, None)
            if self._first is None:
                raise InputError("the video stream holds no decodable frame", self.path)
            self.info: VideoInfo = describe_stream(
                self._container, self._stream, self._first, self.path
            )
        except BaseException:
            self._container.close()
            raise

        self._graph = self._deinterlacer() if deinterlace else None
        if self.info.interlaced and not deinterlace:
            log.warning("%s is interlaced; --deinterlace gives cleaner frames", self.path)
        self._sws = VideoReformatter()
        self._rotate = (self.info.rotation // 90) % 4
        self._pts_step = self._frame_step()
        # where the container says the stream ends; a file cut short stops well before it
        start, length = self._stream.start_time, self._stream.duration
        self._stated_end = (
            None if start is None or not length else (start + length) * self.info.time_base
        )
        self.resized_frames = 0
        self.synthesised_pts = 0

    # context manager

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def unused_options(self, names: Iterable[str]) -> list[str] | None:
        """The names among ``names`` that FFmpeg's demuxer, protocols and video decoder have no
        option for; None where that cannot be told (see `vidgan.video.options`)."""
        return unused_options(names, self._container.format.name, self._stream.codec_context)

    # decoding

    def _decode(self) -> Iterator[av.VideoFrame]:
        """Yield decoded frames; demuxing failures are fatal, isolated decoding ones are not."""
        errors, reason = 0, ""
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                if errors:  # one line for them all, once the file has been read
                    log.warning("%s: skipped %d damaged packet(s) (%s)", self.path, errors, reason)
                return
            except av.error.FFmpegError as e:
                raise InputError(f"truncated or damaged ({e.strerror})", self.path) from None
            try:
                for frame in packet.decode():
                    if isinstance(frame, av.VideoFrame):
                        yield frame
            except av.error.FFmpegError as e:
                if self._live:
                    log.debug("%s: skipped an undecodable packet (%s)", self.path, e.strerror)
                    continue
                errors += 1
                reason = e.strerror or str(e)
                if errors > _MAX_DECODE_ERRORS:
                    raise InputError(f"damaged video stream ({e.strerror})", self.path) from None

    def _deinterlacer(self) -> av.filter.Graph:
        graph = av.filter.Graph()
        src = graph.add_buffer(template=self._stream)
        bwdif = graph.add("bwdif", "mode=send_frame:parity=auto:deint=all")
        sink = graph.add("buffersink")
        src.link_to(bwdif)
        bwdif.link_to(sink)
        graph.configure()
        return graph

    def _frame_step(self) -> int:
        """Timestamp units between frames, for streams whose frames carry no pts."""
        rate = self.info.rate or Fraction(25)
        return max(1, round(1 / (rate * self.info.time_base)))

    def _filtered(self) -> Iterator[av.VideoFrame]:
        decoded = itertools.chain((self._first,), self._frames)
        if self._graph is None:
            yield from decoded
            return
        for frame in decoded:
            self._graph.push(frame)
            yield from self._pull()
        self._graph.push(None)
        yield from self._pull()

    def _pull(self) -> Iterator[av.VideoFrame]:
        assert self._graph is not None
        while True:
            try:
                frame = self._graph.pull()
            except (BlockingIOError, av.error.EOFError):
                return
            assert isinstance(frame, av.VideoFrame)
            yield frame

    def __iter__(self) -> Iterator[Frame]:
        info = self.info
        tb = info.time_base
        colour = info.colour
        last_pts: int | None = None
        warned_alpha = False
        for frame in self._filtered():
            # timestamps: keep the container's, make up missing ones, never go backwards
            pts = frame.pts
            if pts is not None and frame.time_base is not None and frame.time_base != tb:
                pts = round(pts * frame.time_base / tb)  # filters may count in finer units
            if pts is None:
                pts = 0 if last_pts is None else last_pts + self._pts_step
                self.synthesised_pts += 1
            elif last_pts is not None and pts <= last_pts:
                log.debug("%s: non-increasing pts %d after %d", self.path, pts, last_pts)
                pts = last_pts + 1
            last_pts = pts

            if info.has_alpha and not warned_alpha:
                warnings.warn(f"{self.path}: the alpha channel is dropped", stacklevel=2)
                warned_alpha = True

            # to RGB at the first frame's stored size, with the stream's own matrix and range
            if (frame.width, frame.height) != (info.coded_width, info.coded_height):
                if not self.resized_frames:
                    log.warning(
                        "%s: picture size changes mid-stream to %dx%d; rescaling to %dx%d",
                        self.path,
                        frame.width,
                        frame.height,
                        info.coded_width,
                        info.coded_height,
                    )
                self.resized_frames += 1
            rgb = self._sws.reformat(
                frame,
                width=info.coded_width,
                height=info.coded_height,
                format="rgb24",
                src_colorspace=colour.sws_matrix,
                dst_colorspace=colour.sws_matrix,
                src_color_range=colour.range,
                dst_color_range=ColorRange.JPEG,
                interpolation=SWS_FLAGS,
            )
            image: np.ndarray = rgb.to_ndarray()
            if self._rotate:
                image = np.ascontiguousarray(np.rot90(image, self._rotate))
            duration = frame.duration or None
            if duration and frame.time_base is not None and frame.time_base != tb:
                duration = round(duration * frame.time_base / tb)
            yield Frame(image, pts, tb, duration)
        if last_pts is not None:
            self._check_complete(last_pts)

    def _check_complete(self, last_pts: int) -> None:
        """Raise InputError when the frames end well before the stated end of the stream."""
        if self._stated_end is None:
            return
        step = self._pts_step * self.info.time_base
        end = last_pts * self.info.time_base + step
        if self._stated_end - end > 2 * step + Fraction(1, 20):
            raise InputError(
                f"truncated: the video stops at {float(end):.2f} s "
                f"of {float(self._stated_end):.2f} s",
                self.path,
            )
