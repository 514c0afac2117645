"""Encoding RGB frames to a playable file that keeps the source's timing, audio and colour tags.

Every frame is written with the timestamp it was read with, so variable frame rates stay
variable and 24000/1001 stays exact. The source's audio (and subtitles, where the container can
hold them) is copied packet for packet, interleaved by time as the video is written; audio is
re-encoded to AAC only when the output container cannot hold its codec. The file is written
under a temporary name beside the target and renamed only when it is complete.

A live writer (``live=True``, for `vidgan stream`) instead writes in place, in a form that
stays playable if the process dies mid-recording (MP4 and MOV fragmented, MPEG-TS and
Matroska as they are), or sends to a network URL (MPEG-TS over UDP, SRT or TCP; FLV over
RTMP; RTSP to a server).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import ColorRange, VideoReformatter

from vidgan.errors import OutputError
from vidgan.video.colour import Colour, output_colour
from vidgan.video.probe import OtherStream, VideoInfo

log = logging.getLogger(__name__)

_MP4_FAMILY = ("mp4", "mov", "m4v", "3gp")
# containers that keep every frame's own timestamp; AVI and GIF cannot, so they are refused
CONTAINERS = ("mp4", "m4v", "mov", "mkv", "webm", "ts")
# per container: the default video codec, and the codec audio is re-encoded to when the
# container cannot hold the original
_DEFAULT_VIDEO = {"webm": "libvpx-vp9"}
_FALLBACK_AUDIO = {"webm": "libopus"}
_TS_VIDEO = frozenset({"h264", "hevc", "mpeg1video", "mpeg2video", "mpeg4"})  # with a TS type
# URL scheme -> the container a live writer sends in
NETWORK_FORMATS = {
    "udp": "mpegts",
    "srt": "mpegts",
    "tcp": "mpegts",
    "rtp": "rtp_mpegts",
    "rtmp": "flv",
    "rtmps": "flv",
    "rtsp": "rtsp",
}
# each video packet's length stated, so a receiver need not wait for the next one to know
# that it is complete: a frame period less latency
_LOW_DELAY_TS = {"omit_video_pes_length": "0"}
# a fragment per keyframe and an index up front: whatever was written before a crash plays
_FRAGMENTED = {"movflags": "+frag_keyframe+empty_moov+default_base_moof"}
# x264 and x265 print a bad preset or tune straight to stderr, so they are checked first
X26X_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
    "veryslow", "placebo",
)  # fmt: skip
_TUNES = {
    "libx264": ("film", "animation", "grain", "stillimage", "psnr", "ssim", "fastdecode",
                "zerolatency"),
    "libx265": ("psnr", "ssim", "grain", "zerolatency", "fastdecode", "animation"),
}  # fmt: skip
# VP9 for live output: the realtime mode at its fastest, with no frames held for look-ahead
_VP9_REALTIME = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}


@dataclass(frozen=True)
class WriterSettings:
    """How the video is encoded. The defaults give H.264 that browsers play."""

    codec: str | None = None  # None: libx264, or VP9 for .webm
    crf: int = 18
    preset: str = "veryfast"  # x264/x265 only: one of X26X_PRESETS
    overwrite: bool = False
    # x264/x265 tune, e.g. "zerolatency" for live output, which also puts VP9 in its
    # realtime mode (the default VP9 mode encodes 640x480 at a few frames a second)
    tune: str | None = None
    gop: int | None = None  # frames between keyframes; None: the encoder's default


def _extension(path: str) -> str:
    """``out/Clip.MP4`` -> ``mp4``."""
    return os.path.splitext(path)[1].lower().lstrip(".")


def check_output_path(
    path: str | os.PathLike[str], *, source: str | None = None, overwrite: bool = False
) -> str:
    """Refuse, before any work is done, an output that cannot or must not be written."""
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    local = source is not None and "://" not in source and os.path.exists(source)
    if local and os.path.exists(path) and os.path.samefile(path, source):  # type: ignore[arg-type]
        raise OutputError("is the input file; choose another output name", path)
    if os.path.isdir(path):
        raise OutputError("is a folder; give a file name", path)
    if os.path.exists(path) and not overwrite:
        raise OutputError("already exists (use -y/--overwrite to replace it)", path)
    ext = _extension(path)
    if ext not in CONTAINERS:
        kinds = ", ".join(f".{c}" for c in CONTAINERS)
        has = f"ends in '.{ext}'" if ext else "has no extension"
        raise OutputError(f"vidgan writes {kinds} files (this one {has})", path)
    if not os.path.isdir(folder):
        raise OutputError("the output folder does not exist", path)
    if not os.access(folder, os.W_OK):
        raise OutputError("the output folder is not writable", path)
    return path


def _check_preset(codec: str, settings: WriterSettings, path: str) -> None:
    """Refuse an x264 or x265 preset or tune the encoder does not have."""
    if codec not in _TUNES:
        return
    if settings.preset not in X26X_PRESETS:
        raise OutputError(
            f"{codec} has no preset {settings.preset!r} (choose from {', '.join(X26X_PRESETS)})",
            path,
        )
    tunes = _TUNES[codec]
    if settings.tune and not set(settings.tune.split(",")) <= set(tunes):
        raise OutputError(
            f"{codec} has no tune {settings.tune!r} (choose from {', '.join(tunes)})", path
        )


def network_format(url: str) -> str:
    """The container a live writer sends to ``url`` in; OutputError for unknown schemes."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in NETWORK_FORMATS:
        kinds = ", ".join(f"{k}://" for k in NETWORK_FORMATS)
        raise OutputError(f"vidgan streams to {kinds} URLs", url)
    return NETWORK_FORMATS[scheme]


