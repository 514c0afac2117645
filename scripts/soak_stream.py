"""Soak `vidgan stream`: a loopback UDP stream restored for ten minutes, memory sampled.

A local sender writes 640x480 MPEG-TS over UDP at 30 fps; `vidgan.stream` receives it,
restores it with the default model and records it to an MPEG-TS file, printing a line every
``--every`` seconds with the process's resident memory (RSS), the latency and the drops. At
the end it prints the RSS after the first minute (start-up: torch, the encoder's and the UDP
receiver's buffers, which fill as they are first used) and at the end, and the slope of a
straight line fitted to the samples in between.

    python scripts/soak_stream.py                      # 10 minutes, the default model
    python scripts/soak_stream.py --seconds 60 --model identity --json soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

import numpy as np

import vidgan
from vidgan.tasks.stream import StreamStats
from vidgan.video.pattern import PatternSender, free_udp_port


def rss_mb() -> float:
    """Resident memory of this process now (Linux), else its peak so far."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--every", type=float, default=10, help="seconds between samples")
    parser.add_argument("--model", default="gan")
    parser.add_argument("--json", help="write the samples and the summary here")
    parser.add_argument("--keep", help="keep the recording at this path (default: deleted)")
    args = parser.parse_args()

    port = free_udp_port()
    samples: list[dict[str, float | int | None]] = []
    start = time.monotonic()

    def sample(stats: StreamStats) -> None:
        row = {
            "t": round(time.monotonic() - start, 1),
            "rss_mb": round(rss_mb(), 1),
            "fps": round(stats.fps, 2),
            "p50_ms": stats.latency_p50_ms,
            "p95_ms": stats.latency_p95_ms,
            "max_ms": stats.latency_max_ms,
            "dropped": stats.dropped,
        }
        samples.append(row)
        print(
            f"{row['t']:7.1f} s  rss {row['rss_mb']:7.1f} MB  {row['fps']:5.1f} fps  "
            f"p50 {row['p50_ms']} p95 {row['p95_ms']} max {row['max_ms']} ms  "
            f"dropped {row['dropped']}",
            flush=True,
        )

    with tempfile.TemporaryDirectory() as folder:
        out = args.keep or os.path.join(folder, "soak.ts")
        with PatternSender(f"udp://127.0.0.1:{port}?pkt_size=1316"):
            result = vidgan.stream(
                f"udp://127.0.0.1:{port}",
                out,
                model=args.model,
                duration=args.seconds,
                stats_every=args.every,
                on_stats=sample,
            )
        recorded = os.path.getsize(out) / 1e6

    # memory after start-up, while streaming (the last interval ends after the outputs closed)
    running = [s for s in samples if float(s["t"] or 0) <= args.seconds]
    steady = [s for s in running if float(s["t"] or 0) >= min(60, args.seconds / 2)]
    t = np.array([s["t"] for s in steady], float)
    rss = np.array([s["rss_mb"] for s in steady], float)
    slope = float(np.polyfit(t, rss, 1)[0] * 60) if len(t) > 2 else float("nan")
    summary = {
        "seconds": args.seconds,
        "model": result.model,
        "total": result.total.describe(),
        "latency_p95_ms": result.total.latency_p95_ms,
        "rss_first_mb": running[0]["rss_mb"] if running else None,
        "rss_after_startup_mb": float(rss[0]) if len(rss) else None,
        "rss_end_mb": float(rss[-1]) if len(rss) else None,
        "rss_max_after_startup_mb": float(rss.max()) if len(rss) else None,
        "rss_slope_mb_per_min": round(slope, 3),
        "recording_mb": round(recorded, 1),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "samples": samples}, f, indent=1)


if __name__ == "__main__":
    main()
