"""``MelCNNClassifier``'s hyper-parameter rules, declared once, and the check that reports every broken one.

:data:`MEL_CNN_RULES` lists, per parameter, the rules a valid value satisfies
(any one of them), in the manner of scikit-learn's ``_parameter_constraints``;
a new option is one more line there. :func:`parameter_problems` words each
parameter that satisfies none as scikit-learn does: "The 'lr' parameter of
MelCNNClassifier must be a float in the range (0, inf). Got -1 instead."
:func:`check_parameters` adds the rules that tie parameters together and
skorch's own argument check, and raises one :class:`EstimatorParameterError`
with every problem found.
"""

import inspect
from numbers import Integral, Real

import numpy as np
import torch
from skorch import NeuralNet

from ._device import resolve_device
from ._plan import VALIDATION_KEYWORDS
from .callbacks import LR_SCHEDULES
from .exceptions import EstimatorParameterError

__all__ = [
    "Interval", "Options", "InstanceOf", "Satisfies", "MASK_PARAMS", "MEL_CNN_RULES", "accepts_argument",
    "check_module_n_classes", "check_parameters", "describe", "parameter_problems",
    "takes_probability_targets",
]

MASK_PARAMS = ("time_mask_param", "freq_mask_param", "num_time_masks", "num_freq_masks")


class Interval:
    """A number of ``kind`` (``Integral`` or ``Real``) between ``low`` and ``high``.

    ``None`` bounds are infinite; ``closed`` is ``"left"``, ``"right"``,
    ``"both"`` or ``"neither"``. Booleans are never numbers here.
    """

    def __init__(self, kind, low, high, *, closed):
        if kind not in (Integral, Real) or closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"Interval({kind!r}, closed={closed!r}) is not a valid rule.")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.kind):
            return False
        if self.low is not None:
            if not (value >= self.low if self.closed in ("left", "both") else value > self.low):
                return False
        if self.high is not None:
            if not (value <= self.high if self.closed in ("right", "both") else value < self.high):
                return False
        return bool(value == value)  # NaN is in no interval

    def __str__(self):
        kind = "an int" if self.kind is Integral else "a float"
        left = "[" if self.closed in ("left", "both") and self.low is not None else "("
        right = "]" if self.closed in ("right", "both") and self.high is not None else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        return f"{kind} in the range {left}{low}, {high}{right}"


class Options:
    """One of the given values: strings compare as strings, numbers as numbers (never bools)."""

    def __init__(self, *values):
        self.values = values

    def accepts(self, value):
        return any(bool(_equal(value, option)) for option in self.values)

    def __str__(self):
        if len(self.values) > 1 and all(isinstance(v, str) for v in self.values):
            return "a str among {" + ", ".join(repr(v) for v in self.values) + "}"
        return ", ".join(repr(v) for v in self.values)


class InstanceOf:
    """An instance of ``types``, described as ``description`` (e.g. "a bool")."""

    def __init__(self, types, description):
        self.types, self.description = types, description

    def accepts(self, value):
        return isinstance(value, self.types)

    def __str__(self):
        return self.description


class Satisfies:
    """Any value for which ``predicate(value)`` is true, described as ``description``."""

    def __init__(self, description, predicate):
        self.description, self.predicate = description, predicate

    def accepts(self, value):
        return bool(self.predicate(value))

    def __str__(self):
        return self.description


def _equal(value, option):
    if option is None:
        return value is None
    if isinstance(option, str):
        return isinstance(value, str) and value == option
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and value == option


def _rule(rule):
    return Options(None) if rule is None else rule


def _is_weight_dict(value):
    return isinstance(value, dict) and all(
        isinstance(w, Real) and not isinstance(w, (bool, np.bool_)) and w >= 0 for w in value.values()
    )


def _is_group_value(value):
    """Any value may name a group; only likely typos of the keywords are refused."""
    return not (isinstance(value, str) and value.strip().lower() in VALIDATION_KEYWORDS)


def _is_available_device(value):
    try:
        resolve_device(value)
    except ValueError:
        return False
    return True


