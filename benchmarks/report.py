"""The reference notebook's error analysis of the CNN, as a generated Markdown report with PNGs.

    python benchmarks/report.py --store synthetic-full.h5              # notebook protocol, 10 epochs
    python benchmarks/report.py --store S --epochs 4 --max-clips-per-fold 300   # reduced, labelled
    python benchmarks/report.py --store real-fold1.h5                  # real fold 1: one grouped split
    python benchmarks/report.py --quick                                # CI-sized, generated data

On a 10-fold store the notebook's CNN (``make_notebook_cnn()``) is trained on folds 1-8 with
fold 9 as validation (``validation_fold=9``, best validation loss restored) and
analysed on fold 10, as in the notebook. On a one-fold store (the real fold-1
copies) the test set is the first split of ``GroupKFold(5)`` by fsID and the
validation set an inner group split by fsID of the rest.

The report (``results/<dataset>/report.md`` and ``report_*.png``) holds: learning
curves from skorch's ``history`` (train loss and the running train accuracy of the
batches, validation loss and accuracy), the classification report, the confusion
matrix with class names, the most-confused class pairs, the most confident mistakes
and the least confident correct predictions with their top-3 probabilities and file
names (from the store's metadata), and the log-mel images of some of them.
``bench_accuracy.py --report`` writes the same report without training again.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import _datasets  # noqa: E402
import _scoring  # noqa: E402

from estimators.evaluation.metrics import audit_rows, confused_pairs  # noqa: E402
from estimators.evaluation.plots import (  # noqa: E402
    plot_confused_pairs,
    plot_confusion,
    plot_learning_curves,
    plot_logmels,
)

NAME = "report"


def write_report(*, label, class_names, y_true, proba, metadata, logmels, history, results_dir=None,
                 protocol="", n_examples=6) -> Path:
    """Write ``report.md`` / ``report.json`` and the ``report_*.png`` figures for one fitted CNN.

    Parameters
    ----------
    label : str
        Dataset name (shown in every table).
    class_names : sequence of str
    y_true : ndarray of int, shape (n_clips,)
        classIDs of the analysed (test) clips.
    proba : ndarray of float, shape (n_clips, n_classes)
        Predicted probabilities, columns in classID order.
    metadata : DataFrame
        The store metadata of those clips (``slice_file_name``, ``fold``, ...).
    logmels : ndarray, shape (n_clips, n_mels, n_frames)
        Their stored log-mels (dB), for the images.
    history : list of dict
        Per-epoch rows with ``epoch``, ``train_loss``, ``train_acc``, ``valid_loss``, ``valid_acc``.
    """
    from sklearn.metrics import confusion_matrix

    class_names = list(class_names)
    y_true = np.asarray(y_true)
    y_pred = proba.argmax(1)
    confidence = proba.max(1)
    folder = _common.results_folder(label, results_dir)

    s = _scoring.scores(y_true, y_pred, class_names)
    cm = confusion_matrix(y_true, y_pred, labels=list(range(len(class_names))))
    pairs = confused_pairs(cm, class_names)
    wrong = np.flatnonzero(y_pred != y_true)
    right = np.flatnonzero(y_pred == y_true)
    confident_wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:n_examples]
    unsure_right = right[np.argsort(confidence[right], kind="stable")][:n_examples]
    clips = {"files": metadata["slice_file_name"].to_numpy(), "folds": metadata["fold"].to_numpy()}
    wrong_rows = audit_rows(confident_wrong, y_true, proba, class_names, **clips)
    unsure_rows = audit_rows(unsure_right, y_true, proba, class_names, **clips)

    plot_learning_curves(history, f"Learning curves: {label}", folder / f"{NAME}_learning_curves.png")
    plot_confusion(cm, class_names, f"Confusion matrix, CNN: {label}", folder / f"{NAME}_confusion_matrix.png")
    plot_confused_pairs(pairs, f"Most-confused pairs (true -> predicted): {label}",
                        folder / f"{NAME}_confused_pairs.png")
    plot_logmels(confident_wrong, wrong_rows, logmels, f"Most confident mistakes: {label}",
                 folder / f"{NAME}_logmel_confident_mistakes.png")
    plot_logmels(unsure_right, unsure_rows, logmels, f"Least confident correct predictions: {label}",
                 folder / f"{NAME}_logmel_unsure_correct.png")

    per_class = [{"class": c, **{k: s["per_class"][c][k] for k in ("precision", "recall", "f1-score", "support")}}
                 for c in class_names]
    hist_cols = [c for c in ("epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "dur")
                 if any(c in h for h in history)]
    md = "\n\n".join([
        f"Dataset: **{label}**. {protocol} {len(y_true)} test clips: accuracy {s['accuracy']:.3f}, "
        f"macro-F1 {s['macro_f1']:.3f}. Train accuracy is the running accuracy of the training batches "
        "(as in the notebook); validation figures are computed after each epoch.",
        "Learning curves (skorch `history`):",
        _common.markdown_table(history, hist_cols),
        "Classification report on the test clips:",
        _common.markdown_table(per_class, ["class", "precision", "recall", "f1-score", "support"]),
        "Most-confused class pairs (true -> predicted, clips):",
        _common.markdown_table(pairs, ["true", "pred", "count"]) if pairs else "(no mistakes)",
        f"Most confident mistakes ({len(wrong_rows)} of {len(wrong)}):",
        _common.markdown_table(wrong_rows, ["file", "fold", "true", "pred", "confidence", "top_3"])
        if wrong_rows else "(none)",
        f"Least confident correct predictions ({len(unsure_rows)} of {len(right)}):",
        _common.markdown_table(unsure_rows, ["file", "fold", "true", "pred", "confidence", "top_3"])
        if unsure_rows else "(none)",
    ])
    payload = {"protocol": protocol, "n_test": int(len(y_true)), "accuracy": s["accuracy"], "macro_f1": s["macro_f1"],
               "per_class": s["per_class"], "confusion_matrix": cm.tolist(), "class_names": class_names,
               "confused_pairs": pairs, "confident_mistakes": wrong_rows, "unsure_correct": unsure_rows,
               "history": history}
    _common.write_results(NAME, label, payload, md, results_dir=results_dir)
    print(md)
    return folder


def fit_and_report(ds, args):
    """Train the default CNN the notebook's way on ``ds`` and write its report."""
    from sklearn.model_selection import GroupKFold

    from estimators import make_notebook_cnn

    store = ds.store
    parts = ("clips", "epochs") if ds.fold_based else ("real_clips", "epochs")
    reduction = _scoring.reduction_note(args, parts=parts)
    clf = make_notebook_cnn(max_epochs=args.epochs, random_state=args.seed,
                           callbacks=[("train_acc", _scoring.RunningTrainAccuracy())])
    if ds.fold_based:
        X, y, groups, meta = store.load("logmel", folds=[f for f in store.folds if f <= 10])
        # --max-clips-per-fold thins the training and validation folds only; fold 10 is analysed in full
        thinned = np.zeros(len(y), dtype=bool)
        thinned[_scoring.subsample(y, groups, args.max_clips_per_fold, args.seed)] = True
        test = np.flatnonzero(groups == 10)
        fit = np.flatnonzero((groups != 10) & thinned)
        fit_groups = groups[fit]
        clf.set_params(validation_fold=9)
        protocol = (f"CNN default under the notebook protocol: train folds 1-8, validate fold 9 (best validation "
                    f"loss restored), test fold 10; {args.epochs} epochs max. {reduction}")
    else:
        X, y, _, meta = store.load("logmel")
        fsid = meta["fsID"].to_numpy()
        keep = _scoring.subsample(y, np.zeros_like(y), args.max_clips_per_fold, args.seed)
        X, y, fsid, meta = X[keep], y[keep], fsid[keep], meta.iloc[keep].reset_index(drop=True)
        fit, test = next(GroupKFold(n_splits=5, shuffle=True, random_state=args.seed).split(X, y, fsid))
        inner_train, inner_valid = next(GroupKFold(n_splits=5, shuffle=True, random_state=args.seed + 1)
                                        .split(fit, y[fit], fsid[fit]))
        fit_groups = np.zeros(len(fit), dtype=np.int64)
        fit_groups[inner_valid] = 1
        clf.set_params(validation_fold=1)
        protocol = (f"CNN default, test = the first split of GroupKFold(5) by fsID, validation = an inner "
                    f"GroupKFold(5) split by fsID of the rest (best validation loss restored); {args.epochs} epochs "
                    f"max. {reduction}")
    print(f"[{time.strftime('%H:%M:%S')}] fitting the CNN on {len(fit)} clips, testing on {len(test)}", flush=True)
    clf.fit(X[fit], y[fit], groups=fit_groups)
    proba = clf.predict_proba(X[test])
    proba_by_class = np.zeros((len(test), len(store.class_names)))
    proba_by_class[:, clf.classes_] = proba
    return write_report(label=ds.label, class_names=store.class_names, y_true=y[test], proba=proba_by_class,
                        metadata=meta.iloc[test].reset_index(drop=True), logmels=X[test],
                        history=_scoring.history_rows(clf), results_dir=args.results_dir, protocol=protocol)


def main_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _datasets.add_dataset_arguments(parser)
    parser.add_argument("--epochs", type=int, default=_scoring.FULL_EPOCHS)
    parser.add_argument("--max-clips-per-fold", type=int, default=None, help="seeded random subset of every fold")
    return parser


def main(argv=None) -> int:
    parser = main_parser()
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.quick:
        args.epochs = min(args.epochs, 2)
        args.max_clips_per_fold = args.max_clips_per_fold or 12
    with _datasets.open_dataset(args, need_audio=False) as ds:
        fit_and_report(ds, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
