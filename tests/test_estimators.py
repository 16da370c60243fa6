"""Tests of the estimators package: MelCNN, MelCNNClassifier, make_mfcc_logreg.

Everything runs on small synthetic arrays (16 mel bands x 40 frames) on the CPU,
on any machine: device-independent tests set ``device="cpu"`` (``SMALL``), the
tests of ``device="auto"`` fit under ``auto_resolves_to_cpu`` (conftest.py), and the
one test that needs an accelerator is marked ``gpu``. Store-based versions are in
tests/test_store_estimators.py.
"""

import contextlib
import os
import pickle
from unittest import mock

import joblib
import numpy as np
import pytest
import sklearn
import torch
from skorch.callbacks import Callback
from skorch.exceptions import DeviceWarning
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    LeaveOneGroupOut,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from estimators import (
    EstimatorParameterError,
    InputDataError,
    MelCNN,
    MelCNNClassifier,
    make_mfcc_logreg,
    make_notebook_cnn,
    make_stats_boosting,
    spec_augment,
)
from estimators._batching import global_mean_std
from estimators._device import resolve_device

N_MELS, N_FRAMES = 16, 40
# Small and quick, yet able to learn the synthetic task (about 0.2 s per fit); on
# the CPU, so that exact comparisons between fits hold where a GPU is present too.
# Without mixup and label smoothing, so that the validation loss is the plain
# log-loss these tests recompute (the recipe's options: tests/test_recipe.py).
SMALL = dict(
    module__channels=(8, 16, 32), max_epochs=4, lr=3e-3, batch_size=32, device="cpu",
    mixup_alpha=0.0, label_smoothing=0.0,
)
AUTO = {**SMALL, "device": "auto"}


# ----------------------------------------------------------------------------
# data and helpers


def make_spectrograms(n_clips=320, n_mels=N_MELS, n_frames=N_FRAMES, n_groups=4, seed=0):
    """Log-mel-like clips (dB) whose class is the *shape* of one pattern.

    A -60 dB noise floor plus one 8-cell stroke, +25 dB, at a random place:
    class 0 horizontal (a tone), 1 vertical (a click), 2 rising diagonal,
    3 falling diagonal. Position carries no information, so a classifier has
    to detect local shapes (convolution); a linear model on the raw pixels
    stays near chance (checked in ``test_synthetic_task_needs_convolution``).
    Groups 1..n_groups are assigned round-robin, like folds.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(-60.0, 4.0, size=(n_clips, n_mels, n_frames)).astype(np.float32)
    y = np.arange(n_clips) % 4
    rng.shuffle(y)
    length = 8
    steps = np.arange(length)
    for i, label in enumerate(y):
        f0 = rng.integers(0, n_mels - length + 1)
        t0 = rng.integers(0, n_frames - length + 1)
        if label == 0:
            f, t = np.full(length, f0 + length // 2), t0 + steps
        elif label == 1:
            f, t = f0 + steps, np.full(length, t0 + length // 2)
        elif label == 2:
            f, t = f0 + steps, t0 + steps
        else:
            f, t = f0 + length - 1 - steps, t0 + steps
        X[i, f, t] += 25.0
    groups = np.arange(n_clips) % n_groups + 1
    return X, y, groups


def make_mfcc_stats(n_clips=400, n_features=40, n_groups=4, seed=0):
    """40 'MFCC statistics' per clip: class-dependent means plus unit noise."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n_clips) % 4)
    centers = rng.normal(0.0, 0.6, size=(4, n_features))
    X = centers[y] + rng.normal(size=(n_clips, n_features))
    X = X * rng.uniform(1, 50, size=n_features) + rng.normal(0, 100, size=n_features)
    groups = np.arange(n_clips) % n_groups + 1
    return X, y, groups


@pytest.fixture(scope="module")
def data():
    return make_spectrograms()


@pytest.fixture(scope="module")
def fitted(data, auto_resolves_to_cpu):
    """A CNN fitted with a validation fold and device="auto" (resolved to the CPU).

    Read-only for the tests using it.
    """
    X, y, groups = data
    with auto_resolves_to_cpu():
        return MelCNNClassifier(**AUTO, validation_fold="last", random_state=0).fit(
            X, y, groups=groups
        )


class RecordThreads(Callback):
    """Records ``torch.get_num_threads()`` at the start of every epoch."""

    def initialize(self):
        self.seen_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.seen_.append(torch.get_num_threads())


class SpoilFromEpoch(Callback):
    """Sets a huge learning rate from ``epoch`` on, so later epochs are worse.

    Makes the best validation epoch come before the last one, so restoring the
    best parameters is observable.
    """

    def __init__(self, epoch=3, lr=5.0):
        self.epoch = epoch
        self.lr = lr

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) >= self.epoch:
            for group in net.optimizer_.param_groups:
                group["lr"] = self.lr


class RecordInputs(Callback):
    """Keeps the batches the module receives (train mode and eval mode apart)."""

    def initialize(self):
        self.train_batches_, self.eval_batches_ = [], []
        return self

    def on_train_begin(self, net, **kwargs):
        net.module_.register_forward_pre_hook(self._hook)

    def _hook(self, module, args):
        target = self.train_batches_ if module.training else self.eval_batches_
        target.append(args[0].detach().cpu().clone())


def batch_sizes(net, key):
    return sum(batch.get(key, 0) for batch in net.history[-1, "batches"])


def valid_log_loss(net, X, y, groups):
    """Log loss of the fitted net on its own validation fold."""
    mask = groups == net.validation_fold_
    return log_loss(y[mask], net.predict_proba(X[mask]), labels=net.classes_)


# ----------------------------------------------------------------------------
# MelCNN module


