"""What an error analysis computes from predictions: scores, confused pairs, the clips to listen to.

Pure functions of arrays; the evaluation report (:mod:`.report`) and the
benchmark scripts (``benchmarks/report.py``, ``bench_accuracy.py``) share them.
"""

import numpy as np

__all__ = ["audit_rows", "confident_mistakes", "confused_pairs", "mean_std", "scores"]


def scores(y_true, y_pred, class_names) -> dict:
    """Accuracy, macro-F1 and scikit-learn's per-class report of some predictions.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (n_clips,)
        Class indices into ``class_names``.
    class_names : sequence of str
        Every class, whether or not it occurs in ``y_true``: the macro-F1
        averages over all of them (a class never predicted nor present scores 0).

    Returns
    -------
    dict
        ``accuracy`` and ``macro_f1`` (floats) and ``per_class``, the dict of
        :func:`sklearn.metrics.classification_report` keyed by class name.
    """
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    labels = list(range(len(class_names)))
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": classification_report(y_true, y_pred, labels=labels, target_names=list(class_names),
                                           output_dict=True, zero_division=0),
    }


def confused_pairs(cm, class_names, top=10) -> list:
    """Off-diagonal cells of a confusion matrix, largest first.

    Parameters
    ----------
    cm : ndarray of int, shape (n_classes, n_classes)
        Rows are true classes, columns predicted ones.
    class_names : sequence of str
    top : int, default=10
        How many pairs to keep.

    Returns
    -------
    list of dict
        ``{"true", "pred", "count"}``, by count then by names.
    """
    pairs = [
        {"true": class_names[i], "pred": class_names[j], "count": int(cm[i, j])}
        for i in range(cm.shape[0]) for j in range(cm.shape[1]) if i != j and cm[i, j] > 0
    ]
    return sorted(pairs, key=lambda p: (-p["count"], p["true"], p["pred"]))[:top]


def audit_rows(index, y_true, proba, class_names, *, files, folds, topk=3) -> list:
    """One row per clip to listen to: its file, fold, true and predicted class, confidence and top-k.

    Parameters
    ----------
    index : sequence of int
        The clips (rows of ``y_true``, ``proba``, ``files`` and ``folds``) to describe, in order.
    y_true : array-like of int, shape (n_clips,)
    proba : ndarray of float, shape (n_clips, n_classes)
        Columns in ``class_names`` order.
    class_names : sequence of str
    files, folds : sequence, shape (n_clips,)
        Each clip's file (the store's path column) and fold.
    topk : int, default=3

    Returns
    -------
    list of dict
        ``{"file", "fold", "true", "pred", "confidence", "top_3"}``; ``top_3``
        reads ``"dog_bark: 0.61, siren: 0.20, ..."``.
    """
    rows = []
    for i in index:
        p = np.asarray(proba[i])
        top = np.argsort(-p, kind="stable")[:topk]
        fold = folds[i]
        rows.append({
            "file": str(files[i]),
            "fold": fold.item() if isinstance(fold, np.generic) else fold,
            "true": class_names[int(y_true[i])],
            "pred": class_names[int(p.argmax())],
            "confidence": float(p.max()),
            "top_3": ", ".join(f"{class_names[k]}: {p[k]:.2f}" for k in top),
        })
    return rows


def confident_mistakes(y_true, proba, n) -> np.ndarray:
    """The ``n`` wrongly predicted clips with the highest confidence, most confident first (indices)."""
    proba = np.asarray(proba)
    wrong = np.flatnonzero(proba.argmax(1) != np.asarray(y_true))
    return wrong[np.argsort(-proba.max(1)[wrong], kind="stable")][:n]


def mean_std(values) -> tuple:
    """Mean and standard deviation (``ddof=0``, as ``cross_val_score(...).std()``) of per-fold figures."""
    values = np.asarray(values, dtype=float)
    if not len(values):
        return float("nan"), float("nan")
    return float(values.mean()), float(values.std())
