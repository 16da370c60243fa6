"""Synthetic UrbanSound8K: a generated stand-in with the real dataset's layout and quirks.

The real UrbanSound8K (see :mod:`featstore.urbansound8k`) cannot be shipped with
the project nor downloaded everywhere, yet the code that reads, decodes and learns
from it must be exercised end to end. This package writes a data set that looks like
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

The package: :mod:`~featstore.synth.plan` draws the metadata and formats,
:mod:`~featstore.synth.signals` holds the signal building blocks,
:mod:`~featstore.synth.signatures` the ten class signatures,
:mod:`~featstore.synth.render` renders and encodes one recording,
:mod:`~featstore.synth.dataset` writes the whole data set and
:mod:`~featstore.synth.source` offers it to :func:`~featstore.build_store` as a
source (``open_source("synthetic:500", seed=1)``).

Examples
--------
>>> from featstore.synth import make_synthetic_dataset, plan_synthetic_metadata
>>> plan = plan_synthetic_metadata(full=True)  # the rows, without audio
>>> len(plan)
8732
>>> root = make_synthetic_dataset("synthetic-us8k", n_clips=200)  # doctest: +SKIP
"""

from __future__ import annotations

from .dataset import make_synthetic_dataset
from .plan import DEFAULT_N_CLIPS, FORMAT_COLUMNS, plan_synthetic_metadata
from .source import SyntheticSource

__all__ = [
    "DEFAULT_N_CLIPS",
    "FORMAT_COLUMNS",
    "SyntheticSource",
    "make_synthetic_dataset",
    "plan_synthetic_metadata",
]
