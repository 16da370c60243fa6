"""``python -m estimators evaluate`` and ``estimators.evaluation.evaluate`` on small generated stores.

What is checked: the report's numbers are ``cross_val_score``'s on the same
splits; the notebook protocol gives the CNN its validation fold as a manual fit
would; named folds work; the report is rebuilt from ``results.jsonl`` alone;
every bad input ends in one ``error:`` line; the command line parses as the
table says. Interruptions, resuming and parallel runs are in
``test_evaluate_runs.py``.
"""

import json
import shutil
import sys

import h5py
import numpy as np
import pytest
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score

import evaluate_fixtures as fx
from estimators import make_mfcc_logreg, make_stats_boosting
from estimators.evaluation import ModelSpecError, ProtocolError, evaluate, make_splits, write_report
from estimators.evaluation.cli import main, main_parser
from featstore import FeatureStore


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """``{"numbered": store of folds 1, 2, 3; "named": store of folds train, validation, test}``."""
    tmp = tmp_path_factory.mktemp("evaluate-stores")
    numbered = fx.build(fx.write_class_folders(tmp / "numbered", (1, 2, 3)), tmp / "numbered.h5")
    named = fx.build(fx.write_class_folders(tmp / "named", ("train", "validation", "test"), seed=1), tmp / "named.h5")
    return {"numbered": numbered, "named": named}


def report(out) -> dict:
    return json.loads((out / "report.json").read_text())


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# ---------------------------------------------------------------------------
# the numbers


