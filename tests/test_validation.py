"""Validation during fit scores what predict returns, and early stopping under a learning-rate warm-up.

The clips here are longer than ``crop_frames`` (80 frames, windows of 32), so
that prediction and validation average windows: with clips no longer than the
window, windowed and whole-clip scoring would be the same and nothing would be
tested. Small synthetic arrays on the CPU.
"""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, PassthroughScoring
from sklearn.metrics import log_loss
from torch.utils.data import Subset

from estimators import MelCNNClassifier

N_FRAMES, WINDOW = 80, 32
FLOOR = -100.0
BASE = dict(
    module__channels=(4, 8), module__convs_per_block=2, max_epochs=4, batch_size=16, device="cpu", random_state=0,
    crop_frames=WINDOW, mixup_alpha=0.0, label_smoothing=0.0, verbose=0,
)


def toy_task(seed=0, n_clips=96):
    """Two classes told apart by which half of 8 mel bands is loud; a third of the clips padded."""
    rng = np.random.default_rng(seed)
    X = rng.normal(-40.0, 5.0, size=(n_clips, 8, N_FRAMES)).astype(np.float32)
    y = np.arange(n_clips) % 2
    lengths = np.where(np.arange(n_clips) % 3 == 0, rng.integers(20, N_FRAMES, size=n_clips), N_FRAMES)
    for clip, label, length in zip(X, y, lengths):
        clip[4 * label : 4 * label + 4, :length] += 6.0  # weak enough that a few epochs do not settle it
        clip[:, length:] = FLOOR
    groups = np.arange(n_clips) % 3
    return X, y, groups


class RecordEvalWidths(Callback):
    """The frame counts of the inputs the module receives in eval mode."""

    def initialize(self):
        self.widths_ = []
        return self

    def on_train_begin(self, net, **kwargs):
        net.module_.register_forward_pre_hook(self._hook)

    def _hook(self, module, args):
        if not module.training:
            self.widths_.append(args[0].shape[-1])


class SpoilFromEpoch(Callback):
    """From ``epoch`` on, the head's outputs are negated and nothing more is learnt (no schedule).

    The later epochs are then worse than the one before ``epoch``, which
    must be the one restored.
    """

    def __init__(self, epoch=4):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.epoch:  # the epoch beginning is already in the history
            with torch.no_grad():
                net.module_.fc.weight.neg_()
                net.module_.fc.bias.neg_()
        if len(net.history) >= self.epoch:
            for group in net.optimizer_.param_groups:
                group["lr"] = 0.0


@pytest.mark.parametrize("normalize", ["global", "per_clip"])
@pytest.mark.parametrize("use_caching", ["auto", False])
def test_valid_loss_and_accuracy_are_those_of_predict_on_the_validation_clips(normalize, use_caching):
    X, y, groups = toy_task()
    clf = MelCNNClassifier(
        **BASE, normalize=normalize, validation_fold=2, use_caching=use_caching,
        callbacks__restore_best=None, callbacks=[("widths", RecordEvalWidths())],
    ).fit(X, y, groups=groups)
    valid = groups == 2
    proba = clf.predict_proba(X[valid])
    last = clf.history[-1]
    # the last epoch's parameters are the fitted ones (nothing restored)
    assert clf.best_epoch_ is None
    assert last["valid_loss"] == pytest.approx(log_loss(y[valid], proba), rel=1e-5)
    assert last["valid_acc"] == np.mean(clf.predict(X[valid]) == y[valid])
    # windows were on: validation (and prediction) fed the module 32-frame windows only
    widths = dict(clf.callbacks_)["widths"].widths_
    assert widths and set(widths) == {WINDOW}
    # and the windows make a difference here: whole clips, which validation
    # scored before, give other probabilities
    assert not np.allclose(proba, _whole_clip_proba(clf, X[valid]), atol=1e-3)


def _whole_clip_proba(clf, X):
    """What the net gives for whole clips: skorch's predict_proba on arrays, without windows."""
    return super(MelCNNClassifier, clf).predict_proba(X)


def test_views_input_validates_on_the_windows_of_view_zero():
    X, y, groups = toy_task()
    views = np.stack([X, X + 30.0], axis=1).astype(np.float16)  # view 1 is far louder
    clf = MelCNNClassifier(
        **BASE, validation_fold=2, original_view_prob=0.5, callbacks__restore_best=None,
    ).fit(views, y, groups=groups)
    valid = groups == 2
    proba = clf.predict_proba(views[valid])
    np.testing.assert_array_equal(proba, clf.predict_proba(views[valid, 0]))
    assert clf.history[-1, "valid_loss"] == pytest.approx(log_loss(y[valid], proba), rel=1e-5)


