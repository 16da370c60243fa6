"""The plan of a synthetic ESC-50: which clips exist, in which fold and class, how long their sound is.

Pure and cheap, like :mod:`~featstore.synth.plan` for UrbanSound8K:
:func:`plan_esc50_metadata` draws every row of ``meta/esc50.csv`` and the length
of the sound in each clip from the seed, without rendering any audio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_bool, check_seed, is_int
from ..esc50 import (
    CLASS_NAMES,
    CLIP_SECONDS,
    ESC10_TARGETS,
    FOLDS,
    METADATA_COLUMNS,
    N_CLASSES,
    N_CLIPS,
    SAMPLE_RATE,
)
from ..exceptions import InvalidParameterError

__all__ = [
    "DEFAULT_N_CLIPS",
    "MIN_N_CLIPS",
    "PADDED_SHARE",
    "SOUND_COLUMN",
    "check_esc50_size",
    "clip_counts",
    "plan_esc50_metadata",
]

DEFAULT_N_CLIPS = 500
"""Clips generated when neither ``n_clips`` nor ``full=True`` is given: 10 per class,
2 per class and fold, a quarter of the real set (renders in about a quarter of the time)."""

MIN_N_CLIPS = N_CLASSES
"""The smallest set: one clip per class."""

SOUND_COLUMN = "sound_frames"
"""Column the plan adds after the format columns: the samples of sound at the start
of the clip; the rest of the clip, up to 5 s, is digital silence (zeros)."""

CLIP_FRAMES = round(CLIP_SECONDS * SAMPLE_RATE)

# Share of the clips of each class (target 0..49) whose sound is shorter than 5 s
# and padded with digital silence. Not measured on the real data: short events
# (a bark, a knock, a sneeze) are often padded there, continuous sounds (rain,
# an engine) almost never, and the three levels below follow that.
_EVENT, _MIXED, _AMBIENT = 0.5, 0.2, 0.03
PADDED_SHARE = (
    _EVENT, _EVENT, _MIXED, _EVENT, _MIXED, _EVENT, _MIXED, _AMBIENT, _MIXED, _EVENT,  # animals
    _AMBIENT, _AMBIENT, _AMBIENT, _AMBIENT, _AMBIENT, _MIXED, _AMBIENT, _MIXED, _MIXED, _MIXED,  # natural
    _MIXED, _EVENT, _MIXED, _MIXED, _EVENT, _MIXED, _MIXED, _AMBIENT, _MIXED, _MIXED,  # human
    _EVENT, _MIXED, _AMBIENT, _MIXED, _EVENT, _AMBIENT, _AMBIENT, _MIXED, _AMBIENT, _EVENT,  # domestic
    _AMBIENT, _MIXED, _AMBIENT, _EVENT, _AMBIENT, _AMBIENT, _MIXED, _AMBIENT, _MIXED, _MIXED,  # urban
)
MIN_SOUND_SECONDS = 0.25
"""Shortest sound before the padding, in seconds."""

# Takes (fragments) per recording: 1 to 8 (A to H) in the real metadata, most
# recordings giving one or two; here geometric with this mean, capped.
TAKES_MEAN, MAX_TAKES = 1.6, 8
_SRC_FILE_RANGE = (100, 265_000)  # the real src_file ids span about 137 to 264,453
_PLAN_STREAM = 2  # UrbanSound8K's plan and audio draw from streams 0 and 1


def check_esc50_size(n_clips, full) -> int | None:
    """The number of clips asked for, or None for the full-size set; raises if invalid."""
    if check_bool(full, "full"):
        if n_clips is not None:
            raise InvalidParameterError(
                f"Pass either n_clips or full=True, not both (got n_clips={n_clips!r} "
                f"and full=True): full=True always writes the real 2,000 clips."
            )
        return None
    if n_clips is None:
        return DEFAULT_N_CLIPS
    if not is_int(n_clips) or not MIN_N_CLIPS <= n_clips <= N_CLIPS:
        raise InvalidParameterError(
            f"n_clips of a synthetic ESC-50 must be an int from {MIN_N_CLIPS} (one clip per class) "
            f"to {N_CLIPS} (the real size), got {n_clips!r}. Pass e.g. n_clips=250 for every class "
            f"in every fold, or full=True for the real 2,000 clips."
        )
    return int(n_clips)


def clip_counts(n_clips: int) -> np.ndarray:
    """Clips per fold (rows, folds 1..5) and class (columns, targets 0..49).

    Classes get ``n_clips / 50`` clips each, the remainder spread evenly over the
    targets; the clips are then dealt to the folds in turn, class after class, so
    that fold totals differ by at most one and so do the cells of a class. Every
    class is present from 50 clips and in every fold from 250; 2,000 gives the
    real 8 clips per class and fold.
    """
    edges = (np.arange(N_CLASSES + 1) * n_clips) // N_CLASSES
    per_class = np.diff(edges)
    counts = np.zeros((len(FOLDS), N_CLASSES), dtype=np.int64)
    dealt = 0
    for target, k in enumerate(per_class):
        np.add.at(counts[:, target], (dealt + np.arange(k)) % len(FOLDS), 1)
        dealt += int(k)
    return counts


def _split_into_recordings(rng, n: int) -> list[int]:
    """Takes of the recordings that make up ``n`` clips of one fold and class."""
    sizes = []
    while n > 0:
        size = min(n, MAX_TAKES, int(rng.geometric(1.0 / TAKES_MEAN)))
        sizes.append(size)
        n -= size
    return sizes


def _sound_frames(rng, target: int) -> int:
    """Samples of sound in one clip: all of it, or a shorter sound padded with silence."""
    if rng.random() >= PADDED_SHARE[target]:
        return CLIP_FRAMES
    seconds = MIN_SOUND_SECONDS + (CLIP_SECONDS - 0.5 - MIN_SOUND_SECONDS) * rng.beta(1.2, 1.8)
    return int(round(seconds * SAMPLE_RATE))


def plan_esc50_metadata(*, n_clips: int | None = None, full: bool = False, seed: int = 0) -> pd.DataFrame:
    """The metadata of a synthetic ESC-50, without writing any audio.

    Called by :func:`~featstore.synth.plan_synthetic_metadata` with
    ``dataset="esc50"``; see there for the parameters.

    Returns
    -------
    plan : pandas.DataFrame of shape (n_clips, 12)
        The columns of :data:`~featstore.esc50.METADATA_COLUMNS` (``filename``
        str, ``fold`` int, ``target`` int, ``category`` str, ``esc10`` bool,
        ``src_file`` int, ``take`` str), then the format columns
        (``sample_rate`` 44100, ``channels`` 1, ``subtype`` ``PCM_16``,
        ``n_frames`` 220500) and :data:`SOUND_COLUMN`. Rows are sorted by file
        name, as in the real CSV.
    """
    size = check_esc50_size(n_clips, full)
    seed = check_seed(seed)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_PLAN_STREAM,)))
    counts = clip_counts(N_CLIPS if size is None else size)

    recordings = []  # (fold, target, takes)
    for fold_index, fold in enumerate(FOLDS):
        for target in range(N_CLASSES):
            for takes in _split_into_recordings(rng, int(counts[fold_index, target])):
                recordings.append((fold, target, takes))
    src_files = rng.choice(np.arange(*_SRC_FILE_RANGE), size=len(recordings), replace=False)

    esc10 = set(ESC10_TARGETS)
    rows = []
    for (fold, target, takes), src_file in zip(recordings, src_files):
        for take in "ABCDEFGH"[:takes]:
            rows.append(
                {
                    "filename": f"{fold}-{src_file}-{take}-{target}.wav",
                    "fold": fold,
                    "target": target,
                    "category": CLASS_NAMES[target],
                    "esc10": target in esc10,
                    "src_file": int(src_file),
                    "take": take,
                    "sample_rate": SAMPLE_RATE,
                    "channels": 1,
                    "subtype": "PCM_16",
                    "n_frames": CLIP_FRAMES,
                    SOUND_COLUMN: _sound_frames(rng, target),
                }
            )
    # The format columns are plan.FORMAT_COLUMNS (plan.py imports this module).
    columns = list(METADATA_COLUMNS) + ["sample_rate", "channels", "subtype", "n_frames", SOUND_COLUMN]
    plan = pd.DataFrame(rows, columns=columns)
    return plan.sort_values("filename", kind="stable", ignore_index=True)
