"""Accuracy of the store-fed estimators under the notebook's protocol and the official one.

    python benchmarks/bench_accuracy.py --store synthetic-full.h5          # full protocol (hours on a CPU)
    python benchmarks/bench_accuracy.py --store S --max-clips-per-fold 300 --epochs 4 --cv-folds 1,2,3 \\
        --grid small --grid-folds 1,2,3                                    # a reduced run, labelled as such
    python benchmarks/bench_accuracy.py --quick                             # CI-sized, generated data
    python benchmarks/bench_accuracy.py --source PATH/TO/UrbanSound8K       # build a store first

On a store with the 10 UrbanSound8K folds three protocols run (``--protocols``):

* ``notebook``: the reference notebook's split: train on folds 1-8, select the epoch
  on fold 9 (``validation_fold=9``, best validation loss restored), test on fold 10,
  for the majority class, MFCC statistics + logistic regression (trained on folds
  1-8) and the CNN variants of ``--variants``. Accuracy, macro-F1 and the per-class
  report. ``--report`` writes the notebook's error analysis of the default CNN
  (see ``report.py``).
* ``official``: ``cross_val_score`` with ``LeaveOneGroupOut`` over the folds (the
  dataset authors' protocol), logistic regression and the CNN; the CNN trains for a
  fixed number of epochs with no validation (``validation_fold=None``).
* ``grid``: ``GridSearchCV`` of the CNN over lr x spec_augment x class_weight with
  ``LeaveOneGroupOut`` over ``--grid-folds``; best parameters and the full
  ``cv_results_``.

The real UrbanSound8K fold-1 copies (``--real-data``, present on the development
machine) have one fold only, so the fold protocols do not apply: there every
estimator, and the notebook's own on-the-fly pipeline and model
(``notebook_pipeline.fit_notebook``), is scored by ``GroupKFold(5)`` over fsID
(recordings never straddle train and test), the CNNs training for a fixed number of
epochs with no validation. That comparison runs after the main one whenever the
folder exists (``--no-real`` skips it); pointing ``--store``/``--source`` at those
clips runs it alone.

Every CNN here, "CNN default" included, is the reference notebook's network and
training (``make_notebook_cnn()``): these tables compare the store-fed estimator
with the notebook on equal terms. The recipe of ``MelCNNClassifier()`` is
measured by ``bench_recipe.py``.

Every reduction (``--max-clips-per-fold``, ``--epochs`` below 10, a subset of
folds, ``--grid small``) is spelled out next to the tables. Seeds are fixed
(``--seed``) for subsets, splits, weights and batch order.
"""

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import report  # noqa: E402
from _common import log as _log  # noqa: E402
from _datasets import (  # noqa: E402
    Dataset,
    add_dataset_arguments,
    build_temporary_store,
    check_audio_matches,
    dataset_label,
    open_dataset,
    real_data_present,
)
from estimators.evaluation.plots import plot_fold_accuracy, plot_per_class_f1  # noqa: E402
from _scoring import FULL_EPOCHS, RunningTrainAccuracy, history_rows, reduction_note, scores, subsample  # noqa: E402

# ----------------------------------------------------------------------------
# estimators and result names



def cnn_variants(epochs: int, seed: int) -> dict:
    """The CNN configurations compared under the notebook protocol."""
    from estimators import make_notebook_cnn

    common = dict(max_epochs=epochs, random_state=seed)
    return {
        "default": make_notebook_cnn(**common),
        "specaugment": make_notebook_cnn(spec_augment=True, **common),
        "balanced": make_notebook_cnn(class_weight="balanced", **common),
        "large": make_notebook_cnn(module__channels=(32, 64, 128), **common),
    }


def result_name(args, protocol: str) -> str:
    """``bench_accuracy_<protocol>``, or ``bench_accuracy_<tag>_<protocol>`` with ``--tag``."""
    tag = getattr(args, "tag", None)
    return f"bench_accuracy_{tag}_{protocol}" if tag else f"bench_accuracy_{protocol}"


# ----------------------------------------------------------------------------
# protocol 1: the notebook's split (train 1-8, validate 9, test 10)


