"""Direct tests of estimators._params: the parameter rules of MelCNNClassifier and their messages."""

import inspect
import re
from numbers import Integral, Real

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from estimators import EstimatorParameterError, MelCNNClassifier
from estimators._params import (
    MEL_CNN_RULES,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    _combination_problems,
    check_parameters,
    describe,
    parameter_problems,
)

# scikit-learn's sentence, which every per-parameter message follows
SENTENCE = re.compile(r"^The '(\w+)' parameter of (\w+) must be (.+)\. Got (.+) instead\.$")

# Parameters checked elsewhere: skorch's own (module, criterion, optimizer) and
# train_split, whose only rules tie them to other parameters.
NOT_IN_THE_TABLE = {"module", "criterion", "optimizer", "train_split"}


def test_every_parameter_of_the_classifier_has_a_rule():
    """A new option of MelCNNClassifier needs its line in MEL_CNN_RULES."""
    own = {
        name for name, p in inspect.signature(MelCNNClassifier.__init__).parameters.items()
        if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
    }
    assert own - NOT_IN_THE_TABLE == set(MEL_CNN_RULES)
    assert MelCNNClassifier._parameter_rules is MEL_CNN_RULES


def test_our_sentence_is_scikit_learns():
    """Pins the form to scikit-learn's current wording, e.g. LogisticRegression(C=-1)."""
    with pytest.raises(ValueError) as info:
        LogisticRegression(C=-1).fit([[0.0], [1.0]], [0, 1])
    assert SENTENCE.match(str(info.value)), str(info.value)


@pytest.mark.parametrize(
    "rule, value, accepted",
    [
        (Interval(Real, 0, None, closed="neither"), 1e-3, True),
        (Interval(Real, 0, None, closed="neither"), 3, True),  # ints are reals
        (Interval(Real, 0, None, closed="neither"), np.float32(0.1), True),
        (Interval(Real, 0, None, closed="neither"), 0, False),
        (Interval(Real, 0, None, closed="neither"), float("nan"), False),
        (Interval(Real, 0, None, closed="neither"), "0.1", False),
        (Interval(Integral, 1, None, closed="left"), 1, True),
        (Interval(Integral, 1, None, closed="left"), np.int64(4), True),
        (Interval(Integral, 1, None, closed="left"), 0, False),
        (Interval(Integral, 1, None, closed="left"), 2.0, False),
        (Interval(Integral, 1, None, closed="left"), True, False),  # never a number
        (Interval(Integral, 0, 5, closed="both"), 5, True),
        (Interval(Integral, 0, 5, closed="left"), 5, False),
        (Interval(Integral, 0, 5, closed="right"), 0, False),
        (Options("global", "per_clip"), "per_clip", True),
        (Options("global", "per_clip"), "Global", False),
        (Options(-1), -1, True),
        (Options(-1), -1.0, True),
        (Options(-1), "-1", False),
        (Options(None), None, True),
        (Options(None), 0, False),
        (Options(1), True, False),
        (InstanceOf((bool, np.bool_), "a bool"), np.bool_(True), True),
        (InstanceOf((bool, np.bool_), "a bool"), 1, False),
        (Satisfies("even", lambda v: v % 2 == 0), 4, True),
        (Satisfies("even", lambda v: v % 2 == 0), 3, False),
    ],
)
def test_rules_accept_exactly_their_values(rule, value, accepted):
    assert rule.accepts(value) is accepted


@pytest.mark.parametrize(
    "rules, words",
    [
        ([Interval(Real, 0, None, closed="neither")], "a float in the range (0, inf)"),
        ([Interval(Integral, 1, None, closed="left"), None], "an int in the range [1, inf) or None"),
        ([Interval(Integral, 0, 9, closed="both")], "an int in the range [0, 9]"),
        ([Interval(Real, None, 1, closed="right")], "a float in the range (-inf, 1]"),
        (
            [Options("global", "per_clip"), None],
            "a str among {'global', 'per_clip'} or None",
        ),
        ([Options("balanced"), InstanceOf(dict, "a dict"), None], "'balanced', a dict or None"),
    ],
)
def test_rules_in_words(rules, words):
    assert describe(rules) == words


