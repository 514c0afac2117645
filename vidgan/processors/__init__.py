"""Frame processors: the restoration GAN on a stream, the classical baseline, the pass-through."""

from vidgan.engine.processor import Processor
from vidgan.processors.classic import ClassicRestorer
from vidgan.processors.identity import Identity

__all__ = ["ClassicRestorer", "Identity", "Processor"]
