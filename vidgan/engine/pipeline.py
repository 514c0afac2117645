"""The streaming engine: decode, process and encode overlap in three threads.

    source ─▶ reader thread ─▶ [queue] ─▶ processor, in batches ─▶ [queue] ─▶ writer thread ─▶ sink

Queues are bounded, so memory holds a few batches whatever the length of the video. A failure
in any stage stops the other two and is raised in the caller's thread; no stage can block
forever on a queue whose other end has died.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidgan.engine.processor import Processor
from vidgan.video.reader import Frame

_END = object()  # marks the end of a queue's items
_POLL = 0.1  # seconds between checks of the stop flag while blocked on a queue


class _Stopped(Exception):
    """Another stage failed; this one leaves quietly."""


@dataclass
class PipelineStats:
    """What one run did; ``fps`` counts frames out of the writer per second of wall time."""

    frames: int = 0
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class _Stage:
    """Shared stop flag and first error of a pipeline run."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def fail(self, error: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = error
        self.stop.set()

    def put(self, q: queue.Queue[Any], item: Any) -> None:
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                q.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    def get(self, q: queue.Queue[Any]) -> Any:
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                return q.get(timeout=_POLL)
            except queue.Empty:
                continue


def run_pipeline(
    frames: Iterable[Frame],
    processor: Processor,
    write: Callable[[Frame], None],
    *,
    batch: int = 4,
    queue_batches: int = 2,
    on_frame: Callable[[int], None] | None = None,
) -> PipelineStats:
    """Read ``frames``, process them in batches of up to ``batch``, hand each result to ``write``.

    ``frames`` is consumed in a reader thread and ``write`` is called from a writer thread, in
    presentation order. ``on_frame(n)`` is called from the writer thread after every frame
    written, with the count so far. Raises the first error of any stage.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    stage = _Stage()
    inbox: queue.Queue[Any] = queue.Queue(maxsize=batch * queue_batches)
    outbox: queue.Queue[Any] = queue.Queue(maxsize=batch * queue_batches)
    stats = PipelineStats()
    started = time.perf_counter()

    def read() -> None:
        try:
            for frame in frames:
                stage.put(inbox, frame)
            stage.put(inbox, _END)
        except _Stopped:
            pass
        except BaseException as e:
            stage.fail(e)

    def encode() -> None:
        try:
            while (frame := stage.get(outbox)) is not _END:
                write(frame)
                stats.frames += 1
                if on_frame is not None:
                    on_frame(stats.frames)
        except _Stopped:
            pass
        except BaseException as e:
            stage.fail(e)

    reader = threading.Thread(target=read, name="vidgan-reader", daemon=True)
    writer = threading.Thread(target=encode, name="vidgan-writer", daemon=True)
    reader.start()
    writer.start()
    try:
        processor.reset()
        ended = False
        while not ended:
            # gather a full batch (fewer only at the end of the stream)
            pending = [stage.get(inbox)]
            if pending[0] is _END:
                break
            while len(pending) < batch:
                item = stage.get(inbox)
                if item is _END:
                    ended = True
                    break
                pending.append(item)

            images = processor.process(np.stack([f.image for f in pending]))
            for f, image in zip(pending, images, strict=True):
                stage.put(outbox, Frame(image, f.pts, f.time_base, f.duration))
        stage.put(outbox, _END)
    except _Stopped:
        pass
    except BaseException as e:
        stage.fail(e)
    finally:
        writer.join()
        stage.stop.set()  # a reader still blocked on a full queue leaves now
        reader.join()
    if stage.error is not None:
        raise stage.error
    stats.seconds = time.perf_counter() - started
    return stats
