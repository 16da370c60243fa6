import numpy as np
import pandas as pd
import pytest

from featstore import (
    FeatureStore,
    FolderSource,
    HuggingFaceSource,
    InvalidParameterError,
    SourceError,
    SyntheticSource,
    build_store,
    open_source,
)
from featstore.synth import plan_synthetic_metadata
from featstore.urbansound8k import METADATA_COLUMNS


def _hf_dataset(root):
    """The tiny dataset as the hub mirror holds it: an audio column of {bytes, path} + metadata."""
    from datasets import Audio, Dataset, Features, Value

    meta = pd.read_csv(root / "metadata" / "UrbanSound8K.csv")
    audio = [
        {"bytes": (root / "audio" / f"fold{r.fold}" / r.slice_file_name).read_bytes(), "path": r.slice_file_name}
        for r in meta.itertuples()
    ]
    features = Features({
        "audio": {"bytes": Value("binary"), "path": Value("string")},
        "slice_file_name": Value("string"), "fsID": Value("int64"), "start": Value("float64"),
        "end": Value("float64"), "salience": Value("int64"), "fold": Value("int64"),
        "classID": Value("int64"), "class": Value("string"),
    })
    columns = {c: meta[c].tolist() for c in METADATA_COLUMNS}
    # Shuffled as on the hub, where rows are not grouped by fold.
    dataset = Dataset.from_dict({"audio": audio, **columns}, features=features).shuffle(seed=0)
    return dataset.cast_column("audio", Audio())


@pytest.fixture(scope="module")
def hf_dataset(tiny_dataset):
    return _hf_dataset(tiny_dataset)


def _assert_same_store(a, b):
    a, b = FeatureStore(a), FeatureStore(b)
    for fold in a.folds:
        ma, mb = a.metadata([fold]), b.metadata([fold])
        order_a, order_b = np.argsort(ma["slice_file_name"].to_numpy()), np.argsort(mb["slice_file_name"].to_numpy())
        for feature in ["waveform", "logmel", "mfcc_stats"]:
            xa, ya, *_ = a.load(feature, folds=[fold])
            xb, yb, *_ = b.load(feature, folds=[fold])
            np.testing.assert_array_equal(xa[order_a], xb[order_b])
            np.testing.assert_array_equal(ya[order_a], yb[order_b])
        pd.testing.assert_frame_equal(
            ma.iloc[order_a].reset_index(drop=True), mb.iloc[order_b].reset_index(drop=True)
        )


def test_folder_source_detected(tiny_dataset):
    source = open_source(tiny_dataset)
    assert isinstance(source, FolderSource) and len(source) == 12


@pytest.mark.parametrize("kind", ["parquet-folder", "parquet-file", "save_to_disk", "save_to_disk-dict"])
def test_hf_local_sources_build_the_same_store(kind, hf_dataset, tiny_store, tmp_path):
    from datasets import DatasetDict

    if kind == "parquet-folder":
        (tmp_path / "data").mkdir()
        hf_dataset.to_parquet(tmp_path / "data" / "train-00000-of-00001.parquet")
        spec = tmp_path
    elif kind == "parquet-file":
        spec = tmp_path / "urbansound8k.parquet"
        hf_dataset.to_parquet(spec)
    elif kind == "save_to_disk":
        spec = tmp_path / "saved"
        hf_dataset.save_to_disk(spec)
    else:
        spec = tmp_path / "saved"
        DatasetDict({"train": hf_dataset}).save_to_disk(spec)
    source = open_source(spec)
    assert isinstance(source, HuggingFaceSource) and len(source) == 12
    out = tmp_path / "store.h5"
    build_store(source, out, n_jobs=1, progress=False)
    _assert_same_store(tiny_store, out)


def test_hub_source_uses_all_splits(hf_dataset, tiny_store, tmp_path, monkeypatch):
    import datasets
    from datasets import DatasetDict

    asked = []

    def fake_load_dataset(dataset_id, *args, **kwargs):
        asked.append(dataset_id)
        return DatasetDict({"train": hf_dataset.select(range(8)), "test": hf_dataset.select(range(8, 12))})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    source = open_source("hf:someone/urbansound8k")
    assert asked == ["someone/urbansound8k"] and len(source) == 12
    out = tmp_path / "store.h5"
    build_store(source, out, n_jobs=1, progress=False)
    _assert_same_store(tiny_store, out)


def test_hub_unreachable_names_offline_alternatives():
    # conftest sets HF_HUB_OFFLINE=1: the hub cannot be reached, as on this machine.
    with pytest.raises(SourceError, match="danavery/urbansound8K.*save_to_disk.*synthetic"):
        open_source("hf:danavery/urbansound8K")


def test_missing_columns_are_named(hf_dataset, tmp_path):
    hf_dataset.remove_columns(["fold", "salience"]).save_to_disk(tmp_path / "saved")
    with pytest.raises(SourceError, match=r"lacks the columns \['salience', 'fold'\]"):
        open_source(tmp_path / "saved")


