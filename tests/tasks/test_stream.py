"""`vidgan.stream` on a live stream over loopback: a local sender writes 640x480 MPEG-TS over
UDP at 30 fps (libx264 ultrafast, zerolatency), with the frame number drawn into each frame.

The acceptance figures of issue 4 are asserted here: processed fps with the identity model,
capture-to-output latency with the default model over a 60-second run and its steadiness,
drops and bounded latency with a slowed model, and a reconnect after the sender goes away.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from conftest import decoded
from loopback import SenderToOutput, urls

import vidgan
from vidgan.errors import InputError, OutputError
from vidgan.processors import Identity
from vidgan.tasks.stream import LatencyHistogram, StreamFailed, stream
from vidgan.video.live import LiveSource, SourceSettings
from vidgan.video.pattern import PatternSender, read_index


class Slowed(Identity):
    """Identity that takes ``seconds`` per call: a model that cannot keep up with 30 fps."""

    name = "slowed"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def process(self, frames: np.ndarray) -> np.ndarray:
        time.sleep(self.seconds)
        return frames.copy()


def test_histogram_percentiles():
    h = LatencyHistogram()
    for ms in range(1, 101):
        h.add(float(ms))
    assert h.percentile(50) == pytest.approx(50, abs=0.5)
    assert h.percentile(95) == pytest.approx(95, abs=0.5)
    assert h.max_ms == 100 and LatencyHistogram().percentile(50) is None
    h.add(1e6)  # beyond the last bin: counted, and the maximum stays exact
    assert h.max_ms == 1e6 and h.count == 101


def test_identity_keeps_up_at_30_fps_and_sends_on(tmp_path):
    """Identity model, UDP in and UDP out: at least 29 processed fps, nothing dropped to
    speak of, and a receiver of the output stream gets the frames in order."""
    send, listen = urls()
    send_out, listen_out = urls()
    stats_json = tmp_path / "stats.json"
    with PatternSender(send) as sender:
        probe = SenderToOutput(sender)
        done: dict[str, vidgan.StreamResult] = {}

        def run() -> None:
            done["result"] = stream(
                listen,
                send_out,
                model="identity",
                duration=10,
                stats_every=5,
                stats_json=str(stats_json),
                sinks=[probe],
            )

        runner = threading.Thread(target=run)
        runner.start()
        time.sleep(1.5)  # the output stream exists once the input has opened
        seen = []
        with LiveSource(listen_out) as onward:
            while runner.is_alive():
                if (f := onward.get(0.5)) is not None:
                    seen.append(read_index(f.image))
        runner.join()
    total = done["result"].total
    print(
        f"\nidentity: {total.describe()}; sender to output p50 {probe.percentile_ms(50):.1f}"
        f" p95 {probe.percentile_ms(95):.1f} ms"
    )
    assert total.fps >= 29
    assert total.dropped <= 0.02 * total.captured
    assert total.latency_p95_ms is not None and total.latency_p95_ms < 100
    assert len(seen) > 150 and seen == sorted(seen)  # the onward stream plays, in order
    saved = json.loads(stats_json.read_text())
    assert saved["model"] == "identity" and saved["ended"] == "duration"
    assert saved["total"]["frames"] == total.frames and len(saved["intervals"]) >= 2


def test_slowed_model_drops_frames_and_latency_stays_bounded():
    """A model at 10 fps on a 30 fps stream: two frames in three are dropped and counted, and
    the latency stays near one model call instead of growing by a frame period per frame."""
    send, listen = urls()
    with PatternSender(send):
        result = stream(listen, model=Slowed(0.1), duration=12, stats_every=4)
    total, first, last = result.total, result.intervals[0], result.intervals[-1]
    print(f"\nslowed: {total.describe()}")
    assert total.dropped >= 0.5 * total.captured
    assert total.dropped == total.dropped_capture + total.dropped_output
    assert 7 <= total.fps <= 11
    assert total.latency_max_ms is not None and total.latency_max_ms < 400
    assert total.latency_p95_ms is not None and total.latency_p95_ms < 250
    assert last.latency_p50_ms is not None and first.latency_p50_ms is not None
    assert last.latency_p50_ms < first.latency_p50_ms + 20


def test_default_model_for_60_seconds_latency_low_and_flat(tmp_path):
    """The default restoration model for 60 s, recording to MPEG-TS: capture-to-output p95
    under 100 ms, and no growth between the first and the last 20 s."""
    send, listen = urls()
    out = tmp_path / "dive.ts"
    with PatternSender(send) as sender:
        probe = SenderToOutput(sender)
        result = stream(listen, str(out), duration=60, stats_every=20, sinks=[probe])
    total, first, last = result.total, result.intervals[0], result.intervals[-1]
    print(f"\ngan 60 s: {total.describe()}")
    for i, s in enumerate(result.intervals):
        print(f"  interval {i}: {s.describe()}")
    print(
        f"  sender to output p50 {probe.percentile_ms(50):.1f} p95 {probe.percentile_ms(95):.1f}"
        f" max {max(probe.seconds) * 1000:.1f} ms"
    )
    assert result.model == "gan"
    assert total.latency_p95_ms is not None and total.latency_p95_ms < 100
    assert len(result.intervals) == 3
    assert first.latency_p50_ms is not None and last.latency_p50_ms is not None
    assert first.latency_p95_ms is not None and last.latency_p95_ms is not None
    assert last.latency_p50_ms < first.latency_p50_ms + 10
    assert last.latency_p95_ms < max(first.latency_p95_ms + 25, 100)
    assert total.fps >= 20
    # the recording holds what was output, timed by capture: about 60 s long
    frames = decoded(out)
    assert len(frames) == total.frames
    assert 59 < float(frames[-1].time - frames[0].time) < 61


def test_reconnects_after_the_sender_goes_away():
    """Stop the sender: the stream reports a disconnect and keeps trying; start it again:
    the stream reconnects and frames flow again."""
    send, listen = urls()
    probe_indices: list[int] = []

    class Count:
        name = "count"

        def write(self, image: np.ndarray, captured: float) -> None:
            probe_indices.append(read_index(image))

        def close(self) -> None:
            pass

    stop = threading.Event()
    done: dict[str, vidgan.StreamResult] = {}
    first = PatternSender(send)
    first.start()
    runner = threading.Thread(
        target=lambda: done.update(
            result=stream(
                listen,
                model="identity",
                source_settings=SourceSettings(read_timeout=0.5, backoff=0.2),
                sinks=[Count()],
                stop=stop,
            )
        )
    )
    runner.start()
    try:
        time.sleep(2)
        before = len(probe_indices)
        assert before > 20
        first.stop()
        time.sleep(2)  # the read times out after 0.5 s: the source is lost and retried
        assert len(probe_indices) - before < 5
        with PatternSender(send):  # numbers start again from 0
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and len(probe_indices) < before + 30:
                time.sleep(0.1)
    finally:
        stop.set()
        runner.join(20)
    total = done["result"].total
    print(f"\nreconnect: {total.describe()}")
    assert total.disconnects >= 1 and total.reconnects >= 1
    assert len(probe_indices) >= before + 30
    after = probe_indices[before - 1 :]
    assert any(b < a for a, b in zip(after, after[1:], strict=False))  # the new sender's frames


def test_duration_holds_while_the_source_is_reconnecting():
    """The sender goes away after 15 frames: at the end of the duration the capture thread is
    waiting to reopen the silent source (up to the 10 s connect timeout), and the stream ends
    on time all the same."""
    send, listen = urls()
    sender = PatternSender(send)

    class StopTheSender:
        name = "stop-the-sender"
        frames = 0

        def write(self, image: np.ndarray, captured: float) -> None:
            self.frames += 1
            if self.frames == 15:
                threading.Thread(target=sender.stop).start()

        def close(self) -> None:
            pass

    with sender:
        result = stream(
            listen,
            model="identity",
            duration=3,
            source_settings=SourceSettings(read_timeout=0.5, backoff=0.2),
            sinks=[StopTheSender()],
        )
    assert result.ended == "duration"
    assert 15 <= result.total.frames <= 20
    assert result.total.disconnects == 1 and result.total.reconnects == 0
    assert 3 <= result.total.seconds < 3.75  # waiting for the reopening: 1.5 s longer


def test_file_source_to_file_keeps_capture_timing(make_video, tmp_path):
    src = make_video(frames=50, size=(64, 48))  # 2 s at 25 fps
    out = tmp_path / "out.mkv"
    result = stream(str(src), str(out), model="classic")
    assert result.ended == "end of file"
    frames = decoded(out)
    assert len(frames) == result.total.frames >= 45
    assert 1.7 < float(frames[-1].time) < 2.3  # played at its own pace, stamped on capture


def test_file_without_realtime_processes_every_frame(make_video, tmp_path):
    src = make_video(frames=30, size=(64, 48))
    result = stream(
        str(src),
        str(tmp_path / "all.ts"),
        model=Slowed(0.01),
        source_settings=SourceSettings(realtime=False),
    )
    assert result.total.frames == 30 and result.total.dropped == 0


class SlowSink:
    """An output that takes ``seconds`` per frame, keeping the capture times it was given."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.written: list[float] = []

    def write(self, image: np.ndarray, captured: float) -> None:
        time.sleep(self.seconds)
        self.written.append(captured)

    def close(self) -> None:
        pass


