"""Writing a synthetic data set: the folder, the recordings rendered in parallel, the CSV.

Two layouts: UrbanSound8K's (``metadata/UrbanSound8K.csv``, ``audio/fold1`` ...
``audio/fold10``) and ESC-50's (``meta/esc50.csv``, ``audio/``).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from .. import esc50, interrupt, urbansound8k
from .._validation import check_bool, check_n_jobs
from ..exceptions import OutputError, StoreExistsError
from ..output import check_free_space
from .esc50_render import render_esc50_recording
from .plan import check_dataset, plan_synthetic_metadata
from .render import render_recording

__all__ = ["make_synthetic_dataset"]


class _Layout(NamedTuple):
    metadata_csv: str
    audio_dirs: tuple  # the folders of the WAV files
    columns: tuple  # of the metadata CSV
    name: str

    @property
    def folders(self) -> tuple:
        return (*self.audio_dirs, str(PurePosixPath(self.metadata_csv).parent))


_LAYOUTS = {
    "urbansound8k": _Layout(
        urbansound8k.METADATA_CSV,
        tuple(f"{urbansound8k.AUDIO_DIR}/fold{fold}" for fold in urbansound8k.FOLDS),
        urbansound8k.METADATA_COLUMNS,
        "UrbanSound8K",
    ),
    "esc50": _Layout(esc50.METADATA_CSV, (esc50.AUDIO_DIR,), esc50.METADATA_COLUMNS, "ESC-50"),
}

_BYTES_PER_SAMPLE = {"PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "FLOAT": 4, "DOUBLE": 8}
_WAV_HEADER = 44


def dataset_size(plan: pd.DataFrame) -> int:
    """The bytes the WAV files of a plan take (and 1 MB for the CSV and the folders)."""
    samples = plan["n_frames"] * plan["channels"] * plan["subtype"].map(_BYTES_PER_SAMPLE)
    return int(samples.sum()) + _WAV_HEADER * len(plan) + 2**20


def _render_in_worker(render, job: dict, audio_root: str, parent: int) -> int:
    """``render(job, audio_root)``, in a worker process that follows the process that started it.

    A worker process outlived a parent killed by SIGKILL (joblib's workers wait
    minutes for more work): it now checks four times a second whether its parent
    is still there. And it leaves Ctrl-C, which a terminal sends to the whole
    process group, to its parent, which stops the workers (a worker interrupted
    inside soundfile's callbacks printed a traceback).
    """
    if os.getpid() != parent and os.getppid() == parent:
        _follow(parent)
    return render(job, audio_root)


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


def _esc50_jobs(plan: pd.DataFrame, seed: int) -> list[dict]:
    """One job per recording (``src_file``) and its takes, most takes first."""
    jobs = []
    for src_file, rows in plan.groupby("src_file", sort=True):
        rows = rows.sort_values("take")
        jobs.append(
            {
                "seed": seed, "src_file": int(src_file), "target": int(rows.iloc[0]["target"]),
                "clips": rows[["filename", "sound_frames"]].to_dict("records"),
            }
        )
    jobs.sort(key=lambda job: -len(job["clips"]))
    return jobs


def _prepare_folder(root: Path, overwrite: bool, dataset: str) -> None:
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
    layout = _LAYOUTS[dataset]
    try:
        if overwrite:
            # The data set of either layout goes. Old metadata first: an interrupted
            # run then has no CSV and is recognisable.
            for old in _LAYOUTS.values():
                (root / old.metadata_csv).unlink(missing_ok=True)
            for old in _LAYOUTS.values():
                for folder in old.audio_dirs:
                    for wav in (root / folder).glob("*.wav"):
                        wav.unlink()
            for old in _LAYOUTS.values():  # the other layout's folders, once empty
                for folder in sorted(set(old.folders) - set(layout.folders)):
                    if (root / folder).is_dir() and not any((root / folder).iterdir()):
                        (root / folder).rmdir()
        (root / layout.metadata_csv).parent.mkdir(parents=True, exist_ok=True)
        for folder in layout.audio_dirs:
            (root / folder).mkdir(parents=True, exist_ok=True)
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
    dataset: str = "urbansound8k",
) -> Path:
    """Write a synthetic data set in the original UrbanSound8K or ESC-50 layout.

    UrbanSound8K: writes ``out_dir/audio/fold1`` ... ``fold10`` with one WAV file
    per clip, then, last, ``out_dir/metadata/UrbanSound8K.csv``. ESC-50: writes
    ``out_dir/audio/*.wav`` (5 s, 44.1 kHz, mono, 16-bit), then, last,
    ``out_dir/meta/esc50.csv``. The CSV is written via a temp file renamed into
    place: a folder without it is an interrupted run. What the data imitates is
    described in the package docstring. The full-size sets take about 6.8 GB
    (UrbanSound8K) and 0.9 GB (ESC-50).

    Parameters
    ----------
    out_dir : str or os.PathLike
        Root of the data set. Created if missing; must be empty unless
        ``overwrite=True``.
    n_clips : int or None, default=None
        Number of clips. UrbanSound8K: at least 10; the real per-fold and
        per-class proportions are kept and, from 100 clips, every class is in
        every fold. ESC-50: from 50 to 2,000; every class is present, and in
        every fold from 250 clips. None means 1000 (UrbanSound8K) or 500
        (ESC-50) unless ``full=True``.
    full : bool, default=False
        Write exactly the real per-fold and per-class counts (8,732 clips;
        ESC-50: 2,000). Cannot be combined with ``n_clips``.
    seed : int, default=0
        Seed of everything random. The same seed gives byte-identical files and
        CSV, whatever ``n_jobs``.
    overwrite : bool, default=False
        Allow a non-empty ``out_dir``: the data set already in it, in either
        layout, is deleted first (the metadata CSVs, the ``*.wav`` files in
        ``audio/`` and ``audio/fold1`` ... ``fold10``, and the other layout's
        folders once empty); nothing else is touched.
    n_jobs : int, default=1
        Worker processes, joblib's convention: -1 for one per core, or a positive
        count; 0 is an error.
    progress : bool, default=True
        Show a progress bar (tqdm, on stderr).
    dataset : {"urbansound8k", "esc50"}, default="urbansound8k"
        The dataset whose layout, classes and folds are imitated.

    Returns
    -------
    root : pathlib.Path
        ``out_dir``, the data set root (the folder that holds ``metadata/`` or
        ``meta/``, and ``audio/``).

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
    plan = plan_synthetic_metadata(n_clips=n_clips, full=full, seed=seed, dataset=dataset)
    n_jobs = check_n_jobs(n_jobs)
    overwrite, progress = check_bool(overwrite, "overwrite"), check_bool(progress, "progress")
    layout = _LAYOUTS[check_dataset(dataset)]
    root = Path(out_dir)
    check_free_space(root, dataset_size(plan), f"a synthetic data set of {len(plan)} clips")
    _prepare_folder(root, overwrite, dataset)

    if dataset == "esc50":
        jobs, render, audio_root = _esc50_jobs(plan, int(seed)), render_esc50_recording, root / esc50.AUDIO_DIR
    else:
        jobs, render, audio_root = _jobs(plan, int(seed)), render_recording, root / urbansound8k.AUDIO_DIR
    with tqdm(total=len(plan), unit="clip", desc=f"synthetic {layout.name}", disable=not progress) as bar:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_render_in_worker)(render, job, str(audio_root), os.getpid()) for job in jobs
        )
        for written in results:
            interrupt.check()
            bar.update(written)

    _write_csv(plan[list(layout.columns)], root / layout.metadata_csv)
    return root
