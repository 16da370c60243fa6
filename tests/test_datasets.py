"""Datasets other than UrbanSound8K: ESC-50 and ESC-10, a table of clips, one folder per class, Hugging Face.

Every dataset here is written by the test itself, in its real layout, with short
tones as audio (a clip's class sets its pitch), so that each layout, each way of
naming classes and folds, and each bad input is exercised offline in seconds.
"""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import tone

from featstore import FeatureConfig, FeatureStore, SourceError, build_store, open_source
from featstore.sources.table import stable_fold

CONFIG = FeatureConfig(clip_seconds=0.5)  # short clips: fast builds


def _wav(path, seconds=0.3, freq=440.0, sample_rate=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds=seconds, sample_rate=sample_rate, freq=freq), sample_rate)


def _build(source, path, config=CONFIG):
    return build_store(source, path, config=config, n_jobs=1, progress=False)


# ----------------------------------------------------------------------------
# ESC-50 and ESC-10

# (target, category, esc10) of the classes of the small ESC-50 below: ids as in the real
# dataset, three of them ESC-10 classes.
ESC_CLASSES = [(0, "dog", "True"), (1, "rooster", "True"), (5, "cat", "False"), (10, "rain", "True"),
               (42, "siren", "False")]


def write_esc50(root, *, clips_per_fold=1, seconds=5.0):
    """A small ESC-50 download: every class in every fold, ``meta/esc50.csv`` as the real one writes it."""
    rows = []
    for fold in range(1, 6):
        for target, category, esc10 in ESC_CLASSES:
            for take in "ABC"[:clips_per_fold]:
                src = 100000 + 100 * fold + target
                name = f"{fold}-{src}-{take}-{target}.wav"
                _wav(root / "audio" / name, seconds=seconds, freq=200 + 20 * target, sample_rate=44100)
                rows.append({"filename": name, "fold": fold, "target": target, "category": category,
                             "esc10": esc10, "src_file": src, "take": take})
    (root / "meta").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / "meta" / "esc50.csv", index=False)
    return root


@pytest.fixture(scope="module")
def esc50(tmp_path_factory):
    return write_esc50(tmp_path_factory.mktemp("esc") / "ESC-50-master", seconds=0.6)


def test_an_esc50_download_is_recognised_and_read_by_its_columns(esc50):
    source = open_source(esc50)
    assert (source.layout, source.clip_seconds) == ("esc50", 5.0)
    assert source.class_names == ("dog", "rooster", "cat", "rain", "siren")  # in target order
    assert source.class_ids == (0, 1, 5, 10, 42)
    assert source.folds == (1, 2, 3, 4, 5)
    assert source.columns.as_dict() == {"path": "filename", "label": "category", "class_id": "target",
                                        "fold": "fold", "group": "src_file"}
    assert source.rejected == [] and source.unlisted == []


def test_an_esc50_store_keeps_classes_ids_folds_and_columns(esc50, tmp_path):
    summary = _build(open_source(esc50), tmp_path / "esc50.h5", config=None)
    store = FeatureStore(tmp_path / "esc50.h5")
    assert store.layout == "esc50" and store.folds == (1, 2, 3, 4, 5)
    assert store.class_names == ("dog", "rooster", "cat", "rain", "siren") and store.class_ids == (0, 1, 5, 10, 42)
    assert store.config.clip_seconds == 5.0  # the dataset's length, with no flag
    assert (summary.clip_seconds, summary.clip_length_from) == (5.0, "ESC-50's clip length")
    assert (summary.n_cropped, summary.n_padded) == (0, 25)  # 0.6 s clips
    assert "Clip length 5 s (ESC-50's clip length): 0 clips cropped, 25 padded." in summary.format()
    X, y, groups, meta = store.load("mfcc_stats")
    assert list(meta.columns[:7]) == ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
    assert (np.asarray(store.class_names)[y] == meta["category"]).all()
    assert (np.asarray(store.class_ids)[y] == meta["target"]).all()
    assert (groups == meta["fold"]).all() and groups.dtype == np.int64
    assert store.verify() == []


def test_esc10_is_the_rows_whose_esc10_cell_reads_true_with_ids_made_0_to_n(esc50, tmp_path):
    source = open_source(esc50, dataset="esc10")
    assert source.layout == "esc10"
    # "False" is a non-empty string: bool("False") would have let cat and siren in
    assert source.class_names == ("dog", "rooster", "rain") and source.class_ids == (0, 1, 10)
    assert source.unlisted == []  # the other classes' files are listed by the CSV, just not ESC-10
    _build(source, tmp_path / "esc10.h5")
    store = FeatureStore(tmp_path / "esc10.h5")
    _, y, _, meta = store.load("mfcc_stats")
    assert sorted(set(y)) == [0, 1, 2] and set(meta["target"]) == {0, 1, 10}
    assert store.verify() == []


