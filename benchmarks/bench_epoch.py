"""Training speed: one epoch of the notebook's CNN and of the recipe fed on the fly versus from the store.

    python benchmarks/bench_epoch.py --store synthetic-full.h5     # regenerates the store's synthetic audio
    python benchmarks/bench_epoch.py --store real-fold1.h5 --source /path/to/urbansound8k-dev
    python benchmarks/bench_epoch.py --source PATH/TO/UrbanSound8K  # build the store first (build time counted)
    python benchmarks/bench_epoch.py --quick                        # CI-sized, generated data

The same CNN (the notebook's ``SmallAudioCNN`` == ``estimators.MelCNN`` defaults),
batch 64, AdamW lr 1e-3, trains one epoch over the same clips, fed

* (a) the notebook's way (``notebook_pipeline.OnTheFlyLogMel``): each clip's file
  is decoded, mixed down, resampled to 16 kHz, cropped or padded and turned into a
  log-mel in ``Dataset.__getitem__``, ``DataLoader(num_workers=0)``;
* (b) from the store: the log-mels are loaded once (``FeatureStore.load``, timed
  separately) and ``make_notebook_cnn(max_epochs=1)`` is fitted on them.

"Model" time is forward + loss + backward + optimiser step: timed around those calls
in (a), and between skorch's ``on_batch_begin`` and ``on_batch_end`` (its
``train_step``) in (b). Everything else in the epoch is data handling (decoding and
features in (a); indexing, collation and normalisation in (b)); for (b) the fit's
set-up (input checks, normalisation statistics) is reported apart from the epoch.
As a reference, the same number of steps is also timed on tensors already in memory.

The same comparison is made for the recipe of ``MelCNNClassifier()``: one epoch
from the store against the recipe written on the notebook's on-the-fly dataset
(``notebook_pipeline.recipe_epoch``: log-mel per item, then random windows and
mixup per batch).

The 10-fold cross-validation of one configuration (the CNN default, validation on
the last training fold with the best epoch restored, test on the held-out fold) is
run both ways with a small fixed subset per fold and few epochs (measured), then
extrapolated to the full folds and 10 epochs from the per-clip costs of the epoch
runs (labelled as extrapolated; the cost model is checked against the measured
small run). The store side of the extrapolation includes the one-off store build
(measured in this run when it builds the store, otherwise taken from
``results/<dataset>/bench_build.json``) and the one-off load. On a store with one
fold (the real fold-1 copies), ten pseudo-folds are made by ``GroupKFold(10)`` over
fsID.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
from _common import log as _log  # noqa: E402
import _datasets  # noqa: E402
import _scoring  # noqa: E402
import notebook_pipeline as nb  # noqa: E402

NAME = "bench_epoch"
BATCH_SIZE = 64
GOALS = {"epoch_speedup": 2.0, "cv_speedup": 5.0, "store_data_share": 0.10}


class TrainStepTimer(Callback):
    """Sum the wall time of skorch's training steps (forward, loss, backward, optimiser step)."""

    def initialize(self):
        self.seconds_, self.steps_, self._started = 0.0, 0, None
        return self

    def on_batch_begin(self, net, training=None, **kwargs):
        if training:
            self._started = time.perf_counter()

    def on_batch_end(self, net, training=None, **kwargs):
        if training and self._started is not None:
            self.seconds_ += time.perf_counter() - self._started
            self.steps_ += 1
            self._started = None


def warm_files(paths):
    """Read every file once so both pipelines start with a warm page cache."""
    for p in paths:
        Path(p).read_bytes()


