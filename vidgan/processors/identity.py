"""The pass-through processor, for measuring the pipeline's own cost."""

from __future__ import annotations

import numpy as np


class Identity:
    """Passes frames through untouched; measures the pipeline's own cost."""

    name = "identity"

    def process(self, frames: np.ndarray) -> np.ndarray:
        return frames

    def reset(self) -> None:
        pass
