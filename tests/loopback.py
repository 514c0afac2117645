"""A live stream over loopback for the stream tests: a free UDP port and a measuring sink."""

from __future__ import annotations

import time

import numpy as np

from vidgan.video.pattern import PatternSender, free_udp_port, read_index


def urls() -> tuple[str, str]:
    """(where a sender sends, where a receiver listens) for one free port."""
    port = free_udp_port()
    return f"udp://127.0.0.1:{port}?pkt_size=1316", f"udp://127.0.0.1:{port}"


class SenderToOutput:
    """A sink that reads the frame number back and measures the time since it was sent."""

    name = "sender-to-output"

    def __init__(self, sender: PatternSender) -> None:
        self.sender = sender
        self.seconds: list[float] = []
        self.indices: list[int] = []

    def write(self, image: np.ndarray, captured: float) -> None:
        now = time.monotonic()
        index = read_index(image)
        self.indices.append(index)
        self.seconds.append(now - self.sender.sent_at(index))

    def close(self) -> None:
        pass

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.seconds, q) * 1000)