def model_only_seconds(n_clips, n_mels, n_frames, *, seed, n_classes=10) -> float:
    """Seconds for the training steps of one epoch of ``n_clips`` on tensors already in memory."""
    torch.manual_seed(seed)
    model = nb.SmallAudioCNN(n_classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    sizes = [BATCH_SIZE] * (n_clips // BATCH_SIZE) + ([n_clips % BATCH_SIZE] if n_clips % BATCH_SIZE else [])
    batches = [(torch.randn(b, 1, n_mels, n_frames), torch.randint(0, n_classes, (b,))) for b in sizes]
    model.train()
    started = time.perf_counter()
    for x, y in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def warm_up_torch(n_mels, n_frames):
    """A few untimed steps so thread pools and allocators are ready for either contender."""
    model_only_seconds(3 * BATCH_SIZE, n_mels, n_frames, seed=0)


def notebook_epoch(paths, labels, *, seed):
    torch.manual_seed(seed)
    model = nb.SmallAudioCNN(10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        nb.OnTheFlyLogMel(paths, labels, train=True, seed=seed), batch_size=BATCH_SIZE, shuffle=True,
        num_workers=0, generator=torch.Generator().manual_seed(seed))
    _, _, seconds, model_seconds = nb.run_epoch(model, loader, torch.nn.CrossEntropyLoss(), optimizer)
    return model, seconds, model_seconds


def store_epoch(X, y, *, seed, recipe=False):
    """One epoch of the notebook's CNN (or, with ``recipe``, of ``MelCNNClassifier()``'s recipe) from the store."""
    from estimators import MelCNNClassifier, make_notebook_cnn

    timer = TrainStepTimer()
    make = MelCNNClassifier if recipe else make_notebook_cnn
    clf = make(max_epochs=1, batch_size=BATCH_SIZE, random_state=seed, callbacks=[("train_step_timer", timer)])
    started = time.perf_counter()
    clf.fit(X, y)
    fit_seconds = time.perf_counter() - started
    timer = dict(clf.callbacks_)["train_step_timer"]
    return clf, fit_seconds, float(clf.history[-1, "dur"]), timer.seconds_


def pseudo_folds(ds, y, meta, seed):
    """The store's folds, or 10 GroupKFold folds over fsID for a one-fold store."""
    from sklearn.model_selection import GroupKFold

    if ds.fold_based:
        return meta["fold"].to_numpy(), "the store's folds"
    folds = np.zeros(len(y), dtype=np.int64)
    for k, (_, test) in enumerate(GroupKFold(n_splits=10, shuffle=True, random_state=seed).split(y, y, meta["fsID"])):
        folds[test] = k + 1
    return folds, "10 pseudo-folds made by GroupKFold(10, shuffle=True) over fsID"


def cv_plan(folds) -> list:
    """Per outer split: (test fold, validation fold, n_train, n_valid, n_test), validation = the last training fold."""
    values, counts = np.unique(folds, return_counts=True)
    size = dict(zip(values.tolist(), counts.tolist()))
    plan = []
    for k in values.tolist():
        valid = max(v for v in values.tolist() if v != k)
        plan.append((k, valid, len(folds) - size[k] - size[valid], size[valid], size[k]))
    return plan


def cv_cost(plan, epochs, train_s, eval_s, setup_s=0.0) -> float:
    """Modelled seconds of a cross-validation from per-clip costs."""
    return sum(epochs * (n_tr * train_s + n_va * eval_s) + n_te * eval_s + (n_tr + n_va) * setup_s
               for _, _, n_tr, n_va, n_te in plan)


def run_cv_notebook(paths, y, folds, epochs, seed):
    correct = 0
    started = time.perf_counter()
    for k, valid, *_ in cv_plan(folds):
        tr, va, te = (folds != k) & (folds != valid), folds == valid, folds == k
        model, _ = nb.fit_notebook((paths[tr], y[tr]), (paths[va], y[va]), epochs=epochs, seed=seed,
                                   log=lambda m: None)
        correct += int((nb.predict_notebook(model, paths[te], y[te]).argmax(1) == y[te]).sum())
    return time.perf_counter() - started, correct / len(y)


def run_cv_store(X, y, folds, epochs, seed):
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_score

    from estimators import make_notebook_cnn

    clf = make_notebook_cnn(max_epochs=epochs, random_state=seed, validation_fold="last")
    started = time.perf_counter()
    scores = cross_val_score(clf, X, y, groups=folds, cv=LeaveOneGroupOut(), params={"groups": folds})
    seconds = time.perf_counter() - started
    sizes = np.array([np.sum(folds == k) for k in np.unique(folds)])
    return seconds, float(np.sum(scores * sizes) / sizes.sum())


def build_seconds_for(ds, n_clips, results_dir) -> tuple:
    """One-off store build time for ``n_clips``: measured in this run, or from bench_build's results."""
    if ds.build_seconds is not None:
        return ds.build_seconds, "measured in this run"
    candidates = [Path(results_dir or _common.RESULTS_DIR) / _common.dataset_slug(ds.label) / "bench_build.json",
                  _common.RESULTS_DIR / _common.dataset_slug(ds.label) / "bench_build.json"]
    for path in candidates:
        if path.is_file():
            build = json.loads(path.read_text())
            row = build["rows"][0]
            seconds = row["seconds"] * n_clips / row["clips"]
            return seconds, (f"from bench_build ({row['method']}: {row['clips']} clips in {row['seconds']:.1f} s, "
                             f"scaled to {n_clips} clips)")
    return None, "unknown (no bench_build result for this dataset; not counted)"


def run(ds, args):
    store = ds.store
    _log(f"loading every log-mel of {store.path} ({len(store)} clips)")
    started = time.perf_counter()
    X, y, _, meta = store.load("logmel")
    load_seconds = time.perf_counter() - started
    n_all = len(y)
    n_mels, n_frames = X.shape[1:]
    paths = np.array(nb.audio_paths(meta, ds.audio_root))
    rng = np.random.default_rng(args.seed)
    n_epoch = min(args.epoch_clips or n_all, n_all)
    epoch_index = np.sort(rng.choice(n_all, n_epoch, replace=False))
    folds, fold_note = pseudo_folds(ds, y, meta, args.seed)
    cv_index = _scoring.subsample(y, folds, args.cv_clips_per_fold, args.seed)
    warm_files(paths[np.union1d(epoch_index, cv_index)])
    warm_up_torch(n_mels, n_frames)

    # ---- one epoch, both ways, same clips; alternated --repeats times, the fastest of each kept ----
    load_before = os.getloadavg()
    X_epoch = X[epoch_index]
    runs_a, runs_b, runs_ref = [], [], []
    for repeat in range(args.repeats):
        _log(f"(a) notebook pipeline: one epoch of {n_epoch} clips (run {repeat + 1}/{args.repeats})")
        runs_a.append(notebook_epoch(paths[epoch_index], y[epoch_index], seed=args.seed))
        _log(f"    {runs_a[-1][1]:.1f} s, of which model {runs_a[-1][2]:.1f} s")
        _log(f"(b) store + make_notebook_cnn(max_epochs=1): one epoch of {n_epoch} clips (run {repeat + 1})")
        runs_b.append(store_epoch(X_epoch, y[epoch_index], seed=args.seed))
        _log(f"    epoch {runs_b[-1][2]:.1f} s (fit {runs_b[-1][1]:.1f} s), of which model {runs_b[-1][3]:.1f} s")
        runs_ref.append(model_only_seconds(n_epoch, n_mels, n_frames, seed=args.seed))
        _log(f"    model only, tensors in memory: {runs_ref[-1]:.1f} s")
    model_a, epoch_a, model_s_a = min(runs_a, key=lambda r: r[1])
    clf, fit_b, epoch_b, model_s_b = min(runs_b, key=lambda r: r[2])
    reference = min(runs_ref)

    # ---- one epoch of MelCNNClassifier()'s recipe, both ways, same clips ----
    recipe_a, recipe_b = [], []
    for repeat in range(args.repeats):
        _log(f"recipe on the fly: one epoch of {n_epoch} clips (run {repeat + 1}/{args.repeats})")
        recipe_a.append(nb.recipe_epoch(paths[epoch_index], y[epoch_index], seed=args.seed))
        _log(f"    {recipe_a[-1][0]:.1f} s, of which model {recipe_a[-1][1]:.1f} s")
        _log(f"recipe from the store, MelCNNClassifier(max_epochs=1): one epoch (run {repeat + 1})")
        recipe_b.append(store_epoch(X_epoch, y[epoch_index], seed=args.seed, recipe=True)[2:])
        _log(f"    {recipe_b[-1][0]:.1f} s, of which model {recipe_b[-1][1]:.1f} s")
    timed = [("recipe fed on the fly (decode + resample + log-mel per clip)", min(recipe_a)),
             ("recipe from the store (MelCNNClassifier)", min(recipe_b))]
    spec = store.config.augment
    if spec:  # the same with one augmented view per clip per epoch
        X_views = store.load("logmel", views=True)[0][epoch_index]
        views_a, views_b = [], []
        for repeat in range(args.repeats):
            _log(f"recipe with views ({spec}) on the fly: one epoch (run {repeat + 1}/{args.repeats})")
            views_a.append(nb.recipe_epoch(paths[epoch_index], y[epoch_index], seed=args.seed, views=spec))
            _log(f"recipe with views from the store: one epoch (run {repeat + 1})")
            views_b.append(store_epoch(X_views, y[epoch_index], seed=args.seed, recipe=True)[2:])
        del X_views
        timed += [("recipe with views fed on the fly (decode + augment + log-mel per clip)", min(views_a)),
                  ("recipe with views from the store (MelCNNClassifier)", min(views_b))]
    recipe_rows = [
        {"pipeline": name, "clips": n_epoch, "seconds": seconds, "clips_per_s": n_epoch / seconds,
         "model_seconds": model_s, "data_seconds": seconds - model_s, "data_share": 1 - model_s / seconds}
        for name, (seconds, model_s) in timed
    ]
    recipe_speedup = recipe_rows[0]["seconds"] / recipe_rows[1]["seconds"]
    views_speedup = recipe_rows[2]["seconds"] / recipe_rows[3]["seconds"] if spec else None

    n_eval = min(n_epoch, args.eval_clips)
    eval_index = epoch_index[:n_eval]
    started = time.perf_counter()
    nb.predict_notebook(model_a, paths[eval_index], y[eval_index])
    eval_a = (time.perf_counter() - started) / n_eval
    started = time.perf_counter()
    clf.predict_proba(X[eval_index])
    eval_b = (time.perf_counter() - started) / n_eval
    train_a, train_b = epoch_a / n_epoch, epoch_b / n_epoch
    setup_b = (fit_b - epoch_b) / n_epoch

    epoch_rows = [
        {"pipeline": "(a) notebook: decode + resample + log-mel per clip", "clips": n_epoch, "seconds": epoch_a,
         "clips_per_s": n_epoch / epoch_a, "model_seconds": model_s_a, "data_seconds": epoch_a - model_s_a,
         "data_share": 1 - model_s_a / epoch_a},
        {"pipeline": "(b) store + MelCNNClassifier, epoch", "clips": n_epoch, "seconds": epoch_b,
         "clips_per_s": n_epoch / epoch_b, "model_seconds": model_s_b, "data_seconds": epoch_b - model_s_b,
         "data_share": 1 - model_s_b / epoch_b},
        {"pipeline": "(b) store + MelCNNClassifier, whole fit (epoch + checks + normalisation stats)",
         "clips": n_epoch, "seconds": fit_b, "clips_per_s": n_epoch / fit_b, "model_seconds": model_s_b,
         "data_seconds": fit_b - model_s_b, "data_share": 1 - model_s_b / fit_b},
        {"pipeline": "reference: the same steps on tensors in memory", "clips": n_epoch, "seconds": reference,
         "clips_per_s": n_epoch / reference, "model_seconds": reference, "data_seconds": 0.0, "data_share": 0.0},
    ]
    epoch_speedup = epoch_a / epoch_b
    epoch_speedup_fit = epoch_a / fit_b

    # ---- 10-fold cross-validation, small, measured both ways ----
    plan_small = cv_plan(folds[cv_index])
    _log(f"10-fold CV, small: {len(cv_index)} clips ({args.cv_clips_per_fold or 'all'} per fold), "
         f"{args.cv_epochs} epoch(s); {fold_note}")
    cv_a, acc_a = run_cv_notebook(paths[cv_index], y[cv_index], folds[cv_index], args.cv_epochs, args.seed)
    _log(f"    notebook pipeline: {cv_a:.1f} s (accuracy {acc_a:.3f})")
    cv_b, acc_b = run_cv_store(X[cv_index], y[cv_index], folds[cv_index], args.cv_epochs, args.seed)
    _log(f"    store + MelCNNClassifier: {cv_b:.1f} s (accuracy {acc_b:.3f})")
    model_small_a = cv_cost(plan_small, args.cv_epochs, train_a, eval_a)
    model_small_b = cv_cost(plan_small, args.cv_epochs, train_b, eval_b, setup_b)

    # ---- extrapolated to the full folds and epochs ----
    plan_full = cv_plan(folds)
    build_s, build_note = build_seconds_for(ds, n_all, args.results_dir)
    full_a = cv_cost(plan_full, args.full_epochs, train_a, eval_a)
    full_b_train = cv_cost(plan_full, args.full_epochs, train_b, eval_b, setup_b)
    full_b = full_b_train + load_seconds + (build_s or 0.0)
    cv_rows = [
        {"run": f"measured: {len(cv_index)} clips, {args.cv_epochs} epoch(s)", "kind": "measured",
         "notebook_s": cv_a, "store_s": cv_b, "store_one_off_s": "not counted", "speedup": cv_a / cv_b,
         "cost_model_notebook_s": model_small_a, "cost_model_store_s": model_small_b},
        {"run": f"full: {n_all} clips, {args.full_epochs} epochs", "kind": "extrapolated",
         "notebook_s": full_a, "store_s": full_b, "store_one_off_s": load_seconds + (build_s or 0.0),
         "speedup": full_a / full_b},
    ]
    cv_speedup = full_a / full_b
    load_after = os.getloadavg()
    share_b = epoch_rows[1]["data_share"]
    goals = {
        "epoch_speedup": {"goal": f">= {GOALS['epoch_speedup']:g}x", "value": epoch_speedup,
                          "met": epoch_speedup >= GOALS["epoch_speedup"], "measured": True},
        "cv_speedup": {"goal": f">= {GOALS['cv_speedup']:g}x", "value": cv_speedup,
                       "met": cv_speedup >= GOALS["cv_speedup"], "measured": False},
        "store_data_share": {"goal": f"< {GOALS['store_data_share']:.0%}", "value": share_b,
                             "met": share_b < GOALS["store_data_share"], "measured": True},
    }
    full_epoch_note = ""
    if n_epoch < n_all:
        full_epoch_note = (f" At the measured rates an epoch over all {n_all} clips would take {n_all * train_a:.0f} s "
                           f"(a) and {n_all * train_b:.0f} s (b) (extrapolated).")
    note = (
        f"Dataset: **{ds.label}**, {n_all} clips; torch {torch.__version__} on {torch.get_num_threads()} threads, CPU. "
        f"One epoch of the same CNN (batch 64, AdamW), same {n_epoch} clips, `random_state={args.seed}`; "
        f"(a) and (b) alternated {args.repeats} time(s), the fastest epoch of each kept (all in the JSON). "
        f"Load average before / after the run: {load_before[0]:.2f} / {load_after[0]:.2f}. "
        f"`data_share` = share of the epoch spent outside forward/backward/optimiser step. The store's one-off load "
        f"of all {n_all} log-mels took {load_seconds:.1f} s (not in the epoch)."
        f"{full_epoch_note}\n\n"
        f"**Epoch speed-up (b over a): {epoch_speedup:.2f}x** (goal {GOALS['epoch_speedup']:g}x: "
        f"{'met' if goals['epoch_speedup']['met'] else 'not met'}); {epoch_speedup_fit:.2f}x counting the whole "
        f"`fit`. **Data handling in the store epoch: {share_b:.1%}** (goal < {GOALS['store_data_share']:.0%}: "
        f"{'met' if goals['store_data_share']['met'] else 'not met'}); notebook pipeline: "
        f"{epoch_rows[0]['data_share']:.1%}."
    )
    cv_note = (
        f"10-fold cross-validation of the CNN default over {fold_note} (validation on the last training fold, best "
        f"epoch restored, test on the held-out fold): the notebook loop (`fit_notebook` + `predict_notebook`) versus "
        f"`cross_val_score(make_notebook_cnn(validation_fold='last'), cv=LeaveOneGroupOut())`. The first row is "
        f"measured on a seeded subset of {args.cv_clips_per_fold or 'all'} clips per fold (one-off store costs not "
        f"counted); `cost_model_*` is what the per-clip costs of the epoch runs predict for it (train "
        f"{train_a * 1e3:.1f} / {train_b * 1e3:.1f} ms, evaluation {eval_a * 1e3:.1f} / {eval_b * 1e3:.1f} ms, store "
        f"fit set-up {setup_b * 1e3:.2f} ms per clip, notebook / store). The second row is **extrapolated** with that "
        f"cost model to all {n_all} clips and {args.full_epochs} epochs, the store side including its one-off load "
        f"({load_seconds:.1f} s) and build ({'n/a' if build_s is None else f'{build_s:.1f} s'}, {build_note}). "
        f"**10-fold end-to-end speed-up (extrapolated): {cv_speedup:.2f}x** (goal {GOALS['cv_speedup']:g}x: "
        f"{'met' if goals['cv_speedup']['met'] else 'not met'}); measured on the small run: {cv_a / cv_b:.2f}x."
    )
    table_epoch = _common.markdown_table(epoch_rows, ["pipeline", "clips", "seconds", "clips_per_s", "model_seconds",
                                                      "data_seconds", "data_share"])
    table_cv = _common.markdown_table(cv_rows, ["run", "kind", "notebook_s", "store_s", "store_one_off_s", "speedup",
                                                "cost_model_notebook_s", "cost_model_store_s"])
    recipe_note = (
        f"One epoch of the training recipe of `MelCNNClassifier()` (default network, random 128-frame windows, "
        f"mixup, label smoothing, one-cycle AdamW) on the same {n_epoch} clips: from the store, against the same "
        f"recipe written on the notebook's on-the-fly dataset (`notebook_pipeline.recipe_epoch`), fastest of "
        f"{args.repeats} alternated run(s). **Recipe epoch speed-up (store over on the fly): {recipe_speedup:.2f}x.**"
    )
    if spec:
        recipe_note += (f" With the store's augmented views (`{spec}`, one view per clip per epoch, the original "
                        f"among them), made on the fly by the same `augment_waveform` after decoding: "
                        f"**{views_speedup:.2f}x**.")
    table_recipe = _common.markdown_table(recipe_rows, ["pipeline", "clips", "seconds", "clips_per_s",
                                                        "model_seconds", "data_seconds", "data_share"])
    md = f"{note}\n\n{table_epoch}\n\n{recipe_note}\n\n{table_recipe}\n\n{cv_note}\n\n{table_cv}"
    payload = {
        "n_clips": n_all, "epoch_clips": n_epoch, "seed": args.seed, "batch_size": BATCH_SIZE,
        "store_load_seconds": load_seconds, "epoch": epoch_rows, "epoch_speedup": epoch_speedup,
        "epoch_speedup_whole_fit": epoch_speedup_fit, "store_data_share": share_b,
        "notebook_data_share": epoch_rows[0]["data_share"],
        "recipe_epoch": recipe_rows, "recipe_epoch_speedup": recipe_speedup, "views_epoch_speedup": views_speedup,
        "recipe_repeats": {"on_the_fly": recipe_a, "store": recipe_b},
        "repeats": {"notebook_epoch_seconds": [r[1] for r in runs_a], "notebook_model_seconds": [r[2] for r in runs_a],
                    "store_epoch_seconds": [r[2] for r in runs_b], "store_fit_seconds": [r[1] for r in runs_b],
                    "store_model_seconds": [r[3] for r in runs_b], "model_only_seconds": runs_ref},
        "load_average_1min": {"before": load_before[0], "after": load_after[0]},
        "per_clip_seconds": {"notebook_train": train_a, "notebook_eval": eval_a, "store_train": train_b,
                             "store_eval": eval_b, "store_fit_setup": setup_b},
        "cv": {"folds": fold_note, "small_clips_per_fold": args.cv_clips_per_fold, "small_epochs": args.cv_epochs,
               "small_clips": int(len(cv_index)), "small_accuracy_notebook": acc_a, "small_accuracy_store": acc_b,
               "full_epochs": args.full_epochs, "build_seconds": build_s, "build_note": build_note,
               "rows": cv_rows, "extrapolated_speedup": cv_speedup, "measured_small_speedup": cv_a / cv_b},
        "goals": goals,
    }
    folder = _common.results_folder(ds.label, args.results_dir)
    _plot(epoch_rows, cv_rows, ds.label, folder / f"{NAME}.png")
    _common.write_results(NAME, ds.label, payload, md, results_dir=args.results_dir)
    print(md)
    return payload


def _plot(epoch_rows, cv_rows, label, path):
    plt = _common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    rows = epoch_rows[:2]
    names = ["(a) notebook\non the fly", "(b) store +\nMelCNNClassifier"]
    axes[0].barh(names, [r["model_seconds"] for r in rows], color="tab:blue", label="model (fwd/bwd/step)")
    axes[0].barh(names, [r["data_seconds"] for r in rows], left=[r["model_seconds"] for r in rows],
                 color="tab:orange", label="data handling")
    axes[0].invert_yaxis()
    axes[0].set_xlabel(f"seconds for one epoch of {rows[0]['clips']} clips")
    axes[0].legend(fontsize=8)
    labels = [f"{r['kind']}\n{r['run'].split(': ', 1)[1]}" for r in cv_rows]
    pos = np.arange(len(cv_rows))
    axes[1].barh(pos - 0.2, [r["notebook_s"] / 60 for r in cv_rows], height=0.4, color="tab:gray", label="notebook")
    axes[1].barh(pos + 0.2, [r["store_s"] / 60 for r in cv_rows], height=0.4, color="tab:green", label="store")
    axes[1].set_yticks(pos, labels, fontsize=8)
    axes[1].invert_yaxis()
    axes[1].set_xscale("log")
    axes[1].set_xlabel("minutes for a 10-fold cross-validation (log scale)")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"Training speed: {label}", fontsize=10)
    _common.save_figure(fig, path)


def main_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _datasets.add_dataset_arguments(parser)
    sizes = parser.add_argument_group("sizes")
    sizes.add_argument("--epoch-clips", type=int, default=None,
                       help="time the epoch on a seeded subset of this many clips (default: all)")
    sizes.add_argument("--repeats", type=int, default=2,
                       help="alternate the two epoch runs this many times and keep the fastest of each")
    sizes.add_argument("--eval-clips", type=int, default=512, help="clips used to time prediction per clip")
    sizes.add_argument("--cv-clips-per-fold", type=int, default=32,
                       help="clips per fold of the measured small cross-validation (0: all)")
    sizes.add_argument("--cv-epochs", type=int, default=1, help="epochs of the measured small cross-validation")
    sizes.add_argument("--full-epochs", type=int, default=10, help="epochs of the extrapolated full cross-validation")
    return parser


def main(argv=None) -> int:
    parser = main_parser()
    args = parser.parse_args(argv)
    if args.quick:
        args.epoch_clips = args.epoch_clips or 64
        args.eval_clips = min(args.eval_clips, 32)
        args.cv_clips_per_fold = min(args.cv_clips_per_fold, 4) if args.cv_clips_per_fold else 4
        args.repeats = 1
    for name in ("cv_epochs", "full_epochs", "eval_clips", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    with _datasets.open_dataset(args, need_audio=True) as ds:
        run(ds, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