def _temp_path(path: str) -> str:
    folder, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    return os.path.join(folder, f".{stem}.{os.getpid()}.partial{ext}")


class _Carry:
    """Copies a source's audio and subtitle streams into the output, interleaved by time."""

    def __init__(
        self,
        source: str,
        output: av.container.OutputContainer,
        ext: str,
        streams: tuple[OtherStream, ...],
    ) -> None:
        self._input = av.open(source)
        self._output = output
        self._copy: dict[int, av.stream.Stream] = {}
        self._reencode: dict[int, tuple[av.AudioStream, av.AudioCodecContext]] = {}
        supported = output.supported_codecs
        mp4 = ext in _MP4_FAMILY
        for info in streams:
            src = self._input.streams[info.index]
            # PCM in MP4 is legal but few players take it; AAC plays everywhere
            if info.codec in supported and not (mp4 and info.codec.startswith("pcm_")):
                self._copy[info.index] = output.add_stream_from_template(src)
            elif isinstance(src, av.AudioStream):
                codec = _FALLBACK_AUDIO.get(ext, "aac")
                log.info("re-encoding audio stream %d (%s) to %s", info.index, info.codec, codec)
                rate = info.sample_rate or 48000
                if codec == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
                    rate = 48000
                out = output.add_stream(codec, rate=rate)
                assert isinstance(out, av.AudioStream)
                channels = src.codec_context.layout.nb_channels
                out.layout = {1: "mono", 2: "stereo", 6: "5.1"}.get(channels, f"{channels}c")
                if src.language:
                    out.metadata["language"] = src.language
                self._reencode[info.index] = (out, src.codec_context)
            else:
                log.warning(
                    "dropping %s stream %d: %s cannot hold %s",
                    info.kind,
                    info.index,
                    output.format.name,
                    info.codec,
                )
        selected = [self._input.streams[i] for i in (*self._copy, *self._reencode)]
        self._packets: Iterator[av.Packet] | None = (
            self._input.demux(*selected) if selected else None
        )
        self._held: av.Packet | None = None

    def pump(self, until: Fraction | None) -> None:
        """Write every carried packet whose time is at or before ``until`` (all when None)."""
        while self._packets is not None:
            packet = self._held or next(self._packets, None)
            self._held = None
            if packet is None:
                self._packets = None
                break
            if packet.size == 0:  # the demuxer's flush marker
                continue
            t = packet.dts if packet.dts is not None else packet.pts
            if until is not None and t is not None and t * packet.time_base > until:
                self._held = packet
                return
            index = packet.stream.index
            if index in self._copy:
                packet.stream = self._copy[index]
                self._output.mux(packet)
            else:
                out, decoder = self._reencode[index]
                for frame in decoder.decode(packet):
                    self._output.mux(out.encode(frame))

    def finish(self) -> None:
        self.pump(None)
        for out, decoder in self._reencode.values():
            for frame in decoder.decode(None):
                self._output.mux(out.encode(frame))
            self._output.mux(out.encode(None))

    def close(self) -> None:
        self._input.close()


