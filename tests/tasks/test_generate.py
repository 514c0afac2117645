"""`vidgan.generate` and `vidgan.animate`: clips, sheets, seeds, interpolation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from conftest import decoded

import vidgan
from vidgan.errors import InputError, OutputError
from vidgan.tasks.generate import latents, slerp


def frames_of(path) -> np.ndarray:
    return np.stack([f.to_ndarray(format="rgb24") for f in decoded(path)])


def test_writes_n_playable_clips_and_a_sheet(tiny_generator, tmp_path):
    result = vidgan.generate(str(tmp_path / "out"), 3, weights=str(tiny_generator), fps=8)
    assert [p.rsplit("/", 1)[1] for p in result.clips] == [
        "clip_000.mp4",
        "clip_001.mp4",
        "clip_002.mp4",
    ]
    for path in result.clips:
        assert frames_of(path).shape == (8, 16, 16, 3)
        assert vidgan.probe(path).duration == pytest.approx(1.0, abs=0.01)
    assert result.sheet is not None
    picture = cv2.imread(result.sheet)
    # 16-pixel tiles enlarged 6 times (to 96 or more) under a 27-pixel band of labels
    assert picture.shape[:2] == (27 + 6 * (3 * 18 + 2), 6 * (13 * 18 + 2))


def test_the_sheet_names_its_columns(tiny_generator, tmp_path):
    result = vidgan.generate(str(tmp_path / "out"), 2, weights=str(tiny_generator))
    assert result.sheet is not None
    band = cv2.imread(result.sheet, cv2.IMREAD_GRAYSCALE)[:27]
    tile = 6 * 18
    # composite, foreground and mask each span 4 tiles, the background 1: ink over each
    groups = [(0, 4), (4, 8), (8, 12), (12, 13)]
    for first, last in groups:
        ink = band[:, first * tile + 4 : last * tile - 4] < 128
        assert ink.sum() > 20, (first, last)
    assert (band[:, :3] == 255).all()  # the band is white around the labels


def test_the_seed_decides_the_clips(tiny_generator, tmp_path):
    w = str(tiny_generator)
    a = vidgan.generate(str(tmp_path / "a"), 2, seed=7, weights=w)
    b = vidgan.generate(str(tmp_path / "b"), 3, seed=7, weights=w)
    c = vidgan.generate(str(tmp_path / "c"), 2, seed=8, weights=w)
    for i in range(2):  # clip i depends on the seed and i only
        np.testing.assert_array_equal(frames_of(a.clips[i]), frames_of(b.clips[i]))
    assert not np.array_equal(frames_of(a.clips[0]), frames_of(c.clips[0]))


def test_frames_and_interpolation(tiny_generator, tmp_path):
    result = vidgan.generate(
        str(tmp_path / "o"), 2, frames=12, interpolate=True, steps=5, weights=str(tiny_generator)
    )
    assert result.frames == 12
    assert frames_of(result.clips[0]).shape[0] == 12
    (walk,) = result.extra
    assert frames_of(walk).shape == (12, 16, 5 * 16, 3)  # five clips side by side


def test_existing_outputs_are_refused_before_any_work(tiny_generator, tmp_path):
    out = tmp_path / "o"
    vidgan.generate(str(out), 1, weights=str(tiny_generator))
    with pytest.raises(OutputError, match="already exists"):
        vidgan.generate(str(out), 2, weights=str(tiny_generator))
    assert not (out / "clip_001.mp4").exists()
    with pytest.raises(ValueError, match="frames"):
        vidgan.generate(str(tmp_path / "p"), 1, frames=0, weights=str(tiny_generator))


def test_overwrite_removes_the_clips_of_an_earlier_larger_run(tiny_generator, tmp_path):
    out, w = tmp_path / "o", str(tiny_generator)
    vidgan.generate(str(out), 3, weights=w, interpolate=True)
    (out / "notes.txt").write_text("mine")
    (out / "clip_final.mp4").write_bytes(b"mine too")
    (out / "clip_007.txt").write_text("not a clip")
    overwrite = vidgan.WriterSettings(overwrite=True)
    vidgan.generate(str(out), 1, weights=w, settings=overwrite)
    assert sorted(p.name for p in out.iterdir()) == [
        "clip_000.mp4",
        "clip_007.txt",
        "clip_final.mp4",
        "notes.txt",
        "sheet.png",
    ]


def test_clips_of_an_earlier_run_are_refused_without_overwrite(tiny_generator, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "clip_005.mp4").write_bytes(b"earlier")
    with pytest.raises(OutputError, match="clips of an earlier run"):
        vidgan.generate(str(out), 2, weights=str(tiny_generator))
    assert sorted(p.name for p in out.iterdir()) == ["clip_005.mp4"]


@pytest.mark.parametrize("existing", [False, True])
def test_an_interrupted_run_leaves_none_of_its_clips(tiny_generator, tmp_path, existing):
    out = tmp_path / "o"
    if existing:  # a folder of the user's: kept, with what it held
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    written = []

    def interrupt_after_three(done: int, total: int) -> None:
        written.append(done)
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        vidgan.generate(str(out), 6, weights=str(tiny_generator), on_clip=interrupt_after_three)
    assert written == [1, 2, 3]
    if existing:
        assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    else:
        assert not out.exists()


def test_an_interrupted_overwrite_leaves_no_stale_sheet(tiny_generator, tmp_path):
    out, w = tmp_path / "o", str(tiny_generator)
    vidgan.generate(str(out), 2, weights=w)  # an earlier run, with its sheet

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        overwrite = vidgan.WriterSettings(overwrite=True)
        vidgan.generate(str(out), 4, weights=w, settings=overwrite, on_clip=interrupt)
    assert list(out.iterdir()) == []  # no sheet of clips that are gone


def test_bad_weights(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights")
    with pytest.raises(InputError, match="not a vidgan generation weights file"):
        vidgan.generate(str(tmp_path / "o"), 1, weights=str(bad))
    assert not (tmp_path / "o").exists()  # no empty folder left behind


def test_animate_starts_from_the_image(tiny_generator, tmp_path):
    image = tmp_path / "still.png"
    cv2.imwrite(str(image), np.full((40, 30, 3), 90, np.uint8))
    result = vidgan.animate(str(image), str(tmp_path / "a.mp4"), weights=str(tiny_generator))
    assert frames_of(result.clips[0]).shape == (8, 16, 16, 3)
    assert result.sheet is not None and result.sheet.endswith("a.sheet.png")
    with pytest.raises(InputError, match="not a readable image"):
        vidgan.animate(
            str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4"), weights=str(tiny_generator)
        )


def test_animate_refuses_to_replace_its_sheet(tiny_generator, tmp_path):
    image = tmp_path / "still.png"
    cv2.imwrite(str(image), np.full((40, 30, 3), 90, np.uint8))
    sheet = tmp_path / "a.sheet.png"
    sheet.write_bytes(b"earlier")
    with pytest.raises(OutputError, match="a.sheet.png: already exists"):
        vidgan.animate(str(image), str(tmp_path / "a.mp4"), weights=str(tiny_generator))
    assert sheet.read_bytes() == b"earlier" and not (tmp_path / "a.mp4").exists()
    overwrite = vidgan.WriterSettings(overwrite=True)
    vidgan.animate(
        str(image), str(tmp_path / "a.mp4"), weights=str(tiny_generator), settings=overwrite
    )
    assert cv2.imread(str(sheet)) is not None


def test_latents_and_slerp():
    z = latents(3, 4, 10)
    torch.testing.assert_close(latents(3, 2, 10, first=2), z[2:])
    path = slerp(z[0], z[1], 5)
    torch.testing.assert_close(path[0], z[0])
    torch.testing.assert_close(path[-1], z[1])


def test_animate_with_the_embedded_default_warns(tmp_path):
    image = tmp_path / "still.png"
    cv2.imwrite(str(image), np.full((64, 64, 3), 90, np.uint8))
    with pytest.warns(UserWarning, match="does not animate photographs usefully yet"):
        result = vidgan.animate(str(image), str(tmp_path / "a.mp4"))
    assert frames_of(result.clips[0]).shape == (16, 32, 32, 3)