def test_folder_metadata_missing_columns(tiny_dataset, tmp_path):
    (tmp_path / "metadata").mkdir()
    pd.read_csv(tiny_dataset / "metadata" / "UrbanSound8K.csv").drop(columns=["classID"]).to_csv(
        tmp_path / "metadata" / "UrbanSound8K.csv", index=False
    )
    with pytest.raises(SourceError, match=r"lacks the columns \['classID'\]"):
        open_source(tmp_path)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "nowhere", "does not exist"),
        (lambda p: p, "Cannot tell what"),
        (lambda p: (p / "notes.txt").write_text("x") and p / "notes.txt", "not a .parquet, .csv or .tsv file"),
    ],
    ids=["missing-path", "empty-folder", "other-file"],
)
def test_unrecognised_sources(tmp_path, make, message):
    with pytest.raises(SourceError, match=message):
        open_source(make(tmp_path))


def test_empty_hub_id():
    with pytest.raises(SourceError, match="Empty dataset id"):
        open_source("hf:")


def test_corrupt_parquet_is_a_source_error(hf_dataset, tmp_path):
    path = tmp_path / "urbansound8k.parquet"
    hf_dataset.to_parquet(path)
    raw = bytearray(path.read_bytes())
    for i in range(64, len(raw) - 4096, 7):  # the data pages, not the footer
        raw[i] ^= 0x5A
    path.write_bytes(raw)
    with pytest.raises(SourceError, match="Cannot read the parquet files .* may be corrupt"):
        open_source(path)


def test_hub_rows_with_a_null_cell_are_set_aside_before_decoding(hf_dataset, tmp_path):
    gappy = hf_dataset.map(lambda row, i: {"fold": None if i == 0 else row["fold"]}, with_indices=True)
    gappy.save_to_disk(tmp_path / "saved")
    source = open_source(tmp_path / "saved")
    assert len(source) == 12 and len(list(source)) == 11
    assert [r["reason"] for r in source.rejected] == ["invalid metadata: fold is blank (row 1)"]
    summary = build_store(source, tmp_path / "s.h5", n_jobs=1, progress=False)
    assert summary.n_stored == 11 and FeatureStore(tmp_path / "s.h5").verify() == []


# --------------------------------------------------------------------------- #
# Synthetic data, an ordinary source
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "spec, size, full",
    [("synthetic", 1000, False), ("synthetic:40", 40, False), ("synthetic:full", 8732, True)],
)
def test_synthetic_specs(spec, size, full):
    source = open_source(spec, seed=5)
    assert isinstance(source, SyntheticSource)
    assert (source.name, source.size, source.seed, source.full, len(source)) == ("synthetic", size, 5, full, size)
    assert source.label == source.description == f"synthetic ({size} clips, seed 5)"
    assert source.info == {"name": "synthetic", "size": size, "seed": 5}
    assert open_source(source.spec, seed=source.seed).info == source.info


def test_full_is_the_same_plan_as_its_size():
    # A store records the size only: synthetic:8732 must regenerate synthetic:full.
    pd.testing.assert_frame_equal(plan_synthetic_metadata(full=True, seed=3),
                                  plan_synthetic_metadata(n_clips=8732, seed=3))


@pytest.mark.parametrize("spec", ["synthetic:many", "synthetic:5", "synthetic:-3"])
def test_bad_synthetic_spec(spec):
    with pytest.raises(SourceError, match="Bad synthetic source .* synthetic:N"):
        open_source(spec)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"seed": -1}, "seed must be a non-negative int"), ({"n_jobs": 0}, "n_jobs must be a non-zero int")],
)
def test_bad_synthetic_arguments(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        open_source("synthetic:20", **kwargs)


def test_a_seed_is_for_synthetic_sources_only(tiny_dataset):
    with pytest.raises(InvalidParameterError, match="only synthetic sources have a seed"):
        open_source(tiny_dataset, seed=1)


def test_synthetic_source_generates_once_and_cleans_up(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with open_source("synthetic:20", seed=1) as source:
        assert list(tmp_path.iterdir()) == []  # nothing generated until needed
        root = source.root
        assert root.parent == tmp_path and len(list(source)) == 20 and source.rejected == []
        assert source.root == root
        out = tmp_path / "s.h5"
        summary = build_store(source, out, n_jobs=1, progress=False)
    assert not root.exists() and [p.name for p in tmp_path.iterdir()] == ["s.h5"]
    store = FeatureStore(out)
    assert summary.n_stored == 20 and store.source == "synthetic (20 clips, seed 1)"
    assert store.source_info == {"name": "synthetic", "size": 20, "seed": 1}


def test_synthetic_source_equals_the_generated_folder(tmp_path):
    from featstore import make_synthetic_dataset

    folder = make_synthetic_dataset(tmp_path / "data", n_clips=20, seed=2, progress=False)
    with open_source("synthetic:20", seed=2) as source:
        build_store(source, tmp_path / "a.h5", n_jobs=1, progress=False)
    build_store(open_source(folder), tmp_path / "b.h5", n_jobs=1, progress=False)
    _assert_same_store(tmp_path / "a.h5", tmp_path / "b.h5")
    assert FeatureStore(tmp_path / "b.h5").source_info == {"name": "folder", "size": 20}
