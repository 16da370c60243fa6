"""Checking a whole store: each problem found is one line naming the fold and dataset, and nothing crashes.

:func:`verify_store` opens the file read-only and checks, trusting no size the file
states before it has checked it against the rest:

* the file opens as HDF5 (a truncated one does not: HDF5 compares its length with
  the length its superblock records) and has this package's format version;
* the root attributes agree with their digest and can be read: the feature
  configuration, the class names, the folds and their sizes, the metadata columns;
* each fold has every dataset of the layout, with the type and shape the fold's
  size and the feature configuration give. A dataset is read only once its shape
  is right, and in blocks of at most 16 MB, so that a damaged size cannot make
  verify try to allocate terabytes;
* the features of every clip (its augmented views too) agree with their digests
  and are finite;
* the labels, the metadata columns and the digest arrays agree with their
  digests; the labels index the class names, the metadata's class name column
  (UrbanSound8K: ``class``) names the label's class, and its fold column holds
  the fold;
* the rejected-clip table is whole and agrees with its digests, and the clips
  stored plus those rejected are the clips of the source.

Whatever HDF5 raises while reading a damaged file becomes a problem line that
names what was being read.
"""

import contextlib
import json
from collections import Counter
from pathlib import Path

import h5py
import numpy as np

from .config import FeatureConfig
from .digest import digest_array, digest_attrs, digest_rows
from .exceptions import StoreFormatError
from .store import (
    DIGEST, FEATURES, KINDS, LABEL, METADATA, REJECTED, VIEWS, check_format_version, clip_bytes, column_digest,
    fold_group, read_column, store_layout,
)

__all__ = ["verify_store"]

BLOCK_BYTES = 16 * 2**20
MAX_LISTED = 5  # clips named in one problem line


def verify_store(path) -> list:
    """Check a store file from end to end.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of str
        One line per problem, e.g. ``"fold 3: logmel of clip 17 disagrees with its
        digest (changed or damaged after the build)"``; empty if the store is whole.
    """
    path = Path(path)
    if not path.is_file():
        return [f"no file at {path}"]
    try:
        f = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001 - whatever HDF5 makes of a damaged file
        return [f"{path} cannot be opened as an HDF5 file ({_first_line(exc)}): it is truncated, damaged or no store"]
    checker = _Checker(f, path.stat().st_size)
    try:
        checker.run()
    finally:
        with contextlib.suppress(Exception):
            f.close()
    return checker.problems


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _clips(indices) -> str:
    listed = ", ".join(str(i) for i in indices[:MAX_LISTED])
    more = f" and {len(indices) - MAX_LISTED} more" if len(indices) > MAX_LISTED else ""
    return f"clip {listed}" if len(indices) == 1 else f"clips {listed}{more}"


