"""Small stores and model factories for the tests of ``python -m estimators evaluate``.

The stores are built from tiny class-folder trees written here (three classes of
noisy tones, 0.5 s clips): ``ROOT/<fold>/<class>/*.wav``, with numbered folds or
split names. They build in a second and every model fits on them in well under
one, so the evaluation's own machinery is what the tests time.

The factories are reached as ``evaluate_fixtures:NAME`` (the tests put this
folder on ``PYTHONPATH`` for subprocesses).
"""

import os
import signal
import time
from pathlib import Path

import numpy as np
import soundfile as sf

CLASSES = ("hum", "chirp", "buzz")
SAMPLE_RATE = 16000
CLIP_SECONDS = 0.5


def write_class_folders(root, folds, *, clips_per_class=4, seed=0):
    """``root/<fold>/<class>/<name>.wav`` for every fold and class: tones with noise, one pitch band per class."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    t = np.arange(int(SAMPLE_RATE * CLIP_SECONDS)) / SAMPLE_RATE
    for fold in folds:
        for k, name in enumerate(CLASSES):
            folder = root / str(fold) / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(clips_per_class):
                freq = 300.0 * (k + 1) * 2 ** rng.uniform(-0.4, 0.4)
                wave = 0.3 * np.sin(2 * np.pi * freq * t) + rng.normal(0, 0.15, len(t))
                sf.write(folder / f"{name}-{fold}-{i}.wav", wave.astype(np.float32), SAMPLE_RATE)
    return root


def build(root, out):
    """A store of the tree at ``root`` (0.5 s clips), built in this process."""
    from featstore import FeatureConfig, build_store, open_source

    with open_source(str(root)) as source:
        build_store(source, out, n_jobs=1, progress=False, config=FeatureConfig(clip_seconds=CLIP_SECONDS))
    return Path(out)


def tiny_cnn():
    """A MelCNNClassifier small and short enough for tests (one epoch, on the CPU, one thread)."""
    from estimators import MelCNNClassifier

    return MelCNNClassifier(max_epochs=1, module__channels=(4, 8), module__convs_per_block=1, crop_frames=None,
                            batch_size=16, device="cpu", n_threads=1)


def tiny_cnn_two_epochs():
    """As :func:`tiny_cnn`, for two epochs (a validation fold then picks one of them)."""
    return tiny_cnn().set_params(max_epochs=2)


def logreg():
    from estimators import make_mfcc_logreg

    return make_mfcc_logreg()


def not_an_estimator():
    return "a string"


class SlowLogReg:
    """The MFCC logistic regression, fitting for at least ``seconds`` (a fold an interruption can land in).

    With ``signal_on_fit`` it sends that signal to its own process at the start of
    fit number ``on_fit`` (counted per process), as Ctrl-C or ``kill`` would.
    """

    fits = 0

    def __init__(self, seconds=0.0, signal_on_fit=None, on_fit=2):
        self.seconds, self.signal_on_fit, self.on_fit = seconds, signal_on_fit, on_fit

    def get_params(self, deep=True):
        return {"seconds": self.seconds, "signal_on_fit": self.signal_on_fit, "on_fit": self.on_fit}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y):
        type(self).fits += 1
        if self.signal_on_fit is not None and type(self).fits == self.on_fit:
            os.kill(os.getpid(), self.signal_on_fit)
        self.model_ = logreg().fit(X, y)
        self.classes_ = self.model_.classes_
        time.sleep(self.seconds)
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def slow_logreg():
    """:class:`SlowLogReg` taking half a second a fit (``evaluate_fixtures:slow_logreg@mfcc_stats``)."""
    return SlowLogReg(seconds=0.5)


def sigint_on_second_fit():
    return SlowLogReg(signal_on_fit=signal.SIGINT)


def sigterm_on_second_fit():
    return SlowLogReg(signal_on_fit=signal.SIGTERM)
