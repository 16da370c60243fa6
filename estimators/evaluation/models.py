"""The models ``evaluate`` knows by name, and which feature of the store each one reads.

=================  ==============================  ====================
name               estimator                       feature of the store
=================  ==============================  ====================
``cnn``            ``MelCNNClassifier()``          ``logmel``
``notebook-cnn``   ``make_notebook_cnn()``         ``logmel``
``logreg``         ``make_mfcc_logreg()``          ``mfcc_stats``
``boosting``       ``make_stats_boosting()``       ``mfcc_delta_stats``
=================  ==============================  ====================

Any other estimator comes as ``module:callable``: the callable is called with
no arguments and returns an unfitted classifier (``fit`` and
``predict_proba``). It reads ``logmel`` when it is a
:class:`~estimators.MelCNNClassifier` (or a pipeline ending in one); any
other needs its feature named after an ``@``:
``mypackage.models:make_svm@mfcc_delta_stats``.

Every estimator gets the run's seed in each of its ``random_state``
parameters (nested ones too, e.g. ``clf__random_state`` of a pipeline), the
same for every fold.
"""

import copy
import dataclasses
import importlib

from featstore.store import FEATURES

from .exceptions import ModelSpecError

__all__ = ["BUILTIN_MODELS", "ModelSpec", "resolve_model", "resolve_models"]


def _cnn():
    from ..cnn import MelCNNClassifier

    return MelCNNClassifier()


def _notebook_cnn():
    from ..presets import make_notebook_cnn

    return make_notebook_cnn()


def _logreg():
    from ..linear import make_mfcc_logreg

    return make_mfcc_logreg()


def _boosting():
    from ..boosting import make_stats_boosting

    return make_stats_boosting()


# name -> (factory, feature, what the factory is, for the report)
BUILTIN_MODELS = {
    "cnn": (_cnn, "logmel", "MelCNNClassifier()"),
    "notebook-cnn": (_notebook_cnn, "logmel", "make_notebook_cnn()"),
    "logreg": (_logreg, "mfcc_stats", "make_mfcc_logreg()"),
    "boosting": (_boosting, "mfcc_delta_stats", "make_stats_boosting()"),
}
KNOWN = f"{', '.join(BUILTIN_MODELS)}, or module:callable[@feature]"


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A model to evaluate: its name, the feature it reads, and its unfitted, seeded estimator.

    Attributes
    ----------
    name : str
        As given (``"logreg"``, ``"pkg.mod:make@mfcc_stats"``); names its results.
    feature : str
        The store feature ``fit`` and ``predict_proba`` receive.
    estimator : object
        The prototype; every fold fits a clone of it.
    description : str
        What it is, for the report (``"make_mfcc_logreg()"``).
    """

    name: str
    feature: str
    estimator: object
    description: str

    @property
    def uses_validation_fold(self) -> bool:
        """Whether the estimator takes a ``validation_fold`` (and ``groups`` in ``fit``), as the CNN does."""
        return "validation_fold" in _params(self.estimator)


def _params(estimator) -> dict:
    get_params = getattr(estimator, "get_params", None)
    return get_params(deep=True) if callable(get_params) else {}


def _is_mel_cnn(estimator) -> bool:
    from ..cnn import MelCNNClassifier

    steps = getattr(estimator, "steps", None)
    if steps:  # a pipeline: its final step decides
        estimator = steps[-1][1]
    return isinstance(estimator, MelCNNClassifier)


def _import_callable(name: str, target: str):
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ModelSpecError(f"model {name!r} is not known; known models: {KNOWN}")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelSpecError(
            f"model {name!r}: cannot import module {module_name!r} ({exc}); is it installed or on PYTHONPATH?"
        ) from None
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ModelSpecError(f"model {name!r}: module {module_name!r} has no {attribute!r}") from None
    if not callable(obj):
        raise ModelSpecError(f"model {name!r}: {target} is a {type(obj).__name__}, not a callable")
    return obj


def seeded(estimator, seed):
    """``estimator`` with every ``random_state`` parameter (nested ones too) set to ``seed``; unchanged if none."""
    keys = [k for k in _params(estimator) if k == "random_state" or k.endswith("__random_state")]
    if keys:
        estimator.set_params(**dict.fromkeys(keys, seed))
    return estimator


def resolve_model(name: str, *, seed=0) -> ModelSpec:
    """The :class:`ModelSpec` of a model name (see the module docstring).

    Parameters
    ----------
    name : str
        ``"cnn"``, ``"notebook-cnn"``, ``"logreg"``, ``"boosting"`` or
        ``"module:callable[@feature]"``.
    seed : int or None, default=0
        Put in every ``random_state`` of the estimator.

    Raises
    ------
    ModelSpecError
        For an unknown name, a callable that cannot be imported or does not
        return a classifier, an unknown feature, or an estimator whose feature
        cannot be guessed.
    """
    if name in BUILTIN_MODELS:
        factory, feature, description = BUILTIN_MODELS[name]
        return ModelSpec(name, feature, seeded(factory(), seed), description)
    if ":" not in name:
        raise ModelSpecError(f"unknown model {name!r}; known models: {KNOWN}")
    target, _, feature = name.partition("@")
    if feature and feature not in FEATURES:
        raise ModelSpecError(f"model {name!r} asks for feature {feature!r}; a store holds {', '.join(FEATURES)}")
    estimator = _import_callable(name, target)()
    if not (callable(getattr(estimator, "fit", None)) and callable(getattr(estimator, "predict_proba", None))):
        raise ModelSpecError(
            f"model {name!r}: {target}() returned a {type(estimator).__name__}, not a classifier with fit and "
            f"predict_proba"
        )
    if not feature:
        if not _is_mel_cnn(estimator):
            raise ModelSpecError(
                f"model {name!r} returns a {type(estimator).__name__}: say which store feature it reads, e.g. "
                f"{target}@mfcc_stats (one of {', '.join(FEATURES)}; only a MelCNNClassifier reads logmel by itself)"
            )
        feature = "logmel"
    return ModelSpec(name, feature, seeded(estimator, seed), f"{target}()")


def resolve_models(names, *, seed=0) -> list:
    """:func:`resolve_model` of each name; a name given twice is an error."""
    names = list(names)
    if not names:
        raise ModelSpecError(f"no model to evaluate; give at least one of {KNOWN}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ModelSpecError(f"model {repeated[0]!r} is given twice; give each model once")
    return [resolve_model(name, seed=seed) for name in names]


def fresh_estimator(spec: ModelSpec):
    """An unfitted copy of the spec's estimator (``sklearn.base.clone``, else a deep copy)."""
    from sklearn.base import clone

    try:
        return clone(spec.estimator)
    except TypeError:  # not a scikit-learn estimator (no get_params)
        return copy.deepcopy(spec.estimator)