def test_melcnn_default_network():
    net = MelCNN()
    block = ["Conv2d", "BatchNorm2d", "ReLU"]
    kinds = [type(layer).__name__ for layer in net.conv]
    assert kinds == [*block, "MaxPool2d", *block, "MaxPool2d", *block]
    convs = [m.out_channels for m in net.conv if isinstance(m, torch.nn.Conv2d)]
    assert convs == [16, 32, 64]
    assert net.fc.in_features == 64 and net.fc.out_features == 10
    assert net.pooling == "mean+max"
    # the notebook's weights exactly: only the pooling over time differs
    assert sum(p.numel() for p in net.parameters()) == 24170


def test_melcnn_notebook_configuration_is_the_reference_network():
    net = MelCNN(channels=(16, 32, 64), convs_per_block=1, pooling="mean")
    kinds = [type(layer).__name__ for layer in net.conv]
    assert kinds == [
        "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d",
        "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d",
        "Conv2d", "BatchNorm2d", "ReLU",
    ]  # fmt: skip
    assert net.fc.in_features == 64 and net.fc.out_features == 10
    # same parameter count as the notebook's SmallAudioCNN(n_classes=10)
    assert sum(p.numel() for p in net.parameters()) == 24170


@pytest.mark.parametrize("channels", [(16, 32, 64), (8,), (4, 8, 16, 32)])
def test_melcnn_shapes_and_channel_axis(channels):
    torch.manual_seed(0)
    net = MelCNN(n_classes=5, channels=channels).eval()
    x = torch.randn(3, N_MELS, N_FRAMES)
    with torch.no_grad():
        out3 = net(x)
        out4 = net(x.unsqueeze(1))
        single = torch.cat([net(x[i : i + 1]) for i in range(3)])
    assert out3.shape == (3, 5)
    torch.testing.assert_close(out3, out4)
    torch.testing.assert_close(out3, single)  # batched == per item (eval mode)


def test_melcnn_full_size_input_and_dropout():
    net = MelCNN(n_classes=10, dropout=0.3).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 1, 64, 321)).shape == (2, 10)
    assert isinstance(net.dropout, torch.nn.Dropout) and net.dropout.p == 0.3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"channels": ()}, "non-empty sequence"),
        ({"channels": (8, 0)}, "positive ints"),
        ({"channels": "16"}, "sequence of positive ints"),
        ({"n_classes": 0}, "n_classes"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_melcnn_rejects_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MelCNN(**kwargs)


def test_melcnn_rejects_bad_input_rank():
    with pytest.raises(ValueError, match=r"\(batch, n_mels, n_frames\)"):
        MelCNN()(torch.randn(2, 3, N_MELS, N_FRAMES))


def test_melcnn_min_input_size():
    assert MelCNN.min_input_size() == 4
    assert MelCNN.min_input_size((16, 32, 64)) == 4
    assert MelCNN.min_input_size((8,)) == 1
    assert MelCNN.min_input_size((8, 8, 8, 8)) == 8


# ----------------------------------------------------------------------------
# SpecAugment and normalisation helpers


def test_spec_augment_invariants():
    x = torch.randn(6, N_MELS, N_FRAMES)
    original = x.clone()
    out = spec_augment(
        x, time_mask_param=5, freq_mask_param=3, num_time_masks=2, num_freq_masks=1,
        generator=torch.Generator().manual_seed(0),
    )
    assert out.shape == x.shape and out.dtype == x.dtype
    torch.testing.assert_close(x, original)  # input untouched
    changed = out != x
    assert changed.any()
    for clip in range(6):
        fill = x[clip].mean()
        torch.testing.assert_close(out[clip][changed[clip]], fill.expand(int(changed[clip].sum())))
        masked_frames = changed[clip].all(dim=0).sum()
        masked_bands = changed[clip].all(dim=1).sum()
        assert masked_frames <= 2 * 5 and masked_bands <= 1 * 3


def test_spec_augment_is_reproducible_and_channel_agnostic():
    x = torch.randn(4, N_MELS, N_FRAMES)
    a = spec_augment(x, generator=torch.Generator().manual_seed(1))
    b = spec_augment(x, generator=torch.Generator().manual_seed(1))
    c = spec_augment(x.unsqueeze(1), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, c.squeeze(1))


def test_spec_augment_without_masks_is_identity():
    x = torch.randn(2, N_MELS, N_FRAMES)
    torch.testing.assert_close(spec_augment(x, num_time_masks=0, num_freq_masks=0), x)
    torch.testing.assert_close(spec_augment(x, time_mask_param=0, freq_mask_param=0), x)


def test_global_mean_std_matches_numpy_across_chunks(rng):
    X = rng.normal(-40, 12, size=(600, 3, 5)).astype(np.float32)
    subset = np.sort(rng.choice(600, size=517, replace=False))
    mean, std = global_mean_std(X, subset)
    expected = X[subset].astype(np.float64)
    assert mean == pytest.approx(expected.mean(), rel=1e-9)
    assert std == pytest.approx(expected.std(), rel=1e-9)
    assert global_mean_std(np.full((3, 2, 2), -80.0, dtype=np.float32)) == (-80.0, 1.0)


# ----------------------------------------------------------------------------
# scikit-learn contract


def test_defaults_are_the_recipe_and_the_notebook_is_a_preset():
    params = MelCNNClassifier().get_params()
    assert params["module"] is MelCNN
    assert params["criterion"] is torch.nn.CrossEntropyLoss
    assert params["optimizer"] is torch.optim.AdamW
    assert (params["lr"], params["batch_size"], params["max_epochs"]) == (3e-3, 64, 30)
    assert (params["crop_frames"], params["mixup_alpha"], params["label_smoothing"]) == (128, 0.3, 0.1)
    assert params["lr_schedule"] == "onecycle"
    assert params["train_split"] is None  # never skorch's silent 20% holdout
    assert params["device"] == "auto"
    assert params["spec_augment"] is False and params["class_weight"] is None
    assert params["validation_fold"] is None and params["early_stopping"] is None

    notebook = make_notebook_cnn().get_params()
    assert (notebook["lr"], notebook["batch_size"], notebook["max_epochs"]) == (1e-3, 64, 10)
    assert (notebook["crop_frames"], notebook["mixup_alpha"], notebook["label_smoothing"]) == (None, 0.0, 0.0)
    assert notebook["lr_schedule"] is None
    assert (notebook["module__channels"], notebook["module__convs_per_block"]) == ((16, 32, 64), 1)
    assert make_notebook_cnn(lr=5e-4).get_params()["lr"] == 5e-4


def test_init_does_no_work_and_fit_reports_every_bad_parameter(data):
    X, y, groups = data
    clf = MelCNNClassifier(lr=-1, normalize="z-score", num_time_masks=-2, device="tpu9")
    assert clf.lr == -1 and clf.normalize == "z-score"  # stored untouched
    assert not hasattr(clf, "module_")
    with pytest.raises(EstimatorParameterError) as info:
        clf.fit(X, y)
    message = str(info.value)
    for fragment in ("'lr' parameter", "'normalize' parameter", "'num_time_masks'", "tpu9"):
        assert fragment in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"early_stopping": 3}, "needs validation data"),
        ({"validation_fold": 2, "train_split": lambda ds, y: (ds, ds)}, "both define"),
        ({"class_weight": "even"}, "'class_weight' parameter"),
        ({"iterator_train__collate_fn": list}, "collate_fn cannot be set"),
        ({"module__n_classes": 7}, "does not match the 4 classes"),
        ({"validation_fold": "Last"}, "'validation_fold' parameter"),
        ({"lrr": 0.1}, r"unexpected argument\(s\) lrr"),
        ({"module_channels": (4,)}, "did you mean module__channels"),
    ],
)
def test_inconsistent_parameters_raise_before_training(data, params, match):
    X, y, groups = data
    clf = MelCNNClassifier(**{**SMALL, **params})
    with pytest.raises(EstimatorParameterError, match=match):
        clf.fit(X, y, groups=groups)
    assert not hasattr(clf, "module_")


