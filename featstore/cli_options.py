"""The build command's options: the dataset's layout and columns, and one flag per FeatureConfig field.

``--n-mels 128`` sets ``FeatureConfig.n_mels`` and so on; a flag left out keeps
the field's default (``--clip-seconds``: the dataset's clip length, if it has
one). Values are checked by :class:`FeatureConfig` itself, whose
:class:`InvalidParameterError` the command line reports as ``error: ...``. The
dataset options are :func:`featstore.open_source`'s.
"""

import argparse
import dataclasses

from .augment import NAMED_SETS
from .config import FeatureConfig

__all__ = ["DATASET_OPTIONS", "FEATURE_OPTIONS", "add_dataset_options", "add_feature_options", "config_from_options",
           "dataset_options"]

# open_source keyword -> (flag metavar, help)
DATASET_OPTIONS = {
    "dataset": ("NAME", "the layout, when it is not the one recognised: urbansound8k, esc50, esc10 (the ESC-10 "
                        "rows of an ESC-50 download), table, folders"),
    "metadata": ("FILE", "a CSV or TSV listing the clips (then SOURCE, if given, is their audio folder)"),
    "audio_dir": ("DIR", "the folder the --metadata paths are relative to (default: the table's folder)"),
    "path_column": ("NAME", "the column of audio file paths (default: file_name)"),
    "label_column": ("NAME", "the column of class names"),
    "class_id_column": ("NAME", "the column of class ids (checked one-to-one against the names)"),
    "fold_column": ("NAME", "the column of folds: integers, or split names such as train/validation/test"),
    "group_column": ("NAME", "the column naming the recording each clip was cut from"),
    "classes": ("A,B,...", "the class names in label order (default: from the data)"),
    "assign_folds": ("K", "without folds in the data: make K folds, stratified by class on average, a recording's "
                          "clips in one fold; stable: adding a clip never moves another"),
    "group_pattern": ("REGEX", "read a clip's recording from its file name: the group 'group', or the first "
                               "group, of this regular expression"),
}


def add_dataset_options(parser: argparse.ArgumentParser, *, datasets):
    """Add a "dataset" group of flags to ``parser`` (``datasets``: the choices of ``--dataset``)."""
    group = parser.add_argument_group("dataset (a layout is recognised without these; see the README)")
    for name, (metavar, text) in DATASET_OPTIONS.items():
        kind = {"assign_folds": _fold_count, "classes": _names}.get(name, str)
        choices = datasets if name == "dataset" else None
        group.add_argument("--" + name.replace("_", "-"), dest=name, metavar=metavar if choices is None else None,
                           type=kind, choices=choices, default=None, help=text)


def _fold_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"at least 2 folds are needed, got {value}")
    return value


def _names(text: str) -> list:
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected class names separated by commas, got {text!r}")
    return names


def dataset_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`featstore.open_source` the flags give."""
    return {name: getattr(args, name) for name in DATASET_OPTIONS if getattr(args, name) is not None}

# field -> (type, metavar, help); the flag is the field with dashes.
FEATURE_OPTIONS = {
    "sample_rate": (int, "HZ", "rate every clip is resampled to"),
    "clip_seconds": (float, "S", "length every clip is padded or cropped to (default: the dataset's, "
                                 "5 s for ESC-50, else 4 s)"),
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


def config_from_options(args: argparse.Namespace, *, clip_seconds: float | None = None) -> FeatureConfig:
    """The FeatureConfig of the flags given; raises ``InvalidParameterError`` for bad values.

    ``clip_seconds``: the dataset's clip length, used when ``--clip-seconds`` is not given.
    """
    given = {field: getattr(args, field) for field in FEATURE_OPTIONS if getattr(args, field) is not None}
    if clip_seconds is not None:
        given.setdefault("clip_seconds", clip_seconds)
    return FeatureConfig(**given)
