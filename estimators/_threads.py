"""How many torch CPU threads one fit or predict may use, scoped to that call.

The count (:func:`effective_n_threads`) follows where the call runs: the
calling process, a joblib (loky) worker or a task of a Dask worker.
"""

import contextlib
import os
import sys
import threading

import torch

__all__ = ["dask_task_threads", "effective_n_threads", "torch_threads"]

# Set by joblib/loky in its workers to cpu_count // n_jobs, by Dask's nanny in
# its workers to 1 (unless the environment that starts them sets them), and by
# users who want to cap threading process-wide.
_THREAD_LIMIT_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def effective_n_threads(n_threads=None):
    """Number of intra-op threads torch should use for one call.

    Parameters
    ----------
    n_threads : int or None, default=None
        A positive int is used as is. None means:

        - inside a task of a Dask worker, ``cores // nthreads``: the CPUs the
          worker process may use (``dask.system.CPU_COUNT``, which respects
          CPU affinity and cgroup quotas) shared among the tasks it runs at
          once (its ``nthreads``), at least 1 and capped by
          ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` when set. Dask's nanny
          sets both to 1 in the workers it starts unless the environment
          that starts the worker sets them, so the default is 1 thread per
          task; ``OMP_NUM_THREADS=4 dask worker --nthreads 1 ...`` gives each
          fit 4;
        - elsewhere, torch's current setting, capped by ``OMP_NUM_THREADS`` /
          ``MKL_NUM_THREADS`` when set. joblib's loky workers
          (``cross_val_score(n_jobs=...)``, ``GridSearchCV(n_jobs=...)``) set
          those to ``cpu_count // n_jobs``, so parallel workers do not
          oversubscribe the CPU.

    Returns
    -------
    int
    """
    if n_threads is not None:
        return int(n_threads)
    limit = _inherited_thread_limit()
    worker = _current_dask_worker()
    if worker is not None:
        from dask.system import CPU_COUNT

        wanted = dask_task_threads(nthreads=worker.state.nthreads, cores=CPU_COUNT)
    else:
        wanted = torch.get_num_threads()
    return wanted if limit is None else max(1, min(wanted, limit))


def dask_task_threads(*, nthreads, cores):
    """Threads for one task of a Dask worker that runs ``nthreads`` tasks at once on ``cores`` CPUs.

    ``max(1, cores // nthreads)``: with dask's default layouts (``nthreads``
    equal to the worker's share of the cores) that is 1.
    """
    return max(1, int(cores) // max(1, int(nthreads)))


# torch's setting is process-wide: the scopes of a process register their
# requests in _ACTIVE (oldest first, one token each). Guarded by _LOCK.
_LOCK = threading.Lock()
_ACTIVE = []
_SHARED = {}  # while any scope is open: "before" (what the first found), "changed"


@contextlib.contextmanager
def torch_threads(n_threads):
    """Set ``torch.set_num_threads(n_threads)`` for the block, then restore it.

    torch's setting is process-wide (the count threads start with, and
    MKL's), so the scopes of one process share it: every scope applies its
    count on entry, a scope that closes while others are open hands the
    setting back to the most recent of those, and the last to close restores
    what the first found. Concurrent fits that ask for the same count (the
    tasks of a Dask worker do by default) therefore never undo each other's
    setting; concurrent scopes with different counts (explicit ``n_threads``
    under joblib's threading backend) get the most recent request.
    """
    token = object()
    with _LOCK:
        if not _ACTIVE:
            _SHARED.update(before=torch.get_num_threads(), changed=False)
        _ACTIVE.append((token, n_threads))
        if torch.get_num_threads() != n_threads:
            torch.set_num_threads(n_threads)
            _SHARED["changed"] = True
    try:
        yield n_threads
    finally:
        with _LOCK:
            _ACTIVE[:] = [entry for entry in _ACTIVE if entry[0] is not token]
            if _SHARED["changed"]:
                torch.set_num_threads(_ACTIVE[-1][1] if _ACTIVE else _SHARED["before"])


def _current_dask_worker():
    """The Dask worker running the current task, or None outside one.

    distributed is only looked up, never imported: a task of a Dask worker
    runs in a process that has imported it.
    """
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return distributed.get_worker()
    except ValueError:  # not inside a task
        return None


def _inherited_thread_limit():
    for name in _THREAD_LIMIT_VARS:
        value = os.environ.get(name, "").strip()
        try:
            limit = int(value)
        except ValueError:
            continue
        if limit >= 1:
            return limit
    return None
