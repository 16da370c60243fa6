"""The plan of a synthetic data set: which clips exist, in which fold, class and format.

Pure and cheap: :func:`plan_synthetic_metadata` draws every row of the metadata CSV
and the audio format of each clip from the seed, without rendering any audio.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._validation import check_bool, check_seed, is_int
from ..exceptions import InvalidParameterError
from ..urbansound8k import (
    CLASS_NAMES,
    CLIPS_PER_FOLD_AND_CLASS,
    FOLDS,
    FULL_LENGTH_SHARE,
    METADATA_COLUMNS,
    N_CLASSES,
)
from . import esc50_plan
from .signals import draw_from

__all__ = [
    "CLIP_SECONDS",
    "DATASETS",
    "DEFAULT_N_CLIPS",
    "FORMAT_COLUMNS",
    "check_dataset",
    "check_size",
    "plan_synthetic_metadata",
]

DATASETS = ("urbansound8k", "esc50")
"""The layouts the generator writes: UrbanSound8K's and ESC-50's."""

DEFAULT_N_CLIPS = 1000
"""Clips generated when neither ``n_clips`` nor ``full=True`` is given (UrbanSound8K;
:data:`~featstore.synth.esc50_plan.DEFAULT_N_CLIPS`, 500, for ESC-50)."""

FORMAT_COLUMNS = ("sample_rate", "channels", "subtype", "n_frames")
"""Columns :func:`plan_synthetic_metadata` adds to the metadata: the audio format
of each clip (``subtype`` as named by soundfile) and its length in samples."""

CLIP_SECONDS = 4.0
"""Length of a full-length slice, in seconds."""

MIN_CLIP_SECONDS = 0.05
"""Shortest slice, in seconds (the real shortest is 0.0545 s)."""

SLICE_HOP_SECONDS = 0.5
"""Hop between the starts of consecutive slices of one occurrence, in seconds."""

# Figures derived from the official metadata (UrbanSound8K.csv) and from published
# analyses of the audio formats of the official release.

# Sample rates and their share of the clips (11,024 Hz files counted as 11,025).
SAMPLE_RATE_SHARE = {
    44100: 0.615,
    48000: 0.2865,
    96000: 0.0699,
    24000: 0.0094,
    16000: 0.0052,
    11025: 0.0053,
    22050: 0.0050,
    192000: 0.0019,
    8000: 0.0014,
    32000: 0.0005,
}
STEREO_SHARE = 0.915
# soundfile subtypes and their share (4-bit ADPCM files counted as 16-bit).
SUBTYPE_SHARE = {"PCM_16": 0.660, "PCM_24": 0.315, "FLOAT": 0.020, "PCM_U8": 0.005}

# Per class (classID 0..9): recordings (fsIDs) in the official release, share of
# slices annotated as background (salience 2), mean length of the slices shorter
# than 4 s (street_music has none; 2.0 s is used).
RECORDINGS_PER_CLASS = (64, 125, 158, 337, 119, 97, 117, 45, 74, 166)
BACKGROUND_SHARE = (0.431, 0.643, 0.412, 0.355, 0.098, 0.084, 0.187, 0.269, 0.71, 0.375)
SHORT_CLIP_MEAN_SECONDS = (2.31, 1.07, 2.41, 1.38, 1.68, 2.36, 1.54, 2.03, 1.4, 2.0)
_PLAN_STREAM = 0


def check_dataset(dataset) -> str:
    """The dataset whose layout is asked for; raises if it is not one of :data:`DATASETS`."""
    if not isinstance(dataset, str) or dataset not in DATASETS:
        raise InvalidParameterError(
            f"dataset must be one of {', '.join(map(repr, DATASETS))}, got {dataset!r}. "
            f"Pass dataset='esc50' for the ESC-50 layout, or leave it out for UrbanSound8K's."
        )
    return dataset


def check_size(n_clips, full, dataset: str = "urbansound8k") -> int | None:
    """The number of clips asked for, or None for the full-size set; raises if invalid."""
    if check_dataset(dataset) == "esc50":
        return esc50_plan.check_esc50_size(n_clips, full)
    if check_bool(full, "full"):
        if n_clips is not None:
            raise InvalidParameterError(
                f"Pass either n_clips or full=True, not both (got n_clips={n_clips!r} "
                f"and full=True): full=True always writes the real 8,732 clips."
            )
        return None
    if n_clips is None:
        return DEFAULT_N_CLIPS
    if not is_int(n_clips) or n_clips < N_CLASSES:
        raise InvalidParameterError(
            f"n_clips must be an int of at least {N_CLASSES} (one clip per class), "
            f"got {n_clips!r}. Pass e.g. n_clips=100 for every class in every fold, "
            f"or full=True for the real 8,732 clips."
        )
    return int(n_clips)


def _clip_counts(n_clips: int | None) -> np.ndarray:
    """Clips per fold (rows) and class (columns) for ``n_clips`` or the full set.

    The real table scaled to ``n_clips``: every cell gets at least one clip once
    ``n_clips >= 100``; below that, one clip of each class goes first to the fold
    where the class is most common (so every class and every fold appears), and the
    rest follow the real proportions (largest deficit first). Class totals, fold
    totals and cells then stay within about 1, 2.5 and 1 clips of their share
    (more for classes lifted by the one-per-cell minimum).
    """
    real = np.asarray(CLIPS_PER_FOLD_AND_CLASS, dtype=np.int64)
    if n_clips is None:
        return real.copy()
    quota = real * (n_clips / real.sum())
    counts = np.zeros_like(real)
    if n_clips >= real.size:
        counts[:] = 1
    else:
        free_folds = np.ones(len(FOLDS), dtype=bool)
        for class_id in np.argsort(real.sum(axis=0), kind="stable"):
            fold = np.flatnonzero(free_folds)[np.argmax(real[free_folds, class_id])]
            counts[fold, class_id] = 1
            free_folds[fold] = False
    bulk = np.maximum(counts, np.floor(quota).astype(np.int64))
    if bulk.sum() <= n_clips:  # most of the way in one step
        counts = bulk
    # Then one clip at a time: to the class furthest below its share, in it to the
    # cell furthest below its share, ties to the fold furthest below (then the first).
    fold_quota, class_quota = quota.sum(axis=1, keepdims=True), quota.sum(axis=0, keepdims=True)
    for _ in range(n_clips - int(counts.sum())):
        cell = quota - counts
        fold = np.broadcast_to(fold_quota - counts.sum(axis=1, keepdims=True), cell.shape)
        klass = np.broadcast_to(class_quota - counts.sum(axis=0, keepdims=True), cell.shape)
        counts.flat[np.lexsort((-fold.ravel(), -cell.ravel(), -klass.ravel()))[0]] += 1
    return counts


def _split_into_recordings(rng, n: int, class_id: int) -> list[int]:
    """Sizes of the recordings that make up ``n`` clips of one fold and class."""
    real_mean = sum(row[class_id] for row in CLIPS_PER_FOLD_AND_CLASS) / RECORDINGS_PER_CLASS[class_id]
    mean = min(real_mean, max(2.0, n / 3.0))  # several recordings per cell, most with several slices
    sizes = []
    while n > 0:
        size = min(n, int(rng.geometric(1.0 / mean)))
        sizes.append(size)
        n -= size
    return sizes


def _plan_recording(rng, *, fs_id: int, class_id: int, fold: int, n: int) -> list[dict]:
    """The rows of one recording of ``n`` slices: occurrences, slices, times, format."""
    sample_rate = int(draw_from(rng, SAMPLE_RATE_SHARE))
    channels = 2 if rng.random() < STEREO_SHARE else 1
    subtype = draw_from(rng, SUBTYPE_SHARE)

    is_full = rng.random(n) < FULL_LENGTH_SHARE[class_id]
    n_full = int(is_full.sum())
    occurrences = []  # (number of 4 s slices, or 0 for a short clip)
    if n_full:
        n_runs = 1 + int(rng.binomial(n_full - 1, 0.2)) if n_full > 1 else 1
        cuts = np.sort(rng.choice(np.arange(1, n_full), size=n_runs - 1, replace=False))
        occurrences += [int(k) for k in np.diff(np.concatenate([[0], cuts, [n_full]]))]
    occurrences += [0] * (n - n_full)
    occurrences = [occurrences[i] for i in rng.permutation(len(occurrences))]

    mean_short = SHORT_CLIP_MEAN_SECONDS[class_id]
    span = CLIP_SECONDS - 0.01 - MIN_CLIP_SECONDS
    mu = (mean_short - MIN_CLIP_SECONDS) / span
    rows = []
    t = rng.uniform(0.0, 5.0)
    for occurrence, n_slices in enumerate(occurrences):
        salience = 2 if rng.random() < BACKGROUND_SHARE[class_id] else 1
        if n_slices:
            first = 0 if rng.random() < 0.63 else int(rng.integers(1, 20))
            t0 = round(t, 6)  # the occurrence starts here; slice s starts 0.5 s * s later
            slices = [(s, round(t0 + s * SLICE_HOP_SECONDS, 6), round(CLIP_SECONDS * sample_rate))
                      for s in range(first, first + n_slices)]
        else:
            seconds = MIN_CLIP_SECONDS + span * rng.beta(3.0 * mu, 3.0 * (1 - mu))
            frames = max(int(round(seconds * sample_rate)), math.ceil(MIN_CLIP_SECONDS * sample_rate))
            slices = [(0, round(t, 6), frames)]
        for slice_id, start, frames in slices:
            rows.append(
                {
                    "slice_file_name": f"{fs_id}-{class_id}-{occurrence}-{slice_id}.wav",
                    "fsID": fs_id,
                    "start": start,
                    "end": round(start + frames / sample_rate, 9),
                    "salience": salience,
                    "fold": fold,
                    "classID": class_id,
                    "class": CLASS_NAMES[class_id],
                    "sample_rate": sample_rate,
                    "channels": channels,
                    "subtype": subtype,
                    "n_frames": frames,
                }
            )
        t = rows[-1]["end"] + rng.uniform(0.3, 15.0)
    return rows


def plan_synthetic_metadata(
    *, n_clips: int | None = None, full: bool = False, seed: int = 0, dataset: str = "urbansound8k"
) -> pd.DataFrame:
    """The metadata of a synthetic data set, without writing any audio.

    Pure and cheap: :func:`make_synthetic_dataset` writes exactly these rows (the
    metadata columns) and one WAV file per row in the format given by the extra
    columns.

    Parameters
    ----------
    n_clips : int or None, default=None
        Number of clips. UrbanSound8K: at least 10; the real per-fold and
        per-class table is scaled to it: from 100 clips every class is in every
        fold; below that every class still appears. ESC-50: from 50 to 2,000;
        every class gets ``n_clips / 50`` clips (the remainder spread evenly),
        dealt in turn to the folds: from 250 clips every class is in every fold.
        None means :data:`DEFAULT_N_CLIPS` (1000) for UrbanSound8K and
        :data:`~featstore.synth.esc50_plan.DEFAULT_N_CLIPS` (500) for ESC-50,
        unless ``full=True``.
    full : bool, default=False
        Exactly the real per-fold and per-class counts (UrbanSound8K:
        :data:`~featstore.urbansound8k.CLIPS_PER_FOLD_AND_CLASS`, 8,732 clips;
        ESC-50: 8 per class and fold, 2,000 clips). Cannot be combined with
        ``n_clips``.
    seed : int, default=0
        Seed of the random choices (recordings, times, durations, formats).
    dataset : {"urbansound8k", "esc50"}, default="urbansound8k"
        The dataset whose layout, classes and folds are imitated.

    Returns
    -------
    plan : pandas.DataFrame of shape (n_clips, 12)
        For ESC-50, see :func:`~featstore.synth.esc50_plan.plan_esc50_metadata`:
        the columns of :data:`~featstore.esc50.METADATA_COLUMNS`, the format
        columns and ``sound_frames``. For UrbanSound8K, the columns of
        :data:`~featstore.urbansound8k.METADATA_COLUMNS`
        (``slice_file_name, fsID, start, end, salience, fold, classID, class``)
        followed by :data:`FORMAT_COLUMNS`: ``sample_rate`` (Hz), ``channels``
        (1 or 2), ``subtype`` (soundfile subtype: ``PCM_U8``, ``PCM_16``,
        ``PCM_24`` or ``FLOAT``) and ``n_frames`` (samples per channel, so that
        ``end - start == n_frames / sample_rate``). Rows are sorted by file name,
        as in the real CSV.

    Raises
    ------
    InvalidParameterError
        A ``ValueError``: if ``n_clips`` is not an int >= 10 (ESC-50: from 50 to
        2,000), both ``n_clips`` and ``full=True`` are given, ``seed`` is not a
        non-negative int, or ``dataset`` is not one of :data:`DATASETS`.
    """
    if check_dataset(dataset) == "esc50":
        return esc50_plan.plan_esc50_metadata(n_clips=n_clips, full=full, seed=seed)
    size = check_size(n_clips, full)
    seed = check_seed(seed)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_PLAN_STREAM,)))
    counts = _clip_counts(size)

    cells = []  # (fold, class, recording size)
    for fold_index, fold in enumerate(FOLDS):
        for class_id in range(N_CLASSES):
            for n in _split_into_recordings(rng, int(counts[fold_index, class_id]), class_id):
                cells.append((fold, class_id, n))
    # Unique, freesound-like recording ids.
    high = max(210_000, 20 * len(cells))
    fs_ids = rng.choice(np.arange(100, high), size=len(cells), replace=False)

    rows = []
    for (fold, class_id, n), fs_id in zip(cells, fs_ids):
        rows += _plan_recording(rng, fs_id=int(fs_id), class_id=class_id, fold=fold, n=n)
    plan = pd.DataFrame(rows, columns=list(METADATA_COLUMNS) + list(FORMAT_COLUMNS))
    return plan.sort_values("slice_file_name", kind="stable", ignore_index=True)
