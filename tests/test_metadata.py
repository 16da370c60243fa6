"""Metadata is parsed with explicit types and checked row by row, before any audio is decoded."""

import numpy as np
import pandas as pd
import pytest

from featstore import BuildError, FeatureStore, SourceError, build_store, open_source
from featstore.sources.urbansound8k import check_metadata

from conftest import good_clips, write_tree

GOOD_ROW = {
    "slice_file_name": "100032-3-0-0.wav", "fsID": "100032", "start": "0.0", "end": "0.317551",
    "salience": "1", "fold": "5", "classID": "3", "class": "dog_bark",
}


def _table(*changes):
    """Text rows as read from a CSV: one good row per change, each with that change applied."""
    rows = []
    for i, change in enumerate(changes):
        row = {**GOOD_ROW, "slice_file_name": f"{1000 + i}-3-0-0.wav", **change}
        rows.append(row)
    return pd.DataFrame(rows)


def test_good_rows_are_typed():
    rows, rejected = check_metadata(_table({}, {"fold": " 10 ", "salience": "2"}))
    assert rejected == []
    assert rows[0] == {"slice_file_name": "1000-3-0-0.wav", "fsID": 100032, "start": 0.0, "end": 0.317551,
                       "salience": 1, "fold": 5, "classID": 3, "class": "dog_bark",
                       # featstore's own keys: the clip's name, fold, label and class cell
                       "_file": "1000-3-0-0.wav", "_fold": 5, "_label": 3, "_class": "3"}
    assert rows[1]["fold"] == 10 and rows[1]["salience"] == 2
    assert all(type(rows[0][c]) is int for c in ("fsID", "salience", "fold", "classID"))


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"fold": ""}, "fold is blank"),
        ({"fold": "1.0"}, "fold '1.0' is not an integer"),
        ({"fold": "11"}, "fold 11 is not one of 1..10"),
        ({"fsID": ""}, "fsID is blank"),
        ({"fsID": "-4"}, "fsID -4 is negative"),
        ({"salience": "nan"}, "salience 'nan' is not an integer"),
        ({"salience": "3"}, "salience 3 is not 1 (foreground) or 2 (background)"),
        ({"start": ""}, "start is blank"),
        ({"start": "-1"}, "start -1.0 is negative"),
        ({"end": "nan"}, "end 'nan' is not a finite number"),
        ({"end": "soon"}, "end 'soon' is not a number"),
        ({"start": "2.0", "end": "1.0"}, "end 1.0 is before start 2.0"),
        ({"classID": "12"}, "classID 12 is not one of 0..9"),
        ({"class": "siren"}, "class 'siren' does not match classID 3 (dog_bark)"),
        ({"class": " "}, "class is blank"),
        ({"slice_file_name": ""}, "slice_file_name is blank"),
        ({"slice_file_name": "../../secret.wav"}, "slice_file_name '../../secret.wav' is not a file name"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_cells_reject_their_row_only(change, reason):
    rows, rejected = check_metadata(_table({}, change, {}))
    assert sorted(rows) == [0, 2]
    assert len(rejected) == 1
    assert rejected[0]["reason"] == f"invalid metadata: {reason} (row 2)"


def test_every_problem_of_a_row_is_named():
    _, rejected = check_metadata(_table({"fold": "", "fsID": "x", "salience": "9"}))
    assert rejected[0]["reason"] == "invalid metadata: fsID 'x' is not an integer; fold is blank (row 1)"


def test_duplicates_keep_the_first_row():
    table = _table({}, {}, {})
    table.loc[2, "slice_file_name"] = table.loc[0, "slice_file_name"]
    rows, rejected = check_metadata(table)
    assert sorted(rows) == [0, 1]
    assert rejected[0]["reason"] == "invalid metadata: duplicate of row 1 (the same slice_file_name) (row 3)"


def test_typed_values_with_gaps_are_checked_too():
    # What a Hugging Face dataset with a null cell gives: ints, floats, and None or NaN.
    table = pd.DataFrame([
        {**GOOD_ROW, "fsID": 1, "start": 0.0, "end": 1.0, "salience": 1, "fold": 2, "classID": 3},
        {**GOOD_ROW, "slice_file_name": "b.wav", "fsID": 2, "start": 0.0, "end": 1.0, "salience": 1, "fold": None,
         "classID": 3},
        {**GOOD_ROW, "slice_file_name": "c.wav", "fsID": 3.0, "start": 0.0, "end": np.nan, "salience": 1,
         "fold": 2.0, "classID": 3},
    ])
    rows, rejected = check_metadata(table)
    assert list(rows) == [0]
    assert [r["reason"] for r in rejected] == ["invalid metadata: fold is blank (row 2)",
                                               "invalid metadata: end is blank (row 3)"]


# --------------------------------------------------------------------------- #
# In a build
# --------------------------------------------------------------------------- #


def _write_csv_with(root, edit):
    csv = root / "metadata" / "UrbanSound8K.csv"
    lines = csv.read_text().splitlines()
    lines = edit(lines)
    csv.write_text("\n".join(lines) + "\n")


@pytest.fixture
def dataset(tmp_path):
    return write_tree(tmp_path / "UrbanSound8K", good_clips(n_per_fold=2))


def _blank_cell(lines, row, column):
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = ""
    lines[row] = ",".join(cells)
    return lines


def test_one_blank_fold_costs_one_clip(dataset, tmp_path):
    # Read with guessed types, one blank cell made the fold column floats and every
    # path audio/fold1.0/...: all clips "not found", and a store with no clip.
    _write_csv_with(dataset, lambda lines: _blank_cell(lines, 3, "fold"))
    summary = build_store(open_source(dataset), tmp_path / "s.h5", n_jobs=1, progress=False)
    assert summary.n_stored == 5 and summary.n_source_clips == 6
    (reason,) = FeatureStore(tmp_path / "s.h5").rejected()["reason"]
    assert reason == "invalid metadata: fold is blank (row 3)"
    assert FeatureStore(tmp_path / "s.h5").verify() == []


@pytest.mark.parametrize("column", ["fsID", "salience", "start", "end"])
def test_a_blank_number_is_found_before_decoding(dataset, tmp_path, monkeypatch, column):
    import featstore.decode

    _write_csv_with(dataset, lambda lines: _blank_cell(lines, 2, column))
    decoded = []
    real_open = featstore.decode.open_audio
    monkeypatch.setattr(featstore.decode, "open_audio", lambda audio: decoded.append(audio) or real_open(audio))
    with pytest.raises(BuildError, match=f"strict build: .* was rejected: invalid metadata: {column} is blank"):
        build_store(open_source(dataset), tmp_path / "strict.h5", n_jobs=1, strict=True, progress=False)
    assert decoded == [] and not (tmp_path / "strict.h5").exists()
    summary = build_store(open_source(dataset), tmp_path / "s.h5", n_jobs=1, progress=False)
    assert summary.n_stored == 5 and len(decoded) == 5
    assert [r["reason"] for r in summary.rejected] == [f"invalid metadata: {column} is blank (row 2)"]


def test_duplicate_rows_are_stored_once(dataset, tmp_path):
    _write_csv_with(dataset, lambda lines: lines + [lines[1]])
    summary = build_store(open_source(dataset), tmp_path / "s.h5", n_jobs=1, progress=False)
    store = FeatureStore(tmp_path / "s.h5")
    assert summary.n_stored == len(store) == 6
    assert store.metadata()["slice_file_name"].is_unique
    assert "duplicate of row 1" in store.rejected()["reason"][0]
    assert store.verify() == []


def test_a_build_that_stores_nothing_fails_and_writes_nothing(dataset, tmp_path):
    for wav in (dataset / "audio").rglob("*.wav"):
        wav.unlink()
    out = tmp_path / "new" / "s.h5"
    message = r"No clip could be stored: 6 of 6 clips were rejected \(6 x file not found\)"
    with pytest.raises(BuildError, match=message):
        build_store(open_source(dataset), out, n_jobs=1, progress=False)
    assert not (tmp_path / "new").exists()


def test_a_build_with_only_bad_rows_fails_before_decoding(dataset, tmp_path):
    _write_csv_with(dataset, lambda lines: [lines[0]] + [line.replace(",dog_bark", ",siren") for line in lines[1:]
                                                        if ",dog_bark" in line])
    with pytest.raises(BuildError, match=r"No clip could be stored: 1 of 1 clips were rejected \(1 x invalid metadata\)"):
        build_store(open_source(dataset), tmp_path / "s.h5", n_jobs=1, progress=False)
    assert list(tmp_path.iterdir()) == [dataset]


def test_metadata_without_rows(dataset, tmp_path):
    _write_csv_with(dataset, lambda lines: lines[:1])
    with pytest.raises(BuildError, match="The source has no clips: its metadata has no rows"):
        build_store(open_source(dataset), tmp_path / "s.h5", n_jobs=1, progress=False)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty: an UrbanSound8K metadata file starts with the header line slice_file_name,fsID"),
        ("slice_file_name,fsID,start,end,salience,fold,classID,class\nd\xe9j\xe0.wav,1,0,1,1,1,0,"
         "air_conditioner\n".encode("latin-1"), r"is not UTF-8 text \(byte b'\\xe9' at offset"),
        (b'slice_file_name,fsID\n"a.wav,1\n', "not a readable CSV file|lacks the columns"),
    ],
    ids=["empty", "latin-1", "broken-quote"],
)
def test_unreadable_metadata_files(dataset, content, message):
    (dataset / "metadata" / "UrbanSound8K.csv").write_bytes(content)
    with pytest.raises(SourceError, match=message):
        open_source(dataset)
