"""The threaded pipeline: order and timestamps, batching, the memory bound, failures and hangs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from vidgan.engine.pipeline import PipelineStats, run_pipeline
from vidgan.video.reader import Frame

TIME_BASE = Fraction(1, 90_000)
HANG_S = 5.0  # a run that takes longer than this is called a hang
THREADS_END_S = 2.0  # how long the engine's threads may take to end after a run


class Boom(Exception):
    """The failure a test injects into one stage."""


def make_frame(i: int) -> Frame:
    """Frame ``i``: every pixel holds ``i``; pts steps by 3003; odd frames have no duration."""
    image = np.full((6, 5, 3), i % 256, dtype=np.uint8)
    return Frame(image, pts=3003 * i + 10, time_base=TIME_BASE, duration=None if i % 2 else 3003)


def endless() -> Iterator[Frame]:
    """A source that never ends, like a live stream."""
    i = 0
    while True:
        yield make_frame(i)
        i += 1


class Inverter:
    """A processor that inverts frames, records what it is asked, and can fail on one call."""

    name = "inverter"

    def __init__(self, fail_on_call: int | None = None, delay: float = 0.0) -> None:
        self.fail_on_call = fail_on_call
        self.delay = delay
        self.error = Boom("processor")
        self.calls: list[str] = []
        self.batches: list[int] = []

    def reset(self) -> None:
        self.calls.append("reset")

    def process(self, frames: np.ndarray) -> np.ndarray:
        self.calls.append("process")
        self.batches.append(len(frames))
        time.sleep(self.delay)
        if len(self.batches) == self.fail_on_call:
            raise self.error
        return 255 - frames


def engine_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("vidgan-") and t.is_alive()]


def run_guarded(*args: Any, **kwargs: Any) -> PipelineStats:
    """``run_pipeline`` in a helper thread: fails the test on a hang or on threads left behind."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["stats"] = run_pipeline(*args, **kwargs)
        except BaseException as e:
            result["error"] = e

    runner = threading.Thread(target=target, name="test-pipeline", daemon=True)
    runner.start()
    runner.join(HANG_S)
    if runner.is_alive():
        pytest.fail(f"run_pipeline did not return within {HANG_S} s")

    deadline = time.monotonic() + THREADS_END_S
    while engine_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine_threads() == []

    if "error" in result:
        raise result["error"]
    return result["stats"]


# order, timestamps and batching


@pytest.mark.parametrize("batch", [1, 3, 8])
@pytest.mark.parametrize("count", [1, 10, 24])
def test_frames_come_out_in_order_with_their_timing(batch: int, count: int) -> None:
    frames = [make_frame(i) for i in range(count)]
    processor = Inverter()
    out: list[Frame] = []

    stats = run_guarded(frames, processor, out.append, batch=batch)

    assert [f.pts for f in out] == [3003 * i + 10 for i in range(count)]
    for got, sent in zip(out, frames, strict=True):
        np.testing.assert_array_equal(got.image, 255 - sent.image)
        assert got.time_base == TIME_BASE
        assert got.duration == sent.duration
        assert got.time == sent.time
    assert stats.frames == count
    assert stats.seconds > 0
    assert stats.fps == pytest.approx(count / stats.seconds)

    # every batch is full but the last
    full, rest = divmod(count, batch)
    assert processor.batches == [batch] * full + ([rest] if rest else [])


