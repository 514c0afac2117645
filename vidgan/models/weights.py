"""Loading and saving generator weights as safetensors: tensors only, never unpickled.

The model's config travels in the file's metadata, so a file is all it takes to rebuild it.
"""

from __future__ import annotations

import json
import os
from importlib import resources

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from vidgan.errors import InputError
from vidgan.models.restorer import RestoreConfig, RestoreNet

DEFAULT_RESTORE = "restore.safetensors"


def default_weights(name: str) -> str:
    """Path of an embedded weights file in vidgan/weights/."""
    return str(resources.files("vidgan.weights").joinpath(name))


def save_weights(model: nn.Module, path: str, config: dict[str, int], **meta: str) -> None:
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, path, metadata={"config": json.dumps(config), **meta})


def load_restorer(path: str | None = None) -> RestoreNet:
    """The restoration generator from ``path``, or the embedded default."""
    path = path or default_weights(DEFAULT_RESTORE)
    if not os.path.exists(path):
        raise InputError("weights file not found (train one with `vidgan train restore`)", path)
    try:
        with safe_open(path, framework="pt") as f:
            meta = f.metadata() or {}
        config = RestoreConfig(**json.loads(meta.get("config", "{}")))
        net = RestoreNet(config)
        net.load_state_dict(load_file(path))
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError, KeyError) as e:
        raise InputError(f"not a vidgan restoration weights file ({e})", path) from None
    return net.eval()