def test_a_failed_fit_does_not_leave_a_fitted_looking_estimator(data):
    X, y, _ = data
    clf = MelCNNClassifier(**{**SMALL, "module__channels": (8, 0)})
    with pytest.raises(ValueError, match="positive ints"):  # raised by MelCNN itself
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_clone_and_params_round_trip_including_module_params(fitted):
    clf = MelCNNClassifier(module__channels=(8, 16), module__dropout=0.1, validation_fold="last")
    params = clf.get_params(deep=False)
    assert params["module__channels"] == (8, 16) and params["module__dropout"] == 0.1
    cloned = clone(clf)
    assert cloned.get_params(deep=False) == params
    cloned.set_params(module__channels=(4,), lr=0.01, device="cpu")
    assert cloned.get_params()["module__channels"] == (4,)
    assert cloned.get_params()["lr"] == 0.01
    assert clf.get_params()["module__channels"] == (8, 16)  # the original is untouched
    # cloning a fitted estimator gives an unfitted one with the same parameters
    fresh = clone(fitted)
    assert fresh.get_params()["device"] == "auto"
    assert fresh.get_params()["validation_fold"] == "last"
    with pytest.raises(NotFittedError):
        fresh.predict(np.zeros((1, N_MELS, N_FRAMES), dtype=np.float32))


def test_set_params_on_a_fitted_net_reinitialises_the_module(data, auto_resolves_to_cpu):
    X, y, groups = data
    with auto_resolves_to_cpu():
        clf = MelCNNClassifier(**AUTO, random_state=0).fit(X, y)
    clf.set_params(module__channels=(4, 8))
    assert [m.out_channels for m in clf.module_.conv if isinstance(m, torch.nn.Conv2d)] == [4, 8]
    assert clf.module_.fc.out_features == 4  # n_classes still comes from the data
    assert clf.get_params()["device"] == "auto"


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_predict_before_fit_raises_not_fitted(data, method):
    X, y, _ = data
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError):
        getattr(MelCNNClassifier(), method)(*args)
    initialized_only = MelCNNClassifier(device="cpu").initialize()  # skorch's initialize is not fit
    with pytest.raises(NotFittedError):
        getattr(initialized_only, method)(*args)


def _bad_inputs():
    X, y, groups = make_spectrograms(n_clips=40)
    nan_X, inf_X = X.copy(), X.copy()
    nan_X[3, 2, 5] = np.nan
    inf_X[7, 0, 0] = -np.inf
    shape = r"\(n_clips, n_mels, n_frames\) or \(n_clips, n_views, n_mels, n_frames\)"
    two_groups = np.where(y == 0, 1, 2)  # group 1 holds all of class 0
    last = {"validation_fold": "last"}
    case = pytest.param
    # (X, y, groups, extra parameters, expected message), one id each
    return [
        case(X.reshape(40, -1), y, None, {}, shape + "; got a 2-D", id="2-D X"),
        case(X[:, None, None], y, None, {}, shape + "; got a 5-D", id="5-D X"),
        case(X[:0], y[:0], None, {}, "got no clips", id="no clips"),
        case(X[:, :2, :2], y, None, {}, "at least 4 mel bands and 4 frames",
             id="too small to pool"),
        case(nan_X, y, None, {}, r"NaN or infinity \(first in clip 3\)", id="NaN"),
        case(inf_X, y, None, {}, r"NaN or infinity \(first in clip 7\)", id="inf"),
        case(X.astype(np.complex64), y, None, {}, "Complex data not supported", id="complex"),
        case(X.astype(str), y, None, {}, "real numeric", id="strings"),
        case(X, y[:-1], None, {}, r"X has 40 clips, y has 39 labels; expected y of shape \(40,\)",
             id="len(y)"),
        case(X, None, None, {}, "requires y to be passed", id="y None"),
        case(X, np.zeros(40, int), None, {}, "single class", id="one class"),
        case(X, y + 0.5, None, {}, "Unknown label type", id="continuous y"),
        case(X, np.c_[y, y], None, {}, r"1-D class labels of shape \(n_clips,\)", id="2-D y"),
        case(X, y, groups[:-1], {}, r"one value per clip, shape \(40,\)", id="len(groups)"),
        case(X, y, groups, {"validation_fold": 9},
             r"validation_fold=9 is not present in groups \(present: \[1, 2, 3, 4\]\)",
             id="fold absent"),
        case(X, y, None, last, "needs the group of every clip", id="fold without groups"),
        case(X, y, np.ones(40), last, "at least 2 groups", id="one group"),
        case(X, y, two_groups, {"validation_fold": 2}, "hold a single class",
             id="train part one class"),
        case(X, y, two_groups, {"validation_fold": 1, "class_weight": "balanced"},
             "needs every class among the training clips", id="balanced, class only in validation"),
    ]


