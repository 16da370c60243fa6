"""Smoke tests of the benchmark scripts: each ``main([... "--quick"])`` on tiny generated data.

Beyond running, each test checks what the script wrote: the rows and columns of
its tables, the class names and folds they are labelled with, counts that must
match the store, and that every figure is a PNG. The results go to a temporary
folder (``--results-dir``), never to the committed ``benchmarks/results/``. The
run on the real UrbanSound8K fold-1 copies is skipped where they are absent.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH_DIR))

import _common  # noqa: E402
import _datasets  # noqa: E402
import bench_accuracy  # noqa: E402
import bench_classical  # noqa: E402
import bench_epoch  # noqa: E402
import bench_datasets  # noqa: E402
import bench_recipe  # noqa: E402
import report  # noqa: E402

from featstore import CLASS_NAMES, FeatureStore  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A 120-clip synthetic dataset in the original layout and its store: ``(audio_root, store_path)``."""
    from featstore import build_store, open_source

    store = tmp_path_factory.mktemp("store") / "synthetic.h5"
    with open_source("synthetic:120", seed=0) as source:
        build_store(source, store, n_jobs=1, progress=False)
        yield source.root, store


@pytest.fixture(scope="module")
def one_fold(synthetic, tmp_path_factory):
    """The same clips moved into a single fold, like the real fold-1 copies: ``(audio_root, store_path)``."""
    from featstore import build_store, open_source

    src, _ = synthetic
    root = tmp_path_factory.mktemp("onefold") / "UrbanSound8K"
    meta = pd.read_csv(src / "metadata" / "UrbanSound8K.csv")
    (root / "audio" / "fold1").mkdir(parents=True)
    for row in meta.itertuples():
        shutil.copy(src / "audio" / f"fold{row.fold}" / row.slice_file_name, root / "audio" / "fold1")
    meta["fold"] = 1
    (root / "metadata").mkdir()
    meta.to_csv(root / "metadata" / "UrbanSound8K.csv", index=False)
    store = tmp_path_factory.mktemp("store") / "onefold.h5"
    build_store(open_source(str(root)), store, n_jobs=1, progress=False)
    return root, store


