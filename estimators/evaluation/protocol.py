"""The train/validation/test splits of an evaluation, from the folds a store holds.

Three protocols, on any store (folds numbered 1, 2, ... or named "train",
"validation", "test"):

``"folds"``
    Leave one fold out: every fold is the test fold once, the models trained
    on all the others (UrbanSound8K's official 10-fold protocol on its store).
``"test-fold"``
    Train on every fold but one, test on that one (default: the last fold).
``"notebook"``
    The reference notebook's: train on the folds but V and K, validate on V,
    test on K (default: V the second-to-last fold, K the last; on UrbanSound8K
    folds 9 and 10). An estimator with a ``validation_fold`` parameter (the
    CNN) is fitted on the training folds and V with ``validation_fold=V``, so
    it keeps its best epoch on V; the others are fitted on the training folds
    only, and V is not used.
"""

import dataclasses

from .exceptions import ProtocolError

__all__ = ["PROTOCOLS", "Split", "make_splits", "match_fold"]

PROTOCOLS = ("folds", "test-fold", "notebook")


@dataclasses.dataclass(frozen=True)
class Split:
    """One train/test split: the folds to train on, the fold to validate on (or None), the fold to test on."""

    test_fold: object
    train_folds: tuple
    validation_fold: object = None

    def to_json(self) -> dict:
        return {"test_fold": self.test_fold, "train_folds": list(self.train_folds),
                "validation_fold": self.validation_fold}


def match_fold(text, folds, *, flag="fold", store="the store"):
    """The fold of ``folds`` that ``text`` names (``"3"`` or ``3`` -> 3, ``"test"`` -> ``"test"``).

    Raises
    ------
    ProtocolError
        If no fold of the store has that name.
    """
    by_name = {str(fold): fold for fold in folds}
    if str(text) not in by_name:
        raise ProtocolError(f"{flag} {text} is not a fold of {store}; it holds folds {', '.join(map(str, folds))}")
    return by_name[str(text)]


def make_splits(folds, *, protocol=None, test_fold=None, validation_fold=None, store="the store") -> tuple:
    """The protocol's name and its splits over ``folds`` (a store's folds, in order).

    Parameters
    ----------
    folds : sequence
        The store's folds (``FeatureStore.folds``).
    protocol : {"folds", "test-fold", "notebook"} or None, default=None
        None: ``"notebook"`` if ``validation_fold`` is given, else
        ``"test-fold"`` if ``test_fold`` is, else ``"folds"``.
    test_fold, validation_fold : int, str or None
        A fold of the store, by value or name (``"3"`` finds fold 3).
    store : str
        How to name the store in errors.

    Returns
    -------
    (str, list of Split)

    Raises
    ------
    ProtocolError
        For a fold the store lacks, a fold given to a protocol that takes none,
        the same fold to validate and test, or a store with too few folds.
    """
    folds = tuple(folds)
    if protocol is None:
        protocol = "notebook" if validation_fold is not None else "test-fold" if test_fold is not None else "folds"
    if protocol not in PROTOCOLS:
        raise ProtocolError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    listed = ", ".join(map(str, folds))
    needed = {"folds": 2, "test-fold": 2, "notebook": 3}[protocol]
    if len(folds) < needed:
        raise ProtocolError(f"the {protocol} protocol needs at least {needed} folds; {store} holds "
                            f"{len(folds)} ({listed or 'none'})")
    if protocol == "folds":
        if test_fold is not None or validation_fold is not None:
            raise ProtocolError("the folds protocol tests every fold in turn and validates on none: leave out "
                                "--test-fold and --validation-fold, or choose --protocol test-fold or notebook")
        return protocol, [Split(k, tuple(f for f in folds if f != k)) for k in folds]
    test = folds[-1] if test_fold is None else match_fold(test_fold, folds, flag="test fold", store=store)
    if protocol == "test-fold":
        if validation_fold is not None:
            raise ProtocolError("the test-fold protocol validates on no fold: choose --protocol notebook to "
                                "validate on one")
        return protocol, [Split(test, tuple(f for f in folds if f != test))]
    if validation_fold is None:
        validation = [f for f in folds if f != test][-1]
    else:
        validation = match_fold(validation_fold, folds, flag="validation fold", store=store)
    if validation == test:
        raise ProtocolError(f"fold {test} cannot be both the validation and the test fold; choose two folds")
    return protocol, [Split(test, tuple(f for f in folds if f not in (test, validation)), validation)]


def describe(protocol: str, splits) -> str:
    """One sentence saying what the splits are, for the report."""
    def listed(folds):
        return ", ".join(map(str, folds))

    if protocol == "folds":
        return (f"leave one fold out over folds {listed(s.test_fold for s in splits)}: each fold is tested once "
                f"by models trained on all the others")
    split = splits[0]
    if protocol == "test-fold":
        return f"train on folds {listed(split.train_folds)}, test on fold {split.test_fold}"
    return (f"train on folds {listed(split.train_folds)}, validate on fold {split.validation_fold} (estimators "
            f"with a validation_fold, the CNNs, keep their best epoch there; the others train on the training "
            f"folds only), test on fold {split.test_fold}")
