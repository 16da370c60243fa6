"""Another dataset beside UrbanSound8K: building an ESC-50 store, and the estimators' accuracy on it.

    python benchmarks/bench_datasets.py                             # synthetic ESC-50 (2,000 clips) and UrbanSound8K (2,000)
    python benchmarks/bench_datasets.py --esc50 PATH/TO/ESC-50-master  # a real ESC-50 download, same protocol
    python benchmarks/bench_datasets.py --quick                     # CI-sized

Build: the same command line builds both datasets from folders in their own
layouts (``python -m featstore build FOLDER --out ...``, all cores), three times,
taking turns; the table gives the median wall time, clips/s and seconds of
source audio decoded per second (ESC-50 clips are 5 s of 44.1 kHz mono,
UrbanSound8K's up to 4 s in mixed formats), and the store's size.

Accuracy: the ESC-50 protocol, leave one fold out over its 5 folds
(``python -m estimators evaluate`` with the folds as groups), for
``make_mfcc_logreg()``, ``make_stats_boosting()`` and ``MelCNNClassifier()`` with
its defaults, which must work for 50 classes and 5 s clips with no change by the
user. Synthetic figures say nothing of accuracy on the real ESC-50 (Piczak's CNN:
64.5 %, human listeners: 81.3 %); they show the recipe runs and learns there.
"""

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

NAME = "bench_datasets"
MODELS = ("logreg", "boosting", "cnn")
MODEL_NAMES = {"logreg": "make_mfcc_logreg()", "boosting": "make_stats_boosting()", "cnn": "MelCNNClassifier()"}


def _audio_seconds(store) -> float:
    return float(store.metadata()["orig_duration"].sum())


