"""Clips cut from media: sizes, and the zoomed-out views that show more of the picture."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import write_video

from vidgan.data.clips import PairedSource, _cut, _plan
from vidgan.errors import InputError


def quadrants(side: int = 256) -> np.ndarray:
    """A still (1, side, side, 3): red, green, blue and white quadrants."""
    image = np.zeros((1, side, side, 3), np.uint8)
    half = side // 2
    image[0, :half, :half, 0] = 255
    image[0, :half, half:, 1] = 255
    image[0, half:, :half, 2] = 255
    image[0, half:, half:] = 255
    return image


def test_plain_crops_keep_the_scale():
    rng = np.random.default_rng(0)
    for _ in range(20):
        crop = _plan(rng, (1, 256, 256, 3), 3, 32, 2)
        assert crop.span == 32


def test_zoomed_out_views_show_more_of_the_picture():
    rng = np.random.default_rng(1)
    media = quadrants()
    spans, colours = [], []
    for _ in range(40):
        crop = _plan(rng, media.shape, 2, 32, 2, zoom_out=1.0)
        clip = _cut(media, crop, 2, 32)
        assert clip.shape == (2, 32, 32, 3) and clip.dtype == np.uint8
        assert 32 <= crop.span <= 256
        spans.append(crop.span)
        # how many of the four quadrant colours the first frame shows
        pixels = clip[0].reshape(-1, 3)
        colours.append(len({tuple(p) for p in pixels if p.max() == 255 and p.min() in (0, 255)}))
    assert max(spans) > 160  # some views cover most of the picture ...
    assert max(colours) == 4  # ... and then all four quadrants are seen at once in 32x32


def test_pairs_of_other_shapes_are_refused_and_other_lengths_cut(tmp_path, caplog):
    raw, ref = tmp_path / "raw", tmp_path / "ref"
    raw.mkdir()
    ref.mkdir()
    write_video(raw / "a.mp4", frames=6, size=(96, 64))
    write_video(ref / "a.mp4", frames=4, size=(48, 32))  # half the size: the same picture
    source = PairedSource(str(raw), str(ref))
    assert [(a.shape, b.shape) for a, b in source.pairs] == [((4, 64, 96, 3), (4, 64, 96, 3))]
    assert "6 frames, its reference 4" in caplog.text

    cv2.imwrite(str(raw / "b.png"), np.zeros((64, 96, 3), np.uint8))
    cv2.imwrite(str(ref / "b.png"), np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(InputError, match="not the same picture"):
        PairedSource(str(raw), str(ref))
