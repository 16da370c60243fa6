"""Building a feature store: decode every clip once, in parallel, and write it where nothing can be lost.

Worker threads decode and featurise batches of clips (:mod:`featstore.decode`),
or the workers of a Dask cluster do (:mod:`featstore.cluster`); the main thread
writes them. (Each source checks its metadata when it is opened, before any
decoding.) What makes a build safe to interrupt, kill, run twice at once or run
out of disk lives in its own modules:

* :mod:`featstore.output`: the work folder beside the output, the free-space check
  before decoding, and the final step, which never replaces a store the build was
  not asked to replace;
* :mod:`featstore.writer`: the store file, laid out before decoding so that a
  killed build's file can be checked and reused, and a failed write that cannot
  crash the process;
* :mod:`featstore.checkpoint`: the journal of finished batches, and ``resume``;
* :mod:`featstore.interrupt`: SIGINT and SIGTERM (command line only).
"""

import contextlib
import dataclasses
import datetime
import functools
import platform
import time
from collections import Counter
from itertools import islice
from pathlib import Path

import numpy as np

from . import interrupt
from ._validation import check_bool, check_n_jobs, check_positive_int, effective_n_jobs
from .checkpoint import Journal, Progress, journal_header, table_digest, take_over
from .config import FeatureConfig
from .decode import in_threads, one_thread_per_worker, process_batch
from .exceptions import BuildError, Interrupted, InvalidParameterError
from .output import (
    check_free_space, existing_store, open_work_folder, publish, remove_dead_work_folders, write_error,
)
from .sources.base import FOLD
from .writer import StoreWriter, store_size

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
    clips_per_fold : dict
        Clips stored per fold, in the dataset's fold order.
    rejected : list of dict
        One dict per clip left out: ``file``, ``fold``, ``class``, ``reason``.
    seconds : float
        Wall-clock time of the build.
    n_reused : int
        Clips (stored or rejected) taken over from an interrupted build (``resume=True``).
    clip_seconds : float or None
        The length every clip was cut or padded to, and ``clip_length_from``,
        where it came from (``"the UrbanSound8K layout"``, ``"the feature configuration"``).
    n_cropped, n_padded : int
        Stored clips longer (cropped) or shorter (padded) than ``clip_seconds``.
    unlisted : list of str
        Audio files beside the dataset's that its metadata does not list (not built).
    n_classes : int
        Classes of the store.
    """

    path: Path
    n_source_clips: int
    n_stored: int
    clips_per_fold: dict
    rejected: list
    seconds: float
    n_reused: int = 0
    clip_seconds: float | None = None
    clip_length_from: str = ""
    n_cropped: int = 0
    n_padded: int = 0
    unlisted: list = dataclasses.field(default_factory=list)
    n_classes: int = 0

    @property
    def clips_per_second(self) -> float:
        """Clips processed by this run per second (reused clips not counted)."""
        done = self.n_source_clips - self.n_reused
        return done / self.seconds if self.seconds > 0 else float("nan")

    def format(self) -> str:
        """A short human-readable report."""
        lines = [
            f"Built {self.path}: {self.n_stored} of {self.n_source_clips} clips stored "
            f"in {self.seconds:.1f} s ({self.clips_per_second:.0f} clips/s).",
            "Clips per fold: " + ", ".join(f"{k}: {v}" for k, v in self.clips_per_fold.items())
            + (f"; {self.n_classes} classes." if self.n_classes else ""),
        ]
        if self.clip_seconds is not None:
            lines.append(f"Clip length {self.clip_seconds:g} s ({self.clip_length_from}): {self.n_cropped} clips "
                         f"cropped, {self.n_padded} padded" + (" (set --clip-seconds to change it)." if
                                                               self.n_cropped > self.n_stored / 2 else "."))
        if self.n_reused:
            lines.insert(1, f"Resumed: {self.n_reused} clips were taken over from an interrupted build.")
        if self.unlisted:
            shown = ", ".join(self.unlisted[:3]) + (", ..." if len(self.unlisted) > 3 else "")
            lines.append(f"Not built: {len(self.unlisted)} audio files that the metadata does not list ({shown}).")
        if self.rejected:
            lines.append(f"Skipped {len(self.rejected)} clips:")
            lines += [f"  {n} x {kind}" for kind, n in _reason_counts(self.rejected)]
            for r in self.rejected[:20]:
                lines.append(f"    fold {r['fold']} {r['file']}: {r['reason']}")
            if len(self.rejected) > 20:
                lines.append(f"    ... and {len(self.rejected) - 20} more (FeatureStore(path).rejected())")
        else:
            lines.append("Skipped no clips.")
        return "\n".join(lines)


def _reason_counts(rejected: list) -> list:
    """``[(kind, count)]`` of the rejection reasons, most common first ("file not found", ...)."""
    return Counter(r["reason"].split(":")[0].split(" (")[0] for r in rejected).most_common()


def _fold_slices(rows):
    """``(fold, slice)`` for each run of consecutive rows of one fold."""
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][FOLD] != rows[start][FOLD]:
            yield rows[start][FOLD], slice(start, i)
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
    resume: bool = False,
    progress: bool = True,
    client=None,
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
        Replace the store at ``out``. Without it an existing file is an error, and
        so is one that appears at ``out`` while the build runs; with it, so is one
        that replaces the store at ``out`` meanwhile (another build's).
    strict : bool, default=False
        Fail on the first rejected clip or metadata row instead of skipping it.
    resume : bool, default=False
        Take over the work of an interrupted build of ``out`` (killed, or
        interrupted with ``resume=True``) if it was of the same source table,
        configuration and batch size, and keep this build's work if it is
        interrupted (:class:`~featstore.exceptions.Interrupted`). The store equals
        an uninterrupted build's.
    progress : bool, default=True
        Show a progress bar.
    client : distributed.Client, optional
        Decode on this Dask cluster's workers instead of local threads (``n_jobs``
        is then unused); the store is the same. The workers must reach the
        source's audio files by the same absolute paths (sources holding the
        audio bytes ship them). See :mod:`featstore.cluster`.

    Returns
    -------
    BuildSummary

    Raises
    ------
    BuildError
        If no clip can be stored (nothing is written then), or with ``strict=True``
        if any clip or metadata row is rejected.
    StoreExistsError
        If ``out`` exists and ``overwrite`` is False, or another file took its place
        during the build (this build's store is discarded).
    DiskFullError
        If the store does not fit (checked before decoding), or a write fails for lack of room.
    OutputError
        If ``out`` cannot be written: a read-only folder, a file on its path.
    InvalidParameterError
        If ``config``, ``n_jobs``, ``batch_size`` or ``resume`` is invalid.

    Notes
    -----
    Whatever ends a build early (an error, an exception, SIGKILL), nothing is
    written to ``out`` and an existing store there is untouched. The work folder
    beside it is removed, except after SIGKILL (the next build of ``out`` removes
    or reuses it) or an interruption with ``resume=True``.

    A resumed build equals an uninterrupted one bit for bit only if torch's matrix
    products are reproducible: set ``MKL_CBWR=AUTO,STRICT`` in the environment
    before the process's first torch computation (``python -m featstore build``
    does; see :mod:`featstore._blas`).

    ``python -m featstore build`` also tells glibc to keep freed buffers for reuse
    instead of returning them to the system after every clip, which makes a build
    about a sixth faster. That setting holds for the whole process, so this function
    leaves it to its caller; a script can get the same with the environment variables
    ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456``.
    """
    if config is None:
        config = FeatureConfig() if source.clip_seconds is None else FeatureConfig(clip_seconds=source.clip_seconds)
    if not isinstance(config, FeatureConfig):
        raise InvalidParameterError(f"config must be a FeatureConfig, got {config!r}.")
    n_jobs, batch_size = check_n_jobs(n_jobs), check_positive_int(batch_size, "batch_size")
    resume = check_bool(resume, "resume")
    out = Path(out)
    replaces = existing_store(out, overwrite)
    n_source = len(source)
    if not resume:  # (resuming, the space needed is known once the work to reuse is)
        remove_dead_work_folders(out)
        check_free_space(out.parent, store_size(config, n_source), f"a store of {n_source} clips")
    # The metadata rows set aside when the source was opened. (Asking for them makes
    # synthetic data generate its audio, which the build's time does not count.)
    rejected = list(source.rejected)
    _fail_if_strict(strict, rejected)
    if len(rejected) == n_source:
        raise BuildError(_nothing_stored(n_source, rejected))
    counts = Counter(row[FOLD] for row in source.rows.values())
    planned = {fold: counts[fold] for fold in source.folds if counts[fold]}
    needed = store_size(config, sum(planned.values()))
    attributes = {
        "class_names": tuple(source.class_names), "class_ids": source.class_ids, "layout": source.layout,
        "columns": source.columns.as_dict(),
        "metadata_columns": dict(source.schema), "source": source.description, "source_info": source.info,
        "versions": _versions(), "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    header = journal_header(
        config=config.to_json(), batch_size=batch_size, source=source.description, source_info=source.info,
        table=table_digest(source.rows, rejected), planned=list(planned.items()),
        dataset={k: attributes[k] for k in ("class_names", "class_ids", "layout", "columns", "metadata_columns")},
    )
    open_writer = functools.partial(StoreWriter, config=config, planned=planned, attributes=attributes, out=out,
                                    needed=needed)
    features = tuple(config.stored_features)
    reopen = functools.partial(StoreWriter.reopen, **open_writer.keywords)
    taken = take_over(out, header, features, reopen) if resume else None
    folder, writer, done, keep_bytes = taken or (None, None, Progress(features), None)
    if resume:
        remaining = sum(planned.values()) - done.n_stored - len(done.rejected)
        check_free_space(out.parent, store_size(config, remaining), f"the {remaining} clips left of a store")
    n_reused = done.n_stored + len(done.rejected)
    started = time.perf_counter()
    with open_work_folder(out, reuse=folder) as work:
        journal = None
        try:
            writer = writer or open_writer(work.path / out.name)
            try:
                journal = Journal(work.path, header, keep_bytes=keep_bytes)
            except OSError as exc:
                raise write_error(out, exc, needed) from exc
            _decode_and_write(source, config, n_jobs, client, batch_size, strict, progress, rejected, writer, journal,
                              done)
            if not done.n_stored:
                raise BuildError(_nothing_stored(n_source, rejected + done.rejected))
            writer.finish(done.clips(), rejected + done.rejected, n_source)
            interrupt.check()
            publish(work.path / out.name, out, replaces)
        except BaseException as exc:
            if resume and isinstance(exc, Interrupted):
                work.keep, exc.kept = True, done.n_stored + len(done.rejected)
            _stop(writer, journal, work.keep)
            raise
        journal.close()
    durations = np.array([row["orig_duration"] for rows in done.rows.values() for row in rows])
    tolerance = 0.5 / config.sample_rate  # a length within half an output sample is the clip length
    return BuildSummary(
        path=out,
        n_source_clips=n_source,
        n_stored=done.n_stored,
        clips_per_fold={fold: len(done.rows[fold]) for fold in planned if done.rows.get(fold)},
        rejected=rejected + done.rejected,
        seconds=time.perf_counter() - started,
        n_reused=n_reused,
        clip_seconds=config.clip_seconds,
        clip_length_from=_clip_length_from(source, config),
        n_cropped=int((durations > config.clip_seconds + tolerance).sum()),
        n_padded=int((durations < config.clip_seconds - tolerance).sum()),
        unlisted=list(source.unlisted),
        n_classes=len(source.class_names),
    )


