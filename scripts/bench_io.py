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

For scale it also times ``vidgan --version`` and measures its peak RSS: what every vidgan
command pays before it touches a frame. Each fps figure is the best of ``--repeat`` rounds; a
round runs every measurement once, so a busy spell on a shared machine hits all of them alike.
The load average is printed before and after. Outputs go to a temporary folder that is removed
at the end.

Usage::

    python scripts/bench_io.py [CLIP] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
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

# runs a command, waits, and prints its peak RSS (the largest of the processes waited for)
RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


@dataclass
class Run:
    """One timed run: frames, wall and CPU seconds, and what vidgan said of itself (if anything).

    CPU seconds (user + system, all threads) are less disturbed than wall time by other work
    on a shared machine.
    """

    frames: int
    wall: float
    cpu: float
    own_secs: float | None = None
    own_fps: float | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.wall


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def vidgan_command() -> list[str]:
    """The `vidgan` entry point of this interpreter's environment."""
    exe = os.path.join(os.path.dirname(sys.executable), "vidgan")
    if os.path.exists(exe):
        return [exe]
    return [sys.executable, "-m", "vidgan"]


def plain_pyav(src: str, dst: str) -> Run:
    """Decode, RGB round trip and encode with PyAV alone; frames, wall and CPU time."""
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
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

        # the loop: decode, to RGB and back, encode (PyAV converts to yuv420p itself), mux
        for frame in inp.decode(vin):
            image = frame.to_ndarray(format="rgb24")
            rgb = av.VideoFrame.from_ndarray(image, format="rgb24")
            rgb.pts = frame.pts
            rgb.time_base = vin.time_base
            out.mux(vout.encode(rgb))
            frames += 1

        # flush the encoder; closing the output writes the index (+faststart moves it)
        out.mux(vout.encode(None))
    return Run(frames, time.perf_counter() - started, cpu_seconds(resource.RUSAGE_SELF) - cpu)


def vidgan_restore(src: str, dst: str, model: str, frames: int) -> Run:
    """`vidgan restore` as a subprocess, timed from start to exit."""
    cmd = [*vidgan_command(), "restore", "--model", model, src, "-o", dst, "-y"]
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    lines = [line for line in re.split(r"[\r\n]", proc.stderr) if line.strip()]
    match = WROTE.search(lines[-1]) if lines else None
    if match is None:
        print(f"  (no 'wrote ...' line in vidgan's stderr; it ended with {lines[-1:]!r})")
        return Run(frames, wall, cpu)
    if int(match["frames"]) != frames:
        print(f"  (vidgan says {match['frames']} frames, the clip has {frames})")
    return Run(frames, wall, cpu, float(match["secs"]), float(match["fps"]))


def best(runs: list[Run]) -> Run:
    """Each figure at its best over the runs: least wall time, least CPU, most own fps."""
    fastest = min(runs, key=lambda r: r.wall)
    own = max(runs, key=lambda r: r.own_fps or 0.0)
    cpu = min(r.cpu for r in runs)
    return Run(fastest.frames, fastest.wall, cpu, own.own_secs, own.own_fps)


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


def startup(frames: int) -> Run:
    """`vidgan --version` as a subprocess: what every command pays before it starts work."""
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    subprocess.run([*vidgan_command(), "--version"], capture_output=True, check=True)
    wall = time.perf_counter() - started
    return Run(frames, wall, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu)


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def round_line(i: int, name: str, r: Run) -> str:
    fps = f"{r.fps:5.1f} fps" if name != "vidgan --version" else " " * 9
    own = f" (vidgan says {r.own_secs} s, {r.own_fps} fps)" if r.own_fps is not None else ""
    return f"round {i + 1}: {name:<16}{r.wall:6.2f} s {fps} {r.cpu:6.2f} s CPU{own}"


