"""Estimators for environmental sound classification on UrbanSound8K-style features.

- :class:`MelCNNClassifier`: skorch/scikit-learn classifier for log-mel
  spectrograms ``(n_clips, n_mels, n_frames)``, built on :class:`MelCNN`;
  :func:`make_notebook_cnn` sets it up as the reference notebook's baseline.
- :func:`make_mfcc_logreg`: scaler + logistic regression for the 40 MFCC
  statistics ``(n_clips, 40)``.
- :func:`make_stats_boosting`: gradient-boosted trees for the 160 MFCC and
  delta statistics ``(n_clips, 160)``, the stronger classical baseline.
- :func:`spec_augment`: the time/frequency masking used for training.
"""

from .augment import spec_augment
from .boosting import make_stats_boosting
from .callbacks import RestoreBestParams
from .cnn import MelCNNClassifier
from .exceptions import EstimatorParameterError, EstimatorsError, InputDataError
from .linear import make_mfcc_logreg
from .modules import MelCNN
from .presets import NOTEBOOK_MODULE_PARAMS, NOTEBOOK_PARAMS, make_notebook_cnn

__all__ = [
    "EstimatorParameterError",
    "EstimatorsError",
    "InputDataError",
    "MelCNN",
    "MelCNNClassifier",
    "NOTEBOOK_MODULE_PARAMS",
    "NOTEBOOK_PARAMS",
    "RestoreBestParams",
    "make_mfcc_logreg",
    "make_notebook_cnn",
    "make_stats_boosting",
    "spec_augment",
]