def test_the_restored_epoch_is_the_best_by_predict_s_log_loss():
    X, y, groups = toy_task()
    clf = MelCNNClassifier(
        **{**BASE, "max_epochs": 5, "lr_schedule": None}, validation_fold=2,
        callbacks=[("spoil", SpoilFromEpoch(epoch=4))],
    ).fit(X, y, groups=groups)
    valid_losses = clf.history[:, "valid_loss"]
    valid = groups == 2
    assert clf.best_epoch_ == int(np.argmin(valid_losses)) + 1 == 3
    assert log_loss(y[valid], clf.predict_proba(X[valid])) == pytest.approx(min(valid_losses), rel=1e-5)
    assert min(valid_losses) < valid_losses[-1] - 0.1


def test_an_explicit_train_split_validates_as_predict_would():
    X, y, _ = toy_task()
    train, valid = np.arange(64), np.arange(64, 96)

    def split(dataset, y=None):
        return Subset(dataset, train), Subset(dataset, valid)

    clf = MelCNNClassifier(**BASE, train_split=split, callbacks__restore_best=None).fit(X, y)
    proba = clf.predict_proba(X[valid])
    assert clf.history[-1, "valid_loss"] == pytest.approx(log_loss(y[valid], proba), rel=1e-5)
    assert clf.history[-1, "valid_acc"] == np.mean(proba.argmax(axis=1) == y[valid])


def test_without_validation_nothing_is_scored():
    X, y, _ = toy_task()
    clf = MelCNNClassifier(**BASE, callbacks=[("widths", RecordEvalWidths())]).fit(X, y)
    assert "valid_loss" not in clf.history[-1] and dict(clf.callbacks_)["widths"].widths_ == []


# ----------------------------------------------------------------------------
# early stopping under a warm-up


class ScriptedValidLoss(PassthroughScoring):
    """Records ``script[epoch - 1]`` as the validation loss: early stopping sees a chosen curve."""

    def __init__(self, script):
        super().__init__(name="valid_loss")
        self.script = script

    def on_epoch_end(self, net, **kwargs):
        score = self.script[len(net.history) - 1]
        net.history.record(self.name, score)
        is_best = self._is_best_score(score)
        net.history.record(self.name + "_best", bool(is_best))
        if is_best:
            self.best_score_ = score


# Rises during the first three epochs (the warm-up of 10 epochs under
# "onecycle" is their first 30%), improves at epoch 4, then never again.
SCRIPT = [1.0, 1.1, 1.2, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0]


@pytest.mark.parametrize(
    "lr_schedule, epochs_run",
    [
        # epochs 1 and 2 end before the peak and do not count: misses at 3, 5, 6
        ("onecycle", 6),
        # the 5% warm-up ends inside epoch 1, and without a schedule every epoch
        # counts: misses at epochs 2 and 3
        ("cosine", 3),
        (None, 3),
    ],
)
def test_early_stopping_does_not_count_the_epochs_of_the_warm_up(lr_schedule, epochs_run):
    X, y, groups = toy_task()
    clf = MelCNNClassifier(
        **{**BASE, "max_epochs": 10}, lr_schedule=lr_schedule, validation_fold=2, early_stopping=2,
        callbacks__valid_loss=ScriptedValidLoss(SCRIPT),
    ).fit(X, y, groups=groups)
    assert len(clf.history) == epochs_run
    assert clf.best_epoch_ == (4 if epochs_run > 3 else 1)


def test_early_stopping_counts_from_the_peak_on():
    """After the warm-up, patience runs as before: a loss that only rises stops two epochs after the peak."""
    X, y, groups = toy_task()
    rising = [1.0 + 0.1 * epoch for epoch in range(10)]
    clf = MelCNNClassifier(
        **{**BASE, "max_epochs": 10}, validation_fold=2, early_stopping=2,
        callbacks__valid_loss=ScriptedValidLoss(rising),
    ).fit(X, y, groups=groups)
    assert len(clf.history) == 4  # epochs 3 and 4 are the two misses that count
    schedule = dict(clf.callbacks_)["lr_schedule"]
    # 64 training clips in batches of 16: 4 steps an epoch, 40 in all, the peak after 11
    assert (schedule.warm_up_steps_, schedule.steps_done_) == (11, 16)
