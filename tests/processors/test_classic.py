"""The classical restorer: shapes, restoration of a synthetic underwater scene, temporal stability.

The scenes are real photographs from scikit-image, degraded with the underwater image formation
model: per channel I = J t + B (1 - t), t = exp(-beta d), red attenuated much faster than blue,
B a blue-green water colour and d a smooth depth ramp.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from vidgan.processors import ClassicRestorer, Processor

# attenuation per unit depth (red is absorbed far faster than blue) and the water colour, RGB
BETA = np.array([2.2, 0.9, 0.6])
WATER = np.array([0.05, 0.45, 0.55])


def photo(name: str, width: int = 160) -> np.ndarray:
    """A photograph from scikit-image, area-resized to ``width``: uint8 RGB (H, W, 3)."""
    image = getattr(data, name)()
    h, w = image.shape[:2]
    return cv2.resize(image, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


def underwater(clean: np.ndarray) -> np.ndarray:
    """The clean uint8 (H, W, 3) image seen through water, deeper towards the bottom right."""
    h, w = clean.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    depth = 0.3 + 0.7 * y / max(1, h - 1) + 0.1 * x / max(1, w - 1)  # (H, W)
    t = np.exp(-BETA * depth[..., None])  # (H, W, 3)
    hazy = clean / 255.0 * t + WATER * (1.0 - t)
    return np.round(hazy * 255.0).astype(np.uint8)


def noisy(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """The uint8 image plus white Gaussian noise of std ``sigma`` in 8-bit levels."""
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0.0, sigma, image.shape), 0, 255).astype(np.uint8)


def psnr(image: np.ndarray, reference: np.ndarray) -> float:
    mse = np.mean((image.astype(np.float64) - reference.astype(np.float64)) ** 2)
    return float(10.0 * np.log10(255.0**2 / max(mse, 1e-12)))


def cast(image: np.ndarray) -> float:
    """Blue-green cast in 8-bit levels: the mean of the green and blue means minus the red mean."""
    r, g, b = image.reshape(-1, 3).astype(np.float64).mean(axis=0)
    return float((g + b) / 2.0 - r)


def restore(image: np.ndarray, **options: float) -> np.ndarray:
    """One frame through a fresh restorer."""
    return ClassicRestorer(**options).process(image[None])[0]  # type: ignore[arg-type]


def sequence(image: np.ndarray, n: int = 20, sigma: float = 2.0) -> np.ndarray:
    """n copies of the image with small independent noise: uint8 (n, H, W, 3)."""
    return np.stack([noisy(image, sigma, seed=i) for i in range(n)])


# shapes and the protocol


def test_is_a_processor():
    restorer = ClassicRestorer()
    assert isinstance(restorer, Processor)
    assert restorer.name == "classic"


@pytest.mark.parametrize("n", [0, 1, 3])
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (9, 17), (17, 9), (31, 47), (72, 128)])
def test_shape_dtype_and_layout_are_kept(n, size):
    frames = noisy(np.full((n, *size, 3), 90, np.uint8), 20.0)
    frames[..., 2] = 160  # a blue cast, so every correction has something to do
    out = ClassicRestorer().process(frames)
    assert out.shape == frames.shape
    assert out.dtype == np.uint8
    assert out.flags.c_contiguous


def test_non_contiguous_input_and_a_size_change_midstream():
    restorer = ClassicRestorer()
    big = underwater(photo("astronaut", 96))
    mirrored = big[None, :, ::-1]  # negative stride
    assert restorer.process(mirrored).shape == mirrored.shape
    small = underwater(photo("coffee", 33))[None]  # odd width, new size: state must cope
    assert restorer.process(small).shape == small.shape


@pytest.mark.parametrize(
    "frames",
    [np.zeros((1, 8, 8), np.uint8), np.zeros((1, 8, 8, 4), np.uint8), np.zeros((1, 8, 8, 3))],
)
def test_rejects_what_is_not_uint8_rgb_frames(frames):
    with pytest.raises(ValueError, match="uint8 frames"):
        ClassicRestorer().process(frames)


def test_rejects_bad_options():
    with pytest.raises(ValueError, match="smoothing"):
        ClassicRestorer(smoothing=1.0)
    with pytest.raises(ValueError, match="strength"):
        ClassicRestorer(strength=-0.5)


# restoration quality


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_underwater_scene_gets_closer_to_the_clean_one(name):
    # measured: astronaut 10.9 -> 16.0 dB, cast 68.5 -> 7.2; coffee 10.7 -> 13.8 dB, 42.7 -> -4.9
    clean = photo(name)
    degraded = underwater(clean)
    out = restore(degraded)
    assert psnr(out, clean) > psnr(degraded, clean) + 2.5
    assert cast(degraded) > 40.0
    assert abs(cast(out)) < 0.25 * cast(degraded)


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_noisy_underwater_scene_gets_closer_to_the_clean_one(name):
    # measured: astronaut 10.7 -> 15.0 dB, coffee 10.5 -> 13.6 dB
    clean = photo(name)
    degraded = noisy(underwater(clean), 15.0)
    out = restore(degraded)
    assert psnr(out, clean) > psnr(degraded, clean) + 2.5
    assert abs(cast(out)) < 0.25 * cast(degraded)


def test_denoising_alone_follows_the_estimated_noise():
    # strength 0 turns colour, dehazing and contrast off, leaving only the denoiser
    clean = photo("astronaut", 256)
    frame = noisy(clean, 15.0)
    restorer = ClassicRestorer(strength=0.0)
    out = restorer.process(frame[None])[0]

    # independent noise of std 15 per channel has std 15 * |(0.299, 0.587, 0.114)| in the luma
    assert restorer.estimates["sigma"] == pytest.approx(15.0 * 0.668, rel=0.15)
    assert psnr(out, clean) > psnr(frame, clean) + 2.0


def test_clean_frames_stay_recognisable():
    # measured: astronaut 19.3 dB, coffee 20.9 dB (the white balance pulls the warm coffee
    # towards gray, the dark channel prior deepens shadows)
    for name in ("astronaut", "coffee"):
        clean = photo(name)
        assert psnr(restore(clean), clean) > 17.0


def test_strength_zero_without_denoising_is_the_identity():
    clean = photo("chelsea")
    assert np.array_equal(restore(clean, strength=0.0, denoise=False), clean)


# temporal behaviour


def test_global_estimates_and_brightness_do_not_flicker():
    frames = sequence(underwater(photo("astronaut")))
    restorer = ClassicRestorer()
    gains, airlight, out = [], [], []
    for frame in frames:
        out.append(restorer.process(frame[None])[0])
        gains.append(restorer.estimates["gains"])
        airlight.append(restorer.estimates["airlight"])

    # measured: gains move by 4e-4, the airlight by 2e-3, the mean colour by 0.3 levels (std)
    assert np.ptp(np.array(gains), axis=0).max() < 5e-3
    assert np.ptp(np.array(airlight), axis=0).max() < 2e-2
    mean_colour = np.array(out).reshape(len(frames), -1, 3).mean(axis=1)  # (N, 3)
    assert mean_colour.std(axis=0).max() < 0.75


def test_moving_averages_damp_the_frame_to_frame_jitter_of_the_gains():
    frames = sequence(underwater(photo("coffee")))
    spread = {}
    for smoothing in (0.0, 0.85):
        restorer = ClassicRestorer(smoothing=smoothing)
        gains = []
        for frame in frames:
            restorer.process(frame[None])
            gains.append(restorer.estimates["gains"])
        spread[smoothing] = np.array(gains)[5:].std(axis=0).max()
    assert spread[0.85] < 0.6 * spread[0.0]


def test_each_frame_moves_the_state_by_one_smoothing_step():
    a, b = underwater(photo("astronaut", 96)), photo("astronaut", 96)
    restorer = ClassicRestorer(smoothing=0.8)
    restorer.process(np.stack([a] * 4))
    before = np.array(restorer.estimates["gains"])
    restorer.process(b[None])
    after = np.array(restorer.estimates["gains"])

    fresh = ClassicRestorer()
    fresh.process(b[None])
    alone = np.array(fresh.estimates["gains"])
    assert np.abs(alone - before).max() > 0.1
    np.testing.assert_allclose(after, 0.8 * before + 0.2 * alone, atol=1e-5)


def test_the_first_frame_initialises_the_state_without_a_fade_in():
    frame = underwater(photo("coffee"))[None]
    smoothed = ClassicRestorer(smoothing=0.95).process(frame)
    assert np.array_equal(smoothed, ClassicRestorer(smoothing=0.0).process(frame))


def test_reset_makes_a_second_run_identical_to_the_first():
    scene = underwater(photo("astronaut", 96))
    frames = np.concatenate([sequence(scene, 4, 6.0), sequence(scene[::-1], 4, 6.0)])
    restorer = ClassicRestorer()
    first = restorer.process(frames)
    restorer.reset()
    assert restorer.estimates == {}
    second = restorer.process(frames)
    assert np.array_equal(first, second)
    assert not np.array_equal(first[0], first[-1])


def test_batches_continue_the_stream():
    frames = sequence(underwater(photo("coffee", 96)), 7, 4.0)
    whole = ClassicRestorer().process(frames)
    restorer = ClassicRestorer()
    pieces = [restorer.process(frames[i : i + 3]) for i in range(0, 7, 3)]
    assert np.array_equal(whole, np.concatenate(pieces))