def run_notebook_protocol(ds: Dataset, args, results_dir):
    from sklearn.dummy import DummyClassifier

    from estimators import make_mfcc_logreg

    store, names = ds.store, ds.store.class_names
    train_folds, valid_fold, test_fold = [f for f in store.folds if f < 9], 9, 10
    if not {valid_fold, test_fold} <= set(store.folds):
        raise SystemExit(f"error: the notebook protocol needs folds 9 and 10; {store.path} holds {list(store.folds)}")
    X, y, groups, meta = store.load("logmel", folds=[*train_folds, valid_fold, test_fold])
    mfcc, *_ = store.load("mfcc_stats", folds=[*train_folds, valid_fold, test_fold])
    fit_part, train_part, test_part = groups != test_fold, groups < valid_fold, groups == test_fold
    # --max-clips-per-fold thins the CNNs' training and validation folds only; every model is tested on all of
    # fold 10 and the cheap models train on everything
    cnn_fit = np.zeros(len(y), dtype=bool)
    cnn_fit[subsample(y, groups, args.max_clips_per_fold, args.seed)] = True
    cnn_fit &= fit_part
    cnn_train, cnn_valid = cnn_fit & train_part, cnn_fit & (groups == valid_fold)
    _log(f"notebook protocol on {ds.label}: {train_part.sum()} train ({cnn_train.sum()} for the CNNs) / "
         f"{(groups == valid_fold).sum()} valid ({cnn_valid.sum()}) / {test_part.sum()} test clips")

    rows, details = [], {}

    def record(name, y_pred, seconds, extra=None):
        s = scores(y[test_part], y_pred, names)
        details[name] = {**s, "fit_seconds": seconds, **(extra or {})}
        rows.append({"model": name, "accuracy": s["accuracy"], "macro_f1": s["macro_f1"], "fit_seconds": seconds,
                     **({"best_epoch": extra["best_epoch"]} if extra and "best_epoch" in extra else {})})
        _log(f"  {name}: accuracy {s['accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f} ({seconds:.0f} s)")

    started = time.perf_counter()
    dummy = DummyClassifier(strategy="most_frequent").fit(mfcc[train_part], y[train_part])
    record("majority class", dummy.predict(mfcc[test_part]), time.perf_counter() - started)
    started = time.perf_counter()
    logreg = make_mfcc_logreg().fit(mfcc[train_part], y[train_part])
    record("MFCC stats + logistic regression", logreg.predict(mfcc[test_part]), time.perf_counter() - started)

    variants = cnn_variants(args.epochs, args.seed)
    default_run = None
    for variant in args.variants:
        clf = variants[variant].set_params(validation_fold=valid_fold,
                                           callbacks=[("train_acc", RunningTrainAccuracy())])
        started = time.perf_counter()
        clf.fit(X[cnn_fit], y[cnn_fit], groups=groups[cnn_fit])
        seconds = time.perf_counter() - started
        proba = clf.predict_proba(X[test_part])
        y_pred = clf.classes_[proba.argmax(1)]
        record(f"CNN {variant}", y_pred, seconds,
               {"best_epoch": clf.best_epoch_, "params": {k: repr(v) for k, v in clf.get_params().items()
                                                          if k in ("lr", "max_epochs", "spec_augment", "class_weight",
                                                                   "module__channels", "validation_fold")},
                "history": history_rows(clf)})
        if variant == "default":
            by_class = np.zeros((len(proba), len(names)))
            by_class[:, clf.classes_] = proba  # columns in classID order, even if a class was not seen
            default_run = {"proba": by_class, "history": history_rows(clf), "test_index": np.flatnonzero(test_part)}

    if args.notebook_pipeline:
        from notebook_pipeline import audio_paths, fit_notebook, predict_notebook

        paths = np.array(audio_paths(meta, ds.audio_root))
        started = time.perf_counter()
        model, history = fit_notebook((paths[cnn_train], y[cnn_train]), (paths[cnn_valid], y[cnn_valid]),
                                      epochs=args.epochs, seed=args.seed, n_classes=len(names), log=_log)
        seconds = time.perf_counter() - started
        proba = predict_notebook(model, paths[test_part], y[test_part])
        best = int(np.argmin([h["valid_loss"] for h in history])) + 1
        record("notebook pipeline + SmallAudioCNN", proba.argmax(1), seconds, {"best_epoch": best, "history": history})

    note = (f"Dataset: **{ds.label}**. Notebook protocol: train on folds {train_folds[0]}-{train_folds[-1]} "
            f"({int(train_part.sum())} clips; the CNNs: {int(cnn_train.sum())}), choose the epoch with the lowest "
            f"loss on fold {valid_fold} ({int(cnn_valid.sum())} clips, CNNs only: `validation_fold={valid_fold}`, "
            f"best weights restored), test on all of fold {test_fold} ({int(test_part.sum())} clips). "
            f"CNNs: up to {args.epochs} epochs, "
            f"batch 64, AdamW lr 1e-3, `random_state={args.seed}`. {reduction_note(args, parts=('clips', 'epochs'))}")
    table = _common.markdown_table(rows, ["model", "accuracy", "macro_f1", "best_epoch", "fit_seconds"])
    per_class_rows = [{"class": c, **{r["model"]: details[r["model"]]["per_class"][c]["f1-score"] for r in rows}}
                      for c in names]
    per_class = _common.markdown_table(per_class_rows, ["class", *[r["model"] for r in rows]])
    md = f"{note}\n\n{table}\n\nPer-class F1 on fold {test_fold}:\n\n{per_class}"
    payload = {"protocol": "notebook", "reduction": reduction_note(args, parts=("clips", "epochs")),
               "train_folds": train_folds, "valid_fold": valid_fold, "test_fold": test_fold,
               "n_train": int(train_part.sum()), "n_train_cnn": int(cnn_train.sum()), "n_valid": int(cnn_valid.sum()),
               "n_test": int(test_part.sum()), "epochs": args.epochs, "seed": args.seed, "rows": rows,
               "details": details}
    folder = _common.results_folder(ds.label, results_dir)
    _plot_scores(rows, f"Notebook protocol (test fold {test_fold}): {ds.label}",
                 folder / f"{result_name(args, 'notebook')}.png")
    plot_per_class_f1(list(names), {r["model"]: [details[r["model"]]["per_class"][c]["f1-score"] for c in names]
                                    for r in rows},
                      f"Per-class F1, notebook protocol: {ds.label}",
                      folder / f"{result_name(args, 'notebook')}_per_class.png")
    _common.write_results(result_name(args, "notebook"), ds.label, payload, md, results_dir=results_dir)
    print(md)
    if default_run is not None and args.report:
        test_index = default_run["test_index"]
        report.write_report(
            label=ds.label, class_names=names, y_true=y[test_index], proba=default_run["proba"],
            metadata=meta.iloc[test_index].reset_index(drop=True), logmels=X[test_index],
            history=default_run["history"], results_dir=results_dir,
            protocol=(f"CNN default under the notebook protocol (train folds {train_folds[0]}-{train_folds[-1]}, "
                      f"validate fold {valid_fold}, test fold {test_fold}; {args.epochs} epochs max). "
                      + reduction_note(args, parts=("clips", "epochs"))),
        )
    return payload


