"""vidgan: restore, generate and re-voice video with GANs, from files or live streams."""

from importlib.metadata import PackageNotFoundError, version

from vidgan.errors import InputError, OutputError, VidganError
from vidgan.tasks import RestoreResult, restore
from vidgan.video import VideoInfo, VideoReader, VideoWriter, WriterSettings, probe

try:
    __version__ = version("vidgan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "InputError",
    "OutputError",
    "RestoreResult",
    "VidganError",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "WriterSettings",
    "__version__",
    "probe",
    "restore",
]
