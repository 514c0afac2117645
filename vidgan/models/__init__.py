"""The generators and discriminators, as plain nn.Modules, and the loading of their weights."""

from vidgan.models.discriminators import PatchDiscriminator, TemporalDiscriminator
from vidgan.models.restorer import RestoreConfig, RestoreGenerator, RestoreNet, apply_coefficients
from vidgan.models.weights import load_restorer, save_weights

__all__ = [
    "PatchDiscriminator",
    "RestoreConfig",
    "RestoreGenerator",
    "RestoreNet",
    "TemporalDiscriminator",
    "apply_coefficients",
    "load_restorer",
    "save_weights",
]
