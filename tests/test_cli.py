"""The `vidgan` command: exit codes, one-line errors, nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import pytest
from conftest import decoded, write_tone, write_video

import vidgan
from vidgan.cli import main
from vidgan.models.weights import DEFAULT_GENERATE, DEFAULT_RESTORE, default_weights


def run(*args: str) -> int:
    """Run the CLI in this process and return its exit code."""
    try:
        main(list(args))
    except SystemExit as e:
        return 0 if e.code is None else int(e.code)
    return 0


def test_version(capsys):
    assert run("--version") == 0
    assert capsys.readouterr().out.strip() == f"vidgan, version {vidgan.__version__}"


def test_info_prints_what_vidgan_sees(make_video, capsys):
    src = make_video(frames=10, size=(64, 48), rotation=90, audio=[("aac", 44100, "stereo")])
    assert run("info", str(src)) == 0
    out = capsys.readouterr().out
    assert "48x64 displayed (stored 64x48, rotation 90°)" in out
    assert "25.000 fps" in out
    assert "audio #1: aac, 44100 Hz, 2 ch" in out
    assert "0.400 s" in out


def test_restore_writes_next_to_the_input(make_video, capsys):
    src = make_video(name="dive.mp4", frames=8)
    assert run("restore", str(src), "-q") == 0
    out = src.parent / "dive.restored.mp4"
    assert len(decoded(out)) == 8
    assert capsys.readouterr().err == ""


def test_progress_and_summary_on_stderr(make_video, capsys):
    src = make_video(frames=8)
    assert run("restore", str(src), "-o", str(src.parent / "o.mp4"), "-m", "identity") == 0
    err = capsys.readouterr().err
    assert "8/8" in err and "frame/s" in err
    assert "wrote" in err and "8 frames" in err


def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    audio = tmp_path / "song.m4a"
    with av.open(str(audio), "w") as out:
        write_tone(out, out.add_stream("aac", rate=44100, layout="mono"), 0.3)
    return {
        "missing": (tmp_path / "nope.mp4", "no such file"),
        "empty": (empty, "empty file"),
        "text": (text, "not a readable media file"),
        "audio-only": (audio, "no video stream (only audio)"),
    }


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "audio-only"])
def test_bad_input_is_one_line_and_exit_1(tmp_path, capsys, kind):
    path, message = bad_inputs(tmp_path)[kind]
    before = sorted(tmp_path.iterdir())
    assert run("restore", str(path), "-q") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"vidgan: error: {path}: {message}")
    assert sorted(tmp_path.iterdir()) == before


def test_truncated_input(tmp_path, make_video, capsys):
    whole = make_video(frames=100, size=(128, 96))
    fast = tmp_path / "fast.mp4"
    assert run("restore", str(whole), "-o", str(fast), "-q", "-m", "identity") == 0
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(fast.read_bytes()[: fast.stat().st_size // 2])
    assert run("restore", str(cut), "-q") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cut.mp4: truncated" in err
    assert not (tmp_path / "cut.restored.mp4").exists()
    # cut without its index (written at the end) the file is not readable at all
    plain = tmp_path / "plain.mp4"
    plain.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert run("restore", str(plain), "-q") == 1
    assert "plain.mp4: not a readable media file" in capsys.readouterr().err


def test_output_folder_missing_or_unwritable(make_video, tmp_path, capsys):
    src = make_video(frames=3)
    assert run("restore", str(src), "-o", str(tmp_path / "no" / "out.mp4"), "-q") == 1
    assert "output folder does not exist" in capsys.readouterr().err
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        assert run("restore", str(src), "-o", str(locked / "out.mp4"), "-q") == 1
        assert "not writable" in capsys.readouterr().err


def test_existing_output_needs_overwrite(make_video, capsys):
    src = make_video(frames=3)
    out = src.parent / "o.mp4"
    out.write_bytes(b"x")
    assert run("restore", str(src), "-o", str(out), "-q") == 1
    assert "already exists (use -y/--overwrite" in capsys.readouterr().err
    assert run("restore", str(src), "-o", str(out), "-q", "-y") == 0
    assert len(decoded(out)) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--crf", "99"], "Invalid value for '--crf'"),
        (["--batch", "0"], "Invalid value for '-b' / '--batch'"),
        (["--model", "magic"], "Invalid value for '-m' / '--model'"),
        (["--device", "cuda:7"], "device 'cuda:7'"),
        (["--codec", "nosuchcodec"], "unknown video codec 'nosuchcodec'"),
        (["--bogus"], "No such option '--bogus'"),
        (["--preset", "nosuch"], "Invalid value for '--preset': 'nosuch' is not one of"),
        (["--codec", "mpeg2video"], "the mpeg2video encoder refused these settings"),
        (["-m", "classic", "--weights", "x.safetensors"], "-m classic takes no weights"),
        (
            ["--weights", default_weights(DEFAULT_GENERATE)],
            "holds generation weights (for `vidgan generate`), not restoration weights",
        ),
    ],
)
def test_bad_option_is_one_line(make_video, capfd, args, message):
    """One line on stderr, even from the libraries (x264 prints a bad preset itself), and no
    progress bar before an encoder's refusal."""
    src = make_video(frames=3)
    capfd.readouterr()
    code = run("restore", str(src), "-o", str(src.parent / "o.mp4"), *args)
    err = capfd.readouterr().err
    assert code in (1, 2)
    assert err.count("\n") == 1 and message in err, err
    assert not (src.parent / "o.mp4").exists()


