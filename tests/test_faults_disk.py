"""A full disk: found before decoding when it can be, a failed write at any point ends in one line, never a crash.

Where this machine lets the tests mount a small tmpfs, the disk really fills up
(ENOSPC). Where it does not (no root, a container without the capability) those
tests skip and say so; the others run everywhere: a free-space figure patched
low, a file-size limit (RLIMIT_FSIZE) that makes the kernel refuse HDF5's writes
past a point (EFBIG) just as a full disk refuses them, and a simulated ENOSPC
raised where each kind of write happens.
"""

import errno
import os
import shutil

import h5py
import pytest

import faults
import featstore.checkpoint
import featstore.output
import featstore.writer
from conftest import good_clips, write_tree
from featstore import DiskFullError, build_store, open_source

pytestmark = pytest.mark.usefixtures("reap_processes")


@pytest.fixture
def tmpfs(tmp_path):
    with faults.small_tmpfs(tmp_path / "tmpfs", size="14m") as folder:
        if folder is None:
            pytest.skip("cannot mount a tmpfs here (needs root and the permission to mount): "
                        "the file-size-limit and patched free-space tests cover the same paths")
        yield folder


@pytest.fixture(scope="module")
def dataset_24(tmp_path_factory):
    """24 clips: a store of about 8 MB."""
    return write_tree(tmp_path_factory.mktemp("d24") / "UrbanSound8K", good_clips(n_per_fold=8))


def _no_leftovers(folder, *expected):
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)


@pytest.mark.parametrize("where", ["tmpfs", "patched-free-space"])
def test_a_store_that_does_not_fit_is_refused_before_decoding(dataset_24, tmp_path, monkeypatch, request, where):
    if where == "tmpfs":
        folder = request.getfixturevalue("tmpfs")
        (folder / "filler").write_bytes(b"\0" * (8 * 2**20))  # 6 MB stay free
    else:
        folder = tmp_path / "out"
        folder.mkdir()
        real = shutil.disk_usage
        monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=6 * 2**20))
    decoded = []
    monkeypatch.setattr("featstore.build.process_batch", lambda *args, **kwargs: decoded.append(1))
    with pytest.raises(DiskFullError, match=r"a store of 24 clips in .*: it needs about 9\.\d\d MB, 6\.\d\d MB is free"):
        build_store(open_source(dataset_24), folder / "s.h5", n_jobs=1, progress=False)
    assert decoded == []
    _no_leftovers(folder, *(["filler"] if where == "tmpfs" else []))


@pytest.mark.parametrize("where", ["tmpfs", "file-size-limit"])
def test_a_write_that_fails_for_lack_of_room(dataset_24, tiny_store, tmp_path, request, where):
    """The disk fills up while the build writes: one line, exit 1, no leftovers, the old store as it was."""
    folder = request.getfixturevalue("tmpfs") if where == "tmpfs" else tmp_path
    out = folder / "s.h5"
    shutil.copy(tiny_store, out)
    old = out.read_bytes()
    argv = ["build", dataset_24, "--out", out, "--overwrite", "--jobs", "1", "--batch-size", "2", "--quiet"]
    if where == "tmpfs":  # the free-space check passes; then another program takes the rest
        build = faults.start(argv, paced=(0.1, 0))
        assert faults.wait_until(lambda: faults.journal_batches(out) >= 2, process=build)
        faults.fill_disk(folder)
        _, stderr = build.communicate(timeout=300)
        reason = "No space left on device"
    else:  # no file may grow past 3 MB: the store's writes fail halfway
        build = faults.start(argv, preexec_fn=faults.limit_file_size(3 * 2**20))
        _, stderr = build.communicate(timeout=300)
        reason = "File too large"
    assert build.returncode == 1, stderr  # not a crash (SIGSEGV, as HDF5 did when closing the file)
    assert stderr.splitlines() == [
        f"error: No room to write in {folder} ({reason}): the store needs about 9.21 MB there. "
        f"Free some space or write elsewhere; nothing was written to {out}."
    ]
    assert out.read_bytes() == old
    _no_leftovers(folder, "s.h5", *(["filler"] if where == "tmpfs" else []))



@pytest.fixture(scope="module")
def store_24(dataset_24, tmp_path_factory):
    out = tmp_path_factory.mktemp("s24") / "s.h5"
    build_store(open_source(dataset_24), out, n_jobs=1, progress=False)
    return out


@pytest.mark.parametrize("short_by", [24000, 12000, 2000])
def test_a_file_size_limit_among_the_last_writes(dataset_24, store_24, tmp_path, short_by):
    """The writes of the labels, metadata and digests fail, or the close's: still one line, not a crash.

    When HDF5 fails to close a file it crashes at exit (SIGSEGV) unless the
    process ends without its clean-up.
    """
    out = tmp_path / "s.h5"
    argv = ["build", dataset_24, "--out", out, "--jobs", "1", "--quiet"]
    build = faults.start(argv, preexec_fn=faults.limit_file_size(store_24.stat().st_size - short_by))
    _, stderr = build.communicate(timeout=300)
    assert build.returncode == 1, stderr
    assert len(stderr.splitlines()) == 1 and stderr.startswith(f"error: No room to write in {tmp_path} (File too large)")
    _no_leftovers(tmp_path)

def _failing(real, at: int):
    """``real``, except that its call number ``at`` and later raise ENOSPC."""
    calls = []

    def call(*args, **kwargs):
        calls.append(1)
        if len(calls) >= at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    return call


# Where each kind of write happens, and which call fails (the first is the setup's).
WRITES = {
    "clip-write": (h5py.Dataset, "__setitem__", 2),
    "flush": (h5py.File, "flush", 2),
    "journal": (featstore.checkpoint.Journal, "_write", 2),
    "finish": (featstore.writer, "_dataset", 1),
    "fsync": (featstore.output, "_fsync", 1),
    "replace": (os, "replace", 1),  # the final step over an old store
    "link": (os, "link", 1),  # the final step where there was none
}


@pytest.mark.parametrize("write", WRITES)
def test_a_simulated_enospc_at_each_write(dataset_24, tiny_store, tmp_path, monkeypatch, write):
    """ENOSPC where each kind of write happens (the real ones are above): one error, nothing left, old store kept."""
    out = tmp_path / "s.h5"
    if write != "link":
        shutil.copy(tiny_store, out)
    old = out.read_bytes() if out.exists() else None
    owner, name, at = WRITES[write]
    monkeypatch.setattr(owner, name, _failing(getattr(owner, name), at))
    with pytest.raises(DiskFullError, match=r"No room to write in .* \(No space left on device\)"):
        build_store(open_source(dataset_24), out, overwrite=True, n_jobs=1, batch_size=4, progress=False)
    monkeypatch.undo()
    assert (out.read_bytes() if out.exists() else None) == old
    _no_leftovers(tmp_path, *(["s.h5"] if old else []))
