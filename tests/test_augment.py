"""Augment specs, the views of a clip, and a store built with views."""

import tracemalloc

import h5py
import librosa
import numpy as np
import pytest
import torch
from sklearn.model_selection import LeaveOneGroupOut

from featstore import FeatureConfig, FeatureStore, InvalidParameterError, StoreConfigError, StoreFormatError
from featstore import build_store, open_source
from featstore.augment import View, augment_waveform, augmented_log_mels, canonical_spec, parse_spec, view_names
from featstore.features import FeatureExtractor

SALAMON = "pitch:-3.5,-2.5,-2,-1,1,2,2.5,3.5;stretch:0.81,0.93,1.07,1.23"
# Every kind, in a non-canonical order, with a repeat.
SPEC = "noise:pink20,10;stretch:1.2,0.9;gain:-6;pitch:2,-1,2"
SPEC_CANONICAL = "pitch:-1,2;stretch:0.9,1.2;gain:-6;noise:white10,pink20"
SPEC_NAMES = ("original", "pitch-1", "pitch+2", "stretch0.9", "stretch1.2", "gain-6", "noise-white10", "noise-pink20")


@pytest.mark.parametrize(
    "spec, canonical",
    [
        ("salamon2017", SALAMON),
        ("mild", "pitch:-1,1;stretch:0.93,1.07"),
        ("stretch:1.23,0.81 ; pitch:+2", "pitch:2;stretch:0.81,1.23"),
        ("mild;salamon2017;pitch:1", SALAMON),
        ("noise:20,white20,pink-5", "noise:white20,pink-5"),
        ("gain:6.0,-6", "gain:-6,6"),
        (SPEC, SPEC_CANONICAL),
        ("", ""),
    ],
    ids=["salamon2017", "mild", "spaces-and-order", "sets-merge", "noise-colours", "gain", "every-kind", "none"],
)
def test_canonical_spec(spec, canonical):
    assert canonical_spec(spec) == canonical
    assert canonical_spec(canonical) == canonical
    assert parse_spec(canonical) == parse_spec(spec)


def test_view_names():
    assert view_names(SPEC) == SPEC_NAMES
    assert view_names("salamon2017")[:3] == ("original", "pitch-3.5", "pitch-2.5")
    assert view_names("salamon2017")[-4:] == ("stretch0.81", "stretch0.93", "stretch1.07", "stretch1.23")
    assert len(view_names("salamon2017")) == 13 and view_names("") == ()


@pytest.mark.parametrize(
    "spec, message",
    [
        ("pich:1", r"unknown view kind 'pich'"),
        ("salamon", r"'salamon' is neither a named set nor KIND:VALUES"),
        ("pitch:x", r"pitch value 'x' is not a number"),
        ("pitch:0", r"between -12 and 12 semitones, and not 0 \(the original\); got 0"),
        ("stretch:1", r"not 1 \(the original\)"),
        ("stretch:0.1", r"a stretch rate must be between 0.5 and 2"),
        ("pitch:nan", r"between -12 and 12"),
        ("noise:blue20", r"noise value 'blue20' is not a number, after an optional white or pink"),
        ("mild;", r"an empty part"),
        ("pitch:1,,2", r"'pitch:1,,2' has an empty value"),
    ],
)
def test_bad_specs_are_clear_errors(spec, message):
    with pytest.raises(InvalidParameterError, match=message) as info:
        FeatureConfig(augment=spec)
    assert "A spec is ';'-separated parts" in str(info.value) and isinstance(info.value, ValueError)


def test_config_keeps_the_canonical_spec():
    config = FeatureConfig(augment="mild")
    assert config.augment == "pitch:-1,1;stretch:0.93,1.07"
    assert config == FeatureConfig(augment="stretch:1.07,0.93;pitch:1,-1")
    assert FeatureConfig.from_json(config.to_json()) == config
    assert config.feature_shapes["logmel_views"] == (4, 64, 321)
    assert config.feature_dtypes["logmel_views"] == "float16"
    assert "logmel_views" not in FeatureConfig().feature_shapes


@pytest.fixture
def clip(rng):
    """1.5 s of a chirp in a 4 s clip, zero-padded at the end."""
    t = np.arange(24000) / 16000
    wave = np.zeros(64000, np.float32)
    wave[:24000] = 0.3 * np.sin(2 * np.pi * (300 + 400 * t) * t) + 0.01 * rng.standard_normal(24000)
    return wave


