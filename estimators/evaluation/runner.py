"""The evaluation loop: every (model, split) fitted and scored, in this process, joblib workers or on Dask.

Each (model, split) is one task, :func:`fit_and_score`: it opens the store by
its path, loads the folds it needs, fits a fresh clone of the model's
estimator and scores the test fold. A task gets everything it needs in its
arguments and returns one JSON-ready record, so it runs the same in this
process, in a joblib (loky) worker or on a Dask worker, and gives the same
numbers wherever it runs when the estimator does (same seed; for the CNN,
also the same number of torch threads: ``threads=1``, or
``OMP_NUM_THREADS=1``, which is what joblib's and Dask's workers get on a
machine with as many cores as workers).

The main process writes each record to ``OUT/results.jsonl`` as it arrives
(:mod:`.results`), so an interrupted run keeps every finished fit and
``resume=True`` skips them.
"""

import contextlib
import dataclasses
import datetime
import socket
import time
import uuid
from pathlib import Path

import numpy as np

from .exceptions import EvaluationError, MissingFeatureError
from .metrics import scores
from .models import ModelSpec, fresh_estimator, resolve_models
from .protocol import Split, describe, make_splits
from .results import FORMAT, ResultsLog, result_key

__all__ = ["Task", "evaluate", "fit_and_score", "plan"]

PROBA_DECIMALS = 6
"""Probabilities are recorded to this many decimals (the report's confidences show two)."""


@dataclasses.dataclass(frozen=True)
class Task:
    """One fit and score: a model on one split of a store."""

    store_path: str
    build_id: str
    model: ModelSpec
    split: Split
    threads: int | None = None
    quiet: bool = False


def _configured(task: Task):
    estimator = fresh_estimator(task.model)
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    updates = {}
    if task.quiet and isinstance(params.get("verbose"), str) and params["verbose"] == "auto":
        updates["verbose"] = 0
    if task.threads is not None and "n_threads" in params:
        updates["n_threads"] = task.threads
    if task.model.uses_validation_fold and task.split.validation_fold is not None:
        updates["validation_fold"] = task.split.validation_fold
    if updates:
        estimator.set_params(**updates)
    return estimator


def fit_and_score(task: Task) -> dict:
    """Fit the task's model on its training folds and score it on its test fold.

    Returns
    -------
    dict
        The result record (``"kind": "result"``): model, feature, folds, clip
        counts, ``fit_seconds``, ``score_seconds``, ``accuracy``, ``macro_f1``,
        ``best_epoch`` (for estimators that keep one), and per test clip its
        class (``y_true``), prediction (``y_pred``), probabilities (``proba``,
        one column per class of the store) and file (``files``).
    """
    from threadpoolctl import threadpool_limits

    from featstore import FeatureStore

    store = FeatureStore(task.store_path)
    if store.build_id != task.build_id:
        raise EvaluationError(f"{task.store_path} was rebuilt while the evaluation ran; run it again")
    split, spec = task.split, task.model
    validate = spec.uses_validation_fold and split.validation_fold is not None
    wanted = {*split.train_folds, *([split.validation_fold] if validate else [])}
    fit_folds = [f for f in store.folds if f in wanted]
    X, y, groups, _ = store.load(spec.feature, folds=fit_folds)
    X_test, y_test, _, meta = store.load(spec.feature, folds=[split.test_fold])
    estimator = _configured(task)
    fit_params = {"groups": groups} if spec.uses_validation_fold else {}
    limits = threadpool_limits(limits=task.threads) if task.threads is not None else contextlib.nullcontext()
    with limits:
        started = time.perf_counter()
        estimator.fit(X, y, **fit_params)
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        proba = np.asarray(estimator.predict_proba(X_test), dtype=np.float64)
        score_seconds = time.perf_counter() - started
    n_classes = len(store.class_names)
    classes = np.asarray(getattr(estimator, "classes_", np.arange(proba.shape[1])))
    by_class = np.zeros((len(y_test), n_classes))
    by_class[:, classes.astype(np.int64)] = proba  # a class missing from training keeps probability 0
    y_pred = by_class.argmax(1)
    s = scores(y_test, y_pred, store.class_names)
    path_column = store.columns.get("path")
    files = (meta[path_column].astype(str).tolist() if path_column in meta
             else [f"{split.test_fold}/{i}" for i in range(len(y_test))])
    best_epoch = getattr(estimator, "best_epoch_", None)
    return {
        "kind": "result", "model": spec.name, "feature": spec.feature, "test_fold": split.test_fold,
        "train_folds": list(split.train_folds), "validation_fold": split.validation_fold if validate else None,
        "n_train": int(len(y)), "n_test": int(len(y_test)), "fit_seconds": fit_seconds,
        "score_seconds": score_seconds, "accuracy": s["accuracy"], "macro_f1": s["macro_f1"],
        "best_epoch": None if best_epoch is None else int(best_epoch),
        "host": socket.gethostname(), "finished": _now(),
        "y_true": y_test.tolist(), "y_pred": y_pred.tolist(),
        "proba": np.round(by_class, PROBA_DECIMALS).tolist(), "files": files,
    }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def check_features(store, specs, folds):
    """Raise :class:`MissingFeatureError` unless every fold of ``folds`` holds every feature the models read."""
    import h5py

    from featstore.store import fold_group

    with h5py.File(store.path, "r") as f:
        for spec in specs:
            missing = [fold for fold in folds if spec.feature not in f[fold_group(fold)]]
            if missing:
                raise MissingFeatureError(
                    f"{store.path} has no {spec.feature}, which model {spec.name} reads (it was built by an earlier "
                    f"featstore): rebuild it (python -m featstore build SOURCE --out {store.path} --overwrite) or "
                    f"leave out --model {spec.name}"
                )


