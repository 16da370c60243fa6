"""The HDF5 feature store: its layout, and the reader users work with.

Layout (format 3)::

    /                          attrs: format_version, build_id, class_names (JSON),
                               class_ids (JSON), layout, columns (JSON), metadata_columns (JSON),
                               feature_config (JSON), versions (JSON), source,
                               source_info (JSON), created, n_source_clips,
                               fold_sizes (JSON), digest_algorithm, digest
    /fold1/waveform            (n, clip_samples)      float32, one chunk per clip
    /fold1/logmel              (n, n_mels, n_frames)  float32, one chunk per clip
    /fold1/mfcc_stats          (n, 2 * n_mfcc)        float32
    /fold1/mfcc_delta_stats    (n, 4 * delta_n_mfcc)  float32
    /fold1/logmel_views        (n, n_views, n_mels, n_frames)  float16, one chunk
                               per clip; only in a store built with augmented views
    /fold1/digest/<feature>    (n,)                   uint64, the digest of each clip's row
    /fold1/label               (n,)                   int64 (classID)
    /fold1/metadata/<column>   (n,)  slice_file_name, fsID, start, end, salience,
                               fold, classID, class, orig_sample_rate,
                               orig_channels, orig_duration
    /fold2/...
    /rejected/<column>         clips left out of the build, with the reason

Every dataset but the features has a ``digest`` attribute, and the root's
``digest`` covers the other root attributes (see :mod:`featstore.digest`).
Every array is readable with plain h5py (``f["fold3/logmel"][i]``); the reader
below adds the bookkeeping and checks what it reads against the digests.
``FeatureConfig.stored_features`` lists the feature datasets of a store and
their shapes and types.
"""

import contextlib
import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from .config import FeatureConfig
from .digest import digest_array, digest_rows, digest_strings
from .exceptions import StoreChangedError, StoreConfigError, StoreCorruptError, StoreFormatError

__all__ = ["FeatureStore", "FEATURES", "FORMAT_VERSION", "VIEWS"]

FORMAT_VERSION = 3
READABLE_VERSIONS = (2, 3)
FEATURES = ("waveform", "logmel", "mfcc_stats", "mfcc_delta_stats")
VIEWS = "logmel_views"
_VIEW_BLOCK = 64  # clips read at a time into the views array
LABEL = "label"
METADATA = "metadata"
DIGEST = "digest"
REJECTED = "rejected"
KINDS = {"str": str, "int": np.int64, "float": np.float64}
# What featstore adds to every clip's metadata.
ORIGINAL_COLUMNS = {"orig_sample_rate": "int", "orig_channels": "int", "orig_duration": "float"}
REJECTED_COLUMNS = ("file", "fold", "class", "reason")
# Format 2 stores: UrbanSound8K's columns, folds from the group names.
LEGACY_COLUMNS = {"path": "slice_file_name", "label": "class", "class_id": "classID", "fold": "fold", "group": "fsID"}
LEGACY_METADATA = {"slice_file_name": "str", "fsID": "int", "start": "float", "end": "float", "salience": "int",
                   "fold": "int", "classID": "int", "class": "str"}
LEGACY_REJECTED_COLUMNS = ("slice_file_name", "fold", "classID", "reason")
# Root attributes every store has, and those that hold JSON.
ROOT_ATTRIBUTES = ("format_version", "build_id", "class_names", "feature_config", "versions", "source", "source_info",
                   "created", "n_source_clips", "fold_sizes", "digest_algorithm", "layout", "columns",
                   "metadata_columns", "class_ids")
JSON_ATTRIBUTES = ("class_names", "feature_config", "versions", "source_info", "fold_sizes", "columns",
                   "metadata_columns", "class_ids")
FIX = "`python -m featstore verify PATH` lists every problem; rebuild the store (build --overwrite)."


def fold_group(fold) -> str:
    """The group of a fold: ``fold3`` for fold 3, ``fold-train`` for the split "train"."""
    return f"fold{fold}" if isinstance(fold, (int, np.integer)) else f"fold-{fold}"


def _typed(kind):
    return KINDS[kind]


