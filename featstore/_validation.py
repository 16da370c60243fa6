"""Checks of the arguments of featstore's public functions, shared so each rule is written once.

Each check returns the value (as a plain Python type) or raises
:class:`~featstore.exceptions.InvalidParameterError` with a message that names
the parameter, the rule, the value received and what to pass instead.
"""

import numbers

import numpy as np

from .exceptions import InvalidParameterError

__all__ = ["check_bool", "check_n_jobs", "check_positive_int", "check_seed", "is_int"]


def is_int(value) -> bool:
    """True for ints and numpy integers, False for bools (which are ints to Python)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_n_jobs(n_jobs, name: str = "n_jobs") -> int:
    """joblib's convention: -1 for one worker per core, a positive int for that many workers.

    Other negative values keep joblib's meaning (-2: every core but one). 0 asks
    for no worker at all and is an error, the same for every function.
    """
    if not is_int(n_jobs) or n_jobs == 0:
        raise InvalidParameterError(
            f"{name} must be a non-zero int: -1 for one worker per core, or a positive number of "
            f"workers (joblib's convention), got {n_jobs!r}."
        )
    return int(n_jobs)


def effective_n_jobs(n_jobs: int) -> int:
    """A checked ``n_jobs`` as a count: -1 is one per core, -2 all cores but one, and so on."""
    from joblib import cpu_count

    return n_jobs if n_jobs > 0 else max(1, cpu_count() + 1 + n_jobs)


def check_seed(seed, name: str = "seed") -> int:
    if not is_int(seed) or seed < 0:
        raise InvalidParameterError(f"{name} must be a non-negative int, got {seed!r}. Pass e.g. 0.")
    return int(seed)


def check_positive_int(value, name: str) -> int:
    if not is_int(value) or value < 1:
        raise InvalidParameterError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


def check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}.")
    return bool(value)
