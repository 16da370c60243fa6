"""The estimators on a feature store built from the synthetic source, as users run them."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, LeaveOneGroupOut, cross_val_score

from estimators import MelCNNClassifier, make_mfcc_logreg
from featstore import FeatureStore, build_store, make_synthetic_dataset, open_source


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory):
    root = make_synthetic_dataset(tmp_path_factory.mktemp("synthetic") / "UrbanSound8K", n_clips=400, seed=0, progress=False)
    out = tmp_path_factory.mktemp("store") / "synthetic.h5"
    build_store(open_source(root), out, n_jobs=2, progress=False)
    return FeatureStore(out)


def _cpu_cnn(**params):
    # the default network, on the CPU on every machine: nothing here is about the device
    return MelCNNClassifier(random_state=0, device="cpu", **params)


def test_notebook_protocol_learns_well_above_chance(synthetic_store):
    """Train on folds 1-8, select on fold 9, test on fold 10, as in the reference notebook."""
    X, y, groups, _ = synthetic_store.load("logmel", folds=range(1, 10))
    X_test, y_test, _, _ = synthetic_store.load("logmel", folds=[10])
    cnn = _cpu_cnn(max_epochs=12, validation_fold=9).fit(X, y, groups=groups)
    cnn_accuracy = cnn.score(X_test, y_test)

    S, s_y, s_groups, _ = synthetic_store.load("mfcc_stats", folds=range(1, 9))
    S_test, s_y_test, _, _ = synthetic_store.load("mfcc_stats", folds=[10])
    logreg_accuracy = make_mfcc_logreg().fit(S, s_y).score(S_test, s_y_test)

    # 10 classes, ~40 test clips: chance is 10% (about 4 right); 35% is 5 standard
    # deviations above what guessing gives.
    assert len(y_test) >= 35
    assert cnn_accuracy > 0.35, cnn_accuracy
    assert logreg_accuracy > 0.35, logreg_accuracy
    assert cnn.validation_fold_ == 9


def test_official_protocol_cross_val_score(synthetic_store):
    X, y, groups, _ = synthetic_store.load("mfcc_stats")
    scores = cross_val_score(make_mfcc_logreg(), X, y, groups=groups, cv=LeaveOneGroupOut())
    assert len(scores) == 10 and scores.mean() > 0.35

    X, y, groups, _ = synthetic_store.load("logmel", folds=[1, 2, 3])
    cnn = _cpu_cnn(max_epochs=1, validation_fold="last")
    scores = cross_val_score(cnn, X, y, groups=groups, cv=LeaveOneGroupOut(), params={"groups": groups})
    # each score is, to the bit, the accuracy on its fold of the CNN fitted on the two other
    # folds, validating on the later of them: the groups reached every fit
    expected = []
    for fold in (1, 2, 3):
        test = groups == fold
        fitted = clone(cnn).fit(X[~test], y[~test], groups=groups[~test])
        assert fitted.validation_fold_ == max({1, 2, 3} - {fold})
        expected.append(np.mean(fitted.predict(X[test]) == y[test]))
    np.testing.assert_array_equal(scores, expected)


def test_grid_search_with_two_workers(synthetic_store):
    X, y, groups, _ = synthetic_store.load("logmel", folds=[1, 2, 3, 4])
    with sklearn.config_context(enable_metadata_routing=True):
        cnn = _cpu_cnn(max_epochs=1, validation_fold="last").set_fit_request(groups=True)
        search = GridSearchCV(
            cnn, {"lr": [1e-3, 3e-3], "spec_augment": [False, True]}, cv=GroupKFold(2), n_jobs=2,
        )
        search.fit(X, y, groups=groups)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X[:3]).shape == (3,)