def test_output_without_extension_lists_the_accepted_ones(make_video, capsys):
    src = make_video(frames=3)
    out = src.parent / "out" / "noext"
    out.parent.mkdir()
    assert run("restore", str(src), "-o", str(out), "-q") == 1
    assert capsys.readouterr().err == (
        f"vidgan: error: {out}: vidgan writes .mp4, .m4v, .mov, .mkv, .webm, .ts files "
        "(this one has no extension)\n"
    )
    assert not any(out.parent.iterdir())


def test_no_traceback_from_the_installed_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vidgan", "restore", str(tmp_path / "missing.mp4")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == f"vidgan: error: {tmp_path / 'missing.mp4'}: no such file\n"


def test_sigterm_leaves_no_partial_file(tmp_path):
    from conftest import write_video

    src = tmp_path / "long.mp4"
    write_video(src, frames=400, size=(640, 480))
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidgan", "restore", str(src), "-q", "-m", "classic", "-b", "1"],
        stderr=subprocess.PIPE,
        text=True,
    )
    import time

    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".*partial*")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".*partial*")), "the run never started writing"
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().endswith("vidgan: error: interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4"]


def test_generate_with_the_embedded_default(tmp_path, capsys):
    out = tmp_path / "gen"
    assert run("generate", "-n", "2", "--seed", "3", "-o", str(out)) == 0
    for i in range(2):
        info = vidgan.probe(out / f"clip_{i:03d}.mp4")
        assert (info.width, info.height) == (32, 32)
        assert len(decoded(out / f"clip_{i:03d}.mp4")) == 16
    assert (out / "sheet.png").stat().st_size > 0
    err = capsys.readouterr().err
    assert "2/2" in err and "wrote 2 clips of 16 frames" in err


def test_generate_frames_interpolate_and_animate(tiny_generator, tmp_path, capsys):
    out, w = tmp_path / "gen", str(tiny_generator)
    assert (
        run(
            "generate",
            "-n",
            "3",
            "--frames",
            "4",
            "--interpolate",
            "-o",
            str(out),
            "--weights",
            w,
            "-q",
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "clip_000.mp4",
        "clip_001.mp4",
        "clip_002.mp4",
        "interpolation.mp4",
        "sheet.png",
    ]
    assert all(len(decoded(out / f"clip_{i:03d}.mp4")) == 4 for i in range(3))
    assert capsys.readouterr().err == ""

    image = tmp_path / "photo.png"
    image.write_bytes((out / "sheet.png").read_bytes())
    assert run("animate", str(image), "--weights", w) == 0
    assert len(decoded(tmp_path / "photo.animated.mp4")) == 8
    assert (tmp_path / "photo.animated.sheet.png").exists()


@pytest.mark.parametrize(
    "args, message, code",
    [
        (["generate", "-n", "0"], "Invalid value for '-n'", 2),
        (["generate", "--frames", "2000"], "Invalid value for '--frames'", 2),
        (["generate", "--fps", "0"], "Invalid value for '--fps'", 2),
        (["generate", "--weights", "missing.safetensors"], "weights file not found", 1),
        (
            ["generate", "--weights", default_weights(DEFAULT_RESTORE)],
            "holds restoration weights (for `vidgan restore`), not generation weights",
            1,
        ),
        (["generate", "--seed", "-1"], "Invalid value for '--seed': -1 is not in the range", 2),
        (["animate", "missing.png"], "missing.png: no such file", 1),
        (["train", "generate", "--data", "procedural", "--data", "x", "--out", "r"], "mixed", 2),
        (
            ["train", "generate", "--data", "procedural", "--out", "r", "--size", "24"],
            "Invalid value for '--size': 24 is not a power of two",
            2,
        ),
        (
            ["train", "generate", "--data", "procedural", "--out", "r", "--frames", "5"],
            "Invalid value for '--frames': 5 is not a multiple of SIZE / 4 = 16",
            2,
        ),
        (
            ["train", "restore", "--data", ".", "--out", "r", "--seed", "-1"],
            "Invalid value for '--seed': -1 is not in the range",
            2,
        ),
        (
            ["train", "restore", "--data", ".", "--out", "r", "--crop", "20"],
            "Invalid value for '--crop': 20 is not a multiple of 8",
            2,
        ),
    ],
)
def test_generate_bad_options(tmp_path, monkeypatch, capsys, args, message, code):
    monkeypatch.chdir(tmp_path)
    assert run(*args) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "generated").exists() or not any((tmp_path / "generated").iterdir())
    assert not (tmp_path / "r").exists()


def test_webm_gets_vp9_without_asking(tmp_path):
    src = tmp_path / "in.mp4"
    write_video(src, frames=5, size=(64, 48))
    out = tmp_path / "out.webm"
    assert run("restore", str(src), "-o", str(out), "-m", "identity", "-q") == 0
    info = vidgan.probe(out)
    assert info.codec == "vp9" and len(decoded(out)) == 5
