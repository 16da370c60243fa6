"""What one fit decides before training: the validation split by group, class weights and seeds.

Pure functions of the (already checked) parameters and data; ``MelCNNClassifier``
calls them at the top of ``fit`` and keeps the outcome in a :class:`FitPlan`
for the duration of that call. :func:`torch_seeded` applies the seeds.
"""

import contextlib
import dataclasses
from typing import NamedTuple

import numpy as np
import torch
from sklearn.utils import check_random_state

from .exceptions import EstimatorParameterError, InputDataError

__all__ = [
    "FitPlan", "Seeds", "VALIDATION_KEYWORDS", "class_weights", "draw_seeds", "split_by_group",
    "torch_seeded",
]

VALIDATION_KEYWORDS = ("first", "last")


@dataclasses.dataclass(frozen=True)
class FitPlan:
    """What one call of ``fit``/``partial_fit`` decided; lives only during that call."""

    train_index: np.ndarray
    valid_index: np.ndarray | None
    shuffle_seed: int | None = None
    augment_seed: int | None = None


class Seeds(NamedTuple):
    """Seeds of one fit: weight initialisation and dropout (torch's global RNG), batch order
    (and the seeds of the loader's workers), augmentation (views, windows, mixup, masks)."""

    init: int
    shuffle: int
    augment: int


def split_by_group(groups, validation_fold, *, y):
    """Resolve ``validation_fold`` against ``groups`` and split the clips.

    Parameters
    ----------
    groups : numpy.ndarray of shape (n_clips,) or None
        Group of every clip (e.g. UrbanSound8K fold).
    validation_fold : {"first", "last"}, scalar or None
        The group to validate on; ``"last"`` / ``"first"`` is the largest /
        smallest group present (unless a group has that very name).
    y : numpy.ndarray of shape (n_clips,)
        Class labels; the training part must keep at least 2 classes.

    Returns
    -------
    fold : object or None
        The group validated on, as a Python scalar; None without validation.
    train_index : numpy.ndarray of int
    valid_index : numpy.ndarray of int or None
        None without validation.

    Raises
    ------
    InputDataError
        No groups, fewer than 2 groups for ``"first"``/``"last"``, a fold that
        is absent, one that selects every clip, or a single class left to
        train on.
    """
    fold = validation_fold
    if fold is None:
        return None, np.arange(len(y)), None
    if groups is None:
        raise InputDataError(
            f"validation_fold={fold!r} needs the group of every clip: call "
            "fit(X, y, groups=groups) or route groups with "
            "set_fit_request(groups=True)."
        )
    present = np.unique(groups)
    if isinstance(fold, str) and fold in VALIDATION_KEYWORDS and fold not in present.tolist():
        if len(present) < 2:
            raise InputDataError(
                f"validation_fold={fold!r} needs at least 2 groups (one to "
                f"validate on, the rest to train on); groups holds only "
                f"{present.tolist()!r}."
            )
        fold = present[-1] if fold == "last" else present[0]
    # element by element: no numpy str-vs-number comparison pitfalls
    is_valid = np.array([group == fold for group in groups.tolist()], dtype=bool)
    if not is_valid.any():
        raise InputDataError(
            f"validation_fold={fold!r} is not present in groups (present: "
            f"{present.tolist()!r}). Inside an outer cross-validation over "
            "groups use validation_fold='last' or 'first', which picks one of "
            "the training groups of each split."
        )
    if is_valid.all():
        raise InputDataError(
            f"validation_fold={fold!r} selects every clip, leaving none to "
            "train on; pass clips from more than one group."
        )
    fold = fold.item() if isinstance(fold, np.generic) else fold
    if len(np.unique(y[~is_valid])) < 2:
        raise InputDataError(
            f"Once validation_fold={fold!r} is set aside, the training "
            f"clips hold a single class; at least 2 are needed."
        )
    return fold, np.flatnonzero(~is_valid), np.flatnonzero(is_valid)


def class_weights(class_weight, *, classes, y_train, validation_fold=None):
    """Per-class loss weights, in the order of ``classes``.

    Parameters
    ----------
    class_weight : {"balanced"}, dict or None
        ``"balanced"``: ``n_train / (n_classes * count)`` per class; a dict
        maps labels to weights (missing labels weigh 1).
    classes : numpy.ndarray of shape (n_classes,)
        All class labels, sorted (a ``LabelEncoder``'s ``classes_``).
    y_train : numpy.ndarray of int of shape (n_train,)
        Encoded labels (0..n_classes-1) of the training clips only.
    validation_fold : object, default=None
        Named in the error when a class is missing from the training clips.

    Returns
    -------
    numpy.ndarray of float32 of shape (n_classes,) or None
        None when ``class_weight`` is None.

    Raises
    ------
    EstimatorParameterError
        The dict names a class that is not in ``classes``.
    InputDataError
        ``"balanced"`` while a class has no training clip.
    """
    if class_weight is None:
        return None
    labels = classes.tolist()
    if isinstance(class_weight, dict):
        unknown = [c for c in class_weight if c not in set(labels)]
        if unknown:
            raise EstimatorParameterError(
                f"class_weight names classes {unknown!r} that are not in y "
                f"(classes: {labels!r})."
            )
        return np.array([float(class_weight.get(c, 1.0)) for c in labels], dtype=np.float32)
    counts = np.bincount(y_train, minlength=len(labels))
    if np.any(counts == 0):
        missing = classes[counts == 0].tolist()
        raise InputDataError(
            f"class_weight='balanced' needs every class among the training "
            f"clips, but {missing!r} only occur in validation_fold="
            f"{validation_fold!r}; choose another validation fold."
        )
    return (len(y_train) / (len(labels) * counts)).astype(np.float32)


def draw_seeds(random_state, *, offset=0):
    """The seeds of one fit, drawn from ``random_state``.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState or None
        A RandomState is advanced by the draw.
    offset : int, default=0
        The number of epochs the net has already trained (a later
        ``partial_fit``, or ``fit`` with ``warm_start``). Above 0, all three
        seeds are derived from the drawn ones and ``offset``, so that every
        such call draws new streams (dropout included) instead of repeating
        those of the call before; 0 gives the drawn seeds themselves.

    Returns
    -------
    Seeds or None
        None when ``random_state`` is None (nothing is seeded).
    """
    if random_state is None:
        return None
    drawn = check_random_state(random_state).randint(0, 2**31 - 1, size=3)
    if offset:
        # numpy's SeedSequence: well-separated streams for each (seed, offset)
        drawn = [np.random.SeedSequence([int(seed), int(offset)]).generate_state(1)[0] % (2**31 - 1) for seed in drawn]
    return Seeds(*(int(seed) for seed in drawn))


@contextlib.contextmanager
def torch_seeded(seed, device):
    """Seed torch's global RNG for the block, then restore its state.

    Parameters
    ----------
    seed : int
        :attr:`Seeds.init`: weight initialisation and dropout.
    device : str or None
        The device of the fit; on cuda, that device's RNG is forked too.
    """
    devices = []
    if device is not None and torch.device(device).type == "cuda":
        index = torch.device(device).index
        devices = [index if index is not None else 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
