"""Searches on a Dask cluster: a real ``LocalCluster`` on loopback, compared with the local run.

``with joblib.parallel_config(backend="dask")`` carries scikit-learn's
``GridSearchCV`` and ``cross_val_score`` to the cluster's workers. The local
run (``n_jobs=1``) stays the reference: with the same seeds, ``device="cpu"``
and the same torch thread count, the scores and the refitted model are equal
to the last bit. The thread count is pinned (``n_threads=1``) in the CNN
comparisons because torch rounds differently with 1 and 2 threads, and a
worker runs each fit on 1 (``test_a_fit_in_a_worker_uses_its_share_of_the_cores``).

The cluster has 2 worker processes of 1 thread each, started once for the
module; the data are 96 tiny spectrograms (or MFCC statistics), 1-3 epochs per fit.
"""

import os

import joblib
import numpy as np
import pytest
import sklearn
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin
from sklearn.model_selection import GridSearchCV, GroupKFold, LeaveOneGroupOut, cross_val_score, cross_validate

from estimators import MelCNNClassifier, make_mfcc_logreg
from estimators._threads import effective_n_threads

pytestmark = pytest.mark.slow

N_WORKERS = 2
TINY_CNN = dict(module__channels=(4, 8), max_epochs=3, batch_size=16, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A client of 2 worker processes of 1 thread each, on loopback, for this module."""
    with LocalCluster(
        n_workers=N_WORKERS, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, local_directory=tmp_path_factory.mktemp("dask"),
    ) as cluster, Client(cluster) as client:
        client.wait_for_workers(N_WORKERS)
        yield client


def spectrograms(n_clips=96, n_mels=16, n_frames=32, n_groups=3, seed=0):
    """Log-mel-like clips whose class is the direction of one stroke (3 classes), groups 1..3."""
    rng = np.random.default_rng(seed)
    X = rng.normal(-60.0, 4.0, size=(n_clips, n_mels, n_frames)).astype(np.float32)
    y = rng.permutation(np.arange(n_clips) % 3)
    steps = np.arange(8)
    for i, label in enumerate(y):
        f0, t0 = rng.integers(0, n_mels - 8), rng.integers(0, n_frames - 8)
        f, t = [
            (np.full(8, f0 + 4), t0 + steps),  # horizontal: a tone
            (f0 + steps, np.full(8, t0 + 4)),  # vertical: a click
            (f0 + steps, t0 + steps),  # rising
        ][label]
        X[i, f, t] += 25.0
    return X, y, np.arange(n_clips) % n_groups + 1


def mfcc_stats(n_clips=96, n_groups=3, seed=0):
    """40 'MFCC statistics' per clip: class-dependent means plus noise, groups 1..3."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n_clips) % 3)
    X = rng.normal(0.0, 0.5, size=(3, 40))[y] + rng.normal(size=(n_clips, 40))
    return X * 20 - 300, y, np.arange(n_clips) % n_groups + 1


# ----------------------------------------------------------------------------
# what arrives at the workers


def _arrival_log():
    """A worker plugin that records each piece of data a worker receives, as ``(key, nbytes)``.

    Received: scattered or replicated to it (``released -> memory``) or
    fetched from a peer for a task (``flight -> memory``); the results of its
    own tasks are not counted. Defined in a function so that it travels to
    the workers by value.
    """

    class ArrivalLog(WorkerPlugin):
        name = "arrival-log"

        def setup(self, worker):
            self.worker, self.arrivals = worker, []

        def transition(self, key, start, finish, **kwargs):
            if finish == "memory" and start in ("released", "flight"):
                self.arrivals.append((key, self.worker.state.tasks[key].nbytes))

    return ArrivalLog()


@pytest.fixture
def arrivals(client):
    """Returns ``copies(array)``: per worker, the keys under which ``array``'s bytes arrived there.

    With them, per worker, the keys whose copy Dask's active memory manager
    removed from it (``RemoveReplicasEvent``, sent by nothing else): a copy it
    considers spare because no task there waits for it. A worker that needs the
    data again fetches it anew.
    """
    plugin = _arrival_log()
    client.register_plugin(plugin)

    def copies(array):
        def read(dask_worker):
            removed = [
                key for event in dask_worker.state.stimulus_log
                if type(event).__name__ == "RemoveReplicasEvent" for key in event.keys
            ]
            return dask_worker.plugins[plugin.name].arrivals, removed

        logs = client.run(read)
        assert len(logs) == N_WORKERS
        return {
            worker: ([key for key, nbytes in arrived if nbytes == array.nbytes], removed)
            for worker, (arrived, removed) in logs.items()
        }

    yield copies
    client.unregister_worker_plugin(plugin.name)


def assert_sent_once_per_worker(copies, *, to_every_worker):
    """One piece of data shared by every task, received by each worker once.

    Once more for every time the memory manager removed the worker's copy
    (between two fits on a busy machine); any other second copy fails.
    """
    keys = {key for arrived, _ in copies.values() for key in arrived}
    assert len(keys) == 1, copies
    for arrived, removed in copies.values():
        assert len(arrived) <= 1 + removed.count(*keys), copies
        if to_every_worker:
            assert arrived, copies


# ----------------------------------------------------------------------------
# threads


def test_a_fit_in_a_worker_uses_its_share_of_the_cores(client):
    """A task reports what ``effective_n_threads`` chose inside the worker, and why.

    The nanny starts workers with ``OMP_NUM_THREADS=1`` (dask's default), which
    caps the choice; without the cap the rule gives ``cores // nthreads``.
    """

    def report():
        from unittest import mock

        from dask.system import CPU_COUNT
        from distributed import get_worker

        facts = {"chosen": effective_n_threads(), "omp": os.environ.get("OMP_NUM_THREADS")}
        facts.update(nthreads=get_worker().state.nthreads, cores=CPU_COUNT)
        with mock.patch.dict(os.environ):
            os.environ.pop("OMP_NUM_THREADS", None)
            os.environ.pop("MKL_NUM_THREADS", None)
            facts["uncapped"] = effective_n_threads()
        return facts

    reports = [client.submit(report, pure=False, workers=[w]).result() for w in client.scheduler_info()["workers"]]
    for facts in reports:
        assert facts["nthreads"] == 1
        assert facts["omp"] == "1"
        assert facts["chosen"] == 1
        assert facts["uncapped"] == facts["cores"] // facts["nthreads"]

    # and a fit on the cluster records that choice
    X, y, groups = spectrograms(n_clips=48)
    with joblib.parallel_config(backend="dask"):
        result = cross_validate(
            MelCNNClassifier(**{**TINY_CNN, "max_epochs": 1}), X, y, groups=groups, cv=GroupKFold(2),
            return_estimator=True, error_score="raise",
        )
    assert [est.n_threads_ for est in result["estimator"]] == [1, 1]


# ----------------------------------------------------------------------------
# searches: equal to the local run, data sent once per worker


def grouped_search(name):
    """``(search, X, y, groups)``: a grouped GridSearchCV of 2 candidates x 3 group folds."""
    if name == "cnn":
        estimator = MelCNNClassifier(**TINY_CNN, validation_fold="last", n_threads=1).set_fit_request(groups=True)
        grid, data = {"lr": [3e-3, 3e-2]}, spectrograms()
    else:
        estimator, grid, data = make_mfcc_logreg(), {"clf__C": [0.01, 1.0]}, mfcc_stats()
    return GridSearchCV(estimator, grid, cv=GroupKFold(3), error_score="raise"), *data


def cv_results_without_times(search):
    return {key: value for key, value in search.cv_results_.items() if "time" not in key}


@pytest.mark.parametrize("name", ["cnn", "logreg"])
def test_grouped_grid_search_on_the_cluster_equals_the_local_run(name, client, arrivals):
    with sklearn.config_context(enable_metadata_routing=True):
        local, X, y, groups = grouped_search(name)
        local.fit(X, y, groups=groups)
        remote, *_ = grouped_search(name)
        with joblib.parallel_config(backend="dask"):
            remote.fit(X, y, groups=groups)

    expected, got = cv_results_without_times(local), cv_results_without_times(remote)
    assert expected.keys() == got.keys()
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.best_estimator_.predict_proba(X), local.best_estimator_.predict_proba(X))
    # the comparison says something: the candidates and folds score differently
    assert len(set(expected["split0_test_score"]) | set(expected["split1_test_score"])) > 1
    if name == "cnn":
        assert remote.best_estimator_.validation_fold_ == 3  # groups reached the refit as well

    # joblib scattered X by itself: for the 6 fits (2 candidates x 3 folds) its
    # bytes went to each worker at most once, under one key
    assert_sent_once_per_worker(arrivals(X), to_every_worker=False)


def test_cross_val_score_with_scattered_data_equals_the_local_run(client, arrivals):
    X, y, groups = spectrograms()
    with sklearn.config_context(enable_metadata_routing=True):
        cnn = MelCNNClassifier(**TINY_CNN, validation_fold="last", n_threads=1).set_fit_request(groups=True)
        expected = cross_val_score(cnn, X, y, cv=LeaveOneGroupOut(), params={"groups": groups})
        with joblib.parallel_config(backend="dask", scatter=[X, y]):
            got = cross_val_score(cnn, X, y, cv=LeaveOneGroupOut(), params={"groups": groups})
    np.testing.assert_array_equal(got, expected)
    # scatter=[X, y] broadcasts: every worker received X, once
    assert_sent_once_per_worker(arrivals(X), to_every_worker=True)