def store_layout(attrs: dict) -> dict:
    """What a store's root attributes say of its layout, for either format.

    Returns
    -------
    dict
        ``sizes``: ``{fold: clips}`` in fold order; ``columns``: the parts'
        columns; ``metadata``: ``{column: kind}`` of every stored metadata
        column, featstore's own included; ``rejected``: the rejected table's
        columns; ``layout``; ``class_ids``: a list, or None.

    Raises
    ------
    KeyError, ValueError, TypeError
        If an attribute is missing or malformed.
    """
    version = int(attrs["format_version"])
    if version == 2:
        sizes = {int(k): int(v) for k, v in json.loads(attrs["fold_sizes"]).items()}
        return {"sizes": dict(sorted(sizes.items())), "columns": dict(LEGACY_COLUMNS),
                "metadata": {**LEGACY_METADATA, **ORIGINAL_COLUMNS}, "rejected": LEGACY_REJECTED_COLUMNS,
                "layout": "urbansound8k", "class_ids": list(range(len(json.loads(attrs["class_names"]))))}
    pairs = json.loads(attrs["fold_sizes"])
    sizes = {}
    for fold, n in pairs:
        if isinstance(fold, bool) or not isinstance(fold, (int, str)) or isinstance(n, bool) or not isinstance(n, int):
            raise ValueError(f"fold_sizes holds {[fold, n]!r}, not a [fold, clips] pair")
        sizes[fold] = n
    metadata = {str(column): str(kind) for column, kind in json.loads(attrs["metadata_columns"])}
    if any(kind not in KINDS for kind in metadata.values()):
        raise ValueError(f"metadata_columns has kinds outside {list(KINDS)}")
    columns = json.loads(attrs["columns"])
    if set(columns) != set(LEGACY_COLUMNS):
        raise ValueError(f"columns names {sorted(columns)}, expected {sorted(LEGACY_COLUMNS)}")
    columns = {part: columns[part] for part in LEGACY_COLUMNS}  # path, label, class_id, fold, group
    class_ids = json.loads(attrs["class_ids"])
    if class_ids is not None and (not isinstance(class_ids, list) or not all(
            i is None or (isinstance(i, int) and not isinstance(i, bool)) for i in class_ids)):
        raise ValueError(f"class_ids is {class_ids!r}, not a list of ids")
    return {"sizes": sizes, "columns": columns, "metadata": {**metadata, **ORIGINAL_COLUMNS},
            "rejected": REJECTED_COLUMNS, "layout": str(attrs["layout"]), "class_ids": class_ids}


def clip_bytes(config: FeatureConfig) -> int:
    """The bytes of one clip's features in a store of ``config``."""
    return sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in config.stored_features.values())


def column_digest(values, kind) -> int:
    """The digest of a metadata (or rejected-table) column as stored."""
    return digest_strings(values) if kind is str else digest_array(np.asarray(values, dtype=kind))


def read_column(dataset, kind):
    """A stored column as numpy values (str columns decoded)."""
    return dataset.asstr()[...] if kind is str else dataset[...]


def _concat_metadata(frames: list, kinds: dict) -> pd.DataFrame:
    """The metadata frames of some folds as one; typed and empty for no folds."""
    if frames:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame({c: pd.Series([], dtype=object if k == "str" else KINDS[k]) for c, k in kinds.items()})


