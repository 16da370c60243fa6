"""``build --resume`` takes over the checked work of an interrupted build; the store equals an uninterrupted one's."""

import signal

import pytest

import faults
from featstore import FeatureConfig, FeatureStore, build_store, open_source
from featstore.verify import verify_store

pytestmark = pytest.mark.usefixtures("reap_processes")

PACE = 0.12


def _argv(dataset, out, *extra):
    return ["build", dataset, "--out", out, "--jobs", "1", "--batch-size", "1", "--quiet", *extra]


@pytest.fixture(scope="module")
def reference(tiny_dataset, tmp_path_factory):
    """An uninterrupted build, with the batch size of the interrupted ones."""
    out = tmp_path_factory.mktemp("reference") / "s.h5"
    build_store(open_source(tiny_dataset), out, n_jobs=1, batch_size=1, progress=False)
    return out


def assert_same_store(a, b):
    """Every dataset equal, bit for bit (the root attributes differ: each build has its id and time)."""
    assert faults.different_datasets(a, b) == []


def _killed(dataset, out, batches, *extra):
    """A build of ``out`` killed (SIGKILL) once its journal holds ``batches`` batches."""
    build = faults.start(_argv(dataset, out, *extra), paced=(PACE, 1.0))
    assert faults.wait_until(lambda: faults.journal_batches(out) >= batches, process=build)
    faults.kill(build)
    (folder,) = faults.work_folders(out)
    return folder


@pytest.mark.parametrize("batches", [1, 6, 12], ids=["first-batch", "halfway", "all-batches"])
def test_resume_after_sigkill_equals_an_uninterrupted_build(tiny_dataset, reference, tmp_path, batches):
    out = tmp_path / "s.h5"
    _killed(tiny_dataset, out, batches)
    summary = build_store(open_source(tiny_dataset), out, n_jobs=1, batch_size=1, resume=True, progress=False)
    assert batches <= summary.n_reused <= 12 and summary.n_stored == 12
    assert f"Resumed: {summary.n_reused} clips were taken over from an interrupted build." in summary.format()
    assert_same_store(reference, out)
    assert verify_store(out) == [] and faults.work_folders(out) == []


def test_resume_of_a_build_with_views_equals_an_uninterrupted_build(tiny_dataset, tmp_path):
    """The views are written, journalled, checked and resumed like the other features (noise: seeded per clip)."""
    config = FeatureConfig(augment="noise:white20")
    reference = tmp_path / "reference" / "s.h5"
    build_store(open_source(tiny_dataset), reference, config=config, n_jobs=1, batch_size=1, progress=False)
    out = tmp_path / "s.h5"
    _killed(tiny_dataset, out, 6, "--augment", "noise:white20")
    result = faults.run(_argv(tiny_dataset, out, "--augment", "noise:white20", "--resume"))
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split("Resumed: ")[1].split()[0]) >= 6
    assert_same_store(reference, out)
    assert FeatureStore(out).view_names == ("original", "noise-white20")
    assert verify_store(out) == [] and faults.work_folders(out) == []


def test_sigterm_with_resume_keeps_the_work_for_the_next_run(tiny_dataset, reference, tmp_path):
    out = tmp_path / "s.h5"
    build = faults.start(_argv(tiny_dataset, out, "--resume"), paced=(PACE, 0))
    assert faults.wait_until(lambda: faults.journal_batches(out) >= 4, process=build)
    code, _, stderr = faults.kill(build, signal.SIGTERM)
    (line,) = stderr.splitlines()
    assert code == 143 and line.startswith(f"interrupted: nothing was written to {out}; the ")
    kept = int(line.split("; the ")[1].split()[0])
    assert kept >= 4 and line.endswith("clips done are kept for `build --resume`")
    assert not out.exists() and len(faults.work_folders(out)) == 1

    result = faults.run(_argv(tiny_dataset, out, "--resume"))
    assert result.returncode == 0 and f"Resumed: {kept} clips were taken over" in result.stdout
    assert_same_store(reference, out)


def test_work_that_does_not_check_out_is_done_again(tiny_dataset, reference, tmp_path):
    """A clip of the killed build's file damaged after it was recorded: the resumed build starts over."""
    out = tmp_path / "s.h5"
    folder = _killed(tiny_dataset, out, 6)
    fold, name, _, offset, size = faults.feature_chunks(folder / "s.h5")[0]
    faults.flip_bit(folder / "s.h5", offset + size // 2, 3)
    summary = build_store(open_source(tiny_dataset), out, n_jobs=1, batch_size=1, resume=True, progress=False)
    assert summary.n_reused == 0 and "Resumed" not in summary.format()
    assert_same_store(reference, out)
    assert faults.work_folders(out) == []


def test_work_of_another_build_is_not_taken_over(tiny_dataset, tmp_path):
    """Another batch size (or source, or configuration) decodes differently: start over, and remove the old work."""
    out = tmp_path / "s.h5"
    _killed(tiny_dataset, out, 3)
    summary = build_store(open_source(tiny_dataset), out, n_jobs=1, batch_size=2, resume=True, progress=False)
    assert summary.n_reused == 0 and faults.work_folders(out) == [] and verify_store(out) == []


def test_a_journal_line_cut_short_is_dropped(tiny_dataset, reference, tmp_path):
    """The kill may cut the journal's last line: that batch is done again, the ones before are kept."""
    out = tmp_path / "s.h5"
    folder = _killed(tiny_dataset, out, 6)
    journal = folder / "journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]) + lines[-1][:-20])
    summary = build_store(open_source(tiny_dataset), out, n_jobs=1, batch_size=1, resume=True, progress=False)
    assert summary.n_reused == len(lines) - 2  # the header and the cut line do not count
    assert_same_store(reference, out)


def test_resume_of_a_dataset_with_named_folds_equals_an_uninterrupted_build(tmp_path):
    """Fold names (a "train" and a "test" split) go through the journal and back as they came."""
    from test_datasets import write_class_folders

    dataset = write_class_folders(tmp_path / "data", {"train/dog": 4, "train/cat": 4, "test/dog": 2, "test/cat": 2})
    reference = tmp_path / "reference" / "s.h5"
    build_store(open_source(dataset), reference, n_jobs=1, batch_size=1, progress=False)
    out = tmp_path / "s.h5"
    _killed(dataset, out, 5)
    summary = build_store(open_source(dataset), out, n_jobs=1, batch_size=1, resume=True, progress=False)
    assert summary.n_reused >= 5 and summary.clips_per_fold == {"train": 8, "test": 4}
    assert_same_store(reference, out)
    assert FeatureStore(out).folds == ("train", "test") and verify_store(out) == []
