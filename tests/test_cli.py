import shutil

import h5py
import numpy as np
import pytest

from featstore import FeatureStore
from featstore.__main__ import main, main_parser, parse_synthetic


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["build", "--out", "s.h5"], {"source": "hf:danavery/urbansound8K", "jobs": -1, "overwrite": False, "strict": False}),
        (["build", "data/UrbanSound8K", "--out", "s.h5", "--jobs", "2", "--overwrite", "--strict"],
         {"source": "data/UrbanSound8K", "jobs": 2, "overwrite": True, "strict": True}),
        (["build", "synthetic:50", "--out", "s.h5", "--seed", "3"], {"source": "synthetic:50", "seed": 3}),
        (["synth", "out", "--full"], {"out": "out", "full": True, "n_clips": None}),
        (["synth", "out", "--n-clips", "20", "--seed", "1"], {"n_clips": 20, "full": False, "seed": 1}),
        (["synth", "out", "--jobs", "-1"], {"jobs": -1}),
        (["synth", "out", "--jobs", "3"], {"jobs": 3}),
        (["info", "s.h5"], {"path": "s.h5"}),
        (["verify", "s.h5"], {"path": "s.h5"}),
    ],
    ids=["build-default-source", "build-all-flags", "build-synthetic", "synth-full", "synth-n", "synth-all-cores",
         "synth-three-jobs", "info", "verify"],
)
def test_parser(argv, expected):
    args = vars(main_parser().parse_args(argv))
    assert {k: args[k] for k in expected} == expected


@pytest.mark.parametrize(
    "argv",
    [["build"], ["synth", "out", "--full", "--n-clips", "30"], ["synth", "out", "--n-clips", "3"], ["frobnicate"], []],
    ids=["build-without-out", "synth-conflicting-sizes", "synth-too-few", "unknown-command", "no-command"],
)
def test_parser_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["synth", "out", "--seed", "-1"], "argument --seed: must be a non-negative int, got -1"),
        (["synth", "out", "--jobs", "0"], "argument --jobs: must be a non-zero int: -1 for one worker per core"),
        (["build", "synthetic", "--out", "s.h5", "--jobs", "0"], "argument --jobs: must be a non-zero int"),
        (["build", "data", "--out", "s.h5", "--jobs", "0"], "argument --jobs: must be a non-zero int"),
        (["build", "synthetic", "--out", "s.h5", "--seed", "-3"], "argument --seed: must be a non-negative int"),
        (["synth", "out", "--jobs", "two"], "argument --jobs: expected an integer, got 'two'"),
    ],
    ids=["synth-negative-seed", "synth-zero-jobs", "build-synthetic-zero-jobs", "build-folder-zero-jobs",
         "build-negative-seed", "synth-jobs-not-a-number"],
)
def test_bad_values_are_usage_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "spec, expected",
    [("synthetic", (1000, False)), ("synthetic:40", (40, False)), ("synthetic:full", (None, True)), ("data", None)],
)
def test_parse_synthetic(spec, expected):
    assert parse_synthetic(spec) == expected


@pytest.mark.parametrize("spec", ["synthetic:many", "synthetic:5", "synthetic:-3"])
def test_bad_synthetic_spec(capsys, tmp_path, spec):
    assert main(["build", spec, "--out", str(tmp_path / "s.h5")]) == 1
    assert "error: Bad synthetic source" in capsys.readouterr().err


def test_build_info_verify_on_a_folder(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "store.h5"
    assert main(["build", str(tiny_dataset), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    assert "12 of 12 clips stored" in capsys.readouterr().out
    assert main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "12 clips in folds [1, 2, 3]" in info and '"n_mels": 64' in info
    assert main(["verify", str(out)]) == 0
    assert "OK (12 clips" in capsys.readouterr().out


def test_build_refuses_to_replace(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "store.h5"
    out.write_text("keep me")
    assert main(["build", str(tiny_dataset), "--out", str(out), "--quiet"]) == 1
    assert "already exists. Pass overwrite=True (--overwrite)" in capsys.readouterr().err
    assert out.read_text() == "keep me"


def test_default_source_offline_fails_clearly(tmp_path, capsys):
    # Offline (conftest), the default hub source must fail and never fall back to synthetic data.
    out = tmp_path / "store.h5"
    assert main(["build", "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "danavery/urbansound8K" in err and "synthetic" in err
    assert not out.exists()


def test_verify_exit_code_on_problem(tiny_store, tmp_path, capsys):
    path = tmp_path / "broken.h5"
    shutil.copy(tiny_store, path)
    with h5py.File(path, "r+") as f:
        f["fold1/mfcc_stats"][0, 0] = np.inf
    assert main(["verify", str(path)]) == 1
    assert "problem: fold 1: mfcc_stats of clip 0 has NaN or infinite values" in capsys.readouterr().out


def test_info_on_missing_store(tmp_path, capsys):
    assert main(["info", str(tmp_path / "none.h5")]) == 1
    assert "error: No feature store" in capsys.readouterr().err


def test_build_synthetic_end_to_end(tmp_path, capsys):
    out = tmp_path / "synthetic.h5"
    assert main(["build", "synthetic:40", "--out", str(out), "--jobs", "2", "--quiet"]) == 0
    assert "40 of 40 clips stored" in capsys.readouterr().out
    store = FeatureStore(out)
    assert len(store) == 40 and store.source.startswith("synthetic")
    assert store.verify() == []


def test_synth_then_build(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", str(data), "--n-clips", "30", "--quiet"]) == 0
    assert (data / "metadata" / "UrbanSound8K.csv").is_file()
    assert main(["synth", str(data), "--n-clips", "30", "--quiet"]) == 1
    assert "overwrite" in capsys.readouterr().err
    assert main(["build", str(data), "--out", str(tmp_path / "s.h5"), "--quiet"]) == 0
    assert "30 of 30 clips stored" in capsys.readouterr().out
