"""Building a feature store: decode every clip once, in parallel, and write it.

Worker threads (joblib) decode, mix down, resample, pad or crop and compute the
features of a batch of clips; the main thread writes. (Each source checks its
metadata when it is opened, before any decoding.) The store is written to a
temporary file beside the target and renamed into place when complete, so an
interrupted build never leaves a half-written store.
"""

import contextlib
import dataclasses
import datetime
import os
import platform
import shutil
import tempfile
import time
from collections import Counter
from itertools import islice
from pathlib import Path

import numpy as np

from ._validation import check_n_jobs, check_positive_int
from .audio import open_audio, read_frames
from .augment import augmented_log_mels
from .config import FeatureConfig
from .exceptions import BuildError, ClipError, InvalidParameterError, OutputError, StoreExistsError
from .metadata import rejection
from .store import StoreWriter
from .urbansound8k import CLASS_NAMES

__all__ = ["build_store", "BuildSummary"]


@dataclasses.dataclass
class BuildSummary:
    """What a build did.

    Attributes
    ----------
    path : Path
        The store written.
    n_source_clips : int
        Rows in the source metadata.
    n_stored : int
        Clips stored.
    clips_per_fold : dict of int to int
    rejected : list of dict
        One dict per clip left out: ``slice_file_name``, ``fold``, ``classID``,
        ``reason``.
    seconds : float
        Wall-clock time of the build.
    """

    path: Path
    n_source_clips: int
    n_stored: int
    clips_per_fold: dict
    rejected: list
    seconds: float

    @property
    def clips_per_second(self) -> float:
        return self.n_source_clips / self.seconds if self.seconds > 0 else float("nan")

    def format(self) -> str:
        """A short human-readable report."""
        lines = [
            f"Built {self.path}: {self.n_stored} of {self.n_source_clips} clips stored "
            f"in {self.seconds:.1f} s ({self.clips_per_second:.0f} clips/s).",
            "Clips per fold: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.clips_per_fold.items())),
        ]
        if self.rejected:
            lines.append(f"Skipped {len(self.rejected)} clips:")
            lines += [f"  {n} x {kind}" for kind, n in _reason_counts(self.rejected)]
            for r in self.rejected[:20]:
                lines.append(f"    fold {r['fold']} {r['slice_file_name']}: {r['reason']}")
            if len(self.rejected) > 20:
                lines.append(f"    ... and {len(self.rejected) - 20} more (FeatureStore(path).rejected())")
        else:
            lines.append("Skipped no clips.")
        return "\n".join(lines)


def _reason_counts(rejected: list) -> list:
    """``[(kind, count)]`` of the rejection reasons, most common first ("file not found", ...)."""
    return Counter(r["reason"].split(":")[0].split(" (")[0] for r in rejected).most_common()


# One extractor per worker process and configuration, built on first use.
_EXTRACTORS = {}


def _extractor(config: FeatureConfig):
    from .features import FeatureExtractor

    if config not in _EXTRACTORS:
        _EXTRACTORS[config] = FeatureExtractor(config)
    return _EXTRACTORS[config]


@contextlib.contextmanager
def _one_thread_per_worker():
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


def _decode(audio, config: FeatureConfig) -> tuple:
    """``(waveform, sample_rate, channels, n_frames)`` of one clip; of a long file, only the span kept is read."""
    from .features import crop_of, prepare_waveform

    with open_audio(audio) as f:
        crop = crop_of(f.frames, f.samplerate, config)
        samples = read_frames(f, crop.start, crop.stop)
        sample_rate, channels = f.samplerate, f.channels
        n_frames = len(samples) if crop.offset is None else f.frames
    return prepare_waveform(samples, sample_rate, config, crop=crop), sample_rate, channels, n_frames