def test_file_without_realtime_writes_every_frame_past_a_slow_output(make_video):
    src = make_video(frames=30, size=(64, 48))
    sink = SlowSink(0.01)  # slower than the identity model
    result = stream(
        str(src), model="identity", sinks=[sink], source_settings=SourceSettings(realtime=False)
    )
    assert result.total.frames == 30 and result.total.dropped == 0
    assert len(sink.written) == 30 and sorted(set(sink.written)) == sink.written


@pytest.mark.parametrize("batch", [2, 4])
def test_every_frame_of_a_batch_reaches_the_outputs(make_video, tmp_path, batch):
    src = make_video(frames=48, size=(64, 48))  # 1.9 s at 25 fps, played at its own rate
    out = tmp_path / "out.ts"
    result = stream(str(src), str(out), model="identity", batch=batch)
    assert result.total.dropped_output == 0
    assert len(decoded(out)) == result.total.frames == 48 - result.total.dropped_capture
    assert result.total.frames >= 40


def test_an_interrupt_as_the_stream_starts_stops_it_cleanly(make_video, tmp_path):
    src = make_video(frames=50, size=(64, 48))
    out = tmp_path / "o.ts"

    def interrupt(message: str) -> None:  # Ctrl-C just as the "streaming" line is printed
        raise KeyboardInterrupt

    with pytest.raises(StreamFailed, match="no frames were written") as failed:
        stream(str(src), str(out), model="identity", batch=4, on_start=interrupt)
    result = failed.value.result  # the threads were stopped, and the statistics kept
    assert result.ended == "interrupted" and result.total.frames == 0
    assert not out.exists()  # nothing was written, so nothing is left