@pytest.mark.parametrize("batch", [3, 8])
def test_batches_are_full_even_when_the_source_is_slow(batch: int) -> None:
    def source() -> Iterator[Frame]:
        for i in range(10):
            time.sleep(0.002)
            yield make_frame(i)

    processor = Inverter()
    out: list[Frame] = []
    run_guarded(source(), processor, out.append, batch=batch)
    assert [f.pts for f in out] == [3003 * i + 10 for i in range(10)]
    assert processor.batches == [batch] * (10 // batch) + [10 % batch]


def test_processor_is_reset_once_before_the_first_batch() -> None:
    processor = Inverter()
    run_guarded([make_frame(i) for i in range(5)], processor, lambda f: None, batch=2)
    assert processor.calls == ["reset", "process", "process", "process"]


def test_an_empty_source_writes_nothing() -> None:
    processor = Inverter()
    out: list[Frame] = []
    stats = run_guarded([], processor, out.append, batch=3)
    assert (out, stats.frames, stats.fps) == ([], 0, 0.0)
    assert processor.calls == ["reset"]


def test_on_frame_counts_each_frame_after_it_is_written() -> None:
    events: list[tuple[str, int]] = []
    run_guarded(
        [make_frame(i) for i in range(7)],
        Inverter(),
        lambda f: events.append(("write", f.pts)),
        batch=3,
        on_frame=lambda n: events.append(("on_frame", n)),
    )
    expected = [e for i in range(7) for e in (("write", 3003 * i + 10), ("on_frame", i + 1))]
    assert events == expected


def test_batch_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch"):
        run_pipeline([make_frame(0)], Inverter(), lambda f: None, batch=0)


# memory bound


@pytest.mark.parametrize(("batch", "queue_batches"), [(1, 1), (2, 2), (3, 1)])
def test_reader_stays_within_the_queues_of_a_slow_writer(batch: int, queue_batches: int) -> None:
    written = 0
    held: list[int] = []  # frames handed to the pipeline and not yet written, at each read

    def source() -> Iterator[Frame]:
        for i in range(40):
            held.append(i - written)
            yield make_frame(i)

    def write(frame: Frame) -> None:
        nonlocal written
        time.sleep(0.002)
        written += 1

    run_guarded(source(), Inverter(), write, batch=batch, queue_batches=queue_batches)

    # two queues, the batch in the processor's hands and the frame in the writer's
    queues = 2 * batch * queue_batches
    assert written == 40
    assert max(held) <= queues + batch + 1
    assert max(held) >= queues  # the reader did run ahead as far as the queues allow


# failures: raised in the caller's thread, every thread ends, nothing hangs; each stage is slow
# enough that the others are blocked on a full or an empty queue when it fails


def slow_write(frame: Frame) -> None:
    time.sleep(0.005)


@pytest.mark.parametrize("slow", ["source", "writer"])
def test_a_source_error_is_raised(slow: str) -> None:
    error = Boom("source")

    def source() -> Iterator[Frame]:
        for i in range(20):
            if slow == "source":
                time.sleep(0.005)
            yield make_frame(i)
        raise error

    write = slow_write if slow == "writer" else lambda f: None
    with pytest.raises(Boom) as caught:
        run_guarded(source(), Inverter(), write, batch=3)
    assert caught.value is error


@pytest.mark.parametrize("batch", [1, 4])
def test_a_processor_error_is_raised(batch: int) -> None:
    processor = Inverter(fail_on_call=2, delay=0.05)
    with pytest.raises(Boom) as caught:
        run_guarded(endless(), processor, lambda f: None, batch=batch)
    assert caught.value is processor.error
    assert processor.batches == [batch, batch]


def test_a_processor_returning_too_few_frames_is_an_error() -> None:
    class Dropper(Inverter):
        def process(self, frames: np.ndarray) -> np.ndarray:
            return frames[1:]

    with pytest.raises(ValueError):
        run_guarded(endless(), Dropper(), lambda f: None, batch=3)


@pytest.mark.parametrize("batch", [1, 4])
def test_a_write_error_is_raised(batch: int) -> None:
    error = Boom("write")
    written: list[int] = []

    def write(frame: Frame) -> None:
        time.sleep(0.02)
        if len(written) == 2:
            raise error
        written.append(frame.pts)

    with pytest.raises(Boom) as caught:
        run_guarded(endless(), Inverter(), write, batch=batch)
    assert caught.value is error
    assert written == [10, 3013]


def test_an_on_frame_error_is_raised() -> None:
    error = Boom("on_frame")

    def on_frame(n: int) -> None:
        if n == 3:
            raise error

    with pytest.raises(Boom) as caught:
        run_guarded(endless(), Inverter(), slow_write, batch=2, on_frame=on_frame)
    assert caught.value is error
