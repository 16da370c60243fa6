"""The mfcc_delta_stats feature: statistics of MFCCs and their deltas over a clip's content frames."""

import numpy as np
import pytest
import torch
import torchaudio

from featstore import FeatureConfig, FeatureStore
from featstore.statistics import content_frames, mfcc_delta_stats


def numpy_mfcc_delta_stats(logmel, n_mfcc=40, n_content=None):
    """The definition, written out for one clip ``(n_mels, n_frames)`` in float64."""
    dct = torchaudio.functional.create_dct(n_mfcc, logmel.shape[0], "ortho").numpy().astype(np.float64)
    if n_content is None:
        active = logmel.max(axis=0) > logmel.min()
        n_content = np.flatnonzero(active)[-1] + 1 if active.any() else logmel.shape[1]
    mfcc = dct.T @ logmel[:, :n_content].astype(np.float64)
    delta = mfcc[:, 1:] - mfcc[:, :-1]
    zeros = np.zeros(n_mfcc)
    return np.concatenate([
        mfcc.mean(axis=1), mfcc.std(axis=1),
        delta.mean(axis=1) if n_content > 1 else zeros, delta.std(axis=1) if n_content > 1 else zeros,
    ])


def _clip(rng, n_content, *, n_mels=64, n_frames=321):
    logmel = np.full((n_mels, n_frames), -100.0, np.float32)
    logmel[:, :n_content] = rng.uniform(-80, 20, (n_mels, n_content))
    return logmel


@pytest.mark.parametrize("n_content", [321, 200, 37, 2, 1])
def test_equals_the_definition(rng, n_content):
    logmel = _clip(rng, n_content)
    if n_content > 2:
        logmel[:, n_content // 2] = -100.0  # a silent frame inside the content counts
    dct = torchaudio.functional.create_dct(40, 64, "ortho")
    stats = mfcc_delta_stats(torch.from_numpy(logmel[None]), dct)[0].numpy()
    assert stats.shape == (160,) and stats.dtype == np.float32
    np.testing.assert_allclose(stats, numpy_mfcc_delta_stats(logmel, n_content=n_content), rtol=1e-5, atol=1e-4)
    if n_content < 2:
        assert (stats[80:] == 0).all()


def test_content_frames_rule(rng):
    clips = np.stack([_clip(rng, 321), _clip(rng, 100), _clip(rng, 1), np.full((64, 321), -100.0, np.float32)])
    clips[1, 5, 200] = -99.0  # one band above the floor in a late frame: content reaches it
    assert content_frames(torch.from_numpy(clips)).tolist() == [321, 201, 1, 321]


def test_batch_equals_one_by_one(rng):
    clips = np.stack([_clip(rng, n) for n in (321, 150, 9, 1)])
    dct = torchaudio.functional.create_dct(40, 64, "ortho")
    batch = mfcc_delta_stats(torch.from_numpy(clips), dct)
    for i in range(len(clips)):
        torch.testing.assert_close(batch[i], mfcc_delta_stats(torch.from_numpy(clips[i : i + 1]), dct)[0])


def test_padding_frames_do_not_count(rng):
    logmel = _clip(rng, 80)
    dct = torchaudio.functional.create_dct(40, 64, "ortho")
    stats = mfcc_delta_stats(torch.from_numpy(logmel[None]), dct)[0].numpy()
    with_padding = numpy_mfcc_delta_stats(logmel, n_content=321)
    assert not np.allclose(stats, with_padding, atol=1e-2)


def test_stored_feature_equals_the_definition_on_padded_clips(tiny_store):
    store = FeatureStore(tiny_store)
    D, y, groups, meta = store.load("mfcc_delta_stats")
    L, *_ = store.load("logmel")
    assert D.shape == (12, 160) and D.dtype == np.float32 and np.isfinite(D).all()
    n_content = content_frames(torch.from_numpy(L)).numpy()
    padded = meta["orig_duration"].to_numpy() < 3.9
    assert padded.sum() >= 4 and (n_content[padded] < 321).all() and (n_content[~padded] == 321).all()
    for i in range(len(D)):
        np.testing.assert_allclose(D[i], numpy_mfcc_delta_stats(L[i]), rtol=1e-5, atol=1e-4)


def test_number_of_mfccs_follows_the_config():
    config = FeatureConfig(n_mels=32, delta_n_mfcc=13)
    assert config.feature_shapes["mfcc_delta_stats"] == (52,)
    with pytest.raises(ValueError, match=r"delta_n_mfcc \(40\) cannot exceed n_mels \(32\)"):
        FeatureConfig(n_mels=32)


def _padded(rng, lengths, *, leading=(), n_mels=16, n_frames=50, dtype=np.float32):
    x = rng.uniform(-80, 20, (len(lengths), *leading, n_mels, n_frames)).astype(dtype)
    for clip, length in zip(x, lengths):
        clip[..., length:] = -100.0
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
@pytest.mark.parametrize("leading", [(), (1,), (3,)], ids=["3-D", "one view", "three views"])
def test_content_frames_is_one_rule_for_the_feature_and_the_estimators_windows(rng, dtype, leading):
    """The store's feature and the estimators' windows share one definition of a clip's content."""
    from estimators._windows import content_frames as window_content_frames

    lengths = [50, 1, 17, 49, 2, 33]
    x = _padded(rng, lengths, leading=leading, dtype=dtype)
    if leading == (3,):
        x[2, 2, 0, 40] = -99.0  # a later view reaches further: the clip's content does too
        lengths[2] = 41
    x[4] = -100.0  # silence throughout counts as all content
    lengths[4] = 50
    expected = np.array(lengths)
    np.testing.assert_array_equal(content_frames(torch.from_numpy(x)).numpy(), expected)
    np.testing.assert_array_equal(window_content_frames(x), expected)
    readonly = x.copy()
    readonly.setflags(write=False)  # e.g. a memmap
    np.testing.assert_array_equal(window_content_frames(readonly), expected)