@pytest.mark.parametrize("rate", [0.81, 0.93, 1.07, 1.23, 0.5, 2.0])
def test_stretch_keeps_the_start_and_the_length(clip, rate):
    # The rule: the stretched clip's start is kept, cut or zero-padded at the end to the clip's length.
    out = augment_waveform(clip, View("stretch", rate), sample_rate=16000)
    expected = librosa.effects.time_stretch(clip, rate=rate)
    assert out.shape == clip.shape and out.dtype == np.float32
    n = min(len(expected), len(clip))
    np.testing.assert_array_equal(out[:n], expected[:n])
    assert (out[n:] == 0).all()
    assert (n == len(clip)) == (rate < 1)


@pytest.mark.parametrize("steps", [-3.5, -1.0, 2.0])
def test_pitch_shift_is_librosas(clip, steps):
    out = augment_waveform(clip, View("pitch", steps), sample_rate=16000)
    np.testing.assert_array_equal(out, librosa.effects.pitch_shift(clip, sr=16000, n_steps=steps))
    assert out.shape == clip.shape


def test_gain(clip):
    out = augment_waveform(clip, View("gain", -6.0), sample_rate=16000)
    np.testing.assert_allclose(out, clip * 10 ** (-6 / 20), rtol=1e-6)


@pytest.mark.parametrize("colour", ["white", "pink"])
@pytest.mark.parametrize("snr", [-5.0, 20.0])
def test_noise_snr_padding_and_seeding(clip, colour, snr):
    view = View("noise", snr, colour)
    out = augment_waveform(clip, view, sample_rate=16000, seed=3, clip_name="7061-6-0-0.wav")
    noise = out[:24000] - clip[:24000]
    measured = 10 * np.log10(np.mean(clip[:24000].astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2))
    assert measured == pytest.approx(snr, abs=0.01)
    assert (out[24000:] == 0).all()  # the padding stays silent
    again = augment_waveform(clip, view, sample_rate=16000, seed=3, clip_name="7061-6-0-0.wav")
    np.testing.assert_array_equal(out, again)
    for other in [{"seed": 4, "clip_name": "7061-6-0-0.wav"}, {"seed": 3, "clip_name": "7061-6-0-1.wav"}]:
        assert not np.array_equal(out, augment_waveform(clip, view, sample_rate=16000, **other))


def test_pink_noise_falls_by_3_db_an_octave(rng):
    silence_free = np.ones(2**16, np.float32)
    out = augment_waveform(silence_free, View("noise", 0.0, "pink"), sample_rate=16000, clip_name="a")
    power = np.abs(np.fft.rfft(out - 1.0)) ** 2
    bands = [power[lo : 2 * lo].mean() for lo in (256, 512, 1024, 2048, 4096)]
    slopes = 10 * np.log10(np.array(bands[1:]) / bands[:-1])
    np.testing.assert_allclose(slopes, -3.0, atol=0.5)


def test_noise_on_silence_adds_nothing():
    silence = np.zeros(64000, np.float32)
    np.testing.assert_array_equal(augment_waveform(silence, View("noise", 10.0, "white"), sample_rate=16000), silence)


# A store with views of every kind, built twice (1 and 2 workers): module-scoped, about 5 s each.


@pytest.fixture(scope="module")
def views_config():
    return FeatureConfig(augment=SPEC, augment_seed=5)


@pytest.fixture(scope="module")
def views_store(tiny_dataset, tmp_path_factory, views_config):
    out = tmp_path_factory.mktemp("views") / "views.h5"
    build_store(open_source(tiny_dataset), out, config=views_config, n_jobs=2, batch_size=5, progress=False)
    return FeatureStore(out)


def test_views_shapes_names_and_layout(views_store):
    assert views_store.view_names == SPEC_NAMES
    assert views_store.config.augment == SPEC_CANONICAL
    X, y, groups, meta = views_store.load("logmel", folds=[3, 1], views=True)
    assert X.shape == (8, 8, 64, 321) and X.dtype == np.float16
    assert list(groups) == [3] * 4 + [1] * 4 and list(meta["fold"]) == list(groups) and list(meta["classID"]) == list(y)
    assert np.isfinite(X).all()
    with h5py.File(views_store.path) as f:
        assert f["fold1/logmel_views"].shape == (4, 7, 64, 321)
        assert f["fold1/logmel_views"].chunks == (1, 7, 64, 321)  # one chunk per clip, all its views
        assert f["fold1/logmel"].dtype == np.float32
    assert views_store.verify() == []


