"""Errors of ``python -m estimators evaluate``. Each also inherits the builtin error it refines."""

from ..exceptions import EstimatorsError

__all__ = ["EvaluationError", "MissingDependencyError", "MissingFeatureError", "ModelSpecError", "ProtocolError", "ResultsExistError",
           "ResultsMismatchError"]


class EvaluationError(EstimatorsError):
    """Base class of every error an evaluation raises on purpose."""


class ModelSpecError(EvaluationError, ValueError):
    """A model name is unknown, or a ``module:callable`` cannot be imported or gives no usable estimator."""


class ProtocolError(EvaluationError, ValueError):
    """A fold the protocol asks for is not in the store, or the store has too few folds for it."""


class ResultsExistError(EvaluationError, FileExistsError):
    """The output folder holds another run's results and neither resuming nor overwriting was asked for."""


class ResultsMismatchError(EvaluationError, ValueError):
    """``--resume`` found results of another store, model list, protocol or seed; or a damaged results file."""


class MissingDependencyError(EvaluationError, ImportError):
    """An optional dependency (matplotlib, for the report's figures) is not installed."""


class MissingFeatureError(EvaluationError, ValueError):
    """The store lacks the feature a model reads (a store built by an earlier featstore)."""
