"""The streaming engine: threads and queues, devices and precision, the model runner."""

from vidgan.engine.device import autocast_dtype, cpu_has_native_bf16, select_device
from vidgan.engine.pipeline import PipelineStats, run_pipeline
from vidgan.engine.runner import TorchRunner

__all__ = [
    "PipelineStats",
    "TorchRunner",
    "autocast_dtype",
    "cpu_has_native_bf16",
    "run_pipeline",
    "select_device",
]
