"""Loading and saving generator weights as safetensors: tensors only, never unpickled.

The model's config travels in the file's metadata, so a file is all it takes to rebuild it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import fields
from importlib import resources

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from vidgan.errors import InputError
from vidgan.models.restorer import RestoreConfig, RestoreNet
from vidgan.models.video_gan import GenerateConfig, VideoGenerator

DEFAULT_RESTORE = "restore.safetensors"
DEFAULT_GENERATE = "generate.safetensors"

# the command each kind of weights is for -> what the kind is called, and the settings its
# config holds: a file's config tells the kinds apart
_KINDS = {
    "restore": ("restoration", {f.name for f in fields(RestoreConfig)}),
    "generate": ("generation", {f.name for f in fields(GenerateConfig)}),
}


def default_weights(name: str) -> str:
    """Path of an embedded weights file in vidgan/weights/."""
    return str(resources.files("vidgan.weights").joinpath(name))


def save_weights(model: nn.Module, path: str, config: dict[str, int], **meta: str) -> None:
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, path, metadata={"config": json.dumps(config), **meta})


def _check_kind(path: str, config: object, command: str) -> None:
    """Raise InputError when ``config`` is not one of ``command``'s models, saying which
    command the file is for when it is another's."""
    kind, settings = _KINDS[command]
    if not isinstance(config, dict):
        raise InputError(
            f"not a vidgan {kind} weights file (its config is not a JSON object)", path
        )
    unknown = set(config) - settings
    if not unknown:
        return
    for other, (other_kind, other_settings) in _KINDS.items():
        if other != command and set(config) <= other_settings:
            raise InputError(
                f"holds {other_kind} weights (for `vidgan {other}`), not {kind} weights", path
            )
    raise InputError(
        f"not a vidgan {kind} weights file (unknown settings: {', '.join(sorted(unknown))})",
        path,
    )


def _load(path: str, build: Callable[[dict[str, int]], nn.Module], command: str) -> nn.Module:
    """``build(config)`` with the weights of ``path`` loaded, in eval mode; bad files raise
    `InputError` naming the kind of file expected and the ``command`` that uses one."""
    kind = _KINDS[command][0]
    if not os.path.exists(path):
        raise InputError(f"weights file not found (train one with `vidgan train {command}`)", path)
    try:
        with safe_open(path, framework="pt") as f:
            meta = f.metadata() or {}
        config = json.loads(meta.get("config", "{}"))
        _check_kind(path, config, command)
        net = build(config)
        net.load_state_dict(load_file(path))
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError, KeyError) as e:
        # torch's shape-mismatch report runs over many lines; its first says enough
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(f"not a vidgan {kind} weights file ({reason})", path) from None
    return net.eval()


def load_restorer(path: str | None = None) -> RestoreNet:
    """The restoration generator from ``path``, or the embedded default."""
    net = _load(
        path or default_weights(DEFAULT_RESTORE),
        lambda c: RestoreNet(RestoreConfig(**c)),
        "restore",
    )
    assert isinstance(net, RestoreNet)
    return net


def load_generator(path: str | None = None) -> VideoGenerator:
    """The video generator (with its still-image encoder, if trained with one) from ``path``,
    or the embedded default."""

    def build(config: dict[str, int]) -> VideoGenerator:
        sizes = {k: v for k, v in config.items() if k != "encoder"}
        return VideoGenerator(GenerateConfig(**sizes, encoder=bool(config.get("encoder", 1))))

    net = _load(path or default_weights(DEFAULT_GENERATE), build, "generate")
    assert isinstance(net, VideoGenerator)
    return net
