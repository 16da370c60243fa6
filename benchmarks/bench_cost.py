"""What a default fit costs on a CPU: the recipe against the notebook's CNN on the same clips, and what CPU settings buy.

    python benchmarks/bench_cost.py --store dev.h5             # real folds 1-2: 1,761 clips
    python benchmarks/bench_cost.py --quick                    # CI-sized

Fits: ``MelCNNClassifier()`` and ``make_notebook_cnn()`` with their defaults (and
``random_state``), each on every clip of the store, taking turns, in one run:
their ratio is what the machine's load cannot fake. Settings: epochs of the
default recipe with one thing changed (``channels_last`` off, one torch thread
instead of all, ``torch.compile`` through skorch's ``compile=True``), timed from
skorch's history (the first epoch, which pays for set-up and compilation, left
out). The cost of the official 10-fold protocol on the full UrbanSound8K is
extrapolated from the measured fit, per clip, and labelled so.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

NAME = "bench_cost"
FULL_DATASET = 8732  # UrbanSound8K's clips; a 10-fold protocol trains on 9/10 of them, 10 times


def _fit_seconds(make, X, y):
    estimator = make()
    started = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - started, estimator


def fits(X, y, *, repeats, seed, quick):
    """Median wall time of whole default fits, the recipe's and the notebook's, taking turns."""
    from estimators import MelCNNClassifier, make_notebook_cnn

    small = {"max_epochs": 2} if quick else {}
    contenders = {
        "MelCNNClassifier()": lambda: MelCNNClassifier(random_state=seed, verbose=0, **small),
        "make_notebook_cnn()": lambda: make_notebook_cnn(random_state=seed, verbose=0, **small),
    }
    seconds = {name: [] for name in contenders}
    epochs = {}
    for turn in range(repeats):
        for name, make in contenders.items():
            elapsed, estimator = _fit_seconds(make, X, y)
            seconds[name].append(elapsed)
            epochs[name] = len(estimator.history_)
            _common.log(f"turn {turn + 1}: {name} fit in {elapsed:.1f} s")
    notebook = statistics.median(seconds["make_notebook_cnn()"])
    rows = []
    for name, values in seconds.items():
        median = statistics.median(values)
        rows.append({"fit": name, "epochs": epochs[name], "clips": len(X), "fit s (median)": median,
                     "range s": f"{min(values):.1f}-{max(values):.1f}", "fit time / notebook's": median / notebook,
                     "s per clip and epoch (ms)": 1000 * median / len(X) / epochs[name]})
    return rows


def settings(X, y, *, seed, epochs, compile=True):
    """Seconds per epoch of the default recipe with one CPU setting changed (``compile``: try torch.compile too)."""
    import torch

    from estimators import MelCNNClassifier

    threads = torch.get_num_threads()
    variants = {
        f"default ({threads} torch threads, channels_last)": {},
        "module__channels_last=False": {"module__channels_last": False},
        "n_threads=1": {"n_threads": 1},
    }
    if compile:  # (compiling takes minutes before the first epoch)
        variants["compile=True (torch.compile)"] = {"compile": True}
    rows = []
    base = None
    for name, params in variants.items():
        estimator = MelCNNClassifier(random_state=seed, verbose=0, max_epochs=epochs, **params)
        started = time.perf_counter()
        try:
            estimator.fit(X, y)
        except Exception as exc:  # noqa: BLE001 - e.g. no compiler for torch.compile: reported, not fatal
            rows.append({"setting": name, "s per epoch": "", "vs default": "", "first epoch s": "",
                         "note": f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"})
            continue
        total = time.perf_counter() - started
        durations = [h["dur"] for h in estimator.history_]
        per_epoch = statistics.median(durations[1:]) if len(durations) > 1 else durations[0]
        base = per_epoch if base is None else base
        rows.append({"setting": name, "s per epoch": per_epoch, "vs default": base / per_epoch,
                     "first epoch s": durations[0], "note": f"fit {total:.1f} s"})
        _common.log(f"{name}: {per_epoch:.2f} s per epoch")
    return rows


def main_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a feature store; every clip of its --folds is used")
    parser.add_argument("--folds", default=None, help="comma-separated folds to train on (default: all)")
    parser.add_argument("--repeats", type=int, default=1, help="whole fits of each, taking turns (default: 1)")
    parser.add_argument("--setting-epochs", type=int, default=4, help="epochs of each setting's fit (default: 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", help="dataset name for the tables (default: from the store)")
    parser.add_argument("--quick", action="store_true",
                        help="128 random clips, 2-epoch fits, 2-epoch settings, no torch.compile")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="write results (and a README) here instead of benchmarks/results/")
    return parser


def main(argv=None) -> int:
    args = main_parser().parse_args(argv)
    if args.store is not None and not args.quick:
        from featstore import FeatureStore

        store = FeatureStore(args.store)
        folds = None if args.folds is None else args.folds.split(",")
        X, y, _, _ = store.load("logmel", folds=folds)
        label = args.label or store.source
    else:
        rng = np.random.default_rng(args.seed)
        X = rng.standard_normal((128, 64, 321)).astype(np.float32)
        y = np.arange(128) % 10
        label = args.label or "synthetic (random arrays)"
    fit_rows = fits(X, y, repeats=args.repeats, seed=args.seed, quick=args.quick)
    setting_rows = settings(X, y, seed=args.seed, epochs=2 if args.quick else args.setting_epochs,
                            compile=not args.quick)
    recipe = fit_rows[0]
    per_clip = recipe["fit s (median)"] / len(X)
    ten_fold_hours = per_clip * FULL_DATASET * 0.9 * 10 / 3600
    reduced = " **Reduced run (--quick): random arrays, 2-epoch fits, no torch.compile.**" if args.quick else ""
    note = (f"Dataset: **{label}**, {len(X)} clips, {_common.machine()['cpus']} cores, "
            f"{_common.machine()['torch_threads']} torch threads.{reduced} Whole fits taking turns, median of "
            f"{args.repeats}; settings timed per epoch from skorch's history, the first epoch left out.")
    extrapolated = (f"**Extrapolated** from the measured fit{' (reduced)' if args.quick else ''}, per clip: the official 10-fold protocol on the full "
                    f"UrbanSound8K (10 fits on {int(FULL_DATASET * 0.9):,} clips each) would take about "
                    f"{ten_fold_hours:.1f} h with `MelCNNClassifier()` on this CPU.")
    table = "\n\n".join([note, _common.markdown_table(fit_rows, list(fit_rows[0])), extrapolated,
                         _common.markdown_table(setting_rows, list(setting_rows[0]))])
    folder = _common.write_results(NAME, label, {"fits": fit_rows, "settings": setting_rows,
                                                 "ten_fold_hours_extrapolated": ten_fold_hours, "quick": args.quick},
                                   table, results_dir=args.results_dir)
    print(table)
    print(f"results in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
