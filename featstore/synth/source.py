"""The synthetic data set as a source: generated into a temporary folder, built like any other."""

from __future__ import annotations

import tempfile
import weakref
from pathlib import Path
from typing import Iterator

import pandas as pd

from .. import workdir
from .._validation import check_bool, check_n_jobs, check_seed
from ..exceptions import OutputError
from ..sources import ClipRef, FolderSource, Source
from ..urbansound8k import N_CLIPS
from .dataset import make_synthetic_dataset
from .plan import check_size

__all__ = ["SyntheticSource", "remove_abandoned_data"]

# The generated data sets live in folders named so that a later run finds those of
# dead processes (killed before they could delete them) and deletes them.
FOLDER_PREFIX, FOLDER_SUFFIX = "featstore-synthetic.", ".tmp"


def remove_abandoned_data() -> list:
    """Delete the data sets that killed processes generated in the temporary folder; returns their paths."""
    return workdir.remove_abandoned_folders(tempfile.gettempdir(), FOLDER_PREFIX, FOLDER_SUFFIX)


class SyntheticSource(Source):
    """Generated data in the UrbanSound8K layout (see :mod:`featstore.synth`), as a source.

    The audio is generated into a temporary folder the first time it is needed
    (iterating, ``rejected``, ``rows``, ``root``) and deleted by :meth:`close`, which
    leaving the ``with`` block calls (or, failing that, garbage collection). A
    process killed before it could delete its folder leaves it behind; the next
    generation in the same temporary folder (``tempfile.gettempdir()``) deletes it.

    Parameters
    ----------
    n_clips : int or None, default=None
        Number of clips, at least 10; None means 1000 unless ``full=True``.
    full : bool, default=False
        The real per-fold and per-class counts (8,732 clips).
    seed : int, default=0
        Seed of the generator: the same seed gives the same files.
    n_jobs : int, default=-1
        Worker processes generating the audio (joblib's convention).
    progress : bool, default=False
        Show a progress bar while generating.

    Attributes
    ----------
    name : str
        ``"synthetic"``.
    size : int
        Number of clips.
    seed : int
    label : str
        ``"synthetic (1000 clips, seed 0)"``, also the ``description`` a store keeps.

    Examples
    --------
    >>> from featstore import build_store, open_source
    >>> with open_source("synthetic:200", seed=1) as source:        # doctest: +SKIP
    ...     build_store(source, "synthetic.h5")
    """

    name = "synthetic"

    def __init__(self, *, n_clips=None, full=False, seed=0, n_jobs=-1, progress=False):
        size = check_size(n_clips, full)
        self.full = size is None
        self._size = N_CLIPS if self.full else size
        self.seed = check_seed(seed)
        self.n_jobs, self.progress = check_n_jobs(n_jobs), check_bool(progress, "progress")
        self._folder = None
        self._remove_folder = None

    @property
    def size(self) -> int:
        return self._size

    @property
    def label(self) -> str:
        return f"synthetic ({self.size} clips, seed {self.seed})"

    description = label

    @property
    def spec(self) -> str:
        """How to ask :func:`open_source` for this data again (with ``seed=self.seed``)."""
        return "synthetic:full" if self.full else f"synthetic:{self.size}"

    @property
    def info(self) -> dict:
        return {**super().info, "seed": self.seed}

    def _generated(self) -> FolderSource:
        if self._folder is None:
            parent = tempfile.gettempdir()
            remove_abandoned_data()
            try:
                folder = workdir.create_locked_folder(parent, FOLDER_PREFIX, FOLDER_SUFFIX)
            except OSError as exc:
                raise OutputError(
                    f"Cannot create a folder for the synthetic data in {parent}: {exc.strerror or exc}. "
                    f"Point TMPDIR at a folder you can write to."
                ) from exc
            self._remove_folder = weakref.finalize(self, folder.remove)
            try:
                make_synthetic_dataset(
                    folder.path, n_clips=None if self.full else self.size, full=self.full, seed=self.seed,
                    n_jobs=self.n_jobs, progress=self.progress,
                )
                self._folder = FolderSource(folder.path)
            except BaseException:
                self.close()
                raise
        return self._folder

    @property
    def root(self) -> Path:
        """The folder of the generated data set (generated on first use)."""
        return self._generated().root

    @property
    def metadata(self) -> pd.DataFrame:
        return self._generated().metadata

    @property
    def rows(self) -> dict:
        return self._generated().rows

    @property
    def rejected(self) -> list:
        return self._generated().rejected

    def __len__(self):
        return self.size

    def __iter__(self) -> Iterator[ClipRef]:
        return iter(self._generated())

    def close(self):
        """Delete the generated files; the next use generates them again."""
        if self._remove_folder is not None:
            self._remove_folder()
        self._folder = self._remove_folder = None
