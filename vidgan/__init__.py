"""vidgan: restore, generate and re-voice video with GANs, from files or live streams."""

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from vidgan.errors import InputError, OutputError, VidganError
from vidgan.tasks import RestoreResult, StreamResult, StreamStats, restore, stream
from vidgan.video import VideoInfo, VideoReader, VideoWriter, WriterSettings, probe

if TYPE_CHECKING:
    from vidgan.tasks.generate import GenerateResult, animate, generate

try:
    __version__ = version("vidgan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "GenerateResult",
    "InputError",
    "OutputError",
    "RestoreResult",
    "StreamResult",
    "StreamStats",
    "VidganError",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "WriterSettings",
    "__version__",
    "animate",
    "generate",
    "probe",
    "restore",
    "stream",
]

_GENERATE = ("GenerateResult", "animate", "generate")


def __getattr__(name: str) -> Any:
    # the generation API is loaded on first use: it imports torch, which `vidgan restore
    # -m classic` and `vidgan info` do without
    if name in _GENERATE:
        return getattr(importlib.import_module("vidgan.tasks.generate"), name)
    raise AttributeError(f"module 'vidgan' has no attribute {name!r}")
