"""Reading: timestamps, orientation, colour, bit depth, odd and special pictures."""

from __future__ import annotations

import importlib
import logging
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import pattern, write_video
from loopback import urls

from vidgan.errors import InputError
from vidgan.video import VideoReader, probe


def read_all(path: Path, **kwargs: object) -> tuple[VideoReader, list]:
    with VideoReader(path, **kwargs) as reader:  # type: ignore[arg-type]
        return reader, list(reader)


def test_bframes_come_out_in_presentation_order_with_their_pts(make_video):
    written = make_video(frames=30, options={"bf": "3"})
    path = written
    with av.open(str(path)) as c:
        assert c.streams.video[0].codec_context.has_b_frames  # the fixture really has B-frames
    _, frames = read_all(path)
    # mp4 stores 1/25 s steps in its own time base; the times are what must match
    assert [f.time for f in frames] == [Fraction(i, 25) for i in range(30)]
    # the content follows the order too: the blue channel encodes the frame number
    blues = [int(np.median(f.image[..., 2])) for f in frames]
    assert all(abs(b - (i * 37) % 256) <= 6 for i, b in enumerate(blues))


def test_ntsc_rate_timestamps_are_exact(make_video):
    path = make_video(frames=24, rate=Fraction(24000, 1001), time_base=Fraction(1, 24000))
    reader, frames = read_all(path)
    assert reader.info.rate == Fraction(24000, 1001)
    assert [f.pts for f in frames] == [i * 1001 for i in range(24)]


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_display_matrix_is_applied(make_video, rotation):
    path = make_video(frames=3, size=(64, 48), rotation=rotation)
    reader, frames = read_all(path)
    stored = pattern(0, 48, 64)
    expected = np.rot90(stored, rotation // 90)
    assert reader.info.rotation == rotation % 360
    assert (reader.info.width, reader.info.height) == expected.shape[1::-1]
    assert frames[0].image.shape == expected.shape
    assert np.abs(frames[0].image.astype(int) - expected).mean() < 4


def test_rotation_90_turns_the_right_edge_to_the_top(make_video):
    # 90 degrees counter-clockwise: what was on the right of the stored picture is on top
    def right_white(i: int, h: int, w: int) -> np.ndarray:
        img = np.zeros((h, w, 3), np.uint8)
        img[:, w // 2 :] = 255
        return img

    path = make_video(frames=2, size=(64, 48), rotation=90, image=right_white)
    _, frames = read_all(path)
    img = frames[0].image
    assert img.shape == (64, 48, 3)
    assert img[:24].mean() > 230 and img[40:].mean() < 25


COLOURS = [
    (1, 1, 1, 1),  # BT.709, limited
    (6, 1, 6, 6),  # BT.601, limited
    (1, 2, 1, 1),  # BT.709, full
    (5, 2, 5, 5),  # BT.601 (bt470bg), full
]


@pytest.mark.parametrize("colour", COLOURS)
def test_rgb_conversion_honours_matrix_and_range(make_video, colour):
    flat = np.array([200, 60, 30], np.uint8)

    def solid(i: int, h: int, w: int) -> np.ndarray:
        return np.broadcast_to(flat, (h, w, 3)).copy()

    path = make_video(frames=2, colour=colour, image=solid, options={"crf": "0"})
    reader, frames = read_all(path)
    assert (reader.info.colour.matrix, reader.info.colour.range) == colour[:2]
    assert not reader.info.colour.guessed
    got = frames[0].image[8:-8, 8:-8].reshape(-1, 3).mean(axis=0)
    assert np.abs(got - flat).max() < 3, got


def test_untagged_hd_is_read_as_bt709_and_sd_as_bt601(make_video):
    hd = probe(make_video(frames=1, size=(1280, 720)))
    sd = probe(make_video(frames=1, size=(640, 480)))
    assert hd.colour.guessed and hd.colour.matrix == 1
    assert sd.colour.guessed and sd.colour.matrix == 6


def test_ten_bit_decodes(make_video):
    flat = np.array([40, 180, 220], np.uint8)
    path = make_video(
        frames=3,
        pix_fmt="yuv420p10le",
        image=lambda i, h, w: np.broadcast_to(flat, (h, w, 3)).copy(),
        options={"crf": "0"},
    )
    reader, frames = read_all(path)
    assert reader.info.bit_depth == 10
    assert frames[0].image.dtype == np.uint8
    assert np.abs(frames[0].image.reshape(-1, 3).mean(axis=0) - flat).max() < 3


def test_odd_size_and_pixel_aspect(make_video):
    path = make_video(
        frames=4, size=(33, 17), codec="libx264", pix_fmt="yuv444p", sar=Fraction(4, 3)
    )
    reader, frames = read_all(path)
    assert frames[0].image.shape == (17, 33, 3)
    assert reader.info.sample_aspect_ratio == Fraction(4, 3)
    assert reader.info.display_aspect_ratio == Fraction(33 * 4, 17 * 3)


def test_gray_input(tmp_path):
    path = tmp_path / "gray.mkv"
    write_video(path, frames=3, codec="ffv1", pix_fmt="gray")
    _, frames = read_all(path)
    img = frames[1].image
    assert img.shape == (48, 64, 3)
    assert np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 1], img[..., 2])