def _process_batch(refs, config: FeatureConfig):
    """Decode and featurise a batch of clips, and compute their augmented views (runs in a worker thread).

    The clips come back grouped by fold (in source order within a fold), so that
    the writer stores each fold's part of the batch as a slice, without a copy.
    """
    import torch

    waveforms, rows, rejected = [], [], []
    for ref in sorted(refs, key=lambda ref: int(ref.row["fold"])):
        try:
            waveform, sample_rate, channels, n_frames = _decode(ref.audio, config)
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
        return {}, [], rejected
    batch = torch.stack(waveforms)
    extractor = _extractor(config)
    with torch.no_grad():
        logmel, mfcc_stats = extractor(batch)
        delta_stats = extractor.mfcc_delta_stats(logmel)
    features = {"waveform": batch.numpy(), "logmel": logmel.numpy(), "mfcc_stats": mfcc_stats.numpy(),
                "mfcc_delta_stats": delta_stats.numpy()}
    if config.augment:
        features["logmel_views"] = augmented_log_mels(batch, [row["slice_file_name"] for row in rows], extractor)
    # Finite input gives finite features; this guards against surprises all the same.
    finite = np.ones(len(rows), dtype=bool)
    for array in features.values():
        finite &= np.isfinite(array.reshape(len(rows), -1)).all(axis=1)
    if not finite.all():
        rejected += [rejection(r, "non-finite features") for r, ok in zip(rows, finite) if not ok]
        rows = [r for r, ok in zip(rows, finite) if ok]
        features = {k: v[finite] for k, v in features.items()}
    return features, rows, rejected


def _fold_slices(rows):
    """``(fold, slice)`` for each run of consecutive rows of one fold."""
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or int(rows[i]["fold"]) != int(rows[start]["fold"]):
            yield int(rows[start]["fold"]), slice(start, i)
            start = i


