"""Where a build writes: its work folder beside the output, the free space it needs, and the exclusive final step.

* The store is written in a work folder ``.<name>.<pid>.<random>.partial/`` beside
  the output, locked for the whole build (:mod:`featstore.workdir`). A build
  removes the work folders of dead builds of the same output (or, resuming, reuses
  one) and never touches a live build's.
* Before any decoding, the free space is checked against the size of the store.
* The finished store is put in place only if the output path still holds what it
  held when the build started: nothing (a hard link, which fails if a file
  appeared), or with ``overwrite`` the very file the build was asked to replace
  (compared under an ``flock`` on the output's folder, which every build takes
  for its final step, and swapped in by ``os.replace``). A reader sees the old
  store or the new one, never a mix: a file it has open stays the old one.
"""

import contextlib
import errno
import os
import shutil
from pathlib import Path

from . import workdir
from .exceptions import DiskFullError, OutputError, StoreExistsError

try:
    import fcntl
except ImportError:
    fcntl = None

__all__ = [
    "check_free_space",
    "existing_store",
    "file_identity",
    "format_bytes",
    "open_work_folder",
    "publish",
    "remove_dead_work_folders",
    "work_folder_name",
    "write_error",
]

WORK_SUFFIX = ".partial"
# errno values that mean "no room": a full disk, a quota, a file size limit.
NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def work_folder_name(out: Path) -> str:
    """The prefix of the work folders of builds of ``out``."""
    return f".{out.name}."


def remove_dead_work_folders(out: Path) -> list:
    """Remove the work folders of dead builds of ``out``; returns their paths."""
    if not out.parent.is_dir():
        return []
    return workdir.remove_abandoned_folders(out.parent, work_folder_name(out), WORK_SUFFIX)


def existing_store(out: Path, overwrite: bool):
    """What is at ``out`` now (an identity to compare at the end, None if nothing), if the build may go on.

    Raises
    ------
    StoreExistsError
        If ``out`` exists and ``overwrite`` is False, or is not a file.
    """
    identity = file_identity(out)
    if identity is not None and not overwrite:
        raise StoreExistsError(f"{out} already exists. Pass overwrite=True (--overwrite) to replace it, or choose another path.")
    if out.exists() and not out.is_file():
        raise StoreExistsError(f"{out} exists and is not a file; choose another path.")
    return identity


def file_identity(path) -> tuple | None:
    """What tells one file at ``path`` from another put there later (None if there is none)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@contextlib.contextmanager
def open_work_folder(out: Path, *, reuse=None):
    """A locked work folder beside ``out``, created with any missing parent folders.

    The work folders of dead builds of ``out`` are removed first, except ``reuse``
    (a :class:`~featstore.workdir.LockedFolder` taken over from one, for a resumed
    build), which is used instead of a new one. The folder yielded is removed when
    the block ends, and so are the parent folders it needed if the block raises,
    unless the caller set its ``keep`` (an interrupted build kept for ``--resume``):
    then it is only unlocked.
    """
    created = []  # missing parent folders, deepest first
    folder = out.parent.absolute()
    while not folder.exists() and folder != folder.parent:
        created.append(folder)
        folder = folder.parent
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for stale in workdir.abandoned_folders(out.parent, work_folder_name(out), WORK_SUFFIX):
            if reuse is None or stale.path != reuse.path:
                stale.remove()
            else:
                stale.release()
        work = reuse or workdir.create_locked_folder(out.parent, work_folder_name(out), WORK_SUFFIX)
    except OSError as exc:
        _remove_empty_folders(created)
        raise _cannot_write(out, exc) from exc
    try:
        yield work
    except BaseException:
        if work.keep:
            work.release()
        else:
            work.remove()
            _remove_empty_folders(created)
        raise
    work.remove()


def _remove_empty_folders(folders: list):
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _cannot_write(out: Path, exc: OSError) -> OutputError:
    if exc.errno in NO_ROOM:
        return write_error(out, exc)
    for folder in [out.parent, *out.parent.parents]:
        if folder.exists():
            if not folder.is_dir():
                return OutputError(f"Cannot write {out}: {folder} is a file, not a folder. Choose another path.")
            break
    return OutputError(
        f"Cannot write {out}: {exc.strerror or exc} ({exc.filename or out.parent}). "
        f"Choose a path in a folder you can write to."
    )


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.2f} {unit}"
        n /= 1000


def _free_bytes(folder: Path) -> int:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def check_free_space(folder: Path, needed: int, what: str):
    """Raise :class:`DiskFullError` if ``folder``'s file system has less than ``needed`` bytes free."""
    free = _free_bytes(Path(folder))
    if free < needed:
        raise DiskFullError(
            f"Not enough free space for {what} in {folder}: it needs about {format_bytes(needed)}, "
            f"{format_bytes(free)} is free. Free {format_bytes(needed - free)} or more, or write elsewhere. "
            f"Nothing was written."
        )


