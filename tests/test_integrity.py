"""Damage to a store is found: verify names the fold and dataset of each problem and never crashes; load refuses it."""

import json
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

import faults
from featstore import FeatureStore, StoreCorruptError, StoreFormatError
from featstore.__main__ import main
from featstore.digest import digest_array
from featstore.store import VIEWS
from featstore.verify import verify_store


@pytest.fixture
def copy(tiny_store, tmp_path):
    path = tmp_path / "copy.h5"
    shutil.copy(tiny_store, path)
    return path


def _flipped(store, path, chunks, rng) -> tuple:
    """``store`` copied to ``path`` with one bit flipped at a random place of one of ``chunks``: ``(fold, name, clip)``."""
    fold, name, first_row, offset, size = chunks[rng.integers(len(chunks))]
    byte, bit = int(rng.integers(size)), int(rng.integers(8))
    shutil.copy(store, path)
    faults.flip_bit(path, offset + byte, bit)
    with h5py.File(path, "r") as f:
        dataset = f[f"fold{fold}/{name}"]
        row_bytes = dataset.dtype.itemsize * int(np.prod(dataset.shape[1:]))
    return fold, name, first_row + byte // row_bytes


def _only_that_clip_is_named(path, fold, name, clip):
    problems = verify_store(path)
    assert f"fold {fold}: {name} of clip {clip} disagrees with its digest (changed or damaged after the build)" \
        in problems, (fold, name, clip, problems)
    assert all(p.startswith(f"fold {fold}: {name} of clip {clip} ") for p in problems)  # a NaN maybe, nothing else


def test_every_flipped_bit_in_the_features_is_found(tiny_store, tmp_path):
    """Bits flipped at seeded random places in the chunks of the feature datasets: each is named by verify and refused by load."""
    rng = np.random.default_rng(20)
    chunks = faults.feature_chunks(tiny_store)
    for _ in range(20):
        fold, name, clip = _flipped(tiny_store, tmp_path / "flipped.h5", chunks, rng)
        _only_that_clip_is_named(tmp_path / "flipped.h5", fold, name, clip)
        with pytest.raises(StoreCorruptError, match=f"fold {fold}: {name} of clip {clip} disagrees with its digest"):
            FeatureStore(tmp_path / "flipped.h5").load(name, folds=[fold])


@pytest.fixture(scope="module")
def views_store(tmp_path_factory):
    """24 synthetic clips built by the command line with one augmented view (float16)."""
    out = tmp_path_factory.mktemp("views") / "views.h5"
    assert main(["build", "synthetic:24", "--out", str(out), "--augment", "pitch:2", "--jobs", "1", "--quiet"]) == 0
    return out


def test_a_store_with_views_verifies_clean(views_store, capsys):
    capsys.readouterr()
    assert verify_store(views_store) == []
    assert main(["verify", str(views_store)]) == 0
    assert "OK (24 clips" in capsys.readouterr().out
    X, *_ = FeatureStore(views_store).load("logmel", views=True)
    assert X.shape == (24, 2, 64, 321) and X.dtype == np.float16


def test_a_flipped_bit_in_the_views_is_found(views_store, tmp_path):
    """The views are digested like every other feature: verify names the clip, load with views refuses it."""
    rng = np.random.default_rng(3)
    chunks = [chunk for chunk in faults.feature_chunks(views_store) if chunk[1] == VIEWS]
    path = tmp_path / "flipped.h5"
    for _ in range(5):
        fold, _, clip = _flipped(views_store, path, chunks, rng)
        _only_that_clip_is_named(path, fold, VIEWS, clip)
        with pytest.raises(StoreCorruptError, match=f"fold {fold}: {VIEWS} of clip {clip} disagrees with its digest"):
            FeatureStore(path).load("logmel", folds=[fold], views=True)
        FeatureStore(path).load("logmel", folds=[fold])  # the original log-mels are whole


def _delete(name):
    def damage(f):
        del f[name]
    return damage


def _set(name, index, value, keep_digest=False):
    def damage(f):
        dataset = f[name]
        dataset[index] = value
        if keep_digest:  # a change the digest agrees with: only the range checks can tell
            dataset.attrs["digest"] = np.uint64(digest_array(dataset[...]))
    return damage


def _set_attribute(name, value):
    def damage(f):
        f.attrs[name] = value
    return damage


def _resize(name, n):
    def damage(f):
        f[name].resize(n, axis=0)
    return damage


