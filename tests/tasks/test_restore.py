"""Writing, through `vidgan.restore`: timing, size, colour tags and carried streams are kept."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import decoded, write_video

import vidgan
from vidgan.errors import InputError, OutputError
from vidgan.video import WriterSettings, probe


def frame_times(path: Path) -> list[Fraction]:
    return [f.pts * f.time_base for f in decoded(path)]


def stream_seconds(path: Path, kind: str) -> list[float]:
    with av.open(str(path)) as c:
        return [float(s.duration * s.time_base) for s in c.streams if s.type == kind]


def restored(src: Path, name: str = "out.mp4", **kwargs: object) -> Path:
    out = src.parent / name
    vidgan.restore(src, out, model=kwargs.pop("model", "identity"), **kwargs)  # type: ignore[arg-type]
    return out


def test_every_timestamp_and_the_duration_are_kept(make_video):
    src = make_video(frames=48, rate=Fraction(24000, 1001), time_base=Fraction(1, 24000))
    out = restored(src)
    assert frame_times(out) == frame_times(src)
    assert len(decoded(out)) == 48
    info_in, info_out = probe(src), probe(out)
    assert info_out.rate == Fraction(24000, 1001)
    assert info_in.duration is not None and info_out.duration is not None
    assert abs(info_out.duration - info_in.duration) <= Fraction(1001, 24000)


def test_variable_frame_rate_stays_variable(make_video):
    pts = [0, 40, 80, 200, 220, 240, 400, 433, 467, 500, 700, 740]
    src = make_video(name="vfr.mkv", pts=pts, time_base=Fraction(1, 1000), rate=None)
    out = restored(src, "vfr_out.mkv")
    assert frame_times(out) == [Fraction(p, 1000) for p in pts]
    out_mp4 = restored(src, "vfr_out.mp4")
    assert frame_times(out_mp4) == [Fraction(p, 1000) for p in pts]


def test_odd_size_and_pixel_aspect_are_kept(make_video):
    src = make_video(frames=6, size=(33, 17), pix_fmt="yuv444p", sar=Fraction(4, 3))
    out = restored(src)
    info = probe(out)
    assert (info.width, info.height) == (33, 17)
    assert info.sample_aspect_ratio == Fraction(4, 3)
    assert len(decoded(out)) == 6


def test_rotated_input_comes_out_upright_and_displays_the_same(make_video):
    src = make_video(frames=5, size=(64, 48), rotation=-90)
    out = restored(src)
    info_in, info_out = probe(src), probe(out)
    assert info_out.rotation == 0
    assert (info_out.width, info_out.height) == (info_in.width, info_in.height) == (48, 64)
    with vidgan.VideoReader(src) as a, vidgan.VideoReader(out) as b:
        fa, fb = next(iter(a)).image, next(iter(b)).image
    assert np.abs(fa.astype(int) - fb).mean() < 3


@pytest.mark.parametrize("colour", [(1, 1, 1, 1), (6, 1, 6, 6), (1, 2, 1, 1)])
def test_colour_tags_are_written_and_colours_survive(make_video, colour):
    flat = np.array([30, 150, 210], np.uint8)
    src = make_video(
        frames=3, colour=colour, image=lambda i, h, w: np.broadcast_to(flat, (h, w, 3)).copy()
    )
    out = restored(src)
    frame = decoded(out)[0]
    assert frame.colorspace == colour[0]
    assert frame.color_primaries == colour[2]
    assert frame.color_trc == colour[3]
    assert frame.color_range == 1  # H.264 for players: always limited range on output
    with vidgan.VideoReader(out) as reader:
        rgb = next(iter(reader)).image
    assert np.abs(rgb.reshape(-1, 3).mean(axis=0) - flat).max() <= 4


def test_untagged_input_gets_tagged_output(make_video):
    out = restored(make_video(frames=2, size=(64, 48)))
    frame = decoded(out)[0]
    assert (frame.colorspace, frame.color_primaries, frame.color_trc, frame.color_range) == (
        6,
        6,
        6,
        1,
    )


def test_audio_is_copied_without_reencoding(make_video):
    src = make_video(frames=50, audio=[("aac", 44100, "stereo"), ("libopus", 48000, "mono")])
    out = restored(src)
    info_in, info_out = probe(src), probe(out)
    assert [(s.kind, s.codec, s.sample_rate, s.channels) for s in info_out.other_streams] == [
        (s.kind, s.codec, s.sample_rate, s.channels) for s in info_in.other_streams
    ]
    assert len(info_out.other_streams) == 2

    # copied packet for packet: the payloads are identical
    def payloads(path: Path, index: int) -> str:
        digest = hashlib.sha1()
        with av.open(str(path)) as c:
            for p in c.demux(c.streams[index]):
                digest.update(bytes(p))
        return digest.hexdigest()

    assert payloads(out, 1) == payloads(src, 1)
    assert payloads(out, 2) == payloads(src, 2)
    for a, b in zip(stream_seconds(src, "audio"), stream_seconds(out, "audio"), strict=True):
        assert abs(a - b) < 0.03


def first_times(path: Path) -> dict[str, Fraction]:
    """The first timestamp of each kind of stream, as demuxed."""
    firsts: dict[str, Fraction] = {}
    with av.open(str(path)) as c:
        for packet in c.demux():
            if packet.pts is not None and packet.time_base is not None:
                t = packet.pts * packet.time_base
                kind = packet.stream.type
                firsts[kind] = min(t, firsts.get(kind, t))
    return firsts


@pytest.mark.parametrize("name", ["out.mkv", "out.mp4", "out.mov"])
def test_aac_priming_leaves_the_video_start_where_it_was(make_video, name):
    """AAC from MP4 begins with 1024 samples of encoder priming, timed before zero. Matroska
    used to shift every stream to start at zero, the video 23 ms late; now the video starts
    where the input's did, within a tick (1 ms) of the output's time base, and the audio keeps
    its place relative to it."""
    src = make_video(frames=25, audio=[("aac", 44100, "stereo")])
    out = restored(src, name)
    before, after = first_times(src), first_times(out)
    assert before["audio"] == Fraction(-1024, 44100)  # the priming, as MP4 states it
    assert abs(after["video"] - before["video"]) <= Fraction(1, 1000)
    assert frame_times(out)[0] == frame_times(src)[0] == 0
    assert abs((after["audio"] - after["video"]) - (before["audio"] - before["video"])) <= (
        Fraction(1, 1000)
    )


def test_audio_the_container_cannot_hold_is_reencoded_to_aac(make_video):
    src = make_video(name="pcm.mkv", frames=25, audio=[("pcm_s16le", 48000, "stereo")])
    out = restored(src, "out.mp4")
    (audio,) = probe(out).other_streams
    assert (audio.codec, audio.sample_rate, audio.channels) == ("aac", 48000, 2)
    (seconds,) = stream_seconds(out, "audio")
    assert abs(seconds - 1.0) < 0.05
    # into Matroska the same PCM is copied as it is
    (kept,) = probe(restored(src, "out.mkv")).other_streams
    assert kept.codec == "pcm_s16le"


def test_processing_changes_pixels_not_timing(make_video):
    src = make_video(frames=20, size=(96, 64), audio=[("aac", 44100, "mono")])
    out = restored(src, model="classic", batch=3)
    assert frame_times(out) == frame_times(src)
    assert len(probe(out).other_streams) == 1


def test_output_exists_input_untouched_and_no_partial_left(make_video, tmp_path):
    src = make_video(frames=4)
    before = src.read_bytes()
    out = tmp_path / "taken.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(OutputError, match="already exists"):
        vidgan.restore(src, out, model="identity")
    assert out.read_bytes() == b"precious"
    vidgan.restore(src, out, model="identity", settings=WriterSettings(overwrite=True))
    assert len(decoded(out)) == 4
    with pytest.raises(OutputError, match="is the input"):
        vidgan.restore(src, src, model="identity", settings=WriterSettings(overwrite=True))
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src.name, out.name])


def test_a_failure_midway_leaves_nothing_behind(tmp_path):
    src = tmp_path / "cut.mp4"
    write_video(src, frames=100, size=(128, 96))
    whole = tmp_path / "whole.mp4"
    vidgan.restore(src, whole, model="identity")  # faststart: the index is at the front
    cut = tmp_path / "cut_short.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        vidgan.restore(cut, tmp_path / "never.mp4", model="identity")
    assert not (tmp_path / "never.mp4").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_default_output_is_beside_the_input(make_video):
    src = make_video(name="clip.mov", frames=3)
    result = vidgan.restore(src, model="identity")
    assert Path(result.output) == src.parent / "clip.restored.mp4"
    assert result.frames == 3


def test_webm_gets_vp9_and_opus(make_video):
    src = make_video(frames=10, audio=[("aac", 44100, "stereo")])
    out = restored(src, "out.webm")
    info = probe(out)
    assert info.codec == "vp9"
    assert [(s.codec, s.sample_rate) for s in info.other_streams] == [("opus", 48000)]
    assert frame_times(out) == frame_times(src)


@pytest.mark.parametrize("name", ["out.avi", "out.gif", "out"])
def test_containers_that_cannot_keep_timestamps_are_refused(make_video, name):
    src = make_video(frames=3)
    with pytest.raises(OutputError, match="vidgan writes .mp4"):
        restored(src, name)
    assert not (src.parent / name).exists()


@pytest.mark.parametrize(("name", "codec"), [("out.ts", "libvpx-vp9"), ("out.webm", "libx264")])
def test_a_codec_the_container_cannot_hold_is_refused(make_video, name, codec):
    # MPEG-TS took VP9 and wrote it as a data stream that nothing could read back
    src = make_video(frames=3)
    with pytest.raises(OutputError, match=f"cannot write {codec}"):
        vidgan.restore(
            src, src.parent / name, model="identity", settings=WriterSettings(codec=codec)
        )
    assert not (src.parent / name).exists()


def test_refused_encoder_settings_fail_before_any_work(make_video, capfd):
    src = make_video(frames=3)
    capfd.readouterr()
    # x264 writes a bad preset or tune to stderr itself, so they never reach it
    for settings, message in [
        (WriterSettings(preset="superfast2"), "libx264 has no preset 'superfast2' (choose"),
        (WriterSettings(tune="fastest"), "libx264 has no tune 'fastest' (choose"),
        (WriterSettings(codec="mpeg2video"), "the mpeg2video encoder refused these settings"),
    ]:
        with pytest.raises(OutputError, match=re.escape(message)):
            vidgan.restore(src, src.parent / "o.mp4", model="identity", settings=settings)
    assert capfd.readouterr().err == ""
    with pytest.raises(OutputError, match="not a video codec"):
        vidgan.restore(
            src, src.parent / "o.mp4", model="identity", settings=WriterSettings(codec="aac")
        )
    assert sorted(p.name for p in src.parent.iterdir()) == [src.name]


def test_identity_keeps_the_mean_level(make_video):
    src = make_video(frames=3, size=(64, 48), options={"crf": "0"})
    out = restored(src, settings=WriterSettings(crf=0))
    a, b = decoded(src)[1].to_ndarray(), decoded(out)[1].to_ndarray()
    assert abs(float(a.mean()) - float(b.mean())) < 0.2  # YUV -> RGB -> YUV without drift


def test_the_gan_path_does_not_import_torchvision():
    # torchvision takes about 2 s to import, a fifth of a 10 s clip's restore time at 360p
    code = (
        "import sys, vidgan.cli, vidgan.models.weights, vidgan.processors.gan; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torchvision'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_damaged_packets_are_one_line_not_one_each(make_video, tmp_path, caplog):
    src = make_video(frames=60, size=(320, 240))
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(3)
    middle = slice(int(len(data) * 0.3), int(len(data) * 0.35))  # a few packets of the mdat
    data[middle] = rng.integers(0, 256, middle.stop - middle.start, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    result = vidgan.restore(damaged, tmp_path / "out.mp4", model="identity")
    assert 50 <= result.frames < 60  # the damaged ones are skipped, the rest restored
    lines = [r.getMessage() for r in caplog.records if r.name == "vidgan.video.reader"]
    assert len(lines) == 1 and "damaged packet(s)" in lines[0]
