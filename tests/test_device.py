"""Tests of estimators._device.AutoDeviceMixin: ``device="auto"`` stays the parameter, in every thread.

skorch reads ``net.device`` wherever it moves tensors, so inside a call the
calling thread must see the resolved ``device_``; everyone else must keep
seeing the parameter as set. The nets here are fitted with ``device="auto"``
under ``auto_resolves_to_cpu`` (conftest.py), so "auto" resolves to "cpu" on every
machine and the tests hold where a GPU is present too.
"""

import pickle
import threading

import numpy as np
import pytest
from sklearn.base import clone
from skorch.callbacks import Callback

from estimators import MelCNNClassifier
from estimators._device import AutoDeviceMixin

TINY = dict(module__channels=(4, 8), max_epochs=1, batch_size=16, random_state=0)
WAIT = 60  # seconds before a stuck thread fails the test instead of hanging it


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(-50, 10, size=(48, 8, 12)).astype(np.float32)
    y = np.arange(48) % 3
    return X, y


@pytest.fixture(scope="module")
def auto_net(data, auto_resolves_to_cpu):
    """A net fitted with device="auto" (resolved to "cpu"); read-only for the tests."""
    with auto_resolves_to_cpu():
        return MelCNNClassifier(**TINY).fit(*data)


class RecordDevice(Callback):
    """What the fitting thread reads as ``net.device``, and what is stored, at every batch."""

    def initialize(self):
        self.seen_ = []
        return self

    def on_batch_begin(self, net, **kwargs):
        self.seen_.append((net.device, vars(net)["device"]))


def test_the_fitting_thread_sees_the_resolved_device_and_nothing_is_rewritten(
    data, auto_resolves_to_cpu
):
    with auto_resolves_to_cpu():
        clf = MelCNNClassifier(**TINY, callbacks=[("record", RecordDevice())]).fit(*data)
    seen = dict(clf.callbacks_)["record"].seen_
    assert seen and set(seen) == {("cpu", "auto")}  # skorch works on device_; the parameter stays
    assert clf.device == "auto" and clf.device_ == "cpu"


def test_two_threads_predicting_never_see_the_public_device_change(auto_net, data):
    """Both threads are held inside the network's forward while the main thread looks.

    Deterministic: a forward pre-hook makes each predicting thread wait at a
    barrier that the main thread joins, so the checks run while both calls are
    in flight; the threads are released only afterwards.
    """
    X, _ = data
    clf = pickle.loads(pickle.dumps(auto_net))  # hooks are added below: not on the shared fixture
    expected = clf.predict_proba(X)
    both_inside = threading.Barrier(3, timeout=WAIT)
    release = threading.Event()
    inside, results, errors = {}, {}, []

    def hold(module, args):
        name = threading.current_thread().name
        if name not in inside:  # hold the first batch of each thread only
            inside[name] = (clf.device, args[0].device.type)
            both_inside.wait()
            if not release.wait(WAIT):
                raise RuntimeError("never released")

    def predict(name):
        try:
            results[name] = clf.predict_proba(X)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            both_inside.abort()

    handle = clf.module_.register_forward_pre_hook(hold)
    threads = [threading.Thread(target=predict, args=(n,), name=n) for n in ("first", "second")]
    for thread in threads:
        thread.start()
    try:
        both_inside.wait()
        seen_by_others = [
            clf.device, vars(clf)["device"], clf.get_params()["device"], clone(clf).device,
        ]
    finally:
        release.set()
        for thread in threads:
            thread.join(WAIT)
        handle.remove()
    assert not errors, errors
    assert seen_by_others == ["auto"] * 4
    assert inside == {"first": ("cpu", "cpu"), "second": ("cpu", "cpu")}  # each ran on device_
    for name in ("first", "second"):
        np.testing.assert_array_equal(results[name], expected)
    assert clf.device == "auto"


def test_writes_inside_a_call_stay_inside_it(auto_net):
    """skorch's load_params assigns ``self.device``; that must not replace "auto"."""
    clf = pickle.loads(pickle.dumps(auto_net))
    with AutoDeviceMixin.device.resolved_for(clf, "cpu"):
        assert clf.device == "cpu"
        clf.device = "cuda:3"
        assert clf.device == "cuda:3"
        with AutoDeviceMixin.device.resolved_for(clf, "meta"):  # nested: restored on exit
            assert clf.device == "meta"
        assert clf.device == "cuda:3"
    assert clf.device == "auto" and vars(clf)["device"] == "auto"


def test_a_call_on_one_net_leaves_other_nets_alone(auto_net):
    other = MelCNNClassifier(device="cpu")
    with AutoDeviceMixin.device.resolved_for(auto_net, "cpu"):
        assert other.device == "cpu"
        other.device = "auto"
    assert other.device == "auto" and auto_net.device == "auto"


def test_set_params_device_on_a_fitted_net_changes_the_parameter_only(auto_net):
    clf = pickle.loads(pickle.dumps(auto_net))
    clf.set_params(device="cpu", lr=0.5)
    assert vars(clf)["device"] == "cpu" and clf.get_params()["lr"] == 0.5
    assert clf.device_ == "cpu"  # where the fitted net lives; the next fit uses the new value
    clf.set_params(module__channels=(4,))  # re-initialised on device_
    assert {p.device.type for p in clf.module_.parameters()} == {"cpu"}


def test_the_attribute_is_missing_only_before_init():
    assert isinstance(MelCNNClassifier.device, type(AutoDeviceMixin.device))
    blank = MelCNNClassifier.__new__(MelCNNClassifier)
    assert not hasattr(blank, "device")
