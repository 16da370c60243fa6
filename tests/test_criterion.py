"""The criterion: kept as given, refused clearly when a parameter cannot reach it, and class
weights that mean the same with mixup as without. Small synthetic arrays on the CPU."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import log_loss

from estimators import EstimatorParameterError, MelCNN, MelCNNClassifier
from estimators._loss import soft_target_weighted_mean

TINY = dict(module__channels=(4, 8), max_epochs=2, batch_size=16, device="cpu", random_state=0, verbose=0)


def toy_task(seed=0, n_clips=64, n_classes=4):
    """Classes told apart by which pair of 8 mel bands is loud; 24 frames, whole clips."""
    rng = np.random.default_rng(seed)
    X = rng.normal(-40.0, 5.0, size=(n_clips, 8, 24)).astype(np.float32)
    y = np.arange(n_clips) % n_classes
    for clip, label in zip(X, y):
        clip[2 * label : 2 * label + 2] += 20.0
    return X, y


class SoftmaxMelCNN(MelCNN):
    """MelCNN returning probabilities, as skorch's NLLLoss convention wants."""

    def forward(self, x):
        return torch.softmax(super().forward(x), dim=-1)


# ----------------------------------------------------------------------------
# the criterion as given


def test_a_weighted_criterion_instance_is_refused_with_label_smoothing_not_stripped_of_its_weight():
    X, y = toy_task()
    weight = torch.tensor([4.0, 1.0, 1.0, 1.0])
    with pytest.raises(EstimatorParameterError, match=(
        r"^label_smoothing=0\.1 is passed to the criterion as label_smoothing=\.\.\., but criterion is an "
        r"instance of CrossEntropyLoss, which is used as given; set label_smoothing=0 .* or pass the class"
    )):
        MelCNNClassifier(**TINY, criterion=torch.nn.CrossEntropyLoss(weight=weight)).fit(X, y)
    # without label smoothing the instance is the criterion, weight and all
    criterion = torch.nn.CrossEntropyLoss(weight=weight)
    clf = MelCNNClassifier(**TINY, criterion=criterion, label_smoothing=0).fit(X, y)
    assert clf.criterion_ is criterion
    torch.testing.assert_close(clf.criterion_.weight, weight)


def test_nll_loss_is_refused_with_the_recipe_and_trains_without_it():
    X, y = toy_task()
    with pytest.raises(EstimatorParameterError) as info:
        MelCNNClassifier(**TINY, criterion=torch.nn.NLLLoss).fit(X, y)
    lines = str(info.value).splitlines()
    assert lines == [
        "mixup_alpha=0.3 needs a criterion that takes class-probability targets (mixup blends the one-hot "
        "targets), which NLLLoss does not; set mixup_alpha=0 or use criterion=torch.nn.CrossEntropyLoss.",
        "label_smoothing=0.1 needs a criterion that takes label_smoothing, which NLLLoss does not; set "
        "label_smoothing=0 or use criterion=torch.nn.CrossEntropyLoss.",
    ]
    groups = np.arange(len(X)) // 16  # 4 groups of 16 clips, every class in each
    clf = MelCNNClassifier(
        **{**TINY, "max_epochs": 3}, module=SoftmaxMelCNN, criterion=torch.nn.NLLLoss, mixup_alpha=0,
        label_smoothing=0, class_weight="balanced", validation_fold=3, callbacks__restore_best=None,
    ).fit(X, y, groups=groups)
    assert type(clf.criterion_) is torch.nn.NLLLoss
    np.testing.assert_allclose(clf.criterion_.weight.numpy(), clf.class_weight_)
    # validation: the NLL of the probabilities predict gives (the classes are balanced, so
    # the weighted mean is the plain mean)
    valid = groups == 3
    proba = clf.predict_proba(X[valid])
    assert clf.history[-1, "valid_loss"] == pytest.approx(log_loss(y[valid], proba), rel=1e-5)


def test_mixup_is_refused_with_a_criterion_that_takes_class_indices_only():
    X, y = toy_task()
    with pytest.raises(EstimatorParameterError, match=r"^mixup_alpha=0\.2 needs a criterion that takes class-prob"):
        MelCNNClassifier(**TINY, criterion=torch.nn.NLLLoss(), mixup_alpha=0.2, label_smoothing=0).fit(X, y)