def cell(value: float | None, spec: str, width: int) -> str:
    return f"{'-' if value is None else format(value, spec):>{width}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", nargs="?", default=os.path.join(ROOT, "samples", "bunny.mp4"))
    parser.add_argument("--repeat", type=int, default=2, help="runs per fps figure (best kept)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    clip = os.path.abspath(args.clip)
    if not os.path.isfile(clip):
        raise SystemExit(f"{clip}: no such file (make it with scripts/make_samples.py)")

    with av.open(clip) as c:
        v = c.streams.video[0]
        size = f"{v.codec_context.width}x{v.codec_context.height}"
        duration = float(v.duration * v.time_base) if v.duration else float("nan")
    print(f"clip: {clip} ({size}, {duration:.2f} s)")
    print(f"{os.cpu_count()} CPUs, PyAV {av.__version__}, best of {args.repeat}; {load()}")

    tmp = tempfile.mkdtemp(prefix="vidgan-bench-")
    try:
        out = os.path.join(tmp, "out.mp4")

        # fps: rounds of plain loop, identity, classic, so a busy spell hits all alike
        runs: dict[str, list[Run]] = {"plain": [], "identity": [], "classic": [], "startup": []}
        frames = 0
        for i in range(args.repeat):
            runs["plain"].append(plain_pyav(clip, out))
            frames = runs["plain"][-1].frames
            print(round_line(i, "plain PyAV", runs["plain"][-1]))
            for model in ("identity", "classic"):
                runs[model].append(vidgan_restore(clip, out, model, frames))
                print(round_line(i, f"vidgan {model}", runs[model][-1]))
            runs["startup"].append(startup(frames))
            print(round_line(i, "vidgan --version", runs["startup"][-1]))

        # peak RSS: the import alone, the clip, and the clip ten times over
        long_clip = os.path.join(tmp, f"long{LONG_TIMES}x.mp4")
        repeat_clip(clip, long_clip, LONG_TIMES)
        long_frames = count_frames(long_clip)
        restore = [*vidgan_command(), "restore", "--model", "identity", "-q"]
        rss = {"version": peak_rss_mib([*vidgan_command(), "--version"])}
        print(f"peak RSS: vidgan --version {rss['version']:.0f} MiB")
        for name, src, n in (("short", clip, frames), ("long", long_clip, long_frames)):
            rss[name] = peak_rss_mib([*restore, src, "-o", out, "-y"])
            print(
                f"peak RSS: identity -q, {name:<5} {rss[name]:.0f} MiB "
                f"({n} frames in, {count_frames(out)} out)"
            )
        print(load())

        # the table
        p, ident, classic, up = (best(runs[k]) for k in ("plain", "identity", "classic", "startup"))
        print()
        print(
            f"{'best of ' + str(args.repeat):<30}{'wall s':>7}{'fps':>7}{'CPU s':>7}"
            f"{'vidgan s':>10}{'vidgan fps':>12}"
        )
        rows = (
            ("plain PyAV loop (in process)", p),
            ("vidgan restore -m identity", ident),
            ("vidgan restore -m classic", classic),
            ("vidgan --version", up),
        )
        for name, r in rows:
            fps = r.fps if r is not up else None
            print(
                f"{name:<30}{r.wall:7.2f}{cell(fps, '.1f', 7)}{r.cpu:7.2f}"
                f"{cell(r.own_secs, '.1f', 10)}{cell(r.own_fps, '.1f', 12)}"
            )
        own_ratio = ident.own_fps / p.fps if ident.own_fps is not None else None
        print(
            f"{'identity / plain':<30}{'':7}{ident.fps / p.fps:7.2f}{ident.cpu / p.cpu:7.2f}"
            f"{'':10}{cell(own_ratio, '.2f', 12)}"
        )
        print()
        print(f"{'peak RSS':<30}{'MiB':>7}{'frames':>7}")
        print(f"{'vidgan --version':<30}{rss['version']:7.0f}{'-':>7}")
        print(f"{'restore -m identity -q':<30}{rss['short']:7.0f}{frames:7d}")
        print(f"{'restore -m identity -q, 10x':<30}{rss['long']:7.0f}{long_frames:7d}")
        print(f"{'long / short':<30}{rss['long'] / rss['short']:7.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
