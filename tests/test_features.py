import numpy as np
import pytest
import torch
import torchaudio

from featstore import FeatureConfig, InvalidParameterError, StoreConfigError
from featstore.features import FeatureExtractor, fix_length, prepare_waveform, resample, to_mono


def test_to_mono_averages_channels(rng):
    stereo = rng.standard_normal((100, 2)).astype(np.float32)
    np.testing.assert_allclose(to_mono(stereo), stereo.mean(axis=1), rtol=1e-6)
    assert to_mono(stereo[:, :1]).shape == (100,)


@pytest.mark.parametrize(
    "length, expected_start",
    [(10, None), (64, None), (100, 18), (101, 18)],
    ids=["pad", "exact", "crop-even", "crop-odd"],
)
def test_fix_length_pads_at_end_and_centre_crops(length, expected_start):
    wave = torch.arange(1, length + 1, dtype=torch.float32)
    fixed = fix_length(wave, 64)
    assert fixed.shape == (64,)
    if expected_start is None:
        assert torch.equal(fixed[: min(length, 64)], wave[:64])
        assert (fixed[length:] == 0).all()
    else:
        assert torch.equal(fixed, wave[expected_start : expected_start + 64])


@pytest.mark.parametrize("orig_freq", [8000, 11025, 12345, 22050, 24000, 44100, 48000, 88200, 96000])
@pytest.mark.parametrize("length", [1, 441, 10_000, 176_400])
def test_resample_equals_torchaudio(orig_freq, length, rng):
    # Rate pairs with many phases (44.1 kHz) and with one (48 kHz, computed with
    # longer frames) must both give torchaudio's samples.
    wave = torch.from_numpy(rng.standard_normal(length).astype(np.float32))
    expected = torchaudio.transforms.Resample(orig_freq, 16000)(wave)
    torch.testing.assert_close(resample(wave, orig_freq, 16000), expected)


def test_resample_keeps_leading_dimensions(rng):
    waves = torch.from_numpy(rng.standard_normal((3, 2, 5000)).astype(np.float32))
    expected = torchaudio.transforms.Resample(44100, 16000)(waves)
    out = resample(waves, 44100, 16000)
    assert out.shape == expected.shape == (3, 2, 1815)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("orig_freq", [8000, 11025, 22050, 44100, 48000, 96000])
def test_resample_keeps_duration_and_pitch(orig_freq):
    t = torch.arange(orig_freq) / orig_freq
    wave = torch.sin(2 * torch.pi * 1000.0 * t)
    out = resample(wave, orig_freq, 16000)
    assert abs(out.shape[-1] - 16000) <= 1
    spectrum = torch.fft.rfft(out[2000:14000]).abs()
    peak_hz = spectrum.argmax().item() * 16000 / 12000
    assert abs(peak_hz - 1000.0) < 5


def test_extractor_matches_torchaudio_per_clip(rng):
    config = FeatureConfig()
    waves = torch.from_numpy(rng.standard_normal((3, config.clip_samples)).astype(np.float32))
    waves[1] *= 1e-3
    waves[2] = 0.0  # silence
    logmel, stats = FeatureExtractor(config)(waves)
    assert logmel.shape == (3, 64, 321) and stats.shape == (3, 40)

    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_mels=64)
    to_db = torchaudio.transforms.AmplitudeToDB()
    mfcc = torchaudio.transforms.MFCC(sample_rate=16000, n_mfcc=20, melkwargs={"n_mels": 64})
    for i in range(3):
        clip = waves[i : i + 1]
        torch.testing.assert_close(logmel[i], to_db(mel(clip))[0])
        m = mfcc(clip)[0]
        torch.testing.assert_close(stats[i], torch.cat([m.mean(dim=1), m.std(dim=1)]))


def test_silence_gives_finite_features():
    config = FeatureConfig()
    logmel, stats = FeatureExtractor(config).transform(np.zeros((2, config.clip_samples), np.float32))
    assert np.isfinite(logmel).all() and np.isfinite(stats).all()


def test_batched_equals_one_by_one(rng):
    extractor = FeatureExtractor(FeatureConfig())
    waves = rng.standard_normal((4, 64000)).astype(np.float32) * np.array([[1], [0.1], [1e-4], [0]], np.float32)
    batch_logmel, batch_stats = extractor.transform(waves)
    for i in range(4):
        logmel, stats = extractor.transform(waves[i : i + 1])
        np.testing.assert_allclose(batch_logmel[i], logmel[0], rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(batch_stats[i], stats[0], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("seconds, sample_rate, channels", [(0.05, 8000, 1), (4.0, 44100, 2), (5.0, 96000, 6)])
def test_prepare_waveform_shape(seconds, sample_rate, channels, rng):
    samples = rng.standard_normal((int(seconds * sample_rate), channels)).astype(np.float32)
    wave = prepare_waveform(samples, sample_rate, FeatureConfig())
    assert wave.shape == (64000,) and wave.dtype == torch.float32


def test_config_shapes_follow_parameters():
    config = FeatureConfig(n_mels=40, hop_length=160, n_mfcc=13, clip_seconds=1.0)
    assert config.feature_shapes == {"waveform": (16000,), "logmel": (40, 101), "mfcc_stats": (26,), "mfcc_delta_stats": (160,)}
    logmel, stats = FeatureExtractor(config).transform(np.zeros((1, 16000), np.float32))
    assert logmel.shape[1:] == config.feature_shapes["logmel"]
    assert stats.shape[1:] == config.feature_shapes["mfcc_stats"]


def test_config_json_round_trip():
    config = FeatureConfig(n_mels=80, f_max=7600.0)
    assert FeatureConfig.from_json(config.to_json()) == config
    assert config.differences(FeatureConfig()) == {"n_mels": (80, 64), "f_max": (7600.0, None)}


def test_config_from_json_rejects_unknown_fields():
    with pytest.raises(StoreConfigError, match="does not know"):
        FeatureConfig.from_json('{"n_mels": 64, "window": "hamming"}')


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_mels": 0}, "n_mels must be a positive int"),
        ({"sample_rate": 16000.5}, "sample_rate must be a positive int"),
        ({"clip_seconds": -1}, "clip_seconds must be a positive number"),
        ({"n_mfcc": 80}, r"n_mfcc \(80\) cannot exceed n_mels"),
        ({"f_max": 9000.0}, "f_max <= sample_rate / 2"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    # A featstore error (the CLI reports it without a traceback) that is also a ValueError.
    with pytest.raises(InvalidParameterError, match=message) as info:
        FeatureConfig(**kwargs)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("sample_rate", [8000, 11025, 22050, 44100, 48000, 96000])
@pytest.mark.parametrize("seconds", [0.01, 1.3, 3.999, 4.0, 4.5])
def test_prepare_waveform_equals_resampling_then_fixing_the_length(seconds, sample_rate, rng):
    samples = rng.standard_normal((int(seconds * sample_rate), 1)).astype(np.float32)
    expected = fix_length(resample(torch.from_numpy(samples[:, 0]), sample_rate, 16000), 64000)
    torch.testing.assert_close(prepare_waveform(samples, sample_rate, FeatureConfig()), expected)