@pytest.mark.parametrize("X, y, groups, params, match", _bad_inputs())
def test_bad_input_raises_before_training(X, y, groups, params, match):
    clf = MelCNNClassifier(**SMALL, **params)
    with pytest.raises(ValueError, match=match) as info:
        clf.fit(X, y, groups=groups)
    assert isinstance(info.value, InputDataError)
    assert not hasattr(clf, "module_")  # nothing was initialised or trained


def test_bad_input_at_predict_time(fitted, data):
    X, _, _ = data
    with pytest.raises(InputDataError, match=r"has 8 mel bands per clip but .* fitted on 16"):
        fitted.predict(X[:, :8])
    with pytest.raises(InputDataError, match="NaN or infinity"):
        fitted.predict(np.full((2, N_MELS, N_FRAMES), np.nan, dtype=np.float32))
    with pytest.raises(InputDataError, match="got a 1-D array"):
        fitted.predict(X[0, 0])


def test_sklearn_conventions_on_spectrograms(data):
    """3-D counterparts of the scikit-learn common checks that feed 2-D data.

    See the expected failures in tests/test_common.py.
    """
    X, y, groups = data
    clf = MelCNNClassifier(**SMALL, random_state=0)
    params_before = joblib.hash(clf.get_params(deep=False))
    attrs_before = set(vars(clf))
    assert clf.fit(X, y) is clf  # check_estimators_fit_returns_self
    assert joblib.hash(clf.get_params(deep=False)) == params_before  # overwrite_params
    added = set(vars(clf)) - attrs_before
    public = {a for a in added if not a.startswith("_")}
    assert all(a.endswith("_") for a in public), public  # dont_overwrite_parameters

    proba = clf.predict_proba(X)
    state = {k: id(v) for k, v in vars(clf).items()}
    clf.predict(X)
    assert {k: id(v) for k, v in vars(clf).items()} == state  # check_dict_unchanged

    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    order = np.random.default_rng(1).permutation(len(X))
    np.testing.assert_allclose(clf.predict_proba(X[order]), proba[order], atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X[:7]), proba[:7], atol=1e-6)  # subset
    np.testing.assert_allclose(clf.predict_proba(X[:1]), proba[:1], atol=1e-6)  # 1 sample

    readonly = X.copy()
    readonly.setflags(write=False)
    np.testing.assert_allclose(clf.predict_proba(readonly), proba, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(np.asfortranarray(X)), proba, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X[:5].tolist()), proba[:5], atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X[:, None]), proba, atol=1e-6)  # 4-D
    # dtypes: float64 and int input are cast to float32 (required on MPS)
    np.testing.assert_allclose(clf.predict_proba(X.astype(np.float64)), proba, atol=1e-5)

    refit = MelCNNClassifier(**SMALL, random_state=0).fit(readonly, y.reshape(-1, 1))
    np.testing.assert_array_equal(refit.predict_proba(X), proba)  # fit_idempotent


# ----------------------------------------------------------------------------
# validation, best parameters, early stopping


def test_no_validation_by_default_trains_on_every_clip(data):
    """skorch's default train_split would silently hold out 20% of the clips."""
    X, y, _ = data
    clf = MelCNNClassifier(**SMALL, random_state=0).fit(X, y)
    assert batch_sizes(clf, "train_batch_size") == len(X)
    assert "valid_loss" not in clf.history[-1]
    assert clf.best_epoch_ is None and clf.validation_fold_ is None


@pytest.mark.parametrize("fold, expected", [(2, 2), ("last", 4), ("first", 1)])
def test_validation_fold_holds_out_exactly_that_group(data, fold, expected):
    X, y, groups = data
    clf = MelCNNClassifier(**{**SMALL, "max_epochs": 1}, validation_fold=fold).fit(
        X, y, groups=groups
    )
    assert clf.validation_fold_ == expected
    assert batch_sizes(clf, "valid_batch_size") == np.sum(groups == expected)
    assert batch_sizes(clf, "train_batch_size") == np.sum(groups != expected)
    assert {"valid_loss", "valid_acc"} <= set(clf.history[-1])


def test_normalisation_statistics_come_from_training_clips_only(data):
    X, y, groups = data
    shifted = X.copy()
    shifted[groups == 4] += 30.0  # the validation fold is much louder
    clf = MelCNNClassifier(**{**SMALL, "max_epochs": 1}, validation_fold=4).fit(
        shifted, y, groups=groups
    )
    expected = global_mean_std(shifted, np.flatnonzero(groups != 4))
    assert (clf.input_mean_, clf.input_std_) == pytest.approx(expected)
    assert clf.input_mean_ != pytest.approx(global_mean_std(shifted)[0], abs=1.0)


