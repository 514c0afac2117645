"""Choosing the device and the precision a model runs in."""

from __future__ import annotations

import functools
import warnings

import torch


def select_device(spec: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then the CPU; anything else is passed to torch.device.

    Raises:
        ValueError: the device is unknown or not present on this machine.
    """
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise ValueError(f"unknown device {spec!r} (try auto, cpu, cuda, cuda:1, mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {spec!r} asked for, but CUDA is not available here")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"device {spec!r} asked for, but there are {torch.cuda.device_count()}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' asked for, but MPS is not available here")
    return device


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AMX or AVX512-BF16).

    Elsewhere PyTorch emulates bf16 and it runs several times slower than fp32.
    """
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The dtype to autocast to, or None for plain fp32.

    ``precision`` is ``auto`` (half on CUDA, bf16 on a CPU that has it natively, else fp32),
    ``fp32``, ``fp16`` or ``bf16``.
    """
    if precision == "fp32":
        return None
    if precision == "fp16":
        if device.type == "cpu":
            warnings.warn(
                "fp16 on the CPU is emulated and several times slower than fp32; "
                "use --precision fp32, bf16 or auto",
                stacklevel=2,
            )
        return torch.float16
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ValueError(f"unknown precision {precision!r} (auto, fp32, fp16, bf16)")
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None
