"""The journal of a build's finished batches: written as the build goes, read back to resume it.

After each batch's clips are written and flushed to the store file, the build
appends one line to ``journal`` in its work folder: the clips' metadata rows and
feature digests, and the clips rejected. ``build --resume`` takes over the work
folder of a dead build of the same output (see :mod:`featstore.output`), replays
its journal, checks every clip the journal lists against its digest in the store
file, and goes on from the next batch. Batches are decoded the same way whatever
went before, so the store equals an uninterrupted build's, bit for bit.

It starts over instead when anything does not check out: another source table,
feature configuration or batch size (the journal's first line records them), a
store file HDF5 cannot open or that is not laid out as the plan says, or a clip
whose bytes differ from its digest. A line cut short by the kill is dropped with
what follows it (each line carries its own digest). A resume attempt that died
while checking (HDF5 can crash on a damaged file) is not tried again.

The journal is not fsynced: it guards against the death of the process, whose
writes the kernel keeps, not against a crash of the machine, after which the
digests decide what is kept.
"""

import json
import os
from collections import defaultdict

import numpy as np
import xxhash

from . import workdir
from .digest import digest_rows
from .output import WORK_SUFFIX, work_folder_name
from .writer import ReopenError, StoreWriter

__all__ = ["Journal", "Progress", "journal_header", "table_digest", "take_over"]

JOURNAL = "journal"
ATTEMPT = "resume-attempt"


class Progress:
    """What a build has done: its batches, per fold the rows and digests of the clips written, the clips rejected.

    ``features`` names the features digested (``FeatureConfig.stored_features``).
    """

    def __init__(self, features):
        self.features = tuple(features)
        self.batches = 0
        self.rows = defaultdict(list)
        self.digests = defaultdict(lambda: {name: [] for name in self.features})
        self.rejected = []

    def count(self, fold) -> int:
        return len(self.rows[fold]) if fold in self.rows else 0

    @property
    def n_stored(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def add(self, fold, rows: list, digests: dict):
        self.rows[fold].extend(rows)
        for name in self.features:
            self.digests[fold][name].extend(int(d) for d in digests[name])

    def clips(self) -> dict:
        """``{fold: (rows, {feature: digests})}``, as :meth:`StoreWriter.finish` takes them."""
        return {
            fold: (rows, {name: np.array(self.digests[fold][name], dtype=np.uint64) for name in self.features})
            for fold, rows in self.rows.items() if rows
        }


def journal_header(**facts) -> dict:
    """What a resumed build must share with the interrupted one, as the journal stores it."""
    return json.loads(_dumps(facts))


def table_digest(rows: dict, rejected: list) -> str:
    """The digest of a source's checked metadata: its usable rows and the rows it set aside."""
    return xxhash.xxh3_64_hexdigest(_dumps([list(rows.items()), rejected]).encode("utf-8"))


def _dumps(record) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


class Journal:
    """Appends one line per finished batch to ``folder/journal``.

    Parameters
    ----------
    folder : Path
    header : dict
        From :func:`journal_header`; written as the first line of a new journal.
    keep_bytes : int, optional
        Go on with an existing journal, cut to its first ``keep_bytes`` bytes.
    """

    def __init__(self, folder, header: dict, *, keep_bytes: int | None = None):
        path = folder / JOURNAL
        # Unbuffered: each line goes to the kernel whole when it is recorded, and
        # closing has nothing left to write (that could fail on a full disk).
        if keep_bytes is None:
            self._file = open(path, "xb", buffering=0)
            self._write({"header": header})
        else:
            os.truncate(path, keep_bytes)
            self._file = open(path, "ab", buffering=0)

    def record(self, batch: int, clips: list, rejected: list):
        """Record batch ``batch``: ``clips`` is ``[(fold, row, {feature: digest}), ...]`` in the order written."""
        self._write({"batch": batch, "clips": clips, "rejected": rejected})

    def _write(self, record: dict):
        text = _dumps(record).encode("utf-8")
        line = memoryview(text + b"\t" + xxhash.xxh3_64_hexdigest(text).encode("ascii") + b"\n")
        while line:
            line = line[self._file.write(line):]

    def close(self):
        self._file.close()


def _replay(folder, header: dict, features):
    """``(progress, bytes of the good lines)`` from a journal, or None if it is of another build."""
    progress, good = Progress(features), 0
    try:
        with open(folder / JOURNAL, "rb") as f:
            lines = f.readlines()
    except OSError:
        return None
    for number, line in enumerate(lines):
        text, _, digest = line.rstrip(b"\n").decode("utf-8", "replace").rpartition("\t")
        if not line.endswith(b"\n") or xxhash.xxh3_64_hexdigest(text.encode("utf-8")) != digest:
            break
        record = json.loads(text)
        if number == 0:
            if record.get("header") != header:
                return None
        elif record.get("batch") == progress.batches:
            for fold, row, digests in record["clips"]:
                progress.add(fold, [row], {name: [digests[name]] for name in features})
            progress.rejected.extend(record["rejected"])
            progress.batches += 1
        else:
            break
        good += len(line)
    return (progress, good) if good else None


def _written_as_recorded(writer: StoreWriter, progress: Progress) -> bool:
    for fold, rows in progress.rows.items():
        if fold not in writer.planned or len(rows) > writer.planned[fold]:
            return False
        for name in progress.features:
            expected = np.array(progress.digests[fold][name], dtype=np.uint64)
            for start in range(0, len(rows), 64):
                block = writer.read(fold, name, start, min(start + 64, len(rows)))
                if not np.array_equal(digest_rows(block), expected[start : start + 64]):
                    return False
    return True


def take_over(out, header: dict, features, open_writer):
    """The most advanced work of a dead build of ``out`` that checks out, or None.

    Parameters
    ----------
    out : Path
    header : dict
        This build's :func:`journal_header`.
    features : iterable of str
        The features of the store (``FeatureConfig.stored_features``).
    open_writer : callable
        ``open_writer(path)`` reopens a store file (:meth:`StoreWriter.reopen`).

    Returns
    -------
    (LockedFolder, StoreWriter, Progress, int) or None
        The work folder (locked), the writer going on with its file, what was done,
        and how many bytes of the journal to keep. Work folders that do not check
        out are removed.
    """
    candidates = []
    for folder in workdir.abandoned_folders(out.parent, work_folder_name(out), WORK_SUFFIX):
        replayed = None if (folder.path / ATTEMPT).exists() else _replay(folder.path, header, features)
        if replayed is None:
            folder.remove()
        else:
            candidates.append((folder, *replayed))
    candidates.sort(key=lambda c: -c[1].batches)
    found = None
    for folder, progress, keep_bytes in candidates:
        if found is None:
            (folder.path / ATTEMPT).touch()
            try:
                writer = open_writer(folder.path / out.name)
            except ReopenError:
                writer = None
            if writer is not None and _written_as_recorded(writer, progress):
                (folder.path / ATTEMPT).unlink()
                found = folder, writer, progress, keep_bytes
                continue
            if writer is not None:
                writer.abandon()
        folder.remove()
    return found
