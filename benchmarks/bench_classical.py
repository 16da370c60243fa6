"""Classical baselines on real folds: the notebook's MFCC + logistic regression against boosted trees.

    python benchmarks/bench_classical.py --store dev.h5 --splits "1:2,2:1"
    python benchmarks/bench_classical.py --quick            # CI-sized, generated data

Every model trains on the training folds of a split and is scored on its test
fold, in the same run: ``make_mfcc_logreg()`` on the 40 MFCC statistics (the
reference notebook's baseline) and on the 160 MFCC and delta statistics, and
``make_stats_boosting()`` on both, so that the table separates what the feature
buys from what the model buys. The store must hold ``mfcc_delta_stats``
(``python -m featstore build ... --features ... mfcc_delta_stats``, a default).
"""

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import _datasets  # noqa: E402
from bench_recipe import parse_splits, split_name  # noqa: E402

NAME = "bench_classical"
ROWS = (
    ("MFCC statistics (40) + logistic regression: make_mfcc_logreg()", "mfcc_stats", "make_mfcc_logreg"),
    ("MFCC + delta statistics (160) + logistic regression", "mfcc_delta_stats", "make_mfcc_logreg"),
    ("MFCC statistics (40) + boosted trees", "mfcc_stats", "make_stats_boosting"),
    ("MFCC + delta statistics (160) + boosted trees: make_stats_boosting()", "mfcc_delta_stats",
     "make_stats_boosting"),
)


def main(argv=None) -> int:
    import estimators

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _datasets.add_dataset_arguments(parser)
    parser.add_argument("--splits", default="1:2,2:1", help='train:test folds, e.g. "1:2,2:1" or "1-8:10"')
    args = parser.parse_args(argv)
    splits = parse_splits(args.splits)
    with contextlib.ExitStack() as stack:
        ds = stack.enter_context(_datasets.open_dataset(args, need_audio=False))
        _datasets.check_folds(ds.store, splits)
        records = []
        for row, feature, factory in ROWS:
            for train, test in splits:
                X, y, _, _ = ds.store.load(feature, folds=list(train))
                X_test, y_test, _, _ = ds.store.load(feature, folds=list(test))
                started = time.perf_counter()
                model = getattr(estimators, factory)().fit(X, y)
                seconds = time.perf_counter() - started
                accuracy = float(model.score(X_test, y_test))
                records.append({"row": row, "split": split_name((train, test)), "accuracy": accuracy,
                                "train_seconds": seconds})
                _common.log(f"{split_name((train, test))} {row}: {accuracy:.3f} in {seconds:.1f} s")
    names = [split_name(s) for s in splits]
    table_rows = []
    for row, _, _ in ROWS:
        mine = {r["split"]: r for r in records if r["row"] == row}
        table_rows.append({"model": row, **{n: mine[n]["accuracy"] for n in names},
                           "mean": float(np.mean([mine[n]["accuracy"] for n in names])),
                           "train s per fit": float(np.mean([mine[n]["train_seconds"] for n in names]))})
    gain = table_rows[-1]["mean"] - table_rows[0]["mean"]
    note = (f"Dataset: **{ds.label}**; accuracy on the test folds of each split, trained on its training folds, all rows in one run; "
            f"train s = wall time of one fit ({_common.machine()['cpus']} cores). "
            f"**make_stats_boosting() over make_mfcc_logreg(): {gain * 100:+.1f} points** (mean of the splits).")
    table = f"{note}\n\n" + _common.markdown_table(table_rows, ["model", *names, "mean", "train s per fit"])
    folder = _common.write_results(NAME, ds.label, {"splits": names, "records": records, "table": table_rows,
                                                    "gain_points": gain * 100}, table, results_dir=args.results_dir)
    print(table)
    print(f"results in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
