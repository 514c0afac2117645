"""Frame processors: the classical baseline and the pass-through used for measuring the pipeline."""

from vidgan.processors.base import Identity, Processor
from vidgan.processors.classic import ClassicRestorer

__all__ = ["ClassicRestorer", "Identity", "Processor"]