def _png_shape(path: Path) -> tuple:
    """(width, height) of a PNG file, from its header."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _table(md: str, first_column: str) -> tuple:
    """The Markdown table of ``md`` whose first column is ``first_column``: (columns, rows of cells)."""
    lines = md.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_column:
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            assert all(len(r) == len(cells) for r in rows)
            return cells, rows
    raise AssertionError(f"no table with a first column {first_column!r} in:\n{md}")


def _results(folder: Path, name: str, dataset: str, pngs: int = 1) -> tuple:
    """Check the JSON, Markdown and PNG files of one result; return the JSON and the Markdown."""
    slug = _common.dataset_slug(dataset)
    payload = json.loads((folder / slug / f"{name}.json").read_text())
    assert payload["dataset"] == dataset
    assert payload["benchmark"] == name
    md = (folder / slug / f"{name}.md").read_text()
    assert f"**{dataset}**" in md
    figures = sorted((folder / slug).glob(f"{name}*.png"))
    assert len(figures) == pngs, figures
    for figure in figures:
        width, height = _png_shape(figure)
        assert width > 100 and height > 100
    readme = (folder / "README.md").read_text()
    assert f"<!-- results {name}:{slug} -->" in readme
    return payload, md


def _check_report(payload, store_path, *, epochs):
    """The error-analysis report of a CNN tested on fold 10 of the store."""
    names = list(CLASS_NAMES)
    test = FeatureStore(store_path).metadata(folds=[10])
    assert payload["class_names"] == names and payload["n_test"] == len(test)
    cm = np.array(payload["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == len(test)
    assert cm.sum(axis=1).tolist() == [int((test["class"] == c).sum()) for c in names]
    assert [h["epoch"] for h in payload["history"]] == list(range(1, epochs + 1))
    assert {"train_loss", "train_acc", "valid_loss", "valid_acc"} <= set(payload["history"][0])
    assert [payload["per_class"][c]["support"] for c in names] == cm.sum(axis=1).tolist()
    for rows, wrong in ((payload["confident_mistakes"], True), (payload["unsure_correct"], False)):
        for row in rows:
            assert row["file"] in set(test["slice_file_name"]) and row["fold"] == 10
            assert row["true"] in names and row["pred"] in names and (row["true"] != row["pred"]) == wrong
            assert 0 <= row["confidence"] <= 1 and row["top_3"].startswith(f"{row['pred']}: ")
    assert sum(p["count"] for p in payload["confused_pairs"]) <= cm.sum() - np.trace(cm)


def test_bench_epoch_quick(synthetic, tmp_path):
    root, store = synthetic
    assert bench_epoch.main(["--store", str(store), "--source", str(root), "--quick",
                             "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "bench_epoch", "synthetic")
    assert payload["n_clips"] == len(FeatureStore(store))
    assert [r["pipeline"].split(":")[0].split(",")[0] for r in payload["epoch"]] == [
        "(a) notebook", "(b) store + MelCNNClassifier", "(b) store + MelCNNClassifier", "reference"]
    assert all(r["clips"] == payload["epoch_clips"] for r in payload["epoch"])
    columns, rows = _table(md, "pipeline")
    assert columns == ["pipeline", "clips", "seconds", "clips_per_s", "model_seconds", "data_seconds", "data_share"]
    assert len(rows) == 4
    assert [r["pipeline"].split(" (")[0] for r in payload["recipe_epoch"]] == [
        "recipe fed on the fly", "recipe from the store"]
    assert all(r["clips"] == payload["epoch_clips"] and r["seconds"] > 0 for r in payload["recipe_epoch"])
    assert payload["recipe_epoch_speedup"] == pytest.approx(
        payload["recipe_epoch"][0]["seconds"] / payload["recipe_epoch"][1]["seconds"])
    assert "Recipe epoch speed-up" in md
    assert payload["views_epoch_speedup"] is None  # a store without views
    assert payload["epoch_speedup"] > 0
    assert payload["cv"]["extrapolated_speedup"] > 0
    assert payload["cv"]["measured_small_speedup"] > 0
    for row in payload["epoch"]:
        assert 0 <= row["data_share"] < 1
        assert row["seconds"] > 0
    assert [r["kind"] for r in payload["cv"]["rows"]] == ["measured", "extrapolated"]
    assert "extrapolated" in (tmp_path / "synthetic" / "bench_epoch.md").read_text()


def test_bench_recipe_quick(synthetic, tmp_path):
    root, store = synthetic
    rows = "0,1,3,4,5"  # the notebook pipeline and model, logistic regression, the recipe, one ablation
    assert bench_recipe.main(["--store", str(store), "--source", str(root), "--quick", "--rows", rows,
                              "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "bench_recipe", "synthetic", pngs=0)
    expected = [bench_recipe.ROWS[int(i)] for i in rows.split(",")]
    assert [r["model"] for r in payload["table"]] == expected
    assert len(payload["records"]) == len(expected) * 2  # both directions of the default "1:2,2:1"
    test_sizes = {f: len(FeatureStore(store).metadata(folds=[f])) for f in (1, 2)}
    for record in payload["records"]:
        assert 0 <= record["accuracy"] <= 1 and record["train_seconds"] > 0
        # an accuracy is a count of right clips over the test fold
        test_fold = int(record["split"].rsplit(" ", 1)[1])
        assert record["accuracy"] * test_sizes[test_fold] == pytest.approx(
            round(record["accuracy"] * test_sizes[test_fold]))
    columns, table_rows = _table(md, "model")
    assert columns == ["model", "folds 1 -> 2", "folds 2 -> 1", "mean", "± over seeds", "fits: min-max",
                       "train s per fit", "fit time / notebook's"]
    assert len(table_rows) == len(expected)


def test_bench_recipe_candidates_quick(synthetic, tmp_path):
    """The candidates for the defaults, each fit's time over the notebook model's fit in the same run."""
    _, store = synthetic
    assert bench_recipe.main(["--store", str(store), "--quick", "--candidates", "--splits", "1:2",
                              "--results-dir", str(tmp_path)]) == 0
    payload, _ = _results(tmp_path, "bench_recipe_candidates", "synthetic", pngs=0)
    rows = {r["model"]: r for r in payload["table"]}
    assert list(rows) == [bench_recipe.NOTEBOOK_LAST_EPOCH, *bench_recipe.CANDIDATES]
    assert rows[bench_recipe.NOTEBOOK_LAST_EPOCH]["fit time / notebook's"] == 1
    seconds = {r["row"]: r["train_seconds"] for r in payload["records"]}
    for name in bench_recipe.CANDIDATES:
        assert rows[name]["fit time / notebook's"] == pytest.approx(
            seconds[name] / seconds[bench_recipe.NOTEBOOK_LAST_EPOCH])


def test_bench_datasets_quick(tmp_path):
    """An ESC-50 store beside an UrbanSound8K one: both built by the same command, scored by their folds."""
    assert bench_datasets.main(["--quick", "--models", "logreg", "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "bench_datasets", "synthetic", pngs=0)
    layouts = {row["layout"]: row for row in payload["builds"]}
    assert set(layouts) == {"esc50", "urbansound8k"}
    assert (layouts["esc50"]["classes"], layouts["esc50"]["folds"], layouts["esc50"]["clip s"]) == (50, 5, 5.0)
    assert (layouts["urbansound8k"]["classes"], layouts["urbansound8k"]["clip s"]) == (10, 4.0)
    (row,) = payload["accuracy"]
    assert [k for k in row if k.startswith("fold ")] == [f"fold {k}" for k in range(1, 6)]
    assert row["mean"] == pytest.approx(np.mean([row[f"fold {k}"] for k in range(1, 6)]))
    assert "Reduced run (--quick)" in md


def test_bench_recipe_network_costs(tmp_path):
    assert bench_recipe.main(["--networks", "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "bench_recipe_networks", "synthetic", pngs=0)
    recipe, notebook, vgg = payload["rows"]
    assert notebook["parameters"] == recipe["parameters"] == 24170  # the notebook's SmallAudioCNN
    for row in payload["rows"]:
        # the global pooling makes the cost linear in the frames, up to the pooled borders
        ratio = row["MFLOPs per 321-frame clip"] / row["MFLOPs per 128-frame window"]
        assert 2.3 < ratio < 2.6
    # mean+max pooling costs next to nothing; two convs per block and a fourth block do
    assert recipe["MFLOPs per 128-frame window"] == pytest.approx(notebook["MFLOPs per 128-frame window"], rel=0.01)
    assert vgg["MFLOPs per 128-frame window"] > 4 * recipe["MFLOPs per 128-frame window"]


def test_bench_recipe_parses_splits():
    assert bench_recipe.parse_splits("1:2,2:1") == [((1,), (2,)), ((2,), (1,))]
    assert bench_recipe.parse_splits("1-8:10") == [(tuple(range(1, 9)), (10,))]


def test_bench_classical_quick(synthetic, tmp_path):
    _, store = synthetic
    assert bench_classical.main(["--store", str(store), "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "bench_classical", "synthetic", pngs=0)
    assert [r["model"] for r in payload["table"]] == [row[0] for row in bench_classical.ROWS]
    for row in payload["table"]:
        assert row["mean"] == pytest.approx((row["folds 1 -> 2"] + row["folds 2 -> 1"]) / 2)
    assert payload["gain_points"] == pytest.approx(
        100 * (payload["table"][-1]["mean"] - payload["table"][0]["mean"]))
    assert "make_stats_boosting() over make_mfcc_logreg()" in md


@pytest.fixture(scope="module")
def with_views(synthetic, tmp_path_factory):
    """The synthetic clips' store with two augmented views: ``(audio_root, store_path)``."""
    from featstore import FeatureConfig, build_store, open_source

    root, _ = synthetic
    store = tmp_path_factory.mktemp("store") / "views.h5"
    build_store(open_source(str(root)), store, config=FeatureConfig(augment="gain:-6;pitch:1"), n_jobs=1,
                progress=False)
    return root, store