def test_invalid_rules_are_refused_when_declared():
    with pytest.raises(ValueError, match="not a valid rule"):
        Interval(float, 0, 1, closed="left")
    with pytest.raises(ValueError, match="not a valid rule"):
        Interval(Real, 0, 1, closed="open")


def test_defaults_and_other_valid_values_pass():
    assert parameter_problems(MelCNNClassifier(), MEL_CNN_RULES) == []
    valid = MelCNNClassifier(
        lr=np.float32(3e-4), max_epochs=np.int64(2), batch_size=-1, device=torch.device("cpu"),
        normalize=None, spec_augment=np.bool_(True), num_time_masks=0, class_weight={3: 0, 1: 2.5},
        validation_fold="fold-9", early_stopping=1, random_state=np.random.RandomState(0),
        n_threads=1, verbose=2,
    )
    assert parameter_problems(valid, MEL_CNN_RULES) == []
    for verbose in ("auto", 0, 1, False, True):
        assert parameter_problems(MelCNNClassifier(verbose=verbose), MEL_CNN_RULES) == []
    for fold in (9, "first", "last", 1.5):
        assert parameter_problems(MelCNNClassifier(validation_fold=fold), MEL_CNN_RULES) == []


# one invalid value per parameter of the table
BAD = {
    "lr": -1,
    "max_epochs": 0,
    "batch_size": 0,
    "device": "tpu9",
    "normalize": "z-score",
    "spec_augment": "yes",
    "time_mask_param": -1,
    "freq_mask_param": 2.5,
    "num_time_masks": None,
    "num_freq_masks": -3,
    "class_weight": {0: -1.0},
    "validation_fold": "Last ",
    "early_stopping": 0,
    "random_state": -1,
    "n_threads": 0,
    "original_view_prob": 1.5,
    "crop_frames": 0,
    "mixup_alpha": -0.2,
    "label_smoothing": 1.0,
    "lr_schedule": "step",
    "verbose": "loud",
}


def test_the_bad_values_cover_the_table():
    assert set(BAD) == set(MEL_CNN_RULES)


@pytest.mark.parametrize("param", sorted(BAD))
def test_each_broken_rule_is_one_sentence_of_the_same_form(param):
    problems = parameter_problems(MelCNNClassifier(**{param: BAD[param]}), MEL_CNN_RULES)
    assert len(problems) == 1
    match = SENTENCE.match(problems[0])
    assert match, problems[0]
    assert match.group(1) == param and match.group(2) == "MelCNNClassifier"
    assert match.group(3) == describe(MEL_CNN_RULES[param])
    assert match.group(4) == repr(BAD[param])


def test_lr_message_reads_as_scikit_learn_would_write_it():
    (problem,) = parameter_problems(MelCNNClassifier(lr=-1), MEL_CNN_RULES)
    assert problem == (
        "The 'lr' parameter of MelCNNClassifier must be a float in the range (0, inf). "
        "Got -1 instead."
    )


def test_every_problem_is_collected_into_one_error():
    clf = MelCNNClassifier(**BAD)
    with pytest.raises(EstimatorParameterError) as info:
        check_parameters(clf, MEL_CNN_RULES, reset=True)
    lines = str(info.value).splitlines()
    assert [SENTENCE.match(line).group(1) for line in lines[: len(BAD)]] == list(MEL_CNN_RULES)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"validation_fold": 2, "train_split": lambda ds, y: (ds, ds)}, "both define a validation set"),
        ({"early_stopping": 3}, "needs validation data"),
        ({"iterator_valid__collate_fn": list}, "iterator_valid__collate_fn cannot be set"),
        ({"class_weight": "balanced", "criterion": torch.nn.CrossEntropyLoss(), "label_smoothing": 0},
         r"class_weight='balanced' is passed to the criterion as weight=\.\.\., but criterion is an instance of "
         r"CrossEntropyLoss, which is used as given; set class_weight=None"),
        ({"class_weight": "balanced", "criterion__weight": torch.ones(2)}, "both set class weights"),
        ({"lrr": 0.1}, r"unexpected argument\(s\) lrr"),
    ],
    ids=["fold and split", "stopping without validation", "collate_fn", "criterion instance",
         "two weights", "skorch misspelling"],
)
def test_combination_rules_join_the_same_error(params, match):
    clf = MelCNNClassifier(lr=-1, **params)
    with pytest.raises(EstimatorParameterError, match=match) as info:
        check_parameters(clf, MEL_CNN_RULES, reset=True)
    assert str(info.value).startswith("The 'lr' parameter")  # reported together