# ----------------------------------------------------------------------------
# protocol 2: the official 10-fold cross-validation


def run_official_protocol(ds: Dataset, args, results_dir):
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_score

    from estimators import make_mfcc_logreg, make_notebook_cnn

    store = ds.store
    X, y, groups, _ = store.load("logmel")
    mfcc, *_ = store.load("mfcc_stats")
    splits = list(LeaveOneGroupOut().split(X, y, groups))
    all_folds = [int(groups[test][0]) for _, test in splits]
    # --max-clips-per-fold thins the CNN's training folds only; every test fold is scored in full
    thinned = np.zeros(len(y), dtype=bool)
    thinned[subsample(y, groups, args.max_clips_per_fold, args.seed)] = True
    cnn_splits = [(train[thinned[train]], test) for (train, test), f in zip(splits, all_folds)
                  if not args.cv_folds or f in args.cv_folds]
    cnn_folds = [int(groups[test][0]) for _, test in cnn_splits]
    _log(f"official protocol on {ds.label}: {len(X)} clips, logreg on folds {all_folds}, CNN on folds {cnn_folds} "
         f"(training on {int(thinned.sum())} clips' worth of folds)")

    rows, details = [], {}
    started = time.perf_counter()
    logreg_scores = cross_val_score(make_mfcc_logreg(), mfcc, y, groups=groups, cv=splits, scoring="accuracy")
    seconds = time.perf_counter() - started
    rows.append({"estimator": "MFCC stats + logistic regression", "test_folds": len(splits),
                 "mean_accuracy": float(logreg_scores.mean()), "std_accuracy": float(logreg_scores.std()),
                 "seconds": seconds})
    details["logreg"] = dict(zip(all_folds, logreg_scores.tolist()))
    _log(f"  logreg: {logreg_scores.mean():.3f} +- {logreg_scores.std():.3f} ({seconds:.0f} s)")

    started = time.perf_counter()
    cnn = make_notebook_cnn(max_epochs=args.epochs, random_state=args.seed, validation_fold=None)
    cnn_scores = cross_val_score(cnn, X, y, groups=groups, cv=cnn_splits, scoring="accuracy")
    seconds = time.perf_counter() - started
    rows.append({"estimator": "CNN default (no validation, fixed epochs)", "test_folds": len(cnn_splits),
                 "mean_accuracy": float(cnn_scores.mean()), "std_accuracy": float(cnn_scores.std()),
                 "seconds": seconds})
    details["cnn"] = dict(zip(cnn_folds, cnn_scores.tolist()))
    _log(f"  CNN: {cnn_scores.mean():.3f} +- {cnn_scores.std():.3f} ({seconds:.0f} s)")

    reduction = reduction_note(args, parts=("clips", "epochs", "cv_folds"))
    note = (f"Dataset: **{ds.label}**. Official protocol: `cross_val_score(..., cv=LeaveOneGroupOut(), "
            f"groups=fold)`, each fold tested once by a model trained on the others ({len(X)} clips in all). "
            f"The CNN (`make_notebook_cnn()`, `validation_fold=None`) trains {args.epochs} epochs with nothing held out "
            f"and keeps its last epoch. Mean and standard deviation are over the test folds; every test fold is "
            f"scored in full, and logistic regression always trains on all other clips. {reduction}")
    table = _common.markdown_table(rows, ["estimator", "test_folds", "mean_accuracy", "std_accuracy", "seconds"])
    fold_rows = [{"test fold": f, "logreg": details["logreg"][f], "CNN": details["cnn"].get(f, "")} for f in all_folds]
    fold_table = _common.markdown_table(fold_rows, ["test fold", "logreg", "CNN"])
    md = f"{note}\n\n{table}\n\nAccuracy per test fold:\n\n{fold_table}"
    payload = {"protocol": "official LeaveOneGroupOut", "reduction": reduction, "n_clips": len(X),
               "epochs": args.epochs, "seed": args.seed, "rows": rows, "per_fold": details}
    folder = _common.results_folder(ds.label, results_dir)
    plot_fold_accuracy(all_folds, {"MFCC stats + logistic regression": details["logreg"], "CNN default": details["cnn"]},
                       f"LeaveOneGroupOut over folds: {ds.label}", folder / f"{result_name(args, 'official')}.png")
    _common.write_results(result_name(args, "official"), ds.label, payload, md, results_dir=results_dir)
    print(md)
    return payload


