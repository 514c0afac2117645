"""Live sources: the newest-frame slot, pacing of files, cameras that are not there, and the
live writer's recordings that survive a crash."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import decoded
from loopback import urls

from vidgan.errors import InputError, OutputError
from vidgan.tasks.stream import LIVE_SETTINGS
from vidgan.video.colour import resolve_colour
from vidgan.video.live import (
    LiveFrame,
    LiveSource,
    NewestFrame,
    SourceSettings,
    UnusedOptionError,
    source_kind,
)
from vidgan.video.pattern import PatternSender, pattern_image, read_index
from vidgan.video.sinks import EncodedSink, check_display
from vidgan.video.writer import VideoWriter


def frame(i: int) -> LiveFrame:
    return LiveFrame(np.full((2, 2, 3), i, np.uint8), time.monotonic(), i)


def test_newest_frame_keeps_the_last_and_counts_the_rest():
    slot = NewestFrame()
    for i in range(5):
        slot.put(frame(i))
    got = slot.get(0.1)
    assert got is not None and got.index == 4
    assert slot.dropped == 4
    assert slot.get(0.01) is None  # taken: nothing new
    slot.put(frame(5))
    slot.close()
    last = slot.get(0.1)
    assert last is not None and last.index == 5  # what was left is still delivered
    assert slot.get(0.01) is None and slot.ended


def test_newest_frame_close_with_error_raises_after_the_last_frame():
    slot = NewestFrame()
    slot.put(frame(0))
    slot.close(InputError("gone", "cam"))
    assert slot.get(0.1) is not None
    with pytest.raises(InputError, match="gone"):
        slot.get(0.1)


def test_lossless_slot_waits_instead_of_dropping():
    slot = NewestFrame(lossless=True)
    got: list[int] = []

    def take() -> None:
        while len(got) < 20:
            f = slot.get(1.0)
            if f is not None:
                got.append(f.index)
                time.sleep(0.002)

    taker = threading.Thread(target=take)
    taker.start()
    for i in range(20):
        slot.put(frame(i))
    taker.join(10)
    assert got == list(range(20)) and slot.dropped == 0


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("0", "camera"),
        ("/dev/video2", "camera"),
        ("video=Integrated Camera", "camera"),
        ("udp://0.0.0.0:5000", "url"),
        ("rtsp://cam.local/stream", "url"),
        ("dive.mp4", "file"),
    ],
)
def test_source_kind(source, kind):
    assert source_kind(source) == kind


def test_pattern_number_survives_encoding():
    for i in (0, 1, 12345, (1 << 20) - 1):
        assert read_index(pattern_image(i, 640, 480)) == i


def test_file_plays_at_its_own_rate(make_video):
    src = make_video(frames=25, size=(64, 48))  # one second at 25 fps
    start = time.monotonic()
    with LiveSource(str(src)) as source:
        times = []
        while (f := source.get(1.0)) is not None:
            times.append(f.captured)
    assert len(times) + source.dropped == 25
    assert 0.85 < times[-1] - start < 1.6  # paced, not as fast as decoding goes
    assert source.kind == "file" and (source.width, source.height) == (64, 48)


def test_file_without_realtime_gives_every_frame(make_video):
    src = make_video(frames=40, size=(64, 48))
    with LiveSource(str(src), SourceSettings(realtime=False)) as source:
        indices = []
        while (f := source.get(1.0)) is not None:
            indices.append(f.index)
            time.sleep(0.005)  # a slow consumer: the source waits for it
    assert indices == list(range(40)) and source.dropped == 0


def test_missing_camera_is_one_clear_error():
    with pytest.raises(InputError, match="no such camera"):
        LiveSource("/dev/video99")


def test_silent_network_source_fails_within_the_connect_timeout():
    _, listen = urls()
    start = time.monotonic()
    with pytest.raises(InputError, match="nothing arrived within 1 s"):
        LiveSource(listen, SourceSettings(connect_timeout=1.0))
    assert time.monotonic() - start < 5


def test_udp_source_receives_the_newest_frames():
    send, listen = urls()
    with PatternSender(send), LiveSource(listen) as source:
        seen = []
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            if (f := source.get(1.0)) is not None:
                seen.append(read_index(f.image))
    assert (source.width, source.height) == (640, 480)
    assert source.rate is not None and abs(source.rate - 30) < 1  # estimated from a few frames
    assert len(seen) > 40 and seen == sorted(seen)


def test_options_the_source_does_not_take_are_refused_by_name(make_video):
    """FFmpeg ignores options that nothing opening the source knows; vidgan names them."""
    src = str(make_video(frames=5))
    options = {"probesize": "100000", "nosuchoption": "1", "rtsp_transport": "tcp"}
    with pytest.raises(UnusedOptionError, match="nothing here takes the options") as info:
        LiveSource(src, SourceSettings(options=options))
    assert info.value.names == ("nosuchoption", "rtsp_transport")  # not the demuxer's probesize
    assert "mov,mp4,m4a,3gp,3g2,mj2 demuxer" in str(info.value)
    # the demuxer's, the decoder's and the file protocol's own are taken
    taken = {"probesize": "100000", "use_mfra_for": "pts", "threads": "1", "blocksize": "65536"}
    with LiveSource(src, SourceSettings(options=taken, realtime=False)) as source:
        assert source.get(5.0) is not None


def test_live_webm_encodes_each_frame_as_it_comes(tmp_path, monkeypatch):
    """VP9 with the live settings runs in its realtime mode: each frame leaves the encoder as
    it enters. The default mode holds 25 frames back for look-ahead, and encodes 640x480 at a
    few frames a second."""
    muxed: list[int] = []
    mux = VideoWriter._mux

    def counting(self: VideoWriter, packets: list[av.Packet]) -> None:
        muxed.append(len(packets))
        mux(self, packets)

    monkeypatch.setattr(VideoWriter, "_mux", counting)
    path = tmp_path / "live.webm"
    colour = resolve_colour(2, 1, 2, 2, 48, "yuv420p")
    sink = EncodedSink(
        str(path), width=64, height=48, rate=Fraction(25), colour=colour, settings=LIVE_SETTINGS
    )
    for i in range(8):
        sink.write(pattern_image(i, 64, 48), i * 0.04)
    assert muxed == [1] * 8
    sink.close()
    assert [f.pts for f in decoded(path)] == [i * 40 for i in range(8)]


def test_no_display_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(OutputError, match="showing a window needs"):
        check_display()


CRASHING_RECORDER = """
import os, signal, sys, time
from fractions import Fraction
from vidgan.video.colour import resolve_colour
from vidgan.video.pattern import pattern_image
from vidgan.video.sinks import EncodedSink
from vidgan.video.writer import WriterSettings

sink = EncodedSink(sys.argv[1], width=64, height=48, rate=Fraction(25),
    colour=resolve_colour(2, 1, 2, 2, 48, "yuv420p"),
    settings=WriterSettings(preset="ultrafast", tune="zerolatency", gop=10))
start = time.monotonic()
for i in range(60):
    sink.write(pattern_image(i, 64, 48), start + i * 0.04)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("ext", ["mp4", "ts", "mkv"])
def test_live_recording_plays_after_the_process_is_killed(tmp_path, ext):
    """Fragmented MP4, MPEG-TS and Matroska written in place: a killed recorder leaves a file
    that plays up to its last fragment, with capture times as timestamps."""
    path = tmp_path / f"live.{ext}"
    proc = subprocess.run([sys.executable, "-c", CRASHING_RECORDER, str(path)], timeout=60)
    assert proc.returncode == -signal.SIGKILL
    frames = decoded(path)
    assert len(frames) >= 30
    assert float(frames[1].time - frames[0].time) == pytest.approx(0.04, abs=0.002)
