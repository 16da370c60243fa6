"""What makes the store's augmented views pay: the recipe with and without them, over seeds.

    python -m featstore build PATH/TO/UrbanSound8K --out views.h5 \\
        --augment "salamon2017;gain:-6,6;noise:white20,pink10"
    python benchmarks/bench_views.py --store views.h5 --splits "1:2,2:1" --seeds 0,1
    python benchmarks/bench_views.py --store views.h5 --network notebook --rows 0,1,3
    python benchmarks/bench_views.py --quick

Every row trains ``MelCNNClassifier`` (the recipe, or with ``--network notebook``
the recipe on the reference notebook's smaller network) on the training folds of
each split and scores it on the original clips of the test fold. A row names a
subset of the store's views as an augment spec, how often training draws the
original (``original_view_prob``) and how many epochs it trains, so that each
row differs from "no views" in one respect, and "no views, twice the epochs"
separates the effect of views from that of a longer schedule. The store must
hold every view the rows use (the build command above holds all of them); rows
whose views it lacks are skipped with a line.
"""

import argparse
import contextlib
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import _datasets  # noqa: E402
from bench_recipe import add_record, parse_splits, split_name, summarise  # noqa: E402

NAME = "bench_views"
ALL_VIEWS = "salamon2017;gain:-6,6;noise:white20,pink10"
QUICK_VIEWS = "mild;gain:-6,6"


@dataclasses.dataclass(frozen=True)
class Row:
    views: str | None  # an augment spec naming the views trained on, None for the original only
    original_view_prob: float | None = 0.5
    epochs_factor: int = 1


ROWS = {
    "no views": Row(None),
    "salamon2017 (12 views), original half the time": Row("salamon2017"),
    "salamon2017, every view equally often": Row("salamon2017", original_view_prob=None),
    "mild (pitch ±1, stretch 0.93/1.07), original half the time": Row("mild"),
    "gain ±6 dB and noise (white 20 dB, pink 10 dB), original half the time": Row("gain:-6,6;noise:white20,pink10"),
    "all 16 views, original half the time": Row(ALL_VIEWS),
    # Without the views that leave digital silence where the clip had sound: pitch
    # shifts down empty the top mel bands of a 16 kHz clip, speed-ups pad its end.
    "pitch up, slower stretches, gain and noise (10 views), original half the time":
        Row("pitch:1,2,2.5,3.5;stretch:0.81,0.93;gain:-6,6;noise:white20,pink10"),
    "no views, twice the epochs": Row(None, epochs_factor=2),
    "salamon2017, original half the time, twice the epochs": Row("salamon2017", epochs_factor=2),
}
NETWORKS = ("recipe", "notebook")


def view_indices(store, spec):
    """Indices, into the store's views, of the original and of the views ``spec`` names; None if missing."""
    from featstore.augment import view_names

    if spec is None:
        return [0]
    wanted = view_names(spec)
    if not set(wanted) <= set(store.view_names):
        return None
    return [store.view_names.index(name) for name in wanted]


def estimator_for(row: Row, network, seed, *, quick):
    from estimators import NOTEBOOK_MODULE_PARAMS, MelCNNClassifier

    epochs = 2 if quick else MelCNNClassifier().max_epochs
    params = {"max_epochs": epochs * row.epochs_factor, "random_state": seed}
    if row.views is not None:
        params["original_view_prob"] = row.original_view_prob
    if network == "notebook":
        params.update({f"module__{name}": value for name, value in NOTEBOOK_MODULE_PARAMS.items()})
    return MelCNNClassifier(**params)


def main_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _datasets.add_dataset_arguments(parser)
    parser.add_argument("--splits", default=None, help='train:test folds, e.g. "1:2,2:1" (default) or "1-8:10"')
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default: 0)")
    parser.add_argument("--network", choices=NETWORKS, default="recipe",
                        help="the recipe's network (default) or the notebook's smaller one")
    parser.add_argument("--rows", default=None, help="comma-separated row numbers to run (default: all)")
    return parser


