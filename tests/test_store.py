import pickle
import re
import shutil

import h5py
import numpy as np
import pytest

from featstore import CLASS_NAMES, FeatureConfig, FeatureStore, StoreConfigError, StoreFormatError
from featstore.sources.urbansound8k import COLUMNS, SCHEMA
from featstore.verify import verify_store
from featstore.writer import StoreWriter


def test_load_returns_arrays_groups_and_metadata(tiny_store):
    store = FeatureStore(tiny_store)
    X, y, groups, meta = store.load("logmel", folds=[3, 1])
    assert X.shape == (8, 64, 321) and X.dtype == np.float32
    assert y.dtype == np.int64 and groups.dtype == np.int64
    assert list(groups) == [3] * 4 + [1] * 4
    assert list(meta["fold"]) == list(groups)
    assert list(meta["classID"]) == list(y)
    assert list(meta["class"]) == [CLASS_NAMES[i] for i in y]
    assert len(meta) == len(X)


@pytest.mark.parametrize("feature, shape", [("logmel", (64, 321)), ("mfcc_stats", (40,)), ("waveform", (64000,))])
def test_load_each_feature(tiny_store, feature, shape):
    X, y, groups, _ = FeatureStore(tiny_store).load(feature)
    assert X.shape == (12, *shape)
    assert np.isfinite(X).all()
    assert sorted(set(groups)) == [1, 2, 3]


def test_load_reads_only_requested_folds(tiny_store, monkeypatch):
    opened = []
    original = h5py.Group.__getitem__

    def spy(self, name):
        opened.append(name)
        return original(self, name)

    monkeypatch.setattr(h5py.Group, "__getitem__", spy)
    FeatureStore(tiny_store).load("mfcc_stats", folds=2)
    folds_read = {n for n in opened if isinstance(n, str) and re.fullmatch(r"fold\d+", n)}
    assert folds_read == {"fold2"}


def test_unknown_fold_and_feature(tiny_store):
    store = FeatureStore(tiny_store)
    with pytest.raises(StoreFormatError, match=r"Folds \[7\] are not in .* holds folds \[1, 2, 3\]"):
        store.load("logmel", folds=[1, 7])
    with pytest.raises(StoreFormatError, match="Unknown feature 'mfcc'"):
        store.load("mfcc")


def test_config_mismatch_is_a_clear_error(tiny_store):
    FeatureStore(tiny_store, config=FeatureConfig())
    with pytest.raises(StoreConfigError, match="n_mels: store 64 vs asked 128"):
        FeatureStore(tiny_store, config=FeatureConfig(n_mels=128))


def test_not_a_store(tmp_path):
    with pytest.raises(StoreFormatError, match="No feature store"):
        FeatureStore(tmp_path / "absent.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(StoreFormatError, match="not a readable HDF5 file"):
        FeatureStore(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = [1, 2]
    with pytest.raises(StoreFormatError, match="not a feature store"):
        FeatureStore(tmp_path / "other.h5")


def test_store_pickles_without_open_file(tiny_store):
    store = FeatureStore(tiny_store)
    clone = pickle.loads(pickle.dumps(store))
    np.testing.assert_array_equal(clone.load("mfcc_stats")[0], store.load("mfcc_stats")[0])


def test_counts_and_attributes(tiny_store):
    store = FeatureStore(tiny_store)
    assert store.counts().to_numpy().sum() == 12
    assert store.class_names == CLASS_NAMES
    assert {"torch", "torchaudio", "h5py", "featstore"} <= set(store.versions)
    assert store.n_source_clips == 12
    assert len(store.rejected()) == 0


@pytest.fixture
def store_copy(tiny_store, tmp_path):
    path = tmp_path / "copy.h5"
    shutil.copy(tiny_store, path)
    return path


def test_verify_finds_non_finite_values(store_copy):
    with h5py.File(store_copy, "r+") as f:
        f["fold2/logmel"][1, 0, 0] = np.nan
    assert FeatureStore(store_copy).verify() == [
        "fold 2: logmel of clip 1 disagrees with its digest (changed or damaged after the build)",
        "fold 2: logmel of clip 1 has NaN or infinite values",
    ]


def test_verify_finds_count_mismatch(store_copy):
    with h5py.File(store_copy, "r+") as f:
        f.attrs["n_source_clips"] = 20
    problems = verify_store(store_copy)
    assert problems == [
        "the root attributes disagree with their digest (one was changed or damaged)",
        "12 stored + 0 rejected clips != 20 clips in the source metadata",
    ]


def test_verify_finds_wrong_shape_and_labels(store_copy):
    with h5py.File(store_copy, "r+") as f:
        f["fold1/mfcc_stats"].resize(3, axis=0)
        f["fold3/label"][0] = 42
    problems = FeatureStore(store_copy).verify()
    assert "fold 1: mfcc_stats has shape (3, 40), expected (4, 40)" in problems
    assert "fold 3: label disagrees with its digest (changed or damaged after the build)" in problems


@pytest.fixture
def empty_store(tmp_path):
    """A store without clips, as a finished writer leaves it when nothing was appended."""
    path = tmp_path / "empty.h5"
    attributes = {"class_names": CLASS_NAMES, "source": "nothing", "versions": {}, "created": "2024-01-01T00:00:00+00:00",
                  "layout": "urbansound8k", "columns": COLUMNS.as_dict(), "metadata_columns": SCHEMA}
    writer = StoreWriter(path, FeatureConfig(), {}, attributes)
    writer.finish({}, [{"file": "a.wav", "fold": "1", "class": "0", "reason": "file not found"}], 1)
    return path


def test_an_empty_store_is_readable(empty_store):
    store = FeatureStore(empty_store)
    assert store.folds == () and len(store) == 0
    meta = store.metadata()
    assert len(meta) == 0 and list(meta.columns)[:3] == ["slice_file_name", "fsID", "start"]
    assert meta["fold"].dtype == np.int64
    assert store.counts().empty
    X, y, groups, meta = store.load("logmel")
    assert X.shape == (0, 64, 321) and y.shape == groups.shape == (0,) and len(meta) == 0
    assert store.verify() == ["the store holds no clips"]


def test_a_store_without_a_newer_feature(store_copy):
    # As a store of an earlier version, which had no mfcc_delta_stats.
    with h5py.File(store_copy, "r+") as f:
        for fold in (1, 2, 3):
            del f[f"fold{fold}/mfcc_delta_stats"]
    store = FeatureStore(store_copy)
    assert store.load("mfcc_stats")[0].shape == (12, 40)
    with pytest.raises(StoreFormatError, match="has no mfcc_delta_stats: it was built by an earlier version"):
        store.load("mfcc_delta_stats")
    assert "fold 1: dataset mfcc_delta_stats is missing" in store.verify()