def test_per_clip_normalisation_ignores_clip_level_offsets(data):
    X, y, _ = data
    clf = MelCNNClassifier(**SMALL, normalize="per_clip", random_state=0).fit(X, y)
    assert clf.input_mean_ is None and clf.input_std_ is None
    offsets = np.random.default_rng(2).uniform(-20, 20, size=(len(X), 1, 1)).astype(np.float32)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(clf.predict_proba(X + offsets), proba, atol=1e-4)
    clf.set_params(normalize="global")  # takes effect at the next fit, not now
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_best_validation_parameters_are_restored(data, tmp_path, monkeypatch):
    """The net ends with its best epoch's parameters, kept in memory, not on disk."""
    monkeypatch.chdir(tmp_path)  # skorch's Checkpoint would write here
    X, y, groups = data
    clf = MelCNNClassifier(
        **{**SMALL, "max_epochs": 5}, validation_fold="last", random_state=0,
        callbacks=[("spoil", SpoilFromEpoch(epoch=3))],
    ).fit(X, y, groups=groups)
    valid_losses = clf.history[:, "valid_loss"]
    assert clf.best_epoch_ == int(np.argmin(valid_losses)) + 1
    assert clf.best_epoch_ < 5  # the spoiled last epochs are worse
    assert valid_log_loss(clf, X, y, groups) == pytest.approx(min(valid_losses), rel=1e-4)
    assert valid_log_loss(clf, X, y, groups) < valid_losses[-1] - 1e-3
    assert list(tmp_path.iterdir()) == []


def test_early_stopping_stops_and_keeps_the_best(data):
    X, y, groups = data
    clf = MelCNNClassifier(
        **{**SMALL, "max_epochs": 20}, validation_fold=1, early_stopping=2, random_state=0,
        callbacks=[("spoil", SpoilFromEpoch(epoch=3))],
    ).fit(X, y, groups=groups)
    assert len(clf.history) < 20
    assert valid_log_loss(clf, X, y, groups) == pytest.approx(
        min(clf.history[:, "valid_loss"]), rel=1e-4
    )


# ----------------------------------------------------------------------------
# cross-validation, grid search, metadata routing, parallel workers


def test_cross_val_score_leave_one_group_out(data):
    X, y, groups = data
    scores = cross_val_score(
        MelCNNClassifier(**SMALL, random_state=0), X, y, groups=groups, cv=LeaveOneGroupOut()
    )
    assert scores.shape == (4,)
    # 80 test clips per fold, 4 balanced classes: chance is 0.25 and guessing has a
    # standard deviation of 0.048, so 0.6 is 7 of them above chance. The 20 folds
    # of random_state 0-4 scored 0.89-1.0.
    assert np.all(scores > 0.6)


def test_inner_validation_fold_follows_the_outer_split(data):
    """validation_fold='last' picks a training group of each outer split."""
    X, y, groups = data
    clf = MelCNNClassifier(**{**SMALL, "max_epochs": 1}, validation_fold="last")
    result = cross_validate(
        clf, X, y, groups=groups, cv=LeaveOneGroupOut(), params={"groups": groups},
        return_estimator=True, return_indices=True, error_score="raise",
    )
    for est, test_index in zip(result["estimator"], result["indices"]["test"]):
        (test_group,) = np.unique(groups[test_index])
        train_groups = set(np.unique(groups)) - {test_group}
        assert est.validation_fold_ == max(train_groups) != test_group


def test_fixed_validation_fold_inside_outer_cv_is_refused(data):
    """A predefined validation set may be an outer test fold: refuse, do not leak."""
    X, y, groups = data
    clf = MelCNNClassifier(**{**SMALL, "max_epochs": 1}, validation_fold=4)
    with pytest.raises(ValueError, match="validation_fold=4 is not present in groups"):
        cross_val_score(
            clf, X, y, groups=groups, cv=LeaveOneGroupOut(), params={"groups": groups},
            error_score="raise",
        )


def test_groups_reach_fit_through_metadata_routing(data):
    X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MelCNNClassifier(**{**SMALL, "max_epochs": 1}, validation_fold="last")
        # unrequested metadata is an error under routing, as for any estimator
        with pytest.raises(ValueError, match="groups"):
            cross_val_score(clf, X, y, cv=GroupKFold(2), params={"groups": groups})
        assert clf.set_fit_request(groups=True) is clf
        result = cross_validate(
            clf, X, y, cv=GroupKFold(2), params={"groups": groups}, return_estimator=True
        )
    assert all(est.validation_fold_ in (1, 2, 3, 4) for est in result["estimator"])


def test_grid_search_with_two_workers_and_inner_validation(data, tmp_path, monkeypatch):
    """n_jobs=2 with grouped CV and in-memory best-epoch restoring in each worker."""
    monkeypatch.chdir(tmp_path)
    X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MelCNNClassifier(**SMALL, validation_fold="last", random_state=0)
        clf.set_fit_request(groups=True)
        search = GridSearchCV(
            clf,
            {"module__channels": [(4, 8), (8, 16, 32)], "lr": [3e-3]},
            cv=GroupKFold(2),
            n_jobs=2,
            error_score="raise",
        ).fit(X, y, groups=groups)
    assert search.best_params_["module__channels"] in [(4, 8), (8, 16, 32)]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.validation_fold_ == 4  # refit on all groups
    # On all 320 clips (chance 0.25). (8, 16, 32) learns the task (refit scores
    # 0.997-1.0 over random_state 0-4), (4, 8) does not (0.25-0.42): above 0.6 means
    # the search chose the net that learns, by its far higher cross-validated score.
    assert search.score(X, y) > 0.6
    assert list(tmp_path.iterdir()) == []


