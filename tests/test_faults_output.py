"""Two builds of one output at once, and readers of a store while a build replaces it."""

import h5py
import numpy as np
import pytest

import faults
from conftest import good_clips, write_tree
from featstore import FeatureStore, StoreChangedError, build_store, open_source
from featstore.verify import verify_store

pytestmark = pytest.mark.usefixtures("reap_processes")


def _build(dataset, out, *extra):
    return ["build", dataset, "--out", out, "--jobs", "1", "--batch-size", "1", "--quiet", *extra]


def _race(argv, n=2):
    """Start ``n`` identical paced builds together; ``[(exit code, stderr)]``."""
    builds = [faults.start(argv, paced=(0.1, 0)) for _ in range(n)]
    return [(b.returncode, err) for b in builds for _, err in [b.communicate(timeout=300)]]


def test_two_builds_of_one_output_without_overwrite(tiny_dataset, tmp_path):
    """Both pass the check at the start; the one that finishes second must not replace the first one's store."""
    out = tmp_path / "s.h5"
    results = sorted(_race(_build(tiny_dataset, out)))
    assert [code for code, _ in results] == [0, 1]
    assert results[1][1].startswith(f"error: {out} appeared while this build ran")
    assert len(results[1][1].splitlines()) == 1
    assert verify_store(out) == [] and [p.name for p in tmp_path.iterdir()] == ["s.h5"]


def test_two_builds_replacing_one_store(tiny_dataset, tiny_store, tmp_path):
    """With --overwrite each may replace the store it found, not the other build's."""
    out = tmp_path / "s.h5"
    out.write_bytes(tiny_store.read_bytes())
    old_id = FeatureStore(out).build_id
    results = sorted(_race(_build(tiny_dataset, out, "--overwrite")))
    assert [code for code, _ in results] == [0, 1]
    assert results[1][1].startswith(f"error: {out} was replaced by another file while this build ran")
    assert FeatureStore(out).build_id != old_id and verify_store(out) == []
    assert [p.name for p in tmp_path.iterdir()] == ["s.h5"]


@pytest.fixture(scope="module")
def other_dataset(tmp_path_factory):
    """Six clips, none of which is in ``tiny_dataset``: its store differs from the tiny store everywhere."""
    clips = good_clips(n_per_fold=2)
    for clip in clips:
        clip["name"] = "9" + clip["name"]
        clip["samples"] = clip["samples"][::-1].copy()
    return write_tree(tmp_path_factory.mktemp("other") / "UrbanSound8K", clips)


def test_readers_during_a_rebuild_see_the_old_or_the_new_store(tiny_store, other_dataset, tmp_path):
    out = tmp_path / "s.h5"
    out.write_bytes(tiny_store.read_bytes())
    expected_new = tmp_path / "expected" / "new.h5"
    build_store(open_source(other_dataset), expected_new, n_jobs=1, batch_size=1, progress=False)
    stores = {"old": FeatureStore(tiny_store).load("mfcc_stats"), "new": FeatureStore(expected_new).load("mfcc_stats")}
    opened_before = FeatureStore(out)
    held_open = h5py.File(out, "r")
    old_logmel = held_open["fold1/logmel"][...]

    rebuild = faults.start(_build(other_dataset, out, "--overwrite"), paced=(0.05, 0))
    seen, ended = [], False
    while not ended:  # read until the rebuild has ended, and once more after
        ended = rebuild.poll() is not None
        try:
            X, y, groups, meta = FeatureStore(out).load("mfcc_stats")
        except StoreChangedError:  # replaced between opening and loading: refused, as promised; read again
            ended = False
            continue
        matches = [name for name, (X2, y2, g2, m2) in stores.items()
                   if np.array_equal(X, X2) and np.array_equal(y, y2) and np.array_equal(groups, g2) and meta.equals(m2)]
        assert len(matches) == 1, "a read returned neither the old nor the new store"
        seen.append(matches[0])
    assert rebuild.returncode == 0
    assert seen[0] == "old" and seen[-1] == "new" and seen == sorted(seen, key=["old", "new"].index)

    # A reader that opened the file before keeps reading the old one...
    np.testing.assert_array_equal(held_open["fold1/logmel"][...], old_logmel)
    held_open.close()
    # ...and a FeatureStore opened on the old store refuses to mix in the new one.
    with pytest.raises(StoreChangedError, match="rebuilt meanwhile"):
        opened_before.load("logmel", folds=[1])
