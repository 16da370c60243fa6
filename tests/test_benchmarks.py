"""Smoke tests of the benchmark scripts: each ``main([... "--quick"])`` on tiny generated data.

The results go to a temporary folder (``--results-dir``), never to the committed
``benchmarks/results/``. The run on the real UrbanSound8K fold-1 copies is skipped
where they are absent.
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
import bench_accuracy  # noqa: E402
import bench_epoch  # noqa: E402
import report  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A 120-clip synthetic dataset in the original layout and its store: ``(audio_root, store_path)``."""
    from featstore import build_store, make_synthetic_dataset, open_source

    root = make_synthetic_dataset(tmp_path_factory.mktemp("synthetic") / "UrbanSound8K", n_clips=120, seed=0,
                                  progress=False)
    source = open_source(str(root))
    source.description = "synthetic (120 clips, seed 0)"
    store = tmp_path_factory.mktemp("store") / "synthetic.h5"
    build_store(source, store, n_jobs=1, progress=False)
    return root, store


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


def _results(folder: Path, name: str, dataset: str) -> dict:
    """Check the JSON, Markdown and PNG files of one result; return the JSON."""
    slug = _common.dataset_slug(dataset)
    payload = json.loads((folder / slug / f"{name}.json").read_text())
    assert payload["dataset"] == dataset
    assert payload["benchmark"] == name
    md = (folder / slug / f"{name}.md").read_text()
    assert f"**{dataset}**" in md
    assert list((folder / slug).glob(f"{name}*.png"))
    assert f"<!-- results {name}:{slug} -->" in (folder / "README.md").read_text()
    return payload


def test_bench_epoch_quick(synthetic, tmp_path):
    root, store = synthetic
    assert bench_epoch.main(["--store", str(store), "--source", str(root), "--quick",
                             "--results-dir", str(tmp_path)]) == 0
    payload = _results(tmp_path, "bench_epoch", "synthetic")
    assert payload["epoch_speedup"] > 0
    assert payload["cv"]["extrapolated_speedup"] > 0
    assert payload["cv"]["measured_small_speedup"] > 0
    for row in payload["epoch"]:
        assert 0 <= row["data_share"] < 1
        assert row["seconds"] > 0
    assert [r["kind"] for r in payload["cv"]["rows"]] == ["measured", "extrapolated"]
    assert "extrapolated" in (tmp_path / "synthetic" / "bench_epoch.md").read_text()


def test_bench_epoch_one_fold_uses_pseudo_folds(one_fold, tmp_path):
    root, store = one_fold
    assert bench_epoch.main(["--store", str(store), "--source", str(root), "--quick", "--label", "one fold",
                             "--results-dir", str(tmp_path)]) == 0
    payload = _results(tmp_path, "bench_epoch", "one fold")
    assert "GroupKFold(10" in payload["cv"]["folds"]


def test_bench_accuracy_quick(synthetic, tmp_path):
    _, store = synthetic
    assert bench_accuracy.main(["--store", str(store), "--quick", "--no-real", "--report",
                                "--results-dir", str(tmp_path)]) == 0
    notebook = _results(tmp_path, "bench_accuracy_notebook", "synthetic")
    assert {r["model"] for r in notebook["rows"]} >= {"majority class", "MFCC stats + logistic regression",
                                                      "CNN default", "CNN specaugment", "CNN balanced"}
    for row in notebook["rows"]:
        assert 0 <= row["accuracy"] <= 1 and 0 <= row["macro_f1"] <= 1
    assert "Reduced run" in notebook["reduction"]
    official = _results(tmp_path, "bench_accuracy_official", "synthetic")
    assert len(official["per_fold"]["logreg"]) == 10
    for row in official["rows"]:
        assert 0 <= row["mean_accuracy"] <= 1 and row["std_accuracy"] >= 0
    grid = _results(tmp_path, "bench_accuracy_grid", "synthetic")
    assert set(grid["best_params"]) == {"lr", "spec_augment", "class_weight"}
    assert len(grid["cv_results"]["mean_test_score"]) == 8
    rep = _results(tmp_path, "report", "synthetic")
    assert 0 <= rep["accuracy"] <= 1


def test_bench_accuracy_one_fold_is_grouped(one_fold, tmp_path):
    root, store = one_fold
    assert bench_accuracy.main(["--store", str(store), "--source", str(root), "--quick", "--label", "one fold",
                                "--results-dir", str(tmp_path)]) == 0
    payload = _results(tmp_path, "bench_accuracy_grouped", "one fold")
    names = [r["estimator"] for r in payload["rows"]]
    assert any(n.startswith("notebook pipeline") for n in names)
    for row in payload["rows"]:
        assert 0 <= row["mean_accuracy"] <= 1


def test_report_quick(synthetic, tmp_path):
    _, store = synthetic
    assert report.main(["--store", str(store), "--quick", "--results-dir", str(tmp_path)]) == 0
    payload = _results(tmp_path, "report", "synthetic")
    assert len(payload["history"]) == 2
    assert {"train_loss", "train_acc", "valid_loss", "valid_acc"} <= set(payload["history"][0])
    assert len(payload["confusion_matrix"]) == 10
    for row in payload["confident_mistakes"] + payload["unsure_correct"]:
        assert row["file"].endswith(".wav") and 0 <= row["confidence"] <= 1
    assert (tmp_path / "synthetic" / "report_confusion_matrix.png").is_file()


@pytest.mark.skipif(not bench_accuracy.real_data_present(_common.REAL_DEV_DATA),
                    reason=f"the real UrbanSound8K fold-1 copies are not at {_common.REAL_DEV_DATA}")
def test_bench_accuracy_real_fold1(tmp_path):
    assert bench_accuracy.main(["--source", str(_common.REAL_DEV_DATA), "--quick", "--real-max-clips", "40",
                                "--results-dir", str(tmp_path)]) == 0
    payload = _results(tmp_path, "bench_accuracy_grouped", _common.REAL_DEV_LABEL)
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