def test_parallel_workers_restore_their_own_best_parameters_and_limit_threads(data):
    """Two fits at once: no shared checkpoint files, no CPU oversubscription."""
    X, y, groups = data
    clf = MelCNNClassifier(
        **{**SMALL, "max_epochs": 5}, validation_fold="last", random_state=0,
        callbacks=[("spoil", SpoilFromEpoch(epoch=3))],
    )
    result = cross_validate(
        clf, X, y, groups=groups, cv=GroupKFold(2), params={"groups": groups},
        n_jobs=2, return_estimator=True, return_indices=True, error_score="raise",
    )
    for est, train_index in zip(result["estimator"], result["indices"]["train"]):
        valid_losses = est.history[:, "valid_loss"]
        Xt, yt, gt = X[train_index], y[train_index], groups[train_index]
        assert valid_log_loss(est, Xt, yt, gt) == pytest.approx(min(valid_losses), rel=1e-4)
    # joblib's workers get OMP_NUM_THREADS = cpu_count // n_jobs (unless set by the user)
    expected = int(os.environ.get("OMP_NUM_THREADS", max(1, joblib.cpu_count() // 2)))
    assert {est.n_threads_ for est in result["estimator"]} == {expected}


def test_explicit_n_threads_is_scoped_to_fit_and_predict(data):
    X, y, _ = data
    before = torch.get_num_threads()
    clf = MelCNNClassifier(
        **{**SMALL, "max_epochs": 2}, n_threads=1, callbacks=[("threads", RecordThreads())]
    ).fit(X, y)
    assert dict(clf.callbacks_)["threads"].seen_ == [1, 1]
    assert clf.n_threads_ == 1
    assert torch.get_num_threads() == before
    clf.predict(X[:3])
    assert torch.get_num_threads() == before


# ----------------------------------------------------------------------------
# learning, reproducibility, augmentation, labels


@pytest.mark.parametrize("seed", range(5))
def test_synthetic_task_needs_convolution(seed):
    """A linear model on the raw pixels stays far below what the CNN reaches.

    Over data seeds 0-19 it scored 0.225-0.46 on the 80 held-out clips (mean
    0.30; chance 0.25), while the CNN of test_cnn_learns_held_out_clips scored
    0.95-1.0 on the same kind of split. 0.5 lies between the two; five data
    seeds run here (0.26-0.34).
    """
    X, y, groups = make_spectrograms(seed=seed)
    train, test = groups != 4, groups == 4
    pixels = make_pipeline(StandardScaler(), RidgeClassifier(alpha=10.0))
    pixels.fit(X[train].reshape(train.sum(), -1), y[train])
    assert pixels.score(X[test].reshape(test.sum(), -1), y[test]) < 0.5


def test_cnn_learns_held_out_clips(data):
    X, y, groups = data
    train, test = groups != 4, groups == 4
    clf = MelCNNClassifier(**SMALL, random_state=0).fit(X[train], y[train])
    # 80 held-out clips, 4 balanced classes: chance is 0.25 with a standard deviation
    # of 0.048, so 0.6 is 7 of them above chance. Data seeds 0-2 x random_state 0-9
    # (30 fits) scored 0.95-1.0.
    assert clf.score(X[test], y[test]) > 0.6


@pytest.mark.parametrize("make", [make_mfcc_logreg, make_stats_boosting])
@pytest.mark.parametrize("seed", range(5))
def test_statistics_pipelines_learn_held_out_clips(make, seed):
    X, y, groups = make_mfcc_stats(seed=seed)
    train, test = groups != 4, groups == 4
    model = make().fit(X[train], y[train])
    # 100 held-out clips, 4 classes: chance is 0.25 with a standard deviation of
    # 0.043, so 0.6 is 8 of them above chance. Data seeds 0-19 scored 0.91-1.0
    # with the logistic regression.
    assert model.score(X[test], y[test]) > 0.6


def test_make_mfcc_logreg_structure_and_parameters():
    model = make_mfcc_logreg(C=0.5, class_weight="balanced")
    assert [name for name, _ in model.steps] == ["scaler", "clf"]
    assert model.named_steps["clf"].max_iter == 2000
    assert model.get_params()["clf__C"] == 0.5
    assert model.get_params()["clf__class_weight"] == "balanced"
    assert make_mfcc_logreg(max_iter=50).named_steps["clf"].max_iter == 50
    assert make_mfcc_logreg() is not make_mfcc_logreg()


def test_make_stats_boosting_structure_parameters_and_repeatability():
    model = make_stats_boosting(class_weight="balanced")
    assert [name for name, _ in model.steps] == ["clf"]
    params = model.get_params()
    assert (params["clf__learning_rate"], params["clf__max_iter"], params["clf__random_state"]) == (0.05, 300, 0)
    assert params["clf__class_weight"] == "balanced"
    assert make_stats_boosting(max_iter=20).named_steps["clf"].max_iter == 20
    X, y, _ = make_mfcc_stats(seed=0)
    first = make_stats_boosting(max_iter=20).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, clone(make_stats_boosting(max_iter=20)).fit(X, y).predict_proba(X))


def test_same_random_state_gives_identical_predictions_without_touching_global_rngs(data):
    X, y, groups = data
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    params = dict(**SMALL, spec_augment=True, module__dropout=0.2, validation_fold=1)
    first = MelCNNClassifier(**params, random_state=7).fit(X, y, groups=groups)
    second = MelCNNClassifier(**params, random_state=7).fit(X, y, groups=groups)
    other = MelCNNClassifier(**params, random_state=8).fit(X, y, groups=groups)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert first.history[:, "train_loss"] == second.history[:, "train_loss"]
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])


