"""The contract between the pipeline engine and whatever transforms frames.

A processor is a stateful object that sees one stream's frames in presentation order, in batches.
Because consecutive calls continue the same stream, a processor may keep a temporal window of
past frames or a recurrent state between calls; ``reset`` forgets it before a new stream.
Both file restoration and live streaming feed processors this way, so a temporal model
behaves identically in the two.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Processor(Protocol):
    """Turns batches of RGB frames into batches of RGB frames of the same shape."""

    name: str

    def process(self, frames: np.ndarray) -> np.ndarray:
        """Process the next frames of the stream.

        Args:
            frames: uint8 RGB, shape (N, H, W, 3), the next N frames in presentation order.

        Returns:
            uint8 RGB, shape (N, H, W, 3): one output per input frame, in the same order. The
            engine hands the arrays on to another thread, so they must not be reused later.
        """
        ...

    def reset(self) -> None:
        """Forget all temporal state, before the first frame of a new stream."""
        ...