# What each parameter of MelCNNClassifier accepts: any one of its rules (None: the value None).
MEL_CNN_RULES = {
    "lr": [Interval(Real, 0, None, closed="neither")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left"), Options(-1)],
    "device": [
        Options("auto"),
        Satisfies("a torch device available on this machine (e.g. 'cpu')", _is_available_device),
        None,
    ],
    "normalize": [Options("global", "per_clip"), None],
    "original_view_prob": [Interval(Real, 0, 1, closed="both"), None],
    "crop_frames": [Interval(Integral, 1, None, closed="left"), None],
    "mixup_alpha": [Interval(Real, 0, None, closed="left")],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "lr_schedule": [Options(*LR_SCHEDULES), None],
    "spec_augment": [InstanceOf((bool, np.bool_), "a bool")],
    **{name: [Interval(Integral, 0, None, closed="left")] for name in MASK_PARAMS},
    "class_weight": [Options("balanced"), Satisfies("a dict {label: weight >= 0}", _is_weight_dict), None],
    "validation_fold": [Options(*VALIDATION_KEYWORDS), Satisfies("a group value", _is_group_value), None],
    "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
    "random_state": [
        Interval(Integral, 0, 2**32 - 1, closed="both"),
        InstanceOf(np.random.RandomState, "a numpy RandomState"),
        None,
    ],
    "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    "verbose": [
        Options("auto"), Interval(Integral, 0, None, closed="left"), InstanceOf((bool, np.bool_), "a bool"),
    ],
}


def describe(rules):
    """The rules in words, scikit-learn style: "an int in the range [1, inf) or None"."""
    texts = [str(_rule(rule)) for rule in rules]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]


def parameter_problems(estimator, rules):
    """One message per parameter of ``estimator`` whose value breaks all its rules.

    Parameters
    ----------
    estimator : object
        Read with ``getattr(estimator, name)``.
    rules : dict of str to list
        Parameter name -> rules (:class:`Interval`, :class:`Options`,
        :class:`InstanceOf`, :class:`Satisfies` or None for ``None``); a value
        is valid when any rule accepts it.

    Returns
    -------
    list of str
        "The 'lr' parameter of MelCNNClassifier must be a float in the range
        (0, inf). Got -1 instead.", in the order of ``rules``.
    """
    name = type(estimator).__name__
    problems = []
    for param, param_rules in rules.items():
        value = getattr(estimator, param)
        if not any(_rule(rule).accepts(value) for rule in param_rules):
            problems.append(
                f"The {param!r} parameter of {name} must be {describe(param_rules)}. "
                f"Got {value!r} instead."
            )
    return problems


def check_parameters(net, rules, *, reset):
    """Raise one :class:`EstimatorParameterError` listing every parameter problem of ``net``.

    Parameters
    ----------
    net : MelCNNClassifier
    rules : dict
        As for :func:`parameter_problems` (``net._parameter_rules``).
    reset : bool
        Whether this fit initialises the net (the rules about what
        ``class_weight`` and ``label_smoothing`` pass to the criterion apply
        only then: a warm start keeps the fitted criterion).
    """
    problems = parameter_problems(net, rules) + _combination_problems(net, reset=reset)
    problems += skorch_argument_problems(net)
    if problems:
        raise EstimatorParameterError("\n".join(problems))


def check_module_n_classes(net, n_classes):
    """Refuse a ``module__n_classes`` other than the ``n_classes`` found in ``y``."""
    requested = net.get_params_for("module").get("n_classes")
    if requested is not None and requested != n_classes:
        raise EstimatorParameterError(
            f"module__n_classes={requested!r} does not match the {n_classes} "
            "classes in y; leave module__n_classes unset, it is set from y."
        )


def accepts_argument(cls, name):
    """Whether ``cls``, a class, takes the keyword argument ``name`` (False for an instance).

    ``**kwargs`` counts as taking it, except ``torch.nn.Module``'s own, which a
    subclass without an ``__init__`` inherits and which refuses every keyword.
    """
    if not isinstance(cls, type) or cls.__init__ is torch.nn.Module.__init__:
        return False
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


def takes_probability_targets(criterion):
    """Whether ``criterion`` (a class or an instance) takes class-probability targets, as mixup gives."""
    loss = torch.nn.CrossEntropyLoss
    return isinstance(criterion, loss) or (isinstance(criterion, type) and issubclass(criterion, loss))


