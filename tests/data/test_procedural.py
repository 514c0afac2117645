"""Procedural clips: moving shapes over sample photographs, with their true masks."""

from __future__ import annotations

import numpy as np
import pytest

from vidgan.data import procedural
from vidgan.data.procedural import ProceduralSource, sample_image_paths
from vidgan.errors import InputError


def test_clips_and_masks():
    source = ProceduralSource()
    clip, mask = source.sample(np.random.default_rng(0), 16, 32)
    assert clip.shape == (16, 32, 32, 3) and clip.dtype == np.float32
    assert mask.shape == (16, 32, 32)
    assert set(np.unique(mask)) <= {0.0, 1.0} and 0 < mask.mean() < 0.5
    assert clip.min() >= 0 and clip.max() <= 1


def test_only_the_masked_pixels_change():
    clip, mask = ProceduralSource().sample(np.random.default_rng(1), 12, 32)
    ever = mask.max(0) > 0  # (H, W): touched by an object at some time
    change = np.abs(np.diff(clip, axis=0)).sum(-1).max(0)  # (H, W)
    assert change[~ever].max() == 0
    assert change[ever].max() > 0.1  # the objects move


def test_the_same_generator_state_gives_the_same_clip():
    source = ProceduralSource()
    a = source.sample(np.random.default_rng(5), 8, 16)
    b = source.sample(np.random.default_rng(5), 8, 16)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_backgrounds_are_real_photographs():
    paths = sample_image_paths()
    assert any("skimage" in p for p in paths)  # scikit-image is in the test extra


def test_without_sample_images_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setattr(procedural, "sample_image_paths", lambda: [])
    with pytest.raises(InputError, match="pip install scikit-image"):
        ProceduralSource()


def test_objects_bounce_inside_the_frame():
    rng = np.random.default_rng(2)
    path = procedural._bouncing_path(rng, 200, 64, 8.0, (0.05, 0.05))
    assert path.min() >= 8.0 - 1e-9 and path.max() <= 56.0 + 1e-9
    step = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert np.median(step) == pytest.approx(0.05 * 64)


def test_fixed_backgrounds_are_few_and_random_crops_are_many():
    fixed = ProceduralSource()
    rng = np.random.default_rng(3)
    seen = {fixed.background(rng, 16).tobytes() for _ in range(200)}
    assert len(seen) == 2 * len(fixed.images)  # each photograph's centre square, or its mirror
    cropped = ProceduralSource(procedural.ProceduralConfig(fixed_backgrounds=False))
    assert len({cropped.background(rng, 16).tobytes() for _ in range(50)}) == 50


def test_objects_are_solid_unless_textured():
    rng = np.random.default_rng(4)
    assert {procedural._Pattern.draw(rng, 6.0, False).kind for _ in range(30)} == {0}
    assert {procedural._Pattern.draw(rng, 6.0, True).kind for _ in range(30)} == {0, 1, 2}