def test_view_zero_is_the_original(views_store):
    X, *_ = views_store.load("logmel", views=True)
    L, *_ = views_store.load("logmel")
    np.testing.assert_array_equal(X[:, 0], L.astype(np.float16))
    # float16 rounds to the nearest value it has: at most half the step between float16 values
    # where the value lies, 2**(e - 11) in [2**e, 2**(e + 1)): 0.03125 dB at 64-128 dB
    error = np.abs(X[:, 0].astype(np.float32) - L)
    assert (error <= np.spacing(np.abs(X[:, 0])).astype(np.float32) / 2).all()
    assert np.abs(L).max() < 128 and error.max() <= 0.03125


def _direct_views(waves, names, config):
    """The augmented views (1, 2, ...) of the given clips, computed from their audio as the build does."""
    extractor = FeatureExtractor(config)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the build: rounding depends on the number of threads
    try:
        return augmented_log_mels(torch.from_numpy(waves), list(names), extractor)
    finally:
        torch.set_num_threads(threads)


def test_stored_views_equal_direct_computation(views_store, views_config):
    waves, _, _, meta = views_store.load("waveform", folds=[2])
    X, *_ = views_store.load("logmel", folds=[2], views=True)
    np.testing.assert_array_equal(X[:, 1:], _direct_views(waves, meta["slice_file_name"], views_config))


def test_noise_views_are_reproducible(views_store, tiny_dataset, tmp_path, views_config):
    out = tmp_path / "again.h5"
    build_store(open_source(tiny_dataset), out, config=views_config, n_jobs=1, progress=False)
    a = views_store.load("logmel", views=True)[0]
    b = FeatureStore(out).load("logmel", views=True)[0]
    np.testing.assert_array_equal(a, b)


def test_a_split_by_groups_keeps_every_view_with_its_clip(views_store, views_config):
    X, y, groups, meta = views_store.load("logmel", views=True)
    L, *_ = views_store.load("logmel")
    waves, *_ = views_store.load("waveform")
    names = meta["slice_file_name"].to_numpy()
    assert len(X) == len(y) == len(groups) == len(names) == len(set(names)) == len(waves)  # one row per clip
    # Every view in a row is of that row's clip: view 0 is its log-mel and the others are what
    # its own audio gives. (Comparing stored rows with stored rows could not tell: views
    # swapped between two rows would still each appear once.)
    own = np.concatenate([L.astype(np.float16)[:, None], _direct_views(waves, names, views_config)], axis=1)
    np.testing.assert_array_equal(X, own)
    for train, test in LeaveOneGroupOut().split(X, y, groups):
        assert set(groups[test]) & set(groups[train]) == set()
        assert set(names[test]) & set(names[train]) == set()
        # no training row holds a view of a test clip, as computed from the test clip's audio
        test_views = own[test].reshape(-1, 64, 321)
        for row in X[train].reshape(-1, 64, 321):
            assert not any(np.array_equal(row, view) for view in test_views)


def test_config_round_trip_and_mismatch(views_store):
    FeatureStore(views_store.path, config=FeatureConfig(augment=SPEC, augment_seed=5))
    FeatureStore(views_store.path, config=FeatureConfig(augment=SPEC_CANONICAL, augment_seed=5))
    with pytest.raises(StoreConfigError, match=r"augment: store 'pitch:-1,2;.*' vs asked 'pitch:-1,1;stretch:0.93,1.07'"):
        FeatureStore(views_store.path, config=FeatureConfig(augment="mild", augment_seed=5))
    with pytest.raises(StoreConfigError, match=r"augment_seed: store 5 vs asked 0"):
        FeatureStore(views_store.path, config=FeatureConfig(augment=SPEC))


def test_loading_views_fills_one_float16_array(views_store):
    # Read a block of clips at a time into the result: no float32 copy of the whole.
    tracemalloc.start()
    X, *_ = views_store.load("logmel", views=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1.25 * X.nbytes, (peak, X.nbytes)


def test_view_errors(views_store, tiny_store):
    with pytest.raises(StoreFormatError, match=r"no augmented views: it was built without --augment.*--augment mild"):
        FeatureStore(tiny_store).load("logmel", views=True)
    with pytest.raises(StoreFormatError, match=r"Only the log-mel has views"):
        views_store.load("mfcc_stats", views=True)
    with pytest.raises(StoreFormatError, match=r"load\('logmel', views=True\), not load\('logmel_views'\)"):
        views_store.load("logmel_views")


def test_a_store_without_views_loads_as_before(tiny_store):
    store = FeatureStore(tiny_store)
    assert store.view_names == () and store.config.augment == ""
    X, *_ = store.load("logmel")
    assert X.shape == (12, 64, 321) and X.dtype == np.float32
    with h5py.File(tiny_store) as f:
        assert "logmel_views" not in f["fold1"]