def _name(criterion):
    return criterion.__name__ if isinstance(criterion, type) else f"an instance of {type(criterion).__name__}"


def _criterion_problem(param, value, keyword, criterion, switch_off):
    """Why ``param=value`` cannot reach ``criterion`` through its ``keyword`` argument, or None."""
    if not isinstance(criterion, type):
        return (
            f"{param}={value!r} is passed to the criterion as {keyword}=..., but criterion is "
            f"{_name(criterion)}, which is used as given; set {switch_off} (and give the instance "
            f"its own {keyword}) or pass the class, e.g. criterion=torch.nn.CrossEntropyLoss."
        )
    if not accepts_argument(criterion, keyword):
        return (
            f"{param}={value!r} needs a criterion that takes {keyword}, which {_name(criterion)} "
            f"does not; set {switch_off} or use criterion=torch.nn.CrossEntropyLoss."
        )
    return None


def _combination_problems(net, *, reset):
    """The rules that tie parameters together, in words."""
    problems = []
    if net.validation_fold is not None and net.train_split is not None:
        problems.append(
            "validation_fold and train_split both define a validation set; set "
            "train_split=None (the default) to use validation_fold."
        )
    if net.early_stopping is not None and net.validation_fold is None and net.train_split is None:
        problems.append(
            f"early_stopping={net.early_stopping!r} needs validation data; set "
            "validation_fold (e.g. 'last') or leave early_stopping=None."
        )
    for prefix in ("iterator_train", "iterator_valid"):
        if "collate_fn" in net.get_params_for(prefix):
            problems.append(
                f"{prefix}__collate_fn cannot be set: {type(net).__name__} collates "
                "batches itself (normalisation, augmentation)."
            )
    criterion, criterion_params = net.criterion, net.get_params_for("criterion")
    # mixup blends the targets of every training batch, so it needs a criterion
    # that takes class probabilities in every fit, not only the first
    if _is_positive(net.mixup_alpha) and not takes_probability_targets(criterion):
        problems.append(
            f"mixup_alpha={net.mixup_alpha!r} needs a criterion that takes class-probability "
            f"targets (mixup blends the one-hot targets), which {_name(criterion)} does not; "
            "set mixup_alpha=0 or use criterion=torch.nn.CrossEntropyLoss."
        )
    if not reset:  # the fitted criterion is kept: the rules below are about making it
        return problems
    if _is_positive(net.label_smoothing):
        problem = _criterion_problem(
            "label_smoothing", net.label_smoothing, "label_smoothing", criterion, "label_smoothing=0"
        )
        if problem is None and "label_smoothing" in criterion_params:
            problem = (
                f"label_smoothing={net.label_smoothing!r} and criterion__label_smoothing="
                f"{criterion_params['label_smoothing']!r} both set label smoothing; use one "
                "(label_smoothing=0 leaves it to criterion__label_smoothing)."
            )
        if problem is not None:
            problems.append(problem)
    if net.class_weight is not None:
        problem = _criterion_problem("class_weight", net.class_weight, "weight", criterion, "class_weight=None")
        if problem is None and "weight" in criterion_params:
            problem = "class_weight and criterion__weight both set class weights; use one."
        if problem is not None:
            problems.append(problem)
    return problems


def _is_positive(value):
    """Whether a (possibly invalid) parameter value is a number above 0; invalid values are reported on their own."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and value > 0


def skorch_argument_problems(net):
    """skorch's check for misspelt keyword arguments, run before initialisation.

    skorch registers the ``module``/``criterion``/``optimizer`` prefixes only
    while initialising; they are declared for the duration of the check.

    Returns
    -------
    list of str
        skorch's message, or nothing.
    """
    saved = net.__dict__.get("prefixes_", _MISSING)
    prefixes = list(net.prefixes_)
    prefixes += [p for p in ("module", "criterion", "optimizer") if p not in prefixes]
    net.__dict__["prefixes_"] = prefixes
    try:
        NeuralNet._validate_params(net)
    except ValueError as exc:
        return [str(exc)]
    finally:
        if saved is _MISSING:
            del net.__dict__["prefixes_"]
        else:
            net.__dict__["prefixes_"] = saved
    return []


_MISSING = object()
