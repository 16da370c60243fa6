"""The synthetic data set as a source: generated into a temporary folder, built like any other."""

from __future__ import annotations

import tempfile
import weakref
from pathlib import Path
from typing import Iterator

import pandas as pd

from .. import esc50, urbansound8k, workdir
from .._validation import check_bool, check_n_jobs, check_seed
from ..exceptions import InvalidParameterError, OutputError
from ..sources import ClipRef, Source
from .dataset import make_synthetic_dataset
from .esc50_plan import clip_counts
from .plan import check_dataset, check_size

__all__ = ["SyntheticSource", "remove_abandoned_data"]

# The generated data sets live in folders named so that a later run finds those of
# dead processes (killed before they could delete them) and deletes them.
FOLDER_PREFIX, FOLDER_SUFFIX = "featstore-synthetic.", ".tmp"


def remove_abandoned_data() -> list:
    """Delete the data sets that killed processes generated in the temporary folder; returns their paths."""
    return workdir.remove_abandoned_folders(tempfile.gettempdir(), FOLDER_PREFIX, FOLDER_SUFFIX)


# Per dataset: the source's name (and spec prefix), the label's name, the full size,
# the layouts its folder can be read as (its own first).
_NAMES = {
    "urbansound8k": ("synthetic", "synthetic", urbansound8k.N_CLIPS, ("urbansound8k",)),
    "esc50": ("synthetic-esc50", "synthetic ESC-50", esc50.N_CLIPS, ("esc50", "esc10")),
}


class SyntheticSource(Source):
    """Generated data in the UrbanSound8K or ESC-50 layout (see :mod:`featstore.synth`), as a source.

    The audio is generated into a temporary folder the first time it is needed
    (iterating, ``rejected``, ``rows``, ``root``) and deleted by :meth:`close`, which
    leaving the ``with`` block calls (or, failing that, garbage collection). A
    process killed before it could delete its folder leaves it behind; the next
    generation in the same temporary folder (``tempfile.gettempdir()``) deletes it.

    The generated folder is read by :func:`~featstore.sources.open_source`, like
    any folder in that layout: the classes, folds, columns and rows are those of
    that reader (asking for them generates the data).

    Parameters
    ----------
    dataset : {"urbansound8k", "esc50"}, default="urbansound8k"
        The dataset whose layout, classes and folds are imitated.
    layout : {"urbansound8k", "esc50", "esc10"} or None, default=None
        How to read the generated folder: None for the dataset's own layout, or
        ``"esc10"`` for the ESC-10 rows of a synthetic ESC-50.
    n_clips : int or None, default=None
        Number of clips: at least 10 for UrbanSound8K, 50 to 2,000 for ESC-50.
        None means 1000 (UrbanSound8K) or 500 (ESC-50) unless ``full=True``.
    full : bool, default=False
        The real per-fold and per-class counts (8,732 clips; ESC-50: 2,000).
    seed : int, default=0
        Seed of the generator: the same seed gives the same files.
    n_jobs : int, default=-1
        Worker processes generating the audio (joblib's convention).
    progress : bool, default=False
        Show a progress bar while generating.

    Attributes
    ----------
    name : str
        ``"synthetic"``, or ``"synthetic-esc50"`` for ESC-50.
    dataset : str
    layout : str
        The layout the folder is read as.
    size : int
        Number of clips generated (``len(source)`` is the rows read: fewer for ESC-10).
    seed : int
    label : str
        ``"synthetic (1000 clips, seed 0)"`` or ``"synthetic ESC-50 (500 clips,
        seed 0)"`` (``", ESC-10 rows"`` added for ESC-10), also the
        ``description`` a store keeps.

    Examples
    --------
    >>> from featstore import build_store, open_source
    >>> with open_source("synthetic:200", seed=1) as source:        # doctest: +SKIP
    ...     build_store(source, "synthetic.h5")
    """

    name = "synthetic"

    def __init__(self, *, dataset="urbansound8k", layout=None, n_clips=None, full=False, seed=0, n_jobs=-1,
                 progress=False):
        self.dataset = check_dataset(dataset)
        self.name, self._label_name, full_size, layouts = _NAMES[self.dataset]
        if layout is not None and layout not in layouts:
            raise InvalidParameterError(
                f"layout (--dataset on the command line) {layout!r} cannot read {self._label_name} data: "
                f"pass {' or '.join(map(repr, layouts))}, or leave it out."
            )
        self.layout = layouts[0] if layout is None else layout
        size = check_size(n_clips, full, self.dataset)
        self.full = size is None
        self._size = full_size if self.full else size
        self.seed = check_seed(seed)
        self.n_jobs, self.progress = check_n_jobs(n_jobs), check_bool(progress, "progress")
        self._folder = None
        self._remove_folder = None

    @property
    def size(self) -> int:
        return self._size

    @property
    def label(self) -> str:
        rows = ", ESC-10 rows" if self.layout == "esc10" else ""
        return f"{self._label_name} ({self.size} clips, seed {self.seed}){rows}"

    description = label

    @property
    def spec(self) -> str:
        """How to ask :func:`open_source` for this data again (with ``seed=self.seed``,
        and ``dataset=self.layout`` for ESC-10)."""
        return f"{self.name}:full" if self.full else f"{self.name}:{self.size}"

    @property
    def info(self) -> dict:
        info = {**super().info, "seed": self.seed}
        return info if self.layout == _NAMES[self.dataset][3][0] else {**info, "layout": self.layout}

    def _generated(self) -> Source:
        if self._folder is None:
            from ..sources import open_source  # (sources imports this module when asked for synthetic data)

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
                    n_jobs=self.n_jobs, progress=self.progress, dataset=self.dataset,
                )
                self._folder = open_source(Path(folder.path), dataset=self.layout)
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

    @property
    def unlisted(self) -> list:
        return self._generated().unlisted

    @property
    def class_names(self) -> tuple:
        return self._generated().class_names

    @property
    def class_ids(self) -> tuple | None:
        return self._generated().class_ids

    @property
    def folds(self) -> tuple:
        return self._generated().folds

    @property
    def columns(self):
        return self._generated().columns

    @property
    def schema(self) -> dict:
        return self._generated().schema

    @property
    def clip_seconds(self) -> float | None:
        return self._generated().clip_seconds

    def audio_of(self, position: int, row: dict):
        return self._generated().audio_of(position, row)

    def __len__(self):
        """The rows read, known without generating the data."""
        if self.layout == "esc10":
            return int(clip_counts(self.size).sum(axis=0)[list(esc50.ESC10_TARGETS)].sum())
        return self.size

    def __iter__(self) -> Iterator[ClipRef]:
        return iter(self._generated())

    def close(self):
        """Delete the generated files; the next use generates them again."""
        if self._remove_folder is not None:
            self._remove_folder()
        self._folder = self._remove_folder = None