def main(argv=None) -> int:
    args = main_parser().parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    names = list(ROWS) if args.rows is None else [list(ROWS)[int(i)] for i in args.rows.split(",")]
    records = []
    with contextlib.ExitStack() as stack:
        if args.quick and args.store is None:
            ds = stack.enter_context(quick_views_dataset())
        else:
            ds = stack.enter_context(_datasets.open_dataset(args, need_audio=False))
        if not ds.store.view_names:
            raise SystemExit(f"error: {ds.store.path} has no augmented views; build it with "
                             f'--augment "{ALL_VIEWS}"')
        splits = parse_splits(args.splits or ("1:2,2:1" if not args.quick else "1-8:10"))
        _datasets.check_folds(ds.store, splits)
        runnable = []
        for name in names:
            if view_indices(ds.store, ROWS[name].views) is None:
                print(f"skipped {name!r}: the store has no views {ROWS[name].views!r}")
            else:
                runnable.append(name)
        data = {split: (*ds.store.load("logmel", folds=list(split[0]), views=True)[:2],
                        *ds.store.load("logmel", folds=list(split[1]))[:2]) for split in splits}
        for seed in seeds:  # every split of a seed before the next seed: a stopped run has whole means
            for split in splits:
                X_all, y, X_test, y_test = data[split]
                for name in runnable:
                    indices = view_indices(ds.store, ROWS[name].views)
                    X = X_all[:, indices] if len(indices) > 1 else X_all[:, 0]
                    estimator = estimator_for(ROWS[name], args.network, seed, quick=args.quick)
                    started = time.perf_counter()
                    estimator.fit(X, y)
                    seconds = time.perf_counter() - started
                    add_record(records, name, split, seed, float(np.mean(estimator.predict(X_test) == y_test)),
                               seconds)
                    # rewritten after every fit: an interrupted run keeps what it measured
                    table, folder = write_table(records, runnable, splits, seeds, ds.label, args)
    print(table)
    print(f"results in {folder}")
    return 0


def write_table(records, rows, splits, seeds, label, args):
    table_rows, columns = summarise(records, rows, splits)
    baseline = next((r["mean"] for r in table_rows if r["model"] == "no views"), None)
    for r in table_rows:
        r["vs no views (points)"] = "" if baseline is None else 100 * (r["mean"] - baseline)
    note = (f"Dataset: **{label}**; network: {args.network}'s; accuracy on the original clips of each split's test folds, all rows in one run; "
            f"seeds {seeds}; train s = wall time of one fit on this machine ({_common.machine()['cpus']} cores)")
    if args.quick:
        note += "; reduced run (--quick: 2 epochs)"
    table = f"{note}\n\n" + _common.markdown_table(table_rows, [*columns, "vs no views (points)"])
    name = NAME if args.network == "recipe" else f"{NAME}_{args.network}_network"
    folder = _common.write_results(name, label, {"splits": [split_name(s) for s in splits], "seeds": seeds,
                                                 "network": args.network, "records": records, "table": table_rows},
                                   table, results_dir=args.results_dir)
    return table, folder


@contextlib.contextmanager
def quick_views_dataset():
    """A small synthetic store with a few views, built in a temporary folder."""
    import tempfile

    from featstore import FeatureConfig, FeatureStore, build_store

    with _common.open_data(_datasets.QUICK_SOURCE) as source, \
            tempfile.TemporaryDirectory(prefix="bench-views-") as tmp:
        out = Path(tmp) / "store.h5"
        summary = build_store(source, out, config=FeatureConfig(augment=QUICK_VIEWS), n_jobs=-1, progress=False)
        store = FeatureStore(out)
        print(f"built a store of {len(store)} clips with views {QUICK_VIEWS!r} in {summary.seconds:.1f} s")
        yield _datasets.Dataset(store=store, label="synthetic", build_seconds=summary.seconds)


if __name__ == "__main__":
    raise SystemExit(main())