LAYOUT_NAMES = {"urbansound8k": "UrbanSound8K", "esc50": "ESC-50", "esc10": "ESC-10", "table": "table of clips",
                "folders": "class folders"}


def _clip_length_from(source, config) -> str:
    """Where a build's clip length came from, in words."""
    if source.clip_seconds is not None and config.clip_seconds == source.clip_seconds:
        return f"{LAYOUT_NAMES.get(source.layout, source.layout)}'s clip length"
    if config.clip_seconds == FeatureConfig().clip_seconds:
        return "the default"
    return "as configured"


def _stop(writer, journal, keep: bool):
    """After a failure: close what the build had open, with no error of its own hiding the failure's.

    A file whose work is not kept is abandoned rather than closed: closing writes,
    and after a full disk or an I/O error that write would fail too.
    """
    with contextlib.suppress(Exception):
        if journal is not None:
            journal.close()
    with contextlib.suppress(Exception):
        if writer is not None and keep:
            writer.close()
        elif writer is not None:
            writer.abandon()


@contextlib.contextmanager
def _decoded(config, batches, n_jobs, client):
    """The decoded batches, in order: from a Dask cluster's workers, or from local threads."""
    if client is not None:
        from .cluster import on_cluster

        with on_cluster(client, config, batches) as results:
            yield results
        return
    # Threads, not processes: decoding (libsndfile), resampling and the features
    # (torch) release the GIL, so threads use every core without copying each
    # clip's features between processes. (Not so the views: librosa's pitch shift
    # and time stretch hold it for part of their work, and two worker processes,
    # `--scheduler local`, built them 1.4 times faster than two threads.)
    with one_thread_per_worker(), in_threads(functools.partial(process_batch, config=config), batches,
                                             effective_n_jobs(n_jobs)) as results:
        yield results