def test_label_smoothing_is_passed_only_when_set():
    X, y = toy_task()
    smoothed = MelCNNClassifier(**TINY, label_smoothing=0.2).fit(X, y)
    assert smoothed.criterion_.label_smoothing == pytest.approx(0.2)
    own = MelCNNClassifier(**TINY, label_smoothing=0, criterion__label_smoothing=0.05).fit(X, y)
    assert own.criterion_.label_smoothing == pytest.approx(0.05)
    with pytest.raises(EstimatorParameterError, match="both set label smoothing"):
        MelCNNClassifier(**TINY, criterion__label_smoothing=0.05).fit(X, y)


# ----------------------------------------------------------------------------
# class weights under mixup


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_soft_target_weighted_mean_of_one_hot_targets_is_the_class_index_loss(rng, label_smoothing):
    logits = torch.from_numpy(rng.normal(size=(12, 4))).float()
    y = torch.from_numpy(rng.integers(0, 4, size=12))
    weight = torch.tensor([4.0, 1.0, 0.5, 2.0])
    criterion = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=label_smoothing)
    one_hot = F.one_hot(y, 4).float()
    expected = criterion(logits, y)
    torch.testing.assert_close(soft_target_weighted_mean(criterion(logits, one_hot), one_hot, weight), expected)
    # PyTorch's own mean of the soft targets differs: it divides by the batch size
    assert not torch.allclose(criterion(logits, one_hot), expected)


def test_soft_target_weighted_mean_of_mixed_targets_is_the_weighted_mean_over_the_batch(rng):
    logits = torch.from_numpy(rng.normal(size=(10, 3))).double()
    y = rng.integers(0, 3, size=10)
    partner = rng.permutation(10)
    lam = 0.7
    weight = torch.tensor([3.0, 1.0, 0.25], dtype=torch.float64)
    targets = lam * F.one_hot(torch.from_numpy(y), 3).double() + (1 - lam) * F.one_hot(torch.from_numpy(y[partner]), 3).double()
    criterion = torch.nn.CrossEntropyLoss(weight=weight)
    loss = soft_target_weighted_mean(criterion(logits, targets), targets, weight)
    # written out: each clip's two class terms weighted by their class weights,
    # over the weight of its mixed target, lam * w[y_i] + (1 - lam) * w[y_j]
    log_p = torch.log_softmax(logits, dim=1).numpy()
    w = weight.numpy()
    rows = np.arange(10)
    terms = -(lam * w[y] * log_p[rows, y] + (1 - lam) * w[y[partner]] * log_p[rows, y[partner]])
    weights = lam * w[y] + (1 - lam) * w[y[partner]]
    assert float(loss) == pytest.approx(terms.sum() / weights.sum(), rel=1e-12)


def test_class_weights_under_mixup_weigh_the_batch_as_without_mixup():
    """With mixup_alpha tiny, every lam is 0 or 1: each mixed batch is the batch itself, in another
    order, so its weighted mean loss must equal that of the batch without mixup."""
    X, y = toy_task()
    params = dict(
        **{**TINY, "max_epochs": 1}, module__dropout=0.0, label_smoothing=0.1, crop_frames=None,
        iterator_train__shuffle=False, class_weight={0: 4.0, 1: 1.0, 2: 1.0, 3: 0.5},
    )
    plain = MelCNNClassifier(**params, mixup_alpha=0.0).fit(X, y)
    mixed = MelCNNClassifier(**params, mixup_alpha=1e-3).fit(X, y)
    first_plain = plain.history[0, "batches", 0, "train_loss"]
    first_mixed = mixed.history[0, "batches", 0, "train_loss"]
    assert first_mixed == pytest.approx(first_plain, rel=1e-5)
    # the test can tell: PyTorch alone divides the mixed batch's loss by 16 rather than by its
    # weight, which is far from 16 here
    batch_weight = sum(params["class_weight"][label] for label in y[:16])
    assert abs(batch_weight / 16 - 1) > 0.5
