"""The restoration generator: identity at start, shapes, causality, and its OpenCV twin."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.errors import InputError
from vidgan.models import (
    PatchDiscriminator,
    RestoreConfig,
    RestoreGenerator,
    RestoreNet,
    TemporalDiscriminator,
    apply_coefficients,
    detail_energy,
    load_restorer,
    low_view,
    save_weights,
)
from vidgan.processors.gan import (
    MOTION,
    GanRestorer,
    apply_coefficients_cv,
    prepare_frame,
    view_scale,
)


def test_untrained_generator_is_the_identity():
    g = RestoreGenerator(RestoreConfig(width=8))
    x = torch.rand(2, 2, 3, 32, 48)
    torch.testing.assert_close(g(x), x[:, -1], atol=1e-5, rtol=0)


def test_shapes():
    net = RestoreNet(RestoreConfig(width=8, context=2))
    assert net(torch.rand(3, 3, 3, 5, 7), torch.rand(3, 3, 5, 7)).shape == (3, 12, 5, 7)
    assert PatchDiscriminator(8)(torch.rand(2, 3, 64, 64)).shape == (2, 1, 8, 8)
    assert TemporalDiscriminator(8)(torch.rand(2, 3, 3, 64, 64)).shape == (2, 1, 1, 4, 4)


def test_the_network_never_looks_ahead():
    torch.manual_seed(0)
    net = RestoreNet(RestoreConfig(width=8))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.3)
    window, energy = torch.rand(1, 2, 3, 6, 8), torch.rand(1, 3, 6, 8) * 0.05
    # the output for a window depends on its past frame (it is temporal) ...
    other_past = window.clone()
    other_past[:, 0] = torch.rand(3, 6, 8)
    assert not torch.allclose(net(window, energy), net(other_past, energy))
    # ... and on the detail energy (it sees noise)
    assert not torch.allclose(net(window, energy), net(window, energy * 2))


def test_opencv_twin_matches_torch():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (48, 72, 3), dtype=np.uint8)
    coef = (rng.standard_normal((6, 9, 12)) * 0.2).astype(np.float32)
    ours = apply_coefficients_cv(frame, coef).astype(np.float32)
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255
    theirs = apply_coefficients(x, torch.from_numpy(coef).permute(2, 0, 1)[None])
    theirs_255 = theirs[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(ours - theirs_255).max() <= 0.51  # rounding only


def test_opencv_inputs_match_torch():
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (48, 72, 3), dtype=np.uint8)
    view, energy = prepare_frame(frame, (6, 9))
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255
    np.testing.assert_allclose(
        view / 255, low_view(x, 8)[0].permute(1, 2, 0).numpy(), atol=0.5 / 255 + 1e-6
    )
    np.testing.assert_allclose(
        energy, detail_energy(x, 8)[0].permute(1, 2, 0).numpy(), rtol=1e-4, atol=1e-5
    )


def test_weights_round_trip_and_processor(tmp_path):
    torch.manual_seed(1)
    net = RestoreNet(RestoreConfig(width=8))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.05)
    path = tmp_path / "g.safetensors"
    save_weights(net, str(path), net.config.to_dict())
    loaded = load_restorer(str(path))
    assert loaded.config == net.config
    for a, b in zip(net.state_dict().values(), loaded.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)

    frames = np.random.default_rng(2).integers(0, 256, (5, 40, 56, 3), dtype=np.uint8)
    proc = GanRestorer(loaded, torch.device("cpu"), precision="fp32", cpu_threads=None)
    whole = proc.process(frames)
    proc.reset()
    split = np.concatenate([proc.process(frames[:2]), proc.process(frames[2:])])
    assert whole.shape == frames.shape and whole.dtype == np.uint8
    # batching does not change the result, but for the last bit of a matrix product's rounding
    assert np.abs(whole.astype(int) - split).max() <= 1
    assert (whole != split).mean() < 1e-3
    perframe = GanRestorer(
        loaded, torch.device("cpu"), precision="fp32", temporal=False, cpu_threads=None
    )
    assert not np.array_equal(perframe.process(frames)[1:], whole[1:])


def test_bad_weights_file(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights")
    with pytest.raises(InputError, match="not a vidgan restoration weights file"):
        load_restorer(str(bad))


def test_the_view_grows_coarser_with_the_frame():
    assert view_scale(120, 160, 8) == 8
    assert view_scale(240, 320, 8) == 8
    assert view_scale(360, 640, 8) == 16
    assert view_scale(720, 1280, 8) == 32
    assert view_scale(1280, 720, 8) == 32  # portrait: the short side decides
    assert view_scale(2160, 3840, 8) == 96


def test_the_embedded_default_loads_and_restores():
    net = load_restorer()  # vidgan/weights/restore.safetensors
    assert net.config.context >= 1  # the default is temporal
    assert sum(p.numel() for p in net.parameters()) * 4 < 10e6  # under 10 MB as float32
    proc = GanRestorer(net, torch.device("cpu"), precision="fp32", cpu_threads=None)
    frames = np.random.default_rng(4).integers(0, 256, (2, 72, 128, 3), dtype=np.uint8)
    out = proc.process(frames)
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert not np.array_equal(out, frames)  # trained: it changes the picture


def test_weights_of_another_shape_give_one_line(tmp_path):
    net = RestoreNet(RestoreConfig(width=8))
    path = tmp_path / "old.safetensors"
    save_weights(net, str(path), {**net.config.to_dict(), "width": 16})  # config disagrees
    with pytest.raises(InputError, match="not a vidgan restoration weights file") as info:
        load_restorer(str(path))
    assert "\n" not in str(info.value)


def test_coefficients_are_blended_over_time_where_the_picture_holds_still():
    torch.manual_seed(5)
    net = RestoreNet(RestoreConfig(width=8))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.1)
    rng = np.random.default_rng(6)
    still = rng.integers(60, 200, (40, 56, 3), dtype=np.uint8)
    jittered = np.clip(still + rng.normal(0, 6, still.shape), 0, 255).astype(np.uint8)
    cut = still // 4  # a much darker scene: every cell changes by more than MOTION
    cpu = torch.device("cpu")

    def restorer(smooth: float) -> GanRestorer:
        return GanRestorer(net, cpu, precision="fp32", smooth=smooth, cpu_threads=None)

    plain = restorer(0.0).process(np.stack([still, jittered, cut]))
    blended = restorer(0.7).process(np.stack([still, jittered, cut]))
    np.testing.assert_array_equal(plain[0], blended[0])  # nothing to blend with yet
    assert not np.array_equal(plain[1], blended[1])  # the same scene: blended
    # a cut: every cell changed, so nothing is carried over
    assert np.abs(plain[2].astype(int) - blended[2]).max() <= 1

    # the weights: 0.7 where a cell holds still, less as it changes, none from MOTION on
    views = torch.full((3, 3, 2, 2), 0.5)
    views[1] += torch.tensor([0.0, MOTION / 2])[None, None]  # two cells still, two half-moved
    views[2] = views[1] + MOTION  # every cell moved by MOTION
    coef = torch.randn(3, 12, 2, 2)
    out = restorer(0.7)._blend(coef, views)
    torch.testing.assert_close(out[0], coef[0])
    kept = (out[1] - coef[1]) / (out[0] - coef[1])  # the share of the previous coefficients
    torch.testing.assert_close(kept[..., 0], torch.full((12, 2), 0.7))
    torch.testing.assert_close(kept[..., 1], torch.full((12, 2), 0.35))
    torch.testing.assert_close(out[2], coef[2])
