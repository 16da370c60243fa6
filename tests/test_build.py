import io
import os
from pathlib import Path

import h5py
import numpy as np
import pytest
import soundfile as sf
import torch

from featstore import (
    BuildError,
    InvalidParameterError,
    FeatureConfig,
    FeatureStore,
    StoreExistsError,
    build_store,
    open_source,
)
from featstore.features import FeatureExtractor, prepare_waveform
from featstore.writer import StoreWriter

from conftest import good_clips, tone, write_tree


def _wav_bytes(samples, sample_rate=16000, subtype="PCM_16"):
    buffer = io.BytesIO()
    sf.write(buffer, samples, sample_rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


BAD_CLIPS = [
    ({"name": "missing.wav", "fold": 1, "classID": 0, "missing": True}, "file not found"),
    ({"name": "empty.wav", "fold": 1, "classID": 1, "raw": b""}, "empty file"),
    ({"name": "garbage.wav", "fold": 2, "classID": 2, "raw": b"RIFF not really" * 20}, "unreadable audio"),
    ({"name": "truncated.wav", "fold": 2, "classID": 3,
      "raw": _wav_bytes(tone(seconds=1.0, sample_rate=44100, channels=2))[:20000]}, "truncated file"),
    ({"name": "zero.wav", "fold": 3, "classID": 4, "raw": _wav_bytes(np.zeros((0, 2), np.float32))}, "zero-length"),
    ({"name": "nan.wav", "fold": 3, "classID": 5,
      "raw": _wav_bytes(np.full((100, 1), np.nan, np.float32), subtype="FLOAT")}, "NaN or infinite"),
    ({"name": "oddrate.wav", "fold": 3, "classID": 8,
      "samples": tone(seconds=0.2, sample_rate=44101), "sample_rate": 44101}, "unsupported sample rate 44101 Hz"),
    ({"name": "badfold.wav", "fold": 11, "classID": 6,
      "samples": tone(seconds=0.5, sample_rate=16000), "sample_rate": 16000}, "fold 11 is not one of"),
    ({"name": "badclass.wav", "fold": 1, "classID": 12,
      "samples": tone(seconds=0.5, sample_rate=16000), "sample_rate": 16000}, "classID 12 is not one of"),
    ({"name": "mismatch.wav", "fold": 1, "classID": 7, "class": "siren",
      "samples": tone(seconds=0.5, sample_rate=16000), "sample_rate": 16000}, "does not match classID"),
]


@pytest.fixture(scope="module")
def messy_dataset(tmp_path_factory):
    clips = good_clips(n_per_fold=3) + [clip for clip, _ in BAD_CLIPS]
    return write_tree(tmp_path_factory.mktemp("messy") / "UrbanSound8K", clips)


@pytest.fixture(scope="module")
def messy_build(messy_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("messy-store") / "messy.h5"
    summary = build_store(open_source(messy_dataset), out, n_jobs=1, batch_size=4, progress=False)
    return summary, FeatureStore(out)


def test_store_layout_and_shapes(tiny_store):
    store = FeatureStore(tiny_store)
    assert store.folds == (1, 2, 3)
    assert store.fold_sizes() == {1: 4, 2: 4, 3: 4}
    with h5py.File(tiny_store) as f:
        assert f["fold1/waveform"].shape == (4, 64000)
        assert f["fold1/logmel"].shape == (4, 64, 321)
        assert f["fold1/mfcc_stats"].shape == (4, 40)
        assert f["fold1/logmel"].chunks == (1, 64, 321)
        assert f["fold1/waveform"].chunks == (1, 64000)
        for column in ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class",
                       "orig_sample_rate", "orig_channels", "orig_duration"]:
            assert f[f"fold1/metadata/{column}"].shape == (4,)
        for key in ["class_names", "feature_config", "versions", "source", "created"]:
            assert key in f.attrs
    assert store.verify() == []


def test_stored_features_equal_direct_computation(tiny_dataset, tiny_store):
    store = FeatureStore(tiny_store)
    X, y, groups, meta = store.load("logmel", folds=[2])
    waves, *_ = store.load("waveform", folds=[2])
    stats, *_ = store.load("mfcc_stats", folds=[2])
    extractor = FeatureExtractor(FeatureConfig())
    for i, row in meta.iterrows():
        samples, sr = sf.read(tiny_dataset / "audio" / "fold2" / row["slice_file_name"], dtype="float32", always_2d=True)
        assert row["orig_sample_rate"] == sr and row["orig_channels"] == samples.shape[1]
        assert row["orig_duration"] == pytest.approx(len(samples) / sr)
        wave = prepare_waveform(samples, sr, FeatureConfig()).numpy()
        np.testing.assert_allclose(waves[i], wave, atol=1e-6)
        logmel, mfcc_stats = extractor.transform(wave[None])
        # More than 80 dB below a clip's peak (the range its MFCCs keep), the dB
        # values are float32 rounding noise of the STFT: the build computes with one
        # torch thread, this test with the default number, and they differ there.
        in_range = logmel[0] > logmel[0].max() - 80
        np.testing.assert_allclose(X[i][in_range], logmel[0][in_range], rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(stats[i], mfcc_stats[0], rtol=1e-4, atol=1e-3)
    assert (groups == 2).all()
    assert list(y) == list(meta["classID"])


def test_parallel_build_equals_serial(tiny_dataset, tiny_store, tmp_path):
    out = tmp_path / "parallel.h5"
    build_store(open_source(tiny_dataset), out, n_jobs=2, batch_size=3, progress=False)
    serial, parallel = FeatureStore(tiny_store), FeatureStore(out)
    for feature in ["waveform", "logmel", "mfcc_stats"]:
        a = serial.load(feature)
        b = parallel.load(feature)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert serial.metadata().equals(parallel.metadata())


def test_bad_clips_are_skipped_with_reasons(messy_build):
    summary, store = messy_build
    assert summary.n_source_clips == 9 + len(BAD_CLIPS)
    assert summary.n_stored == 9 == len(store)
    rejected = store.rejected().set_index("slice_file_name")
    assert len(rejected) == len(BAD_CLIPS)
    for clip, reason in BAD_CLIPS:
        assert reason in rejected.loc[clip["name"], "reason"]
    for clip, _ in BAD_CLIPS:
        assert clip["name"] in summary.format()
    assert store.verify() == []
    for feature in ["waveform", "logmel", "mfcc_stats"]:
        X, *_ = store.load(feature)
        assert np.isfinite(X).all()


def test_odd_formats_are_kept(messy_build):
    _, store = messy_build
    meta = store.metadata()
    assert {3, 2, 1} <= set(meta["orig_channels"])
    assert {11025, 44100, 96000, 8000} <= set(meta["orig_sample_rate"])


def test_strict_fails_and_leaves_no_store(messy_dataset, tmp_path):
    out = tmp_path / "strict.h5"
    with pytest.raises(BuildError, match="was rejected"):
        build_store(open_source(messy_dataset), out, n_jobs=1, strict=True, progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_jobs": 0}, "n_jobs must be a non-zero int: -1 for one worker per core"),
        ({"n_jobs": 1.5}, "n_jobs must be a non-zero int"),
        ({"batch_size": 0}, "batch_size must be a positive int"),
        ({"config": {"n_mels": 64}}, "config must be a FeatureConfig"),
    ],
    ids=["zero-jobs", "float-jobs", "zero-batch", "config-dict"],
)
def test_invalid_arguments_write_nothing(tiny_dataset, tmp_path, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        build_store(open_source(tiny_dataset), tmp_path / "s.h5", progress=False, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_strict_passes_on_clean_data(tiny_dataset, tmp_path):
    summary = build_store(open_source(tiny_dataset), tmp_path / "s.h5", n_jobs=1, strict=True, progress=False)
    assert summary.rejected == []


def test_existing_store_is_not_replaced(tiny_dataset, tmp_path):
    out = tmp_path / "store.h5"
    out.write_bytes(b"precious")
    with pytest.raises(StoreExistsError, match="overwrite"):
        build_store(open_source(tiny_dataset), out, n_jobs=1, progress=False)
    assert out.read_bytes() == b"precious"
    build_store(open_source(tiny_dataset), out, n_jobs=1, overwrite=True, progress=False)
    assert len(FeatureStore(out)) == 12


@pytest.mark.parametrize("exception", [KeyboardInterrupt, OSError])
def test_interrupted_build_leaves_nothing(tiny_dataset, tmp_path, monkeypatch, exception):
    calls = []
    original = StoreWriter.write

    def failing_append(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise exception("interrupted")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StoreWriter, "write", failing_append)
    out = tmp_path / "store.h5"
    with pytest.raises(exception):
        build_store(open_source(tiny_dataset), out, n_jobs=1, batch_size=2, progress=False)
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []


def test_interrupted_rebuild_keeps_old_store(tiny_dataset, tiny_store, tmp_path, monkeypatch):
    out = tmp_path / "store.h5"
    out.write_bytes(Path(tiny_store).read_bytes())

    def failing_append(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(StoreWriter, "write", failing_append)
    with pytest.raises(KeyboardInterrupt):
        build_store(open_source(tiny_dataset), out, n_jobs=1, overwrite=True, progress=False)
    assert out.read_bytes() == Path(tiny_store).read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["store.h5"]


def test_summary_reports_throughput(tiny_dataset, tmp_path):
    summary = build_store(open_source(tiny_dataset), tmp_path / "s.h5", n_jobs=1, progress=False)
    text = summary.format()
    assert "12 of 12 clips stored" in text and "clips/s" in text and "Skipped no clips" in text
    assert summary.clips_per_fold == {1: 4, 2: 4, 3: 4}


def test_store_gets_the_permissions_of_a_normal_new_file(tiny_dataset, tmp_path):
    out = tmp_path / "store.h5"
    build_store(open_source(tiny_dataset), out, n_jobs=1, progress=False)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["store.h5"]


# --------------------------------------------------------------------------- #
# A long file is read by seeking to the span its clip keeps
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "sample_rate, seconds, channels, subtype",
    [(8000, 600.0, 1, "PCM_16"), (44100, 30.0, 2, "PCM_24"), (48000, 9.0, 2, "PCM_16"), (16000, 20.0, 1, "FLOAT"),
     (22050, 8.5, 1, "PCM_16"), (96000, 12.3, 2, "FLOAT")],
    ids=["8k-10min", "44k-30s", "48k-9s", "16k-no-resampling", "22k-just-over-twice", "96k"],
)
def test_a_long_file_is_read_by_seeking(tmp_path, monkeypatch, rng, sample_rate, seconds, channels, subtype):
    """Only the frames the 4 s centre crop needs are decoded, and the clip is the one a whole decode gives.

    Bit for bit, not only up to the resampler's edge effect: the span read is made of
    whole resampling frames plus the filter's context on each side, so every output
    sample kept is computed from the same input samples, in the same frame, as when
    the whole file is resampled and then cropped.
    """
    from featstore.audio import read_audio
    from featstore.decode import decode_clip as _decode

    path = tmp_path / "long.wav"
    sf.write(path, 0.3 * rng.standard_normal((int(seconds * sample_rate), channels)), sample_rate, subtype=subtype)
    decoded = []
    real_read = sf.SoundFile.read
    monkeypatch.setattr(sf.SoundFile, "read", lambda self, frames=-1, **kw: decoded.append(frames)
                        or real_read(self, frames, **kw))
    waveform, rate, n_channels, n_frames = _decode(path, FeatureConfig())
    monkeypatch.undo()
    assert (rate, n_channels, n_frames) == (sample_rate, channels, int(seconds * sample_rate))
    assert len(decoded) == 1 and 4.0 * sample_rate <= decoded[0] <= 4.05 * sample_rate + 1024

    samples, _ = read_audio(path)  # the whole file, the way every clip used to be read
    torch.testing.assert_close(waveform, prepare_waveform(samples, sample_rate, FeatureConfig()), rtol=0, atol=0)


def test_clips_up_to_twice_the_clip_length_are_read_whole(tmp_path, monkeypatch):
    from featstore.decode import decode_clip as _decode

    path = tmp_path / "clip.wav"
    sf.write(path, tone(seconds=7.9, sample_rate=44100), 44100)
    decoded = []
    real_read = sf.SoundFile.read
    monkeypatch.setattr(sf.SoundFile, "read", lambda self, frames=-1, **kw: decoded.append(frames)
                        or real_read(self, frames, **kw))
    _decode(path, FeatureConfig())
    assert decoded == [int(7.9 * 44100)]


def test_a_long_file_in_a_build(tmp_path, rng):
    clips = good_clips(n_per_fold=1, folds=(1,)) + [{
        "name": "long.wav", "fold": 1, "classID": 4, "sample_rate": 8000, "subtype": "PCM_16",
        "samples": (0.2 * rng.standard_normal((8000 * 300, 1))).astype(np.float32),
    }]
    root = write_tree(tmp_path / "UrbanSound8K", clips)
    build_store(open_source(root), tmp_path / "s.h5", n_jobs=1, progress=False)
    meta = FeatureStore(tmp_path / "s.h5").metadata().set_index("slice_file_name")
    assert meta.loc["long.wav", "orig_duration"] == 300.0 and meta.loc["long.wav", "orig_sample_rate"] == 8000
