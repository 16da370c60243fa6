"""Tests of the synthetic UrbanSound8K generator (:mod:`featstore.synth`)."""

import hashlib
import io
import re

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy import signal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from featstore.exceptions import FeatstoreError, InvalidParameterError, OutputError, StoreExistsError
from featstore.synth import (
    DEFAULT_N_CLIPS,
    FORMAT_COLUMNS,
    make_synthetic_dataset,
    plan_synthetic_metadata,
)
from featstore.synth.render import wav_bytes
from featstore.urbansound8k import (
    AUDIO_DIR,
    CLASS_NAMES,
    CLIPS_PER_FOLD_AND_CLASS,
    FOLDS,
    FULL_LENGTH_SHARE,
    METADATA_COLUMNS,
    METADATA_CSV,
    N_CLASSES,
)

FILE_NAME = re.compile(r"^(\d+)-(\d)-(\d+)-(\d+)\.wav$")
SUBTYPES = {"PCM_U8", "PCM_16", "PCM_24", "FLOAT"}
SMALL = {"n_clips": 200, "seed": 0}


def _digests(root):
    """sha256 of every file under ``root``, keyed by relative path."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _read_metadata(root):
    return pd.read_csv(root / METADATA_CSV)


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    """A 200-clip set (every class in every fold), written with two jobs."""
    root = tmp_path_factory.mktemp("synth") / "us8k"
    return make_synthetic_dataset(root, **SMALL, n_jobs=2, progress=False)


@pytest.fixture(scope="module")
def full_plan():
    return plan_synthetic_metadata(full=True, seed=0)


# --------------------------------------------------------------------------- #
# Layout and files
# --------------------------------------------------------------------------- #


def test_layout_and_csv_columns(small_set):
    assert (small_set / METADATA_CSV).is_file()
    assert sorted(p.name for p in (small_set / "metadata").iterdir()) == ["UrbanSound8K.csv"]
    assert sorted(p.name for p in (small_set / AUDIO_DIR).iterdir()) == sorted(f"fold{f}" for f in FOLDS)
    meta = _read_metadata(small_set)
    assert tuple(meta.columns) == METADATA_COLUMNS
    assert len(meta) == SMALL["n_clips"]
    on_disk = {(int(p.parent.name[4:]), p.name) for p in (small_set / AUDIO_DIR).glob("fold*/*")}
    assert on_disk == set(zip(meta["fold"], meta["slice_file_name"]))


def test_csv_is_the_plan(small_set):
    meta = _read_metadata(small_set)
    plan = plan_synthetic_metadata(**SMALL)
    pd.testing.assert_frame_equal(meta, plan[list(METADATA_COLUMNS)], check_exact=False, rtol=1e-12)


def test_every_wav_matches_its_row(small_set):
    plan = plan_synthetic_metadata(**SMALL)
    formats = set()
    for row in plan.itertuples():
        path = small_set / AUDIO_DIR / f"fold{row.fold}" / row.slice_file_name
        info = sf.info(path)
        assert info.format == "WAV"
        assert (info.samplerate, info.channels, info.subtype) == (row.sample_rate, row.channels, row.subtype)
        assert info.frames == row.n_frames
        assert info.frames / info.samplerate == pytest.approx(row.end - row.start, abs=1e-6)
        samples, _ = sf.read(path, dtype="float32", always_2d=True)
        peak = np.abs(samples).max()
        assert np.isfinite(samples).all() and 0 < peak <= 1.0, row.slice_file_name
        formats.add((info.samplerate, info.channels, info.subtype))
    rates, channels, subtypes = (set(values) for values in zip(*formats))
    assert len(rates) >= 2 and channels == {1, 2} and len(subtypes) >= 3, formats


def test_slices_of_one_occurrence_share_audio(small_set):
    """Consecutive 4 s slices 0.5 s apart overlap by 3.5 s, as windows of one sound."""
    meta = plan_synthetic_metadata(**SMALL)
    parts = meta["slice_file_name"].str.extract(FILE_NAME).astype(int)
    meta = meta.assign(occurrence=parts[2], slice=parts[3])
    meta = meta[(meta["n_frames"] == 4 * meta["sample_rate"]) & (meta["sample_rate"] % 2 == 0)]
    checked = 0
    for _, group in meta.groupby(["fsID", "occurrence"]):
        group = group.sort_values("slice")
        for first, second in zip(group.iloc[:-1].itertuples(), group.iloc[1:].itertuples()):
            if second.slice != first.slice + 1:
                continue
            folder = small_set / AUDIO_DIR / f"fold{first.fold}"
            a, sr = sf.read(folder / first.slice_file_name, dtype="int32", always_2d=True)
            b, _ = sf.read(folder / second.slice_file_name, dtype="int32", always_2d=True)
            np.testing.assert_array_equal(a[sr // 2 :], b[: -(sr // 2)])
            checked += 1
    assert checked > 0, "the 200-clip set should hold overlapping slices"


# --------------------------------------------------------------------------- #
# The plan: counts, grouping, durations, formats
# --------------------------------------------------------------------------- #


def test_full_plan_has_the_real_counts(full_plan):
    assert len(full_plan) == 8732
    counts = pd.crosstab(full_plan["fold"], full_plan["classID"])
    assert counts.index.tolist() == list(FOLDS)
    assert counts.columns.tolist() == list(range(N_CLASSES))
    np.testing.assert_array_equal(counts.to_numpy(), np.array(CLIPS_PER_FOLD_AND_CLASS))


def test_full_plan_has_the_real_share_of_full_length_clips(full_plan):
    is_full = (full_plan["end"] - full_plan["start"]).round(6) == 4.0
    share = is_full.groupby(full_plan["classID"]).mean().to_numpy()
    np.testing.assert_allclose(share, FULL_LENGTH_SHARE, atol=0.06)


@pytest.mark.parametrize("n_clips", [1000, None], ids=["n1000", "full"])
def test_plan_follows_the_real_protocol(n_clips, full_plan):
    plan = full_plan if n_clips is None else plan_synthetic_metadata(n_clips=n_clips, seed=3)
    assert tuple(plan.columns) == METADATA_COLUMNS + FORMAT_COLUMNS
    assert plan["slice_file_name"].is_unique
    parts = plan["slice_file_name"].str.extract(FILE_NAME)
    assert parts.notna().all().all(), "file names must look like {fsID}-{classID}-{occurrence}-{slice}.wav"
    assert (parts[0].astype(int) == plan["fsID"]).all()
    assert (parts[1].astype(int) == plan["classID"]).all()
    assert (plan["class"] == plan["classID"].map(dict(enumerate(CLASS_NAMES)))).all()
    by_recording = plan.groupby("fsID")
    assert (by_recording["fold"].nunique() == 1).all() and (by_recording["classID"].nunique() == 1).all()
    for column in ("sample_rate", "channels", "subtype"):
        assert (by_recording[column].nunique() == 1).all()
    assert by_recording.size().mean() > 2, "recordings should hold several slices"
    duration = plan["end"] - plan["start"]
    assert duration.min() >= 0.05 - 1e-9 and duration.max() <= 4.0 + 1e-9
    np.testing.assert_allclose(duration, plan["n_frames"] / plan["sample_rate"], atol=1e-6)
    assert (plan["start"] >= 0).all()
    assert set(plan["salience"]) == {1, 2}
    windows = plan.assign(occurrence=parts[2].astype(int), slice=parts[3].astype(int))
    windows = windows[duration.round(6) == 4.0]
    for _, group in windows.sort_values("slice").groupby(["fsID", "occurrence"]):
        np.testing.assert_allclose(np.diff(group["start"]), 0.5 * np.diff(group["slice"]), atol=1e-6)


@pytest.mark.parametrize("n_clips", [10, 23, 60, 99, 100, 250, 1000])
def test_small_plans_cover_every_class_and_fold(n_clips):
    plan = plan_synthetic_metadata(n_clips=n_clips)
    assert len(plan) == n_clips
    assert set(plan["classID"]) == set(range(N_CLASSES))
    assert set(plan["fold"]) == set(FOLDS)
    counts = pd.crosstab(plan["fold"], plan["classID"]).reindex(
        index=list(FOLDS), columns=range(N_CLASSES), fill_value=0
    )
    if n_clips >= 100:
        assert (counts.to_numpy() >= 1).all(), "every class should be in every fold"
    real = np.array(CLIPS_PER_FOLD_AND_CLASS)
    quota = real * n_clips / real.sum()
    assert np.abs(counts.to_numpy() - quota).max() <= 1.0
    assert np.abs(counts.sum(axis=1).to_numpy() - quota.sum(axis=1)).max() <= 3.0
    if n_clips < 100:  # above, the one-per-cell minimum lifts the rare classes
        assert np.abs(counts.sum(axis=0).to_numpy() - quota.sum(axis=0)).max() <= 1.0


def test_default_size():
    assert len(plan_synthetic_metadata()) == DEFAULT_N_CLIPS


def test_plan_is_deterministic():
    plan = plan_synthetic_metadata(n_clips=300, seed=5)
    pd.testing.assert_frame_equal(plan, plan_synthetic_metadata(n_clips=300, seed=5))
    assert not plan.equals(plan_synthetic_metadata(n_clips=300, seed=6))


def test_formats_are_mixed_like_the_real_data(full_plan):
    moderate = plan_synthetic_metadata(n_clips=1000, seed=0)
    assert moderate["sample_rate"].nunique() >= 4
    assert set(moderate["channels"]) == {1, 2}
    assert moderate["subtype"].nunique() >= 3
    assert set(full_plan["subtype"]) == SUBTYPES
    assert set(full_plan["sample_rate"]) >= {8000, 11025, 16000, 22050, 24000, 44100, 48000, 96000}
    share = full_plan["sample_rate"].value_counts(normalize=True)
    assert 0.5 < share[44100] < 0.72 and 0.2 < share[48000] < 0.4 and 0.03 < share[96000] < 0.12
    assert 0.85 < (full_plan["channels"] == 2).mean() < 0.96
    subtype = full_plan["subtype"].value_counts(normalize=True)
    assert 0.55 < subtype["PCM_16"] < 0.77 and 0.2 < subtype["PCM_24"] < 0.42


# --------------------------------------------------------------------------- #
# Determinism
# --------------------------------------------------------------------------- #


def test_same_seed_gives_identical_bytes_whatever_n_jobs(small_set, tmp_path):
    again = make_synthetic_dataset(tmp_path / "again", **SMALL, n_jobs=1, progress=False)
    assert _digests(again) == _digests(small_set)


def test_other_seed_gives_other_data(tmp_path):
    first = _digests(make_synthetic_dataset(tmp_path / "a", n_clips=20, seed=0, progress=False))
    second = _digests(make_synthetic_dataset(tmp_path / "b", n_clips=20, seed=1, progress=False))
    assert first["metadata/UrbanSound8K.csv"] != second["metadata/UrbanSound8K.csv"]
    assert not set(first.values()) & set(second.values())


# --------------------------------------------------------------------------- #
# Safety and argument checks
# --------------------------------------------------------------------------- #


def test_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreExistsError, match="overwrite") as error:
        make_synthetic_dataset(tmp_path, n_clips=10, progress=False)
    assert isinstance(error.value, FeatstoreError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_refuses_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("mine")
    with pytest.raises(StoreExistsError, match="not a folder"):
        make_synthetic_dataset(target, n_clips=10, overwrite=True, progress=False)


def test_refuses_a_path_through_a_file(tmp_path):
    (tmp_path / "file").write_text("mine")
    with pytest.raises(OutputError, match="Cannot write the synthetic data set into .*file/data"):
        make_synthetic_dataset(tmp_path / "file" / "data", n_clips=10, progress=False)
    assert (tmp_path / "file").read_text() == "mine"


def test_read_only_folder_is_a_clear_error(read_only_folder):
    with pytest.raises(OutputError, match="Permission denied") as error:
        make_synthetic_dataset(read_only_folder / "data", n_clips=10, progress=False)
    assert isinstance(error.value, OSError)
    assert list(read_only_folder.iterdir()) == []


def test_writes_into_an_empty_folder(tmp_path):
    root = make_synthetic_dataset(tmp_path, n_clips=10, progress=False)
    assert root == tmp_path
    assert len(_read_metadata(root)) == 10


def test_overwrite_replaces_the_data_set_only(tmp_path):
    make_synthetic_dataset(tmp_path, n_clips=12, seed=1, progress=False)
    stale = tmp_path / AUDIO_DIR / "fold1" / "1-0-0-0.wav"
    stale.write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("mine")
    make_synthetic_dataset(tmp_path, n_clips=10, seed=2, overwrite=True, progress=False)
    meta = _read_metadata(tmp_path)
    assert len(meta) == 10
    assert len(list((tmp_path / AUDIO_DIR).glob("fold*/*.wav"))) == 10
    assert not stale.exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"n_clips": 9}, "at least 10", id="too-few"),
        pytest.param({"n_clips": 0}, "at least 10", id="zero"),
        pytest.param({"n_clips": -5}, "at least 10", id="negative"),
        pytest.param({"n_clips": 100.0}, "must be an int", id="float"),
        pytest.param({"n_clips": "100"}, "must be an int", id="str"),
        pytest.param({"n_clips": True}, "must be an int", id="bool"),
        pytest.param({"n_clips": 100, "full": True}, "either n_clips or full=True", id="both"),
        pytest.param({"full": "yes"}, "full must be True or False", id="full-str"),
        pytest.param({"seed": -1}, "non-negative int", id="negative-seed"),
        pytest.param({"seed": 1.5}, "non-negative int", id="float-seed"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        plan_synthetic_metadata(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"n_jobs": 0}, "n_jobs must be a non-zero int", id="n_jobs-zero"),
        pytest.param({"n_jobs": 1.5}, "n_jobs must be a non-zero int", id="n_jobs-float"),
        pytest.param({"n_jobs": None}, "n_jobs must be a non-zero int", id="n_jobs-none"),
        pytest.param({"overwrite": "no"}, "overwrite must be True or False", id="overwrite-str"),
        pytest.param({"n_clips": 5}, "at least 10", id="n_clips"),
    ],
)
def test_invalid_arguments_write_nothing(kwargs, match, tmp_path):
    with pytest.raises(InvalidParameterError, match=match):
        make_synthetic_dataset(tmp_path / "out", **{"n_clips": 10, "progress": False, **kwargs})
    assert not (tmp_path / "out").exists()


def test_float_wav_bytes_carry_no_timestamp():
    """libsndfile stamps float WAVs with the time of writing; that would break determinism."""
    raw = wav_bytes(np.full((100, 2), 0.25, dtype=np.float32), 44100, "FLOAT")
    pos = raw.index(b"PEAK")
    assert raw[pos + 12 : pos + 16] == bytes(4)
    samples, _ = sf.read(io.BytesIO(raw), dtype="float32")
    np.testing.assert_array_equal(samples, 0.25)


# --------------------------------------------------------------------------- #
# Learnability
# --------------------------------------------------------------------------- #


def _band_statistics(path):
    """Mean and standard deviation over frames of the log energy in 16 bands, 60-3,900 Hz
    (below the Nyquist frequency of every sample rate used)."""
    samples, sr = sf.read(path, dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    nperseg = 1 << int(round(np.log2(0.032 * sr)))
    freqs, _, power = signal.stft(mono, sr, nperseg=nperseg, noverlap=nperseg // 2, boundary=None)
    power = np.abs(power) ** 2
    edges = np.geomspace(60, 3900, 17)
    bands = np.stack([power[(freqs >= lo) & (freqs < hi)].sum(axis=0) for lo, hi in zip(edges, edges[1:])])
    log_bands = np.log(bands + 1e-10)
    log_bands -= log_bands.mean()  # level-independent: the gain is random
    return np.concatenate([log_bands.mean(axis=1), log_bands.std(axis=1)])


def test_classes_are_learnable_but_not_trivially(small_set):
    meta = _read_metadata(small_set)
    folder = small_set / AUDIO_DIR
    features = np.stack([_band_statistics(folder / f"fold{r.fold}" / r.slice_file_name) for r in meta.itertuples()])
    labels, folds = meta["classID"].to_numpy(), meta["fold"].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))
    accuracy = cross_val_score(model, features, labels, groups=folds, cv=LeaveOneGroupOut()).mean()
    assert accuracy > 0.35, f"grouped-CV accuracy {accuracy:.2f} is too close to chance (0.10)"
    assert accuracy < 0.97, f"grouped-CV accuracy {accuracy:.2f}: the classes are trivially separable"
    # Control: with random labels per recording nothing is learnable.
    _, recording = np.unique(meta["fsID"], return_inverse=True)
    shuffled = np.random.default_rng(0).integers(0, N_CLASSES, recording.max() + 1)[recording]
    control = cross_val_score(model, features, shuffled, groups=folds, cv=LeaveOneGroupOut()).mean()
    assert control < 0.3, f"accuracy {control:.2f} on shuffled labels: the features leak the labels"