# ----------------------------------------------------------------------------
# protocol 3: grid search with grouped CV


GRIDS = {
    "small": {"lr": [1e-3, 3e-3], "spec_augment": [False, True], "class_weight": [None, "balanced"]},
    "full": {"lr": [3e-4, 1e-3, 3e-3], "spec_augment": [False, True], "class_weight": [None, "balanced"]},
}


def run_grid(ds: Dataset, args, results_dir):
    import pandas as pd
    from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut

    from estimators import make_notebook_cnn

    folds = args.grid_folds or list(ds.store.folds)
    X, y, groups, _ = ds.store.load("logmel", folds=folds)
    keep = subsample(y, groups, args.max_clips_per_fold, args.seed)
    X, y, groups = X[keep], y[keep], groups[keep]
    grid = GRIDS[args.grid]
    n_candidates = int(np.prod([len(v) for v in grid.values()]))
    _log(f"grid search on {ds.label}: {n_candidates} candidates x {len(folds)} folds, {len(X)} clips")
    search = GridSearchCV(make_notebook_cnn(max_epochs=args.epochs, random_state=args.seed), grid,
                          cv=LeaveOneGroupOut(), scoring="accuracy", refit=False, n_jobs=1)
    started = time.perf_counter()
    search.fit(X, y, groups=groups)
    seconds = time.perf_counter() - started
    cv = pd.DataFrame(search.cv_results_)
    columns = ["rank_test_score", "param_lr", "param_spec_augment", "param_class_weight", "mean_test_score",
               "std_test_score", "mean_fit_time"]
    cv_rows = []
    for i in np.argsort(cv["rank_test_score"].to_numpy(), kind="stable"):
        params = search.cv_results_["params"][i]
        cv_rows.append({
            "rank_test_score": int(cv["rank_test_score"].iloc[i]),
            **{f"param_{k}": repr(params[k]) if k == "class_weight" else params[k] for k in grid},
            **{c: float(cv[c].iloc[i]) for c in ("mean_test_score", "std_test_score", "mean_fit_time")},
        })
    best = {k: (None if v is None else v) for k, v in search.best_params_.items()}
    _log(f"  best {best}: {search.best_score_:.3f} ({seconds:.0f} s)")
    reduction = reduction_note(args, parts=("grid_clips", "epochs", "grid"))
    note = (f"Dataset: **{ds.label}**. `GridSearchCV(make_notebook_cnn(max_epochs={args.epochs}, "
            f"random_state={args.seed}), grid, cv=LeaveOneGroupOut(), scoring='accuracy')` with groups = fold, over "
            f"folds {','.join(map(str, folds))} ({len(X)} clips); grid: `{grid}`; no validation inside a fit. "
            f"{reduction} Best parameters: `{best}`, mean accuracy {search.best_score_:.3f}; "
            f"{n_candidates * len(folds)} fits in {seconds:.0f} s.")
    md = f"{note}\n\n{_common.markdown_table(cv_rows, columns)}"
    payload = {"protocol": "GridSearchCV LeaveOneGroupOut", "reduction": reduction, "grid": grid, "folds": folds,
               "n_clips": len(X), "epochs": args.epochs, "seed": args.seed, "best_params": best,
               "best_score": float(search.best_score_), "seconds": seconds,
               "cv_results": {k: (v.tolist() if hasattr(v, "tolist") else list(v))
                              for k, v in search.cv_results_.items() if k != "params"},
               "cv_params": [{k: v for k, v in p.items()} for p in search.cv_results_["params"]]}
    folder = _common.results_folder(ds.label, results_dir)
    _plot_grid(cv_rows, ds.label, folder / f"{result_name(args, 'grid')}.png")
    _common.write_results(result_name(args, "grid"), ds.label, payload, md, results_dir=results_dir)
    print(md)
    return payload


