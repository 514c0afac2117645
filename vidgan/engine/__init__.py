"""The streaming engine: threads and queues (`pipeline`), devices and precision (`device`), and
the runner that puts a torch generator on the stream (`runner`).

Only the pipeline is imported here: `device` and `runner` import torch, which costs seconds, and
the commands that run no network (`info`, `restore -m classic`) should not pay for it.
"""

from vidgan.engine.pipeline import PipelineStats, run_pipeline

__all__ = ["PipelineStats", "run_pipeline"]
