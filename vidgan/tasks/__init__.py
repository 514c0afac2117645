"""The tasks: each wires a source, a model and a sink. This is vidgan's Python API."""

from vidgan.tasks.restore import MODELS as RESTORE_MODELS
from vidgan.tasks.restore import RestoreResult, restore
from vidgan.tasks.stream import StreamResult, StreamStats, stream

__all__ = ["RESTORE_MODELS", "RestoreResult", "StreamResult", "StreamStats", "restore", "stream"]