def test_report_equals_cross_val_score(stores, tmp_path):
    """Per fold, mean and spread of accuracy and macro-F1 are cross_val_score's under LeaveOneGroupOut."""
    out = tmp_path / "out"
    results = evaluate(stores["numbered"], ["logreg", "boosting"], out=out)
    store = FeatureStore(stores["numbered"])
    payload = report(out)
    assert [m["name"] for m in payload["models"]] == ["logreg", "boosting"]
    for model, make, feature in (("logreg", make_mfcc_logreg, "mfcc_stats"),
                                 ("boosting", make_stats_boosting, "mfcc_delta_stats")):
        X, y, groups, _ = store.load(feature)
        expected = {metric: cross_val_score(make(), X, y, groups=groups, cv=LeaveOneGroupOut(), scoring=metric)
                    for metric in ("accuracy", "f1_macro")}
        entry = next(m for m in payload["models"] if m["name"] == model)
        assert [f["test_fold"] for f in entry["folds"]] == [1, 2, 3]
        assert [f["accuracy"] for f in entry["folds"]] == expected["accuracy"].tolist()
        assert [f["macro_f1"] for f in entry["folds"]] == pytest.approx(expected["f1_macro"].tolist(), abs=1e-12)
        assert entry["mean_accuracy"] == pytest.approx(expected["accuracy"].mean(), abs=1e-12)
        assert entry["std_accuracy"] == pytest.approx(expected["accuracy"].std(), abs=1e-12)
        assert results[model]["test_accuracy"].tolist() == expected["accuracy"].tolist()
        assert results[model]["test_fold"] == [1, 2, 3]
        assert len(results[model]["fit_time"]) == 3 and (results[model]["fit_time"] > 0).all()
        # the pooled confusion matrix covers every clip once, rows by true class
        cm = np.array(entry["confusion_matrix"])
        assert cm.sum() == len(y) and cm.sum(axis=1).tolist() == np.bincount(y, minlength=3).tolist()

    # the clips to listen to are named by the store's path column
    files = set(store.metadata()[store.columns["path"]])
    mistakes = [row for m in payload["models"] for row in m["confident_mistakes"]]
    assert all(row["file"] in files and row["true"] != row["pred"] and row["fold"] in (1, 2, 3)
               and row["top_3"].startswith(f"{row['pred']}: ") for row in mistakes)
    names = {"report.md", "report.json", "results.jsonl", "report_fold_accuracy.png", "report_per_class_f1.png",
             "report_confusion_logreg.png", "report_confusion_boosting.png"}
    assert {p.name for p in out.iterdir()} == names  # and no temporary file left
    assert all((out / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names if n.endswith(".png"))
    md = (out / "report.md").read_text()
    assert "| test fold | test clips | logreg accuracy |" in md and "Most confident mistakes" in md

    # the report is rebuilt from results.jsonl alone, to the byte
    before = {n: (out / n).read_bytes() for n in ("report.md", "report.json")}
    for n in names - {"results.jsonl"}:
        (out / n).unlink()
    write_report(out)
    assert {n: (out / n).read_bytes() for n in before} == before


def test_notebook_protocol_gives_the_cnn_its_validation_fold(stores, tmp_path):
    """Named folds: train on "train", keep the CNN's best epoch on "validation", test on "test"."""
    import evaluate_fixtures

    out = tmp_path / "out"
    cnn = "evaluate_fixtures:tiny_cnn_two_epochs"
    assert main(["evaluate", str(stores["named"]), "--model", cnn, "--model", "logreg", "--protocol", "notebook",
                 "--out", str(out), "--quiet"]) == 0
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    header, by_model = records[0], {r["model"]: r for r in records[1:]}
    assert header["protocol"]["splits"] == [{"test_fold": "test", "train_folds": ["train"],
                                             "validation_fold": "validation"}]
    store = FeatureStore(stores["named"])
    sizes = store.fold_sizes()
    assert by_model[cnn]["validation_fold"] == "validation" and by_model[cnn]["best_epoch"] in (1, 2)
    assert by_model[cnn]["n_train"] == sizes["train"] + sizes["validation"]  # validation clips go to fit, held out
    assert by_model["logreg"]["validation_fold"] is None and by_model["logreg"]["n_train"] == sizes["train"]

    # the same fit by hand
    X, y, groups, _ = store.load("logmel", folds=["train", "validation"])
    X_test, y_test, _, _ = store.load("logmel", folds=["test"])
    manual = evaluate_fixtures.tiny_cnn_two_epochs().set_params(validation_fold="validation", random_state=0,
                                                                verbose=0)
    manual.fit(X, y, groups=groups)
    assert manual.best_epoch_ == by_model[cnn]["best_epoch"]
    assert np.round(manual.predict_proba(X_test).astype(np.float64), 6).tolist() == by_model[cnn]["proba"]
    assert by_model[cnn]["y_true"] == y_test.tolist()


def test_named_folds_leave_one_out(stores, tmp_path):
    results = evaluate(stores["named"], ["logreg"], out=tmp_path / "out", report=False)
    assert results["logreg"]["test_fold"] == ["train", "validation", "test"]
    assert not (tmp_path / "out" / "report.md").exists()


@pytest.mark.parametrize(("folds", "kwargs", "expected"), [
    pytest.param((1, 2, 3), {}, ("folds", [(1, (2, 3), None), (2, (1, 3), None), (3, (1, 2), None)]),
                 id="folds-by-default"),
    pytest.param((1, 2, 3), {"test_fold": "2"}, ("test-fold", [(2, (1, 3), None)]), id="test-fold-from-text"),
    pytest.param((1, 2, 3), {"protocol": "test-fold"}, ("test-fold", [(3, (1, 2), None)]), id="test-fold-last"),
    pytest.param(tuple(range(1, 11)), {"protocol": "notebook"},
                 ("notebook", [(10, tuple(range(1, 9)), 9)]), id="notebook-9-10"),
    pytest.param((1, 2, 3, 4), {"test_fold": 1, "validation_fold": 4}, ("notebook", [(1, (2, 3), 4)]),
                 id="notebook-given"),
    pytest.param(("train", "validation", "test"), {"protocol": "notebook"},
                 ("notebook", [("test", ("train",), "validation")]), id="notebook-named"),
])
def test_make_splits(folds, kwargs, expected):
    name, splits = make_splits(folds, **kwargs)
    assert (name, [(s.test_fold, s.train_folds, s.validation_fold) for s in splits]) == expected


@pytest.mark.parametrize(("folds", "kwargs", "match"), [
    pytest.param((1, 2, 3), {"test_fold": 4}, r"test fold 4 is not a fold of .*; it holds folds 1, 2, 3", id="absent"),
    pytest.param((1, 2, 3), {"test_fold": 2, "validation_fold": "2"}, "both the validation and the test", id="same"),
    pytest.param((1,), {}, "needs at least 2 folds; .* holds 1", id="one-fold"),
    pytest.param((1, 2), {"protocol": "notebook"}, "needs at least 3 folds", id="notebook-two-folds"),
    pytest.param((1, 2, 3), {"protocol": "folds", "test_fold": 1}, "tests every fold in turn", id="folds-with-test"),
])
def test_make_splits_refuses(folds, kwargs, match):
    with pytest.raises(ProtocolError, match=match):
        make_splits(folds, **kwargs)


def test_seed_reaches_every_random_state():
    from estimators.evaluation import resolve_model

    assert resolve_model("boosting", seed=7).estimator.get_params()["clf__random_state"] == 7
    assert resolve_model("cnn", seed=7).estimator.random_state == 7
    spec = resolve_model("evaluate_fixtures:tiny_cnn", seed=3)
    assert spec.feature == "logmel" and spec.estimator.random_state == 3
    with pytest.raises(ModelSpecError, match="say which store feature"):
        resolve_model("evaluate_fixtures:logreg")


# ---------------------------------------------------------------------------
# bad input: one line, exit 1


@pytest.fixture(scope="module")
def old_store(stores, tmp_path_factory):
    """The numbered store without mfcc_delta_stats, as one built before that feature existed."""
    path = tmp_path_factory.mktemp("old") / "old.h5"
    shutil.copy(stores["numbered"], path)
    with h5py.File(path, "r+") as f:
        for fold in (1, 2, 3):
            del f[f"fold{fold}/mfcc_delta_stats"]
    return path


BAD = [
    pytest.param(["--model", "nope"], "unknown model 'nope'; known models: cnn, notebook-cnn, logreg, boosting",
                 id="unknown-model"),
    pytest.param(["--model", "no_such_module_here:make@mfcc_stats"], "cannot import module 'no_such_module_here'",
                 id="module-not-importable"),
    pytest.param(["--model", "evaluate_fixtures:nothing@mfcc_stats"], "has no 'nothing'", id="callable-missing"),
    pytest.param(["--model", "evaluate_fixtures:not_an_estimator@mfcc_stats"],
                 "returned a str, not a classifier with fit and predict_proba", id="not-an-estimator"),
    pytest.param(["--model", "evaluate_fixtures:logreg"], "say which store feature it reads", id="feature-unsaid"),
    pytest.param(["--model", "evaluate_fixtures:logreg@mfcc"], "asks for feature 'mfcc'", id="unknown-feature"),
    pytest.param(["--model", "logreg", "--model", "logreg"], "given twice", id="model-twice"),
    pytest.param(["--model", "logreg", "--test-fold", "7"], "test fold 7 is not a fold of .*; it holds folds 1, 2, 3",
                 id="absent-fold"),
    pytest.param(["--model", "logreg", "--test-fold", "1", "--validation-fold", "1"],
                 "both the validation and the test fold", id="validate-on-test"),
]


@pytest.mark.parametrize(("args", "match"), BAD)
def test_bad_input_one_line(stores, tmp_path, capsys, args, match):
    out = tmp_path / "out"
    assert main(["evaluate", str(stores["numbered"]), *args, "--out", str(out), "--quiet"]) == 1
    import re

    assert re.search(match, one_error_line(capsys)), match
    assert not (out / "results.jsonl").exists()


def test_store_without_the_feature(old_store, tmp_path, capsys):
    assert main(["evaluate", str(old_store), "--model", "boosting", "--out", str(tmp_path / "o"), "--quiet"]) == 1
    line = one_error_line(capsys)
    assert "has no mfcc_delta_stats, which model boosting reads" in line and "--overwrite" in line
    # a model that needs only what the store has still runs
    assert main(["evaluate", str(old_store), "--model", "logreg", "--out", str(tmp_path / "o"), "--quiet"]) == 0


@pytest.mark.parametrize("kind", ["missing", "text", "hdf5"])
def test_not_a_store(tmp_path, capsys, kind):
    path = tmp_path / "store.h5"
    if kind == "text":
        path.write_text("hello")
    elif kind == "hdf5":
        with h5py.File(path, "w") as f:
            f["x"] = [1]
    assert main(["evaluate", str(path), "--model", "logreg", "--out", str(tmp_path / "o")]) == 1
    assert "store" in one_error_line(capsys)


def test_out_holds_another_run(stores, tmp_path, capsys):
    out = tmp_path / "out"
    base = [str(stores["numbered"]), "--model", "logreg", "--out", str(out), "--quiet"]
    assert main(["evaluate", *base]) == 0
    assert main(["evaluate", *base]) == 1
    assert "holds another run's results (3 results of logreg); pass --resume" in one_error_line(capsys)
    for extra, differs in ((["--seed", "1"], "seed: recorded 0, now 1"),
                           (["--model", "boosting"], "models: recorded ['logreg'], now ['logreg', 'boosting']"),
                           (["--test-fold", "2"], "protocol: recorded ('folds', [1, 2, 3]), now ('test-fold', [2])")):
        assert main(["evaluate", *base, "--resume", *extra]) == 1
        line = one_error_line(capsys)
        assert line.startswith("error: --resume:") and differs in line, line
    assert main(["evaluate", *base, "--resume"]) == 0  # all done: the report is written again, nothing is fitted
    assert main(["evaluate", *base, "--overwrite", "--seed", "1"]) == 0
    assert json.loads((out / "results.jsonl").read_text().splitlines()[0])["seed"] == 1


def test_missing_matplotlib_one_line(stores, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["evaluate", str(stores["numbered"]), "--model", "logreg", "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert "pip install 'urbansound-featstore[bench]'" in one_error_line(capsys)


# ---------------------------------------------------------------------------
# the command line


DEFAULTS = {"command": "evaluate", "store": "s.h5", "models": ["logreg"], "out": None, "protocol": None,
            "test_fold": None, "validation_fold": None, "seed": 0, "resume": False, "overwrite": False, "jobs": None,
            "scheduler": None, "threads": None, "label": None, "quiet": False}


@pytest.mark.parametrize(("argv", "expected"), [
    pytest.param([], {}, id="defaults"),
    pytest.param(["--model", "boosting"], {"models": ["logreg", "boosting"]}, id="two-models"),
    pytest.param(["--model", "pkg.mod:make@mfcc_stats"], {"models": ["logreg", "pkg.mod:make@mfcc_stats"]},
                 id="module-callable"),
    pytest.param(["--out", "o", "--seed", "3", "--quiet"], {"out": "o", "seed": 3, "quiet": True}, id="out-seed"),
    pytest.param(["--test-fold", "10"], {"test_fold": "10"}, id="test-fold-kept-as-text"),
    pytest.param(["--test-fold", "test", "--validation-fold", "validation"],
                 {"test_fold": "test", "validation_fold": "validation"}, id="named-folds"),
    pytest.param(["--protocol", "notebook"], {"protocol": "notebook"}, id="notebook"),
    pytest.param(["--resume"], {"resume": True}, id="resume"),
    pytest.param(["--overwrite"], {"overwrite": True}, id="overwrite"),
    pytest.param(["--jobs", "-1"], {"jobs": -1}, id="jobs-all-cores"),
    pytest.param(["--scheduler", "local", "--jobs", "2"], {"scheduler": "local", "jobs": 2}, id="dask-local"),
    pytest.param(["--scheduler", "tcp://10.0.0.5:8786"], {"scheduler": "tcp://10.0.0.5:8786"}, id="dask-remote"),
    pytest.param(["--threads", "1", "--label", "real data"], {"threads": 1, "label": "real data"}, id="threads"),
])
def test_parser(argv, expected):
    args = main_parser().parse_args(["evaluate", "s.h5", "--model", "logreg", *argv])
    assert vars(args) == {**DEFAULTS, **expected}


@pytest.mark.parametrize("argv", [
    pytest.param(["evaluate", "s.h5"], id="no-model"),
    pytest.param(["evaluate", "s.h5", "--model", "logreg", "--resume", "--overwrite"], id="resume-and-overwrite"),
    pytest.param(["evaluate", "s.h5", "--model", "logreg", "--jobs", "0"], id="zero-jobs"),
    pytest.param(["evaluate", "s.h5", "--model", "logreg", "--seed", "-1"], id="negative-seed"),
    pytest.param(["evaluate", "s.h5", "--model", "logreg", "--protocol", "folds", "--test-fold", "1"],
                 id="folds-with-test-fold"),
    pytest.param(["evaluate", "s.h5", "--model", "logreg", "--protocol", "test-fold", "--validation-fold", "1"],
                 id="test-fold-with-validation"),
    pytest.param(["evaluate", "s.h5", "--model", "logreg", "--scheduler", "tcp://h:8786", "--jobs", "2"],
                 id="remote-cluster-with-jobs"),
])
def test_parser_refuses(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("python -m estimators")
