"""Time vidgan's video I/O against a plain PyAV loop, and check that its memory stays flat.

For one clip (default: samples/bunny.mp4, 720p) it measures, over the whole clip:

1. the fps of a plain PyAV loop: decode, ``to_ndarray("rgb24")``, ``from_ndarray``, encode with
   the settings of vidgan's default writer (libx264, yuv420p, crf 18, preset veryfast, the
   source's rate and time base, +faststart), mux, flush. Video only: no audio is copied;
2. and 3. the fps of ``vidgan restore --model identity`` and ``--model classic``, each run as a
   subprocess and timed from start to exit; the fps vidgan prints itself is reported beside it;
4. the peak RSS of ``vidgan restore --model identity -q`` on the clip and on the clip repeated
   ten times (its packets copied ten times over with shifted timestamps, so every frame costs
   the same to decode), each in a fresh child process.

Each fps figure is the best of ``--repeat`` runs. Outputs go to a temporary folder that is
removed at the end.

Usage::

    python scripts/bench_io.py [CLIP] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import av

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LONG_TIMES = 10

# the last line `vidgan restore` prints: "wrote PATH: N frames in S s (F fps)"
WROTE = re.compile(
    r"wrote (?P<path>.+): (?P<frames>\d+) frames in (?P<secs>[\d.]+) s "
    r"\((?P<fps>[\d.]+) fps\)"
)

# runs a command and prints the peak RSS of its process tree, in the units getrusage gives
RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


@dataclass
class Run:
    """One timed run: frames, wall seconds, and what vidgan said of itself (if anything)."""

    frames: int
    wall: float
    own_secs: float | None = None
    own_fps: float | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.wall


def vidgan_command() -> list[str]:
    """The `vidgan` entry point of this interpreter's environment."""
    exe = os.path.join(os.path.dirname(sys.executable), "vidgan")
    if os.path.exists(exe):
        return [exe]
    return [sys.executable, "-m", "vidgan"]


def plain_pyav(src: str, dst: str) -> Run:
    """Decode, RGB round trip and encode with PyAV alone; returns frames and wall time."""
    started = time.perf_counter()
    frames = 0
    with av.open(src) as inp, av.open(dst, "w", options={"movflags": "+faststart"}) as out:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"  # as vidgan's reader decodes
        rate = vin.average_rate or vin.guessed_rate
        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height = vin.codec_context.width, vin.codec_context.height
        vout.pix_fmt = "yuv420p"
        vout.time_base = vin.time_base
        vout.codec_context.time_base = vin.time_base
        vout.codec_context.framerate = rate
        vout.codec_context.options = {"crf": "18", "preset": "veryfast"}

        # the loop: decode, to RGB and back, encode, mux
        for frame in inp.decode(vin):
            image = frame.to_ndarray(format="rgb24")
            rgb = av.VideoFrame.from_ndarray(image, format="rgb24")
            rgb.pts = frame.pts
            rgb.time_base = vin.time_base
            out.mux(vout.encode(rgb))
            frames += 1

        # flush the encoder; closing the output writes the index (+faststart moves it)
        out.mux(vout.encode(None))
    return Run(frames, time.perf_counter() - started)