def test_augmentation_changes_training_only(data):
    X, y, _ = data
    params = dict(**{**SMALL, "max_epochs": 2}, random_state=0, iterator_train__shuffle=False)
    plain = MelCNNClassifier(**params).fit(X, y)
    masked = MelCNNClassifier(
        **params, spec_augment=True, time_mask_param=6, freq_mask_param=3,
        callbacks=[("inputs", RecordInputs())],
    ).fit(X, y)
    assert plain.history[:, "train_loss"] != masked.history[:, "train_loss"]

    recorder = dict(masked.callbacks_)["inputs"]
    normalised = (torch.from_numpy(X) - masked.input_mean_) / masked.input_std_
    first = recorder.train_batches_[0]  # unshuffled: clips 0..31
    changed = first != normalised[: len(first)]
    assert changed.any()  # training batches are masked...
    for clip in range(len(first)):
        fill = normalised[clip].mean()
        torch.testing.assert_close(
            first[clip][changed[clip]], fill.expand(int(changed[clip].sum()))
        )
    recorder.eval_batches_.clear()
    masked.predict(X[:10])  # ...prediction batches are not
    torch.testing.assert_close(recorder.eval_batches_[0], normalised[:10])


def test_string_labels_and_class_weights(data):
    X, y, groups = data
    names = np.array(["air_conditioner", "car_horn", "dog_bark", "siren"])[y]
    clf = MelCNNClassifier(**SMALL, class_weight="balanced", random_state=0)
    clf.fit(X[:-37], names[:-37])  # unbalanced counts
    np.testing.assert_array_equal(clf.classes_, np.unique(names))
    assert set(clf.predict(X)) <= set(names)
    # on all 320 clips, 283 of them seen in training: chance is 0.25 (standard
    # deviation 0.024); random_state 0-9 all scored 1.0
    assert clf.score(X, names) > 0.6
    counts = np.unique(names[:-37], return_counts=True)[1]
    np.testing.assert_allclose(clf.class_weight_, (len(X) - 37) / (4 * counts), rtol=1e-6)
    assert clf.criterion_.weight.dtype == torch.float32
    np.testing.assert_allclose(clf.criterion_.weight.cpu().numpy(), clf.class_weight_)


def test_partial_fit_keeps_classes_and_continues_training(data):
    X, y, _ = data
    clf = MelCNNClassifier(**{**SMALL, "max_epochs": 1}, random_state=0)
    clf.partial_fit(X[:100], y[:100])
    mean = clf.input_mean_
    clf.partial_fit(X[100:], y[100:])
    assert len(clf.history) == 2
    assert clf.input_mean_ == mean
    with pytest.raises(InputDataError, match="not among the known classes"):
        clf.partial_fit(X[:10], np.full(10, 9))
    with pytest.raises(InputDataError, match="fitted on 16"):
        clf.partial_fit(X[:10, :8], y[:10])


# ----------------------------------------------------------------------------
# devices, dtypes, pickling


def test_auto_device_resolution():
    with mock.patch("torch.cuda.is_available", return_value=True):
        assert resolve_device("auto") == "cuda"
    with (
        mock.patch("torch.cuda.is_available", return_value=False),
        mock.patch("torch.backends.mps.is_available", return_value=True),
    ):
        assert resolve_device("auto") == "mps"
    with (
        mock.patch("torch.cuda.is_available", return_value=False),
        mock.patch("torch.backends.mps.is_available", return_value=False),
    ):
        assert resolve_device("auto") == "cpu"
        assert resolve_device(torch.device("cpu")) == "cpu"
        assert resolve_device(None) is None
        with pytest.raises(ValueError, match="'cuda' was requested but is not available"):
            resolve_device("cuda")
        with pytest.raises(ValueError, match="'mps' was requested but is not available"):
            resolve_device("mps")


def test_auto_device_is_resolved_at_fit_and_kept_as_parameter(fitted):
    """On a machine without accelerator; the accelerator case is the gpu-marked test."""
    assert fitted.get_params()["device"] == "auto" and fitted.device == "auto"
    assert fitted.device_ == "cpu"
    assert next(fitted.module_.parameters()).device.type == fitted.device_
    assert clone(fitted).get_params()["device"] == "auto"


def test_explicit_unavailable_device_is_refused_before_training(data):
    X, y, _ = data
    clf = MelCNNClassifier(**{**SMALL, "device": "cuda"})
    with mock.patch("torch.cuda.is_available", return_value=False):
        with pytest.raises(EstimatorParameterError, match="'device' parameter .* Got 'cuda' instead"):
            clf.fit(X, y)
    assert not hasattr(clf, "module_")


def test_module_always_receives_float32(data):
    """MPS has no float64; any input dtype reaches the network as float32."""
    X, y, _ = data
    for dtype in (np.float64, np.int16):
        clf = MelCNNClassifier(
            **{**SMALL, "max_epochs": 1}, callbacks=[("inputs", RecordInputs())]
        ).fit(np.round(X).astype(dtype), y)
        clf.predict(np.round(X[:5]).astype(dtype))
        recorder = dict(clf.callbacks_)["inputs"]
        seen = {b.dtype for b in recorder.train_batches_ + recorder.eval_batches_}
        assert seen == {torch.float32}
        assert isinstance(clf.input_mean_, float) and isinstance(clf.input_std_, float)


def test_skorch_save_and_load_params_work_with_the_auto_device(
    fitted, data, tmp_path, auto_resolves_to_cpu
):
    X, y, groups = data
    fitted.save_params(f_params=tmp_path / "params.pt")
    # same data and validation fold, so the same normalisation statistics
    other = MelCNNClassifier(**{**AUTO, "max_epochs": 1}, validation_fold="last", random_state=1)
    with auto_resolves_to_cpu():
        other.fit(X, y, groups=groups)
    assert not np.array_equal(other.predict_proba(X), fitted.predict_proba(X))
    other.load_params(f_params=tmp_path / "params.pt")
    np.testing.assert_array_equal(other.predict_proba(X), fitted.predict_proba(X))
    assert other.get_params()["device"] == "auto"


