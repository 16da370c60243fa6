"""Writing a store file: every dataset laid out before decoding, clips written in place, the rest at the end.

The writer creates every fold's feature datasets at their planned length (the
fold's usable metadata rows), with their file space allocated, before the first
clip is written. From then until :meth:`StoreWriter.finish`, writing clips
writes only their chunks: HDF5's metadata does not change. So the file of a
writer that died (SIGKILL included) still opens, and the clips it wrote before
its last :meth:`~StoreWriter.flush` can be checked against their digests and
kept (:mod:`featstore.checkpoint`). ``finish`` cuts each fold to the clips
written, and adds the labels, metadata, digests and attributes.

A failure to write (a full disk, an I/O error) abandons the file before it is
raised as one featstore error: its descriptor is pointed at an anonymous
in-memory file and then closed, so that HDF5's closing writes cannot fail too
(when they do, HDF5 crashes the process at exit).
"""

import contextlib
import json
import os
import re
import uuid
from pathlib import Path

import h5py
import numpy as np

from .digest import ALGORITHM, digest_array, digest_attrs
from .exceptions import Interrupted, OutputError
from .output import write_error
from .store import (
    DIGEST, FEATURES, FORMAT_VERSION, LABEL, METADATA, REJECTED, REJECTED_COLUMNS, STORED_METADATA_COLUMNS,
    column_digest, fold_group,
)

__all__ = ["StoreWriter", "ReopenError", "store_size"]

_STRING = h5py.string_dtype()


def store_size(config, n_clips: int) -> int:
    """The size in bytes of a store of ``n_clips`` clips, a little over what a build writes.

    Four bytes a feature value, 1 KB a clip for its digests, label, metadata and
    chunk index (about 400 bytes are used), and 1 MB for the rest.
    """
    values = sum(int(np.prod(shape)) for shape in config.feature_shapes.values())
    return n_clips * (4 * values + 1024) + 2**20


class ReopenError(Exception):
    """An existing file is not one this writer can go on with (see :meth:`StoreWriter.reopen`)."""


