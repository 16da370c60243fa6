"""Errors raised by estimators. Each also inherits the builtin error it refines."""

__all__ = ["EstimatorsError", "InputDataError", "EstimatorParameterError"]


class EstimatorsError(Exception):
    """Base class of every error the estimators package raises on purpose."""


class InputDataError(EstimatorsError, ValueError):
    """``X``, ``y`` or ``groups`` passed to ``fit`` or ``predict`` are unusable.

    Examples: wrong rank or shape, NaN or inf in ``X``, lengths that do not
    match, a single class in ``y``, a ``validation_fold`` absent from ``groups``.
    """


class EstimatorParameterError(EstimatorsError, ValueError):
    """A hyper-parameter of an estimator has an invalid value or combination.

    Raised at the top of ``fit`` (never in ``__init__`` or ``set_params``);
    all problems found are reported together in one message.
    """
