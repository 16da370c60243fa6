"""Evaluation of estimators on a feature store under a fold protocol, with the error analysis.

``python -m estimators evaluate STORE --model logreg --model boosting`` or, from Python::

    from estimators.evaluation import evaluate

    results = evaluate("urbansound8k.h5", ["logreg", "boosting"], out="evaluation")
    results["logreg"]["test_accuracy"]          # one entry per test fold, as cross_validate gives

- :mod:`.models`: the model names and the feature each reads;
- :mod:`.protocol`: the splits (leave one fold out, one test fold, the notebook's);
- :mod:`.runner`: the loop (in this process, joblib workers or Dask), the results file, resuming;
- :mod:`.report`, :mod:`.metrics`, :mod:`.plots`: the report and what the benchmarks share of it.
"""

from .exceptions import (
    EvaluationError,
    MissingDependencyError,
    MissingFeatureError,
    ModelSpecError,
    ProtocolError,
    ResultsExistError,
    ResultsMismatchError,
)
from .metrics import audit_rows, confused_pairs, scores
from .models import BUILTIN_MODELS, ModelSpec, resolve_model
from .protocol import PROTOCOLS, Split, make_splits
from .report import build_report, write_report
from .runner import evaluate, fit_and_score

__all__ = [
    "BUILTIN_MODELS",
    "EvaluationError",
    "MissingDependencyError",
    "MissingFeatureError",
    "ModelSpec",
    "ModelSpecError",
    "PROTOCOLS",
    "ProtocolError",
    "ResultsExistError",
    "ResultsMismatchError",
    "Split",
    "audit_rows",
    "build_report",
    "confused_pairs",
    "evaluate",
    "fit_and_score",
    "make_splits",
    "resolve_model",
    "scores",
    "write_report",
]
