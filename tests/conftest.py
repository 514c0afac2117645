"""Shared fixtures: small test videos written with PyAV, with exactly the properties under test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest


def pattern(i: int, height: int, width: int) -> np.ndarray:
    """A frame that differs from its neighbours and survives compression: uint8 (H, W, 3)."""
    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 // max(1, width - 1)).astype(np.uint8)
    g = (y * 255 // max(1, height - 1)).astype(np.uint8)
    b = np.full((height, width), (i * 37) % 256, np.uint8)
    return np.stack([r, g, b], axis=-1)


def write_video(
    path: Path,
    *,
    frames: int = 12,
    size: tuple[int, int] = (64, 48),
    time_base: Fraction = Fraction(1, 25),
    pts: Sequence[int] | None = None,
    rate: Fraction | None = Fraction(25),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    sar: Fraction | None = None,
    colour: tuple[int, int, int, int] | None = None,
    options: dict[str, str] | None = None,
    audio: Sequence[tuple[str, int, str]] = (),
    audio_seconds: float | None = None,
    image: Callable[[int, int, int], np.ndarray] = pattern,
    container_format: str | None = None,
) -> list[int]:
    """Write a test video and return the pts of its frames.

    ``colour`` is (matrix, range, primaries, transfer) as FFmpeg enum values; the frames are
    converted to YUV with that matrix and range, and tagged with it. ``audio`` lists
    (codec, sample rate, layout) streams of a 440 Hz tone lasting as long as the video.
    """
    width, height = size
    pts = list(pts) if pts is not None else [i * int(1 / (rate * time_base)) for i in range(frames)]
    with av.open(str(path), "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = pix_fmt
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if options:
            stream.codec_context.options = options
        if rotation:
            stream.set_display_rotation(rotation)
        if sar is not None:
            stream.codec_context.sample_aspect_ratio = sar
        matrix, rng = 5, 1
        if colour is not None:
            matrix, rng, primaries, transfer = colour
            cc = stream.codec_context
            cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc = colour
        audio_streams = [out.add_stream(c, rate=r, layout=lay) for c, r, lay in audio]

        sws = av.video.reformatter.VideoReformatter()
        for i, t in enumerate(pts):
            rgb = av.VideoFrame.from_ndarray(image(i, height, width), format="rgb24")
            frame = sws.reformat(
                rgb,
                format=pix_fmt,
                src_colorspace=matrix if matrix != 6 else 5,
                dst_colorspace=matrix if matrix != 6 else 5,
                src_color_range=2,
                dst_color_range=rng,
            )
            frame.pts = t
            frame.time_base = time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)

        seconds = audio_seconds
        if seconds is None:
            step = pts[1] - pts[0] if len(pts) > 1 else 1
            seconds = float((pts[-1] + step) * time_base)
        for a in audio_streams:
            write_tone(out, a, seconds)
    return pts


def write_tone(out: av.container.OutputContainer, stream: av.audio.AudioStream, seconds: float):
    rate = stream.codec_context.sample_rate
    channels = stream.codec_context.layout.nb_channels
    total = int(round(seconds * rate))
    chunk = 1024
    for start in range(0, total, chunk):
        n = min(chunk, total - start)
        t = (np.arange(start, start + n) / rate).astype(np.float32)
        tone = 0.2 * np.sin(2 * np.pi * 440 * t)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(tone[None], channels, axis=0), format="fltp", layout=stream.layout.name
        )
        frame.sample_rate = rate
        frame.pts = start
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def decoded(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as c:
        return list(c.decode(video=0))


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(name: str | None = None, **kwargs: object) -> Path:
        path = tmp_path / (name or f"in{next(counter)}.mp4")
        write_video(path, **kwargs)  # type: ignore[arg-type]
        return path

    return make


@pytest.fixture
def tiny_generator(tmp_path: Path) -> Path:
    """Weights of an untrained video generator: 8 frames of 16x16, with its image encoder."""
    import torch

    from vidgan.models.video_gan import GenerateConfig, VideoGenerator
    from vidgan.models.weights import save_weights

    torch.manual_seed(0)
    config = GenerateConfig(frames=8, size=16, width=2, bg_width=4, d_width=2)
    path = tmp_path / "tiny_generator.safetensors"
    save_weights(VideoGenerator(config), str(path), config.to_dict())
    return path
