"""`vidgan restore`: a video file in, a restored video file out, timing and audio kept.

>>> import vidgan
>>> result = vidgan.restore("dive.mp4")            # writes dive.restored.mp4
>>> result = vidgan.restore("dive.mp4", "out.mkv", model="identity", batch=8)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from vidgan.engine import run_pipeline
from vidgan.processors import ClassicRestorer, Identity, Processor
from vidgan.video import VideoReader, VideoWriter, WriterSettings
from vidgan.video.writer import check_output_path


class ModelBuilder(Protocol):
    def __call__(self, device: str, precision: str, weights: str | None = None) -> Processor: ...


def _gan(device: str, precision: str, weights: str | None = None) -> Processor:
    return _load_gan(device, precision, weights, temporal=True)


def _gan_perframe(device: str, precision: str, weights: str | None = None) -> Processor:
    return _load_gan(device, precision, weights, temporal=False)


def _load_gan(device: str, precision: str, weights: str | None, *, temporal: bool) -> Processor:
    from vidgan.engine.device import select_device  # torch: imported only for the GAN
    from vidgan.models.weights import load_restorer
    from vidgan.processors.gan import GanRestorer

    name = "gan" if temporal else "gan-perframe"
    return GanRestorer(
        load_restorer(weights),
        select_device(device),
        precision=precision,
        temporal=temporal,
        name=name,
    )


def _no_weights(model: str, weights: str | None) -> None:
    if weights is not None:  # a file the user meant for the GAN would go unused, unnoticed
        raise ValueError(f"-m {model} takes no weights; --weights is for -m gan and gan-perframe")


def _classic(device: str, precision: str, weights: str | None = None) -> Processor:
    _no_weights("classic", weights)
    return ClassicRestorer()


def _identity(device: str, precision: str, weights: str | None = None) -> Processor:
    _no_weights("identity", weights)
    return Identity()


# name -> builder(device, precision, weights)
MODELS: dict[str, ModelBuilder] = {
    "gan": _gan,
    "gan-perframe": _gan_perframe,
    "classic": _classic,
    "identity": _identity,
}
DEFAULT_MODEL = "gan"


@dataclass(frozen=True)
class RestoreResult:
    """What a restore run wrote; ``seconds`` runs from opening the input to the finished file."""

    output: str
    frames: int
    seconds: float

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def default_output(path: str | os.PathLike[str]) -> str:
    """``clip.mov`` -> ``clip.restored.mp4``, beside the input."""
    stem = os.path.splitext(os.fspath(path))[0]
    return f"{stem}.restored.mp4"


def restore(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    model: str = DEFAULT_MODEL,
    weights: str | None = None,
    batch: int = 4,
    device: str = "auto",
    precision: str = "auto",
    deinterlace: bool = False,
    settings: WriterSettings = WriterSettings(),
    on_start: Callable[[int | None], None] | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> RestoreResult:
    """Restore ``input`` into ``output`` (default: ``<input stem>.restored.mp4`` beside it).

    ``weights`` replaces the embedded weights of the ``gan`` models with a trained file.
    ``on_start(total)`` is called once the input is open, with the expected frame count when
    the container states one (None otherwise); ``on_frame(done)`` after each written frame.

    Raises:
        InputError: the input cannot be read as video.
        OutputError: the output exists (without ``settings.overwrite``) or cannot be written.
        ValueError: an unknown model, device or precision, or a batch below 1.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r} (choose from {', '.join(MODELS)})")
    if batch < 1:
        raise ValueError("batch must be at least 1")
    output = os.fspath(output) if output is not None else default_output(input)
    check_output_path(output, source=os.fspath(input), overwrite=settings.overwrite)
    if device not in ("auto", "cpu"):
        from vidgan.engine.device import select_device  # imports torch: only when it matters

        select_device(device)  # refuse a device that is not here, whichever model runs
    processor = MODELS[model](device, precision, weights)  # the torch import and the weights
    started = time.perf_counter()

    with VideoReader(input, deinterlace=deinterlace) as reader:
        if on_start is not None:
            on_start(reader.info.frames)
        with VideoWriter.like(reader.info, output, settings) as writer:
            run_pipeline(
                reader,
                processor,
                lambda f: writer.write(f.image, f.pts, f.duration),
                batch=batch,
                on_frame=on_frame,
            )
    return RestoreResult(writer.path, writer.frames_written, time.perf_counter() - started)