def _decode_and_write(source, config, n_jobs, client, batch_size, strict, progress, rejected, writer, journal, done):
    """Decode the batches not done yet, write them, and record each one in the journal."""
    from tqdm.auto import tqdm

    batches = islice(_batches(source, batch_size), done.batches, None)
    n_done = len(rejected) + done.n_stored + len(done.rejected)
    with _decoded(config, batches, n_jobs, client) as results, \
            tqdm(total=len(source), initial=n_done, unit="clip", desc="build", disable=not progress) as bar:
        for features, rows, batch_rejected, digests in results:
            interrupt.check()
            _fail_if_strict(strict, rejected + done.rejected + batch_rejected)
            for fold, part in _fold_slices(rows):
                writer.write(fold, done.count(fold), {k: v[part] for k, v in features.items()})
                done.add(fold, rows[part], {k: v[part] for k, v in digests.items()})
            done.rejected.extend(batch_rejected)
            writer.flush()
            clips = [(row[FOLD], row, {k: int(v[i]) for k, v in digests.items()}) for i, row in enumerate(rows)]
            try:
                journal.record(done.batches, clips, batch_rejected)
            except OSError as exc:
                raise write_error(writer.out, exc, writer.needed) from exc
            done.batches += 1
            bar.update(len(rejected) + done.n_stored + len(done.rejected) - bar.n)


def _nothing_stored(n_source: int, rejected: list) -> str:
    if n_source == 0:
        return "The source has no clips: its metadata has no rows. Nothing was written."
    first = rejected[0]
    kinds = ", ".join(f"{n} x {kind}" for kind, n in _reason_counts(rejected))
    return (
        f"No clip could be stored: {n_source} of {n_source} clips were rejected ({kinds}). The "
        f"first: {first['file']} (fold {first['fold']}): {first['reason']}. Nothing was written."
    )


def _fail_if_strict(strict: bool, rejected: list):
    if strict and rejected:
        r = rejected[0]
        raise BuildError(
            f"strict build: clip {r['file']} (fold {r['fold']}) was rejected: {r['reason']}. "
            f"Fix or remove it, or build without strict to skip rejected clips."
        )
