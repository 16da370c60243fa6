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
in-memory file and then closed, so that HDF5's closing writes cannot fail too.
(When closing a file fails, HDF5 is left in a state in which closing it again,
as the library does when the process exits, crashes the process. The file is
therefore flushed before it is closed: a flush that fails can be recovered
from, and a close after a flush has next to nothing left to write. Should a
close fail all the same, :func:`exit_would_crash` says so, and the command line
ends the process without HDF5's clean-up.)
"""

import contextlib
import ctypes
import json
import os
import re
import sys
import traceback
import uuid
from pathlib import Path

import h5py
import numpy as np

from .digest import ALGORITHM, digest_array, digest_attrs
from .exceptions import Interrupted, OutputError
from .output import NO_ROOM, write_error
from .sources.base import LABEL as ROW_LABEL
from .store import (
    DIGEST, FORMAT_VERSION, KINDS, LABEL, METADATA, ORIGINAL_COLUMNS, REJECTED, REJECTED_COLUMNS, clip_bytes,
    column_digest, fold_group,
)

__all__ = ["StoreWriter", "ReopenError", "exit_would_crash", "store_size"]

_STRING = h5py.string_dtype()
_UNCLOSED = []  # files whose close failed: HDF5 crashes when it tries again at exit


def exit_would_crash() -> bool:
    """Whether closing a file failed in this process, so that HDF5 would crash when the process exits."""
    return bool(_UNCLOSED)


def _unclosable(path):
    """Record that closing ``path`` failed.

    Its objects that Python frees later fail to write in turn, each with a
    traceback; the failure is already raised as one error, so from now on those
    are not printed.
    """
    if not _UNCLOSED:
        _catch_freeing_errors([])
    _UNCLOSED.append(path)


# What finish() may write: for each clip its digests, label, metadata and chunk
# index (about 400 bytes are used), and then the rest of the store.
FINISH_BYTES_PER_CLIP = 1024
FINISH_BYTES = 2**20


def store_size(config, n_clips: int) -> int:
    """The size in bytes of a store of ``n_clips`` clips, a little over what a build writes.

    The bytes of every feature value (two for the float16 views, four for the
    rest), and what :meth:`StoreWriter.finish` reserves.
    """
    return n_clips * (clip_bytes(config) + FINISH_BYTES_PER_CLIP) + FINISH_BYTES


class ReopenError(Exception):
    """An existing file is not one this writer can go on with (see :meth:`StoreWriter.reopen`)."""


class StoreWriter:
    """Writes one new store file; used by :func:`featstore.build_store`.

    Parameters
    ----------
    path : str or Path
        The file to create; it must not exist.
    config : FeatureConfig
    planned : dict
        The most clips each fold can get, in fold order; a fold not in it gets none.
    attributes : dict
        Root attributes: ``class_names``, ``class_ids``, ``layout``, ``columns`` (a dict),
        ``metadata_columns`` (``{column: kind}``, the dataset's), ``source``,
        ``source_info``, ``versions``, ``created`` (see :mod:`featstore.store`).
    out : str or Path, optional
        Where the store goes when complete (default: ``path``), and ``needed``, its
        size in bytes: for the message of a full disk.
    """

    def __init__(self, path, config, planned: dict, attributes: dict, *, out=None, needed: int | None = None,
                 _reopen=False):
        self.path = Path(path)
        self.out = Path(out) if out is not None else self.path
        self.config = config
        self.planned = {k: int(v) for k, v in planned.items() if v > 0}
        self.metadata_columns = {**attributes["metadata_columns"], **ORIGINAL_COLUMNS}
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
        self.file.attrs["class_ids"] = json.dumps(None if attributes.get("class_ids") is None
                                                  else list(attributes["class_ids"]))
        self.file.attrs["layout"] = attributes["layout"]
        self.file.attrs["columns"] = json.dumps(attributes["columns"], sort_keys=True)
        self.file.attrs["metadata_columns"] = json.dumps([[c, k] for c, k in attributes["metadata_columns"].items()])
        self.file.attrs["versions"] = json.dumps(attributes["versions"], sort_keys=True)
        self.file.attrs["source"] = attributes["source"]
        self.file.attrs["source_info"] = json.dumps(attributes.get("source_info") or {}, sort_keys=True)
        self.file.attrs["created"] = attributes["created"]
        datasets = {}
        for fold, n in self.planned.items():
            group = self.file.create_group(fold_group(fold))
            datasets[fold] = {}
            for name, (shape, dtype) in self.config.stored_features.items():
                # One clip per chunk for the big arrays: reading one clip, or one fold,
                # touches nothing else. The small statistics share chunks.
                chunk_rows = 1 if len(shape) > 1 or shape[0] > 1024 else 256
                dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
                dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)  # all chunks now: no index changes later
                dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)  # ...without writing zeros into them first
                datasets[fold][name] = group.create_dataset(
                    name, shape=(n, *shape), maxshape=(None, *shape), dtype=dtype,
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
            if set(group) != set(self.config.stored_features):
                raise ReopenError(f"fold {fold} holds {sorted(group)}: the build was finishing")
            datasets[fold] = {name: group[name] for name in self.config.stored_features}
            for name, (shape, dtype) in self.config.stored_features.items():
                dataset = datasets[fold][name]
                if dataset.shape != (n, *shape) or dataset.dtype != dtype:
                    raise ReopenError(f"fold {fold}: {name} has shape {dataset.shape} and type {dataset.dtype}")
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

    def write(self, fold, start: int, features: dict):
        """Write clips ``start, start + 1, ...`` of ``fold``: ``features`` maps each feature to ``(n, ...)``."""
        with self._writing():
            for name, dataset in self._datasets[fold].items():
                array = features[name]
                dataset[start : start + len(array)] = array

    def read(self, fold, name: str, start: int, stop: int) -> np.ndarray:
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
        clips : dict of fold to (list of dict, dict of str to ndarray)
            Per fold, the metadata rows of its clips (in the order written) and the
            digests of their features (``{feature: (n,) uint64}``).
        rejected : list of dict
        n_source_clips : int
        """
        with self._writing():
            self.file.flush()  # the clips' last chunks: a failure here can still be abandoned
            # The same room as the check of free space before the build counted on
            n_rows = sum(len(rows) for rows, _ in clips.values()) + len(rejected)
            _reserve(self.file.id.get_vfd_handle(), FINISH_BYTES_PER_CLIP * n_rows + FINISH_BYTES)
            errors = []
            undo = _catch_freeing_errors(errors)
            try:
                self._write_the_rest(clips, rejected, n_source_clips)
            finally:
                undo()
            if errors:  # an object's close failed: HDF5 cannot be asked to close the file any more
                _unclosable(self.path)
                raise errors[0]
            self._close()
        with contextlib.suppress(OSError):  # give back what the reservation did not use
            size = self.path.stat().st_size
            os.truncate(self.path, size + 1)
            os.truncate(self.path, size)

    def _write_the_rest(self, clips: dict, rejected: list, n_source_clips: int):
        f = self.file
        sizes = {}
        for fold in self.planned:
            rows, digests = clips.get(fold, ([], {}))
            if not rows:
                del f[fold_group(fold)]
                continue
            sizes[fold] = n = len(rows)
            group = f[fold_group(fold)]
            for name in self.config.stored_features:
                group[name].resize(n, axis=0)
                _dataset(group, f"{DIGEST}/{name}", np.asarray(digests[name], dtype=np.uint64))
            _dataset(group, LABEL, np.array([row[ROW_LABEL] for row in rows], dtype=np.int64))
            for column, kind in self.metadata_columns.items():
                _column(group, f"{METADATA}/{column}", [row[column] for row in rows], KINDS[kind])
        table = f.create_group(REJECTED)
        for column in REJECTED_COLUMNS:
            _column(table, column, [str(r.get(column, "")) for r in rejected], str)
        f.attrs["n_source_clips"] = n_source_clips
        f.attrs["fold_sizes"] = json.dumps([[fold, n] for fold, n in sizes.items()])
        f.attrs["digest_algorithm"] = ALGORITHM
        f.attrs["build_id"] = uuid.uuid4().hex
        f.attrs[DIGEST] = np.uint64(digest_attrs(dict(f.attrs)))

    def close(self):
        """Close the file, if still open (after a failure, :meth:`abandon` already did)."""
        if self.file is not None and self.file.id.valid and self.path not in _UNCLOSED:
            with self._writing():
                self._close()

    def _close(self):
        self.file.flush()  # what fails here can still be abandoned
        try:
            self.file.close()
        except BaseException:
            _unclosable(self.path)
            raise

    def abandon(self):
        """Give up the file: close it without writing anything more to the disk."""
        if self.file is None or not self.file.id.valid or self.path in _UNCLOSED:
            return
        with contextlib.suppress(Exception):
            fd = self.file.id.get_vfd_handle()
            if hasattr(os, "memfd_create"):
                spare = os.memfd_create("featstore-abandoned")
                os.dup2(spare, fd)
                os.close(spare)
            else:  # free the space the closing writes need
                os.ftruncate(fd, 0)
        try:
            self.file.close()
        except Exception:  # even into memory (a file-size limit counts there too): HDF5 must not try again
            _unclosable(self.path)


_FALLOC_FL_KEEP_SIZE = 1


def _reserve(fd: int, n_bytes: int):
    """Reserve ``n_bytes`` of disk beyond the end of the file, without changing its size (Linux ``fallocate``).

    What HDF5 writes there then cannot fail for lack of room. Raises OSError if
    there is no room; where the file system cannot reserve, does nothing.
    """
    try:
        fallocate = ctypes.CDLL(None, use_errno=True).fallocate
    except (OSError, AttributeError):  # not Linux
        return
    fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    if fallocate(fd, _FALLOC_FL_KEEP_SIZE, os.fstat(fd).st_size, n_bytes) != 0:
        code = ctypes.get_errno()
        if code in NO_ROOM:
            raise OSError(code, os.strerror(code))


def _catch_freeing_errors(errors: list):
    """Collect in ``errors``, rather than print, the I/O errors h5py meets while it frees objects.

    It meets them in a finalizer, which cannot raise: it prints each one's
    traceback (through ``sys.excepthook``), Python reports it again as
    "Exception ignored" (``sys.unraisablehook``), and both go on. Returns a
    function that puts the hooks back.
    """
    unraisablehook, excepthook = sys.unraisablehook, sys.excepthook

    def unraisable(args):
        if _freeing_error(args.exc_value, args.exc_traceback):
            errors.append(args.exc_value)
        else:
            unraisablehook(args)

    def printed(kind, value, tb):
        if _freeing_error(value, tb):
            errors.append(value)
        else:
            excepthook(kind, value, tb)

    sys.unraisablehook, sys.excepthook = unraisable, printed

    def undo():
        sys.unraisablehook, sys.excepthook = unraisablehook, excepthook

    return undo


def _freeing_error(exc, tb) -> bool:
    """Whether ``exc`` is an I/O error that h5py met while freeing an object."""
    frames = traceback.extract_tb(tb)
    return _errno(exc) is not None and bool(frames) and frames[-1].name.endswith("._dealloc")


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