def _batches(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def _versions() -> dict:
    import h5py
    import soundfile
    import torch
    import torchaudio

    from . import __version__

    return {
        "featstore": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torchaudio": torchaudio.__version__,
        "h5py": h5py.__version__,
        "soundfile": soundfile.__version__,
        "libsndfile": soundfile.__libsndfile_version__,
    }


def build_store(
    source,
    out,
    *,
    config: FeatureConfig | None = None,
    n_jobs: int = -1,
    batch_size: int = 16,
    overwrite: bool = False,
    strict: bool = False,
    progress: bool = True,
) -> BuildSummary:
    """Decode every clip of a source once and write the feature store.

    Parameters
    ----------
    source : FolderSource, HuggingFaceSource or SyntheticSource
        From :func:`featstore.open_source`: its metadata rows are already checked,
        and the rows it set aside (``source.rejected``) are recorded as rejected.
    out : str or Path
        The store to write (an ``.h5`` file).
    config : FeatureConfig, optional
        Feature parameters, and the augmented views to store (``augment``); the
        defaults reproduce the reference notebook, without views.
    n_jobs : int, default=-1
        Worker threads for decoding, joblib's convention: -1 for one per core, or a
        positive count; 0 is an error.
    batch_size : int, default=16
        Clips per worker task; the features of a task are computed as one batch.
    overwrite : bool, default=False
        Replace an existing store at ``out``. Without it an existing file is an error.
    strict : bool, default=False
        Fail on the first rejected clip or metadata row instead of skipping it.
    progress : bool, default=True
        Show a progress bar.

    Returns
    -------
    BuildSummary

    Raises
    ------
    BuildError
        If no clip can be stored (nothing is written then), or with ``strict=True``
        if any clip or metadata row is rejected.
    StoreExistsError
        If ``out`` exists and ``overwrite`` is False.
    OutputError
        If ``out`` cannot be written: a read-only folder, a file on its path.
    InvalidParameterError
        If ``config``, ``n_jobs`` or ``batch_size`` is invalid.

    Notes
    -----
    ``python -m featstore build`` also tells glibc to keep freed buffers for reuse
    instead of returning them to the system after every clip, which makes a build
    about a sixth faster. That setting holds for the whole process, so this function
    leaves it to its caller; a script can get the same with the environment variables
    ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456``.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    config = FeatureConfig() if config is None else config
    if not isinstance(config, FeatureConfig):
        raise InvalidParameterError(f"config must be a FeatureConfig, got {config!r}.")
    n_jobs, batch_size = check_n_jobs(n_jobs), check_positive_int(batch_size, "batch_size")
    out = Path(out)
    if out.exists() and not overwrite:
        raise StoreExistsError(f"{out} already exists. Pass overwrite=True (--overwrite) to replace it, or choose another path.")
    if out.exists() and not out.is_file():
        raise StoreExistsError(f"{out} exists and is not a file; choose another path.")

    n_source = len(source)
    # The metadata rows set aside when the source was opened. (Asking for them makes
    # synthetic data generate its audio, which the build's time does not count.)
    rejected = list(source.rejected)
    _fail_if_strict(strict, rejected)
    if len(rejected) == n_source:
        raise BuildError(_nothing_stored(n_source, rejected))
    started = time.perf_counter()
    clips_per_fold = Counter()
    with _work_folder(out) as tmp_dir:
        writer = StoreWriter(
            tmp_dir / out.name, config, class_names=CLASS_NAMES, source=source.description, source_info=source.info,
            versions=_versions(), created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        )
        try:
            tasks = (delayed(_process_batch)(batch, config) for batch in _batches(source, batch_size))
            # Threads, not processes: decoding (libsndfile), resampling and the features
            # (torch) release the GIL, so threads use every core without copying each
            # clip's features between processes.
            parallel = Parallel(n_jobs=_effective_jobs(n_jobs), backend="threading", return_as="generator",
                                pre_dispatch="2*n_jobs")
            with _one_thread_per_worker(), tqdm(total=n_source, unit="clip", desc="build", disable=not progress) as bar:
                for features, rows, batch_rejected in parallel(tasks):
                    rejected.extend(batch_rejected)
                    _fail_if_strict(strict, rejected)
                    for fold, part in _fold_slices(rows):
                        writer.append(fold, {k: v[part] for k, v in features.items()}, rows[part])
                        clips_per_fold[fold] += part.stop - part.start
                    bar.update(len(rejected) + sum(clips_per_fold.values()) - bar.n)
            if not clips_per_fold:
                raise BuildError(_nothing_stored(n_source, rejected))
            writer.finish(rejected, n_source)
            os.replace(tmp_dir / out.name, out)
        finally:
            writer.close()
    return BuildSummary(
        path=out,
        n_source_clips=n_source,
        n_stored=sum(clips_per_fold.values()),
        clips_per_fold=dict(sorted(clips_per_fold.items())),
        rejected=rejected,
        seconds=time.perf_counter() - started,
    )


@contextlib.contextmanager
def _work_folder(out: Path):
    """A private temporary folder beside ``out``, created with any missing parent folders.

    The store is written inside it as a file HDF5 creates itself: a file created
    empty beforehand (mkstemp) and then opened with truncation makes ext4 write the
    whole store back to disk when it is closed, which cost 0.6 s of a 15 s build.
    The folder is always removed; so are the parent folders it needed, if the
    build fails, so that a failed build leaves nothing behind.
    """
    created = []  # missing parent folders, deepest first
    folder = out.parent.absolute()
    while not folder.exists() and folder != folder.parent:
        created.append(folder)
        folder = folder.parent
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as exc:
        _remove_empty_folders(created)
        raise OutputError(_cannot_write(out, exc)) from exc
    try:
        yield tmp_dir
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        _remove_empty_folders(created)
        raise
    shutil.rmtree(tmp_dir, ignore_errors=True)


def _remove_empty_folders(folders: list):
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _cannot_write(out: Path, exc: OSError) -> str:
    for folder in [out.parent, *out.parent.parents]:
        if folder.exists():
            if not folder.is_dir():
                return f"Cannot write {out}: {folder} is a file, not a folder. Choose another path."
            break
    return (
        f"Cannot write {out}: {exc.strerror or exc} ({exc.filename or out.parent}). "
        f"Choose a path in a folder you can write to."
    )


def _nothing_stored(n_source: int, rejected: list) -> str:
    if n_source == 0:
        return "The source has no clips: its metadata has no rows. Nothing was written."
    first = rejected[0]
    kinds = ", ".join(f"{n} x {kind}" for kind, n in _reason_counts(rejected))
    return (
        f"No clip could be stored: {n_source} of {n_source} clips were rejected ({kinds}). The "
        f"first: {first['slice_file_name']} (fold {first['fold']}): {first['reason']}. Nothing was written."
    )


def _fail_if_strict(strict: bool, rejected: list):
    if strict and rejected:
        r = rejected[0]
        raise BuildError(
            f"strict build: clip {r['slice_file_name']} (fold {r['fold']}) was rejected: {r['reason']}. "
            f"Fix or remove it, or build without strict to skip rejected clips."
        )


def _effective_jobs(n_jobs: int) -> int:
    from joblib import cpu_count

    return n_jobs if n_jobs > 0 else max(1, cpu_count() + 1 + n_jobs)
