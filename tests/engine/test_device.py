"""Choosing the device and the autocast dtype."""

from __future__ import annotations

import io

import pytest
import torch

from vidgan.engine import device as device_module
from vidgan.engine.device import autocast_dtype, cpu_has_native_bf16, select_device

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")


# precision


@pytest.mark.parametrize(
    ("device", "precision", "dtype"),
    [
        ("cpu", "fp32", None),
        ("cpu", "bf16", torch.bfloat16),
        ("cuda", "auto", torch.float16),
        ("cuda", "fp32", None),
        ("cuda", "bf16", torch.bfloat16),
        ("mps", "auto", None),
    ],
)
def test_autocast_dtype(device: str, precision: str, dtype: torch.dtype | None) -> None:
    assert autocast_dtype(torch.device(device), precision) == dtype


def test_fp16_on_the_cpu_is_granted_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="fp16 on the CPU is emulated"):
        assert autocast_dtype(torch.device("cpu"), "fp16") == torch.float16


@pytest.mark.parametrize(("native", "dtype"), [(True, torch.bfloat16), (False, None)])
def test_auto_on_cpu_uses_bf16_only_where_it_is_native(
    monkeypatch: pytest.MonkeyPatch, native: bool, dtype: torch.dtype | None
) -> None:
    monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: native)
    assert autocast_dtype(torch.device("cpu"), "auto") == dtype


@pytest.mark.parametrize(
    ("cpuinfo", "native"),
    [
        ("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n", False),
        ("flags\t\t: fpu avx512f avx512_bf16 amx_tile\n", True),
        ("flags\t\t: fpu amx_bf16 amx_tile\n", True),
        ("processor\t: 0\n", False),
        (None, False),  # no /proc/cpuinfo
    ],
)
def test_cpu_bf16_detection_reads_the_cpu_flags(
    monkeypatch: pytest.MonkeyPatch, cpuinfo: str | None, native: bool
) -> None:
    def fake_open(path: str) -> io.StringIO:
        assert path == "/proc/cpuinfo"
        if cpuinfo is None:
            raise FileNotFoundError(path)
        return io.StringIO(cpuinfo)

    monkeypatch.setattr(device_module, "open", fake_open, raising=False)
    assert cpu_has_native_bf16.__wrapped__() is native  # the uncached function


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="half"):
        autocast_dtype(torch.device("cpu"), "half")


# device


def test_auto_picks_the_best_device_present() -> None:
    if torch.cuda.is_available():
        expected = "cuda"
    elif torch.backends.mps.is_available():
        expected = "mps"
    else:
        expected = "cpu"
    assert select_device("auto") == torch.device(expected)
    assert select_device() == torch.device(expected)


def test_cpu_is_always_there() -> None:
    assert select_device("cpu") == torch.device("cpu")


@NO_CUDA
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_without_cuda_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="CUDA is not available"):
        select_device(spec)


def test_a_cuda_index_beyond_the_count_is_refused() -> None:
    spec = f"cuda:{torch.cuda.device_count()}"
    with pytest.raises(ValueError, match="cuda"):
        select_device(spec)


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="MPS is available here")
def test_mps_without_mps_is_refused() -> None:
    with pytest.raises(ValueError, match="MPS is not available"):
        select_device("mps")


@pytest.mark.parametrize("spec", ["nonsense", "", "gpu"])
def test_an_unknown_device_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="unknown device"):
        select_device(spec)
