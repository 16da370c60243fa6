"""What a fit shows: a progress bar by default in the main thread of the main process, nothing
in joblib's workers, threads or Dask workers, skorch's table with verbose=1, nothing with 0."""

import threading
from unittest import mock

import joblib
import numpy as np
import pytest

from estimators import MelCNNClassifier
from estimators.callbacks import progress_is_shown

TINY = dict(module__channels=(4, 8), max_epochs=3, batch_size=16, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(-50, 10, size=(48, 8, 12)).astype(np.float32)
    return X, np.arange(48) % 2, np.arange(48) % 3


def test_the_default_is_a_bar_over_the_epochs_on_stderr(data, capsys):
    X, y, groups = data
    clf = MelCNNClassifier(**TINY, validation_fold=2).fit(X, y, groups=groups)
    assert clf.verbose == "auto"
    out, err = capsys.readouterr()
    assert out == ""
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("MelCNNClassifier: 100%") and "3/3" in final, err
    for key in ("train_loss=", "valid_loss=", "valid_acc="):
        assert key in final, final


def test_verbose_one_is_skorchs_table_and_zero_is_silence(data, capsys):
    X, y, _ = data
    MelCNNClassifier(**TINY, verbose=1).fit(X, y)
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split() == ["epoch", "train_loss", "dur"] and len(out.splitlines()) == 2 + 3
    assert err == ""
    MelCNNClassifier(**TINY, verbose=0).fit(X, y)
    assert capsys.readouterr() == ("", "")


def test_early_stopping_under_auto_prints_nothing_but_the_bar(data, capsys):
    X, y, groups = data
    clf = MelCNNClassifier(
        **{**TINY, "max_epochs": 30}, validation_fold=2, early_stopping=1, lr_schedule=None,
    ).fit(X, y, groups=groups)
    assert len(clf.history) < 30  # it did stop early
    out, err = capsys.readouterr()
    assert out == "" and "Stopping" not in err


def test_no_bar_in_another_thread(data, capsys):
    X, y, _ = data
    errors = []

    def fit():
        try:
            MelCNNClassifier(**TINY).fit(X, y)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    thread = threading.Thread(target=fit)
    thread.start()
    thread.join(120)
    assert not errors, errors
    assert capsys.readouterr() == ("", "")


def test_where_the_bar_is_shown():
    assert progress_is_shown()  # pytest's main thread in the main process
    # joblib's worker processes: a child process is never the main one. Forked here, as a
    # fresh loky worker (cross_val_score and GridSearchCV with n_jobs) would spend half a
    # minute importing torch on one core; a loky worker has a parent process all the same.
    with joblib.parallel_config(backend="multiprocessing"):
        assert joblib.Parallel(n_jobs=2)(joblib.delayed(progress_is_shown)() for _ in range(2)) == [False, False]
    # joblib's threads
    with joblib.parallel_config(backend="threading"):
        assert joblib.Parallel(n_jobs=2)(joblib.delayed(progress_is_shown)() for _ in range(2)) == [False, False]
    # a task of a Dask worker (which runs in a worker thread anyway)
    with mock.patch("estimators.callbacks._current_dask_worker", return_value=object()):
        assert not progress_is_shown()