# ----------------------------------------------------------------------------
# the real fold-1 clips: GroupKFold by recording, store estimators beside the notebook pipeline


def run_grouped(ds: Dataset, args, results_dir, *, n_splits=5):
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import GroupKFold

    from estimators import make_mfcc_logreg, make_notebook_cnn
    from notebook_pipeline import audio_paths, fit_notebook, predict_notebook

    store, names = ds.store, ds.store.class_names
    X, y, _, meta = store.load("logmel")
    mfcc, *_ = store.load("mfcc_stats")
    fsid = meta["fsID"].to_numpy()
    keep = subsample(y, np.zeros_like(y), args.real_max_clips or args.max_clips_per_fold, args.seed)
    X, mfcc, y, fsid, meta = X[keep], mfcc[keep], y[keep], fsid[keep], meta.iloc[keep].reset_index(drop=True)
    splits = list(GroupKFold(n_splits=n_splits, shuffle=True, random_state=args.seed).split(X, y, fsid))
    paths = None
    if args.notebook_pipeline_real:
        check_audio_matches(store, ds.audio_root)
        paths = np.array(audio_paths(meta, ds.audio_root))
    _log(f"grouped protocol on {ds.label}: {len(X)} clips, {len(np.unique(fsid))} recordings, {n_splits} splits")

    estimators = {
        "majority class": ("mfcc", lambda: DummyClassifier(strategy="most_frequent")),
        "MFCC stats + logistic regression": ("mfcc", make_mfcc_logreg),
        "CNN default (store)": ("logmel", lambda: make_notebook_cnn(max_epochs=args.epochs, random_state=args.seed)),
    }
    per_split = {name: [] for name in estimators}
    macro = {name: [] for name in estimators}
    seconds = {name: 0.0 for name in estimators}
    nb_name = "notebook pipeline + SmallAudioCNN (on-the-fly)"
    if paths is not None:
        per_split[nb_name], macro[nb_name], seconds[nb_name] = [], [], 0.0
    for k, (train, test) in enumerate(splits):
        for name, (feature, make) in estimators.items():
            data = mfcc if feature == "mfcc" else X
            started = time.perf_counter()
            pred = make().fit(data[train], y[train]).predict(data[test])
            seconds[name] += time.perf_counter() - started
            s = scores(y[test], pred, names)
            per_split[name].append(s["accuracy"])
            macro[name].append(s["macro_f1"])
        if paths is not None:
            started = time.perf_counter()
            model, _ = fit_notebook((paths[train], y[train]), None, epochs=args.epochs, seed=args.seed,
                                    n_classes=len(names), log=lambda m: None)
            pred = predict_notebook(model, paths[test], y[test]).argmax(1)
            seconds[nb_name] += time.perf_counter() - started
            s = scores(y[test], pred, names)
            per_split[nb_name].append(s["accuracy"])
            macro[nb_name].append(s["macro_f1"])
        _log(f"  split {k + 1}/{n_splits}: "
             + ", ".join(f"{n.split(' (')[0]} {v[-1]:.3f}" for n, v in per_split.items()))

    rows = [{"estimator": name, "mean_accuracy": float(np.mean(v)), "std_accuracy": float(np.std(v)),
             "mean_macro_f1": float(np.mean(macro[name])), "seconds": seconds[name]} for name, v in per_split.items()]
    reduction = reduction_note(args, parts=("real_clips", "real_epochs"))
    note = (f"Dataset: **{ds.label}**. One fold only, so no fold protocol: `GroupKFold(n_splits={n_splits}, "
            f"shuffle=True, random_state={args.seed})` with groups = fsID (all slices of a recording on one side), "
            f"{len(X)} clips. Both CNNs train {args.epochs} epochs with no validation and keep the last epoch; the "
            f"store CNN is `make_notebook_cnn()` on the stored log-mels, the notebook pipeline decodes, resamples and "
            f"computes log-mels of the same clips every epoch (random 4 s crop in training). `seconds` is the total "
            f"fit + predict time over the splits. {reduction}")
    table = _common.markdown_table(rows, ["estimator", "mean_accuracy", "std_accuracy", "mean_macro_f1", "seconds"])
    split_rows = [{"split": k + 1, **{n: v[k] for n, v in per_split.items()}} for k in range(n_splits)]
    md = (f"{note}\n\n{table}\n\nAccuracy per split:\n\n"
          f"{_common.markdown_table(split_rows, ['split', *per_split])}")
    payload = {"protocol": f"GroupKFold({n_splits}) by fsID", "reduction": reduction, "n_clips": len(X),
               "epochs": args.epochs, "seed": args.seed, "rows": rows, "per_split": per_split,
               "per_split_macro_f1": macro}
    folder = _common.results_folder(ds.label, results_dir)
    _plot_grouped(rows, ds.label, folder / f"{result_name(args, 'grouped')}.png")
    _common.write_results(result_name(args, "grouped"), ds.label, payload, md, results_dir=results_dir)
    print(md)
    return payload


