"""The degradation engine's physics and its clip behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from vidgan.data.degrade import (
    COASTAL,
    JERLOV,
    OCEAN,
    Params,
    degrade_clip,
    h264_roundtrip,
    sample_params,
    transmission,
    underwater,
)


def scene(h: int = 32, w: int = 48) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.uniform(0.1, 0.9, (h, w, 3)).astype(np.float32)


@pytest.mark.parametrize("name", OCEAN)
def test_red_falls_off_faster_than_blue_in_ocean_water(name):
    t = transmission(np.array(JERLOV[name]), np.array([[5.0]]))[0, 0]
    assert t[0] < t[1] and t[0] < t[2]


def test_clear_ocean_red_to_blue_ratio():
    r, _, b = JERLOV["I"]
    assert 10 <= r / b <= 20


@pytest.mark.parametrize("name", COASTAL)
def test_coastal_water_keeps_green_best(name):
    r, g, b = JERLOV[name]
    assert g < r and g < b


def test_zero_distance_is_the_identity():
    j = scene()
    beta = np.array(JERLOV["5C"])
    out = underwater(
        j, np.zeros(j.shape[:2], np.float32), beta, beta * 0.8, np.array([0, 0.4, 0.5])
    )
    np.testing.assert_allclose(out, j, atol=1e-6)


def test_backscatter_approaches_the_water_colour_far_away():
    j = scene()
    water = np.array([0.05, 0.35, 0.45], np.float32)
    beta = np.array(JERLOV["II"])
    dists = [1.0, 10.0, 100.0]
    errors = [
        np.abs(
            underwater(j, np.full(j.shape[:2], d, np.float32), beta, beta * 0.8, water) - water
        ).mean()
        for d in dists
    ]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.02


def test_a_clip_keeps_its_water_and_noise_differs_per_frame():
    rng = np.random.default_rng(0)
    p = sample_params(rng, underwater=True, noise=True)
    p = Params(**{**p.__dict__, "drift": 0.0, "jpeg": None, "read": 0.03})
    clip = np.repeat(scene()[None], 4, axis=0)
    out = degrade_clip(clip, p, rng)
    assert out.shape == clip.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    means = out.reshape(4, -1, 3).mean(axis=1)
    assert np.abs(means - means[0]).max() < 0.01  # the same water on every frame
    assert np.abs(out[1] - out[0]).mean() > 0.005  # fresh noise on every frame


def test_no_degradation_changes_nothing():
    clip = np.repeat(scene()[None], 2, axis=0)
    out = degrade_clip(clip, Params(water_type=None), np.random.default_rng(0))
    np.testing.assert_allclose(out, clip, atol=1e-6)


def test_h264_roundtrip_keeps_shape_and_is_close():
    clip = np.repeat(scene(33, 47)[None], 3, axis=0)
    out = h264_roundtrip(clip, crf=18)
    assert out.shape == clip.shape
    assert 0.005 < np.abs(out - clip).mean() < 0.2