class StoreWriter:
    """Writes one new store file; used by :func:`featstore.build_store`.

    Parameters
    ----------
    path : str or Path
        The file to create; it must not exist.
    config : FeatureConfig
    planned : dict of int to int
        The most clips each fold can get; a fold not in it gets none.
    attributes : dict
        Root attributes: ``class_names``, ``source``, ``source_info``, ``versions``,
        ``created`` (see :mod:`featstore.store`).
    out : str or Path, optional
        Where the store goes when complete (default: ``path``), and ``needed``, its
        size in bytes: for the message of a full disk.
    """

    def __init__(self, path, config, planned: dict, attributes: dict, *, out=None, needed: int | None = None,
                 _reopen=False):
        self.path = Path(path)
        self.out = Path(out) if out is not None else self.path
        self.config = config
        self.planned = {int(k): int(v) for k, v in planned.items() if v > 0}
        self.needed = needed
        self.file = None
        with self._writing():
            if _reopen:
                self.file = h5py.File(self.path, "r+")
                self._datasets = self._check_layout(attributes)
            else:
                self.file = h5py.File(self.path, "x")
                self._datasets = self._create(attributes)
                self.file.flush()

    @classmethod
    def reopen(cls, path, config, planned: dict, attributes: dict, *, out=None, needed: int | None = None):
        """Go on writing a file a writer of the same plan created (for a resumed build).

        Raises
        ------
        ReopenError
            If the file is not exactly what such a writer leaves before ``finish``.
        """
        try:
            return cls(path, config, planned, attributes, out=out, needed=needed, _reopen=True)
        except (OutputError, OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
            raise ReopenError(str(exc)) from exc

    def _create(self, attributes: dict) -> dict:
        self.file.attrs["format_version"] = FORMAT_VERSION
        self.file.attrs["feature_config"] = self.config.to_json()
        self.file.attrs["class_names"] = json.dumps(list(attributes["class_names"]))
        self.file.attrs["versions"] = json.dumps(attributes["versions"], sort_keys=True)
        self.file.attrs["source"] = attributes["source"]
        self.file.attrs["source_info"] = json.dumps(attributes.get("source_info") or {}, sort_keys=True)
        self.file.attrs["created"] = attributes["created"]
        datasets = {}
        for fold, n in sorted(self.planned.items()):
            group = self.file.create_group(fold_group(fold))
            datasets[fold] = {}
            for name, shape in self.config.feature_shapes.items():
                # One clip per chunk for the big arrays: reading one clip, or one fold,
                # touches nothing else. The small statistics share chunks.
                chunk_rows = 1 if len(shape) > 1 or shape[0] > 1024 else 256
                dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
                dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)  # all chunks now: no index changes later
                dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)  # ...without writing zeros into them first
                datasets[fold][name] = group.create_dataset(
                    name, shape=(n, *shape), maxshape=(None, *shape), dtype=np.float32,
                    chunks=(min(chunk_rows, n), *shape), dcpl=dcpl,
                )
        return datasets

    def _check_layout(self, attributes: dict) -> dict:
        f = self.file
        if int(f.attrs["format_version"]) != FORMAT_VERSION or f.attrs["feature_config"] != self.config.to_json():
            raise ReopenError("another format or feature configuration")
        expected = {fold_group(fold) for fold in self.planned}
        if set(f) != expected:
            raise ReopenError(f"groups {sorted(f)}, expected {sorted(expected)}")
        datasets = {}
        for fold, n in self.planned.items():
            group = f[fold_group(fold)]
            if set(group) != set(FEATURES):
                raise ReopenError(f"fold {fold} holds {sorted(group)}: the build was finishing")
            datasets[fold] = {name: group[name] for name in FEATURES}
            for name, shape in self.config.feature_shapes.items():
                if datasets[fold][name].shape != (n, *shape) or datasets[fold][name].dtype != np.float32:
                    raise ReopenError(f"fold {fold}: {name} has shape {datasets[fold][name].shape}")
        return datasets

    @contextlib.contextmanager
    def _writing(self):
        """Abandon the file on any failure, and turn an I/O error into a featstore error."""
        try:
            yield
        except Interrupted:
            raise
        except Exception as exc:
            self.abandon()
            code = _errno(exc)
            if code:
                raise write_error(self.out, OSError(code, os.strerror(code)), self.needed) from exc
            raise

    def write(self, fold: int, start: int, features: dict):
        """Write clips ``start, start + 1, ...`` of ``fold``: ``features`` maps each feature to ``(n, ...)``."""
        with self._writing():
            for name, dataset in self._datasets[fold].items():
                array = features[name]
                dataset[start : start + len(array)] = array

    def read(self, fold: int, name: str, start: int, stop: int) -> np.ndarray:
        """Clips ``start:stop`` of one feature of ``fold``, as written."""
        return self._datasets[fold][name][start:stop]

    def flush(self):
        """Hand what was written to the operating system (no fsync): it survives the death of the process."""
        with self._writing():
            self.file.flush()

    def finish(self, clips: dict, rejected: list, n_source_clips: int):
        """Cut each fold to its clips, write the rest of the store, and close the file.

        Parameters
        ----------
        clips : dict of int to (list of dict, dict of str to ndarray)
            Per fold, the metadata rows of its clips (in the order written) and the
            digests of their features (``{feature: (n,) uint64}``).
        rejected : list of dict
        n_source_clips : int
        """
        with self._writing():
            f = self.file
            sizes = {}
            for fold in self.planned:
                rows, digests = clips.get(fold, ([], {}))
                if not rows:
                    del f[fold_group(fold)]
                    continue
                sizes[fold] = n = len(rows)
                group = f[fold_group(fold)]
                for name in FEATURES:
                    group[name].resize(n, axis=0)
                    _dataset(group, f"{DIGEST}/{name}", np.asarray(digests[name], dtype=np.uint64))
                _dataset(group, LABEL, np.array([row["classID"] for row in rows], dtype=np.int64))
                for column, kind in STORED_METADATA_COLUMNS.items():
                    _column(group, f"{METADATA}/{column}", [row[column] for row in rows], kind)
            table = f.create_group(REJECTED)
            for column in REJECTED_COLUMNS:
                _column(table, column, [str(r.get(column, "")) for r in rejected], str)
            f.attrs["n_source_clips"] = n_source_clips
            f.attrs["fold_sizes"] = json.dumps({str(k): v for k, v in sorted(sizes.items())})
            f.attrs["digest_algorithm"] = ALGORITHM
            f.attrs["build_id"] = uuid.uuid4().hex
            f.attrs[DIGEST] = np.uint64(digest_attrs(dict(f.attrs)))
            f.close()

    def close(self):
        """Close the file, if still open (after a failure, :meth:`abandon` already did)."""
        if self.file is not None and self.file.id.valid:
            with self._writing():
                self.file.close()

    def abandon(self):
        """Give up the file: close it without writing anything more to the disk."""
        if self.file is None or not self.file.id.valid:
            return
        with contextlib.suppress(Exception):
            fd = self.file.id.get_vfd_handle()
            if hasattr(os, "memfd_create"):
                spare = os.memfd_create("featstore-abandoned")
                os.dup2(spare, fd)
                os.close(spare)
            else:  # free the space the closing writes need
                os.ftruncate(fd, 0)
        with contextlib.suppress(Exception):
            self.file.close()


def _errno(exc: Exception):
    """The errno of a failed system call behind an h5py error (which may be a ValueError that only prints it)."""
    if isinstance(exc, OSError) and exc.errno:
        return exc.errno
    match = re.search(r"errno = (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _dataset(group, name, values: np.ndarray):
    dataset = group.create_dataset(name, data=values)
    dataset.attrs[DIGEST] = np.uint64(digest_array(values))


def _column(group, name, values: list, kind):
    data = np.array([str(v) for v in values], dtype=object) if kind is str else np.asarray(values, dtype=kind)
    dataset = group.create_dataset(name, data=data, dtype=_STRING if kind is str else kind)
    dataset.attrs[DIGEST] = np.uint64(column_digest(values, kind))