class _Checker:
    def __init__(self, f: h5py.File, file_size: int):
        self.f = f
        self.file_size = file_size
        self.problems = []

    def problem(self, text: str):
        self.problems.append(text)

    @contextlib.contextmanager
    def reading(self, what: str):
        """Turn anything raised while reading ``what`` into a problem line."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - h5py raises OSError, RuntimeError, KeyError, ... on damage
            self.problem(f"{what} cannot be read ({_first_line(exc)})")

    def run(self):
        attrs = self.root_attributes()
        if attrs is None:
            return
        config, class_names, layout, n_source = attrs
        sizes = None if layout is None else layout["sizes"]
        groups = []
        with self.reading("the list of folds"):
            groups = [k for k in self.f if k.startswith("fold")]
        in_file = [fold for fold in sizes or {} if fold_group(fold) in groups]
        unknown = sorted(set(groups) - {fold_group(fold) for fold in sizes or {}})
        if sizes is not None and unknown:
            self.problem(f"groups {unknown} are not folds of the fold_sizes attribute")
        elif sizes is None:  # no sizes to trust: check the groups named like integer folds
            in_file = sorted(int(k[4:]) for k in groups if k[4:].isdigit())
        total = 0
        for fold in list(sizes or {}) + [f for f in in_file if f not in (sizes or {})]:
            if fold not in in_file:
                self.problem(f"fold {fold}: the group {fold_group(fold)} is missing")
                continue
            n = self.fold_size(fold, sizes, config)
            if n is not None:
                total += n
                self.check_fold(fold, n, config, class_names, layout)
        if not in_file and not sizes:
            self.problem("the store holds no clips")
        self.check_rejected(total, n_source, layout)

    def root_attributes(self):
        attrs = None
        with self.reading("the root attributes"):
            attrs = dict(self.f.attrs)
        if attrs is None:
            return None
        if "format_version" not in attrs or "feature_config" not in attrs:
            self.problem("not a feature store: no format_version or feature_config attribute")
            return None
        try:
            check_format_version("the file", attrs["format_version"])
        except StoreFormatError as exc:
            self.problem(str(exc))
            return None
        with self.reading("the root attributes' digest"):
            if int(attrs[DIGEST]) != digest_attrs({k: v for k, v in attrs.items() if k != DIGEST}):
                self.problem("the root attributes disagree with their digest (one was changed or damaged)")
        parsed = {}
        for name, parse in (("feature_config", FeatureConfig.from_json), ("class_names", _class_names),
                            ("n_source_clips", int)):
            with self.reading(f"the {name} attribute"):
                parsed[name] = parse(attrs[name])
        with self.reading("the fold_sizes, columns and metadata_columns attributes"):
            parsed["layout"] = _checked_layout(attrs)
        return tuple(parsed.get(name) for name in ("feature_config", "class_names", "layout", "n_source_clips"))

    def fold_size(self, fold, sizes, config):
        """The fold's size from ``fold_sizes``, if plausible; else the length most of its datasets have."""
        n = (sizes or {}).get(fold)
        row_bytes = clip_bytes(config) if config else 8
        if n is not None and n * row_bytes > self.file_size:
            self.problem(f"fold {fold}: fold_sizes says {n} clips, more than the file can hold")
            n = None
        if n is None:
            lengths = Counter()
            with self.reading(f"fold {fold}"):
                self.f[fold_group(fold)].visititems(
                    lambda name, obj: lengths.update([obj.shape[0]]) if isinstance(obj, h5py.Dataset) and obj.shape else None
                )
            n = lengths.most_common(1)[0][0] if lengths else None
            if n is None or n * row_bytes > self.file_size:
                self.problem(f"fold {fold}: its size cannot be told; its datasets were not read")
                return None
            if sizes is not None:
                self.problem(f"fold {fold}: not in the fold_sizes attribute")
        return n

    def dataset(self, group, name: str, where: str, shape: tuple, dtype):
        """``group[name]`` if it exists with ``shape`` and ``dtype`` (str: a string type); else None and a problem."""
        with self.reading(f"{where}: {name}"):
            if name not in group:
                self.problem(f"{where}: dataset {name} is missing")
                return None
            dataset = group[name]
            if not isinstance(dataset, h5py.Dataset):
                self.problem(f"{where}: {name} is not a dataset")
            elif dataset.shape != shape:
                self.problem(f"{where}: {name} has shape {dataset.shape}, expected {shape}")
            elif (h5py.check_string_dtype(dataset.dtype) is None) if dtype is str else dataset.dtype != dtype:
                self.problem(f"{where}: {name} has type {dataset.dtype}, expected {'a string' if dtype is str else np.dtype(dtype)}")
            else:
                return dataset
        return None

    def digested(self, dataset, where: str, name: str, kind=None):
        """The whole of a small dataset, if it agrees with its ``digest`` attribute; else None and a problem."""
        values = None
        with self.reading(f"{where}: {name}"):
            values = read_column(dataset, kind) if kind is not None else dataset[...]
            if int(dataset.attrs[DIGEST]) != (column_digest(values, kind) if kind is not None else digest_array(values)):
                self.problem(f"{where}: {name} disagrees with its digest (changed or damaged after the build)")
                return None
        return values

    def check_fold(self, fold, n: int, config, class_names, layout):
        where = f"fold {fold}"
        group = None
        with self.reading(where):
            group = self.f[fold_group(fold)]
        if group is None:
            return
        names = list(FEATURES)
        if config is not None:
            names = list(config.stored_features)
        else:
            with self.reading(f"{where}: {VIEWS}"):
                names += [VIEWS] if VIEWS in group else []
        for name in names:
            self.check_feature(group, where, name, n, config)
        labels = self.dataset(group, LABEL, where, (n,), np.int64)
        labels = None if labels is None else self.digested(labels, where, LABEL)
        if layout is None:
            return
        columns = {}
        for column, kind in layout["metadata"].items():
            kind = KINDS[kind]
            dataset = self.dataset(group, f"{METADATA}/{column}", where, (n,), kind)
            if dataset is not None:
                columns[column] = self.digested(dataset, where, f"{METADATA}/{column}", kind)
        label_column, fold_column = layout["columns"]["label"], layout["columns"]["fold"]
        if labels is not None and class_names is not None:
            outside = np.flatnonzero((labels < 0) | (labels >= len(class_names)))
            if len(outside):
                self.problem(f"{where}: {LABEL} of {_clips(outside)} outside the class ids 0..{len(class_names) - 1} "
                             f"(first: {labels[outside[0]]})")
            elif columns.get(label_column) is not None:
                wrong = np.flatnonzero(columns[label_column] != np.array(class_names, dtype=object)[labels])
                if len(wrong):
                    self.problem(f"{where}: {METADATA}/{label_column} of {_clips(wrong)} does not name the class "
                                 f"of its label")
        id_column, class_ids = layout["columns"]["class_id"], layout["class_ids"]
        ids = columns.get(id_column)
        if labels is not None and ids is not None and class_ids is not None and class_names is not None:
            inside = (labels >= 0) & (labels < len(class_ids))
            expected = np.array([-1 if i is None else i for i in class_ids] + [-1])[np.where(inside, labels, -1)]
            wrong = np.flatnonzero(~inside | ((expected != -1) & (ids != expected)))
            if len(wrong):
                self.problem(f"{where}: {LABEL} of {_clips(wrong)} differs from {METADATA}/{id_column}")
        folds = columns.get(fold_column)
        if folds is not None and (folds != fold).any():
            self.problem(f"{where}: {METADATA}/{fold_column} of {_clips(np.flatnonzero(folds != fold))} is not {fold}")

    def check_feature(self, group, where: str, name: str, n: int, config):
        digests = self.dataset(group, f"{DIGEST}/{name}", where, (n,), np.uint64)
        digests = None if digests is None else self.digested(digests, where, f"{DIGEST}/{name}")
        dataset = None
        if config is not None:
            row_shape, dtype = config.stored_features[name]
            dataset = self.dataset(group, name, where, (n, *row_shape), np.dtype(dtype))
        else:  # no usable configuration: trust the dataset's own row shape, if small
            dtype = np.dtype(np.float16 if name == VIEWS else np.float32)
            with self.reading(f"{where}: {name}"):
                dataset = group[name]
                row_bytes = int(np.prod(dataset.shape[1:])) * dtype.itemsize
                if dataset.dtype != dtype or dataset.shape[:1] != (n,) or row_bytes > BLOCK_BYTES:
                    self.problem(f"{where}: {name} has shape {dataset.shape} and type {dataset.dtype}")
                    dataset = None
        if dataset is None:
            return
        rows_per_block = max(1, BLOCK_BYTES // max(1, dataset.dtype.itemsize * int(np.prod(dataset.shape[1:]))))
        changed, non_finite = [], []
        for start in range(0, n, rows_per_block):
            with self.reading(f"{where}: {name} of clips {start}..{min(start + rows_per_block, n) - 1}"):
                block = dataset[start : start + rows_per_block]
                non_finite += list(start + np.flatnonzero(~np.isfinite(block.reshape(len(block), -1)).all(axis=1)))
                if digests is not None:
                    changed += list(start + np.flatnonzero(digest_rows(block) != digests[start : start + len(block)]))
        if changed:
            self.problem(f"{where}: {name} of {_clips(changed)} disagrees with its digest "
                         f"(changed or damaged after the build)")
        if non_finite:
            self.problem(f"{where}: {name} of {_clips(non_finite)} has NaN or infinite values")

    def check_rejected(self, total: int, n_source, layout):
        group = None
        with self.reading("the rejected-clip table"):
            if REJECTED not in self.f:
                self.problem("no rejected-clip table: the build did not finish")
                return
            group = self.f[REJECTED]
        if group is None:
            return
        n_rejected = None
        for column in () if layout is None else layout["rejected"]:
            with self.reading(f"{REJECTED}/{column}"):
                length = group[column].shape[0] if column in group else None
            if length is None or (n_source is not None and length > n_source):
                self.problem(f"{REJECTED}: dataset {column} is missing or too long")
                return
            dataset = self.dataset(group, column, REJECTED, (length,), str)
            if dataset is not None and self.digested(dataset, REJECTED, column, str) is not None:
                n_rejected = length if n_rejected in (None, length) else -1
        if n_rejected == -1:
            self.problem(f"{REJECTED}: its columns have different lengths")
        elif n_rejected is not None and n_source is not None and total + n_rejected != n_source:
            self.problem(f"{total} stored + {n_rejected} rejected clips != {n_source} clips in the source metadata")


def _class_names(text) -> tuple:
    names = json.loads(text)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"not a list of names: {text!r}")
    return tuple(names)


def _checked_layout(attrs) -> dict:
    layout = store_layout(attrs)
    if any(n < 0 for n in layout["sizes"].values()):
        raise ValueError(f"negative sizes: {attrs['fold_sizes']!r}")
    return layout
