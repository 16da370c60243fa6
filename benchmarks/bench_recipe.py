"""The training recipe of ``MelCNNClassifier()`` against the reference notebook, with an ablation.

    python benchmarks/bench_recipe.py --source PATH/TO/UrbanSound8K             # folds 1 -> 2 and 2 -> 1
    python benchmarks/bench_recipe.py --store synthetic-full.h5 --splits 1-8:10  # the notebook's folds
    python benchmarks/bench_recipe.py --quick

Every row is trained on the training folds of each split and scored on its test
fold, in the same run, with the same clips and seeds:

* the reference notebook's on-the-fly pipeline and model (decode, resample and
  log-mel per item per epoch; best epoch on a validation split), the notebook's
  model on the store (``make_notebook_cnn()``), with and without that validation
  split, and the MFCC statistics + logistic regression baseline;
* ``MelCNNClassifier()``, the recipe, and the recipe with each ingredient removed
  in turn (the ablation);
* on a store built with augmented views (``--augment``), the recipe trained on
  them: one view per clip per epoch, the original half the time.

A validation split, where a row has one, holds out about an eighth of the
training fold's recordings (``fsID``), never single clips. The table gives the
accuracy of every split, their mean (and the spread over ``--seeds``) and the
training time of one fit.
"""

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import _datasets  # noqa: E402
from estimators import NOTEBOOK_MODULE_PARAMS  # noqa: E402

NAME = "bench_recipe"
VALID_GROUP = "valid"

# Each ablation row: the recipe with one ingredient removed.
ABLATIONS = {
    "recipe without mixup": {"mixup_alpha": 0.0},
    "recipe without label smoothing": {"label_smoothing": 0.0},
    "recipe without the lr schedule (constant lr 1e-3)": {"lr_schedule": None, "lr": 1e-3},
    "recipe with global average pooling (the notebook's network exactly)": {"module__pooling": "mean"},
    # last: whole clips make every epoch about three times longer
    "recipe without random windows (whole clips)": {"crop_frames": None},
}
RECIPE = "recipe: MelCNNClassifier()"

# Candidates for the recipe's defaults (``--candidates``): each the recipe (mixup,
# label smoothing, one-cycle AdamW) with another network, window or number of epochs.
_NOTEBOOK_NET = {f"module__{name}": value for name, value in NOTEBOOK_MODULE_PARAMS.items()}
CANDIDATES = {
    "VGG 16-128 x2, windows 128, 60 epochs": {
        "module__channels": (16, 32, 64, 128), "module__convs_per_block": 2, "module__pooling": "mean+max",
        "crop_frames": 128, "max_epochs": 60},
    "notebook network, windows 128, 60 epochs": {**_NOTEBOOK_NET, "crop_frames": 128, "max_epochs": 60},
    "notebook network, windows 128, 30 epochs": {**_NOTEBOOK_NET, "crop_frames": 128, "max_epochs": 30},
    "notebook network with mean+max pooling, windows 128, 30 epochs": {
        **_NOTEBOOK_NET, "module__pooling": "mean+max", "crop_frames": 128, "max_epochs": 30},
    "notebook network, whole clips, 10 epochs": {**_NOTEBOOK_NET, "crop_frames": None, "max_epochs": 10},
    "notebook network with mean+max pooling, windows 128, 40 epochs": {
        **_NOTEBOOK_NET, "module__pooling": "mean+max", "crop_frames": 128, "max_epochs": 40},
    "four blocks of one conv (16-128), mean+max pooling, windows 128, 30 epochs": {
        "module__channels": (16, 32, 64, 128), "module__convs_per_block": 1, "module__pooling": "mean+max",
        "crop_frames": 128, "max_epochs": 30},
    "VGG at half width (8-64 x2), windows 128, 30 epochs": {
        "module__channels": (8, 16, 32, 64), "module__convs_per_block": 2, "module__pooling": "mean+max",
        "crop_frames": 128, "max_epochs": 30},
    "notebook network with mean+max pooling, windows 128, 30 epochs, batches of 32": {
        **_NOTEBOOK_NET, "module__pooling": "mean+max", "crop_frames": 128, "max_epochs": 30, "batch_size": 32},
}
NOTEBOOK_LAST_EPOCH = "notebook model on the store, last epoch"
BASELINES = (
    "notebook pipeline (on the fly), best epoch on validation",
    "notebook model on the store, best epoch on validation",
    "notebook model on the store, last epoch",
    "MFCC statistics + logistic regression",
)
# The recipe trained on the store's augmented views (a store built with --augment), one
# view per clip per epoch, the original half the time; prediction on the original.
VIEWS = "recipe on the store's augmented views (original_view_prob=0.5)"
ROWS = (*BASELINES, RECIPE, *ABLATIONS, VIEWS, *CANDIDATES)