def test_class_weight_rules_about_the_criterion_apply_only_when_initialising():
    clf = MelCNNClassifier(class_weight="balanced", criterion__weight=torch.ones(2))
    check_parameters(clf, MEL_CNN_RULES, reset=False)  # warm start keeps the fitted criterion


def test_skorch_check_leaves_the_net_as_it_was():
    clf = MelCNNClassifier(module__channels=(4,))
    before = dict(vars(clf))
    check_parameters(clf, MEL_CNN_RULES, reset=True)
    assert vars(clf) == before


class NoWeightLoss(torch.nn.Module):
    """A criterion class that takes neither ``weight`` nor ``label_smoothing``."""

    def forward(self, logits, target):
        return torch.nn.functional.cross_entropy(logits, target)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"criterion": torch.nn.NLLLoss}, [
            "mixup_alpha=0.3 needs a criterion that takes class-probability targets (mixup blends the one-hot "
            "targets), which NLLLoss does not; set mixup_alpha=0 or use criterion=torch.nn.CrossEntropyLoss.",
            "label_smoothing=0.1 needs a criterion that takes label_smoothing, which NLLLoss does not; set "
            "label_smoothing=0 or use criterion=torch.nn.CrossEntropyLoss.",
        ]),
        ({"criterion": torch.nn.NLLLoss, "mixup_alpha": 0, "label_smoothing": 0.0}, []),
        ({"criterion": torch.nn.NLLLoss, "mixup_alpha": 0, "label_smoothing": 0, "class_weight": "balanced"}, []),
        ({"criterion": torch.nn.CrossEntropyLoss(weight=torch.ones(3))}, [
            "label_smoothing=0.1 is passed to the criterion as label_smoothing=..., but criterion is an instance "
            "of CrossEntropyLoss, which is used as given; set label_smoothing=0 (and give the instance its own "
            "label_smoothing) or pass the class, e.g. criterion=torch.nn.CrossEntropyLoss.",
        ]),
        ({"criterion": torch.nn.CrossEntropyLoss(weight=torch.ones(3)), "label_smoothing": 0}, []),
        ({"criterion": NoWeightLoss, "mixup_alpha": 0, "label_smoothing": 0, "class_weight": {0: 2.0}}, [
            "class_weight={0: 2.0} needs a criterion that takes weight, which NoWeightLoss does not; set "
            "class_weight=None or use criterion=torch.nn.CrossEntropyLoss.",
        ]),
        ({"criterion__label_smoothing": 0.2}, [
            "label_smoothing=0.1 and criterion__label_smoothing=0.2 both set label smoothing; use one "
            "(label_smoothing=0 leaves it to criterion__label_smoothing).",
        ]),
        ({"criterion__label_smoothing": 0.2, "label_smoothing": 0}, []),
    ],
    ids=["NLLLoss with the recipe", "NLLLoss plain", "NLLLoss weighted", "instance with smoothing",
         "instance plain", "class without weight", "two smoothings", "criterion's own smoothing"],
)
def test_criterion_rules_say_which_parameter_cannot_reach_the_criterion(params, expected):
    problems = _combination_problems(MelCNNClassifier(**params), reset=True)
    assert problems == expected


def test_mixup_rule_holds_in_every_fit_while_the_criterion_rules_hold_when_initialising():
    clf = MelCNNClassifier(criterion=torch.nn.NLLLoss)
    assert _combination_problems(clf, reset=False) == [_combination_problems(clf, reset=True)[0]]
    assert "mixup_alpha=0.3" in _combination_problems(clf, reset=False)[0]