class VideoWriter:
    """Write uint8 RGB frames, shape (H, W, 3), each with its own timestamp.

    >>> with VideoWriter.like(reader.info, "out.mp4") as writer:
    ...     for frame in reader:
    ...         writer.write(frame.image, frame.pts)

    Leaving the ``with`` block normally finishes the file; leaving it by an exception removes
    the partial file. Odd picture sizes are encoded as 4:4:4 to keep their exact size (4:2:0
    needs even sizes); most browsers play only 4:2:0, the default for even sizes.

    With ``live=True`` the file is written in place and kept on `abort` when it holds frames
    (what was recorded stays playable), and ``path`` may be a network URL.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        time_base: Fraction,
        rate: Fraction | None,
        colour: Colour,
        sample_aspect_ratio: Fraction = Fraction(1),
        settings: WriterSettings = WriterSettings(),
        carry_from: str | None = None,
        carry: tuple[OtherStream, ...] = (),
        live: bool = False,
    ) -> None:
        self.live = live
        self.url = live and "://" in os.fspath(path)
        if self.url:
            self.path = os.fspath(path)
            self._format: str | None = network_format(self.path)
            self.ext = "ts"
        else:
            self.path = check_output_path(path, source=carry_from, overwrite=settings.overwrite)
            self._format = None
            self.ext = _extension(self.path)
        self._temp = self.path if live else _temp_path(self.path)
        self.width, self.height = width, height
        self.time_base = time_base
        self.colour = output_colour(colour)
        self.frames_written = 0
        self._carry: _Carry | None = None
        self._sws = VideoReformatter()
        self._open = False
        self._output = self._create()
        self._open = True
        try:
            self._stream = self._add_video(rate, sample_aspect_ratio, settings)
            if carry_from is not None and carry:
                self._carry = _Carry(carry_from, self._output, self.ext, carry)
        except BaseException:
            self.abort()
            raise

    @classmethod
    def like(
        cls,
        info: VideoInfo,
        path: str | os.PathLike[str],
        settings: WriterSettings = WriterSettings(),
        *,
        carry_streams: bool = True,
    ) -> VideoWriter:
        """A writer for frames read from ``info``'s file, carrying its audio and subtitles."""
        sar = info.sample_aspect_ratio
        if info.rotation % 180:
            sar = 1 / sar  # the picture was turned, so its pixels were too
        return cls(
            path,
            width=info.width,
            height=info.height,
            time_base=info.time_base,
            rate=info.rate,
            colour=info.colour,
            sample_aspect_ratio=sar,
            settings=settings,
            carry_from=info.path if carry_streams and info.other_streams else None,
            carry=info.other_streams if carry_streams else (),
        )

    def _create(self) -> av.container.OutputContainer:
        ext = self.ext
        options: dict[str, str] = {}
        if ext in _MP4_FAMILY:
            options = _FRAGMENTED if self.live else {"movflags": "+faststart"}
        if ext in ("mkv", "webm") and not self.live:
            # AAC copied from MP4 starts 1024 samples (its priming) below zero, and by default
            # the Matroska muxer shifts every stream so that none does: the video would start
            # 23 ms late. Matroska stores each block's time relative to its cluster's, signed,
            # so the times can stay as they are. (MPEG-TS cannot: its clock would wrap.)
            options = {**options, "avoid_negative_ts": "disabled"}
        if self.live:  # each packet to the disk or the network as soon as it is muxed
            options = {**options, "flush_packets": "1"}
        if self._format in ("mpegts", "rtp_mpegts"):
            options = {**options, **_LOW_DELAY_TS}
        try:
            return av.open(self._temp, "w", format=self._format, container_options=options)
        except (av.error.FFmpegError, ValueError, OSError) as e:
            if self.url:
                raise OutputError(f"cannot send ({e})", self.path) from None
            if os.path.exists(self._temp):
                os.unlink(self._temp)
            raise OutputError(f"cannot write a .{ext} file ({e})", self.path) from None

    def _add_video(
        self, rate: Fraction | None, sar: Fraction, settings: WriterSettings
    ) -> av.VideoStream:
        ext = self.ext
        codec = settings.codec or _DEFAULT_VIDEO.get(ext, "libx264")
        if codec not in av.codecs_available:
            raise OutputError(f"unknown video codec {codec!r}", self.path)
        encoder = av.Codec(codec, "w")
        if encoder.type != "video":
            raise OutputError(f"{codec!r} is not a video codec", self.path)
        # MPEG-TS states no codec list to query, and writes a codec it has no stream type for
        # (VP9, AV1) as an unreadable data stream, so it gets its own list
        ts = self._output.format.name in ("mpegts", "rtp_mpegts")
        known = _TS_VIDEO if ts else self._output.supported_codecs
        if known and encoder.canonical_name not in known:
            raise OutputError(
                f"cannot write {codec} ({encoder.canonical_name}) into .{ext}", self.path
            )
        _check_preset(codec, settings, self.path)
        try:
            stream = self._output.add_stream(codec, rate=rate)
        except (av.error.FFmpegError, ValueError, TypeError) as e:
            raise OutputError(f"cannot write {codec} into .{ext} ({e})", self.path) from None
        assert isinstance(stream, av.VideoStream)

        # picture, timing and colour tags
        even = self.width % 2 == 0 and self.height % 2 == 0
        self.pix_fmt = "yuv420p" if even else "yuv444p"
        cc = stream.codec_context
        cc.width, cc.height = self.width, self.height
        cc.pix_fmt = self.pix_fmt
        cc.time_base = self.time_base
        stream.time_base = self.time_base
        if rate:
            cc.framerate = rate
        cc.sample_aspect_ratio = sar
        cc.colorspace = self.colour.matrix
        cc.color_range = self.colour.range
        cc.color_primaries = self.colour.primaries
        cc.color_trc = self.colour.transfer
        if settings.gop:
            cc.gop_size = settings.gop
        if codec in ("libx264", "libx265"):
            cc.options = {"crf": str(settings.crf), "preset": settings.preset}
            if settings.tune:
                cc.options["tune"] = settings.tune
            if codec == "libx265":
                cc.options["x265-params"] = "log-level=error"
        elif codec == "libvpx-vp9":
            cc.options = {"crf": str(settings.crf), "b": "0", "row-mt": "1"}
            if settings.tune == "zerolatency":
                cc.options.update(_VP9_REALTIME)

        # open the encoder now, so a refused setting fails before any work is done
        try:
            cc.open()
        except (av.error.FFmpegError, ValueError) as e:
            reason = getattr(e, "strerror", None) or str(e)
            hint = " (odd sizes need libx264)" if not even else ""
            raise OutputError(
                f"the {codec} encoder refused these settings: {reason}{hint}", self.path
            ) from None
        return stream

    # context manager

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # writing

    def write(self, image: np.ndarray, pts: int, duration: int | None = None) -> None:
        """Encode one frame: uint8 RGB (H, W, 3), shown at ``pts`` in ``time_base`` units."""
        if image.shape != (self.height, self.width, 3):
            raise ValueError(
                f"frame of shape {image.shape}; this writer takes ({self.height}, {self.width}, 3)"
            )
        rgb = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame = self._sws.reformat(
            rgb,
            format=self.pix_fmt,
            src_colorspace=self.colour.sws_matrix,
            dst_colorspace=self.colour.sws_matrix,
            src_color_range=ColorRange.JPEG,
            dst_color_range=self.colour.range,
        )
        frame.pts = pts
        frame.time_base = self.time_base
        if duration:
            frame.duration = duration
        self._mux(self._stream.encode(frame))
        self.frames_written += 1

    def _mux(self, packets: list[av.Packet]) -> None:
        try:
            for packet in packets:
                if self._carry is not None and packet.dts is not None:
                    self._carry.pump(packet.dts * packet.time_base)
                self._output.mux(packet)
        except (av.error.FFmpegError, OSError) as e:
            raise OutputError(f"cannot write ({e.strerror or e})", self.path) from None

    def close(self) -> None:
        """Flush the encoder, copy the rest of the carried streams, and move the file in place."""
        if not self._open:
            return
        try:
            self._mux(self._stream.encode(None))
            if self._carry is not None:
                self._carry.finish()
            self._output.close()
        except BaseException:
            self.abort()
            raise
        self._open = False
        if self._carry is not None:
            self._carry.close()
        if self.frames_written == 0:
            if not self.url:
                with contextlib.suppress(FileNotFoundError):  # a live file opens at frame one
                    os.unlink(self._temp)
            raise OutputError("no frames were written", self.path)
        if not self.live:
            os.replace(self._temp, self.path)

    def abort(self) -> None:
        """Stop writing and remove the partial file (a live one that holds frames stays)."""
        if self._open:
            self._open = False
            for closer in (self._output, self._carry):
                if closer is not None:
                    with contextlib.suppress(av.error.FFmpegError, OSError):
                        closer.close()
        if self.url or (self.live and self.frames_written):
            return  # a live recording keeps what it holds
        if os.path.exists(self._temp):
            os.unlink(self._temp)