def parse_splits(text):
    """``"1:2,2:1"`` or ``"1-8:10"`` -> [((1,), (2,)), ((2,), (1,))] / [((1, ..., 8), (10,))]."""
    def folds(part):
        low, _, high = part.partition("-")
        return tuple(range(int(low), int(high or low) + 1))

    splits = []
    for item in text.split(","):
        train, _, test = item.partition(":")
        splits.append((folds(train), folds(test)))
    return splits


def validation_groups(meta, seed):
    """``"train"`` / ``"valid"`` per clip: about 1/8 of the recordings (fsID) go to validation."""
    from sklearn.model_selection import GroupShuffleSplit

    recordings = meta["fsID"].to_numpy()
    _, valid = next(GroupShuffleSplit(n_splits=1, test_size=0.125, random_state=seed).split(recordings, groups=recordings))
    groups = np.full(len(recordings), "train", dtype=object)
    groups[valid] = VALID_GROUP
    return groups


def estimator_for(row, seed, *, quick):
    from estimators import MelCNNClassifier, make_mfcc_logreg, make_notebook_cnn

    small = {"max_epochs": 2} if quick else {}
    if row == "notebook model on the store, best epoch on validation":
        return make_notebook_cnn(validation_fold=VALID_GROUP, random_state=seed, **small)
    if row == "notebook model on the store, last epoch":
        return make_notebook_cnn(random_state=seed, **small)
    if row == "MFCC statistics + logistic regression":
        return make_mfcc_logreg()
    if row == VIEWS:
        return MelCNNClassifier(random_state=seed, original_view_prob=0.5, **small)
    if row in CANDIDATES:
        return MelCNNClassifier(random_state=seed, **{**CANDIDATES[row], **small})
    return MelCNNClassifier(random_state=seed, **ABLATIONS.get(row, {}), **small)


def run_row(row, ds, split, seed, *, quick):
    """Train one row on the split's training folds; return (test predictions, train seconds)."""
    train_folds, test_folds = split
    feature = "mfcc_stats" if "MFCC" in row else "logmel"
    X, y, _, meta = ds.store.load(feature, folds=list(train_folds), views=row == VIEWS)
    X_test, _, _, meta_test = ds.store.load(feature, folds=list(test_folds))
    groups = validation_groups(meta, seed)
    started = time.perf_counter()
    if row.startswith("notebook pipeline"):
        from notebook_pipeline import audio_paths, fit_notebook, predict_notebook

        paths = np.array(audio_paths(meta, ds.audio_root))
        is_valid = groups == VALID_GROUP
        model, _ = fit_notebook(
            (paths[~is_valid], y[~is_valid]), (paths[is_valid], y[is_valid]),
            epochs=2 if quick else 10, seed=seed, log=lambda _: None,
        )
        seconds = time.perf_counter() - started
        proba = predict_notebook(model, audio_paths(meta_test, ds.audio_root), np.zeros(len(meta_test), int))
        return proba.argmax(axis=1), seconds
    estimator = estimator_for(row, seed, quick=quick)
    if "validation" in row:
        estimator.fit(X, y, groups=groups)
    else:
        estimator.fit(X, y)
    seconds = time.perf_counter() - started
    return estimator.predict(X_test), seconds


def warm_up(store, split):
    """One short fit before the clock starts, so that no row pays for torch's first-call set-up."""
    from estimators import make_notebook_cnn

    X, y, _, _ = store.load("logmel", folds=list(split[0]))
    make_notebook_cnn(max_epochs=1, random_state=0).fit(X[:128], y[:128])