def test_bench_recipe_trains_on_the_views_of_a_store_that_has_them(with_views, synthetic, tmp_path, capsys):
    root, store = with_views
    views_row = str(bench_recipe.ROWS.index(bench_recipe.VIEWS))
    assert bench_recipe.main(["--store", str(store), "--quick", "--rows", views_row, "--label", "synthetic",
                              "--results-dir", str(tmp_path)]) == 0
    payload, _ = _results(tmp_path, "bench_recipe", "synthetic", pngs=0)
    assert [r["model"] for r in payload["table"]] == [bench_recipe.VIEWS]
    with pytest.raises(SystemExit, match="has no augmented views; build it with --augment"):
        bench_recipe.main(["--store", str(synthetic[1]), "--quick", "--rows", views_row,
                           "--results-dir", str(tmp_path)])


def test_bench_epoch_times_the_recipe_with_views(with_views, tmp_path):
    root, store = with_views
    assert bench_epoch.main(["--store", str(store), "--source", str(root), "--quick", "--label", "synthetic",
                             "--results-dir", str(tmp_path / "results")]) == 0
    payload, md = _results(tmp_path / "results", "bench_epoch", "synthetic")
    assert [r["pipeline"].split(" (")[0] for r in payload["recipe_epoch"]] == [
        "recipe fed on the fly", "recipe from the store", "recipe with views fed on the fly",
        "recipe with views from the store"]
    assert payload["views_epoch_speedup"] == pytest.approx(
        payload["recipe_epoch"][2]["seconds"] / payload["recipe_epoch"][3]["seconds"])
    assert "With the store's augmented views (`pitch:1;gain:-6`" in md  # the spec in canonical order


