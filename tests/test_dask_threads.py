"""Tests of estimators._threads without a cluster: the per-task rule and shared scopes.

A Dask worker runs ``nthreads`` tasks at once in threads of one process, and
torch's thread setting is process-wide: the scopes of concurrent fits must not
undo each other. The rule inside a real worker is tested in
tests/test_dask_search.py.
"""

import threading

import pytest
import torch

from estimators._threads import dask_task_threads, effective_n_threads, torch_threads

WAIT = 60  # seconds before a stuck thread fails the test instead of hanging it


@pytest.mark.parametrize(
    "nthreads, cores, expected",
    [
        pytest.param(1, 1, 1, id="one core, one task"),
        pytest.param(2, 2, 1, id="nthreads == cores: one thread per task"),
        pytest.param(1, 16, 16, id="one task owns the worker's cores"),
        pytest.param(4, 16, 4, id="cores shared among tasks"),
        pytest.param(3, 8, 2, id="rounded down"),
        pytest.param(8, 2, 1, id="more tasks than cores: still one"),
    ],
)
def test_threads_per_task_of_a_dask_worker(nthreads, cores, expected):
    assert dask_task_threads(nthreads=nthreads, cores=cores) == expected


def test_outside_a_worker_the_rule_is_unchanged(monkeypatch):
    """distributed is imported (as by the cluster tests), but no task is running."""
    import distributed  # noqa: F401
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    assert effective_n_threads() == torch.get_num_threads()
    assert effective_n_threads(3) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert effective_n_threads() == 1


def process_wide_count():
    """The torch thread count a thread started now begins with (torch's process-wide setting)."""
    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join(WAIT)
    return seen[0]


@pytest.fixture
def two_threads():
    """torch at 2 threads, so that a scope of 1 can be seen on any machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_concurrent_scopes_keep_the_setting_until_the_last_closes(two_threads):
    """Two tasks of one worker, each in a scope of 1 thread; the first ends while the second runs.

    The first must not restore the process-wide setting under the second; the
    last to close restores what was there before. Deterministic: the threads
    step through events.
    """
    first_inside, second_inside, first_closed, second_may_close = (threading.Event() for _ in range(4))
    errors = []

    def first():
        try:
            with torch_threads(1):
                first_inside.set()
                second_inside.wait(WAIT)
            first_closed.set()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def second():
        try:
            first_inside.wait(WAIT)
            with torch_threads(1):
                second_inside.set()
                second_may_close.wait(WAIT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        assert first_closed.wait(WAIT), errors
        assert process_wide_count() == 1  # the second scope is still open
    finally:
        second_may_close.set()
        for thread in threads:
            thread.join(WAIT)
    assert not errors
    assert process_wide_count() == 2
    assert torch.get_num_threads() == 2


def test_nested_scopes_restore_the_outer_count(two_threads):
    with torch_threads(3):
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == 2


def test_a_failing_block_restores_the_setting(two_threads):
    with pytest.raises(RuntimeError, match="inside"):
        with torch_threads(1):
            raise RuntimeError("inside")
    assert torch.get_num_threads() == 2
    assert process_wide_count() == 2