def summarise(records, rows, splits):
    table_rows = []
    split_names = [split_name(s) for s in splits]
    for row in rows:
        mine = [r for r in records if r["row"] == row]
        if not mine:
            continue
        out = {"model": row}
        per_seed = {}
        for name in split_names:
            accs = [r["accuracy"] for r in mine if r["split"] == name]
            out[name] = float(np.mean(accs)) if accs else ""  # not run yet
        for r in mine:
            per_seed.setdefault(r["seed"], []).append(r["accuracy"])
        means = [np.mean(v) for v in per_seed.values()]
        out["mean"] = float(np.mean(means))
        out["± over seeds"] = float(np.std(means)) if len(means) > 1 else ""
        accuracies = [r["accuracy"] for r in mine]
        out["fits: min-max"] = f"{min(accuracies):.3f}-{max(accuracies):.3f}" if len(mine) > 1 else ""
        out["train s per fit"] = float(np.mean([r["train_seconds"] for r in mine]))
        out["fit time / notebook's"] = _time_ratio(records, mine)
        table_rows.append(out)
    return table_rows, ["model", *split_names, "mean", "± over seeds", "fits: min-max", "train s per fit",
                        "fit time / notebook's"]


def _time_ratio(records, mine):
    """Mean over (seed, split) of this row's fit time over the notebook model's in the same run; "" without it."""
    notebook = {(r.get("run"), r["seed"], r["split"]): r["train_seconds"] for r in records
                if r["row"] == NOTEBOOK_LAST_EPOCH}
    ratios = [r["train_seconds"] / notebook[r.get("run"), r["seed"], r["split"]] for r in mine
              if (r.get("run"), r["seed"], r["split"]) in notebook]
    return float(np.mean(ratios)) if ratios else ""


def merged(paths):
    """The records of several runs' JSON results, each tagged with its run; their rows, splits and seeds."""
    records, rows, splits, seeds = [], [], [], []
    for run, path in enumerate(paths):
        payload = json.loads(Path(path).read_text())
        for record in payload["records"]:
            records.append({**record, "run": run})
            rows += [record["row"]] if record["row"] not in rows else []
        splits += [s for s in payload["splits"] if s not in splits]
        seeds += [s for s in payload["seeds"] if s not in seeds]
    order = {row: i for i, row in enumerate(ROWS)}
    return records, sorted(rows, key=lambda row: order.get(row, len(order))), splits, seeds


def add_record(records, row, split, seed, accuracy, seconds):
    """Append one fit's result to ``records`` (the input of :func:`summarise`) and log it."""
    records.append({"row": row, "split": split_name(split), "seed": seed,
                    "accuracy": accuracy, "train_seconds": seconds})
    _common.log(f"seed {seed} {split_name(split)} {row}: {accuracy:.3f} in {seconds:.0f} s")


def _parse_split_name(name):
    """``"folds 1 -> 2"`` -> ((1,), (2,)); ``"folds 1-8 -> 10"`` -> ((1, ..., 8), (10,))."""
    train, test = name.removeprefix("folds ").split(" -> ")
    return parse_splits(f"{train}:{test}")[0]


def split_name(split):
    train, test = split
    fmt = lambda folds: str(folds[0]) if len(folds) == 1 else f"{folds[0]}-{folds[-1]}"  # noqa: E731
    return f"folds {fmt(train)} -> {fmt(test)}"


def write_table(records, rows, splits, seeds, label, args):
    table_rows, columns = summarise(records, rows, splits)
    runs = len({r.get("run") for r in records})
    together = "all rows in one run" if runs == 1 else f"{runs} runs, each with the notebook model for the time ratio"
    note = (f"Dataset: **{label}**; accuracy on the test folds of each split, trained on its training folds, {together}; "
            f"seeds {seeds}; train s = wall time of one fit on this machine ({_common.machine()['cpus']} cores)")
    if args.quick:
        note += "; reduced run (--quick: 2 epochs)"
    if args.note:
        note += f". {args.note}"
    table = f"{note}\n\n" + _common.markdown_table(table_rows, columns)
    name = f"{NAME}_candidates" if args.candidates or args.merge else NAME
    folder = _common.write_results(name, label, {"splits": [split_name(s) for s in splits], "seeds": seeds,
                                                 "records": records, "table": table_rows},
                                   table, results_dir=args.results_dir)
    return table, folder


