"""Decoding and featurising a batch of clips: what a build's worker threads run.

Each clip is decoded (only the span its centre crop keeps, for a long file), mixed
down, resampled, padded or cropped, and the batch's features are computed as one
torch batch (its augmented views clip by clip, :mod:`featstore.augment`), with
the digest of each clip's features (:mod:`featstore.digest`).
"""

import collections
import contextlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .audio import open_audio, read_frames
from .augment import augmented_log_mels
from .config import FeatureConfig
from .digest import digest_rows
from .exceptions import ClipError
from .sources.base import FILE, FOLD, rejection

__all__ = ["decode_clip", "in_threads", "one_thread_per_worker", "process_batch"]


# One extractor per worker process and configuration, built on first use.
_EXTRACTORS = {}


def _extractor(config: FeatureConfig):
    from .features import FeatureExtractor

    if config not in _EXTRACTORS:
        _EXTRACTORS[config] = FeatureExtractor(config)
    return _EXTRACTORS[config]


@contextlib.contextmanager
def one_thread_per_worker():
    """Limit torch and numpy's BLAS to one thread each for the duration of a build.

    The workers already use every core; threads of their own would only compete
    for them. numpy's BLAS threads (woken by the mono mix-down) spin between calls
    and halved the build's speed. And a clip's features must not depend on the
    number of workers: matrix products of some shapes round differently with one
    torch thread than with two.
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    with threadpool_limits(limits=1, user_api="blas"):
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def decode_clip(audio, config: FeatureConfig) -> tuple:
    """``(waveform, sample_rate, channels, n_frames)`` of one clip; of a long file, only the span kept is read."""
    from .features import crop_of, prepare_waveform

    with open_audio(audio) as f:
        crop = crop_of(f.frames, f.samplerate, config)
        samples = read_frames(f, crop.start, crop.stop)
        sample_rate, channels = f.samplerate, f.channels
        n_frames = len(samples) if crop.offset is None else f.frames
    return prepare_waveform(samples, sample_rate, config, crop=crop), sample_rate, channels, n_frames


def process_batch(refs, config: FeatureConfig):
    """Decode and featurise a batch of clips, and compute their augmented views (runs in a worker thread).

    Returns
    -------
    features : dict of str to ndarray
        Each feature of ``config.stored_features`` of the clips kept, ``(n, ...)``;
        ``{}`` if none was.
    rows : list of dict
        Their metadata rows, grouped by fold (folds in the order they first
        appear, the source's order within a fold), so that the writer stores
        each fold's part of the batch as a slice, without a copy.
    rejected : list of dict
        The clips that could not be used, with the reason.
    digests : dict of str to ndarray
        Each feature's digest of each clip kept, ``(n,)`` uint64.
    """
    import torch

    waveforms, rows, rejected = [], [], []
    first_of = {}
    for ref in refs:
        first_of.setdefault(ref.row[FOLD], len(first_of))
    for ref in sorted(refs, key=lambda ref: first_of[ref.row[FOLD]]):
        try:
            waveform, sample_rate, channels, n_frames = decode_clip(ref.audio, config)
        except ClipError as exc:
            rejected.append(rejection(ref.row, str(exc)))
            continue
        waveforms.append(waveform)
        rows.append(
            {
                **ref.row,
                "orig_sample_rate": sample_rate,
                "orig_channels": channels,
                "orig_duration": n_frames / sample_rate,
            }
        )
    if not rows:
        return {}, [], rejected, {}
    batch = torch.stack(waveforms)
    extractor = _extractor(config)
    with torch.no_grad():
        logmel, mfcc_stats = extractor(batch)
        delta_stats = extractor.mfcc_delta_stats(logmel)
    features = {"waveform": batch.numpy(), "logmel": logmel.numpy(), "mfcc_stats": mfcc_stats.numpy(),
                "mfcc_delta_stats": delta_stats.numpy()}
    if config.augment:
        features["logmel_views"] = augmented_log_mels(batch, [row[FILE] for row in rows], extractor)
    # Finite input gives finite features; this guards against surprises all the same.
    finite = np.ones(len(rows), dtype=bool)
    for array in features.values():
        finite &= np.isfinite(array.reshape(len(rows), -1)).all(axis=1)
    if not finite.all():
        rejected += [rejection(r, "non-finite features") for r, ok in zip(rows, finite) if not ok]
        rows = [r for r, ok in zip(rows, finite) if ok]
        features = {k: v[finite] for k, v in features.items()}
    return features, rows, rejected, {k: digest_rows(v) for k, v in features.items()}


@contextlib.contextmanager
def in_threads(function, tasks, n_threads: int):
    """``function(task)`` of each task, in order, as an iterator; ``n_threads`` threads compute them.

    At most ``2 * n_threads`` tasks are in flight. When the block ends, however it
    ends (an error, an interruption), the tasks not started are cancelled and the
    running ones are waited for: no thread outlives the block, so none is still
    inside torch or libsndfile when the process exits.
    """
    with ThreadPoolExecutor(n_threads, thread_name_prefix="featstore-decode") as pool:
        pending = collections.deque()

        def results():
            for task in tasks:
                pending.append(pool.submit(function, task))
                if len(pending) >= 2 * n_threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

        try:
            yield results()
        finally:
            for future in pending:
                future.cancel()
