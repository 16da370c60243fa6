"""Direct tests of estimators._plan: the validation split, class weights and seeds of a fit."""

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from estimators import EstimatorParameterError, InputDataError
from estimators._plan import Seeds, class_weights, draw_seeds, split_by_group, torch_seeded

GROUPS = np.array([3, 1, 2, 3, 1, 2, 3, 1, 2, 4])
Y = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1])


# ----------------------------------------------------------------------------
# split_by_group


@pytest.mark.parametrize(
    "fold, expected",
    [(2, 2), ("last", 4), ("first", 1), (np.int64(3), 3)],
    ids=["fixed", "last", "first", "numpy scalar"],
)
def test_split_holds_out_exactly_the_resolved_group(fold, expected):
    resolved, train, valid = split_by_group(GROUPS, fold, y=Y)
    assert resolved == expected and type(resolved) is int  # a plain Python scalar
    np.testing.assert_array_equal(valid, np.flatnonzero(GROUPS == expected))
    np.testing.assert_array_equal(train, np.flatnonzero(GROUPS != expected))


def test_without_validation_every_clip_trains():
    fold, train, valid = split_by_group(GROUPS, None, y=Y)
    assert fold is None and valid is None
    np.testing.assert_array_equal(train, np.arange(len(Y)))
    # groups are not even needed then
    assert split_by_group(None, None, y=Y)[1].tolist() == list(range(len(Y)))


def test_a_group_named_like_a_keyword_is_that_group():
    groups = np.array(["first", "last", "b", "last", "first", "b"])
    fold, train, valid = split_by_group(groups, "last", y=np.array([0, 1, 1, 0, 0, 1]))
    assert fold == "last"
    assert valid.tolist() == [1, 3] and train.tolist() == [0, 2, 4, 5]


def test_string_groups_and_number_folds_never_compare_elementwise_by_accident():
    groups = np.array(["1", "2", "1", "2"])
    with pytest.raises(InputDataError, match="not present in groups"):
        split_by_group(groups, 1, y=np.array([0, 1, 0, 1]))


@pytest.mark.parametrize(
    "groups, fold, y, match",
    [
        (None, "last", Y, "needs the group of every clip"),
        (np.ones(10, int), "last", Y, "at least 2 groups"),
        (GROUPS, 9, Y, r"validation_fold=9 is not present in groups \(present: \[1, 2, 3, 4\]\)"),
        (np.full(4, 5), 5, Y[:4], "selects every clip"),
        (GROUPS, 4, np.where(GROUPS == 4, 1, 0), "training clips hold a single class"),
    ],
    ids=["no groups", "one group", "absent fold", "every clip", "one class left"],
)
def test_split_refuses_what_cannot_be_trained_and_validated(groups, fold, y, match):
    with pytest.raises(InputDataError, match=match):
        split_by_group(groups, fold, y=y)


@pytest.mark.parametrize("seed", range(5))
def test_split_is_a_partition(seed):
    rng = np.random.default_rng(seed)
    groups = rng.integers(1, 6, size=50)
    y = rng.integers(0, 3, size=50)
    _, train, valid = split_by_group(groups, "last", y=y)
    assert np.intersect1d(train, valid).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, valid])), np.arange(50))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(valid) > 0)  # in the given order


# ----------------------------------------------------------------------------
# class_weights


def test_balanced_weights_equal_scikit_learns(rng):
    classes = np.array(["car_horn", "dog_bark", "siren"])
    y_train = rng.choice(3, size=97, p=[0.1, 0.3, 0.6])
    weights = class_weights("balanced", classes=classes, y_train=y_train)
    assert weights.dtype == np.float32 and weights.shape == (3,)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y_train)
    np.testing.assert_allclose(weights, expected, rtol=1e-6)


def test_dict_weights_follow_the_class_order_and_default_to_one():
    classes = np.array(["a", "b", "c"])
    weights = class_weights({"c": 3, "a": 0.5}, classes=classes, y_train=np.array([0, 1]))
    np.testing.assert_array_equal(weights, np.array([0.5, 1.0, 3.0], dtype=np.float32))
    assert class_weights(None, classes=classes, y_train=np.array([0])) is None


def test_dict_naming_an_unknown_class_is_a_parameter_error():
    with pytest.raises(EstimatorParameterError, match=r"names classes \['siren'\] that are not in y"):
        class_weights({"siren": 2.0}, classes=np.array(["a", "b"]), y_train=np.array([0, 1]))


def test_balanced_needs_every_class_among_the_training_clips():
    with pytest.raises(InputDataError, match=r"\['c'\] only occur in validation_fold=9"):
        class_weights(
            "balanced", classes=np.array(["a", "b", "c"]), y_train=np.array([0, 1, 1]),
            validation_fold=9,
        )


# ----------------------------------------------------------------------------
# draw_seeds, torch_seeded


def test_seeds_are_reproducible_and_differ_between_states():
    assert draw_seeds(None) is None
    first, again, other = draw_seeds(7), draw_seeds(7), draw_seeds(8)
    assert isinstance(first, Seeds) and first == again and first != other
    assert all(isinstance(s, int) and 0 <= s < 2**31 - 1 for s in first)


def test_a_random_state_instance_advances():
    state = np.random.RandomState(0)
    assert draw_seeds(state) == draw_seeds(0)
    assert draw_seeds(state) != draw_seeds(0)


def test_an_offset_gives_every_stream_new_seeds():
    """A later partial_fit must not repeat any stream of an earlier call, dropout's included."""
    calls = [draw_seeds(3, offset=epochs) for epochs in (0, 1, 2, 5)]
    assert calls[0] == draw_seeds(3)  # a first fit keeps the drawn seeds
    assert calls == [draw_seeds(3, offset=epochs) for epochs in (0, 1, 2, 5)]  # reproducible
    seeds = [seed for call in calls for seed in call]
    assert len(set(seeds)) == len(seeds)  # no seed reused, in any role
    assert all(isinstance(s, int) and 0 <= s < 2**31 - 1 for s in seeds)


def test_torch_seeded_seeds_the_block_and_restores_the_global_state():
    before = torch.get_rng_state()
    with torch_seeded(123, "cpu"):
        inside = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)
    with torch_seeded(123, None):
        again = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)
    torch.testing.assert_close(inside, again)
    torch.testing.assert_close(inside, _rand_with_seed(123))  # what manual_seed(123) gives


def _rand_with_seed(seed):
    return torch.rand(3, generator=torch.Generator().manual_seed(seed))
