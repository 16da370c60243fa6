"""Checks of the data passed to ``fit`` / ``predict``; each failure is an ``InputDataError``."""

import numpy as np
from scipy import sparse
from sklearn.utils.multiclass import check_classification_targets

from .exceptions import InputDataError

__all__ = ["check_spectrograms", "check_targets", "check_groups", "encode_labels"]

_SHAPE_HELP = "(n_clips, n_mels, n_frames) or (n_clips, n_views, n_mels, n_frames)"
_FINITE_CHUNK = 256  # clips per chunk when scanning for NaN/inf


def check_spectrograms(X, *, estimator_name, min_size=1, n_mels=None):
    """Validate a batch of log-mel spectrograms and return it as float32.

    Parameters
    ----------
    X : array-like of shape (n_clips, n_mels, n_frames) or (n_clips, n_views, n_mels, n_frames)
        Spectrograms; any real dtype. float16 stays float16 (views of a whole
        dataset are kept that way to halve their memory; batches are cast
        later), anything else is cast to float32, which MPS also needs.
    estimator_name : str
        Used in error messages.
    min_size : int, default=1
        Smallest number of mel bands and of frames accepted.
    n_mels : int or None, default=None
        If given, the number of mel bands the estimator was fitted with.

    Returns
    -------
    numpy.ndarray of dtype float32 or float16, same shape as ``X``
        ``X`` itself when it already is a float32 or float16 array (no copy).

    Raises
    ------
    InputDataError
        Wrong rank or shape, sparse or non-numeric input, no clips, too few
        mel bands or frames, a different number of mel bands than in ``fit``,
        or NaN/inf values.
    """
    if X is None:
        raise InputDataError(
            f"{estimator_name} requires X of shape {_SHAPE_HELP}; got None."
        )
    if sparse.issparse(X):
        raise InputDataError(
            f"{estimator_name} requires dense spectrograms of shape {_SHAPE_HELP}; "
            "got a sparse matrix. Convert it with X.toarray() (and reshape)."
        )
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise InputDataError(
            f"Complex data not supported; {estimator_name} needs real log-mel "
            "values in dB (take 10 * log10(abs(S) ** 2) first)."
        )
    if X.dtype.kind == "O":  # e.g. a list of per-clip arrays: numbers are fine
        try:
            X = X.astype(np.float32)
        except (TypeError, ValueError):
            pass
    if X.dtype.kind not in "biuf":
        raise InputDataError(
            f"{estimator_name} requires real numeric spectrograms; got an array of "
            f"dtype {X.dtype}. Pass float32 log-mel values in dB."
        )
    if X.ndim == 4 and X.shape[1] == 0:
        raise InputDataError(
            f"{estimator_name} got clips with no view: X has shape {X.shape}; expected "
            f"{_SHAPE_HELP} with n_views >= 1 (view 0 the original clip)."
        )
    if X.ndim not in (3, 4):
        hint = (
            " 2-D input looks like tabular features; for 40 MFCC statistics use "
            "make_mfcc_logreg()."
            if X.ndim == 2
            else ""
        )
        raise InputDataError(
            f"{estimator_name} expects spectrograms of shape {_SHAPE_HELP}; got a "
            f"{X.ndim}-D array of shape {X.shape}.{hint}"
        )
    if X.shape[0] == 0:
        raise InputDataError(
            f"{estimator_name} got no clips: X has shape {X.shape}; expected "
            f"{_SHAPE_HELP} with n_clips >= 1."
        )
    mels, frames = X.shape[-2], X.shape[-1]
    if mels < min_size or frames < min_size:
        raise InputDataError(
            f"{estimator_name} needs at least {min_size} mel bands and {min_size} "
            f"frames per clip (the network pools them); got X of shape {X.shape}."
        )
    if n_mels is not None and mels != n_mels:
        raise InputDataError(
            f"X has {mels} mel bands per clip but {estimator_name} was fitted on "
            f"{n_mels}; expected shape (n_clips, {n_mels}, n_frames)."
        )
    if X.dtype not in (np.float32, np.float16):
        X = X.astype(np.float32)
    _check_finite(X, estimator_name)
    return X


def _check_finite(X, estimator_name):
    for start in range(0, X.shape[0], _FINITE_CHUNK):
        chunk = X[start : start + _FINITE_CHUNK]
        finite = np.isfinite(chunk).reshape(len(chunk), -1).all(axis=1)
        if not finite.all():
            bad = start + int(np.flatnonzero(~finite)[0])
            raise InputDataError(
                f"X contains NaN or infinity (first in clip {bad}); {estimator_name} "
                "needs finite log-mel values. Clip or floor silent frames (e.g. "
                "with a top_db) before fitting."
            )


def check_targets(y, *, n_samples, estimator_name, min_classes=2):
    """Validate class labels ``y`` for ``n_samples`` clips.

    Parameters
    ----------
    y : array-like of shape (n_clips,)
        Class labels (ints or strings).
    n_samples : int
        Number of clips in ``X``.
    estimator_name : str
        Used in error messages.
    min_classes : int, default=2
        Fewest distinct labels accepted (1 for later ``partial_fit`` batches).

    Returns
    -------
    numpy.ndarray of shape (n_clips,)

    Raises
    ------
    InputDataError
        ``y`` missing, not 1-D, of another length than ``X``, not class
        labels (e.g. continuous), or holding a single class.
    """
    if y is None:
        raise InputDataError(
            f"{estimator_name} requires y to be passed, but the target y is None; "
            "pass class labels of shape (n_clips,)."
        )
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise InputDataError(
            f"y must be 1-D class labels of shape (n_clips,); got shape {y.shape}."
        )
    if len(y) != n_samples:
        raise InputDataError(
            f"X and y have different lengths: X has {n_samples} clips, y has "
            f"{len(y)} labels; expected y of shape ({n_samples},)."
        )
    try:
        check_classification_targets(y)
    except ValueError as exc:
        raise InputDataError(
            f"y must hold class labels (ints or strings); {exc}"
        ) from exc
    classes = np.unique(y)
    if len(classes) < min_classes:
        raise InputDataError(
            f"y holds a single class ({classes[0]!r}); {estimator_name} needs at "
            "least 2 classes to learn from."
        )
    return y


def check_groups(groups, *, n_samples):
    """Validate per-clip group labels (e.g. UrbanSound8K fold numbers).

    Parameters
    ----------
    groups : array-like of shape (n_clips,) or None
    n_samples : int
        Number of clips in ``X``.

    Returns
    -------
    numpy.ndarray of shape (n_clips,) or None

    Raises
    ------
    InputDataError
        If ``groups`` is not 1-D or has another length than ``X``.
    """
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n_samples:
        raise InputDataError(
            f"groups must have one value per clip, shape ({n_samples},); got shape "
            f"{groups.shape}."
        )
    return groups


def encode_labels(y, encoder):
    """Class labels ``y`` as the int64 codes of a fitted ``LabelEncoder``.

    Parameters
    ----------
    y : numpy.ndarray of shape (n_clips,)
    encoder : sklearn.preprocessing.LabelEncoder
        Fitted on the known classes.

    Returns
    -------
    numpy.ndarray of int64 of shape (n_clips,)

    Raises
    ------
    InputDataError
        If ``y`` holds labels that are not among ``encoder.classes_``.
    """
    unknown = np.setdiff1d(np.unique(y), encoder.classes_)
    if unknown.size:
        raise InputDataError(
            f"y contains labels {unknown.tolist()!r} that are not among the known "
            f"classes {encoder.classes_.tolist()!r}."
        )
    return encoder.transform(y).astype(np.int64)