def test_bench_epoch_one_fold_uses_pseudo_folds(one_fold, tmp_path):
    root, store = one_fold
    assert bench_epoch.main(["--store", str(store), "--source", str(root), "--quick", "--label", "one fold",
                             "--results-dir", str(tmp_path)]) == 0
    payload, _ = _results(tmp_path, "bench_epoch", "one fold")
    assert "GroupKFold(10" in payload["cv"]["folds"]
    assert payload["n_clips"] == len(FeatureStore(store))


def test_bench_accuracy_quick(synthetic, tmp_path):
    _, store = synthetic
    sizes = FeatureStore(store).fold_sizes()
    assert bench_accuracy.main(["--store", str(store), "--quick", "--no-real", "--report",
                                "--results-dir", str(tmp_path)]) == 0
    names = list(CLASS_NAMES)

    notebook, md = _results(tmp_path, "bench_accuracy_notebook", "synthetic", pngs=2)
    models = ["majority class", "MFCC stats + logistic regression", "CNN default", "CNN specaugment", "CNN balanced"]
    assert [r["model"] for r in notebook["rows"]] == models
    assert (notebook["train_folds"], notebook["valid_fold"], notebook["test_fold"]) == (list(range(1, 9)), 9, 10)
    assert notebook["n_test"] == sizes[10] and notebook["n_train"] == sum(sizes[f] for f in range(1, 9))
    for row in notebook["rows"]:
        assert 0 <= row["accuracy"] <= 1 and 0 <= row["macro_f1"] <= 1
        per_class = notebook["details"][row["model"]]["per_class"]
        assert sum(per_class[c]["support"] for c in names) == sizes[10]
    assert "Reduced run" in notebook["reduction"]
    columns, rows = _table(md, "model")
    assert columns == ["model", "accuracy", "macro_f1", "best_epoch", "fit_seconds"] and [r[0] for r in rows] == models
    columns, rows = _table(md, "class")
    assert columns == ["class", *models] and [r[0] for r in rows] == names

    official, md = _results(tmp_path, "bench_accuracy_official", "synthetic")
    assert official["n_clips"] == sum(sizes.values())
    assert list(official["per_fold"]["logreg"]) == [str(f) for f in range(1, 11)]
    assert list(official["per_fold"]["cnn"]) == ["1", "2"]
    assert [r["estimator"] for r in official["rows"]] == ["MFCC stats + logistic regression",
                                                          "CNN default (no validation, fixed epochs)"]
    assert [r["test_folds"] for r in official["rows"]] == [10, 2]
    for row in official["rows"]:
        assert 0 <= row["mean_accuracy"] <= 1 and row["std_accuracy"] >= 0
    assert [r[0] for r in _table(md, "test fold")[1]] == [str(f) for f in range(1, 11)]

    grid, md = _results(tmp_path, "bench_accuracy_grid", "synthetic")
    assert grid["folds"] == [1, 2] and grid["n_clips"] == sum(min(12, sizes[f]) for f in (1, 2))
    assert set(grid["best_params"]) == {"lr", "spec_augment", "class_weight"}
    assert len(grid["cv_results"]["mean_test_score"]) == len(grid["cv_params"]) == 8
    combos = {tuple(sorted((k, repr(v)) for k, v in p.items())) for p in grid["cv_params"]}
    assert len(combos) == 8 and grid["best_params"] in grid["cv_params"]
    assert sorted(int(r[0]) for r in _table(md, "rank_test_score")[1]) == sorted(grid["cv_results"]["rank_test_score"])

    rep, _ = _results(tmp_path, "report", "synthetic", pngs=5)
    _check_report(rep, store, epochs=1)


