"""The results file of an evaluation: one JSON line per finished (model, fold), durable as it is written.

``OUT/results.jsonl`` starts with a header line (``"kind": "run"``) that
records what the run is: the store (path and build id), the models, the
protocol and its splits, the seed. Each finished fit appends one line
(``"kind": "result"``) with its scores, times, and the test clips' labels,
predictions, probabilities and file names, so that the report can be rebuilt
from the file alone.

A line is appended with one ``write`` (SIGINT and SIGTERM held back in the
writing thread meanwhile), cut off again if an exception stops it half-way,
then fsynced: an interruption finds every line whole. Only SIGKILL or a crash
of the machine in the middle of a write could leave part of a line at the
end; reading ignores such a tail and resuming cuts it off.
"""

import contextlib
import json
import os
import signal
import threading
from pathlib import Path

from .exceptions import ResultsExistError, ResultsMismatchError

__all__ = ["RESULTS", "ResultsLog", "read_results", "result_key"]

RESULTS = "results.jsonl"
FORMAT = 1
IDENTITY = ("store", "models", "protocol", "seed")
"""What a resumed run must share with the recorded one."""


def result_key(model: str, test_fold) -> tuple:
    """The key of a (model, test fold) result: the fold's JSON form, so that 3 and "3" differ as the store's do."""
    return model, json.dumps(test_fold)


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait until the block ends (main thread; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _write_all(fd, data: bytes):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_folder(folder: Path):
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _line(record: dict) -> bytes:
    return (json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode()


def read_results(path) -> tuple:
    """The header, the result records and the length in bytes of the whole lines of a results file.

    A last line without its newline (cut short by SIGKILL or a crash) is ignored.

    Raises
    ------
    ResultsMismatchError
        If the file is not an evaluation's results file or a whole line of it is damaged.
    """
    path = Path(path)
    data = path.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    lines = whole.splitlines()
    try:
        header = json.loads(lines[0]) if lines else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("kind") != "run" or header.get("format") != FORMAT:
        raise ResultsMismatchError(
            f"{path} is not the results file of an evaluation (its first line is no run header); move it away or "
            f"choose another --out"
        )
    records = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except ValueError:
            raise ResultsMismatchError(
                f"{path} is damaged: line {number} is not JSON; start over with --overwrite"
            ) from None
        if record.get("kind") == "result":
            records.append(record)
    return header, records, len(whole)


def differences(recorded: dict, header: dict) -> list:
    """What differs between two run headers in what a resumed run must share, one phrase each."""
    out = []
    for key in IDENTITY:
        a, b = recorded.get(key), header.get(key)
        if key == "store" and isinstance(a, dict) and isinstance(b, dict):
            a = {k: a.get(k) for k in ("path", "build_id")}
            b = {k: b.get(k) for k in ("path", "build_id")}
            if a["path"] == b["path"] and a["build_id"] != b["build_id"]:
                out.append(f"the store {b['path']} was rebuilt since (build {a['build_id']}, now {b['build_id']})")
                continue
            a, b = a["path"], b["path"]
        elif key == "models":
            a = [m["name"] for m in a or []]
            b = [m["name"] for m in b or []]
        elif key == "protocol":
            a = {k: (a or {}).get(k) for k in ("name", "splits")}
            b = {k: (b or {}).get(k) for k in ("name", "splits")}
            if a == b:
                continue
            a = (a["name"], [s["test_fold"] for s in a["splits"] or []])
            b = (b["name"], [s["test_fold"] for s in b["splits"] or []])
            if a == b:
                a, b = "other training or validation folds", "these"
        if a != b:
            out.append(f"{key}: recorded {a}, now {b}")
    return out


class ResultsLog:
    """The results file of a run being made: its header, the records done, and appending to it.

    Use :meth:`open`.

    Attributes
    ----------
    path : Path
    header : dict
    records : list of dict
        The results recorded so far, in the order they were written.
    """

    def __init__(self, path, header, records):
        self.path = Path(path)
        self.header = header
        self.records = list(records)

    @property
    def done(self) -> set:
        """The :func:`result_key` of every recorded result."""
        return {result_key(r["model"], r["test_fold"]) for r in self.records}

    @classmethod
    def open(cls, out, header: dict, *, resume=False, overwrite=False) -> "ResultsLog":
        """Start the results file of ``header`` in ``out``, or take up the one there.

        Parameters
        ----------
        out : str or Path
            The output folder, created if missing.
        header : dict
            The run header (``"kind": "run"``).
        resume : bool, default=False
            Continue the run recorded in ``out``, which must be the same run
            (:data:`IDENTITY`); start one if there is none.
        overwrite : bool, default=False
            Start over, replacing the results and the report in ``out``.

        Raises
        ------
        ResultsExistError
            If ``out`` holds results and neither ``resume`` nor ``overwrite`` is set.
        ResultsMismatchError
            If ``resume`` finds another run's results, or a damaged file.
        """
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise ResultsExistError(f"--out {out} is a file, not a folder; choose a folder for the results")
        path = out / RESULTS
        if path.exists() and resume:
            recorded, records, whole = read_results(path)
            diff = differences(recorded, header)
            if diff:
                raise ResultsMismatchError(
                    f"--resume: {out} holds the results of another run ({'; '.join(diff)}); run with the same "
                    f"store, models, protocol and seed, or choose another --out, or start over with --overwrite"
                )
            if whole != path.stat().st_size:  # the cut-off tail of a killed run
                os.truncate(path, whole)
            return cls(path, recorded, records)
        if path.exists() and not overwrite:
            try:
                recorded, records, _ = read_results(path)
                what = f"{len(records)} results of {', '.join(m['name'] for m in recorded['models'])}"
            except ResultsMismatchError:
                what = "a results file"
            raise ResultsExistError(
                f"{out} holds another run's results ({what}); pass --resume to continue that run, --overwrite to "
                f"start over, or choose another --out"
            )
        out.mkdir(parents=True, exist_ok=True)
        if overwrite:
            from .report import remove_report

            remove_report(out)
        tmp = out / f".{RESULTS}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(_line(header))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_folder(out)
        return cls(path, header, [])

    def append(self, record: dict):
        """Write one result line at the end of the file, whole, and fsync it."""
        data = _line(record)
        with _signals_held():
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                size = os.fstat(fd).st_size
                try:
                    _write_all(fd, data)
                except BaseException:  # e.g. an interruption between two parts of a long line
                    os.ftruncate(fd, size)
                    raise
                os.fsync(fd)
            finally:
                os.close(fd)
        self.records.append(record)
