"""Fault injection for the tests of featstore's promises: builds run as processes, then killed, raced, starved or flipped.

The tests import these helpers; ``tests/fault_campaign.py`` repeats the same
injections many times and counts how often each promise held.

A build runs as ``python -m featstore build ...`` in its own process (the
featstore of this source tree, whatever is installed), optionally paced:
``paced=(S, P)`` makes every batch take at least S seconds and the build pause P
seconds before it puts the finished store in place, so that a test can act while
the build is at a known point (it watches the build's journal) without any hook
in featstore itself.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np

from featstore.store import FEATURES, VIEWS

ROOT = Path(__file__).resolve().parent.parent

# Run as a script by a paced build: slow every batch down, then run the command line.
_PACED = """
import sys, time
import featstore.build
def paced(function, seconds):
    def slow(*args, **kwargs):
        time.sleep(seconds)
        return function(*args, **kwargs)
    return slow
batch, publish = float(sys.argv.pop(1)), float(sys.argv.pop(1))
featstore.build.process_batch = paced(featstore.build.process_batch, batch)
featstore.build.publish = paced(featstore.build.publish, publish)
from featstore.__main__ import entry_point
sys.argv[0] = "featstore"
entry_point()
"""


def featstore_env(tmpdir=None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return env


STARTED = []  # every process started, for reap()


def start(argv, *, paced=None, tmpdir=None, preexec_fn=None, new_session=False) -> subprocess.Popen:
    """``python -m featstore ARGV`` in a new process, stdout and stderr captured as text."""
    command = [sys.executable, "-m", "featstore", *map(str, argv)]
    if paced is not None:
        command = [sys.executable, "-c", _PACED, *map(str, paced), *map(str, argv)]
    process = subprocess.Popen(
        command, env=featstore_env(tmpdir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=preexec_fn, start_new_session=new_session,
    )
    STARTED.append(process)
    return process


def reap():
    """Kill what a failed test left running (by pid: only processes started here)."""
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate()


def run(argv, *, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    process = start(argv, **kwargs)
    out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def work_folders(out) -> list:
    """The work folders of builds of ``out`` (live or dead)."""
    out = Path(out)
    return sorted(p for p in out.parent.glob(f".{out.name}.*") if p.is_dir())


def journal_batches(out) -> int:
    """Batches recorded so far in the journal of the (one) build of ``out``; -1 before there is one."""
    for folder in work_folders(out):
        with contextlib.suppress(OSError):
            return (folder / "journal").read_text().count("\n") - 1
    return -1


def wait_until(condition, *, timeout=120, process=None, step=0.005):
    """Poll ``condition()`` until true; False if ``process`` ended first or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process is not None and process.poll() is not None:
            return False
        time.sleep(step)
    return False


def children(pid: int) -> list:
    """The pids of the direct children of ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill(process: subprocess.Popen, signum=signal.SIGKILL) -> tuple:
    """Send ``signum``; returns ``(returncode, stdout, stderr)`` once the process ended."""
    os.kill(process.pid, signum)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def feature_chunks(path) -> list:
    """``(fold, feature, clip row, byte offset, size)`` of every chunk of every feature dataset."""
    chunks = []
    with h5py.File(path, "r") as f:
        for group in (k for k in f if k.startswith("fold")):
            for name in (n for n in (*FEATURES, VIEWS) if n in f[group]):
                dataset = f[group][name]
                for i in range(dataset.id.get_num_chunks()):
                    info = dataset.id.get_chunk_info(i)
                    chunks.append((int(group[4:]), name, info.chunk_offset[0], info.byte_offset, info.size))
    return chunks


def flip_bit(path, offset: int, bit: int):
    """Flip one bit of the file in place."""
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ (1 << bit)]))


@contextlib.contextmanager
def small_tmpfs(folder, size: str = "12m"):
    """Mount a tmpfs of ``size`` at ``folder`` for the block; None if this machine does not allow it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    ).returncode == 0
    try:
        yield folder if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill_disk(folder):
    """Take all the free space of ``folder``'s file system (into ``folder/filler``), as another program would."""
    with open(Path(folder) / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 2**16)
                f.flush()
        except OSError:
            pass


def limit_file_size(n_bytes: int):
    """A ``preexec_fn``: writes beyond ``n_bytes`` in any file fail with EFBIG (as a full disk fails them)."""

    def limit():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the writer
        resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, n_bytes))

    return limit


def datasets_of(path) -> dict:
    """Every dataset of a store file by name, read whole (strings decoded)."""
    with h5py.File(path, "r") as f:
        names = []
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        return {name: f[name].asstr()[...] if h5py.check_string_dtype(f[name].dtype) else f[name][...] for name in names}


def different_datasets(a, b) -> list:
    """The datasets two stores do not hold bit for bit alike (root attributes aside: each build has its own)."""
    first, second = datasets_of(a), datasets_of(b)
    if sorted(first) != sorted(second):
        return sorted(set(first) ^ set(second))
    return [name for name, values in first.items()
            if values.dtype != second[name].dtype or not np.array_equal(values, second[name])]

