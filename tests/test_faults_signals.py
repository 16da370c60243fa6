"""A build killed or interrupted at any point leaves no store, no temporary files and no processes behind.

Every build here is a real ``python -m featstore build`` process (see ``faults.py``);
paced builds make each batch take a set time, so that a signal lands at a known
point: the test watches the build's journal.
"""

import os
import signal
import time

import pytest

import faults
from featstore import FeatureStore
from featstore.verify import verify_store

pytestmark = pytest.mark.usefixtures("reap_processes")

PACE = 0.12  # seconds a batch takes at least, in paced builds of the 12-clip tiny dataset
PUBLISH_PAUSE = 1.0


def _build(dataset, out, *extra):
    return ["build", dataset, "--out", out, "--jobs", "1", "--batch-size", "1", "--quiet", *extra]


# Where a SIGKILL lands: each a condition on the build's progress (12 one-clip batches).
KILL_POINTS = {
    "work-folder-made": lambda out: bool(faults.work_folders(out)),
    "first-batch": lambda out: faults.journal_batches(out) >= 1,
    "halfway": lambda out: faults.journal_batches(out) >= 6,
    # The file is finished and closed; the paced build pauses before putting it in place.
    "finished-not-in-place": lambda out: faults.journal_batches(out) >= 12 and time.sleep(0.4) is None,
}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_leaves_no_store_and_the_next_build_removes_the_rest(tiny_dataset, tmp_path, point):
    out = tmp_path / "out" / "s.h5"
    build = faults.start(_build(tiny_dataset, out), paced=(PACE, PUBLISH_PAUSE))
    assert faults.wait_until(lambda: KILL_POINTS[point](out), process=build), build.communicate()
    code, _, _ = faults.kill(build)
    assert code == -signal.SIGKILL
    assert not out.exists()
    assert len(faults.work_folders(out)) == 1  # what SIGKILL leaves: a work folder nobody holds any more

    result = faults.run(_build(tiny_dataset, out))
    assert result.returncode == 0, result.stderr
    assert faults.work_folders(out) == [] and [p.name for p in out.parent.iterdir()] == ["s.h5"]
    assert verify_store(out) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_and_sigint_end_the_build_with_one_line(tiny_dataset, tmp_path, signum):
    out = tmp_path / "out" / "s.h5"
    build = faults.start(_build(tiny_dataset, out), paced=(PACE, 0))
    assert faults.wait_until(lambda: faults.journal_batches(out) >= 3, process=build)
    code, stdout, stderr = faults.kill(build, signum)
    assert code == 128 + signum
    assert stderr.splitlines() == [f"interrupted: nothing was written to {out}"] and stdout == ""
    assert not (tmp_path / "out").exists()  # the folder the build created for its output is gone too


def test_an_interrupted_rebuild_keeps_the_old_store(tiny_dataset, tiny_store, tmp_path):
    out = tmp_path / "s.h5"
    out.write_bytes(tiny_store.read_bytes())
    build = faults.start(_build(tiny_dataset, out, "--overwrite"), paced=(PACE, 0))
    assert faults.wait_until(lambda: faults.journal_batches(out) >= 3, process=build)
    code, _, stderr = faults.kill(build, signal.SIGTERM)
    assert code == 143 and stderr.strip() == f"interrupted: nothing was written to {out}"
    assert out.read_bytes() == tiny_store.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["s.h5"]


def _generating(tmpdir):
    """True once a synthetic data set is being generated in ``tmpdir`` (some WAV files written)."""
    return any(sum(1 for _ in folder.rglob("*.wav")) >= 20 for folder in tmpdir.glob("featstore-synthetic.*"))


def _exited(pids, timeout=10):
    return faults.wait_until(lambda: not any(faults.alive(p) for p in pids), timeout=timeout, step=0.05)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_synthetic_build_leaves_no_data_and_no_workers(tmp_path, tiny_dataset, signum):
    """The generated data set and the worker processes go with the build (after SIGKILL: within a second)."""
    tmpdir, out = tmp_path / "tmp", tmp_path / "s.h5"
    tmpdir.mkdir()
    build = faults.start(["build", "synthetic:300", "--out", out, "--jobs", "2", "--quiet"], tmpdir=tmpdir)
    assert faults.wait_until(lambda: _generating(tmpdir), process=build)
    workers = faults.children(build.pid)
    assert workers  # joblib's worker processes and their resource tracker
    code, _, stderr = faults.kill(build, signum)
    assert _exited(workers), [p for p in workers if faults.alive(p)]
    assert not out.exists() and faults.work_folders(out) == []
    if signum == signal.SIGTERM:
        assert code == 143 and stderr.splitlines() == [f"interrupted: nothing was written to {out}"]
        assert list(tmpdir.iterdir()) == []
    else:  # nothing can run at SIGKILL: the next build removes the data set
        assert code == -9 and len(list(tmpdir.glob("featstore-synthetic.*"))) == 1
        result = faults.run(["build", tiny_dataset, "--out", tmp_path / "other.h5", "--jobs", "1", "--quiet"],
                            tmpdir=tmpdir)
        assert result.returncode == 0 and list(tmpdir.iterdir()) == []


def test_ctrl_c_in_a_terminal_reaches_the_workers_too(tmp_path):
    """Ctrl-C signals the whole process group; the workers stay quiet and the build says one line."""
    tmpdir, out = tmp_path / "tmp", tmp_path / "s.h5"
    tmpdir.mkdir()
    build = faults.start(["build", "synthetic:300", "--out", out, "--jobs", "2", "--quiet"], tmpdir=tmpdir,
                         new_session=True)
    assert faults.wait_until(lambda: _generating(tmpdir), process=build)
    workers = faults.children(build.pid)
    os.killpg(build.pid, signal.SIGINT)
    _, stderr = build.communicate(timeout=120)
    assert build.returncode == 130 and stderr.splitlines() == [f"interrupted: nothing was written to {out}"]
    assert _exited(workers) and list(tmpdir.iterdir()) == []


def test_a_live_build_is_never_taken_for_a_dead_one(tiny_dataset, tmp_path):
    """Another build of the same output, even with --resume, leaves a running build's work folder alone.

    The first build is stopped (SIGSTOP) while the second runs: a live process that
    does nothing for a while, and still holds its work folder's lock.
    """
    out = tmp_path / "s.h5"
    first = faults.start(_build(tiny_dataset, out), paced=(PACE, 0))
    assert faults.wait_until(lambda: faults.journal_batches(out) >= 2, process=first)
    os.kill(first.pid, signal.SIGSTOP)
    (live,) = faults.work_folders(out)
    other = faults.run(_build(tiny_dataset, out, "--resume"))
    assert other.returncode == 0 and "Resumed" not in other.stdout  # it did not take the live build's work
    assert live.exists()
    os.kill(first.pid, signal.SIGCONT)
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 1 and "appeared while this build ran" in stderr
    assert faults.work_folders(out) == [] and len(FeatureStore(out)) == 12