def store_path(out_dir: Path, label: str) -> Path:
    return out_dir / (re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") + ".h5")


def build_throughput(folders: dict, out_dir: Path, *, repeats: int, jobs: int) -> list:
    """Median build of each ``{label: folder}``, in turns; one row per dataset."""
    from featstore import FeatureStore

    seconds = {label: [] for label in folders}
    for turn in range(repeats):
        for label, folder in folders.items():
            out = store_path(out_dir, label)
            run = _common.run_measured([_common.python(), "-m", "featstore", "build", str(folder), "--out", str(out),
                                        "--jobs", str(jobs), "--quiet", "--overwrite"])
            seconds[label].append(run["seconds"])
            _common.log(f"turn {turn + 1}: built {label} in {run['seconds']:.1f} s")
    rows = []
    for label, folder in folders.items():
        store = FeatureStore(store_path(out_dir, label))
        median = statistics.median(seconds[label])
        rows.append({"dataset": label, "layout": store.layout, "clips": len(store),
                     "classes": len(store.class_names), "folds": len(store.folds),
                     "clip s": store.config.clip_seconds, "build s (median)": median,
                     "range s": f"{min(seconds[label]):.1f}-{max(seconds[label]):.1f}",
                     "clips/s": len(store) / median, "audio s decoded per s": _audio_seconds(store) / median,
                     "store MB": store_path(out_dir, label).stat().st_size / 2**20})
    return rows


def accuracy(store_path: Path, out_dir: Path, *, seed: int, models, max_epochs=None) -> list:
    """Leave one fold out with each model: per-fold accuracy, mean, spread and fit time."""
    from estimators.evaluation import evaluate

    names = list(models)
    if max_epochs is not None:  # (the reduced run: a shorter CNN)
        names = ["bench_datasets:short_cnn@logmel" if m == "cnn" else m for m in names]
    results = evaluate(str(store_path), names, out=out_dir / "evaluation", seed=seed, overwrite=True,
                       progress=True)
    rows = []
    for model, name in zip(models, names):
        result = results[name]
        accuracies = np.asarray(result["test_accuracy"])
        row = {"model": MODEL_NAMES[model] + (" (reduced: fewer epochs)" if name != model else "")}
        row.update({f"fold {fold}": float(a) for fold, a in zip(result["test_fold"], accuracies)})
        row.update({"mean": float(accuracies.mean()), "std over folds": float(accuracies.std()),
                    "macro-F1": float(np.mean(result["test_macro_f1"])),
                    "fit s per fold": float(np.mean(result["fit_time"]))})
        rows.append(row)
    return rows


def short_cnn():
    """The default recipe with 2 epochs, for --quick runs (module:callable of the evaluate command)."""
    from estimators import MelCNNClassifier

    return MelCNNClassifier(max_epochs=2)


def main_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--esc50", type=Path, help="a real ESC-50 download (default: synthetic ESC-50)")
    parser.add_argument("--n-clips", type=int, default=2000, help="clips of each synthetic set (default: 2000)")
    parser.add_argument("--repeats", type=int, default=3, help="builds of each dataset, in turns (default: 3)")
    parser.add_argument("--jobs", type=int, default=-1, help="decoding workers of the builds (default: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODELS), help=f"models to score (default: {','.join(MODELS)})")
    parser.add_argument("--quick", action="store_true",
                        help="a CI-sized run: 250 ESC-50 and 100 UrbanSound8K clips, one build, a 2-epoch CNN")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="write results (and a README) here instead of benchmarks/results/")
    return parser


def main(argv=None) -> int:
    from featstore import make_synthetic_dataset

    args = main_parser().parse_args(argv)
    # (--quick: the fewest ESC-50 clips with every class in every fold, so that no training fold has more
    # classes than half its clips)
    (n_esc50, n_urbansound), repeats = ((250, 100), 1) if args.quick else ((args.n_clips,) * 2, args.repeats)
    models = args.models.split(",")
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise SystemExit(f"error: unknown models {unknown}; choose among {list(MODELS)}")
    with tempfile.TemporaryDirectory(prefix="bench-datasets-") as tmp:
        tmp = Path(tmp)
        if args.esc50 is not None:
            esc50, esc_label = args.esc50, "real ESC-50"
        else:
            esc50 = make_synthetic_dataset(tmp / "esc50", dataset="esc50", n_clips=n_esc50, seed=args.seed,
                                           progress=False)
            esc_label = f"synthetic ESC-50 ({n_esc50} clips)"
        urbansound = make_synthetic_dataset(tmp / "urbansound8k", n_clips=n_urbansound, seed=args.seed, progress=False)
        folders = {esc_label: esc50, f"synthetic UrbanSound8K ({n_urbansound} clips)": urbansound}
        build_rows = build_throughput(folders, tmp, repeats=repeats, jobs=args.jobs)
        esc_store = store_path(tmp, esc_label)
        accuracy_rows = accuracy(esc_store, tmp, seed=args.seed, models=models,
                                 max_epochs=2 if args.quick else None)
    label = "real ESC-50" if args.esc50 is not None else "synthetic"
    reduced = (" **Reduced run (--quick): 250 ESC-50 and 100 UrbanSound8K clips, one build, a 2-epoch CNN.**"
               if args.quick else "")
    build_note = (f"Dataset: **{label}**. Build: `python -m featstore build FOLDER` (decoding on "
                  f"{args.jobs if args.jobs > 0 else 'all'} "
                  f"cores of {_common.machine()['cpus']}), median of {repeats} turns.{reduced}")
    accuracy_note = (f"Accuracy on **{esc_label}**, leave one fold out over its folds (`python -m estimators evaluate`), "
                     f"seed {args.seed}; fit s = wall time of one fit.")
    build_columns = list(build_rows[0])
    accuracy_columns = list(dict.fromkeys(k for row in accuracy_rows for k in row))
    table = "\n\n".join([build_note, _common.markdown_table(build_rows, build_columns), accuracy_note,
                         _common.markdown_table(accuracy_rows, accuracy_columns)])
    folder = _common.write_results(NAME, label, {"builds": build_rows, "accuracy": accuracy_rows, "quick": args.quick,
                                                 "seed": args.seed}, table, results_dir=args.results_dir)
    print(table)
    print(f"results in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