# ----------------------------------------------------------------------------
# plots


def _plot_scores(rows, title, path):
    plt = _common.pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.5 + 0.45 * len(rows)))
    names = [r["model"] for r in rows]
    pos = np.arange(len(rows))
    ax.barh(pos - 0.2, [r["accuracy"] for r in rows], height=0.4, label="accuracy")
    ax.barh(pos + 0.2, [r["macro_f1"] for r in rows], height=0.4, label="macro-F1")
    ax.set_yticks(pos, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right")
    ax.set_title(title, fontsize=10)
    _common.save_figure(fig, path)


def _plot_grid(cv_rows, label, path):
    plt = _common.pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.35 * len(cv_rows)))
    names = [f"lr={r['param_lr']:g}, specaug={r['param_spec_augment']}, cw={r['param_class_weight']}" for r in cv_rows]
    ax.barh(names, [r["mean_test_score"] for r in cv_rows], xerr=[r["std_test_score"] for r in cv_rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean accuracy over the grouped CV folds")
    ax.set_title(f"GridSearchCV: {label}", fontsize=10)
    _common.save_figure(fig, path)


def _plot_grouped(rows, label, path):
    plt = _common.pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.6 + 0.5 * len(rows)))
    ax.barh([r["estimator"] for r in rows], [r["mean_accuracy"] for r in rows],
            xerr=[r["std_accuracy"] for r in rows], color="tab:blue")
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("accuracy, mean +- std over GroupKFold splits by fsID")
    ax.set_title(label, fontsize=10)
    _common.save_figure(fig, path)


# ----------------------------------------------------------------------------
# command line


def _folds(text):
    return [int(f) for f in text.split(",") if f.strip()]


