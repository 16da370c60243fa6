"""The build command's feature options: one flag per FeatureConfig field, turned into a FeatureConfig.

``--n-mels 128`` sets ``FeatureConfig.n_mels`` and so on; a flag left out keeps
the field's default. Values are checked by :class:`FeatureConfig` itself, whose
:class:`InvalidParameterError` the command line reports as ``error: ...``.
"""

import argparse
import dataclasses

from .augment import NAMED_SETS
from .config import FeatureConfig

__all__ = ["FEATURE_OPTIONS", "add_feature_options", "config_from_options"]

# field -> (type, metavar, help); the flag is the field with dashes.
FEATURE_OPTIONS = {
    "sample_rate": (int, "HZ", "rate every clip is resampled to"),
    "clip_seconds": (float, "S", "length every clip is padded or cropped to"),
    "n_fft": (int, "N", "FFT size and window length of the STFT"),
    "hop_length": (int, "N", "hop between STFT frames, in samples"),
    "n_mels": (int, "N", "number of mel bands"),
    "f_min": (float, "HZ", "lowest mel band edge"),
    "f_max": (float, "HZ", "highest mel band edge (default: sample rate / 2)"),
    "n_mfcc": (int, "N", "MFCCs of mfcc_stats"),
    "delta_n_mfcc": (int, "N", "MFCCs of mfcc_delta_stats"),
    "augment": (str, "SPEC", (
        "augmented views to store beside each log-mel: a named set (" + ", ".join(NAMED_SETS) + ") or e.g. "
        "'pitch:-2,-1,1,2;stretch:0.81,1.23;gain:-6,6;noise:white20,pink10' (default: none)"
    )),
    "augment_seed": (int, "S", "seed of the noise views"),
}


def add_feature_options(parser: argparse.ArgumentParser):
    """Add a "feature configuration" group of flags to ``parser``."""
    defaults = {f.name: f.default for f in dataclasses.fields(FeatureConfig)}
    group = parser.add_argument_group("feature configuration (defaults: the reference notebook's)")
    for field, (kind, metavar, text) in FEATURE_OPTIONS.items():
        default = defaults[field]
        shown = "" if default in (None, "") or "default:" in text else f" (default: {default})"
        group.add_argument("--" + field.replace("_", "-"), dest=field, type=kind, metavar=metavar, default=None,
                           help=text + shown)


def config_from_options(args: argparse.Namespace) -> FeatureConfig:
    """The FeatureConfig of the flags given; raises ``InvalidParameterError`` for bad values."""
    return FeatureConfig(**{field: getattr(args, field) for field in FEATURE_OPTIONS if getattr(args, field) is not None})
