"""`vidgan stream`: restore a live source (camera, network stream, file at its own pace) live.

    capture thread ──▶ [newest frame] ──▶ model thread ──▶ [newest frame] ──▶ caller's thread
    decode, stamp                          causal model,                        window, file,
    capture time                           batch of 1                           network, stats

Both hand-offs hold one frame: when a stage falls behind, the frame it did not take in time is
dropped and counted, so the delay from capture to output never grows; a queue would grow it
by a frame period for every frame queued. The model sees the frames it gets in order, and a
temporal model carries its state from one to the next, exactly as `vidgan restore` feeds it.

>>> import vidgan
>>> result = vidgan.stream("udp://127.0.0.1:5000", "dive.ts", duration=60)
>>> result.total.latency_p95_ms, result.total.fps, result.total.dropped

Latency is measured from capture (the frame decoded by the capture thread, ``time.monotonic``)
to the moment every sink has taken the processed frame.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction

import numpy as np

from vidgan.errors import OutputError, VidganError
from vidgan.processors import Processor
from vidgan.tasks.restore import DEFAULT_MODEL, MODELS
from vidgan.video.live import LiveFrame, LiveSource, NewestFrame, SourceSettings
from vidgan.video.sinks import (
    EncodedSink,
    Sink,
    StopRequested,
    VirtualCameraSink,
    WindowSink,
    check_display,
)
from vidgan.video.writer import WriterSettings, check_output_path, network_format

log = logging.getLogger(__name__)

# live recordings: cheap to encode, nothing held back in the encoder
LIVE_SETTINGS = WriterSettings(crf=23, preset="ultrafast", tune="zerolatency")
_POLL = 0.05  # seconds the output loop waits for a frame before checking the clock
# seconds the capture thread gets to let go of the source when the stream ends; one stuck in
# a read or a reconnection lets go in the background, within --read-timeout or
# --connect-timeout, so that --duration holds by the wall clock
_LET_GO = 0.2
_BIN_MS = 0.25  # latency histogram resolution
_MAX_MS = 10_000  # latencies above this count as this much (the maximum is kept exactly)


class LatencyHistogram:
    """Latencies in 0.25 ms bins up to 10 s: percentiles in constant memory, however long."""

    def __init__(self) -> None:
        self.counts = np.zeros(int(_MAX_MS / _BIN_MS) + 1, np.int64)
        self.count = 0
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        self.counts[min(len(self.counts) - 1, int(ms / _BIN_MS))] += 1
        self.count += 1
        self.max_ms = max(self.max_ms, ms)

    def percentile(self, q: float) -> float | None:
        """The upper edge of the bin holding the q-th percentile, in ms; None when empty."""
        if not self.count:
            return None
        rank = int(np.ceil(q / 100 * self.count))
        bin_ = int(np.searchsorted(np.cumsum(self.counts), max(1, rank)))
        return min((bin_ + 1) * _BIN_MS, self.max_ms)


@dataclass(frozen=True)
class StreamStats:
    """What a stretch of the stream did.

    ``frames`` were handed to the sinks in ``seconds``; ``dropped`` is the sum of frames the
    model never saw (``dropped_capture``) and results the output never took
    (``dropped_output``). Latencies are capture to output, in milliseconds (None before the
    first frame).
    """

    seconds: float
    frames: int
    fps: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_max_ms: float | None
    captured: int
    dropped: int
    dropped_capture: int
    dropped_output: int
    disconnects: int
    reconnects: int

    def describe(self) -> str:
        """One human line."""

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.0f}"

        text = (
            f"{self.frames} frames in {self.seconds:.1f} s ({self.fps:.1f} fps), latency "
            f"p50 {ms(self.latency_p50_ms)} / p95 {ms(self.latency_p95_ms)} / max "
            f"{ms(self.latency_max_ms)} ms, dropped {self.dropped} of {self.captured}"
        )
        if self.disconnects:
            text += f", {self.disconnects} disconnects, {self.reconnects} reconnects"
        return text


@dataclass(frozen=True)
class StreamResult:
    """A finished stream: totals, the ``--stats`` intervals, and why it ended.

    ``ended`` is one of ``duration``, ``end of file``, ``interrupted``, ``stopped`` or
    ``window closed``.
    """

    source: str
    outputs: tuple[str, ...]
    model: str
    ended: str
    total: StreamStats
    intervals: tuple[StreamStats, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "outputs": list(self.outputs),
            "model": self.model,
            "ended": self.ended,
            "total": asdict(self.total),
            "intervals": [asdict(s) for s in self.intervals],
        }


class StreamFailed(VidganError):
    """The stream stopped on an error after it had started; ``result`` holds what it did."""

    def __init__(self, error: VidganError, result: StreamResult) -> None:
        super().__init__(error.message, error.path)
        self.result = result


class _Meter:
    """Counts one stretch of the stream (the whole run, or one --stats interval)."""

    def __init__(self, now: float, counters: tuple[int, int, int, int, int]) -> None:
        self.start = now
        self.first: float | None = None
        self.last: float | None = None
        self.frames = 0
        self.latency = LatencyHistogram()
        self.counters = counters  # captured, dropped at capture, at output, disconnects, reconnects

    def record(self, now: float, latency: float) -> None:
        self.first = now if self.first is None else self.first
        self.last = now
        self.frames += 1
        self.latency.add(latency * 1000)

    def stats(
        self, now: float, counters: tuple[int, int, int, int, int], *, steady: bool
    ) -> StreamStats:
        """``steady``: fps over first to last frame (the run); else over the wall time."""
        seconds = now - self.start
        if steady and self.first is not None and self.last is not None and self.frames > 1:
            fps = (self.frames - 1) / max(1e-9, self.last - self.first)
        else:
            fps = self.frames / seconds if seconds > 0 else 0.0
        captured, drop_in, drop_out, disconnects, reconnects = (
            a - b for a, b in zip(counters, self.counters, strict=True)
        )
        return StreamStats(
            seconds=seconds,
            frames=self.frames,
            fps=fps,
            latency_p50_ms=self.latency.percentile(50),
            latency_p95_ms=self.latency.percentile(95),
            latency_max_ms=self.latency.max_ms if self.frames else None,
            captured=captured,
            dropped=drop_in + drop_out,
            dropped_capture=drop_in,
            dropped_output=drop_out,
            disconnects=disconnects,
            reconnects=reconnects,
        )


def check_outputs(outputs: Sequence[str], settings: WriterSettings, source: str) -> None:
    """Refuse, before anything opens, outputs that cannot be written or sent to, the source
    itself, and the same file twice."""
    seen: set[str] = set()
    for target in outputs:
        if "://" in target:
            network_format(target)
            continue
        path = check_output_path(target, source=source, overwrite=settings.overwrite)
        real = os.path.realpath(path)
        if real in seen:
            raise OutputError("is given twice as an output", target)
        seen.add(real)


def _open_sinks(
    outputs: Sequence[str],
    source: LiveSource,
    settings: WriterSettings,
    show: bool,
    virtual_camera: bool,
) -> list[Sink]:
    rate: Fraction | None = source.rate
    if settings.gop is None:  # a keyframe a second: receivers join and recover from losses
        settings = replace(settings, gop=max(1, round(float(rate or 30))))
    sinks: list[Sink] = []
    try:
        for target in outputs:
            sinks.append(
                EncodedSink(
                    target,
                    width=source.width,
                    height=source.height,
                    rate=rate,
                    colour=source.colour,
                    settings=settings,
                )
            )
        if show:
            sinks.append(WindowSink(f"vidgan stream: {source.source}"))
        if virtual_camera:
            sinks.append(VirtualCameraSink(source.width, source.height, rate))
    except BaseException:
        _close_sinks(sinks)
        raise
    return sinks


def _close_sinks(sinks: Sequence[Sink]) -> BaseException | None:
    """Close every sink (finishing files), returning the first error instead of stopping."""
    first: BaseException | None = None
    for sink in sinks:
        try:
            sink.close()
        except Exception as e:
            first = first or e
            if isinstance(sink, EncodedSink):
                sink.abort()
    return first


def _run_model(
    source: LiveSource, processor: Processor, out: NewestFrame, batch: int, halt: threading.Event
) -> None:
    """The model thread: newest captured frames in, results into ``out``, until halted."""
    try:
        while not halt.is_set():
            # gather a batch of the newest frames (one, by default: latency first)
            frames: list[LiveFrame] = []
            while len(frames) < batch and not halt.is_set():
                frame = source.get(_POLL)  # raises the error a camera or file ended on
                if frame is not None:
                    frames.append(frame)
                elif source.slot.ended:
                    break
            if not frames:
                if source.slot.ended:
                    break
                continue

            # a newer batch may replace a result the outputs have not taken, but every frame of
            # one batch reaches them: the later ones wait for the slot to empty
            images = processor.process(np.stack([f.image for f in frames]))
            for i, (f, image) in enumerate(zip(frames, images, strict=True)):
                out.put(LiveFrame(image, f.captured, f.index), wait=i > 0)
        out.close()
    except BaseException as e:
        out.close(e)


def _check_json_path(path: str, source: str, outputs: Sequence[str], overwrite: bool) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OutputError("is a folder; give a file name for the statistics", path)
    others = [source, *(o for o in outputs if "://" not in o)]
    if any(os.path.realpath(path) == os.path.realpath(o) for o in others):
        raise OutputError("is the source or an output; give the statistics another name", path)
    if os.path.exists(path) and not overwrite:
        raise OutputError("already exists (use -y/--overwrite to replace it)", path)
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise OutputError(
            "the statistics cannot be written here (no such folder, or read-only)", path
        )


def _write_json(path: str, result: StreamResult) -> None:
    """Replace ``path`` with the result as JSON, atomically: a reader never sees half a file."""
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "w") as f:
        json.dump(result.as_dict(), f, indent=1)
    os.replace(temp, path)


def stream(
    source: str,
    output: str | Sequence[str] | None = None,
    *,
    model: str | Processor = DEFAULT_MODEL,
    weights: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    batch: int = 1,
    show: bool = False,
    virtual_camera: bool = False,
    duration: float | None = None,
    source_settings: SourceSettings = SourceSettings(),
    settings: WriterSettings = LIVE_SETTINGS,
    stats_every: float | None = None,
    on_start: Callable[[str], None] | None = None,
    on_stats: Callable[[StreamStats], None] | None = None,
    stats_json: str | None = None,
    sinks: Sequence[Sink] = (),
    stop: threading.Event | None = None,
) -> StreamResult:
    """Restore ``source`` live into ``output`` (files and URLs), a window, a virtual camera.

    ``model`` is a name from `vidgan.tasks.restore.MODELS` or a Processor. It runs until
    ``duration`` seconds have passed, a file source ends, ``stop`` is set, the window is
    closed, or Ctrl-C (KeyboardInterrupt, which is not raised: ``ended`` says
    ``interrupted``); every output is finished in all of these cases. ``on_start`` receives a
    line describing the source once it is open and the model ready; ``on_stats`` receives
    each ``stats_every``-second interval; ``stats_json`` is rewritten with the result at each
    interval and at the end. ``sinks`` are extra sinks, called from the caller's thread.

    Raises:
        InputError: the source cannot be opened.
        OutputError: an output cannot be written, or no window can be shown.
        StreamFailed: a camera or file source stopped on an error, or an output failed, after
            the stream had started; its ``result`` holds the statistics until then.
        ValueError: an unknown model, device or precision, a batch below 1.
    """
    outputs = [output] if isinstance(output, str) else list(output or ())
    if isinstance(model, str) and model not in MODELS:
        raise ValueError(f"unknown model {model!r} (choose from {', '.join(MODELS)})")
    if batch < 1:
        raise ValueError("batch must be at least 1")
    check_outputs(outputs, settings, source)
    if stats_json:
        _check_json_path(stats_json, source, outputs, settings.overwrite)
    if show:
        check_display()
    processor = MODELS[model](device, precision, weights) if isinstance(model, str) else model
    live = LiveSource(source, source_settings, start=False)
    try:
        all_sinks = [*_open_sinks(outputs, live, settings, show, virtual_camera), *sinks]
    except BaseException:
        live.close()
        raise

    # the first call of a torch model pays for its set-up; not on the first live frame
    try:
        processor.process(np.zeros((batch, live.height, live.width, 3), np.uint8))
        processor.reset()
    except BaseException:
        live.close()
        _close_sinks(all_sinks)  # nothing written yet: the files are removed
        raise

    # the three threads
    results = NewestFrame(lossless=live.slot.lossless)  # a file fed whole is written whole
    halt = threading.Event()
    worker = threading.Thread(
        target=_run_model,
        args=(live, processor, results, batch, halt),
        name="vidgan-model",
        daemon=True,
    )

    def counters() -> tuple[int, int, int, int, int]:
        return live.frames, live.dropped, results.dropped, live.disconnects, live.reconnects

    started = time.monotonic()
    total = _Meter(started, counters())
    interval = _Meter(started, counters())
    intervals: list[StreamStats] = []
    deadline = None if duration is None else started + duration
    ended = "stopped"
    error: BaseException | None = None

    def result(now: float) -> StreamResult:
        return StreamResult(
            source=source,
            outputs=tuple(outputs),
            model=processor.name,
            ended=ended,
            total=total.stats(now, counters(), steady=True),
            intervals=tuple(intervals),
        )

    try:
        # from here on a Ctrl-C, however early, stops the threads and finishes the outputs
        if on_start is not None:
            rate = f"{float(live.rate):.3g} fps" if live.rate else "unknown rate"
            on_start(f"{live.source}: {live.kind}, {live.width}x{live.height}, {rate}")
        live.start()
        worker.start()
        while True:
            now = time.monotonic()
            if stop is not None and stop.is_set():
                ended = "stopped"
                break
            if deadline is not None and now >= deadline:
                ended = "duration"
                break
            if stats_every and now - interval.start >= stats_every:
                intervals.append(interval.stats(now, counters(), steady=False))
                interval = _Meter(now, counters())
                if on_stats is not None:
                    on_stats(intervals[-1])
                if stats_json:
                    _write_json(stats_json, result(now))

            # the newest result, to every sink
            frame = results.get(_POLL)
            if frame is None:
                if results.ended:
                    ended = "end of file"
                    break
                continue
            for sink in all_sinks:
                sink.write(frame.image, frame.captured)
            done = time.monotonic()
            total.record(done, done - frame.captured)
            interval.record(done, done - frame.captured)
    except KeyboardInterrupt:
        ended = "interrupted"
    except StopRequested:
        ended = "window closed"
    except BaseException as e:
        error = e
    finally:
        halt.set()
        results.close()  # releases a model thread waiting to hand over a result
        if worker.ident is not None:  # started
            worker.join(5)
        live.close(wait=_LET_GO)
        closing = _close_sinks(all_sinks)
        error = error or closing

    now = time.monotonic()
    if stats_every and interval.frames:  # the last, shorter interval
        intervals.append(interval.stats(now, counters(), steady=False))
        if on_stats is not None:
            on_stats(intervals[-1])
    final = result(now)
    if stats_json:
        with contextlib.suppress(OSError):
            _write_json(stats_json, final)
    if isinstance(error, VidganError):
        raise StreamFailed(error, final) from error
    if error is not None:
        raise error
    return final