def test_alpha_is_dropped_with_one_warning(tmp_path):
    path = tmp_path / "alpha.mov"
    write_video(path, frames=3, codec="png", pix_fmt="rgba", container_format="mov")
    with pytest.warns(UserWarning, match="alpha") as record:
        reader, frames = read_all(path)
    assert len(record) == 1
    assert reader.info.has_alpha
    assert len(frames) == 3 and frames[0].image.shape == (48, 64, 3)


def test_interlaced_is_detected_and_deinterlaced(make_video, caplog):
    path = make_video(frames=10, size=(64, 48), options={"x264-params": "interlaced=1:tff=1"})
    with caplog.at_level(logging.WARNING):
        reader, frames = read_all(path)
    assert reader.info.interlaced
    assert "interlaced" in caplog.text
    reader2, frames2 = read_all(path, deinterlace=True)
    assert [f.pts for f in frames2] == [f.pts for f in frames]


def test_missing_timestamps_are_synthesised(tmp_path):
    path = tmp_path / "raw.h264"
    write_video(path, frames=15, container_format="h264")
    reader, frames = read_all(path)
    pts = [f.pts for f in frames]
    assert len(pts) == 15
    steps = np.diff(pts)
    assert (steps > 0).all() and len(set(steps.tolist())) == 1


def test_size_change_midstream_is_rescaled_to_the_first_size(tmp_path, caplog):
    a, b = tmp_path / "a.h264", tmp_path / "b.h264"
    write_video(a, frames=6, size=(64, 48), container_format="h264")
    write_video(b, frames=5, size=(96, 64), container_format="h264")
    joined = tmp_path / "joined.h264"
    joined.write_bytes(a.read_bytes() + b.read_bytes())
    with caplog.at_level(logging.WARNING):
        reader, frames = read_all(joined)
    assert len(frames) == 11
    assert {f.image.shape for f in frames} == {(48, 64, 3)}
    assert reader.resized_frames == 5
    assert "changes mid-stream" in caplog.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "empty file"),
        (b"hello, this is text\n" * 50, "not a readable"),
    ],
)
def test_unreadable_inputs(tmp_path, content, message):
    path = tmp_path / "bad.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        VideoReader(path)


def test_audio_only_file(tmp_path):
    path = tmp_path / "audio.m4a"
    with av.open(str(path), "w") as out:
        from conftest import write_tone

        write_tone(out, out.add_stream("aac", rate=44100, layout="mono"), 0.5)
    with pytest.raises(InputError, match="no video stream"):
        probe(path)


def test_a_silent_network_source_times_out_with_one_line(monkeypatch):
    # the module, not the function vidgan.video re-exports under its name
    monkeypatch.setattr(importlib.import_module("vidgan.video.probe"), "NETWORK_TIMEOUT", (1, 1))
    url, _ = urls()  # nobody sends to it
    started = time.monotonic()
    with pytest.raises(InputError, match=r"nothing arrived within 1 s \(is the sender running\?\)"):
        probe(url)
    assert time.monotonic() - started < 5
