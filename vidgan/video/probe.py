"""What a media file holds, as vidgan sees it: `vidgan info` prints it, the reader relies on it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

import av

from vidgan.errors import InputError
from vidgan.video.colour import Colour, resolve_colour


@dataclass(frozen=True)
class OtherStream:
    """An audio or subtitle stream that is carried over to the output."""

    index: int
    kind: str
    codec: str
    sample_rate: int | None = None
    channels: int | None = None
    duration: Fraction | None = None
    language: str | None = None


@dataclass(frozen=True)
class VideoInfo:
    """The video stream of a file and the streams around it.

    ``width`` and ``height`` are the picture as displayed: rotation applied. ``coded_width``
    and ``coded_height`` are as stored. ``rotation`` is the counter-clockwise angle in degrees
    that turns the stored picture upright. ``frames`` is the container's claim, possibly None,
    and is never relied on.
    """

    path: str
    container: str
    codec: str
    pix_fmt: str
    bit_depth: int
    coded_width: int
    coded_height: int
    rotation: int
    sample_aspect_ratio: Fraction
    time_base: Fraction
    rate: Fraction | None
    duration: Fraction | None
    frames: int | None
    colour: Colour
    interlaced: bool
    has_alpha: bool
    other_streams: tuple[OtherStream, ...] = field(default=())

    @property
    def width(self) -> int:
        return self.coded_height if self.rotation % 180 else self.coded_width

    @property
    def height(self) -> int:
        return self.coded_width if self.rotation % 180 else self.coded_height

    @property
    def display_aspect_ratio(self) -> Fraction:
        return Fraction(self.width, self.height) * self.sample_aspect_ratio

    def describe(self) -> str:
        """A few human lines: what `vidgan info` prints."""
        rate = f"{float(self.rate):.3f} fps ({self.rate})" if self.rate else "unknown rate"
        dur = f"{float(self.duration):.3f} s" if self.duration is not None else "unknown duration"
        lines = [
            f"{self.path}: {self.container}, {dur}",
            f"  video: {self.codec} {self.pix_fmt} ({self.bit_depth}-bit), "
            f"{self.width}x{self.height} displayed (stored {self.coded_width}x{self.coded_height}, "
            f"rotation {self.rotation}°), {rate}, time base {self.time_base}",
            f"  pixel aspect {self.sample_aspect_ratio}, "
            f"display aspect {self.display_aspect_ratio}, "
            f"{'interlaced' if self.interlaced else 'progressive'}"
            f"{', alpha' if self.has_alpha else ''}, frames in header: {self.frames or 'none'}",
            f"  colour: {self.colour.describe()}",
        ]
        for s in self.other_streams:
            extra = f", {s.sample_rate} Hz, {s.channels} ch" if s.kind == "audio" else ""
            lang = f" [{s.language}]" if s.language else ""
            lines.append(f"  {s.kind} #{s.index}: {s.codec}{extra}{lang}")
        return "\n".join(lines)


NETWORK_TIMEOUT = (10.0, 10.0)  # seconds to open a URL, and to wait for each read from it


def open_input(
    path: str | os.PathLike[str],
    options: dict[str, str] | None = None,
    *,
    format: str | None = None,
    timeout: float | tuple[float, float] | None = None,
) -> av.container.InputContainer:
    """Open a media file for reading, turning every failure into one clear InputError.

    ``format`` names a demuxer or a capture device (``v4l2``, ``avfoundation``, ``dshow``);
    ``timeout`` is PyAV's: seconds to wait for data, or (open, read) seconds, after which the
    open or read fails instead of hanging on a silent network source. A URL opened without
    one gets ``NETWORK_TIMEOUT``: FFmpeg would otherwise wait for a silent sender for ever,
    deaf to Ctrl-C.
    """
    path = os.fspath(path)
    if "://" in path and timeout is None:
        timeout = NETWORK_TIMEOUT
    if "://" not in path and format is None:
        if not os.path.exists(path):
            raise InputError("no such file", path)
        if os.path.isdir(path):
            raise InputError("is a folder, not a video file", path)
        if os.path.getsize(path) == 0:
            raise InputError("empty file", path)
    try:
        return av.open(path, "r", format=format, options=options or {}, timeout=timeout)
    except av.error.FFmpegError as e:
        if isinstance(e, av.error.ExitError) and timeout is not None:  # the timeout's doing
            seconds = timeout[0] if isinstance(timeout, tuple) else timeout
            raise InputError(
                f"nothing arrived within {seconds:g} s (is the sender running?)", path
            ) from None
        raise InputError(f"not a readable media file ({e.strerror})", path) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot open ({e})", path) from None


def video_stream(container: av.container.InputContainer, path: str) -> av.video.stream.VideoStream:
    """The stream vidgan processes: the first video stream that is not a cover picture."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    kinds = sorted({s.type for s in container.streams})
    has = f"only {', '.join(kinds)}" if kinds else "no streams"
    raise InputError(f"no video stream ({has})", path)