def test_bench_accuracy_one_fold_is_grouped(one_fold, tmp_path):
    root, store = one_fold
    assert bench_accuracy.main(["--store", str(store), "--source", str(root), "--quick", "--label", "one fold",
                                "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "bench_accuracy_grouped", "one fold")
    estimators = ["majority class", "MFCC stats + logistic regression", "CNN default (store)",
                  "notebook pipeline + SmallAudioCNN (on-the-fly)"]
    assert [r["estimator"] for r in payload["rows"]] == estimators
    assert payload["n_clips"] == min(60, len(FeatureStore(store)))
    assert list(payload["per_split"]) == estimators and all(len(v) == 3 for v in payload["per_split"].values())
    for row in payload["rows"]:
        assert 0 <= row["mean_accuracy"] <= 1
    assert [r[0] for r in _table(md, "estimator")[1]] == estimators
    assert [r[0] for r in _table(md, "split")[1]] == ["1", "2", "3"]


def test_report_quick(synthetic, tmp_path):
    _, store = synthetic
    assert report.main(["--store", str(store), "--quick", "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "report", "synthetic", pngs=5)
    _check_report(payload, store, epochs=2)
    columns, rows = _table(md, "class")
    assert columns == ["class", "precision", "recall", "f1-score", "support"]
    assert [r[0] for r in rows] == list(CLASS_NAMES)
    assert [r[0] for r in _table(md, "epoch")[1]] == ["1", "2"]


@pytest.mark.skipif(not bench_accuracy.real_data_present(_common.REAL_DEV_DATA),
                    reason=f"the real UrbanSound8K fold-1 copies are not at {_common.REAL_DEV_DATA}")
def test_bench_accuracy_real_fold1(tmp_path):
    assert bench_accuracy.main(["--source", str(_common.REAL_DEV_DATA), "--quick", "--real-max-clips", "40",
                                "--results-dir", str(tmp_path)]) == 0
    payload, _ = _results(tmp_path, "bench_accuracy_grouped", _common.REAL_DEV_LABEL)
    assert payload["n_clips"] == 40


@pytest.mark.parametrize("argv, message", [
    (["--protocols", "notebook,bogus"], "unknown protocols"),
    (["--variants", "tiny"], "unknown CNN variants"),
    (["--epochs", "0"], "at least 1"),
], ids=["bad-protocol", "bad-variant", "zero-epochs"])
def test_bench_accuracy_rejects_bad_flags(argv, message, capsys):
    with pytest.raises(SystemExit):
        bench_accuracy.main(argv)
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    ([], "bench_accuracy_notebook"),
    (["--tag", "Variants run"], "bench_accuracy_variants-run_notebook"),
], ids=["untagged", "tagged"])
def test_bench_accuracy_result_names(argv, expected):
    args = bench_accuracy.main_parser().parse_args(argv)
    assert bench_accuracy.result_name(args, "notebook") == expected


def test_cv_plan_validates_on_the_last_training_fold():
    plan = bench_epoch.cv_plan(np.repeat([1, 2, 3, 4], [5, 6, 7, 8]))
    assert [(k, valid) for k, valid, *_ in plan] == [(1, 4), (2, 4), (3, 4), (4, 3)]
    for k, valid, n_train, n_valid, n_test in plan:
        assert n_train + n_valid + n_test == 26


def test_a_store_names_the_synthetic_data_behind_it(synthetic):
    root, store = synthetic
    store = FeatureStore(store)
    assert _datasets.dataset_label(store, real_data=None) == "synthetic"
    with _datasets.regenerated_audio(store) as regenerated:
        for row in store.metadata().head(5).itertuples():
            path = Path("audio") / f"fold{row.fold}" / row.slice_file_name
            assert (regenerated / path).read_bytes() == (root / path).read_bytes()
    assert not regenerated.exists()


def test_bench_views_quick(tmp_path):
    import bench_views

    rows = [0, 3]  # no views; mild views (the quick store has them), original half the time
    assert bench_views.main(["--quick", "--rows", ",".join(map(str, rows)), "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "bench_views", "synthetic", pngs=0)
    names = list(bench_views.ROWS)
    assert [r["model"] for r in payload["table"]] == [names[i] for i in rows]
    baseline = payload["table"][0]["mean"]
    for row in payload["table"]:
        assert row["vs no views (points)"] == pytest.approx(100 * (row["mean"] - baseline))
    assert {r["split"] for r in payload["records"]} == {"folds 1-8 -> 10"}
    assert "network: recipe's" in md


def test_bench_views_skips_rows_whose_views_the_store_lacks(with_views, tmp_path, capsys):
    import bench_views

    _, store = with_views  # views gain:-6 and pitch:1 only
    assert bench_views.main(["--store", str(store), "--quick", "--rows", "0,1", "--splits", "1-8:10",
                             "--label", "synthetic", "--results-dir", str(tmp_path)]) == 0
    assert "skipped 'salamon2017 (12 views), original half the time'" in capsys.readouterr().out
    payload, _ = _results(tmp_path, "bench_views", "synthetic", pngs=0)
    assert [r["model"] for r in payload["table"]] == ["no views"]


def test_bench_scale_quick(tmp_path):
    import bench_scale

    assert bench_scale.main(["--quick", "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "bench_scale", "synthetic", pngs=0)
    assert payload["n_clips"] == 60
    rows = {r["build"]: r for r in payload["rows"]}
    assert list(rows) == list(bench_scale.CONTENDERS)
    for dask_row, local_row in bench_scale.PAIRS.items():
        expected = 1000 * (rows[dask_row]["build s"] - rows[local_row]["build s"]) / 60
        assert rows[dask_row]["Dask overhead, ms per clip"] == pytest.approx(expected)
    assert payload["shipped_bytes_per_clip"] == 4 * (64000 + 64 * 321 + 40 + 160)


def test_bench_cost_quick(tmp_path):
    """The recipe's fit beside the notebook's in one run, and the CPU settings' epochs."""
    import bench_cost

    assert bench_cost.main(["--quick", "--results-dir", str(tmp_path)]) == 0
    payload, md = _results(tmp_path, "bench_cost", "synthetic (random arrays)", pngs=0)
    fits = {row["fit"]: row for row in payload["fits"]}
    assert set(fits) == {"MelCNNClassifier()", "make_notebook_cnn()"}
    assert fits["MelCNNClassifier()"]["fit time / notebook's"] == pytest.approx(
        fits["MelCNNClassifier()"]["fit s (median)"] / fits["make_notebook_cnn()"]["fit s (median)"])
    settings = [row["setting"] for row in payload["settings"]]
    assert settings[1:] == ["module__channels_last=False", "n_threads=1"]
    assert all(row["s per epoch"] > 0 for row in payload["settings"])
    assert "Reduced run (--quick)" in md and "**Extrapolated**" in md


def test_bench_recipe_merges_runs_with_each_run_s_own_notebook_time(tmp_path):
    """Each fit's time is divided by the notebook model's of its own run, not of another run's."""
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    candidate = next(iter(bench_recipe.CANDIDATES))

    def record(row, seed, split, accuracy, seconds):
        return {"row": row, "seed": seed, "split": split, "accuracy": accuracy, "train_seconds": seconds}

    for path, notebook_seconds, row in ((first, 100.0, candidate), (second, 200.0, bench_recipe.RECIPE)):
        records = [record(bench_recipe.NOTEBOOK_LAST_EPOCH, 0, "folds 1 -> 2", 0.4, notebook_seconds),
                   record(row, 0, "folds 1 -> 2", 0.5, 150.0), record(row, 1, "folds 1 -> 2", 0.6, 150.0)]
        path.write_text(json.dumps({"dataset": "synthetic", "splits": ["folds 1 -> 2"], "seeds": [0, 1],
                                    "records": records}))
    assert bench_recipe.main(["--merge", str(first), str(second), "--results-dir", str(tmp_path / "out")]) == 0
    payload, md = _results(tmp_path / "out", "bench_recipe_candidates", "synthetic", pngs=0)
    rows = {r["model"]: r for r in payload["table"]}
    assert rows[candidate]["fit time / notebook's"] == pytest.approx(1.5)  # 150 / 100, its run's notebook
    assert rows[bench_recipe.RECIPE]["fit time / notebook's"] == pytest.approx(0.75)  # 150 / 200
    assert rows[candidate]["mean"] == pytest.approx(0.55) and rows[candidate]["fits: min-max"] == "0.500-0.600"
    assert "2 runs, each with the notebook model for the time ratio" in md
