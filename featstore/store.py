"""The HDF5 feature store: its layout, a writer, and the reader users work with.

Layout::

    /                          attrs: format_version, class_names (JSON),
                               feature_config (JSON), versions (JSON), source,
                               source_info (JSON), created, n_source_clips
    /fold1/waveform            (n, clip_samples)      float32, one chunk per clip
    /fold1/logmel              (n, n_mels, n_frames)  float32, one chunk per clip
    /fold1/mfcc_stats          (n, 2 * n_mfcc)        float32
    /fold1/mfcc_delta_stats    (n, 4 * delta_n_mfcc)  float32
    /fold1/logmel_views        (n, n_views, n_mels, n_frames)  float16, one chunk
                               per clip; only in a store built with augmented views
    /fold1/label               (n,)                   int64 (classID)
    /fold1/metadata/<column>   (n,)  slice_file_name, fsID, start, end, salience,
                               fold, classID, class, orig_sample_rate,
                               orig_channels, orig_duration
    /fold2/...
    /rejected/<column>         clips left out of the build, with the reason

Every array is readable with plain h5py (``f["fold3/logmel"][i]``); the reader
below only adds the bookkeeping. ``FeatureConfig.stored_features`` lists the
feature datasets of a store and their shapes and types.
"""

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from .config import FeatureConfig
from .exceptions import StoreConfigError, StoreFormatError

__all__ = ["FeatureStore", "StoreWriter", "FEATURES", "FORMAT_VERSION", "VIEWS"]

FORMAT_VERSION = 1
FEATURES = ("waveform", "logmel", "mfcc_stats", "mfcc_delta_stats")
VIEWS = "logmel_views"
_VIEW_BLOCK = 64  # clips read at a time into the views array
LABEL = "label"
METADATA = "metadata"
REJECTED = "rejected"
STORED_METADATA_COLUMNS = {
    "slice_file_name": str,
    "fsID": np.int64,
    "start": np.float64,
    "end": np.float64,
    "salience": np.int64,
    "fold": np.int64,
    "classID": np.int64,
    "class": str,
    "orig_sample_rate": np.int64,
    "orig_channels": np.int64,
    "orig_duration": np.float64,
}
REJECTED_COLUMNS = ("slice_file_name", "fold", "classID", "reason")

_STRING = h5py.string_dtype()


def _fold_group(fold: int) -> str:
    return f"fold{fold}"


def _as_column(values, kind):
    if kind is str:
        return np.array([str(v) for v in values], dtype=object)
    return np.asarray(values, dtype=kind)


def _concat_metadata(frames: list) -> pd.DataFrame:
    """The metadata frames of some folds as one; typed and empty for no folds."""
    if frames:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame({c: pd.Series([], dtype=object if k is str else k) for c, k in STORED_METADATA_COLUMNS.items()})