def plan(store, models, *, protocol=None, test_fold=None, validation_fold=None, seed=0, label=None) -> tuple:
    """Check the inputs and lay out the run: ``(store, specs, header, splits)`` (nothing is fitted or written).

    Raises
    ------
    ModelSpecError, ProtocolError, MissingFeatureError
        See :func:`evaluate`.
    featstore.StoreFormatError
        If ``store`` is not a feature store.
    """
    from featstore import FeatureStore

    store = store if isinstance(store, FeatureStore) else FeatureStore(store)
    name, splits = make_splits(store.folds, protocol=protocol, test_fold=test_fold,
                               validation_fold=validation_fold, store=str(store.path))
    specs = resolve_models(models, seed=seed)
    used = {f for s in splits for f in (*s.train_folds, s.test_fold, s.validation_fold) if f is not None}
    check_features(store, specs, [f for f in store.folds if f in used])
    header = {
        "kind": "run", "format": FORMAT,
        "store": {"path": str(Path(store.path).resolve()), "build_id": store.build_id, "source": store.source,
                  "layout": store.layout, "fold_sizes": [[k, v] for k, v in store.fold_sizes().items()]},
        "models": [{"name": s.name, "feature": s.feature, "description": s.description} for s in specs],
        "protocol": {"name": name, "description": describe(name, splits), "splits": [s.to_json() for s in splits]},
        "seed": seed, "class_names": list(store.class_names), "label": label or store.source, "created": _now(),
    }
    return store, specs, header, splits


def _run_serial(tasks, on_result):
    from featstore import interrupt

    for task in tasks:
        record = fit_and_score(task)
        # A signal whose exception Python ignored (it landed in a finalizer) may have
        # cut short some clean-up inside the fit: such a fit is not kept.
        interrupt.check()
        on_result(record)


def _run_joblib(tasks, n_jobs, on_result):
    from joblib import Parallel, delayed

    for record in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(delayed(fit_and_score)(t) for t in tasks):
        on_result(record)


def _import_on_worker():
    import estimators.evaluation.runner  # noqa: F401


def _run_dask(tasks, client, on_result):
    from distributed import as_completed

    try:
        client.run(_import_on_worker)
    except ImportError as exc:
        raise EvaluationError(f"the Dask workers cannot import estimators ({exc}); install it where they run") from None
    run = uuid.uuid4().hex[:12]
    futures = [client.submit(fit_and_score, task, key=f"evaluate-{run}-{i}", pure=False) for i, task in enumerate(tasks)]
    try:
        for future in as_completed(futures):
            on_result(future.result())
            future.release()
    finally:
        client.cancel(futures)


def _progress_bar(total, initial, enabled):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc="evaluate", unit="fit", disable=not enabled, leave=True,
                dynamic_ncols=True)


def per_split_results(header, records) -> dict:
    """``{model: {"test_fold", "fit_time", "score_time", "test_accuracy", "test_macro_f1"}}``, folds in order.

    As :func:`sklearn.model_selection.cross_validate` gives them, one array entry
    per split that has a result.
    """
    out = {}
    order = [s["test_fold"] for s in header["protocol"]["splits"]]
    for model in header["models"]:
        by_fold = {result_key(r["model"], r["test_fold"]): r for r in records if r["model"] == model["name"]}
        done = [by_fold[result_key(model["name"], f)] for f in order if result_key(model["name"], f) in by_fold]
        out[model["name"]] = {
            "test_fold": [r["test_fold"] for r in done],
            "fit_time": np.array([r["fit_seconds"] for r in done]),
            "score_time": np.array([r["score_seconds"] for r in done]),
            "test_accuracy": np.array([r["accuracy"] for r in done]),
            "test_macro_f1": np.array([r["macro_f1"] for r in done]),
        }
    return out