def test_an_audio_file_the_csv_does_not_list_is_counted_and_named(esc50, tmp_path):
    extra = esc50 / "audio" / "9-99-A-0.wav"
    _wav(extra)
    try:
        summary = _build(open_source(esc50), tmp_path / "s.h5")
    finally:
        extra.unlink()
    assert summary.unlisted == ["9-99-A-0.wav"]
    assert "Not built: 1 audio files that the metadata does not list (9-99-A-0.wav)." in summary.format()


def test_clip_seconds_given_overrides_the_dataset_length(esc50, tmp_path):
    summary = _build(open_source(esc50), tmp_path / "s.h5", config=FeatureConfig(clip_seconds=0.25))
    assert summary.clip_seconds == 0.25 and summary.clip_length_from == "as configured"
    assert summary.n_cropped == 25 and summary.n_padded == 0


# ----------------------------------------------------------------------------
# a table of clips

def write_table(root, rows, name="clips.csv", sep=","):
    """``rows``: dicts with the table's cells; a ``tone`` key (Hz) writes the file at ``file_name``."""
    for row in rows:
        if "tone" in row:
            _wav(root / row["file_name"], freq=row["tone"])
    table = pd.DataFrame([{k: v for k, v in row.items() if k != "tone"} for row in rows])
    table.to_csv(root / name, index=False, sep=sep)
    return root / name


def _clip(name, label, fold, **cells):
    return {"file_name": name, "label": label, "fold": fold, "tone": 300 + 50 * len(label), **cells}


def test_a_table_with_integer_folds(tmp_path):
    rows = [_clip(f"a/{i}.wav", label, fold) for i, (label, fold) in
            enumerate([("dog", 1), ("cat", 1), ("dog", 2), ("cat", 2), ("bird", 1)])]
    csv = write_table(tmp_path, rows)
    source = open_source(metadata=csv, label_column="label", fold_column="fold")
    assert source.layout == "table" and source.clip_seconds is None
    assert source.class_names == ("bird", "cat", "dog") and source.folds == (1, 2)
    summary = _build(source, tmp_path / "t.h5", config=None)
    assert summary.clip_seconds == 4.0 and summary.clip_length_from == "the default"
    store = FeatureStore(tmp_path / "t.h5")
    # bird is absent from fold 2 and keeps its label there: labels come from the whole table
    _, y2, _, meta2 = store.load("mfcc_stats", folds=[2])
    assert list(np.asarray(store.class_names)[y2]) == list(meta2["label"]) == ["dog", "cat"]
    assert store.counts().loc[2, "bird"] == 0
    assert store.columns == {"path": "file_name", "label": "label", "class_id": None, "fold": "fold", "group": None}
    assert store.verify() == []


def test_a_tsv_with_split_names_as_folds_and_a_class_id_column(tmp_path):
    rows = [_clip(f"{i}.wav", label, split, id=cid) for i, (label, split, cid) in enumerate(
        [("dog", "test", 3), ("cat", "train", 7), ("dog", "train", 3), ("cat", "validation", 7), ("dog", "validation", 3)])]
    tsv = write_table(tmp_path, rows, name="meta.tsv", sep="\t")
    source = open_source(tsv, audio_dir=tmp_path, label_column="label", class_id_column="id", fold_column="fold")
    assert source.folds == ("train", "validation", "test")  # as a reader expects, not alphabetical
    assert source.class_names == ("dog", "cat") and source.class_ids == (3, 7)
    _build(source, tmp_path / "t.h5")
    store = FeatureStore(tmp_path / "t.h5")
    assert store.folds == ("train", "validation", "test")
    X, y, groups, meta = store.load("logmel", folds=["validation", "test"])
    assert list(groups) == ["validation", "validation", "test"] and groups.dtype.kind == "U"
    assert list(y) == [1, 0, 0]
    assert store.verify() == []


@pytest.mark.parametrize("encoding, sep", [("utf-8-sig", ","), ("utf-8", ";")], ids=["byte-order-mark", "semicolons"])
def test_a_table_as_spreadsheets_save_it(tmp_path, encoding, sep):
    rows = [_clip("1.wav", "dog", 1), _clip("2.wav", "cat", 2)]
    csv = write_table(tmp_path, rows, sep=sep)
    csv.write_text(csv.read_text(), encoding=encoding)
    source = open_source(metadata=csv, label_column="label", fold_column="fold")
    assert source.class_names == ("cat", "dog") and len(source.rows) == 2


