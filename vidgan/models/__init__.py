"""The generators and discriminators, as plain nn.Modules, and the loading of their weights."""

from vidgan.models.discriminators import PatchDiscriminator, TemporalDiscriminator
from vidgan.models.restorer import (
    RestoreConfig,
    RestoreGenerator,
    RestoreNet,
    apply_coefficients,
    detail_energy,
    low_view,
)
from vidgan.models.video_gan import (
    ClipDiscriminator,
    GenerateConfig,
    ImageEncoder,
    Streams,
    VideoGenerator,
)
from vidgan.models.weights import load_generator, load_restorer, save_weights

__all__ = [
    "ClipDiscriminator",
    "GenerateConfig",
    "ImageEncoder",
    "PatchDiscriminator",
    "RestoreConfig",
    "RestoreGenerator",
    "RestoreNet",
    "Streams",
    "TemporalDiscriminator",
    "VideoGenerator",
    "apply_coefficients",
    "detail_energy",
    "load_generator",
    "load_restorer",
    "low_view",
    "save_weights",
]