class StoreWriter:
    """Appends processed clips to a new HDF5 file, fold by fold.

    Used by :func:`featstore.build_store`; it writes to whatever path it is given
    (the build gives it a temporary one and renames it when complete). The
    features are written as they come; the labels and metadata, a few hundred
    bytes a clip, are kept and written once by :meth:`finish`, which spares a
    dozen small HDF5 writes per append.
    """

    def __init__(self, path, config: FeatureConfig, *, class_names, source: str, versions: dict, created: str,
                 source_info: dict | None = None):
        self.config = config
        self.file = h5py.File(path, "x")
        self._features = {}  # fold -> {feature: dataset}
        self._rows = {}  # fold -> metadata rows of the clips appended so far
        attrs = self.file.attrs
        attrs["format_version"] = FORMAT_VERSION
        attrs["class_names"] = json.dumps(list(class_names))
        attrs["feature_config"] = config.to_json()
        attrs["versions"] = json.dumps(versions, sort_keys=True)
        attrs["source"] = source
        attrs["source_info"] = json.dumps(source_info or {}, sort_keys=True)
        attrs["created"] = created

    def _create_fold(self, fold: int) -> dict:
        group = self.file.create_group(_fold_group(fold))
        datasets = {}
        for name, (shape, dtype) in self.config.stored_features.items():
            # One clip per chunk for the big arrays: reading one clip, or one fold,
            # touches nothing else. The small statistics share chunks.
            chunk_rows = 1 if len(shape) > 1 or shape[0] > 1024 else 256
            datasets[name] = group.create_dataset(
                name, shape=(0, *shape), maxshape=(None, *shape), dtype=dtype,
                chunks=(chunk_rows, *shape),
            )
        return datasets

    def append(self, fold: int, features: dict, rows: list):
        """Append ``len(rows)`` clips of one fold.

        Parameters
        ----------
        fold : int
        features : dict of str to ndarray
            One array ``(len(rows), ...)`` per feature of ``config.stored_features``.
        rows : list of dict
            One metadata row per clip, with the keys of ``STORED_METADATA_COLUMNS``.
        """
        if fold not in self._features:
            self._features[fold] = self._create_fold(fold)
            self._rows[fold] = []
        stored = self._rows[fold]
        n_old, n_new = len(stored), len(stored) + len(rows)
        for feature, dataset in self._features[fold].items():
            dataset.resize(n_new, axis=0)
            dataset[n_old:n_new] = features[feature]
        stored.extend(rows)

    def finish(self, rejected: list, n_source_clips: int):
        """Write the labels, metadata and rejected-clip table, and close the file."""
        for fold, rows in self._rows.items():
            group = self.file[_fold_group(fold)]
            group.create_dataset(LABEL, data=np.array([row["classID"] for row in rows], dtype=np.int64), chunks=True, maxshape=(None,))
            meta = group.create_group(METADATA)
            for column, kind in STORED_METADATA_COLUMNS.items():
                dtype = _STRING if kind is str else kind
                values = _as_column([row[column] for row in rows], kind)
                meta.create_dataset(column, data=values, dtype=dtype, chunks=True, maxshape=(None,))
        group = self.file.create_group(REJECTED)
        for column in REJECTED_COLUMNS:
            values = [str(r.get(column, "")) for r in rejected]
            group.create_dataset(column, data=np.array(values, dtype=object), dtype=_STRING)
        self.file.attrs["n_source_clips"] = n_source_clips
        self.file.close()

    def close(self):
        if self.file.id.valid:
            self.file.close()


