"""TorchRunner on tiny models: layout, padding, temporal windows, out-of-memory fallbacks."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vidgan.engine.pipeline import run_pipeline
from vidgan.engine.processor import Processor
from vidgan.engine.runner import TorchRunner
from vidgan.video.reader import Frame

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"),
    ),
]
STEP = 10  # frame i of a stream has every pixel equal to STEP * i


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    return torch.device(request.param)


def random_frames(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """uint8 (N, H, W, 3) noise."""
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def indexed_frames(first: int, n: int, h: int = 5, w: int = 7) -> np.ndarray:
    """uint8 (N, H, W, 3), frame i filled with STEP * i, for i from ``first``."""
    values = STEP * np.arange(first, first + n, dtype=np.uint8)
    return np.broadcast_to(values[:, None, None, None], (n, h, w, 3)).copy()


class Recorder(nn.Module):
    """Returns its input, or ``1 - x``; records the shapes it was given."""

    def __init__(self, size_multiple: int = 1, invert: bool = False) -> None:
        super().__init__()
        self.size_multiple = size_multiple
        self.invert = invert
        self.shapes: list[tuple[int, ...]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.shapes.append(tuple(x.shape))
        assert x.shape[-2] % self.size_multiple == 0
        assert x.shape[-1] % self.size_multiple == 0
        return 1 - x if self.invert else x


class Window(nn.Module):
    """Looks at 2 past frames; records each window's frame indices and returns the current frame."""

    context = 2

    def __init__(self) -> None:
        super().__init__()
        self.windows: list[list[int]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = x.shape
        assert (t, c) == (3, 3)
        self.windows += (x[:, :, 0, 0, 0] * 255 / STEP).round().int().tolist()
        return x[:, -1]  # (B, C, H, W)


def expected_windows(first: int, n: int, start: int) -> list[list[int]]:
    """Frame indices in the windows of frames ``first``.. of a stream that began at ``start``."""
    return [[max(i - 2, start), max(i - 1, start), i] for i in range(first, first + n)]


class OutOfMemory(nn.Module):
    """Per-pixel ``1 - x`` that runs out of memory above a batch or a picture size."""

    def __init__(
        self, max_batch: int = 10**9, max_pixels: int = 10**9, size_multiple: int = 1
    ) -> None:
        super().__init__()
        self.max_batch = max_batch
        self.max_pixels = max_pixels
        self.size_multiple = size_multiple
        self.shapes: list[tuple[int, ...]] = []
        self.failures = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > self.max_batch or x.shape[-2] * x.shape[-1] > self.max_pixels:
            self.failures += 1
            raise torch.OutOfMemoryError("test: out of memory")
        self.shapes.append(tuple(x.shape))
        return 1 - x


# layout, padding and quantisation


@pytest.mark.parametrize(("h", "w"), [(37, 23), (16, 16), (1, 9)])
def test_identity_gives_back_the_input(device: torch.device, h: int, w: int) -> None:
    model = Recorder(size_multiple=8)
    runner = TorchRunner(model, device, precision="fp32")
    frames = random_frames(3, h, w)

    out = runner.process(frames)

    assert isinstance(runner, Processor)
    assert out.dtype == np.uint8
    assert out.shape == (3, h, w, 3)
    np.testing.assert_array_equal(out, frames)
    assert model.shapes == [(3, 3, -(-h // 8) * 8, -(-w // 8) * 8)]


def test_padding_repeats_the_edge(device: torch.device) -> None:
    seen: list[torch.Tensor] = []

    class Keep(Recorder):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(x.clone())
            return x

    frames = random_frames(1, 5, 6)
    TorchRunner(Keep(size_multiple=4), device, precision="fp32").process(frames)

    x = seen[0].cpu()  # (1, 3, 8, 8)
    np.testing.assert_allclose(x[0, :, :5, :6].permute(1, 2, 0).numpy() * 255, frames[0], atol=1e-3)
    torch.testing.assert_close(x[..., 5:, :6], x[..., 4:5, :6].expand(-1, -1, 3, -1))
    torch.testing.assert_close(x[..., :, 6:], x[..., :, 5:6].expand(-1, -1, -1, 2))


@pytest.mark.parametrize(("h", "w"), [(37, 23), (16, 48), (17, 1)])
def test_sides_divide_by_the_size_multiple(device: torch.device, h: int, w: int) -> None:
    model = Recorder(size_multiple=16, invert=True)
    frames = random_frames(2, h, w)

    out = TorchRunner(model, device, precision="fp32").process(frames)

    np.testing.assert_array_equal(out, 255 - frames)
    assert model.shapes == [(2, 3, -(-h // 16) * 16, -(-w // 16) * 16)]


def test_output_is_clamped_and_rounded(device: torch.device) -> None:
    class Stretch(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 4 * x - 1

    frames = random_frames(2, 9, 11)
    out = TorchRunner(Stretch(), device, precision="fp32").process(frames)
    expected = np.clip(4 * frames.astype(np.int64) - 255, 0, 255)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(("precision", "dtype"), [("fp32", None), ("bf16", torch.bfloat16)])
def test_precision_sets_autocast(
    device: torch.device, precision: str, dtype: torch.dtype | None
) -> None:
    seen: list[torch.dtype | None] = []

    class Probe(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            on = torch.is_autocast_enabled(x.device.type)
            seen.append(torch.get_autocast_dtype(x.device.type) if on else None)
            return x.to(torch.bfloat16)  # a half output comes back as uint8 all the same

    frames = indexed_frames(0, 2)
    runner = TorchRunner(Probe(), device, precision=precision)
    out = runner.process(frames)

    assert runner.dtype == dtype
    assert seen == [dtype]
    np.testing.assert_array_equal(out, frames)


# temporal windows


def test_windows_carry_history_across_calls(device: torch.device) -> None:
    model = Window()
    runner = TorchRunner(model, device, precision="fp32")
    chunks = [1, 3, 2, 5]

    outs = []
    first = 0
    for n in chunks:
        outs.append(runner.process(indexed_frames(first, n)))
        first += n

    assert model.windows == expected_windows(0, sum(chunks), start=0)
    np.testing.assert_array_equal(np.concatenate(outs), indexed_frames(0, sum(chunks)))


def test_reset_clears_the_history(device: torch.device) -> None:
    model = Window()
    runner = TorchRunner(model, device, precision="fp32")

    runner.process(indexed_frames(0, 4))
    runner.reset()
    runner.process(indexed_frames(20, 2))
    runner.process(indexed_frames(22, 1))

    assert model.windows == expected_windows(0, 4, start=0) + expected_windows(20, 3, start=20)


def test_a_new_picture_size_restarts_the_history(device: torch.device) -> None:
    model = Window()
    runner = TorchRunner(model, device, precision="fp32")

    runner.process(indexed_frames(0, 3, h=5, w=7))
    runner.process(indexed_frames(3, 2, h=6, w=7))

    assert model.windows == expected_windows(0, 3, start=0) + expected_windows(3, 2, start=3)


def test_a_conv3d_temporal_model(device: torch.device) -> None:
    class TemporalMean(nn.Module):
        """Mean of the current frame and the two before it, through a Conv3d over time."""

        context = 2

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv3d(3, 3, kernel_size=(3, 1, 1), bias=False)
            with torch.no_grad():
                self.conv.weight.zero_()
                for c in range(3):
                    self.conv.weight[c, c, :, 0, 0] = 1 / 3

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x.transpose(1, 2)).squeeze(2)  # (B, C, 1, H, W) -> (B, C, H, W)

    runner = TorchRunner(TemporalMean(), device, precision="fp32")
    out = np.concatenate(
        [runner.process(indexed_frames(0, 2)), runner.process(indexed_frames(2, 4))]
    )

    means = [STEP * sum(window) / 3 for window in expected_windows(0, 6, start=0)]
    expected = np.broadcast_to(np.array(means)[:, None, None, None], out.shape)
    np.testing.assert_allclose(out, expected, atol=1)  # TF32 convolutions on CUDA


def test_windows_continue_across_pipeline_batches(device: torch.device) -> None:
    model = Window()
    frames = [Frame(indexed_frames(i, 1)[0], i, Fraction(1, 25)) for i in range(10)]
    out: list[Frame] = []

    run_pipeline(frames, TorchRunner(model, device, precision="fp32"), out.append, batch=3)

    assert model.windows == expected_windows(0, 10, start=0)
    np.testing.assert_array_equal(np.stack([f.image for f in out]), indexed_frames(0, 10))


# out of memory


def test_out_of_memory_halves_the_batch(device: torch.device) -> None:
    model = OutOfMemory(max_batch=2)
    runner = TorchRunner(model, device, precision="fp32")
    frames = random_frames(8, 12, 10)

    out = runner.process(frames)

    np.testing.assert_array_equal(out, 255 - frames)
    assert runner.max_batch == 2
    assert runner.tiles == 1
    assert model.failures == 2  # at 8 and at 4
    assert [s[0] for s in model.shapes] == [2, 2, 2, 2]

    # the lower batch is kept: no more failures
    more = random_frames(5, 12, 10, seed=1)
    np.testing.assert_array_equal(runner.process(more), 255 - more)
    assert model.failures == 2
    assert [s[0] for s in model.shapes[4:]] == [2, 2, 1]


def test_out_of_memory_keeps_windows_in_order(device: torch.device) -> None:
    class SmallWindow(Window):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if len(x) > 1:
                raise torch.OutOfMemoryError("test: out of memory")
            return super().forward(x)

    model = SmallWindow()
    runner = TorchRunner(model, device, precision="fp32")
    out = np.concatenate(
        [runner.process(indexed_frames(0, 4)), runner.process(indexed_frames(4, 3))]
    )

    assert runner.max_batch == 1
    assert model.windows == expected_windows(0, 7, start=0)
    np.testing.assert_array_equal(out, indexed_frames(0, 7))


@pytest.mark.parametrize(("max_pixels", "tiles"), [(2500, 2), (1300, 4)])
def test_out_of_memory_at_batch_one_tiles_the_frame(
    device: torch.device, max_pixels: int, tiles: int
) -> None:
    # 61 x 90 pads to 64 x 96 = 6144 pixels; tiles with a margin of 8 are 40 x 56, then 32 x 40
    model = OutOfMemory(max_pixels=max_pixels, size_multiple=8)
    runner = TorchRunner(model, device, precision="fp32", tile_overlap=4)
    frames = random_frames(2, 61, 90)

    out = runner.process(frames)

    np.testing.assert_array_equal(out, 255 - frames)
    assert (runner.max_batch, runner.tiles) == (1, tiles)
    for _, _, h, w in model.shapes:
        assert h * w <= max_pixels
        assert h % 8 == 0 and w % 8 == 0

    # the tiling is kept for the next frames
    failures = model.failures
    more = random_frames(3, 61, 90, seed=1)
    np.testing.assert_array_equal(runner.process(more), 255 - more)
    assert model.failures == failures


def test_tiles_overlap_enough_for_a_neighbourhood(device: torch.device) -> None:
    class Blur(OutOfMemory):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            super().forward(x)
            return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)

    frames = random_frames(1, 64, 96)
    whole = TorchRunner(Blur(), device, precision="fp32").process(frames)
    runner = TorchRunner(Blur(max_pixels=2000), device, precision="fp32", tile_overlap=2)
    tiled = runner.process(frames)

    assert runner.tiles == 2  # crops of 34 x 50
    np.testing.assert_allclose(tiled.astype(int), whole.astype(int), atol=1)


def test_out_of_memory_gives_up_at_16_tiles(device: torch.device) -> None:
    runner = TorchRunner(OutOfMemory(max_pixels=0), device, precision="fp32")
    with pytest.raises(torch.OutOfMemoryError):
        runner.process(random_frames(2, 8, 8))
    assert (runner.max_batch, runner.tiles) == (1, 16)
