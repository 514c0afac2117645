"""Everything that touches PyAV: probing, reading, writing, live sources."""

from vidgan.video.colour import Colour
from vidgan.video.live import LiveFrame, LiveSource, SourceSettings
from vidgan.video.probe import OtherStream, VideoInfo, probe
from vidgan.video.reader import Frame, VideoReader
from vidgan.video.writer import VideoWriter, WriterSettings

__all__ = [
    "Colour",
    "Frame",
    "LiveFrame",
    "LiveSource",
    "OtherStream",
    "SourceSettings",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "WriterSettings",
    "probe",
]