def network_costs(label, args):
    """Parameters and forward FLOPs of the recipe's, the notebook's and a VGG-style network, per window and per clip."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from estimators import MelCNN, MelCNNClassifier

    n_mels, n_frames, window = 64, 321, MelCNNClassifier().crop_frames
    rows = []
    networks = (("recipe: MelCNN()", MelCNN()),
                ("notebook: make_notebook_cnn()'s MelCNN", MelCNN(**NOTEBOOK_MODULE_PARAMS)),
                ("VGG-style: MelCNN(channels=(16, 32, 64, 128), convs_per_block=2)",
                 MelCNN(channels=(16, 32, 64, 128), convs_per_block=2)))
    for name, net in networks:
        net.eval()
        flops = {}
        for frames in (window, n_frames):
            with FlopCounterMode(display=False) as counter, torch.no_grad():
                net(torch.zeros(1, n_mels, frames))
            flops[frames] = counter.get_total_flops() / 1e6
        rows.append({"network": name, "parameters": sum(p.numel() for p in net.parameters()),
                     f"MFLOPs per {window}-frame window": flops[window],
                     f"MFLOPs per {n_frames}-frame clip": flops[n_frames]})
    columns = list(rows[0])
    note = (f"Dataset: **{label}**; forward pass of one {n_mels}-band log-mel, counted by "
            "`torch.utils.flop_counter` (a multiply-add is 2 FLOPs); the training time of each is in the "
            "bench_recipe table.")
    table = f"{note}\n\n" + _common.markdown_table(rows, columns)
    _common.write_results(f"{NAME}_networks", label, {"rows": rows}, table, results_dir=args.results_dir)
    return table


def main_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _datasets.add_dataset_arguments(parser)
    parser.add_argument("--splits", default=None,
                        help='train:test folds, e.g. "1:2,2:1" (default) or "1-8:10"')
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default: 0)")
    parser.add_argument("--rows", default=None, help="comma-separated row numbers to run (default: all)")
    parser.add_argument("--candidates", action="store_true",
                        help="run the candidates for the recipe's defaults, beside the notebook model (last epoch)")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                        help="write one table from the results (JSON) of several runs, instead of training")
    parser.add_argument("--note", default="", help="a sentence added to the table's note (e.g. the threads used)")
    parser.add_argument("--networks", action="store_true",
                        help="only write the parameters and FLOPs of the networks (no training)")
    return parser


def main(argv=None) -> int:
    args = main_parser().parse_args(argv)
    if args.networks:
        print(network_costs(args.label or "synthetic", args))
        return 0
    if args.merge:
        records, rows, split_names, seeds = merged(args.merge)
        label = args.label or json.loads(args.merge[0].read_text())["dataset"]
        splits = [_parse_split_name(name) for name in split_names]
        table, folder = write_table(records, rows, splits, seeds, label, args)
        print(table)
        print(f"results in {folder}")
        return 0
    splits = parse_splits(args.splits or "1:2,2:1")
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.candidates:
        rows = [NOTEBOOK_LAST_EPOCH, *CANDIDATES]
    elif args.rows is None:
        rows = [row for row in ROWS if row != VIEWS and row not in CANDIDATES]
    else:
        rows = [ROWS[int(i)] for i in args.rows.split(",")]
    need_audio = any(r.startswith("notebook pipeline") for r in rows)
    records = []
    with contextlib.ExitStack() as stack:
        ds = stack.enter_context(_datasets.open_dataset(args, need_audio=need_audio))
        if args.rows is None and not args.candidates and ds.store.view_names[1:]:
            rows = [*rows, VIEWS]
        if VIEWS in rows and not ds.store.view_names[1:]:
            raise SystemExit(f"error: {ds.store.path} has no augmented views; build it with --augment, e.g. "
                             f"--augment salamon2017, or leave out row {ROWS.index(VIEWS)}")
        _datasets.check_folds(ds.store, splits)
        warm_up(ds.store, splits[0])
        for seed in seeds:
            for row in rows:
                for split in splits:
                    _, y_test, _, _ = ds.store.load("mfcc_stats", folds=list(split[1]))
                    y_pred, seconds = run_row(row, ds, split, seed, quick=args.quick)
                    add_record(records, row, split, seed, float(np.mean(y_pred == y_test)), seconds)
                    # rewritten after every fit: an interrupted run keeps what it measured
                    table, folder = write_table(records, rows, splits, seeds, ds.label, args)
    print(table)
    print(f"results in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