def vidgan_restore(src: str, dst: str, model: str, frames: int) -> Run:
    """`vidgan restore` as a subprocess, timed from start to exit."""
    cmd = [*vidgan_command(), "restore", "--model", model, src, "-o", dst, "-y"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    lines = [line for line in re.split(r"[\r\n]", proc.stderr) if line.strip()]
    match = WROTE.search(lines[-1]) if lines else None
    if match is None:
        print(f"  (no 'wrote ...' line in vidgan's stderr; it ended with {lines[-1:]!r})")
        return Run(frames, wall)
    if int(match["frames"]) != frames:
        print(f"  (vidgan says {match['frames']} frames, the clip has {frames})")
    return Run(frames, wall, float(match["secs"]), float(match["fps"]))


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


def peak_rss_mib(cmd: list[str]) -> float:
    """Peak RSS of ``cmd``, measured by a fresh Python process that runs it and waits."""
    out = subprocess.run([sys.executable, "-c", RSS_WRAPPER, *cmd], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    maxrss = int(out.stdout.split()[-1])
    # Linux reports kilobytes, macOS bytes
    return maxrss / (1 << 20) if sys.platform == "darwin" else maxrss / 1024


def repeat_clip(src: str, dst: str, times: int) -> None:
    """Write ``src`` ``times`` times over into ``dst`` by copying packets with shifted times.

    Each copy is shifted by the video's length. Audio packets that would start past that
    length are dropped from every copy but the last, so timestamps only ever increase.
    """
    with av.open(src) as probe:
        video = probe.streams.video[0]
        end = max(p.pts + (p.duration or 0) for p in probe.demux(video) if p.size)
        span = end * video.time_base  # the video's length, as a Fraction of seconds

    with av.open(dst, "w") as out:
        mapped: dict[int, av.stream.Stream] = {}
        for k in range(times):
            with av.open(src) as inp:
                streams = [s for s in inp.streams if s.type in ("video", "audio")]
                if not mapped:
                    mapped = {s.index: out.add_stream_from_template(s) for s in streams}
                for packet in inp.demux(*streams):
                    if not packet.size:
                        continue
                    tb = packet.time_base
                    shift = int(span * k / tb)
                    last = k == times - 1
                    if packet.stream.type == "audio" and not last and packet.pts * tb >= span:
                        continue
                    packet.pts += shift
                    packet.dts = (packet.dts if packet.dts is not None else packet.pts) + shift
                    packet.stream = mapped[packet.stream.index]
                    out.mux(packet)


def count_frames(path: str) -> int:
    with av.open(path) as c:
        return sum(1 for p in c.demux(c.streams.video[0]) if p.size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", nargs="?", default=os.path.join(ROOT, "samples", "bunny.mp4"))
    parser.add_argument("--repeat", type=int, default=2, help="runs per fps figure (best kept)")
    args = parser.parse_args()
    clip = os.path.abspath(args.clip)
    if not os.path.isfile(clip):
        raise SystemExit(f"{clip}: no such file (make it with scripts/make_samples.py)")

    with av.open(clip) as c:
        v = c.streams.video[0]
        size = f"{v.codec_context.width}x{v.codec_context.height}"
        duration = float(v.duration * v.time_base) if v.duration else float("nan")
    print(
        f"clip: {clip} ({size}, {duration:.2f} s); {os.cpu_count()} CPUs; "
        f"PyAV {av.__version__}; best of {args.repeat}"
    )

    tmp = tempfile.mkdtemp(prefix="vidgan-bench-")
    try:
        out = os.path.join(tmp, "out.mp4")

        # 1. plain PyAV loop
        plain = []
        for i in range(args.repeat):
            plain.append(plain_pyav(clip, out))
            print(
                f"plain PyAV     run {i + 1}: {plain[-1].frames} frames in "
                f"{plain[-1].wall:.2f} s ({plain[-1].fps:.1f} fps)"
            )
        frames = plain[0].frames

        # 2. and 3. vidgan restore, end to end
        restored: dict[str, Run] = {}
        for model in ("identity", "classic"):
            runs = []
            for i in range(args.repeat):
                runs.append(vidgan_restore(clip, out, model, frames))
                r = runs[-1]
                print(
                    f"vidgan {model:<8} run {i + 1}: {r.wall:.2f} s wall "
                    f"({r.fps:.1f} fps); vidgan says {r.own_secs} s ({r.own_fps} fps)"
                )
            restored[model] = best(runs)

        # 4. peak RSS, short clip and ten times longer
        long_clip = os.path.join(tmp, f"long{LONG_TIMES}x.mp4")
        repeat_clip(clip, long_clip, LONG_TIMES)
        long_frames = count_frames(long_clip)
        rss = {}
        for name, src, n in (("short", clip, frames), ("long", long_clip, long_frames)):
            cmd = [*vidgan_command(), "restore", "--model", "identity", "-q", src, "-o", out, "-y"]
            rss[name] = peak_rss_mib(cmd)
            print(
                f"peak RSS, identity -q, {name:<5} ({n} frames in, "
                f"{count_frames(out)} out): {rss[name]:.0f} MiB"
            )

        # the table
        p, ident, classic = best(plain), restored["identity"], restored["classic"]
        print()
        print(f"{'measurement':<34} {'wall s':>7} {'fps':>7} {'vidgan s':>9} {'vidgan fps':>11}")
        print(
            f"{'plain PyAV loop (in process)':<34} {p.wall:>7.2f} {p.fps:>7.1f} {'-':>9} {'-':>11}"
        )
        for name, r in (
            ("vidgan restore -m identity", ident),
            ("vidgan restore -m classic", classic),
        ):
            own_s = f"{r.own_secs:.1f}" if r.own_secs is not None else "-"
            own_fps = f"{r.own_fps:.1f}" if r.own_fps is not None else "-"
            print(f"{name:<34} {r.wall:>7.2f} {r.fps:>7.1f} {own_s:>9} {own_fps:>11}")
        own_ratio = f"{ident.own_fps / p.fps:.2f}" if ident.own_fps is not None else "-"
        print(
            f"{'identity / plain, fps':<34} {'':>7} {ident.fps / p.fps:>7.2f} {'':>9} "
            f"{own_ratio:>11}"
        )
        print(f"{'peak RSS identity -q, short':<34} {rss['short']:>7.0f} MiB ({frames} frames)")
        print(
            f"{'peak RSS identity -q, 10x long':<34} {rss['long']:>7.0f} MiB ({long_frames} frames)"
        )
        print(f"{'peak RSS long / short':<34} {rss['long'] / rss['short']:>7.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