def test_explicit_classes_come_first_and_other_labels_are_rejected(tmp_path):
    rows = [_clip("1.wav", "dog", 1), _clip("2.wav", "cat", 1), _clip("3.wav", "cow", 2), _clip("4.wav", "dog", 2)]
    csv = write_table(tmp_path, rows)
    source = open_source(metadata=csv, label_column="label", fold_column="fold", classes=["dog", "cat"])
    assert source.class_names == ("dog", "cat")
    (rejected,) = source.rejected
    assert rejected["file"] == "3.wav" and "class 'cow' is not among the classes given (dog, cat)" in rejected["reason"]


@pytest.mark.parametrize("cells, reason", [
    ({"fold": ""}, "fold is blank"),
    ({"fold": "x"}, "fold 'x' is not an integer"),
    ({"label": "dog, cat"}, "label 'dog, cat' holds several labels (dog, cat): a clip has one class here"),
    ({"label": ""}, "label is blank"),
    ({"file_name": "../outside.wav"}, "path '../outside.wav' leaves the audio folder"),
    ({"file_name": "/abs/x.wav"}, "path '/abs/x.wav' is absolute"),
    ({"file_name": "1.wav"}, "duplicate of row 1 (the same path)"),
    ({"file_name": "./a/../1.wav"}, "duplicate of row 1 (the same path)"),
    ({"file_name": "missing.wav"}, "file not found"),
], ids=["blank-fold", "non-integer-fold", "several-labels", "blank-label", "escaping-path", "absolute-path",
        "duplicate", "duplicate-written-otherwise", "missing-file"])
def test_a_bad_row_is_rejected_with_its_reason_and_the_build_goes_on(tmp_path, cells, reason):
    good = [_clip("1.wav", "dog", 1), _clip("2.wav", "cat", 2), _clip("3.wav", "cat", 1)]
    bad = {**_clip("4.wav", "dog", 2), **cells}
    if bad["file_name"] != "4.wav":
        del bad["tone"]  # no file written for it (some of these paths lie outside the test's folder)
    csv = write_table(tmp_path, [*good, bad])
    summary = _build(open_source(metadata=csv, label_column="label", fold_column="fold"), tmp_path / "t.h5")
    assert summary.n_stored == 3
    (rejected,) = summary.rejected
    assert reason in rejected["reason"]
    assert FeatureStore(tmp_path / "t.h5").rejected()["reason"].tolist() == [rejected["reason"]]


@pytest.mark.parametrize("options, message", [
    ({"label_column": "category"}, r"clips.csv has no column 'category' \(label\); its columns are \['file_name', "),
    ({"label_column": "label"}, r"clips.csv has no folds: name its fold column with --fold-column, or make K "
                                r"folds with --assign-folds K"),
    ({"fold_column": "fold"}, r"say which column holds the classes \(--label-column and/or --class-id-column\)"),
    ({"label_column": "label", "fold_column": "fold", "assign_folds": 3}, "not both"),
    ({"label_column": "label", "fold_column": "fold", "group_pattern": "(["}, "is not a valid regular expression"),
    ({"label_column": "label", "fold_column": "fold", "group_pattern": r"^zzz(\d)"}, "matches none of the 2 file names"),
], ids=["missing-column", "no-folds", "no-class-column", "folds-twice", "bad-pattern", "pattern-matches-nothing"])
def test_a_table_that_cannot_be_read_as_asked_is_one_clear_error(tmp_path, options, message):
    csv = write_table(tmp_path, [_clip("1.wav", "dog", 1), _clip("2.wav", "cat", 2)])
    with pytest.raises(SourceError, match=message) as caught:
        open_source(metadata=csv, **options)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("labels, ids, message", [
    (("dog", "cat", "cat"), (1, 2, 2), None),
    (("dog", "cat", "cat"), (1, 2, 1), r"class id 1 \(id\) names several classes \(cat, dog\) in label"),
    (("dog", "cat", "dog"), (1, 2, 3), r"class 'dog' \(label\) has several ids \(1, 3\) in id"),
], ids=["one-to-one", "id-with-two-names", "name-with-two-ids"])
def test_ids_and_names_must_match_one_to_one(tmp_path, labels, ids, message):
    rows = [_clip(f"{i}.wav", label, 1, id=cid) for i, (label, cid) in enumerate(zip(labels, ids))]
    csv = write_table(tmp_path, rows)
    options = {"metadata": csv, "label_column": "label", "class_id_column": "id", "fold_column": "fold"}
    if message is None:
        assert open_source(**options).class_ids == (1, 2)
        return
    with pytest.raises(SourceError, match=message):
        open_source(**options)