def write_error(out: Path, exc: OSError, needed: int | None = None) -> OutputError:
    """The error for a write towards ``out`` that failed: :class:`DiskFullError` if for lack of room."""
    if exc.errno in NO_ROOM:
        need = f": the store needs about {format_bytes(needed)} there" if needed else ""
        return DiskFullError(
            f"No room to write in {out.parent} ({exc.strerror or os.strerror(exc.errno)}){need}. "
            f"Free some space or write elsewhere; nothing was written to {out}."
        )
    return OutputError(f"Cannot write {out}: {exc.strerror or exc}. Nothing was written to it.")


@contextlib.contextmanager
def _folder_lock(folder: Path):
    """An exclusive ``flock`` on ``folder`` itself: the final steps of builds into one folder take turns.

    Yields the folder's descriptor, and fsyncs the folder when the block ends (the
    new name then survives a crash of the machine too).
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if fcntl is not None:
            with contextlib.suppress(OSError):  # no flock here: os.link still refuses to replace
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
        with contextlib.suppress(OSError):  # some file systems cannot fsync a folder
            os.fsync(fd)
    finally:
        os.close(fd)


def _fsync(path: Path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp_file: Path, out: Path, expected):
    """Move the finished ``tmp_file`` to ``out``, if ``out`` is still what the build started with.

    Parameters
    ----------
    expected : tuple or None
        :func:`existing_store`'s answer at the start: None if ``out`` did not exist,
        else the identity of the file the build may replace.

    Raises
    ------
    StoreExistsError
        If another file appeared at ``out``, or replaced the one there, meanwhile.

    Notes
    -----
    The file is fsynced first: a crash of the machine right after the build finds
    either no store or a whole one at ``out``, never a file whose name reached the
    disk before its data.
    """
    try:
        _fsync(tmp_file)
        with _folder_lock(out.parent):
            _put_in_place(tmp_file, out, expected)
    except StoreExistsError:
        raise
    except OSError as exc:
        raise write_error(out, exc) from exc


def _put_in_place(tmp_file: Path, out: Path, expected):
    current = file_identity(out)
    if current is not None and current != expected:
        raise _changed_meanwhile(out, expected)
    if current is None:
        try:
            os.link(tmp_file, out)
        except FileExistsError:  # written by something that does not take the lock
            raise _changed_meanwhile(out, expected) from None
        except OSError as exc:
            if exc.errno in NO_ROOM:
                raise
            # No hard links here (some network and FAT file systems): rename under the lock.
            os.replace(tmp_file, out)
        else:
            os.unlink(tmp_file)
    else:
        os.replace(tmp_file, out)


def _changed_meanwhile(out: Path, expected) -> StoreExistsError:
    if expected is None:
        what = f"{out} appeared while this build ran (another build of it finished first?)"
    else:
        what = f"{out} was replaced by another file while this build ran (another build of it finished first?)"
    return StoreExistsError(
        f"{what}; it was left as it is and this build's store was discarded. Check what is there; "
        f"to replace it, build again with --overwrite."
    )