def test_errors_before_anything_runs(make_video, tmp_path):
    src = str(make_video(frames=5))
    existing = tmp_path / "taken.ts"
    existing.write_bytes(b"x")
    with pytest.raises(ValueError, match="unknown model"):
        stream(src, model="magic")
    with pytest.raises(OutputError, match="already exists"):
        stream(src, str(existing))
    with pytest.raises(OutputError, match="streams to"):
        stream(src, "ftp://example.com/x")
    with pytest.raises(InputError, match="no such file"):
        stream(str(tmp_path / "missing.mp4"), model="identity")
    assert existing.read_bytes() == b"x"


def test_a_failing_output_stops_the_stream_with_its_statistics(make_video):
    src = str(make_video(frames=50))

    class Broken:
        name = "broken"
        calls = 0

        def write(self, image: np.ndarray, captured: float) -> None:
            self.calls += 1
            if self.calls == 5:
                raise OutputError("the disk is full", "out.ts")

        def close(self) -> None:
            pass

    with pytest.raises(StreamFailed, match="the disk is full") as info:
        stream(src, model="identity", sinks=[Broken()])
    assert info.value.result.total.frames == 4


def test_a_camera_that_disappears_ends_cleanly_with_its_recording(monkeypatch, tmp_path):
    """The camera delivers 20 frames and vanishes: one clear error, the recording finished."""
    from fractions import Fraction

    from vidgan.video import live
    from vidgan.video.colour import resolve_colour
    from vidgan.video.pattern import pattern_image

    class Vanishing(live._Capture):
        def describe(self):
            return 64, 48, Fraction(25), resolve_colour(2, 1, 2, 2, 48, "yuv420p")

        def frames(self):
            for i in range(20):
                time.sleep(0.04)
                yield pattern_image(i, 64, 48)
            raise InputError("No such device", "/dev/video0")

        def close(self):
            pass

    monkeypatch.setattr(live, "_open_camera", lambda source, settings: Vanishing())
    out = tmp_path / "cam.mp4"
    with pytest.raises(StreamFailed, match="the camera stopped delivering frames") as info:
        stream("/dev/video0", str(out), model="identity")
    assert info.value.result.total.frames >= 15
    assert len(decoded(out)) == info.value.result.total.frames


def test_missing_pyvirtualcam_is_a_clear_error(monkeypatch, make_video):
    import sys

    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # import fails
    with pytest.raises(OutputError, match=r"pip install 'vidgan\[virtualcam\]'"):
        stream(str(make_video(frames=5)), model="identity", virtual_camera=True)
