"""A build's decoding on a Dask cluster (``build --scheduler ADDRESS|local``).

Only the decoding and the features (:func:`featstore.decode.process_batch`, one
task per batch of clips) run on the workers; the writer stays in the build's
process, as in a local build, and writes the batches in the source's order, so
the store equals a local build's bit for bit.

What travels to a worker is a batch's metadata rows and, for each clip, an
absolute path to its audio file (the workers must see the same file system,
e.g. a shared mount) or, for sources that hold the audio themselves (parquet, a
Hugging Face dataset), its encoded bytes; never an open file. What comes back
is the batch's features.

Memory stays bounded however large the dataset: at most ``2 x`` the cluster's
worker threads batches are submitted and not yet written. The source is read
lazily, the next batch is submitted when the oldest is written, and a written
result is released at once on the worker too (back-pressure by a fixed window
of futures, like a local build's queue of threads).

A worker that dies (killed, out of memory, a crash in native code) loses its
tasks; the scheduler runs them again on the other workers, until a task has
been on ``distributed.scheduler.allowed-failures`` (default 3) dying workers.
Such a batch is taken apart: each of its clips runs alone, a clip that kills a
worker again is rejected as having crashed its worker process, and the others
are decoded as one batch; the build goes on.
"""

import collections
import contextlib
import logging
import os
import uuid

from ._validation import check_n_jobs, effective_n_jobs
from .exceptions import ClusterError
from .sources.base import ClipRef, rejection

__all__ = ["dask_client", "on_cluster"]

# How long to wait for a running cluster's first worker.
WORKER_SECONDS = 30


@contextlib.contextmanager
def dask_client(scheduler: str, n_workers: int = -1):
    """A ``distributed.Client`` of ``scheduler``: an address, or ``"local"`` for a LocalCluster here.

    ``"local"`` starts ``n_workers`` worker processes (joblib's convention: -1 for
    one per core) of one thread each on loopback,
    closed when the block ends, with glibc keeping freed buffers for reuse (see
    :mod:`featstore._malloc`; on one worker a build of 1,761 real clips took
    10.3 s with Dask's settings, 4.5 s with these).
    """
    import dask
    from distributed import Client, LocalCluster

    from ._malloc import ENVIRONMENT

    if scheduler == "local":
        # glibc reads these when a process starts: Dask sets them before spawning a
        # worker, from its nanny's environment first, then from its configuration
        # (which trims at 64 KiB, to give memory back at once).
        with _environment(ENVIRONMENT), _workers_deaf_to_ctrl_c():
            # (":0": its web server on a free port, not 8787, which another cluster
            # may hold; silence_logs: the cancelled tasks and the workers stopped
            # mid-batch of an interrupted build are expected, not worth a warning each)
            cluster = LocalCluster(n_workers=effective_n_jobs(check_n_jobs(n_workers)), threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=":0", silence_logs=logging.ERROR)
        with cluster, Client(cluster) as client:
            _ready(client, scheduler)
            yield client
        return
    try:  # (within Dask's connect timeout: distributed.comm.timeouts.connect)
        client = Client(scheduler, timeout=dask.config.get("distributed.comm.timeouts.connect"))
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"Cannot reach a Dask scheduler at {scheduler!r} ({exc}). Start one (`dask scheduler`, then "
            f"`dask worker {scheduler}` on each machine) or build with --scheduler local."
        ) from None
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_SECONDS)
        except TimeoutError:
            raise ClusterError(
                f"The Dask scheduler at {scheduler} has no workers after {WORKER_SECONDS} s; start some with "
                f"`dask worker {scheduler}`."
            ) from None
        _ready(client, scheduler)
        yield client


@contextlib.contextmanager
def _environment(variables: dict):
    """``os.environ`` with ``variables`` set, within the block."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _workers_deaf_to_ctrl_c():
    """Worker processes started in the block ignore SIGINT.

    Ctrl-C reaches every process of the terminal's process group: the build stops
    and closes its cluster, and workers that got it too would each print a
    traceback. An ignored signal stays ignored in a child process, through exec; a
    handler does not. (Ctrl-C is ignored by the build too while the workers start,
    a second or two.)
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def reproducible_worker(cbwr: str):
    """Make this worker's MKL take the build's code path (``MKL_CBWR``), or raise :class:`ClusterError`.

    MKL reads ``MKL_CBWR`` once, at its first call: a worker that has not loaded
    torch yet gets the build's setting now; one that loaded torch under another
    setting cannot be fixed, and its features could differ from a local build's
    in the last bits (see :mod:`featstore._blas`).
    """
    import sys

    found = os.environ.get("MKL_CBWR")
    if found == cbwr:
        return
    if found is None and "torch" not in sys.modules:
        os.environ["MKL_CBWR"] = cbwr
        return
    import socket

    raise ClusterError(
        f"A Dask worker on {socket.gethostname()} runs MKL with MKL_CBWR={found or 'unset'} and has loaded torch, "
        f"so its features would differ from a local build's in the last bits; restart the workers with "
        f"MKL_CBWR={cbwr} in their environment (`MKL_CBWR={cbwr} dask worker ...`)."
    )


