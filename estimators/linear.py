"""The MFCC-statistics baseline: standardisation + logistic regression."""

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["make_mfcc_logreg"]


def make_mfcc_logreg(*, max_iter=2000, **logreg_params):
    """Build the reference notebook's baseline for the 40 MFCC statistics.

    ``Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(...))])``
    for ``X`` of shape ``(n_clips, 40)`` (mean and std over time of 20 MFCCs,
    ``FeatureStore.load("mfcc_stats")``). Tune it with pipeline parameters,
    e.g. ``GridSearchCV(make_mfcc_logreg(), {"clf__C": [0.1, 1, 10]})``.

    Parameters
    ----------
    max_iter : int, default=2000
        Iterations of the lbfgs solver (the notebook's value; sklearn's
        default of 100 does not converge on unscaled-looking MFCC statistics).
    **logreg_params
        Further :class:`~sklearn.linear_model.LogisticRegression` parameters,
        e.g. ``C=0.5``, ``class_weight="balanced"``, ``random_state=0``.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted, with steps ``"scaler"`` and ``"clf"``.
    """
    return Pipeline(
        [
            ("scaler", StandardScaler()),
            ("clf", LogisticRegression(max_iter=max_iter, **logreg_params)),
        ]
    )
