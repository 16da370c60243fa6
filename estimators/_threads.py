"""How many torch CPU threads one fit or predict may use, scoped to that call."""

import contextlib
import os

import torch

__all__ = ["effective_n_threads", "torch_threads"]

# Set by joblib/loky in its workers to cpu_count // n_jobs (unless the user set
# them), and by users who want to cap threading process-wide.
_THREAD_LIMIT_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def effective_n_threads(n_threads=None):
    """Number of intra-op threads torch should use for one call.

    Parameters
    ----------
    n_threads : int or None, default=None
        A positive int is used as is. None means: torch's current setting,
        capped by ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` when set. joblib's
        loky workers (``cross_val_score(n_jobs=...)``, ``GridSearchCV(n_jobs=...)``)
        set those to ``cpu_count // n_jobs``, so parallel workers do not
        oversubscribe the CPU.

    Returns
    -------
    int
    """
    if n_threads is not None:
        return int(n_threads)
    current = torch.get_num_threads()
    limit = _inherited_thread_limit()
    return current if limit is None else max(1, min(current, limit))


@contextlib.contextmanager
def torch_threads(n_threads):
    """Set ``torch.set_num_threads(n_threads)`` for the block, then restore it.

    torch's thread setting is process-wide, so with joblib's threading backend
    concurrent fits share it; the loky (process) backend is unaffected.
    """
    previous = torch.get_num_threads()
    if n_threads == previous:
        yield n_threads
        return
    torch.set_num_threads(n_threads)
    try:
        yield n_threads
    finally:
        torch.set_num_threads(previous)


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
