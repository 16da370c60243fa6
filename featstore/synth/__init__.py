"""Synthetic UrbanSound8K and ESC-50: generated stand-ins with the real datasets' layouts and quirks.

The real UrbanSound8K (see :mod:`featstore.urbansound8k`) and ESC-50 (see
:mod:`featstore.esc50`) cannot be shipped with the project nor downloaded
everywhere, yet the code that reads, decodes and learns from them must be
exercised end to end. This package writes data sets that look like the real ones
to that code. For UrbanSound8K (the default, ``dataset="urbansound8k"``):

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

For ESC-50 (``dataset="esc50"``):

* the same layout: ``ROOT/meta/esc50.csv`` with the real columns
  (``filename, fold, target, category, esc10, src_file, take``; ``esc10`` written
  ``True``/``False``, rows sorted by file name) and ``ROOT/audio/*.wav`` named
  ``{fold}-{src_file}-{take}-{target}.wav``;
* the same 50 classes (real names and targets, ESC-10 marked) and 5 folds; with
  ``full=True`` the real 2,000 clips, 8 per class and fold; otherwise from 50 to
  2,000 clips (500 by default), every class with ``n_clips / 50`` clips, dealt
  in turn to the folds (every class in every fold from 250 clips);
* the same grouping: a synthetic recording (one ``src_file``, a Freesound-like
  id) gives one to eight takes (``A``, ``B`` ...; 1.5 on average), all in one
  fold and class, sharing their sound source, ambience and microphone colouring;
* the same format: every clip exactly 5 s, 44.1 kHz, mono, 16-bit PCM; about a
  fifth of the sounds are shorter and padded with digital silence, most often
  in classes of short events (barks, knocks, sneezes), almost never in
  continuous ones (rain, engines);
* 50 sounds that can be told apart, but not trivially: each class is a region of
  parameters of a procedural call, texture or impact train, or an UrbanSound8K
  signature moved elsewhere (see :mod:`~featstore.synth.esc50_signatures`),
  in a field ambience at 3 to 30 dB signal-to-noise ratio, coloured by a random
  microphone response; neighbouring classes overlap on purpose, and the
  measured confusions are those of the real data (cat, rooster and
  crying_baby; mouse_click and clock_tick; sea_waves and airplane;
  brushing_teeth and hand_saw; footsteps and door_wood_knock ...).

On the full 2,000-clip sets of seeds 0 and 1, MFCC mean and standard deviation
statistics (torchaudio ``MFCC(n_mfcc=20)``, 64 mel bands, 16 kHz, 5 s) with a
standardised logistic regression (``C=1``) reached 50 % and 53 % mean accuracy
over the five leave-one-fold-out splits (chance: 2 %; per class from 10-15 % for
dog to 90-97 % for siren and thunderstorm), and 40 % on the default 500-clip set
(seed 0). Accuracy figures on this data say nothing about accuracy on the real
ESC-50 (for scale there: Piczak's CNN 64.5 %, human listeners 81.3 %). The
full-size set takes about 0.85 GB and about 100 s of one core's time.

Everything is deterministic: the same ``seed`` gives byte-identical files and CSV,
whatever ``n_jobs``.

The package: :mod:`~featstore.synth.plan` draws the metadata and formats
(:mod:`~featstore.synth.esc50_plan` for ESC-50),
:mod:`~featstore.synth.signals` holds the signal building blocks,
:mod:`~featstore.synth.signatures` the ten UrbanSound8K class signatures,
:mod:`~featstore.synth.esc50_families` and
:mod:`~featstore.synth.esc50_signatures` the fifty ESC-50 ones,
:mod:`~featstore.synth.render` and :mod:`~featstore.synth.esc50_render` render
and encode one recording, :mod:`~featstore.synth.dataset` writes the whole data
set and :mod:`~featstore.synth.source` offers it to
:func:`~featstore.build_store` as a source (``open_source("synthetic:500",
seed=1)``, or ``SyntheticSource(dataset="esc50")``).

Examples
--------
>>> from featstore.synth import make_synthetic_dataset, plan_synthetic_metadata
>>> plan = plan_synthetic_metadata(full=True)  # the rows, without audio
>>> len(plan)
8732
>>> root = make_synthetic_dataset("synthetic-us8k", n_clips=200)  # doctest: +SKIP
>>> len(plan_synthetic_metadata(full=True, dataset="esc50"))
2000
>>> root = make_synthetic_dataset("synthetic-esc50", dataset="esc50")  # doctest: +SKIP
"""

from __future__ import annotations

from .dataset import make_synthetic_dataset
from .plan import DATASETS, DEFAULT_N_CLIPS, FORMAT_COLUMNS, plan_synthetic_metadata
from .source import SyntheticSource

__all__ = [
    "DATASETS",
    "DEFAULT_N_CLIPS",
    "FORMAT_COLUMNS",
    "SyntheticSource",
    "make_synthetic_dataset",
    "plan_synthetic_metadata",
]