def main_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    run = parser.add_argument_group("what to run (defaults: the full protocols)")
    run.add_argument("--protocols", default="notebook,official,grid",
                     help="comma-separated subset of notebook,official,grid (default: %(default)s)")
    run.add_argument("--variants", default="default,specaugment,balanced",
                     help="CNN variants for the notebook protocol, of default,specaugment,balanced,large "
                          "(default: %(default)s)")
    run.add_argument("--epochs", type=int, default=FULL_EPOCHS, help="CNN epochs (default: %(default)s)")
    run.add_argument("--max-clips-per-fold", type=int, default=None, help="seeded random subset of every fold")
    run.add_argument("--cv-folds", type=_folds, default=None,
                     help="official protocol: score the CNN on these test folds only, e.g. 1,2,3 (default: all)")
    run.add_argument("--grid", choices=sorted(GRIDS), default="full", help="grid size (default: %(default)s)")
    run.add_argument("--grid-folds", type=_folds, default=None,
                     help="grid search: use the clips of these folds only (LeaveOneGroupOut over them)")
    run.add_argument("--report", action="store_true",
                     help="also write the error-analysis report of the notebook-protocol default CNN")
    run.add_argument("--notebook-pipeline", action="store_true",
                     help="notebook protocol: also train the notebook's on-the-fly pipeline (needs the audio files)")
    run.add_argument("--tag", type=lambda t: re.sub(r"[^a-z0-9]+", "-", t.lower()).strip("-") or None,
                     help="name this run's results bench_accuracy_<tag>_<protocol> (e.g. to keep a reduced "
                          "comparison beside a full run)")
    run.add_argument("--no-real", action="store_true", help="skip the run on the real fold-1 clips")
    run.add_argument("--no-notebook-real", dest="notebook_pipeline_real", action="store_false",
                     help="real clips: leave out the notebook pipeline")
    run.add_argument("--real-splits", type=int, default=5, help="GroupKFold splits on the real clips")
    run.add_argument("--real-max-clips", type=int, default=None,
                     help="real clips: a seeded random subset of this many clips (default: all)")
    return parser


def main(argv=None) -> int:
    parser = main_parser()
    args = parser.parse_args(argv)
    protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    unknown = set(protocols) - {"notebook", "official", "grid"}
    if unknown:
        parser.error(f"unknown protocols {sorted(unknown)}; choose from notebook, official, grid")
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if set(args.variants) - {"default", "specaugment", "balanced", "large"}:
        parser.error(f"unknown CNN variants in {args.variants}; choose from default, specaugment, balanced, large")
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.quick:
        args.epochs = min(args.epochs, 1)
        args.max_clips_per_fold = args.max_clips_per_fold or 12
        args.grid = "small"
        args.grid_folds = args.grid_folds or [1, 2]
        args.cv_folds = args.cv_folds or [1, 2]
        args.real_max_clips = args.real_max_clips or 60
        args.real_splits = min(args.real_splits, 3)
    need_audio = args.notebook_pipeline

    with open_dataset(args, need_audio=need_audio) as ds:
        is_real = not ds.fold_based
        if is_real:
            if ds.audio_root is None and args.notebook_pipeline_real:
                if args.source:
                    ds.audio_root = Path(args.source)
                elif ds.label == _common.REAL_DEV_LABEL:
                    ds.audio_root = Path(args.real_data)
                else:
                    raise SystemExit("error: the notebook pipeline needs the audio files: pass --source FOLDER "
                                     "(or --no-notebook-real)")
            run_grouped(ds, args, args.results_dir, n_splits=args.real_splits)
        else:
            if "notebook" in protocols:
                run_notebook_protocol(ds, args, args.results_dir)
            if "official" in protocols:
                run_official_protocol(ds, args, args.results_dir)
            if "grid" in protocols:
                run_grid(ds, args, args.results_dir)
    if not is_real and not args.no_real:
        if real_data_present(args.real_data):
            with tempfile.TemporaryDirectory(prefix="bench-real-") as tmp, _common.open_data(str(args.real_data)) as src:
                store, seconds = build_temporary_store(src, Path(tmp))
                label = dataset_label(store, real_data=args.real_data)
                _log(f"built a store of the real clips ({len(store)}) in {seconds:.1f} s")
                real = Dataset(store=store, label=label, audio_root=Path(args.real_data), build_seconds=seconds)
                run_grouped(real, args, args.results_dir, n_splits=args.real_splits)
        else:
            print(f"no real UrbanSound8K clips at {args.real_data}: skipped the real-data comparison")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