def _import_on_worker(cbwr: str):
    # What a build imports before its clock starts: torch and torchaudio (with
    # featstore.features), soundfile; librosa, for views, is imported by the first batch.
    reproducible_worker(cbwr)
    import threadpoolctl  # noqa: F401

    import featstore.decode  # noqa: F401
    import featstore.features  # noqa: F401


def build_cbwr() -> str:
    """The ``MKL_CBWR`` of this (the building) process, which the workers must share."""
    from ._blas import MKL_CBWR

    return os.environ.get("MKL_CBWR", MKL_CBWR)


def _ready(client, scheduler):
    """Import featstore on every worker now: a worker without it, or whose MKL cannot match the build's,
    fails here with one line, not per batch, and the build's time does not count the imports."""
    try:
        client.run(_import_on_worker, build_cbwr())
    except ImportError as exc:
        raise ClusterError(
            f"The workers of {scheduler} cannot import featstore ({exc}); install it in their environment."
        ) from None


def _shippable(ref: ClipRef) -> ClipRef:
    """The reference with an absolute path: a worker's working folder is not the build's."""
    if isinstance(ref.audio, (str, os.PathLike)):
        return ClipRef(row=ref.row, audio=os.path.abspath(ref.audio))
    return ref


def process_on_worker(refs, config, cbwr):
    """:func:`~featstore.decode.process_batch` in a worker, with torch on one thread, as a local build.

    The worker's MKL is checked first (:func:`reproducible_worker`): a worker that
    joined after the build started was not checked by ``dask_client``.
    """
    reproducible_worker(cbwr)
    import torch
    from threadpoolctl import threadpool_limits

    from .decode import process_batch

    # Set for the worker process, not restored: with several threads per worker,
    # restoring on one thread would change another one's count during its batch,
    # and a clip's features depend on it (see featstore.decode.one_thread_per_worker).
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    with threadpool_limits(limits=1, user_api="blas"):
        return process_batch(refs, config)


@contextlib.contextmanager
def on_cluster(client, config, batches):
    """The result of ``process_batch(batch)`` for each batch, in order, computed by the cluster's workers.

    When the block ends, however it ends, the batches not yet written are
    cancelled on the cluster.
    """
    from distributed import KilledWorker

    window = max(2, 2 * sum(client.nthreads().values()))
    build = uuid.uuid4().hex[:12]
    cbwr = build_cbwr()
    pending = collections.deque()

    def results():
        for number, batch in enumerate(batches):
            refs = [_shippable(ref) for ref in batch]
            key = f"featstore-batch-{build}-{number}"
            pending.append((refs, key, client.submit(process_on_worker, refs, config, cbwr, key=key, pure=False)))
            if len(pending) >= window:
                yield _result(*pending.popleft())
        while pending:
            yield _result(*pending.popleft())

    def _result(refs, key, future):
        try:
            return future.result()
        except KilledWorker:
            return _salvage(client, refs, config, cbwr, key)
        finally:
            future.release()

    try:
        yield results()
    finally:
        client.cancel([future for _, _, future in pending])


def _salvage(client, refs, config, cbwr, key):
    """A batch that kept killing workers: its clips one by one; those that kill a worker again are rejected."""
    from distributed import KilledWorker

    futures = [client.submit(process_on_worker, [ref], config, cbwr, key=f"{key}-clip-{i}", pure=False)
               for i, ref in enumerate(refs)]
    survivors, crashed = [], []
    for ref, future in zip(refs, futures):
        try:
            future.result()
        except KilledWorker:
            crashed.append(rejection(ref.row, "crashed its worker process (decoding it killed every worker it ran on)"))
        else:
            survivors.append(ref)
        future.release()
    if not survivors:
        return {}, [], crashed, {}
    future = client.submit(process_on_worker, survivors, config, cbwr, key=f"{key}-survivors", pure=False)
    features, rows, rejected, digests = future.result()
    future.release()
    return features, rows, rejected + crashed, digests
