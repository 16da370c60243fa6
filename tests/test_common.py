"""scikit-learn's common estimator checks on our estimators.

``make_mfcc_logreg()`` is an ordinary scikit-learn pipeline. ``MelCNNClassifier``
takes spectrograms ``(n_clips, n_mels, n_frames)``, but scikit-learn's checks
only generate 2-D ``(n_samples, n_features)`` data. Reading a feature row as a
``1 x n_features`` "spectrogram" would be meaningless (and too small to pool),
so the classifier rejects 2-D input with an ``InputDataError`` that points to
``make_mfcc_logreg``; every check that fits or predicts on 2-D data is listed
below as an expected failure, with its reason. The API checks that need no
data (cloning, repr, tags, default construction, unfitted errors, ...) run
and must pass. tests/test_estimators.py::test_sklearn_conventions_on_spectrograms
and its neighbours check the same conventions on 3-D input.
"""

import warnings

import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator, parametrize_with_checks

from estimators import MelCNNClassifier, make_mfcc_logreg

_TWO_D = (
    "scikit-learn feeds 2-D (n_samples, n_features) data; MelCNNClassifier only "
    "accepts spectrograms (n_clips, n_mels, n_frames) and rejects 2-D input"
)

CNN_EXPECTED_FAILURES = {
    # inherent to skorch's NeuralNet, not to 2-D data
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_"
    ),
    "check_set_params": (
        "skorch's set_params initialises callbacks on the spot and its get_params "
        "exposes the private _params_to_validate, so fuzz values such as -inf raise "
        "TypeError inside set_params"
    ),
    # every check below fits or predicts on 2-D data
    "check_fit_score_takes_y": _TWO_D,
    "check_estimators_overwrite_params": _TWO_D,
    "check_dont_overwrite_parameters": _TWO_D,
    "check_estimators_fit_returns_self": _TWO_D,
    "check_readonly_memmap_input": _TWO_D,
    "check_n_features_in_after_fitting": _TWO_D,
    "check_positive_only_tag_during_fit": _TWO_D,
    "check_estimators_dtypes": _TWO_D,
    "check_dtype_object": _TWO_D + " (object arrays of numbers are accepted)",
    "check_estimators_empty_data_messages": (
        _TWO_D + "; the (12, 0) case gets the 2-D message, not sklearn's '0 feature(s)'"
    ),
    "check_pipeline_consistency": _TWO_D,
    "check_estimators_nan_inf": _TWO_D + " before looking for NaN/inf",
    "check_estimators_pickle": _TWO_D,
    "check_f_contiguous_array_estimator": _TWO_D,
    "check_classifier_data_not_an_array": _TWO_D,
    "check_classifiers_one_label": _TWO_D + " before looking at the labels",
    "check_classifiers_one_label_sample_weights": _TWO_D + "; sample_weight is not supported",
    "check_classifiers_classes": _TWO_D,
    "check_estimators_partial_fit_n_features": _TWO_D,
    "check_classifiers_train": _TWO_D,
    "check_classifiers_regression_target": _TWO_D + " before looking at the labels",
    "check_supervised_y_2d": _TWO_D,
    "check_class_weight_classifiers": _TWO_D,
    "check_methods_sample_order_invariance": _TWO_D,
    "check_methods_subset_invariance": _TWO_D,
    "check_fit2d_1sample": _TWO_D,
    "check_fit2d_1feature": _TWO_D,
    "check_dict_unchanged": _TWO_D,
    "check_fit_idempotent": _TWO_D,
    "check_fit_check_is_fitted": _TWO_D,
    "check_n_features_in": _TWO_D,
    "check_fit2d_predict1d": _TWO_D,
    "check_requires_y_none": _TWO_D + " before looking at y",
}

LOGREG_EXPECTED_FAILURES = {
    # scikit-learn lists the same two as expected failures for every Pipeline
    # (sklearn/utils/_test_common/instance_generator.py).
    "check_dont_overwrite_parameters": (
        "Pipeline fits the estimators held in its `steps` parameter in place "
        "(known scikit-learn limitation)"
    ),
    "check_estimators_overwrite_params": (
        "Pipeline fits the estimators held in its `steps` parameter in place "
        "(known scikit-learn limitation)"
    ),
}


def _expected_failures(estimator):
    if isinstance(estimator, MelCNNClassifier):
        return CNN_EXPECTED_FAILURES
    return LOGREG_EXPECTED_FAILURES


def _cnn():
    # one quick epoch of a one-block net: no check should reach training anyway
    return MelCNNClassifier(max_epochs=1, module__channels=(4,), random_state=0, device="cpu")


@parametrize_with_checks([_cnn(), make_mfcc_logreg()], expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _two_d_expected_failures():
    for estimator, check in estimator_checks_generator(_cnn(), mark=None):
        name = getattr(check, "func", check).__name__
        if CNN_EXPECTED_FAILURES.get(name, "").startswith(_TWO_D):
            keywords = getattr(check, "keywords", {})
            suffix = "".join(f"-{k}={v}" for k, v in keywords.items() if k != "name")
            yield pytest.param(estimator, check, id=name + suffix)


def _exception_chain(exc):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


@pytest.mark.parametrize("estimator, check", list(_two_d_expected_failures()))
def test_cnn_expected_failures_fail_for_the_stated_reason(estimator, check):
    """Each 2-D expected failure above fails on the 2-D rejection, not on a bug."""
    with pytest.raises(Exception) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check(estimator)
    messages = [str(exc) for exc in _exception_chain(info.value)]
    assert any("got a 2-D array" in message for message in messages), messages
