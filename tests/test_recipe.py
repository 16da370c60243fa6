"""Tests of the training recipe's options: random windows, window-averaged prediction,
mixup, label smoothing, the learning-rate schedule, views, and the notebook preset.

Small synthetic arrays on the CPU, as in tests/test_estimators.py.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback
from sklearn.model_selection import GridSearchCV, GroupKFold

from estimators import NOTEBOOK_PARAMS, EstimatorParameterError, MelCNN, MelCNNClassifier, make_notebook_cnn
from estimators._batching import PredictionCollate, TrainingCollate, draw_views
from estimators._windows import content_frames, random_window_starts, window_starts, windowed_proba
from estimators.callbacks import LRSchedule

FLOOR = -100.0  # the feature store's dB value of zero padding
TINY = dict(module__channels=(4, 8), max_epochs=2, batch_size=16, device="cpu", random_state=0)


def padded_clips(rng, lengths, *, n_mels=8, n_frames=64):
    """Log-mel-like clips with ``lengths[i]`` frames of content, then padding at the floor."""
    X = rng.normal(-40.0, 5.0, size=(len(lengths), n_mels, n_frames)).astype(np.float32)
    for clip, length in zip(X, lengths):
        clip[:, length:] = FLOOR
    return X


def toy_task(rng, n_clips=96, n_frames=64):
    """Two classes told apart by which half of the mel bands is loud; half the clips padded."""
    lengths = rng.integers(16, n_frames + 1, size=n_clips)
    lengths[: n_clips // 2] = n_frames
    X = padded_clips(rng, lengths, n_frames=n_frames)
    y = np.arange(n_clips) % 2
    for clip, label, length in zip(X, y, lengths):
        clip[4 * label : 4 * label + 4, :length] += 20.0
    return X, y


# ----------------------------------------------------------------------------
# windows


def test_content_frames_finds_the_trailing_padding(rng):
    lengths = [64, 1, 17, 40]
    X = padded_clips(rng, lengths)
    assert content_frames(X).tolist() == lengths
    # a channel (or view) axis changes nothing; a constant clip counts as all content
    assert content_frames(X[:, None]).tolist() == lengths
    assert content_frames(np.full((1, 8, 64), FLOOR, np.float32)).tolist() == [64]


@pytest.mark.parametrize("n_content, window, n_frames", [(64, 16, 64), (20, 16, 64), (5, 16, 64), (64, 64, 64)])
def test_random_window_starts_stay_inside_the_content(n_content, window, n_frames):
    generator = torch.Generator().manual_seed(0)
    starts = random_window_starts(np.full(2000, n_content), window, n_frames=n_frames, generator=generator)
    last = max(0, min(n_content, n_frames) - window)
    assert starts.min() == 0 and starts.max() == last  # every position is reachable
    assert len(np.unique(starts.numpy())) == last + 1


@pytest.mark.parametrize("n_content, window, n_frames", [(321, 128, 321), (200, 128, 321), (100, 128, 321), (130, 64, 321)])
def test_prediction_windows_cover_the_content_and_stay_in_the_clip(n_content, window, n_frames):
    starts = window_starts(n_content, window, n_frames=n_frames)
    covered = np.zeros(n_frames, bool)
    for s in starts:
        assert 0 <= s <= n_frames - window
        covered[s : s + window] = True
    assert covered[: max(n_content, window)].all()
    assert starts == sorted(set(starts))


@pytest.mark.parametrize("n_content", [129, 160, 200, 257, 300, 321])
@pytest.mark.parametrize("window", [64, 128])
def test_prediction_windows_are_evenly_spaced(n_content, window):
    starts = window_starts(n_content, window, n_frames=321)
    gaps = np.diff(starts)
    assert starts[0] == 0 and starts[-1] == min(n_content, 321) - window
    assert gaps.max() - gaps.min() <= 1  # even, up to rounding to whole frames
    # as many windows as half-overlapping ones need, not one more: no window nearly repeats another
    assert len(starts) == max(2, round(starts[-1] / (window // 2)) + 1)
    coverage = np.zeros(321, int)
    for s in starts:
        coverage[s : s + window] += 1
    assert coverage[: starts[-1] + window].min() >= 1  # every frame of the content is scored


def test_a_full_clip_is_scored_on_four_windows_not_five():
    assert window_starts(321, 128, n_frames=321) == [0, 64, 129, 193]


def test_windowed_proba_is_the_mean_over_each_clips_windows(rng):
    X = padded_clips(rng, [64, 30, 10, 64, 50])
    seen = []

    def proba(windows):
        seen.append(windows.shape)
        # a deterministic "model": the first two window means as two class scores
        score = windows.reshape(len(windows), -1).mean(axis=1)
        return np.stack([score, -score], axis=1)

    out = windowed_proba(proba, X, 16, chunk_clips=2)
    expected = []
    for clip, n in zip(X, content_frames(X)):
        windows = np.stack([clip[:, s : s + 16] for s in window_starts(n, 16, n_frames=64)])
        expected.append(proba(windows).mean(axis=0))
    assert np.allclose(out, np.array(expected))
    assert all(shape[-1] == 16 for shape in seen)
    # clips no longer than the window are scored whole, in one call
    seen.clear()
    assert windowed_proba(proba, X, 64).shape == (5, 2) and seen == [X.shape]


# ----------------------------------------------------------------------------
# collation in training


def _batch(X, y):
    return [(x, t) for x, t in zip(X, y)]


def test_training_collate_crops_random_windows_inside_the_content(rng):
    X = padded_clips(rng, [64, 64, 20, 8])
    collate = TrainingCollate(normalize=None, crop_frames=16, seed=0)
    out, y = collate(_batch(X, [0, 1, 0, 1]))
    assert out.shape == (4, 8, 16) and y.tolist() == [0, 1, 0, 1]
    # every window is a slice of its clip; short clips start at 0
    for clip, window in zip(X, out.numpy()):
        matches = [s for s in range(64 - 16 + 1) if np.array_equal(clip[:, s : s + 16], window)]
        assert matches
    assert np.array_equal(out[3].numpy(), X[3][:, :16])
    # not in training: whole clips
    whole, _ = PredictionCollate(normalize=None)(_batch(X, [0, 1, 0, 1]))
    assert whole.shape == (4, 8, 64)


def test_mixup_blends_inputs_and_gives_soft_targets(rng):
    X = padded_clips(rng, [64] * 8)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    collate = TrainingCollate(normalize=None, mixup_alpha=0.4, n_classes=3, seed=1)
    out, targets = collate(_batch(X, y))
    assert targets.shape == (8, 3) and torch.allclose(targets.sum(dim=1), torch.ones(8))
    assert not torch.equal(out, torch.from_numpy(X))
    # one weight lam for the batch: clip i is lam * X[i] + (1 - lam) * X[j] for some j,
    # and its target lam * onehot(y[i]) + (1 - lam) * onehot(y[j])
    mixed_label = [i for i in range(8) if targets[i].max() < 1]
    assert mixed_label
    lam = float(targets[mixed_label[0], y[mixed_label[0]]])
    onehot = torch.nn.functional.one_hot(torch.as_tensor(y), 3).float()
    for i in range(8):
        partners = [
            j for j in range(8)
            if np.allclose(out[i].numpy(), lam * X[i] + (1 - lam) * X[j], atol=1e-4)
            and torch.allclose(targets[i], lam * onehot[i] + (1 - lam) * onehot[j], atol=1e-6)
        ]
        assert partners, i
    # no mixup outside training
    plain, plain_y = PredictionCollate(normalize=None)(_batch(X, y))
    assert torch.equal(plain, torch.from_numpy(X)) and plain_y.tolist() == y.tolist()


def test_one_view_per_clip_in_training_and_view_zero_otherwise(rng):
    views = np.stack([np.full((8, 16), v, np.float32) for v in range(3)])  # view v is constant v
    X = np.stack([views] * 64)
    collate = TrainingCollate(normalize=None, seed=0)
    out, _ = collate(_batch(X, [0] * 64))
    assert out.shape == (64, 1, 8, 16)
    assert set(out[:, 0, 0, 0].tolist()) == {0.0, 1.0, 2.0}
    out, _ = PredictionCollate(normalize=None)(_batch(X, [0] * 64))
    assert out.shape == (64, 1, 8, 16) and set(out[:, 0, 0, 0].tolist()) == {0.0}


# ----------------------------------------------------------------------------
# schedule, smoothing, parameters


@pytest.mark.parametrize("kind", ["onecycle", "cosine"])
def test_lr_schedule_peaks_at_lr_and_ends_near_zero(rng, kind):
    X, y = toy_task(rng)
    lrs = []

    class Record(LRSchedule):
        def on_batch_end(self, net, training=False, **kwargs):
            super().on_batch_end(net, training=training, **kwargs)
            if training:
                lrs.append(net.optimizer_.param_groups[0]["lr"])

    params = {**TINY, "max_epochs": 5, "lr": 0.01, "lr_schedule": None}
    MelCNNClassifier(**params, callbacks=[("record", Record(kind))]).fit(X, y)
    assert len(lrs) == 5 * int(np.ceil(len(X) / 16))
    assert max(lrs) == pytest.approx(0.01, rel=0.05)
    assert lrs[-1] < 0.01 * max(lrs)  # below 1% of the peak
    peak = lrs.index(max(lrs))
    if kind == "onecycle":
        assert 0 < peak < len(lrs) - 1 and lrs[0] < max(lrs) / 10  # warms up, then anneals
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1 :]))


def test_label_smoothing_reaches_the_criterion(rng):
    X, y = toy_task(rng)
    net = MelCNNClassifier(**TINY, label_smoothing=0.2).fit(X, y)
    assert net.criterion_.label_smoothing == pytest.approx(0.2)
    assert MelCNNClassifier(**TINY, label_smoothing=0.0).fit(X, y).criterion_.label_smoothing == 0.0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"crop_frames": 0}, r"'crop_frames' parameter of MelCNNClassifier must be an int in the range \[1, inf\) or None\. Got 0"),
        ({"mixup_alpha": -0.1}, r"'mixup_alpha' parameter .* must be a float in the range \[0, inf\)\. Got -0\.1"),
        ({"label_smoothing": 1.0}, r"'label_smoothing' parameter .* must be a float in the range \[0, 1\)\. Got 1\.0"),
        ({"lr_schedule": "linear"}, r"'lr_schedule' parameter .* must be a str among \{'onecycle', 'cosine'\} or None\. Got 'linear'"),
    ],
)
def test_bad_recipe_values_name_the_parameter_the_rule_and_the_value(rng, params, match):
    X, y = toy_task(rng)
    with pytest.raises(EstimatorParameterError, match=match):
        MelCNNClassifier(**{**TINY, **params}).fit(X, y)


def test_crop_shorter_than_the_network_accepts_is_refused(rng):
    X, y = toy_task(rng)
    with pytest.raises(EstimatorParameterError, match="crop_frames=1 .* at least 2 frames"):
        MelCNNClassifier(**{**TINY, "crop_frames": 1}).fit(X, y)


# ----------------------------------------------------------------------------
# the whole recipe through the scikit-learn contract


@pytest.fixture(scope="module")
def toy():
    return toy_task(np.random.default_rng(0))


SMALL_RECIPE = {**TINY, "max_epochs": 6, "crop_frames": 24, "lr": 3e-3}


@pytest.fixture(scope="module")
def fitted_recipe(toy):
    X, y = toy
    return MelCNNClassifier(**SMALL_RECIPE).fit(X, y)


def test_recipe_learns_and_predicts_on_windows(toy, fitted_recipe):
    X, y = toy
    # two classes, 96 clips: chance is 0.5; the task is easy (a 20 dB band), and
    # the seeds 0-4 of this fit all reached 1.0 on held-out copies
    X_new, y_new = toy_task(np.random.default_rng(1))
    assert fitted_recipe.score(X_new, y_new) > 0.9
    assert fitted_recipe.crop_frames_ == 24
    # window-averaged probabilities are probabilities
    proba = fitted_recipe.predict_proba(X_new)
    assert proba.shape == (len(X_new), 2) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_recipe_same_seed_same_model_and_round_trips(toy, fitted_recipe):
    X, y = toy
    again = clone(fitted_recipe).fit(X, y)
    assert np.array_equal(again.predict_proba(X), fitted_recipe.predict_proba(X))
    restored = pickle.loads(pickle.dumps(fitted_recipe))
    assert np.array_equal(restored.predict_proba(X), fitted_recipe.predict_proba(X))
    assert clone(fitted_recipe).get_params()["mixup_alpha"] == fitted_recipe.mixup_alpha


def test_grid_search_over_recipe_options(toy):
    X, y = toy
    groups = np.arange(len(X)) % 3
    grid = GridSearchCV(
        MelCNNClassifier(**TINY),
        {"mixup_alpha": [0.0, 0.3], "crop_frames": [None, 32]},
        cv=GroupKFold(3),
    ).fit(X, y, groups=groups)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_.crop_frames_ == grid.best_params_["crop_frames"]


def test_notebook_preset_is_the_reference_configuration(toy):
    net = make_notebook_cnn(random_state=3)
    params = net.get_params()
    for name, value in NOTEBOOK_PARAMS.items():
        assert params[name] == value
    assert params["random_state"] == 3
    module = MelCNN(**{k.split("__")[1]: v for k, v in NOTEBOOK_PARAMS.items() if k.startswith("module__")})
    # the notebook's SmallAudioCNN: three 3x3 conv + BN blocks (16/32/64) and a linear head
    assert sum(p.numel() for p in module.parameters()) == 24170
    X, y = toy
    assert make_notebook_cnn(**TINY).fit(X, y).predict(X).shape == y.shape


def test_notebook_preset_names_only_estimator_parameters_and_differs_from_the_default():
    default = MelCNNClassifier()
    default.set_params(**NOTEBOOK_PARAMS)  # every key is a parameter of the estimator
    recipe = MelCNNClassifier().get_params()
    for name in ("crop_frames", "mixup_alpha", "label_smoothing", "lr_schedule"):
        assert recipe[name] != NOTEBOOK_PARAMS[name], name
    # the preset fixes every module setting, so a change of MelCNN's defaults cannot move it
    assert {f"module__{k}" for k in ("channels", "convs_per_block", "pooling", "dropout")} <= set(NOTEBOOK_PARAMS)


def test_one_view_is_the_plain_form_and_prediction_reads_view_zero(toy, fitted_recipe):
    X, y = toy
    params = SMALL_RECIPE
    # one view per clip is the plain form: the same model as 3-D input
    single = clone(fitted_recipe).fit(X[:, None], y)
    assert np.array_equal(single.predict_proba(X), fitted_recipe.predict_proba(X))
    # prediction reads view 0 only, in float16 as given
    views = np.stack([X, X[:, ::-1]], axis=1).astype(np.float16)
    assert np.array_equal(fitted_recipe.predict_proba(views), fitted_recipe.predict_proba(views[:, 0]))
    # (that training draws the other views: test_training_draws_views_with_their_probabilities...)
    with pytest.raises(EstimatorParameterError, match=r"'original_view_prob' parameter .* \[0, 1\] or None\. Got 1\.5"):
        MelCNNClassifier(**{**params, "original_view_prob": 1.5}).fit(views, y)


@pytest.mark.parametrize("prob, expected_share", [(None, 1 / 4), (1.0, 1.0), (0.0, 0.0), (0.5, 0.5)])
def test_original_view_probability(prob, expected_share):
    views = draw_views(4000, 4, prob, torch.Generator().manual_seed(0))
    assert abs(np.mean(views == 0) - expected_share) < 0.03
    assert set(np.unique(views)) <= {0, 1, 2, 3}
    if prob is not None and prob < 1:
        others = views[views != 0]
        assert abs(np.mean(others == 1) - 1 / 3) < 0.04  # the other views equally often


# ----------------------------------------------------------------------------
# what training really feeds the network, on clips longer than the window


class RecordModuleInputs(Callback):
    """The inputs the module receives: per epoch in training, and all in eval mode."""

    def initialize(self):
        self.train_epochs_, self.eval_inputs_ = [], []
        return self

    def on_train_begin(self, net, **kwargs):
        net.module_.register_forward_pre_hook(self._hook)

    def on_epoch_begin(self, net, **kwargs):
        self.train_epochs_.append([])

    def _hook(self, module, args):
        if module.training:
            self.train_epochs_[-1].append(args[0].detach().clone())
        else:
            self.eval_inputs_.append(args[0].detach().clone())


def test_every_epoch_cuts_each_clip_at_a_new_window():
    # every mel band of frame t is t, so a window's first value is where it starts
    X = np.broadcast_to(np.arange(80, dtype=np.float32), (32, 8, 80)).copy()
    X[16:, :, 60:] = FLOOR  # half the clips have 60 frames of content
    y = np.arange(32) % 2
    clf = MelCNNClassifier(
        **{**TINY, "max_epochs": 5}, crop_frames=32, mixup_alpha=0.0, normalize=None,
        iterator_train__shuffle=False, callbacks=[("inputs", RecordModuleInputs())],
    ).fit(X, y)
    epochs = dict(clf.callbacks_)["inputs"].train_epochs_
    starts = np.array([torch.cat(batches)[:, 0, 0].numpy() for batches in epochs])  # (epoch, clip)
    assert starts.shape == (5, 32) and all(b.shape[-1] == 32 for batches in epochs for b in batches)
    # each window is the clip's frames start..start+31, inside the content
    windows = torch.cat([torch.cat(batches) for batches in epochs]).numpy()
    expected = starts.reshape(-1, 1, 1) + np.arange(32, dtype=np.float32)
    np.testing.assert_array_equal(windows, np.broadcast_to(expected, windows.shape))
    assert starts[:, :16].max() <= 80 - 32 and starts[:, 16:].max() <= 60 - 32
    # the headline of the recipe: a clip is seen at another position from one epoch to the next
    moved = (starts[1:] != starts[:-1]).mean()
    assert moved > 0.9, moved
    assert all(len(set(starts[:, clip])) >= 3 for clip in range(32))


def test_training_draws_views_with_their_probabilities_and_nothing_else_does(rng):
    """View v of every clip is the original plus 500 * v dB: the level of an input says its view."""
    X, y = toy_task(rng, n_frames=80)
    views = np.stack([X + 500.0 * v for v in range(3)], axis=1)
    groups = np.arange(len(X)) % 4
    clf = MelCNNClassifier(
        **{**TINY, "max_epochs": 6}, crop_frames=32, mixup_alpha=0.0, normalize=None, original_view_prob=0.5,
        validation_fold=3, callbacks=[("inputs", RecordModuleInputs())],
    ).fit(views, y, groups=groups)
    recorder = dict(clf.callbacks_)["inputs"]
    train = torch.cat([torch.cat(batches) for batches in recorder.train_epochs_])
    assert len(train) == 6 * 72 and train.shape[1:] == (1, 8, 32)
    seen = np.round(train.mean(dim=(1, 2, 3)).numpy() / 500.0).astype(int)  # the view of each input
    share = np.bincount(seen, minlength=3) / len(seen)
    # 432 draws: the view 0 share has a standard deviation of 0.024, the others 0.021
    np.testing.assert_allclose(share, [0.5, 0.25, 0.25], atol=0.1)
    # validation (each epoch) and prediction score windows of view 0 only
    def levels(inputs):
        return torch.cat([i.reshape(len(i), -1).mean(dim=1) for i in inputs])

    assert recorder.eval_inputs_ and {i.shape[-1] for i in recorder.eval_inputs_} == {32}
    assert levels(recorder.eval_inputs_).max() < 250.0  # validation during fit
    recorder.eval_inputs_.clear()
    proba = clf.predict_proba(views)
    assert recorder.eval_inputs_ and levels(recorder.eval_inputs_).max() < 250.0
    np.testing.assert_array_equal(proba, clf.predict_proba(X))
