"""Synthetic UrbanSound8K: a generated stand-in with the real dataset's layout and quirks.

The real UrbanSound8K (see :mod:`featstore.urbansound8k`) cannot be shipped with
the project nor downloaded everywhere, yet the code that reads, decodes and learns
from it must be exercised end to end. This module writes a data set that looks like
the real one to that code:

* the same layout: ``ROOT/metadata/UrbanSound8K.csv`` with the real columns and
  ``ROOT/audio/fold1`` ... ``ROOT/audio/fold10`` holding WAV files named
  ``{fsID}-{classID}-{occurrence}-{slice}.wav``;
* the same 10 classes (real names and ids) and 10 folds; with ``full=True`` the
  exact real per-fold and per-class counts (8,732 clips), otherwise a smaller set
  in the same proportions;
* the same grouping: a synthetic "recording" (one ``fsID``) yields several slices,
  all in one fold and one class; slices of one sound occurrence are 4 s windows
  0.5 s apart that share audio, like the real ones, and all slices of a recording
  share its sound source, background and format, so that splitting a recording
  across train and test leaks just as it does on the real data;
* the same durations: 0.05 s to 4 s, with the real share of full-length 4 s clips
  per class (:data:`~featstore.urbansound8k.FULL_LENGTH_SHARE`), and
  ``end - start`` in the CSV equal to the duration of the audio;
* the same mess of formats: 8 to 192 kHz, mono and stereo, 8-bit unsigned,
  16- and 24-bit PCM and 32-bit float WAV, in roughly the real mix;
* sounds that can be told apart, but not trivially: each class has its own
  procedural sound signature with random parameters (e.g. a siren is a tone sweeping
  between about 600 and 1600 Hz; a jackhammer a train of broadband impacts at 10 to
  25 Hz), buried in urban background noise at a random signal-to-noise ratio (lower
  for background-salience occurrences), with faint sounds of other classes mixed in
  now and then, at a random level. Some pairs are made confusable on purpose, as in
  the real data: jackhammer and engine_idling, drilling and air_conditioner,
  street_music and children_playing, gun_shot and dog_bark.

What it is for: tests, examples and benchmarks of the decoding, feature and
training code on a machine without the real data. On 1,000-clip sets (seeds 0-3),
MFCC mean and standard deviation statistics (torchaudio ``MFCC(n_mfcc=20)``, 64 mel
bands, 16 kHz, 4 s) with a standardised logistic regression trained on folds 1-8
reached 62-70 % accuracy on folds 9-10 (chance: 10 %), so a model on log-mel
spectrograms has room to do better. Accuracy figures on this data say nothing about
accuracy on the real UrbanSound8K. The full-size set takes about 6.8 GB and about
1-1.5 minutes with ``n_jobs=2`` on a 2-core machine.

Everything is deterministic: the same ``seed`` gives byte-identical files and CSV,
whatever ``n_jobs``.

Examples
--------
>>> from featstore.synth import make_synthetic_dataset, plan_synthetic_metadata
>>> plan = plan_synthetic_metadata(full=True)  # the rows, without audio
>>> len(plan)
8732
>>> root = make_synthetic_dataset("synthetic-us8k", n_clips=200)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import numbers
import os
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from joblib import Parallel, delayed
from tqdm import tqdm

from .exceptions import StoreExistsError
from .urbansound8k import (
    AUDIO_DIR,
    CLASS_NAMES,
    CLIPS_PER_FOLD_AND_CLASS,
    FOLDS,
    FULL_LENGTH_SHARE,
    METADATA_COLUMNS,
    METADATA_CSV,
    N_CLASSES,
)

__all__ = [
    "DEFAULT_N_CLIPS",
    "FORMAT_COLUMNS",
    "make_synthetic_dataset",
    "plan_synthetic_metadata",
]

DEFAULT_N_CLIPS = 1000
"""Clips generated when neither ``n_clips`` nor ``full=True`` is given."""

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

# Signal-to-noise ratios (dB) of foreground (salience 1) and background (salience 2)
# occurrences against the urban background noise.
_SNR_DB = {1: (0.0, 20.0), 2: (-8.0, 6.0)}
_PEAK_DBFS = (-30.0, 0.0)
_TABLE_SIZE = 4096
_PLAN_STREAM, _AUDIO_STREAM = 0, 1


# --------------------------------------------------------------------------- #
# Argument checks
# --------------------------------------------------------------------------- #


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_size(n_clips, full) -> int | None:
    """Return the number of clips asked for, or None for the full-size set."""
    if not isinstance(full, (bool, np.bool_)):
        raise ValueError(f"full must be True or False, got {full!r}.")
    if full:
        if n_clips is not None:
            raise ValueError(
                f"Pass either n_clips or full=True, not both (got n_clips={n_clips!r} "
                f"and full=True): full=True always writes the real 8,732 clips."
            )
        return None
    if n_clips is None:
        return DEFAULT_N_CLIPS
    if not _is_int(n_clips) or n_clips < N_CLASSES:
        raise ValueError(
            f"n_clips must be an int of at least {N_CLASSES} (one clip per class), "
            f"got {n_clips!r}. Pass e.g. n_clips=100 for every class in every fold, "
            f"or full=True for the real 8,732 clips."
        )
    return int(n_clips)


def _check_seed(seed) -> int:
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    return int(seed)


# --------------------------------------------------------------------------- #
# The plan: which clips exist, where and in which format
# --------------------------------------------------------------------------- #


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


def _draw_from(rng, shares: dict):
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _plan_recording(rng, *, fs_id: int, class_id: int, fold: int, n: int) -> list[dict]:
    """The rows of one recording of ``n`` slices: occurrences, slices, times, format."""
    sample_rate = int(_draw_from(rng, SAMPLE_RATE_SHARE))
    channels = 2 if rng.random() < STEREO_SHARE else 1
    subtype = _draw_from(rng, SUBTYPE_SHARE)

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


def plan_synthetic_metadata(*, n_clips: int | None = None, full: bool = False, seed: int = 0) -> pd.DataFrame:
    """The metadata of a synthetic data set, without writing any audio.

    Pure and cheap: :func:`make_synthetic_dataset` writes exactly these rows (the
    metadata columns) and one WAV file per row in the format given by the extra
    columns.

    Parameters
    ----------
    n_clips : int or None, default=None
        Number of clips, at least 10. The real per-fold and per-class table is
        scaled to it: from 100 clips every class is in every fold; below that every
        class still appears. None means :data:`DEFAULT_N_CLIPS` (1000) unless
        ``full=True``.
    full : bool, default=False
        Exactly the real per-fold and per-class counts
        (:data:`~featstore.urbansound8k.CLIPS_PER_FOLD_AND_CLASS`, 8,732 clips).
        Cannot be combined with ``n_clips``.
    seed : int, default=0
        Seed of the random choices (recordings, times, durations, formats).

    Returns
    -------
    plan : pandas.DataFrame of shape (n_clips, 12)
        The columns of :data:`~featstore.urbansound8k.METADATA_COLUMNS`
        (``slice_file_name, fsID, start, end, salience, fold, classID, class``)
        followed by :data:`FORMAT_COLUMNS`: ``sample_rate`` (Hz), ``channels``
        (1 or 2), ``subtype`` (soundfile subtype: ``PCM_U8``, ``PCM_16``,
        ``PCM_24`` or ``FLOAT``) and ``n_frames`` (samples per channel, so that
        ``end - start == n_frames / sample_rate``). Rows are sorted by file name,
        as in the real CSV.

    Raises
    ------
    ValueError
        If ``n_clips`` is not an int >= 10, both ``n_clips`` and ``full=True`` are
        given, or ``seed`` is not a non-negative int.
    """
    size = _check_size(n_clips, full)
    seed = _check_seed(seed)
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


# --------------------------------------------------------------------------- #
# Signal building blocks (float32, vectorised)
# --------------------------------------------------------------------------- #


def _db(value: float) -> float:
    return 10.0 ** (value / 20.0)


def _unit(x: np.ndarray) -> np.ndarray:
    """Scale to unit RMS (silence stays silent)."""
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    return x / rms if rms > 1e-12 else x


def _times(n: int, sr: int) -> np.ndarray:
    return np.arange(n, dtype=np.float32) / np.float32(sr)


def _harmonic_table(amps: np.ndarray, rng) -> np.ndarray:
    """One period of a waveform with harmonic amplitudes ``amps`` (k = 1, 2, ...)."""
    amps = np.asarray(amps, dtype=np.float64)
    k = np.arange(1, len(amps) + 1)[:, None]
    phase = rng.uniform(0, 2 * np.pi, size=(len(amps), 1))
    x = np.arange(_TABLE_SIZE)[None, :] / _TABLE_SIZE
    table = (amps[:, None] * np.sin(2 * np.pi * k * x + phase)).sum(axis=0)
    return (table / max(np.abs(table).max(), 1e-12)).astype(np.float32)


def _n_harmonics(f_max: float, sr: int, limit: float = np.inf) -> int:
    """Harmonics of ``f_max`` that stay below 0.45 * sr (no aliasing) and ``limit``."""
    return max(1, int(min(0.45 * sr, limit) // max(f_max, 1.0)))


def _osc(table: np.ndarray, freq, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    """Wavetable oscillator; ``freq`` is a scalar or an array of ``n`` values in Hz."""
    if np.ndim(freq) == 0:
        phase = phase0 + (float(freq) / sr) * np.arange(n, dtype=np.float64)
    else:
        phase = phase0 + np.cumsum(freq, dtype=np.float64) / sr
    index = (np.mod(phase, 1.0) * _TABLE_SIZE).astype(np.int32)
    np.minimum(index, _TABLE_SIZE - 1, out=index)
    return table[index]


def _sine(freq, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    if np.ndim(freq) == 0:
        phase = phase0 + (2 * np.pi * float(freq) / sr) * np.arange(n, dtype=np.float64)
    else:
        phase = phase0 + 2 * np.pi * np.cumsum(freq, dtype=np.float64) / sr
    return np.sin(np.mod(phase, 2 * np.pi).astype(np.float32))


def _noise(rng, n: int, sr: int, *, slope: float = 0.0, lo: float | None = None,
           hi: float | None = None, order: int = 2) -> np.ndarray:
    """Unit-RMS Gaussian noise with a spectral tilt of ``slope`` dB/octave, band-limited
    by Butterworth-like high-pass ``lo`` and low-pass ``hi`` magnitude responses (Hz)."""
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    import scipy.fft  # here, not at the top: see _impulses

    m = scipy.fft.next_fast_len(max(n, 16), real=True)
    spectrum = scipy.fft.rfft(rng.standard_normal(m, dtype=np.float32))
    f = np.fft.rfftfreq(m, 1.0 / sr).astype(np.float32)
    f[0] = f[1]
    gain = (f / np.float32(1000.0)) ** np.float32(slope / 6.0206)
    if lo is not None:
        gain /= np.sqrt(1 + (np.float32(lo) / f) ** (2 * order))
    if hi is not None and hi < sr / 2:
        gain /= np.sqrt(1 + (f / np.float32(hi)) ** (2 * order))
    gain[0] = 0
    return _unit(scipy.fft.irfft(spectrum * gain, m)[:n].astype(np.float32))


def _segments(rng, total: float, on: tuple, off: tuple, continuous: bool) -> list:
    """(start, length) pairs in seconds of on/off activity over ``total`` seconds."""
    if continuous:
        return [(0.0, total)]
    out, t = [], rng.uniform(0, 0.3) * min(total, 1.0)
    while t < total:
        length = rng.uniform(*on)
        out.append((t, length))
        t += length + rng.uniform(*off)
    return out


def _gate(n: int, sr: int, segments, attack: float, release: float) -> np.ndarray:
    """Envelope that is 1 inside the segments, with linear attack and release ramps."""
    env = np.zeros(n, dtype=np.float32)
    for start, length in segments:
        i0, i1 = int(start * sr), min(n, int((start + length) * sr))
        if i1 - i0 < 2:
            continue
        seg = np.ones(i1 - i0, dtype=np.float32)
        a = min(int(attack * sr), (i1 - i0) // 2)
        r = min(int(release * sr), (i1 - i0) - a)
        if a:
            seg[:a] = np.linspace(0, 1, a, dtype=np.float32)
        if r:
            seg[-r:] = np.minimum(seg[-r:], np.linspace(1, 0, r, dtype=np.float32))
        np.maximum(env[i0:i1], seg, out=env[i0:i1])
    return env


def _decay(n: int, sr: int, tau: float, attack: float = 0.0) -> np.ndarray:
    t = _times(n, sr)
    env = np.exp(-t / np.float32(tau))
    if attack > 0:
        env *= np.minimum(1.0, t / np.float32(attack))
    return env


def _impulses(n: int, sr: int, times, amps, kernel: np.ndarray) -> np.ndarray:
    """Sum of copies of ``kernel`` starting at ``times`` (s) scaled by ``amps``."""
    train = np.zeros(n, dtype=np.float32)
    idx = (np.asarray(times) * sr).astype(np.int64)
    keep = (idx >= 0) & (idx < n)
    np.add.at(train, idx[keep], np.asarray(amps, dtype=np.float32)[keep])
    if not keep.any():
        return train
    # scipy's modules are imported where they are used: they take longer to import
    # than the rest of featstore, and only the generator needs them.
    import scipy.signal

    return scipy.signal.oaconvolve(train, kernel[:n])[:n].astype(np.float32, copy=False)


def _event_start(rng, total: float, short: bool) -> float:
    """Onset of the first event: at once in a short clip, anywhere early otherwise."""
    return rng.uniform(0.0, 0.06) * total if short else rng.uniform(0.0, min(1.5, 0.4 * total))


# --------------------------------------------------------------------------- #
# Class signatures: recording-level parameters, then one occurrence's audio
# --------------------------------------------------------------------------- #


def _params_air_conditioner(rng):
    return {
        "f0": rng.uniform(45, 130), "tilt": rng.uniform(0.8, 2.2),
        "hum_db": rng.uniform(-14, 2), "noise_hi": rng.uniform(300, 3000),
        "noise_slope": rng.uniform(-6, -1), "am_rate": rng.uniform(3, 25),
        "am_depth": rng.uniform(0.0, 0.3),
        "whine": rng.random() < 0.35, "whine_f": rng.uniform(400, 2200), "whine_db": rng.uniform(-24, -8),
    }


def _air_conditioner(rng, p, n, sr, short):
    f0 = p["f0"] * rng.uniform(0.99, 1.01)
    k = np.arange(1, min(_n_harmonics(f0, sr, 1500), 30) + 1)
    hum = _osc(_harmonic_table(k ** -p["tilt"] * rng.uniform(0.5, 1, len(k)), rng), f0, n, sr)
    x = _db(p["hum_db"]) * _unit(hum) + _noise(rng, n, sr, slope=p["noise_slope"], lo=30, hi=p["noise_hi"])
    t = _times(n, sr)
    x *= 1 + p["am_depth"] * np.sin(np.float32(2 * np.pi * p["am_rate"]) * t)
    if p["whine"]:
        x += _db(p["whine_db"]) * math.sqrt(2) * _sine(p["whine_f"] * rng.uniform(0.98, 1.02), n, sr)
    return x


def _params_car_horn(rng):
    f1 = rng.uniform(330, 520)
    return {
        "f1": f1, "f2": f1 * rng.uniform(1.15, 1.32) if rng.random() < 0.7 else None,
        "tilt": rng.uniform(0.5, 1.5), "bright": rng.uniform(2000, 7000),
        "attack": rng.uniform(0.005, 0.03), "release": rng.uniform(0.02, 0.1),
    }


def _car_horn(rng, p, n, sr, short):
    total = n / sr
    if short:
        start = _event_start(rng, total, True)
        honks = [(start, max(0.05, total * rng.uniform(0.6, 1.0) - start))]
    else:
        honks, t = [], _event_start(rng, total, False)
        for _ in range(int(rng.integers(1, 5))):
            length = rng.uniform(0.15, 1.4)
            honks.append((t, length))
            t += length + rng.uniform(0.08, 1.5)
    f_top = max(p["f1"], p["f2"] or 0)
    k = np.arange(1, _n_harmonics(f_top, sr, 9000) + 1)
    amps = k ** -p["tilt"] / (1 + (k * p["f1"] / p["bright"]) ** 2)
    table = _harmonic_table(amps, rng)
    tone = _osc(table, p["f1"] * rng.uniform(0.99, 1.01), n, sr)
    if p["f2"]:
        tone = tone + _osc(table, p["f2"] * rng.uniform(0.99, 1.01), n, sr, rng.random())
    return tone * _gate(n, sr, honks, p["attack"], p["release"])


def _params_children_playing(rng):
    lo = rng.uniform(200, 320)
    return {
        "voices": int(rng.integers(3, 9)), "f_lo": lo, "f_hi": lo * rng.uniform(1.4, 2.3),
        "formants": (rng.uniform(500, 1100), rng.uniform(1300, 3000)),
        "syllable": (rng.uniform(0.06, 0.15), rng.uniform(0.2, 0.5)),
        "gap": rng.uniform(0.05, 0.5), "vib_rate": rng.uniform(4, 8),
        "vib_depth": rng.uniform(0.01, 0.05), "crowd_db": rng.uniform(-15, -2),
    }


def _children_playing(rng, p, n, sr, short):
    t = _times(n, sr)
    total = n / sr
    x = _db(p["crowd_db"]) * _noise(rng, n, sr, lo=300, hi=3500)
    f_mid = 0.5 * (p["f_lo"] + p["f_hi"])
    k = np.arange(1, _n_harmonics(p["f_hi"] * 1.5, sr, 6000) + 1)
    f1, f2 = p["formants"]
    for _ in range(p["voices"]):
        shift = rng.uniform(0.85, 1.2)
        kf = k * f_mid * shift
        amps = (1 / k) * (0.3 + 3 * np.exp(-(((kf - f1) / 250) ** 2)) + 2 * np.exp(-(((kf - f2) / 450) ** 2)))
        table = _harmonic_table(amps, rng)
        freq = np.full(n, f_mid * shift, dtype=np.float32)
        env = np.zeros(n, dtype=np.float32)
        s = rng.uniform(0, 0.4) * min(total, 1.0)
        while s < total:
            length = rng.uniform(*p["syllable"])
            i0, i1 = int(s * sr), min(n, int((s + length) * sr))
            if i1 - i0 > 8:
                fa = rng.uniform(p["f_lo"], p["f_hi"]) * shift
                fb = fa * rng.uniform(0.75, 1.35)
                freq[i0:i1] = np.linspace(fa, fb, i1 - i0, dtype=np.float32)
                env[i0:i1] = np.abs(np.sin(np.linspace(0, np.pi, i1 - i0, dtype=np.float32))) ** 0.7
            s += length + rng.exponential(p["gap"])
        vib = 1 + p["vib_depth"] * np.sin(np.float32(2 * np.pi * p["vib_rate"] * rng.uniform(0.8, 1.2)) * t
                                          + np.float32(rng.uniform(0, 2 * np.pi)))
        x += _db(rng.uniform(-10, 0)) * _osc(table, freq * vib, n, sr) * env
    return x


def _params_dog_bark(rng):
    return {
        "f0": rng.uniform(280, 900), "fall": rng.uniform(0.6, 0.95),
        "length": rng.uniform(0.07, 0.25), "tau": rng.uniform(0.03, 0.12),
        "noise_mix": rng.uniform(0.2, 0.8), "band": (rng.uniform(300, 1000), rng.uniform(2000, 6000)),
        "tilt": rng.uniform(0.6, 1.6), "bout": int(rng.integers(1, 5)),
        "gap": rng.uniform(0.12, 0.5), "pause": rng.uniform(0.4, 2.5),
    }


def _dog_bark(rng, p, n, sr, short):
    total = n / sr
    k = np.arange(1, _n_harmonics(p["f0"] * 1.1, sr, 7000) + 1)
    table = _harmonic_table(k ** -p["tilt"], rng)
    noise = _noise(rng, n, sr, lo=p["band"][0], hi=p["band"][1])
    x = np.zeros(n, dtype=np.float32)
    t = _event_start(rng, total, short)
    while t < total:
        for _ in range(int(rng.integers(1, p["bout"] + 1))):
            length = p["length"] * rng.uniform(0.7, 1.4)
            i0, i1 = int(t * sr), min(n, int((t + length) * sr))
            if i1 - i0 > 8:
                f0 = p["f0"] * rng.uniform(0.9, 1.1)
                freq = np.linspace(f0, f0 * p["fall"], i1 - i0, dtype=np.float32)
                env = _decay(i1 - i0, sr, p["tau"], attack=rng.uniform(0.003, 0.012))
                body = (1 - p["noise_mix"]) * _osc(table, freq, i1 - i0, sr) + p["noise_mix"] * noise[i0:i1]
                x[i0:i1] += _db(rng.uniform(-4, 0)) * env * body
            t += length + p["gap"] * rng.uniform(0.7, 1.3)
            if t >= total:
                break
        t += p["pause"] * rng.uniform(0.5, 1.5)
    return x


def _params_drilling(rng):
    low = rng.random() < 0.25
    return {
        "f0": rng.uniform(350, 1000) if low else rng.uniform(1000, 4000),
        "tilt": rng.uniform(0.8, 2.5), "wobble_rate": rng.uniform(2, 12),
        "wobble": rng.uniform(0.003, 0.04), "noise_db": rng.uniform(-12, 3),
        "band": (rng.uniform(300, 1500), rng.uniform(3000, 9000)),
        "continuous": rng.random() < 0.5, "spin": rng.uniform(0.05, 0.3),
    }


def _drilling(rng, p, n, sr, short):
    total = n / sr
    segments = _segments(rng, total, (0.5, 3.0), (0.1, 1.0), p["continuous"] or short)
    env = _gate(n, sr, segments, p["spin"], p["spin"] / 2)
    t = _times(n, sr)
    f0 = p["f0"] * rng.uniform(0.97, 1.03)
    wobble = 1 + p["wobble"] * np.sin(np.float32(2 * np.pi * p["wobble_rate"]) * t)
    freq = f0 * wobble * (0.55 + 0.45 * env)  # spins up and down with the motor
    k = np.arange(1, min(_n_harmonics(f0 * 1.1, sr, 12000), 4) + 1)
    tone = _osc(_harmonic_table(k ** -p["tilt"], rng), freq, n, sr)
    motor = _db(p["noise_db"]) * _noise(rng, n, sr, lo=p["band"][0], hi=p["band"][1])
    return (tone + motor) * env


def _params_engine_idling(rng):
    return {
        "f0": rng.uniform(18, 60), "res_f": rng.uniform(80, 500), "res_bw": rng.uniform(50, 300),
        "tilt": rng.uniform(0.4, 1.4), "rpm_depth": rng.uniform(0.005, 0.03),
        "rpm_rate": rng.uniform(0.2, 2.0), "rumble_hi": rng.uniform(150, 800),
        "rumble_db": rng.uniform(-12, 0),
    }


def _engine_idling(rng, p, n, sr, short):
    t = _times(n, sr)
    f0 = p["f0"] * rng.uniform(0.97, 1.03)
    k = np.arange(1, min(_n_harmonics(f0 * 1.05, sr, 4000), 150) + 1)
    amps = k ** -p["tilt"] * (0.2 + 4 * np.exp(-(((k * f0 - p["res_f"]) / p["res_bw"]) ** 2)))
    wobble = np.sin(np.float32(2 * np.pi * p["rpm_rate"]) * t + np.float32(rng.uniform(0, 6.3)))
    rpm = 1 + p["rpm_depth"] * wobble
    x = _unit(_osc(_harmonic_table(amps * rng.uniform(0.6, 1, len(k)), rng), f0 * rpm, n, sr))
    return x + _db(p["rumble_db"]) * _noise(rng, n, sr, slope=-3, lo=20, hi=p["rumble_hi"])


def _params_gun_shot(rng):
    mode = _draw_from(rng, {"single": 0.55, "few": 0.3, "burst": 0.15})
    return {
        "mode": mode, "tau": rng.uniform(0.003, 0.03), "hi": rng.uniform(1500, 9000),
        "boom_f": rng.uniform(50, 200), "boom_tau": rng.uniform(0.02, 0.1), "boom_db": rng.uniform(-12, 0),
        "rt60": rng.uniform(0.2, 1.6), "tail_db": rng.uniform(-26, -8), "tail_hi": rng.uniform(800, 4000),
        "rate": rng.uniform(6, 15),
    }


def _gun_shot(rng, p, n, sr, short):
    total = n / sr
    m = min(n, int((p["rt60"] + 0.05) * sr))
    crack = _noise(rng, m, sr, lo=100, hi=p["hi"]) * _decay(m, sr, p["tau"], attack=0.0005)
    boom = _db(p["boom_db"]) * _sine(p["boom_f"], m, sr) * _decay(m, sr, p["boom_tau"], attack=0.001)
    tail = _noise(rng, m, sr, hi=p["tail_hi"]) * _decay(m, sr, p["rt60"] / 6.9, attack=0.01)
    tail *= _db(p["tail_db"])
    kernel = crack + boom + tail
    t0 = _event_start(rng, total, short)
    if p["mode"] == "burst":
        times = t0 + np.arange(int(rng.integers(3, 13))) / p["rate"]
    elif p["mode"] == "few":
        times = t0 + np.concatenate([[0], np.cumsum(rng.uniform(0.2, 1.2, int(rng.integers(1, 3))))])
    else:
        times = np.array([t0])
    return _impulses(n, sr, times, _db(rng.uniform(-4, 0, len(times))), kernel)


def _params_jackhammer(rng):
    return {
        "rate": rng.uniform(10, 25), "tau": rng.uniform(0.002, 0.012),
        "band": (rng.uniform(200, 800), rng.uniform(3000, 10000)),
        "ring_f": rng.uniform(700, 3500), "ring_tau": rng.uniform(0.005, 0.04),
        "ring_db": rng.uniform(-12, 0),
        "thud_f": rng.uniform(60, 200), "thud_db": rng.uniform(-12, 0),
        "continuous": rng.random() < 0.5,
        "compressor": rng.random() < 0.5, "comp_f0": rng.uniform(25, 60), "comp_db": rng.uniform(-18, -6),
    }


def _jackhammer(rng, p, n, sr, short):
    total = n / sr
    m = min(n, int(0.08 * sr))
    kernel = (_noise(rng, m, sr, lo=p["band"][0], hi=p["band"][1]) * _decay(m, sr, p["tau"], attack=0.0005)
              + _db(p["ring_db"]) * _sine(p["ring_f"], m, sr) * _decay(m, sr, p["ring_tau"], attack=0.0005)
              + _db(p["thud_db"]) * _sine(p["thud_f"], m, sr) * _decay(m, sr, 0.02, attack=0.001))
    times = []
    for start, length in _segments(rng, total, (0.6, 3.0), (0.2, 1.2), p["continuous"] or short):
        period = 1.0 / (p["rate"] * rng.uniform(0.95, 1.05))
        beats = start + np.arange(int(length / period) + 1) * period
        times.append(beats + rng.normal(0, 0.04 * period, len(beats)))
    times = np.concatenate(times) if times else np.zeros(0)
    x = _impulses(n, sr, times, rng.uniform(0.8, 1.2, len(times)), kernel)
    if p["compressor"]:
        k = np.arange(1, _n_harmonics(p["comp_f0"], sr, 1500) + 1)
        drone = _osc(_harmonic_table(k ** -1.0, rng), p["comp_f0"], n, sr)
        x = _unit(x) + _db(p["comp_db"]) * _unit(drone)
    return x


def _params_siren(rng):
    mode = _draw_from(rng, {"wail": 0.55, "yelp": 0.25, "hilo": 0.2})
    lo = rng.uniform(550, 850)
    hi = lo * rng.uniform(1.25, 1.5) if mode == "hilo" else rng.uniform(1100, 1650)
    period = {"wail": rng.uniform(2, 6), "yelp": rng.uniform(0.15, 0.45), "hilo": rng.uniform(0.7, 1.4)}[mode]
    return {
        "mode": mode, "lo": lo, "hi": hi, "period": period,
        "tilt": rng.uniform(0.8, 2.5) if rng.random() < 0.7 else None,
        "ramp_db": rng.uniform(-8, 8),
    }


def _siren(rng, p, n, sr, short):
    t = _times(n, sr)
    phase = (t / np.float32(p["period"]) + np.float32(rng.random())) % 1
    if p["mode"] == "hilo":
        shape = (phase < 0.5).astype(np.float32)
    else:
        rise = rng.uniform(0.3, 0.7)  # asymmetric up/down sweep
        shape = np.where(phase < rise, phase / rise, (1 - phase) / (1 - rise)).astype(np.float32)
        shape = 0.5 - 0.5 * np.cos(np.float32(np.pi) * shape)
    freq = p["lo"] + (p["hi"] - p["lo"]) * shape
    if p["tilt"] is None:
        tone = _sine(freq, n, sr)
    else:
        k = np.arange(1, _n_harmonics(p["hi"], sr, 8000) + 1)
        tone = _osc(_harmonic_table(k ** -p["tilt"], rng), freq, n, sr)
    ramp = np.float32(10.0) ** (np.float32(p["ramp_db"] / 20 / 4.0) * t)  # approaching or leaving
    return tone * ramp


_MAJOR, _MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)


def _params_street_music(rng):
    return {
        "tempo": rng.uniform(70, 160), "root": rng.uniform(98, 262),
        "scale": _MAJOR if rng.random() < 0.6 else _MINOR, "tilt": rng.uniform(0.5, 2.0),
        "pluck": rng.random() < 0.6, "tau": rng.uniform(0.15, 0.8),
        "chords": rng.random() < 0.6, "melody": rng.random() < 0.7, "bass": rng.random() < 0.5,
        "drums": rng.random() < 0.35, "kick_f": rng.uniform(45, 80),
        "singer": rng.random() < 0.35, "formants": (rng.uniform(500, 1000), rng.uniform(1200, 2800)),
        "vib_rate": rng.uniform(4.5, 7), "vib_depth": rng.uniform(0.01, 0.04),
    }


def _street_music(rng, p, n, sr, short):
    total = n / sr
    x = np.zeros(n, dtype=np.float32)
    beat = 60.0 / p["tempo"]
    k = np.arange(1, _n_harmonics(p["root"] * 8, sr, 8000) + 1)
    table = _harmonic_table(k ** -p["tilt"], rng)
    scale = np.array(p["scale"])

    if p["singer"]:  # a voice with vibrato: confusable with children_playing
        kf = np.arange(1, _n_harmonics(p["root"] * 4, sr, 6000) + 1) * p["root"] * 2.5
        f1, f2 = p["formants"]
        voice = _harmonic_table(
            (1 / np.arange(1, len(kf) + 1))
            * (0.3 + 3 * np.exp(-(((kf - f1) / 250) ** 2)) + 2 * np.exp(-(((kf - f2) / 450) ** 2))),
            rng,
        )

    def note(start, length, degree, level, sung=False):
        octave, step = divmod(int(degree), 7)
        f = p["root"] * 2.0 ** (octave + scale[step] / 12.0)
        i0, i1 = int(start * sr), min(n, int((start + length) * sr))
        if i1 - i0 < 16 or f * k[0] > 0.45 * sr:
            return
        m = i1 - i0
        if sung:
            t = _times(m, sr)
            freq = f * (1 + p["vib_depth"] * np.sin(np.float32(2 * np.pi * p["vib_rate"]) * t))
            env = _gate(m, sr, [(0, m / sr)], 0.04, 0.08)
            x[i0:i1] += level * env * _osc(voice, freq, m, sr, rng.random())
            return
        if p["pluck"]:
            env = _decay(m, sr, p["tau"], attack=0.004)
        else:
            env = _gate(m, sr, [(0, m / sr)], 0.03, 0.05)
        x[i0:i1] += level * env * _osc(table, f, m, sr, rng.random())

    offset = -rng.uniform(0, beat)
    n_beats = int((total - offset) / beat) + 1
    chord_degrees = (0, 3, 4, 5)
    melody = int(rng.integers(7, 14))
    for b in range(n_beats):
        t = offset + b * beat
        chord = chord_degrees[int(rng.integers(4))] if b % 2 == 0 else chord
        if p["chords"] and b % 2 == 0:
            for d in (0, 2, 4):
                note(max(t, 0), 2 * beat, chord + d + 7, 0.5)
        if p["bass"]:
            note(max(t, 0), beat * 0.9, chord, 0.8)
        if p["melody"] or not p["chords"]:
            for half in (0, 1):
                if rng.random() < 0.75:
                    melody = int(np.clip(melody + rng.integers(-2, 3), 7, 20))
                    note(max(t + half * beat / 2, 0), beat / 2 * rng.uniform(0.8, 1.0), melody, 0.7)
        if p["singer"] and b % 2 == 0 and rng.random() < 0.8:
            note(max(t, 0), 2 * beat * rng.uniform(0.6, 0.95), int(rng.integers(7, 12)), 1.0, sung=True)
    if p["drums"]:
        m = min(n, int(0.15 * sr))
        kick = _sine(np.linspace(p["kick_f"] * 2, p["kick_f"], m), m, sr) * _decay(m, sr, 0.05, 0.002)
        beats = offset + np.arange(n_beats) * beat
        x += 0.8 * _impulses(n, sr, beats, np.ones(len(beats)), kick)
        hat_m = min(n, int(0.03 * sr))
        hat = _noise(rng, hat_m, sr, lo=6000) * _decay(hat_m, sr, 0.008)
        halves = offset + beat / 2 + np.arange(n_beats) * beat
        x += 0.3 * _impulses(n, sr, halves, np.ones(len(halves)), hat)
    return x


_SIGNATURES = (
    (_params_air_conditioner, _air_conditioner),
    (_params_car_horn, _car_horn),
    (_params_children_playing, _children_playing),
    (_params_dog_bark, _dog_bark),
    (_params_drilling, _drilling),
    (_params_engine_idling, _engine_idling),
    (_params_gun_shot, _gun_shot),
    (_params_jackhammer, _jackhammer),
    (_params_siren, _siren),
    (_params_street_music, _street_music),
)


def _params_background(rng):
    return {
        "slope": rng.uniform(-6, -1.5), "lo": rng.uniform(20, 80), "hi": rng.uniform(2500, 16000),
        "traffic": rng.random() < 0.4, "traffic_hi": rng.uniform(150, 500), "traffic_db": rng.uniform(-6, 6),
        "sway_rate": rng.uniform(0.05, 0.5), "sway": rng.uniform(0.0, 0.5),
        "distractors_per_s": rng.uniform(0.0, 0.3),
    }


def _background(rng, p, n, sr):
    x = _noise(rng, n, sr, slope=p["slope"], lo=p["lo"], hi=p["hi"])
    if p["traffic"]:
        x = x + _db(p["traffic_db"]) * _noise(rng, n, sr, slope=-3, lo=20, hi=p["traffic_hi"])
    t = _times(n, sr)
    x *= 1 + p["sway"] * np.sin(np.float32(2 * np.pi * p["sway_rate"]) * t + np.float32(rng.uniform(0, 6.3)))
    return _unit(x)


def _distractors(rng, p, n, sr, class_id):
    """Faint sounds of other classes, as in real street recordings (or None)."""
    total = n / sr
    count = rng.poisson(p["distractors_per_s"] * total)
    if count == 0:
        return None
    x = np.zeros(n, dtype=np.float32)
    for _ in range(count):
        other = int(rng.choice([c for c in range(N_CLASSES) if c != class_id]))
        params_of, render = _SIGNATURES[other]
        length = min(n, int(rng.uniform(0.3, 2.0) * sr))
        i0 = int(rng.integers(0, n - length + 1))
        x[i0:i0 + length] += _db(rng.uniform(-20, -6)) * _unit(render(rng, params_of(rng), length, sr, True))
    return x


# --------------------------------------------------------------------------- #
# Rendering and writing one recording
# --------------------------------------------------------------------------- #


def _wav_bytes(data: np.ndarray, sr: int, subtype: str) -> bytes:
    """Encode a WAV file; the timestamp libsndfile puts in a PEAK chunk is zeroed so
    that the bytes depend on the samples only."""
    buffer = io.BytesIO()
    sf.write(buffer, data, sr, subtype=subtype, format="WAV")
    raw = bytearray(buffer.getvalue())
    pos = 12  # after "RIFF" <size> "WAVE"
    while pos + 8 <= len(raw):
        chunk, size = bytes(raw[pos:pos + 4]), int.from_bytes(raw[pos + 4:pos + 8], "little")
        if chunk == b"PEAK" and size >= 8:
            raw[pos + 12:pos + 16] = b"\0\0\0\0"  # version (4 bytes), then timestamp
        if chunk == b"data":
            break
        pos += 8 + size + (size & 1)
    return bytes(raw)


def _render_recording(job: dict, audio_root: str) -> int:
    """Synthesise and write every slice of one recording; return the clips written."""
    sr, channels, class_id = job["sample_rate"], job["channels"], job["classID"]
    rng = np.random.default_rng(np.random.SeedSequence(job["seed"], spawn_key=(_AUDIO_STREAM, job["fsID"])))
    params_of, render = _SIGNATURES[class_id]
    params = params_of(rng)
    background = _params_background(rng)
    peak_db = rng.uniform(*_PEAK_DBFS)
    pan = rng.uniform(-0.6, 0.6)
    delay = int(round(rng.uniform(-0.8e-3, 0.8e-3) * sr))
    rho = rng.uniform(0.3, 0.9)
    folder = os.path.join(audio_root, f"fold{job['fold']}")

    for clips in job["occurrences"]:
        t_first = min(clip["start"] for clip in clips)
        offsets = [int(round((clip["start"] - t_first) * sr)) for clip in clips]
        n = max(o + clip["n_frames"] for o, clip in zip(offsets, clips))
        short = len(clips) == 1 and clips[0]["n_frames"] < round(CLIP_SECONDS * sr)

        source = _unit(render(rng, params, n, sr, short))
        extra = _distractors(rng, background, n, sr, class_id)
        if extra is not None:
            source = source + extra
        noise = _background(rng, background, n, sr)
        noise_gain = np.float32(_db(-rng.uniform(*_SNR_DB[clips[0]["salience"]])))
        if channels == 1:
            mix = (source + noise_gain * noise)[:, None]
        else:
            angle = (pan + 1) * np.pi / 4
            right = np.zeros_like(source)
            if delay >= 0:
                right[delay:] = source[:n - delay]
            else:
                right[:delay] = source[-delay:]
            noise_right = rho * noise + math.sqrt(1 - rho**2) * np.roll(noise, n // 2 + 1)
            mix = np.stack(
                [math.sqrt(2) * math.cos(angle) * source + noise_gain * noise,
                 math.sqrt(2) * math.sin(angle) * right + noise_gain * noise_right],
                axis=1,
            ).astype(np.float32, copy=False)
        peak = float(np.abs(mix).max())
        target = _db(min(0.0, peak_db + rng.uniform(-2.0, 2.0)))
        mix *= np.float32(target / peak if peak > 0 else 1.0)

        for offset, clip in zip(offsets, clips):
            data = mix[offset:offset + clip["n_frames"]]
            with open(os.path.join(folder, clip["slice_file_name"]), "wb") as handle:
                handle.write(_wav_bytes(data, sr, job["subtype"]))
    return sum(len(clips) for clips in job["occurrences"])


def _jobs(plan: pd.DataFrame, seed: int) -> list[dict]:
    """One job per recording, largest first (better load balance)."""
    plan = plan.assign(occurrence=plan["slice_file_name"].str.split("-").str[2].astype(int))
    jobs = []
    for fs_id, rows in plan.groupby("fsID", sort=True):
        first = rows.iloc[0]
        occurrences = [
            group.sort_values("start")[["slice_file_name", "start", "n_frames", "salience"]]
            .to_dict("records")
            for _, group in rows.groupby("occurrence", sort=True)
        ]
        jobs.append(
            {
                "seed": seed, "fsID": int(fs_id), "classID": int(first["classID"]),
                "fold": int(first["fold"]), "sample_rate": int(first["sample_rate"]),
                "channels": int(first["channels"]), "subtype": str(first["subtype"]),
                "occurrences": occurrences,
                "cost": float((rows["n_frames"] * rows["channels"]).sum()),
            }
        )
    jobs.sort(key=lambda job: -job["cost"])
    return jobs


def _prepare_folder(root: Path, overwrite: bool) -> None:
    if root.exists() and not root.is_dir():
        raise StoreExistsError(
            f"{root} exists and is not a folder. Pick another folder for the synthetic data set."
        )
    if root.is_dir() and any(root.iterdir()):
        if not overwrite:
            raise StoreExistsError(
                f"{root} already exists and is not empty. Pass overwrite=True "
                f"(--overwrite on the command line) to replace the synthetic data set in it, "
                f"or pick another folder."
            )
        # Old metadata first: an interrupted run then has no CSV and is recognisable.
        (root / METADATA_CSV).unlink(missing_ok=True)
        for fold in FOLDS:
            for old in (root / AUDIO_DIR / f"fold{fold}").glob("*.wav"):
                old.unlink()
    (root / METADATA_CSV).parent.mkdir(parents=True, exist_ok=True)
    for fold in FOLDS:
        (root / AUDIO_DIR / f"fold{fold}").mkdir(parents=True, exist_ok=True)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write to a temp file beside ``path``, then rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def make_synthetic_dataset(
    out_dir: str | os.PathLike,
    *,
    n_clips: int | None = None,
    full: bool = False,
    seed: int = 0,
    overwrite: bool = False,
    n_jobs: int = 1,
    progress: bool = True,
) -> Path:
    """Write a synthetic data set in the original UrbanSound8K layout.

    Writes ``out_dir/audio/fold1`` ... ``fold10`` with one WAV file per clip, then,
    last, ``out_dir/metadata/UrbanSound8K.csv`` (via a temp file renamed into place):
    a folder without that CSV is an interrupted run. What the data imitates is
    described in the module docstring. The full-size set takes about 6.8 GB.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Root of the data set. Created if missing; must be empty unless
        ``overwrite=True``.
    n_clips : int or None, default=None
        Number of clips, at least 10; the real per-fold and per-class proportions
        are kept and, from 100 clips, every class is in every fold. None means
        :data:`DEFAULT_N_CLIPS` (1000) unless ``full=True``.
    full : bool, default=False
        Write exactly the real per-fold and per-class counts (8,732 clips).
        Cannot be combined with ``n_clips``.
    seed : int, default=0
        Seed of everything random. The same seed gives byte-identical files and
        CSV, whatever ``n_jobs``.
    overwrite : bool, default=False
        Allow a non-empty ``out_dir``: its metadata CSV and the ``*.wav`` files in
        its ``audio/fold1`` ... ``fold10`` folders are deleted first; nothing else is
        touched.
    n_jobs : int, default=1
        Worker processes (joblib semantics: -1 means all cores).
    progress : bool, default=True
        Show a progress bar (tqdm, on stderr).

    Returns
    -------
    root : pathlib.Path
        ``out_dir``, the data set root (the folder that holds ``metadata/`` and
        ``audio/``).

    Raises
    ------
    StoreExistsError
        If ``out_dir`` is a file, or a non-empty folder and ``overwrite`` is False.
    ValueError
        If an argument is invalid (see :func:`plan_synthetic_metadata`),
        ``n_jobs`` is not a non-zero int, or ``overwrite`` or ``progress`` is not
        a bool.

    See Also
    --------
    plan_synthetic_metadata : The rows and formats, without writing audio.
    """
    plan = plan_synthetic_metadata(n_clips=n_clips, full=full, seed=seed)
    if not _is_int(n_jobs) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero int (-1 for all cores), got {n_jobs!r}.")
    for name, value in (("overwrite", overwrite), ("progress", progress)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}.")
    root = Path(out_dir)
    _prepare_folder(root, bool(overwrite))

    jobs = _jobs(plan, int(seed))
    audio_root = str(root / AUDIO_DIR)
    with tqdm(total=len(plan), unit="clip", desc="synthetic UrbanSound8K", disable=not progress) as bar:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_render_recording)(job, audio_root) for job in jobs
        )
        for written in results:
            bar.update(written)

    _write_csv(plan[list(METADATA_COLUMNS)], root / METADATA_CSV)
    return root