class FeatureStore:
    """Read access to a feature store; opens the file only for the duration of a call.

    Holding just the path keeps the object picklable, so it can be sent to
    joblib workers, each of which opens the file itself. Each call opens the file
    once, so what it returns comes from one file: while a rebuild replaces the
    store (it renames a complete new file into place), a call reads wholly the
    old store or wholly the new one. A call that finds another build's store at
    the path than the one this object was opened on raises
    :class:`StoreChangedError` rather than mix the two.

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
        The classes; the labels ``y`` index them.
    class_ids : tuple or None
        The dataset's id of each class, where it has a class-id column (for
        UrbanSound8K and ESC-50 the labels; for ESC-10 the ESC-50 ids 0, 1, 10, ...).
    folds : tuple
        The folds, ints (UrbanSound8K's 1..10) or split names (``"train"``,
        ``"test"``), in the dataset's order.
    layout : str
        The dataset layout the build read: ``"urbansound8k"``, ``"esc50"``,
        ``"esc10"``, ``"table"`` or ``"folders"``.
    columns : dict of str to str or None
        Which metadata column holds each clip's ``"path"``, class name
        (``"label"``), ``"class_id"``, ``"fold"`` and recording (``"group"``); None
        where the dataset has none. For UrbanSound8K: ``slice_file_name``,
        ``class``, ``classID``, ``fold``, ``fsID``.
    source : str
        The description of the source, e.g. ``"synthetic (1000 clips, seed 0)"``.
    source_info : dict
        What the source was: ``{"name", "size"}``, plus ``"seed"`` for synthetic data.
    build_id : str
        A random id each build gives its store.
    view_names : tuple of str
        The views of ``load("logmel", views=True)``, ``"original"`` first
        (``"pitch-2"``, ``"stretch0.81"``, ...); ``()`` for a store without views.

    Raises
    ------
    StoreFormatError
        If ``path`` is not a feature store, or one of another format version.
    StoreCorruptError
        If its attributes are damaged.

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
        except OSError as exc:
            raise StoreFormatError(f"{self.path} is not a readable HDF5 file ({exc}).") from exc
        except (RuntimeError, KeyError, ValueError) as exc:
            raise StoreCorruptError(f"{self.path} is damaged: its root group cannot be read ({exc}). {FIX}") from exc
        if "feature_config" not in attrs or "format_version" not in attrs:
            raise StoreFormatError(
                f"{self.path} is an HDF5 file but not a feature store (no feature_config "
                f"attribute). Build one with `python -m featstore build`."
            )
        check_format_version(self.path, attrs["format_version"])
        try:
            self._read_attributes(attrs)
        except (KeyError, ValueError, TypeError) as exc:
            if isinstance(exc, StoreFormatError):
                raise
            raise StoreCorruptError(f"{self.path} is damaged: its attributes cannot be read ({exc}). {FIX}") from exc
        if config is not None and config != self.config:
            diff = ", ".join(f"{k}: store {a!r} vs asked {b!r}" for k, (a, b) in self.config.differences(config).items())
            raise StoreConfigError(
                f"{self.path} was built with another feature configuration ({diff}). "
                f"Rebuild it with the configuration you want, or open it without one."
            )

    def _read_attributes(self, attrs: dict):
        from .digest import digest_attrs

        if int(attrs["digest"]) != digest_attrs({k: v for k, v in attrs.items() if k != DIGEST}):
            raise StoreCorruptError(f"{self.path} is damaged: its attributes disagree with their digest. {FIX}")
        self.build_id = str(attrs["build_id"])
        self.config = FeatureConfig.from_json(attrs["feature_config"])
        self.view_names = self.config.view_names
        self.class_names = tuple(json.loads(attrs["class_names"]))
        self.versions = json.loads(attrs["versions"])
        self.source = str(attrs["source"])
        self.source_info = json.loads(attrs["source_info"])
        self.created = str(attrs["created"])
        self.n_source_clips = int(attrs["n_source_clips"])
        layout = store_layout(attrs)
        self._sizes = layout["sizes"]
        self.folds = tuple(self._sizes)
        self.columns = layout["columns"]
        self.class_ids = None if layout["class_ids"] is None else tuple(layout["class_ids"])
        self.layout = layout["layout"]
        self._metadata_kinds = layout["metadata"]
        self._rejected_columns = layout["rejected"]

    def __repr__(self):
        return f"FeatureStore({str(self.path)!r})"

    def _open(self) -> h5py.File:
        """The file, if it is still the store this object was opened on."""
        try:
            f = h5py.File(self.path, "r")
        except OSError as exc:
            raise StoreChangedError(
                f"{self.path} cannot be opened any more ({exc}); it was there when this FeatureStore was created."
            ) from exc
        try:
            same = str(f.attrs.get("build_id")) == self.build_id
        except (OSError, RuntimeError, KeyError):
            same = False
        if not same:
            f.close()
            raise StoreChangedError(
                f"{self.path} holds another store than when this FeatureStore was opened (it was rebuilt "
                f"meanwhile); its data would not match what was read before. Open it again: FeatureStore(path)."
            )
        return f

    def _check_folds(self, folds):
        """The folds asked for, as the store names them (``"3"`` finds fold 3)."""
        if folds is None:
            return self.folds
        known = {str(fold): fold for fold in self.folds}
        asked = [f.item() if isinstance(f, np.generic) else f for f in np.atleast_1d(np.asarray(folds, dtype=object))]
        absent = [f for f in asked if str(f) not in known]
        if absent:
            raise StoreFormatError(f"Folds {absent} are not in {self.path}; it holds folds {list(self.folds)}.")
        return [known[str(f)] for f in asked]

    def fold_sizes(self) -> dict:
        """Number of clips in each fold, ``{fold: n}``."""
        return {fold: self._sizes.get(fold, 0) for fold in self.folds}

    def __len__(self):
        return sum(self.fold_sizes().values())

    def load(self, feature: str = "logmel", folds=None, *, views: bool = False, check: bool = True):
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
        check : bool, default=True
            Compare every clip, label and metadata column read (and each view) with
            its digest and raise :class:`StoreCorruptError` on a difference. From a
            warm page cache this adds about a quarter to the time of a load; False
            skips it.

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
            The class of each clip, an index into :attr:`class_names` (for
            UrbanSound8K, the classID).
        groups : ndarray of shape (n_clips,)
            The fold of each clip, for ``LeaveOneGroupOut`` and friends: int64,
            or str for named folds.
        metadata : DataFrame
            One row per clip: the dataset's metadata columns plus the original
            sample rate, channel count and duration.

        Raises
        ------
        StoreFormatError
            For an unknown feature or fold, ``views=True`` with another feature
            than "logmel" or on a store without views, or a feature the store
            lacks (one built by an earlier version).
        StoreCorruptError
            If what was read disagrees with its digest, or a dataset has the wrong
            shape or cannot be read: the file was damaged after the build.
        StoreChangedError
            If the store was rebuilt since this object was created.
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
        with self._open() as f:
            fold_groups = [f[fold_group(fold)] for fold in folds]
            for fold, group in zip(folds, fold_groups):
                if feature not in group:
                    raise StoreFormatError(
                        f"{self.path} has no {feature}: it was built by an earlier version of featstore. Rebuild it."
                    )
                labels.append(self._read(fold, group, LABEL, (), np.int64, check=check))
                groups.append(np.full(len(labels[-1]), fold, dtype=np.int64 if isinstance(fold, int) else object))
                frames.append(self._read_metadata(fold, group, check))
            if views:
                X = self._read_views(folds, fold_groups, check)
            elif fold_groups:
                X = np.concatenate([self._read(fold, group, feature, *self.config.stored_features[feature], check=check,
                                               per_row=True) for fold, group in zip(folds, fold_groups)])
            else:
                X = np.empty((0, *self.config.feature_shapes[feature]), np.float32)
        y = np.concatenate(labels) if labels else np.empty(0, np.int64)
        g = self._groups(groups)
        return X, y, g, _concat_metadata(frames, self._metadata_kinds)

    def _groups(self, groups: list) -> np.ndarray:
        if not groups:
            return np.empty(0, np.int64 if all(isinstance(f, int) for f in self.folds) else str)
        g = np.concatenate(groups)
        return g if g.dtype == np.int64 else g.astype(str)

    def _dataset(self, fold, group, name, row_shape, dtype, kind=None):
        """``group[name]``, once its shape and type are those the fold's size and the configuration give."""
        n = self._sizes.get(fold, -1)
        dataset = group[name]
        if dataset.shape != (n, *row_shape) or (kind is not str and dataset.dtype != dtype):
            raise StoreCorruptError(
                f"{self.path}, fold {fold}: {name} has shape {dataset.shape} and type {dataset.dtype}, "
                f"expected {(n, *row_shape)} {np.dtype(dtype)}. {FIX}"
            )
        return dataset

    def _check_rows(self, fold, group, name, values, start=0):
        """Raise unless each row of ``values``, clips ``start...`` of feature ``name``, agrees with its digest."""
        digests = self._read(fold, group[DIGEST], name, (), np.uint64, check=True)[start : start + len(values)]
        bad = np.flatnonzero(digest_rows(values) != digests)
        if len(bad):
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise StoreCorruptError(
                f"{self.path}, fold {fold}: {name} of clip {start + bad[0]}{more} disagrees with its digest: "
                f"the file was changed or damaged after it was built. {FIX}"
            )

    @contextlib.contextmanager
    def _reading(self, fold, name):
        """Turn what h5py raises on a damaged dataset into a StoreCorruptError naming it."""
        try:
            yield
        except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
            if isinstance(exc, StoreFormatError):
                raise
            raise StoreCorruptError(f"{self.path}, fold {fold}: {name} cannot be read ({exc}). {FIX}") from exc

    def _read(self, fold, group, name, row_shape, dtype, *, check, per_row=False, kind=None):
        """One dataset of a fold, its shape checked before reading and its content against its digest."""
        with self._reading(fold, name):
            dataset = self._dataset(fold, group, name, row_shape, dtype, kind)
            values = read_column(dataset, kind) if kind is not None else dataset[...]
            if check and per_row:
                self._check_rows(fold, group, name, values)
            elif check:
                stored = int(dataset.attrs[DIGEST])
                if (column_digest(values, kind) if kind is not None else digest_array(values)) != stored:
                    raise StoreCorruptError(f"{self.path}, fold {fold}: {dataset.name} disagrees with its digest. {FIX}")
            return values

    def _read_views(self, folds, fold_groups: list, check: bool) -> np.ndarray:
        """``(n_clips, n_views, n_mels, n_frames)`` float16, filled in place a block of clips at a time."""
        config, stored = self.config, self.config.stored_features
        sizes = [self._sizes.get(fold, 0) for fold in folds]
        X = np.empty((sum(sizes), len(self.view_names), config.n_mels, config.n_frames), dtype=np.float16)
        offset = 0
        for fold, group, n in zip(folds, fold_groups, sizes):
            with self._reading(fold, VIEWS):
                logmel = self._dataset(fold, group, "logmel", *stored["logmel"])
                views = self._dataset(fold, group, VIEWS, *stored[VIEWS])
                for start in range(0, n, _VIEW_BLOCK):
                    stop = min(start + _VIEW_BLOCK, n)
                    block = logmel[start:stop]
                    X[offset + start : offset + stop, 0] = block  # rounded to the nearest float16
                    views.read_direct(X, np.s_[start:stop], np.s_[offset + start : offset + stop, 1:])
                    if check:
                        self._check_rows(fold, group, "logmel", block, start)
                        self._check_rows(fold, group, VIEWS, X[offset + start : offset + stop, 1:], start)
            offset += n
        return X

    def _read_metadata(self, fold, group, check) -> pd.DataFrame:
        meta = group[METADATA] if METADATA in group else {}
        return pd.DataFrame({c: self._read(fold, meta, c, (), KINDS[kind], check=check, kind=KINDS[kind])
                             for c, kind in self._metadata_kinds.items()})

    def metadata(self, folds=None, *, check: bool = True) -> pd.DataFrame:
        """The metadata of the stored clips of some folds (default: all)."""
        folds = self._check_folds(folds)
        with self._open() as f:
            frames = [self._read_metadata(fold, f[fold_group(fold)], check) for fold in folds]
        return _concat_metadata(frames, self._metadata_kinds)

    def labels(self, folds=None, *, check: bool = True) -> tuple:
        """``(y, groups)`` of some folds (default: all), as :meth:`load` gives them, without the features."""
        folds = self._check_folds(folds)
        with self._open() as f:
            labels = [self._read(fold, f[fold_group(fold)], LABEL, (), np.int64, check=check) for fold in folds]
        groups = [np.full(len(y), fold, dtype=np.int64 if isinstance(fold, int) else object)
                  for fold, y in zip(folds, labels)]
        return (np.concatenate(labels) if labels else np.empty(0, np.int64)), self._groups(groups)

    def rejected(self) -> pd.DataFrame:
        """The clips the build left out, with the reason for each.

        Columns: the dataset's path, fold and class (id, else name) columns
        (UrbanSound8K: ``slice_file_name, fold, classID``), then ``reason``.
        """
        names = self._rejected_columns
        if names == REJECTED_COLUMNS:  # shown under the dataset's own column names
            shown = (self.columns["path"], self.columns["fold"] or "fold",
                     self.columns["class_id"] or self.columns["label"] or "class", "reason")
        else:
            shown = names
        with self._open() as f:
            group = f[REJECTED]
            return pd.DataFrame({name: group[c].asstr()[...] for c, name in zip(names, shown)})

    def counts(self) -> pd.DataFrame:
        """Clips per fold (rows) and class (columns, every class of the store); no rows for a store without clips."""
        y, groups = self.labels()
        if not len(y):
            return pd.DataFrame(index=pd.Index([], name="fold"), dtype=np.int64)
        table = pd.crosstab(pd.Series(groups, name="fold"), pd.Series(np.asarray(self.class_names)[y], name="class"))
        table = table.reindex(index=list(self.folds), columns=list(self.class_names), fill_value=0)
        table.index.name, table.columns.name = "fold", "class"
        return table

    def verify(self) -> list:
        """Check the whole store (see :func:`featstore.verify.verify_store`). Returns the problems found."""
        from .verify import verify_store

        return verify_store(self.path)


def check_format_version(path, version):
    """Raise :class:`StoreFormatError` unless ``version`` is the format this package reads."""
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise StoreFormatError(f"{path} has an unreadable format_version attribute {version!r}. {FIX}") from None
    if version not in READABLE_VERSIONS:
        older = " Stores written before checksums were added are format 1." if version < FORMAT_VERSION else ""
        raise StoreFormatError(
            f"{path} has store format {version}; this version of featstore reads formats "
            f"{', '.join(map(str, READABLE_VERSIONS))}."
            f"{older} Rebuild the store with this version (build --overwrite), or read it with the "
            f"featstore that wrote it."
        )