DAMAGE = [
    (_delete("fold2/logmel"), ["fold 2: dataset logmel is missing"]),
    (_delete("fold2/digest/waveform"), ["fold 2: dataset digest/waveform is missing"]),
    (_delete("fold1/label"), ["fold 1: dataset label is missing"]),
    (_delete("fold3/metadata/class"), ["fold 3: dataset metadata/class is missing"]),
    (_delete("fold3"), ["fold 3: the group fold3 is missing"]),
    (_delete("rejected/reason"), ["rejected: dataset reason is missing or too long"]),
    (_set("fold1/metadata/fsID", 2, 999), ["fold 1: metadata/fsID disagrees with its digest (changed or damaged after the build)"]),
    (_set("fold1/metadata/slice_file_name", 0, "other.wav"),
     ["fold 1: metadata/slice_file_name disagrees with its digest (changed or damaged after the build)"]),
    (_set("fold3/label", 0, 42), ["fold 3: label disagrees with its digest (changed or damaged after the build)"]),
    (_set("fold3/label", 0, 42, keep_digest=True),
     ["fold 3: label of clip 0 outside the class ids 0..9 (first: 42)", "fold 3: label of clip 0 differs from metadata/classID"]),
    (_set("fold2/digest/logmel", 1, 7), ["fold 2: digest/logmel disagrees with its digest (changed or damaged after the build)"]),
    (_resize("fold1/mfcc_stats", 3), ["fold 1: mfcc_stats has shape (3, 40), expected (4, 40)"]),
    (_set_attribute("feature_config", '{"n_mels": 64, "sample_r'),
     ["the root attributes disagree with their digest (one was changed or damaged)",
      "the feature_config attribute cannot be read (JSONDecodeError: Unterminated string starting at: line 1 column 16 (char 15))"]),
    (_set_attribute("fold_sizes", json.dumps([[1, 4], [2, 4], [3, 5]])),
     ["the root attributes disagree with their digest (one was changed or damaged)",
      "fold 3: label has shape (4,), expected (5,)"]),
]


@pytest.mark.parametrize(
    "damage, expected", DAMAGE,
    ids=["deleted-feature", "deleted-digests", "deleted-labels", "deleted-metadata-column", "deleted-fold",
         "deleted-rejected-column", "metadata-number", "metadata-name", "label", "label-out-of-range",
         "digest-array", "shrunk-dataset", "garbled-feature-config", "fold-sizes"],
)
def test_each_damaged_part_is_named(copy, damage, expected):
    with h5py.File(copy, "r+") as f:
        damage(f)
    problems = verify_store(copy)
    assert [p for p in problems if p in expected] == expected, problems
    assert problems  # (a change may show in more than one check: a deleted fold also breaks the counts)


def test_a_truncated_file(copy):
    size = copy.stat().st_size
    for keep in (size - 100, size // 2, 1000):
        with open(copy, "r+b") as f:
            f.truncate(keep)
        (problem,) = verify_store(copy)
        assert problem.startswith(f"{copy} cannot be opened as an HDF5 file (") and "truncated" in problem
        with pytest.raises(StoreFormatError, match="not a readable HDF5 file"):
            FeatureStore(copy)


@pytest.mark.parametrize("version, message", [(1, "Stores written before checksums were added are format 1"),
                                              (4, "this version of featstore reads formats 2, 3")])
def test_a_store_of_another_format_version_is_a_clear_error(copy, version, message):
    with h5py.File(copy, "r+") as f:
        f.attrs["format_version"] = version
    with pytest.raises(StoreFormatError, match=f"has store format {version}; .*{message}.*Rebuild the store"):
        FeatureStore(copy)
    (problem,) = verify_store(copy)
    assert f"has store format {version}" in problem


def test_a_garbled_attribute_is_a_clear_error_on_open(copy):
    with h5py.File(copy, "r+") as f:
        f.attrs["class_names"] = "[not json"
    with pytest.raises(StoreCorruptError, match="its attributes disagree with their digest"):
        FeatureStore(copy)


def test_verify_never_crashes_on_damage_anywhere(tiny_store, tmp_path):
    """Bits flipped anywhere in the file (HDF5's own structures included): verify reports, it does not crash.

    Run in a separate process, so that a crash inside HDF5 (a segfault) would show
    as one rather than take the tests down.
    """
    rng = np.random.default_rng(7)
    size = tiny_store.stat().st_size
    damaged = []
    for i in range(25):
        path = tmp_path / f"damaged{i}.h5"
        shutil.copy(tiny_store, path)
        faults.flip_bit(path, int(rng.integers(size)), int(rng.integers(8)))
        damaged.append(str(path))
    script = "import sys\nfrom featstore.verify import verify_store\nfor p in sys.argv[1:]: print(len(verify_store(p)))"
    result = subprocess.run([sys.executable, "-c", script, *damaged], capture_output=True, text=True,
                            env=faults.featstore_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == len(damaged)