@pytest.fixture(scope="module")
def fitted_with_everything(data, auto_resolves_to_cpu):
    """Validation, early stopping, augmentation, class weights, string labels, "auto"."""
    X, y, groups = data
    names = np.array(["a", "b", "c", "d"])[y]
    with auto_resolves_to_cpu():
        return MelCNNClassifier(
            **AUTO, validation_fold="last", early_stopping=2, spec_augment=True,
            class_weight="balanced", module__dropout=0.1, random_state=0,
        ).fit(X, names, groups=groups)


def test_pickle_and_joblib_round_trips_give_identical_predictions(
    fitted_with_everything, data, tmp_path, auto_resolves_to_cpu
):
    X, y, _ = data
    names = np.array(["a", "b", "c", "d"])[y]
    clf = fitted_with_everything
    expected = clf.predict_proba(X)
    from_pickle = pickle.loads(pickle.dumps(clf))  # stdlib pickle: no lambdas allowed
    joblib.dump(clf, tmp_path / "clf.joblib")
    from_joblib = joblib.load(tmp_path / "clf.joblib")
    for loaded in (from_pickle, from_joblib):
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)
        np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
        assert loaded.get_params()["device"] == "auto" and loaded.device_ == clf.device_
        # still a working estimator: it can be cloned and fitted again
        with auto_resolves_to_cpu():
            clone(loaded).set_params(max_epochs=1, validation_fold=None, early_stopping=None).fit(
                X[:64], names[:64]
            )


def test_fitted_estimator_keeps_no_per_fit_state_or_data(fitted_with_everything, data):
    X, _, _ = data
    clf = fitted_with_everything
    assert clf.__dict__.get("_fit_plan_") is None  # per-fit plan (generators) is gone
    restore = dict(clf.callbacks_)["restore_best"]
    assert restore._best_state is None  # the in-memory best copy was dropped
    # no copy of the training data travels with the model (X alone is 800 kB)
    assert len(pickle.dumps(clf)) < X.nbytes / 2


@contextlib.contextmanager
def storages_tagged_as_cuda():
    """Make torch record CPU tensors as 'cuda:0' tensors when pickling.

    This is what a net fitted on a GPU carries into its pickle; loading such
    a pickle on a machine without CUDA fails unless the tensors are mapped to
    the CPU. ``register_package`` is public; torch has no unregister, so the
    entry is removed from the (private) registry afterwards.
    """

    def tag_as_cuda(storage):
        return "cuda:0" if storage.device.type == "cpu" else None

    def no_deserializer(obj, location):
        return None

    torch.serialization.register_package(-100, tag_as_cuda, no_deserializer)
    entry = next(e for e in torch.serialization._package_registry if e[1] is tag_as_cuda)
    try:
        yield
    finally:
        torch.serialization._package_registry.remove(entry)


def test_storage_tagging_simulates_cuda_pickles():
    """Control for the next tests: a plain CUDA-tagged tensor cannot be loaded."""
    with storages_tagged_as_cuda():
        blob = pickle.dumps(torch.ones(3))
    with mock.patch("torch.cuda.is_available", return_value=False):
        with pytest.raises(RuntimeError, match="CUDA"):
            pickle.loads(blob)


def test_model_fitted_on_cuda_unpickles_on_a_cpu_only_machine(fitted, data):
    X, _, _ = data
    expected = fitted.predict_proba(X)
    as_if_gpu = pickle.loads(pickle.dumps(fitted))
    as_if_gpu.device_ = "cuda"  # what fit with device="auto" records on a GPU machine
    with storages_tagged_as_cuda():
        blob = pickle.dumps(as_if_gpu)
    with mock.patch("torch.cuda.is_available", return_value=False):
        loaded = pickle.loads(blob)
        assert loaded.device_ == "cpu"
        assert loaded.get_params()["device"] == "auto"
        assert {p.device.type for p in loaded.module_.parameters()} == {"cpu"}
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)


def test_explicit_cuda_model_loads_on_cpu_with_a_warning(fitted, data):
    X, _, _ = data
    as_if_gpu = pickle.loads(pickle.dumps(fitted))
    as_if_gpu.device, as_if_gpu.device_ = "cuda", "cuda"
    with storages_tagged_as_cuda():
        blob = pickle.dumps(as_if_gpu)
    with mock.patch("torch.cuda.is_available", return_value=False):
        with pytest.warns(DeviceWarning, match="fitted on 'cuda'.*loaded on 'cpu'"):
            loaded = pickle.loads(blob)
    # the parameter keeps what the user asked for; device_ says where the net is
    assert loaded.device_ == "cpu" and loaded.get_params()["device"] == "cuda"
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


def _accelerator():
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return None


@pytest.mark.gpu
@pytest.mark.skipif(_accelerator() is None, reason="needs a CUDA or MPS device")
def test_fit_and_round_trip_on_the_accelerator(data):
    X, y, _ = data
    clf = MelCNNClassifier(**AUTO, random_state=0).fit(X.astype(np.float64), y)
    assert clf.device_ == _accelerator()
    assert next(clf.module_.parameters()).device.type == _accelerator()
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_channels_last_gives_the_same_network_outputs(data):
    X = torch.from_numpy(np.ascontiguousarray(data[0][:8], dtype=np.float32))
    torch.manual_seed(0)
    plain = MelCNN(n_classes=4, channels=(4, 8))
    torch.manual_seed(0)
    fast = MelCNN(n_classes=4, channels=(4, 8), channels_last=True)
    fast.load_state_dict(plain.state_dict())
    plain.eval(), fast.eval()
    with torch.no_grad():
        torch.testing.assert_close(fast(X), plain(X), rtol=1e-4, atol=1e-5)
    assert fast.conv[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_channels_last_through_module_params(data):
    X, y, _ = data
    clf = MelCNNClassifier(
        module__channels=(4, 8), module__channels_last=True, max_epochs=1, random_state=0, device="cpu"
    )
    clf.fit(X, y)
    assert clf.module_.channels_last and clf.predict(X[:3]).shape == (3,)
