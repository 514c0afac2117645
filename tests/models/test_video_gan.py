"""The two-stream video generator, its discriminator and encoder, at tiny sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vidgan.models import video_gan
from vidgan.models.video_gan import (
    ClipDiscriminator,
    GenerateConfig,
    Streams,
    VideoGenerator,
    labelled_sheet,
    sheet,
    standing_statistics,
)

TINY = GenerateConfig(frames=8, size=16, width=2, bg_width=4, d_width=2)


def test_streams_have_their_shapes_and_ranges():
    g = VideoGenerator(TINY)
    out = g(torch.randn(3, TINY.latent))
    assert isinstance(out, Streams)
    assert out.video.shape == (3, 8, 3, 16, 16)
    assert out.foreground.shape == (3, 8, 3, 16, 16)
    assert out.mask.shape == (3, 8, 1, 16, 16)
    assert out.background.shape == (3, 3, 16, 16)
    for t in out:
        assert t.min() >= 0 and t.max() <= 1


def test_the_video_is_the_masked_composite():
    out = VideoGenerator(TINY)(torch.randn(2, TINY.latent))
    expected = out.mask * out.foreground + (1 - out.mask) * out.background[:, None]
    torch.testing.assert_close(out.video, expected)


def test_the_same_latent_gives_the_same_clip():
    torch.manual_seed(0)
    g = VideoGenerator(TINY).eval()
    z = torch.randn(2, TINY.latent)
    torch.testing.assert_close(g(z).video, g(z).video)
    # a clip does not depend on the others in its batch (no batch statistics)
    torch.testing.assert_close(g(z[:1]).video, g(z).video[:1])


@pytest.mark.parametrize("frames", [1, 5, 8, 12, 16])
def test_other_lengths(frames):
    out = VideoGenerator(TINY)(torch.randn(1, TINY.latent), frames)
    assert out.video.shape[1] == frames and out.mask.shape[1] == frames


def test_long_clips_extend_the_seed_line():
    out = VideoGenerator(TINY)(torch.randn(1, TINY.latent), 32)
    assert torch.isfinite(out.video).all()


def test_no_transposed_convolutions():
    # resize-then-convolve everywhere: no checkerboard artefacts
    g = VideoGenerator(GenerateConfig())
    assert not any(isinstance(m, nn.ConvTranspose2d | nn.ConvTranspose3d) for m in g.modules())


def test_default_size_fits_the_budget():
    g = VideoGenerator(GenerateConfig())
    params = sum(p.numel() for p in g.parameters())
    assert params * 4 < 10e6  # under 10 MB of float32 weights
    with torch.no_grad():
        assert g(torch.randn(1, 100)).video.shape == (1, 32, 3, 64, 64)


def test_discriminator_scores_clips():
    d = ClipDiscriminator(TINY)
    scores = d(torch.rand(2, 8, 3, 16, 16))
    assert scores.shape[0] == 2 and scores.shape[1] == 1 and scores.shape[-2:] == (4, 4)
    big = ClipDiscriminator(GenerateConfig())(torch.rand(1, 32, 3, 64, 64))
    assert big.shape == (1, 1, 2, 4, 4)


def test_encoder_maps_a_still_to_a_latent():
    g = VideoGenerator(TINY)
    z = g.encode(torch.rand(2, 3, 16, 16))
    assert z.shape == (2, TINY.latent)
    assert g(z).video.shape == (2, 8, 3, 16, 16)
    with pytest.raises(ValueError, match="without an image encoder"):
        VideoGenerator(GenerateConfig(**{**TINY.to_dict(), "encoder": False})).encode(z)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"size": 24}, "power of two"), ({"size": 4}, "power of two"), ({"frames": 6}, "multiple")],
)
def test_bad_configs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GenerateConfig(**{**TINY.to_dict(), **kwargs})


def test_sheet_shows_four_kinds_of_tile_per_clip():
    out = VideoGenerator(TINY)(torch.randn(3, TINY.latent))
    picture = sheet(out, columns=4)
    # 3 rows of 16-pixel tiles; 4 composite + 4 foreground + 4 mask + 1 background columns
    assert picture.shape == (3, 3 * 18 + 2, 13 * 18 + 2)


def test_standing_statistics_undo_stale_batch_norm_statistics():
    g = VideoGenerator(TINY)
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d | nn.BatchNorm3d):
            m.running_var.fill_(1e6)  # stale: every latent paints the same clip
    z = torch.randn(2, TINY.latent)
    with torch.no_grad():
        stale = g.eval()(z).video
        assert (stale[0] - stale[1]).abs().max() < 1e-3
        standing_statistics(g, batches=2, batch=4)
        assert not g.training
        fresh = g(z).video
    assert (fresh[0] - fresh[1]).abs().max() > 1e-2
    assert all(m.momentum == 0.1 for m in g.modules() if isinstance(m, nn.BatchNorm3d))


def test_the_mask_starts_near_the_share_of_a_frame_that_moves():
    torch.manual_seed(0)
    g = VideoGenerator(TINY)
    standing_statistics(g, batches=2, batch=8)
    with torch.no_grad():
        mask = g(torch.randn(8, TINY.latent)).mask
    assert 0.15 < mask.mean() < 0.4  # sigmoid(MASK_PRIOR) = 0.27, before any training


def test_labelled_sheet_puts_a_band_of_labels_over_the_enlarged_sheet():
    out = VideoGenerator(TINY)(torch.randn(2, TINY.latent))
    picture = labelled_sheet(out, columns=4, min_tile=48)  # 16-pixel tiles, enlarged 3 times
    assert picture.shape == (3, 16 + 3 * (2 * 18 + 2), 3 * (13 * 18 + 2))
    assert picture[:, :16].min() < 0.5  # dark text on the white band


def test_the_foreground_pads_time_by_repeating_the_end_frames():
    conv = video_gan._TimeEdgeConv3d(2, 3)
    x = torch.randn(1, 2, 5, 6, 6)
    padded = torch.nn.functional.pad(x, (0, 0, 0, 0, 1, 1), mode="replicate")
    torch.testing.assert_close(conv(x), nn.Conv3d.forward(conv, padded))
    # a clip that is still in time gives a still output, at its ends too
    still = conv(torch.randn(1, 2, 1, 6, 6).expand(-1, -1, 5, -1, -1))
    torch.testing.assert_close(still, still[:, :, :1].expand_as(still))
