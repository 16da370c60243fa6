"""Writing a synthetic data set: the folder, the recordings rendered in parallel, the CSV."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from .. import interrupt
from .._validation import check_bool, check_n_jobs
from ..exceptions import OutputError, StoreExistsError
from ..output import check_free_space
from ..urbansound8k import AUDIO_DIR, FOLDS, METADATA_COLUMNS, METADATA_CSV
from .plan import plan_synthetic_metadata
from .render import render_recording

__all__ = ["make_synthetic_dataset"]

_BYTES_PER_SAMPLE = {"PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "FLOAT": 4, "DOUBLE": 8}
_WAV_HEADER = 44


def dataset_size(plan: pd.DataFrame) -> int:
    """The bytes the WAV files of a plan take (and 1 MB for the CSV and the folders)."""
    samples = plan["n_frames"] * plan["channels"] * plan["subtype"].map(_BYTES_PER_SAMPLE)
    return int(samples.sum()) + _WAV_HEADER * len(plan) + 2**20


def _render_in_worker(job: dict, audio_root: str, parent: int) -> int:
    """:func:`render_recording`, in a worker process that follows the process that started it.

    A worker process outlived a parent killed by SIGKILL (joblib's workers wait
    minutes for more work): it now checks four times a second whether its parent
    is still there. And it leaves Ctrl-C, which a terminal sends to the whole
    process group, to its parent, which stops the workers (a worker interrupted
    inside soundfile's callbacks printed a traceback).
    """
    if os.getpid() != parent and os.getppid() == parent:
        _follow(parent)
    return render_recording(job, audio_root)


_FOLLOWING = []


def _follow(parent: int):
    if _FOLLOWING:
        return
    _FOLLOWING.append(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, name="featstore-follow-parent", daemon=True).start()


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
    if root.is_dir() and any(root.iterdir()) and not overwrite:
        raise StoreExistsError(
            f"{root} already exists and is not empty. Pass overwrite=True "
            f"(--overwrite on the command line) to replace the synthetic data set in it, "
            f"or pick another folder."
        )
    try:
        if overwrite:
            # Old metadata first: an interrupted run then has no CSV and is recognisable.
            (root / METADATA_CSV).unlink(missing_ok=True)
            for fold in FOLDS:
                for old in (root / AUDIO_DIR / f"fold{fold}").glob("*.wav"):
                    old.unlink()
        (root / METADATA_CSV).parent.mkdir(parents=True, exist_ok=True)
        for fold in FOLDS:
            (root / AUDIO_DIR / f"fold{fold}").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"Cannot write the synthetic data set into {root}: {exc.strerror or exc} ({exc.filename}). "
            f"Pick a folder you can write to."
        ) from exc


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
        Worker processes, joblib's convention: -1 for one per core, or a positive
        count; 0 is an error.
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
    OutputError
        If the folders cannot be created (a read-only folder, a file on the path).
    DiskFullError
        An ``OutputError``: if the data set would not fit (checked before writing).
    InvalidParameterError
        A ``ValueError``: if an argument is invalid (see
        :func:`plan_synthetic_metadata`), ``n_jobs`` is not a non-zero int, or
        ``overwrite`` or ``progress`` is not a bool.

    See Also
    --------
    plan_synthetic_metadata : The rows and formats, without writing audio.
    """
    plan = plan_synthetic_metadata(n_clips=n_clips, full=full, seed=seed)
    n_jobs = check_n_jobs(n_jobs)
    overwrite, progress = check_bool(overwrite, "overwrite"), check_bool(progress, "progress")
    root = Path(out_dir)
    check_free_space(root, dataset_size(plan), f"a synthetic data set of {len(plan)} clips")
    _prepare_folder(root, overwrite)

    jobs = _jobs(plan, int(seed))
    audio_root = str(root / AUDIO_DIR)
    with tqdm(total=len(plan), unit="clip", desc="synthetic UrbanSound8K", disable=not progress) as bar:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_render_in_worker)(job, audio_root, os.getpid()) for job in jobs
        )
        for written in results:
            interrupt.check()
            bar.update(written)

    _write_csv(plan[list(METADATA_COLUMNS)], root / METADATA_CSV)
    return root