def evaluate(store, models=("logreg",), *, protocol=None, test_fold=None, validation_fold=None, out=None, seed=0,
             resume=False, overwrite=False, n_jobs=None, scheduler=None, client=None, threads=None, progress=False,
             label=None, report=True) -> dict:
    """Fit and score models under a fold protocol of a store, as ``python -m estimators evaluate`` does.

    Parameters
    ----------
    store : str, Path or featstore.FeatureStore
    models : sequence of str, default=("logreg",)
        Model names: ``"cnn"``, ``"notebook-cnn"``, ``"logreg"``, ``"boosting"``
        or ``"module:callable[@feature]"`` (see :mod:`estimators.evaluation.models`).
    protocol : {"folds", "test-fold", "notebook"} or None, default=None
        See :mod:`estimators.evaluation.protocol`; None picks it from the folds given.
    test_fold, validation_fold : int, str or None, default=None
        Folds of the store (``"3"`` finds fold 3).
    out : str, Path or None, default=None
        The folder for ``results.jsonl`` and the report; None keeps the
        results in memory only.
    seed : int, default=0
        The ``random_state`` of every estimator, the same for every fold.
    resume : bool, default=False
        Keep the results ``out`` holds from an interrupted run of the same
        store, models, protocol and seed, and fit only the rest.
    overwrite : bool, default=False
        Replace the results and report ``out`` holds.
    n_jobs : int or None, default=None
        Fits at once in joblib (loky) worker processes; None or 1 fits in this
        process; -1 one per core. With ``scheduler="local"``, the number of
        Dask workers.
    scheduler : str or None, default=None
        ``"local"`` (a Dask LocalCluster here) or a scheduler address; one task
        per fit. The workers must reach the store by the same path.
    client : distributed.Client or None, default=None
        A connected client to run the fits on, instead of ``scheduler``.
    threads : int or None, default=None
        Threads per fit (torch's for the CNN's ``n_threads``, and BLAS/OpenMP);
        None leaves each estimator its own choice.
    progress : bool, default=False
        A progress bar over the fits on stderr (the CNN shows its epochs when
        it fits in this process).
    label : str or None, default=None
        The dataset's name in the report (default: the store's source).
    report : bool, default=True
        Write the report into ``out`` at the end (needs matplotlib).

    Returns
    -------
    dict
        Per model, its results per split as ``cross_validate`` gives them:
        ``{"logreg": {"test_fold": [1, 2, ...], "fit_time": array,
        "score_time": array, "test_accuracy": array, "test_macro_f1": array}}``.

    Raises
    ------
    ModelSpecError, ProtocolError, MissingFeatureError, ResultsExistError, ResultsMismatchError
        For bad input, before anything is fitted.
    """
    store, specs, header, splits = plan(store, models, protocol=protocol, test_fold=test_fold,
                                        validation_fold=validation_fold, seed=seed, label=label)
    if out is not None:
        log = ResultsLog.open(out, header, resume=resume, overwrite=overwrite)
        if label is None:
            header["label"] = log.header.get("label", header["label"])
    else:
        log = None
    records = list(log.records) if log else []
    done = {result_key(r["model"], r["test_fold"]) for r in records}
    tasks = [Task(str(store.path), store.build_id, spec, split, threads, quiet=not progress)
             for spec in specs for split in splits if result_key(spec.name, split.test_fold) not in done]
    with _progress_bar(len(specs) * len(splits), len(records), progress) as bar:
        def on_result(record):
            if log is not None:
                log.append(record)
            records.append(record)
            bar.set_postfix_str(f"{record['model']} fold {record['test_fold']}: {record['accuracy']:.3f}",
                                refresh=False)
            bar.update(1)

        if not tasks:
            pass
        elif client is not None:
            _run_dask(tasks, client, on_result)
        elif scheduler is not None:
            from featstore import dask_client

            with dask_client(scheduler, n_workers=-1 if n_jobs is None else n_jobs) as cluster_client:
                _run_dask(tasks, cluster_client, on_result)
        elif n_jobs not in (None, 1):
            _run_joblib(tasks, n_jobs, on_result)
        else:
            _run_serial(tasks, on_result)
    if out is not None and report:
        from .report import write_report

        write_report(out, label=label)
    return per_split_results(header, records)


def count_results(out) -> tuple:
    """``(done, total)`` fits recorded in ``out``'s results file, or None if it has none."""
    from .results import RESULTS, read_results

    path = Path(out) / RESULTS
    if not path.exists():
        return None
    try:
        header, records, _ = read_results(path)
    except (OSError, EvaluationError):
        return None
    return len(records), len(header["models"]) * len(header["protocol"]["splits"])

