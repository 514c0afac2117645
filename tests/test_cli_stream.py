"""`vidgan stream` on the command line: help, one-line errors, Ctrl-C finishes the output."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from conftest import decoded, write_video
from loopback import urls
from test_cli import run


def test_help_explains_the_options(capsys):
    assert run("stream", "--help") == 0
    out = capsys.readouterr().out
    for option in ("--output", "--show", "--duration", "--stats", "--stats-json", "--realtime"):
        assert option in out
    assert "camera" in out and "udp://" in out


def test_outputs_never_replace_the_source_or_each_other(make_video, tmp_path, capsys):
    src = make_video(frames=10, size=(64, 48))
    before = src.read_bytes()
    other = tmp_path / "other.json"
    other.write_text("{}")
    cases = [
        (["-o", str(src), "-y"], "is the input file"),
        (["-o", str(tmp_path / "a.ts"), "-o", str(tmp_path / "a.ts")], "is given twice"),
        (["-o", str(tmp_path / "b.ts"), "--stats-json", str(src), "-y"], "is the source"),
        (["-o", str(tmp_path / "c.ts"), "--stats-json", str(other)], "already exists"),
    ]
    for extra, message in cases:
        assert run("stream", str(src), "-m", "identity", "--duration", "1", *extra) != 0
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert src.read_bytes() == before and other.read_text() == "{}"
    assert not (tmp_path / "a.ts").exists() and not (tmp_path / "b.ts").exists()


def test_file_source_with_stats(make_video, tmp_path, capsys):
    src = make_video(frames=25, size=(64, 48))
    out = tmp_path / "out.ts"
    stats = tmp_path / "stats.json"
    code = run(
        "stream", str(src), "-o", str(out), "-m", "identity", "--stats", "0.3",
        "--stats-json", str(stats),
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "end of file:" in err and "fps" in err and "latency p50" in err
    assert err.count("vidgan: 25 frames") == 0 and "vidgan: " in err  # interval lines
    assert len(decoded(out)) >= 20
    saved = json.loads(stats.read_text())
    assert saved["ended"] == "end of file" and saved["total"]["frames"] >= 20


def _bad_cases(tmp_path, src):
    taken = tmp_path / "taken.ts"
    taken.write_bytes(b"x")
    return {
        "missing": ([str(tmp_path / "nope.mp4")], 1, "nope.mp4: no such file"),
        "camera": (["/dev/video99"], 1, "/dev/video99: no such camera"),
        "exists": ([src, "-o", str(taken)], 1, "already exists (use -y/--overwrite"),
        "avi": ([src, "-o", str(tmp_path / "x.avi")], 1, "this one ends in '.avi'"),
        "scheme": ([src, "-o", "ftp://host/x"], 1, "vidgan streams to udp://"),
        "show": ([src, "--show"], 1, "showing a window needs"),
        "option": ([src, "-I", "novalue"], 2, "'novalue' is not KEY=VALUE"),
        "unused": (
            [src, "-I", "nosuchoption=1", "-o", str(tmp_path / "u.ts")],
            2,
            "Invalid value for '-I' / '--input-option': "
            f"{src}: nothing here takes the option 'nosuchoption' (not the mov,mp4,",
        ),
        "nan": ([src, "--duration", "nan"], 2, "Invalid value for '--duration': nan is not"),
        "stats": ([src, "--stats", "0"], 2, "Invalid value for '--stats'"),
        "preset": ([src, "--preset", "nosuch"], 2, "Invalid value for '--preset'"),
        "json": ([src, "--stats-json", str(tmp_path / "no" / "s.json")], 1, "statistics cannot"),
        "model": ([src, "-m", "magic"], 2, "Invalid value for '-m' / '--model'"),
        "silent": (
            [urls()[1], "--connect-timeout", "0.5"],
            1,
            "nothing arrived within 0.5 s",
        ),
    }


@pytest.mark.parametrize(
    "kind", ["missing", "camera", "exists", "avi", "scheme", "show", "option", "unused", "nan",
             "stats", "preset", "json", "model", "silent"]
)  # fmt: skip
def test_bad_input_or_option_is_one_line(make_video, tmp_path, capsys, monkeypatch, kind):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    src = str(make_video(frames=5))
    args, code, message = _bad_cases(tmp_path, src)[kind]
    model = [] if kind == "model" else ["-m", "identity"]
    assert run("stream", *args, "-q", *model) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert err.startswith("vidgan: error: ")
    assert not (tmp_path / "u.ts").exists()


@pytest.mark.parametrize("ext", ["mp4", "ts"])
def test_ctrl_c_finishes_a_playable_recording(tmp_path, ext):
    src = tmp_path / "long.mp4"
    write_video(src, frames=300, size=(160, 120))  # 12 s at 25 fps, played at its own rate
    out = tmp_path / f"rec.{ext}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidgan", "stream", str(src), "-o", str(out), "-m", "identity"],
        stderr=subprocess.PIPE,
        text=True,
        # a suite started in the background inherits an ignored SIGINT, and so would vidgan
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(4)  # importing takes a second or two; then about two seconds of frames
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "interrupted:" in err and f"wrote {out}" in err
    frames = decoded(out)
    assert len(frames) >= 10
    assert float(frames[-1].time) > 0.3  # timed by capture