def test_a_table_of_ids_only_names_its_classes_by_their_ids(tmp_path):
    rows = [{**_clip(f"{i}.wav", "x", 1), "cid": cid} for i, cid in enumerate([10, 2, 10])]
    csv = write_table(tmp_path, rows)
    source = open_source(metadata=csv, class_id_column="cid", fold_column="fold")
    assert source.class_names == ("2", "10") and source.class_ids == (2, 10)
    assert [row["_label"] for row in source.rows.values()] == [1, 0, 1]


def test_assigned_folds_are_stable_and_keep_a_recording_together(tmp_path):
    rows = [_clip(f"rec{r}_{i}.wav", ("dog", "cat")[r % 2], "") for r in range(12) for i in range(3)]
    csv = write_table(tmp_path, [{k: v for k, v in row.items() if k != "fold"} for row in rows])
    options = {"label_column": "label", "assign_folds": 4, "group_pattern": r"^(rec\d+)_"}
    before = open_source(metadata=csv, **options)
    fold_of = {row["file_name"]: row["fold"] for row in before.rows.values()}
    assert set(fold_of.values()) <= {1, 2, 3, 4} and len(set(fold_of.values())) > 1
    for r in range(12):  # the three clips of a recording share a fold
        assert len({fold_of[f"rec{r}_{i}.wav"] for i in range(3)}) == 1
        assert fold_of[f"rec{r}_0.wav"] == stable_fold(f"rec{r}", 4)
    csv = write_table(tmp_path, [{k: v for k, v in row.items() if k != "fold"} for row in
                                 [*rows, _clip("rec99_0.wav", "dog", ""), _clip("new.wav", "cat", "")]])
    after = open_source(metadata=csv, **options)
    moved = {row["file_name"] for row in after.rows.values() if row["file_name"] in fold_of
             and row["fold"] != fold_of[row["file_name"]]}
    assert moved == set()  # adding files never moves another
    assert after.columns.group == "group" and after.schema["fold"] == "int"


# ----------------------------------------------------------------------------
# one folder per class

def write_class_folders(root, layout):
    """``layout``: {relative folder: number of clips}."""
    for folder, n in layout.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            _wav(root / folder / f"spk{i % 2}_nohash_{i}.wav", freq=300 + 7 * len(folder))
    return root


def test_class_folders_sorted_naturally_with_noise_and_hidden_folders_skipped(tmp_path):
    root = write_class_folders(tmp_path / "data", {"10": 2, "2": 2, "1": 2, "_background_noise_": 3, ".cache": 1,
                                                   "empty": 0})
    (root / "README.txt").write_text("not audio")
    source = open_source(root, assign_folds=2, group_pattern="^(.+)_nohash_")
    assert source.layout == "folders"
    assert source.class_names == ("1", "2", "10", "empty")  # numeric names in numeric order; empty kept
    assert source.empty_classes == ["empty"]
    assert len(source.rows) == 6 and all(row["_file"].split("/")[0] in ("1", "2", "10") for row in source.rows.values())
    assert {row["group"] for row in source.rows.values()} == {"spk0", "spk1"}


def test_class_folders_without_fold_folders_need_assign_folds(tmp_path):
    root = write_class_folders(tmp_path / "data", {"dog": 2, "cat": 2})
    with pytest.raises(SourceError, match=r"has no folds: put the class folders in fold folders .*--assign-folds K"):
        open_source(root)


def test_split_folders_of_class_folders_are_named_folds(tmp_path):
    root = write_class_folders(tmp_path / "data", {"train/dog": 2, "train/cat": 2, "test/dog": 1, "test/cow": 1})
    source = open_source(root)
    assert source.folds == ("train", "test") and source.class_names == ("cat", "cow", "dog")
    summary = _build(source, tmp_path / "f.h5")
    assert summary.clips_per_fold == {"train": 4, "test": 2}
    store = FeatureStore(tmp_path / "f.h5")
    assert store.folds == ("train", "test") and store.verify() == []
    numbered = write_class_folders(tmp_path / "numbered", {"fold1/a": 1, "fold2/a": 1, "fold2/b": 1})
    assert open_source(numbered).folds == (1, 2)


def test_mixed_class_and_fold_folders_are_one_clear_error(tmp_path):
    root = write_class_folders(tmp_path / "data", {"dog": 1, "train/cat": 1})
    with pytest.raises(SourceError, match="mixes class folders"):
        open_source(root)


