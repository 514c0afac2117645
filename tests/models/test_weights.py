"""Weights files: one that belongs to the other model, or to no model, is one plain line."""

from __future__ import annotations

import pytest
from torch import nn

from vidgan.errors import InputError
from vidgan.models.weights import (
    DEFAULT_GENERATE,
    DEFAULT_RESTORE,
    default_weights,
    load_generator,
    load_restorer,
    save_weights,
)


@pytest.mark.parametrize(
    ("load", "name", "message"),
    [
        (
            load_restorer,
            DEFAULT_GENERATE,
            "holds generation weights (for `vidgan generate`), not restoration weights",
        ),
        (
            load_generator,
            DEFAULT_RESTORE,
            "holds restoration weights (for `vidgan restore`), not generation weights",
        ),
    ],
)
def test_the_other_models_weights_are_named_as_such(load, name, message):
    path = default_weights(name)
    with pytest.raises(InputError) as info:
        load(path)
    assert str(info.value) == f"{path}: {message}"


def test_settings_of_no_model_are_named(tmp_path):
    path = tmp_path / "odd.safetensors"
    save_weights(nn.Linear(2, 2), str(path), {"width": 8, "depth": 3, "heads": 2})
    with pytest.raises(InputError) as info:
        load_restorer(str(path))
    assert str(info.value) == (
        f"{path}: not a vidgan restoration weights file (unknown settings: depth, heads)"
    )