def _other_streams(container: av.container.InputContainer) -> tuple[OtherStream, ...]:
    found = []
    for s in container.streams:
        if s.type not in ("audio", "subtitle"):
            continue
        duration = s.duration * s.time_base if s.duration and s.time_base else None
        cc = s.codec_context
        found.append(
            OtherStream(
                index=s.index,
                kind=s.type,
                codec=cc.name if cc is not None else "unknown",
                sample_rate=getattr(cc, "sample_rate", None),
                channels=getattr(cc, "channels", None),
                duration=duration,
                language=s.language,
            )
        )
    return tuple(found)


def describe_stream(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    first: av.VideoFrame | None,
    path: str,
) -> VideoInfo:
    """Build a VideoInfo from an open stream and, where there is one, its first decoded frame."""
    cc = stream.codec_context
    fmt = first.format if first is not None else cc.format
    pix_fmt = fmt.name if fmt is not None else "unknown"
    bit_depth = max((c.bits for c in fmt.components), default=8) if fmt is not None else 8
    has_alpha = fmt is not None and any(c.is_alpha for c in fmt.components)
    coded_w = first.width if first is not None else cc.width
    coded_h = first.height if first is not None else cc.height
    rotation = int(round((first.rotation if first is not None else 0) or 0))
    sar = stream.sample_aspect_ratio or cc.sample_aspect_ratio
    sar = Fraction(sar) if sar else Fraction(1)
    if first is not None:
        colour = resolve_colour(
            first.colorspace,
            first.color_range,
            first.color_primaries,
            first.color_trc,
            coded_h,
            pix_fmt,
        )
    else:
        colour = resolve_colour(
            cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc, coded_h, pix_fmt
        )
    field_order = str(getattr(cc, "field_order", "") or "").lower()
    interlaced = bool(first is not None and first.interlaced_frame) or field_order in (
        "tt",
        "bb",
        "tb",
        "bt",
    )
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if stream.duration is not None and stream.time_base is not None:
        duration: Fraction | None = stream.duration * stream.time_base
    elif container.duration is not None:
        duration = Fraction(container.duration, av.time_base)
    else:
        duration = None
    return VideoInfo(
        path=path,
        container=container.format.name,
        codec=cc.name,
        pix_fmt=pix_fmt,
        bit_depth=bit_depth,
        coded_width=coded_w,
        coded_height=coded_h,
        rotation=rotation % 360,
        sample_aspect_ratio=sar,
        time_base=stream.time_base or Fraction(1, 90000),
        rate=Fraction(rate) if rate else None,
        duration=duration,
        frames=stream.frames or None,
        colour=colour,
        interlaced=interlaced,
        has_alpha=has_alpha,
        other_streams=_other_streams(container),
    )


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Open ``path``, decode its first frame, and report what vidgan sees.

    Raises:
        InputError: the file is missing, empty, not media, or holds no decodable video.
    """
    path = os.fspath(path)
    with open_input(path) as container:
        stream = video_stream(container, path)
        first = None
        try:
            for frame in container.decode(stream):
                first = frame
                break
        except av.error.FFmpegError as e:
            raise InputError(f"damaged video stream ({e.strerror})", path) from None
        if first is None:
            raise InputError("the video stream holds no decodable frame", path)
        return describe_stream(container, stream, first, path)