# ----------------------------------------------------------------------------
# Hugging Face datasets of other layouts

def test_a_hugging_face_dataset_with_a_classlabel_and_splits(tmp_path):
    from datasets import Audio, ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features({"audio": {"bytes": Value("binary"), "path": Value("string")},
                         "label": ClassLabel(names=["yes", "no", "up"]), "speaker": Value("string")})
    splits = {}
    for split, labels in (("train", [0, 1, 2, 0]), ("test", [1, 0])):
        records = []
        for i, label in enumerate(labels):
            path = tmp_path / "wav" / f"{split}{i}.wav"
            _wav(path, freq=300 + 100 * label)
            records.append({"audio": {"path": str(path), "bytes": path.read_bytes()}, "label": label,
                            "speaker": f"s{i % 2}"})
        splits[split] = Dataset.from_list(records, features=features).cast_column("audio", Audio())
    DatasetDict(splits).save_to_disk(str(tmp_path / "saved"))
    source = open_source(tmp_path / "saved", label_column="label", group_column="speaker")
    assert source.layout == "table" and source.folds == ("train", "test")  # the splits, as named folds
    assert source.class_names == ("yes", "no", "up")  # the ClassLabel's names, in its order
    _build(source, tmp_path / "hf.h5")
    store = FeatureStore(tmp_path / "hf.h5")
    _, y, groups, meta = store.load("mfcc_stats", folds=["test"])
    assert list(y) == [1, 0] and list(meta["label"]) == ["no", "yes"] and list(meta["speaker"]) == ["s0", "s1"]
    assert store.columns["group"] == "speaker" and store.verify() == []


# ----------------------------------------------------------------------------
# the command line

def test_info_shows_classes_folds_and_columns(esc50, tmp_path, capsys):
    from featstore.__main__ import main

    assert main(["build", str(esc50), "--dataset", "esc10", "--out", str(tmp_path / "s.h5"), "--quiet",
                 "--clip-seconds", "0.5", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "Clip length 0.5 s (as configured): 15 clips cropped, 0 padded (set --clip-seconds to change it)." in out
    assert main(["info", str(tmp_path / "s.h5")]) == 0
    out = capsys.readouterr().out
    assert "dataset layout: esc10; columns: path = filename, label = category, class_id = target, fold = fold, " \
           "group = src_file" in out
    assert "classes (3, label: name): 0: dog, 1: rooster, 2: rain" in out


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "esc50"], "Metadata not found: "),
    (["--label-column", "x"], "--label-column does not apply to the ESC-50 layout; leave it out."),
    (["--audio-dir", "a"], "--audio-dir goes with --metadata"),
], ids=["not-esc50", "column-option-for-a-preset", "audio-dir-alone"])
def test_dataset_options_that_do_not_fit_are_one_line(esc50, tmp_path, capsys, argv, message):
    from featstore.__main__ import main

    source = str(tmp_path) if argv[:2] == ["--dataset", "esc50"] else str(esc50)
    assert main(["build", source, "--out", str(tmp_path / "s.h5"), "--quiet", *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "s.h5").exists()


def test_a_store_of_format_2_reads_as_urbansound8k(tiny_store, tmp_path):
    """Stores built before other datasets could be read hold format 2: still readable, as UrbanSound8K."""
    import shutil

    import h5py

    from featstore.digest import digest_attrs

    copy = tmp_path / "old.h5"
    shutil.copy(tiny_store, copy)
    with h5py.File(copy, "r+") as f:
        f.attrs["format_version"] = 2
        f.attrs["fold_sizes"] = json.dumps({str(k): v for k, v in json.loads(f.attrs["fold_sizes"])})
        for name in ("layout", "columns", "metadata_columns", "class_ids"):
            del f.attrs[name]
        f.attrs["digest"] = np.uint64(digest_attrs({k: v for k, v in f.attrs.items() if k != "digest"}))
        for column, old_name in (("file", "slice_file_name"), ("class", "classID")):  # the old rejected table
            f.move(f"rejected/{column}", f"rejected/{old_name}")
    old, new = FeatureStore(copy), FeatureStore(tiny_store)
    assert (old.layout, old.columns, old.class_ids, old.folds) == (new.layout, new.columns, new.class_ids, new.folds)
    for a, b in zip(old.load("logmel"), new.load("logmel")):
        assert (a == b).all().all() if isinstance(a, pd.DataFrame) else np.array_equal(a, b)
    assert old.verify() == []
