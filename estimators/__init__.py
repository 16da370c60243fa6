"""Estimators for environmental sound classification on log-mel and MFCC features of a feature store.

- :class:`MelCNNClassifier`: skorch/scikit-learn classifier for log-mel
  spectrograms ``(n_clips, n_mels, n_frames)``, built on :class:`MelCNN`;
  :func:`make_notebook_cnn` sets it up as the reference notebook's baseline.
- :func:`make_mfcc_logreg`: scaler + logistic regression for the 40 MFCC
  statistics ``(n_clips, 40)``.
- :func:`make_stats_boosting`: gradient-boosted trees for the 160 MFCC and
  delta statistics ``(n_clips, 160)``, the stronger classical baseline.
- :func:`spec_augment`: the time/frequency masking used for training.
- :func:`evaluate`: a fold protocol on a store, with the error analysis
  (``python -m estimators evaluate``).

The public names are imported when first used (PEP 562), so that ``python -m
estimators`` can take over SIGINT and SIGTERM before torch is imported.
"""

import importlib

from .exceptions import EstimatorParameterError, EstimatorsError, InputDataError

# Public name -> the module that defines it.
_LAZY = {
    "MelCNN": "modules",
    "MelCNNClassifier": "cnn",
    "NOTEBOOK_MODULE_PARAMS": "presets",
    "NOTEBOOK_PARAMS": "presets",
    "RestoreBestParams": "callbacks",
    "evaluate": "evaluation",
    "make_mfcc_logreg": "linear",
    "make_notebook_cnn": "presets",
    "make_stats_boosting": "boosting",
    "spec_augment": "augment",
}

__all__ = sorted(["EstimatorParameterError", "EstimatorsError", "InputDataError", *_LAZY])


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
