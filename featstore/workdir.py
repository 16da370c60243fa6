"""Temporary folders a later run can tell apart: a live owner's is left alone, a dead owner's is removed.

A folder is named ``{prefix}{pid}.{random}{suffix}`` and its owner holds an
exclusive ``flock`` on the folder itself for as long as it works in it. The kernel
releases the lock when the owner exits, however it exits (SIGKILL included), so a
process that can take the lock knows the folder is abandoned, and one that
cannot knows its owner is alive.

A folder is created under a ``.starting`` name, locked, and only then renamed to
its final name: a folder found under its final name and not locked is abandoned,
never one whose owner has not locked it yet. (A ``.starting`` folder is abandoned
when its lock is free and the process its name gives is gone.)

On a file system without ``flock`` (some network file systems) nothing can be
told apart: folders are still removed on every exit path their owner sees, but
one left by a killed process stays until removed by hand.
"""

import contextlib
import glob
import os
import secrets
import shutil
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no locks, nothing is ever taken for abandoned
    fcntl = None

__all__ = ["LockedFolder", "abandoned_folders", "create_locked_folder", "remove_abandoned_folders"]

_STARTING = ".starting"


class LockedFolder:
    """A folder this process holds the lock of.

    Attributes
    ----------
    path : Path
    keep : bool
        Set by the owner when the folder should outlive an interrupted run (unlocked,
        for another run to reuse or remove); False by default.
    """

    def __init__(self, path: Path, fd):
        self.path = Path(path)
        self.keep = False
        self._fd = fd

    def __repr__(self):
        return f"LockedFolder({str(self.path)!r})"

    def release(self):
        """Let go of the folder (it stays): from now on another run may take it for abandoned."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def remove(self):
        """Delete the folder and what it holds, then let go of the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.release()


def create_locked_folder(parent, prefix: str, suffix: str) -> LockedFolder:
    """Create ``parent/{prefix}{pid}.{random}{suffix}`` (mode 700) and lock it.

    Raises
    ------
    OSError
        If the folder cannot be created.
    """
    parent = Path(parent)
    name = f"{prefix}{os.getpid()}.{secrets.token_hex(4)}"
    starting = parent / (name + _STARTING)
    os.mkdir(starting, 0o700)
    fd = None
    try:
        fd = os.open(starting, os.O_RDONLY | os.O_DIRECTORY)
        _lock(fd)
        final = parent / (name + suffix)
        os.rename(starting, final)
    except BaseException:
        if fd is not None:
            os.close(fd)
        shutil.rmtree(starting, ignore_errors=True)
        raise
    return LockedFolder(final, fd)


def abandoned_folders(parent, prefix: str, suffix: str):
    """Yield a :class:`LockedFolder` (now locked by this process) for each abandoned folder.

    The caller owns what it is given: it removes or reuses the folder, or
    releases it. Folders of live owners, and anything else whose name starts
    with ``prefix``, are skipped.
    """
    parent = Path(parent)
    if fcntl is None:
        return
    for path in sorted(parent.glob(glob.escape(prefix) + "*")):
        name = path.name
        if name.endswith(_STARTING):
            if _process_alive(_owner_pid(name, prefix)):
                continue
        elif not name.endswith(suffix):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:  # gone meanwhile, or not a folder: not ours to judge
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by a live owner (or locks unsupported: cannot tell)
            os.close(fd)
            continue
        yield LockedFolder(path, fd)


def remove_abandoned_folders(parent, prefix: str, suffix: str) -> list:
    """Remove every abandoned folder; returns their paths."""
    removed = []
    for folder in abandoned_folders(parent, prefix, suffix):
        folder.remove()
        removed.append(folder.path)
    return removed


def _lock(fd):
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # a folder we just created: nobody else can hold it
        raise
    except OSError:  # the file system has no flock: work unlocked (see the module docstring)
        pass


def _owner_pid(name: str, prefix: str) -> int | None:
    with contextlib.suppress(ValueError):
        return int(name[len(prefix):].split(".", 1)[0])
    return None


def _process_alive(pid) -> bool:
    if pid is None:
        return True  # cannot tell: leave it alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
