"""The report of an evaluation, built from its results file alone: tables, figures, the clips to listen to.

``write_report(out)`` reads ``out/results.jsonl`` and writes into ``out``:

* ``report.md``: the run (store, protocol, seed), a summary per model (mean and
  standard deviation over the test folds of accuracy and macro-F1, fit time),
  the figures of every fold, per-class F1 of every model side by side, and per
  model its most-confused class pairs and most confident mistakes (file, fold,
  true and predicted class, confidence, top-3);
* ``report.json``: the same figures, and the confusion matrices;
* ``report_fold_accuracy.png``, ``report_per_class_f1.png`` and one
  ``report_confusion_<model>.png`` per model.

Every file is written to a temporary file in ``out`` and renamed into place.
"""

import contextlib
import json
import os
import re
import uuid
from pathlib import Path

import numpy as np

from .metrics import audit_rows, confident_mistakes, confused_pairs, mean_std, scores
from .results import RESULTS, read_results, result_key

__all__ = ["build_report", "markdown_table", "remove_report", "write_report"]

N_PAIRS = 10
N_MISTAKES = 10


def markdown_table(rows: list, columns: list) -> str:
    """A GitHub Markdown table of ``rows`` (list of dicts) in ``columns`` order; floats to 3 significant digits."""
    def cell(v):
        if isinstance(v, float):
            return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def slug(name: str) -> str:
    """A file-name form of a model name: ``"pkg.mod:make@mfcc_stats"`` -> ``"pkg-mod-make-mfcc_stats"``."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-") or "model"


@contextlib.contextmanager
def _replacing(path: Path):
    """A temporary path beside ``path`` (same suffix) that is renamed to ``path`` when the block succeeds."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_text(path: Path, text: str):
    with _replacing(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def remove_report(out):
    """Delete the report files of ``out`` (``report.md``, ``report.json``, ``report_*.png``)."""
    out = Path(out)
    for path in [out / "report.md", out / "report.json", *out.glob("report_*.png")]:
        path.unlink(missing_ok=True)


def _fold_text(fold) -> str:
    return str(fold)


def build_report(header: dict, records: list, *, n_examples=N_MISTAKES) -> dict:
    """The figures of the report (what ``report.json`` holds) from a run header and its result records."""
    from sklearn.metrics import confusion_matrix

    class_names = header["class_names"]
    order = [s["test_fold"] for s in header["protocol"]["splits"]]
    models = []
    for model in header["models"]:
        by_key = {result_key(r["model"], r["test_fold"]): r for r in records}
        done = [by_key[result_key(model["name"], f)] for f in order if result_key(model["name"], f) in by_key]
        folds = [{k: r[k] for k in ("test_fold", "n_train", "n_test", "accuracy", "macro_f1", "fit_seconds",
                                    "score_seconds", "best_epoch", "validation_fold")} for r in done]
        entry = {**model, "n_folds_done": len(done), "n_folds": len(order), "folds": folds}
        if done:
            y_true = np.concatenate([r["y_true"] for r in done]).astype(np.int64)
            y_pred = np.concatenate([r["y_pred"] for r in done]).astype(np.int64)
            proba = np.concatenate([np.asarray(r["proba"], dtype=float).reshape(-1, len(class_names)) for r in done])
            files = [f for r in done for f in r["files"]]
            fold_of = [r["test_fold"] for r in done for _ in r["y_true"]]
            s = scores(y_true, y_pred, class_names)
            cm = confusion_matrix(y_true, y_pred, labels=list(range(len(class_names))))
            mistakes = confident_mistakes(y_true, proba, n_examples)
            entry.update({
                "mean_accuracy": mean_std([f["accuracy"] for f in folds])[0],
                "std_accuracy": mean_std([f["accuracy"] for f in folds])[1],
                "mean_macro_f1": mean_std([f["macro_f1"] for f in folds])[0],
                "std_macro_f1": mean_std([f["macro_f1"] for f in folds])[1],
                "mean_fit_seconds": mean_std([f["fit_seconds"] for f in folds])[0],
                "pooled": {"n_test": int(len(y_true)), "accuracy": s["accuracy"], "macro_f1": s["macro_f1"]},
                "per_class": {c: s["per_class"][c] for c in class_names},
                "confusion_matrix": cm.tolist(),
                "confused_pairs": confused_pairs(cm, class_names, top=N_PAIRS),
                "n_mistakes": int((y_true != y_pred).sum()),
                "confident_mistakes": audit_rows(mistakes, y_true, proba, class_names, files=files, folds=fold_of),
            })
        models.append(entry)
    return {
        "label": header.get("label"), "store": header["store"], "protocol": header["protocol"],
        "seed": header["seed"], "class_names": class_names, "complete": all(
            m["n_folds_done"] == m["n_folds"] for m in models), "models": models,
    }


def _markdown(payload: dict, figures: dict) -> str:
    label, store, protocol = payload["label"], payload["store"], payload["protocol"]
    models = payload["models"]
    sizes = ", ".join(f"{fold}: {n}" for fold, n in store["fold_sizes"])
    parts = [
        f"# Evaluation: {label}",
        f"Dataset: **{label}**. Store `{Path(store['path']).name}` ({store['source']}; clips per fold {sizes}), "
        f"{len(payload['class_names'])} classes. Protocol: {protocol['description']}. Seed {payload['seed']} "
        f"(`random_state` of every estimator, the same for every fold). Mean and standard deviation are over "
        f"the test folds (`ddof=0`, as `cross_val_score(...).std()`); `fit s` is the wall time of one fit.",
    ]
    if not payload["complete"]:
        parts.append("**Incomplete run**: " + "; ".join(
            f"{m['name']} has {m['n_folds_done']} of {m['n_folds']} folds" for m in models
            if m["n_folds_done"] < m["n_folds"]) + ". Run `evaluate --resume` to finish it.")
    summary = [{"model": m["name"], "estimator": f"`{m['description']}`", "feature": m["feature"],
                "folds": f"{m['n_folds_done']}/{m['n_folds']}",
                "accuracy": f"{m['mean_accuracy']:.3f} ± {m['std_accuracy']:.3f}" if m["n_folds_done"] else "",
                "macro-F1": f"{m['mean_macro_f1']:.3f} ± {m['std_macro_f1']:.3f}" if m["n_folds_done"] else "",
                "fit s": m.get("mean_fit_seconds", "")} for m in models]
    parts += ["## Summary", markdown_table(summary, ["model", "estimator", "feature", "folds", "accuracy",
                                                     "macro-F1", "fit s"])]
    order = [s["test_fold"] for s in protocol["splits"]]
    rows = []
    for fold in order:
        row = {"test fold": _fold_text(fold)}
        for m in models:
            for f in m["folds"]:
                if f["test_fold"] == fold:
                    row.update({"test clips": f["n_test"], f"{m['name']} accuracy": f["accuracy"],
                                f"{m['name']} macro-F1": f["macro_f1"], f"{m['name']} fit s": f["fit_seconds"]})
        rows.append(row)
    columns = ["test fold", "test clips", *[f"{m['name']} {k}" for m in models for k in ("accuracy", "macro-F1",
                                                                                          "fit s")]]
    parts += ["## Per test fold", markdown_table(rows, columns)]
    if "fold_accuracy" in figures:
        parts.append(f"![accuracy per test fold]({figures['fold_accuracy']})")
    done = [m for m in models if m["n_folds_done"]]
    if done:
        per_class = [{"class": c, "support": done[0]["per_class"][c]["support"],
                      **{m["name"]: m["per_class"][c]["f1-score"] for m in done}} for c in payload["class_names"]]
        parts += ["## F1 per class (all test clips)", markdown_table(per_class, ["class", "support",
                                                                                 *[m["name"] for m in done]])]
        if "per_class_f1" in figures:
            parts.append(f"![per-class F1]({figures['per_class_f1']})")
    for m in done:
        parts.append(f"## {m['name']}: what it gets wrong")
        parts.append(f"Over all {m['pooled']['n_test']} test clips: accuracy {m['pooled']['accuracy']:.3f}, "
                     f"macro-F1 {m['pooled']['macro_f1']:.3f}, {m['n_mistakes']} mistakes.")
        if m["name"] in figures.get("confusion", {}):
            parts.append(f"![confusion matrix, {m['name']}]({figures['confusion'][m['name']]})")
        parts.append("Most confused class pairs (true -> predicted, clips):")
        parts.append(markdown_table(m["confused_pairs"], ["true", "pred", "count"]) if m["confused_pairs"]
                     else "(no mistakes)")
        parts.append(f"Most confident mistakes ({len(m['confident_mistakes'])} of {m['n_mistakes']}), to listen to:")
        parts.append(markdown_table(m["confident_mistakes"], ["file", "fold", "true", "pred", "confidence", "top_3"])
                     if m["confident_mistakes"] else "(none)")
    return "\n\n".join(parts) + "\n"


def _figures(payload: dict, out: Path) -> dict:
    from .plots import plot_confusion, plot_fold_accuracy, plot_per_class_f1

    label, class_names = payload["label"], payload["class_names"]
    done = [m for m in payload["models"] if m["n_folds_done"]]
    figures = {"confusion": {}}
    if not done:
        return figures
    order = [s["test_fold"] for s in payload["protocol"]["splits"]]
    name = "report_fold_accuracy.png"
    with _replacing(out / name) as tmp:
        plot_fold_accuracy([_fold_text(f) for f in order],
                           {m["name"]: {_fold_text(f["test_fold"]): f["accuracy"] for f in m["folds"]} for m in done},
                           f"Accuracy per test fold\n{label}", tmp)
    figures["fold_accuracy"] = name
    name = "report_per_class_f1.png"
    with _replacing(out / name) as tmp:
        plot_per_class_f1(class_names, {m["name"]: [m["per_class"][c]["f1-score"] for c in class_names] for m in done},
                          f"F1 per class, all test clips\n{label}", tmp)
    figures["per_class_f1"] = name
    for m in done:
        name = f"report_confusion_{slug(m['name'])}.png"
        with _replacing(out / name) as tmp:
            plot_confusion(np.array(m["confusion_matrix"]), class_names,
                           f"Confusion matrix, {m['name']}, all test clips\n{label}", tmp)
        figures["confusion"][m["name"]] = name
    return figures


def write_report(out, *, label=None, figures=True) -> Path:
    """Write ``report.md``, ``report.json`` and the figures into ``out`` from its ``results.jsonl``.

    Parameters
    ----------
    out : str or Path
        An evaluation's output folder.
    label : str or None, default=None
        The dataset's name in the report (default: the one the run recorded).
    figures : bool, default=True
        Draw the PNG figures (needs matplotlib).

    Returns
    -------
    Path
        ``out/report.md``.

    Raises
    ------
    MissingDependencyError
        If ``figures`` and matplotlib is not installed.
    """
    out = Path(out)
    header, records, _ = read_results(out / RESULTS)
    if label:
        header = {**header, "label": label}
    payload = build_report(header, records)
    if figures:
        from .plots import pyplot

        pyplot()  # a missing matplotlib is reported before anything is written
    drawn = _figures(payload, out) if figures else {"confusion": {}}
    payload["figures"] = drawn
    _write_text(out / "report.json", json.dumps(payload, indent=2, default=str) + "\n")
    _write_text(out / "report.md", _markdown(payload, drawn))
    return out / "report.md"


def summary_lines(payload_or_out) -> list:
    """A few lines summing up a run: per model the mean accuracy and macro-F1 with their spread, and the fit time."""
    if isinstance(payload_or_out, dict):
        payload = payload_or_out
    else:
        header, records, _ = read_results(Path(payload_or_out) / RESULTS)
        payload = build_report(header, records, n_examples=0)
    width = max(len(m["name"]) for m in payload["models"])
    lines = [f"{payload['label']}: {payload['protocol']['description']}; seed {payload['seed']}"]
    for m in payload["models"]:
        if not m["n_folds_done"]:
            lines.append(f"  {m['name']:<{width}}  no fold done")
            continue
        lines.append(f"  {m['name']:<{width}}  accuracy {m['mean_accuracy']:.3f} ± {m['std_accuracy']:.3f}  "
                     f"macro-F1 {m['mean_macro_f1']:.3f} ± {m['std_macro_f1']:.3f}  "
                     f"over {m['n_folds_done']} of {m['n_folds']} folds, {m['mean_fit_seconds']:.1f} s per fit")
    return lines