class FeatureStore:
    """Read access to a feature store; opens the file only for the duration of a call.

    Holding just the path keeps the object picklable, so it can be sent to
    joblib workers, each of which opens the file itself.

    Parameters
    ----------
    path : str or Path
    config : FeatureConfig, optional
        The configuration the caller expects. If given and the store was built with
        another one, :class:`StoreConfigError` says which fields differ.

    Attributes
    ----------
    config : FeatureConfig
    class_names : tuple of str
    folds : tuple of int
    source : str
        The description of the source, e.g. ``"synthetic (1000 clips, seed 0)"``.
    source_info : dict
        What the source was: ``{"name", "size"}``, plus ``"seed"`` for synthetic
        data (``{}`` for stores written before it was recorded).
    view_names : tuple of str
        The views of ``load("logmel", views=True)``, ``"original"`` first
        (``"pitch-2"``, ``"stretch0.81"``, ...); ``()`` for a store without views.

    Examples
    --------
    >>> store = FeatureStore("urbansound8k.h5")                     # doctest: +SKIP
    >>> X, y, groups, meta = store.load("logmel", folds=[1, 2])     # doctest: +SKIP
    """

    def __init__(self, path, *, config: FeatureConfig | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreFormatError(f"No feature store at {self.path}: build one with `python -m featstore build`.")
        try:
            with h5py.File(self.path, "r") as f:
                attrs = dict(f.attrs)
                self.folds = tuple(sorted(int(k[4:]) for k in f if k.startswith("fold")))
        except OSError as exc:
            raise StoreFormatError(f"{self.path} is not a readable HDF5 file ({exc}).") from exc
        if "feature_config" not in attrs or "format_version" not in attrs:
            raise StoreFormatError(
                f"{self.path} is an HDF5 file but not a feature store (no feature_config "
                f"attribute). Build one with `python -m featstore build`."
            )
        if int(attrs["format_version"]) != FORMAT_VERSION:
            raise StoreFormatError(
                f"{self.path} has store format {attrs['format_version']}; this version reads "
                f"format {FORMAT_VERSION}. Rebuild the store."
            )
        self.config = FeatureConfig.from_json(attrs["feature_config"])
        self.class_names = tuple(json.loads(attrs["class_names"]))
        self.versions = json.loads(attrs["versions"])
        self.source = str(attrs["source"])
        # Stores written before source_info was recorded have only the description.
        self.source_info = json.loads(attrs.get("source_info", "{}"))
        self.created = str(attrs["created"])
        self.n_source_clips = int(attrs.get("n_source_clips", -1))
        self.view_names = self.config.view_names
        if config is not None and config != self.config:
            diff = ", ".join(f"{k}: store {a!r} vs asked {b!r}" for k, (a, b) in self.config.differences(config).items())
            raise StoreConfigError(
                f"{self.path} was built with another feature configuration ({diff}). "
                f"Rebuild it with the configuration you want, or open it without one."
            )

    def __repr__(self):
        return f"FeatureStore({str(self.path)!r})"

    def _check_folds(self, folds):
        if folds is None:
            return self.folds
        folds = [int(f) for f in np.atleast_1d(folds)]
        absent = [f for f in folds if f not in self.folds]
        if absent:
            raise StoreFormatError(f"Folds {absent} are not in {self.path}; it holds folds {list(self.folds)}.")
        return folds

    def fold_sizes(self) -> dict:
        """Number of clips in each fold, ``{fold: n}``."""
        with h5py.File(self.path, "r") as f:
            return {fold: f[_fold_group(fold)][LABEL].shape[0] for fold in self.folds}

    def __len__(self):
        return sum(self.fold_sizes().values())

    def load(self, feature: str = "logmel", folds=None, *, views: bool = False):
        """Load one feature of some folds into memory.

        Parameters
        ----------
        feature : {"logmel", "mfcc_stats", "mfcc_delta_stats", "waveform"}, default="logmel"
        folds : int or list of int, optional
            The folds to read (default: all), in the order given. Other folds are
            not read.
        views : bool, default=False
            With ``feature="logmel"`` in a store built with augmented views: every
            clip with its views, as float16 (see Returns). One row is still one
            clip, so a split by ``groups`` keeps a clip's views with it.

        Returns
        -------
        X : ndarray of float32, shape (n_clips, ...)
            ``(n_clips, n_mels, n_frames)`` for "logmel", ``(n_clips, 2 * n_mfcc)``
            for "mfcc_stats", ``(n_clips, 4 * delta_n_mfcc)`` for
            "mfcc_delta_stats", ``(n_clips, clip_samples)`` for "waveform". With
            ``views=True``, float16 of shape ``(n_clips, n_views, n_mels, n_frames)``:
            view 0 is the original log-mel (rounded to float16), the others are
            named by :attr:`view_names`.
        y : ndarray of int64, shape (n_clips,)
            The classID of each clip; ``class_names[y]`` names it.
        groups : ndarray of int64, shape (n_clips,)
            The fold of each clip, for ``LeaveOneGroupOut`` and friends.
        metadata : DataFrame
            One row per clip: the UrbanSound8K metadata columns plus the original
            sample rate, channel count and duration.

        Raises
        ------
        StoreFormatError
            For an unknown feature or fold, ``views=True`` with another feature
            than "logmel" or on a store without views, or a feature the store
            lacks (one built by an earlier version).
        """
        if feature == VIEWS:
            raise StoreFormatError(f"Load the views with load('logmel', views=True), not load({VIEWS!r}).")
        if feature not in FEATURES:
            raise StoreFormatError(f"Unknown feature {feature!r}; a store holds {list(FEATURES)}.")
        if views and feature != "logmel":
            raise StoreFormatError(f"Only the log-mel has views: load('logmel', views=True), not load({feature!r}, views=True).")
        if views and not self.view_names:
            raise StoreFormatError(
                f"{self.path} has no augmented views: it was built without --augment. Rebuild it with views, e.g. "
                f"`python -m featstore build SOURCE --out {self.path.name} --augment mild`, or load without views=True."
            )
        folds = self._check_folds(folds)
        labels, groups, frames = [], [], []
        with h5py.File(self.path, "r") as f:
            fold_groups = [f[_fold_group(fold)] for fold in folds]
            for fold, group in zip(folds, fold_groups):
                if feature not in group:
                    raise StoreFormatError(
                        f"{self.path} has no {feature}: it was built by an earlier version of featstore. Rebuild it."
                    )
                labels.append(group[LABEL][...])
                groups.append(np.full(len(labels[-1]), fold, dtype=np.int64))
                frames.append(self._read_metadata(group))
            if views:
                X = self._read_views(fold_groups, [len(g) for g in groups])
            elif fold_groups:
                X = np.concatenate([group[feature][...] for group in fold_groups])
            else:
                X = np.empty((0, *self.config.feature_shapes[feature]), np.float32)
        y = np.concatenate(labels) if labels else np.empty(0, np.int64)
        g = np.concatenate(groups) if groups else np.empty(0, np.int64)
        return X, y, g, _concat_metadata(frames)

    def _read_views(self, fold_groups: list, sizes: list) -> np.ndarray:
        """``(n_clips, n_views, n_mels, n_frames)`` float16, filled in place a block of clips at a time."""
        config = self.config
        X = np.empty((sum(sizes), len(self.view_names), config.n_mels, config.n_frames), dtype=np.float16)
        offset = 0
        for group, n in zip(fold_groups, sizes):
            for start in range(0, n, _VIEW_BLOCK):
                stop = min(start + _VIEW_BLOCK, n)
                X[offset + start : offset + stop, 0] = group["logmel"][start:stop]  # rounded to the nearest float16
                group[VIEWS].read_direct(X, np.s_[start:stop], np.s_[offset + start : offset + stop, 1:])
            offset += n
        return X

    @staticmethod
    def _read_metadata(group) -> pd.DataFrame:
        columns = {}
        for column, kind in STORED_METADATA_COLUMNS.items():
            dataset = group[METADATA][column]
            columns[column] = dataset.asstr()[...] if kind is str else dataset[...]
        return pd.DataFrame(columns)

    def metadata(self, folds=None) -> pd.DataFrame:
        """The metadata of the stored clips of some folds (default: all)."""
        folds = self._check_folds(folds)
        with h5py.File(self.path, "r") as f:
            frames = [self._read_metadata(f[_fold_group(fold)]) for fold in folds]
        return _concat_metadata(frames)

    def rejected(self) -> pd.DataFrame:
        """The clips the build left out, with the reason for each."""
        with h5py.File(self.path, "r") as f:
            group = f[REJECTED]
            return pd.DataFrame({c: group[c].asstr()[...] for c in REJECTED_COLUMNS})

    def counts(self) -> pd.DataFrame:
        """Clips per fold (rows) and class (columns); no rows for a store without clips."""
        meta = self.metadata()
        if meta.empty:
            return pd.DataFrame(index=pd.Index([], name="fold", dtype=np.int64), dtype=np.int64)
        table = pd.crosstab(meta["fold"], meta["class"])
        return table.reindex(columns=[c for c in self.class_names if c in table.columns])

    def verify(self) -> list:
        """Check shapes, dtypes, finiteness and counts. Returns a list of problems (empty if none)."""
        problems = []
        shapes, dtypes = self.config.feature_shapes, self.config.feature_dtypes
        total = 0
        with h5py.File(self.path, "r") as f:
            for fold in self.folds:
                group = f[_fold_group(fold)]
                n = group[LABEL].shape[0]
                total += n
                for feature in shapes:
                    if feature not in group:
                        problems.append(f"fold {fold}: no {feature}")
                        continue
                    dataset = group[feature]
                    if dataset.shape != (n, *shapes[feature]) or dataset.dtype != dtypes[feature]:
                        problems.append(f"fold {fold}: {feature} has shape {dataset.shape} and type {dataset.dtype}, "
                                        f"expected {(n, *shapes[feature])} {dtypes[feature]}")
                        continue
                    for start in range(0, n, 256):
                        block = dataset[start : start + 256]
                        if not np.isfinite(block).all():
                            bad = start + int(np.flatnonzero(~np.isfinite(block).reshape(len(block), -1).all(axis=1))[0])
                            problems.append(f"fold {fold}: {feature} of clip {bad} has NaN or infinite values")
                            break
                meta = self._read_metadata(group)
                if len(meta) != n:
                    problems.append(f"fold {fold}: {len(meta)} metadata rows for {n} clips")
                    continue
                labels = group[LABEL][...]
                if not np.array_equal(labels, meta["classID"].to_numpy()):
                    problems.append(f"fold {fold}: labels differ from the metadata classID")
                if ((labels < 0) | (labels >= len(self.class_names))).any():
                    problems.append(f"fold {fold}: labels outside 0..{len(self.class_names) - 1}")
                if (meta["fold"] != fold).any():
                    problems.append(f"fold {fold}: metadata rows of other folds")
                names = np.array(self.class_names, dtype=object)[np.clip(labels, 0, len(self.class_names) - 1)]
                if not (meta["class"].to_numpy() == names).all():
                    problems.append(f"fold {fold}: class names differ from classID")
            n_rejected = f[REJECTED]["reason"].shape[0] if REJECTED in f else None
        if total == 0:
            problems.append("the store holds no clips")
        if n_rejected is None:
            problems.append("no rejected-clip table: the build did not finish")
        elif self.n_source_clips >= 0 and total + n_rejected != self.n_source_clips:
            problems.append(
                f"{total} stored + {n_rejected} rejected clips != {self.n_source_clips} clips in the source metadata"
            )
        return problems
