import re
import shutil

import h5py
import numpy as np
import pytest

from featstore import FeatureConfig, FeatureStore
from featstore.__main__ import main, main_parser

from conftest import good_clips, write_tree


@pytest.mark.parametrize(
    "argv, expected",
    [
        # no source: open_source reads the default hub dataset; no --jobs: one worker per core
        (["build", "--out", "s.h5"], {"source": None, "jobs": None, "overwrite": False, "strict": False}),
        (["build", "data/UrbanSound8K", "--out", "s.h5", "--jobs", "2", "--overwrite", "--strict"],
         {"source": "data/UrbanSound8K", "jobs": 2, "overwrite": True, "strict": True}),
        (["build", "synthetic:50", "--out", "s.h5", "--seed", "3"], {"source": "synthetic:50", "seed": 3}),
        (["build", "synthetic", "--out", "s.h5"], {"source": "synthetic", "seed": None}),
        (["synth", "out", "--full"], {"out": "out", "full": True, "n_clips": None}),
        (["synth", "out", "--n-clips", "20", "--seed", "1"], {"n_clips": 20, "full": False, "seed": 1}),
        (["synth", "out", "--jobs", "-1"], {"jobs": -1}),
        (["synth", "out", "--jobs", "3"], {"jobs": 3}),
        (["info", "s.h5"], {"path": "s.h5"}),
        (["verify", "s.h5"], {"path": "s.h5"}),
        (["build", "d", "--out", "s.h5"], {"n_mels": None, "augment": None, "f_max": None, "augment_seed": None}),
        (["build", "d", "--out", "s.h5", "--n-mels", "128", "--n-fft", "1024", "--hop-length", "160", "--f-min", "20",
          "--f-max", "7600", "--sample-rate", "22050", "--clip-seconds", "3.5", "--n-mfcc", "13", "--delta-n-mfcc", "30"],
         {"n_mels": 128, "n_fft": 1024, "hop_length": 160, "f_min": 20.0, "f_max": 7600.0, "sample_rate": 22050,
          "clip_seconds": 3.5, "n_mfcc": 13, "delta_n_mfcc": 30}),
        (["build", "d", "--out", "s.h5", "--augment", "salamon2017", "--augment-seed", "3"],
         {"augment": "salamon2017", "augment_seed": 3}),
        (["build", "ESC-50-master", "--dataset", "esc10", "--out", "s.h5"], {"dataset": "esc10", "metadata": None}),
        (["build", "--metadata", "clips.tsv", "--audio-dir", "wav", "--path-column", "path", "--label-column", "label",
          "--class-id-column", "id", "--fold-column", "split", "--group-column", "rec", "--out", "s.h5"],
         {"source": None, "metadata": "clips.tsv", "audio_dir": "wav", "path_column": "path", "label_column": "label",
          "class_id_column": "id", "fold_column": "split", "group_column": "rec"}),
        (["build", "speech", "--assign-folds", "5", "--group-pattern", "^(.+)_nohash_", "--classes", "yes, no",
          "--out", "s.h5"], {"assign_folds": 5, "group_pattern": "^(.+)_nohash_", "classes": ["yes", "no"]}),
    ],
    ids=["build-default-source", "build-all-flags", "build-synthetic", "build-synthetic-default-seed", "synth-full", "synth-n", "synth-all-cores",
         "synth-three-jobs", "info", "verify", "build-feature-defaults", "build-feature-flags", "build-augment",
         "build-esc10", "build-table", "build-folders"],
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


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--n-mels", "0"], r"error: Invalid FeatureConfig: n_mels must be a positive int, got 0"),
        (["--f-max", "9000"], r"error: Invalid FeatureConfig: need 0 <= f_min < f_max <= sample_rate / 2"),
        (["--n-mels", "32"], r"error: Invalid FeatureConfig: delta_n_mfcc \(40\) cannot exceed n_mels \(32\)"),
        (["--augment", "pich:1"], r"error: Invalid FeatureConfig: augment: Bad augment spec 'pich:1': unknown view kind"),
        (["--augment-seed", "-1"], r"error: Invalid FeatureConfig: augment_seed must be a non-negative int"),
    ],
    ids=["zero-mels", "f-max-above-nyquist", "mels-below-delta-mfccs", "bad-augment", "negative-augment-seed"],
)
def test_bad_feature_values_are_errors(flags, message, tiny_dataset, tmp_path, capsys):
    assert main(["build", str(tiny_dataset), "--out", str(tmp_path / "s.h5"), "--quiet", *flags]) == 1
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flags", [["--n-mels", "many"], ["--clip-seconds", "long"]], ids=["mels", "seconds"])
def test_feature_flags_of_the_wrong_type_are_usage_errors(flags, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "d", "--out", "s.h5", *flags])
    assert exit_info.value.code == 2 and "invalid" in capsys.readouterr().err


def test_build_with_feature_flags_and_views(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "store.h5"
    argv = ["build", str(tiny_dataset), "--out", str(out), "--jobs", "2", "--quiet", "--n-mels", "32",
            "--delta-n-mfcc", "16", "--hop-length", "400", "--clip-seconds", "1", "--f-max", "7000",
            "--augment", "stretch:1.1;pitch:1", "--augment-seed", "2"]
    assert main(argv) == 0
    capsys.readouterr()
    store = FeatureStore(out)
    assert store.config == FeatureConfig(n_mels=32, delta_n_mfcc=16, hop_length=400, clip_seconds=1.0, f_max=7000.0,
                                         augment="pitch:1;stretch:1.1", augment_seed=2)
    assert store.config.feature_shapes == {"waveform": (16000,), "logmel": (32, 41), "mfcc_stats": (40,),
                                           "mfcc_delta_stats": (64,), "logmel_views": (2, 32, 41)}
    assert store.load("logmel", views=True)[0].shape == (12, 3, 32, 41)
    assert main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert '"augment": "pitch:1;stretch:1.1"' in info
    assert "augmented views (pitch:1;stretch:1.1): original, pitch+1, stretch1.1" in info
    assert main(["verify", str(out)]) == 0


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
    out = capsys.readouterr().out
    assert "problem: fold 1: mfcc_stats of clip 0 disagrees with its digest" in out
    assert "problem: fold 1: mfcc_stats of clip 0 has NaN or infinite values" in out


def test_info_and_verify_on_an_empty_store(tmp_path, capsys):
    from featstore import CLASS_NAMES, FeatureConfig
    from featstore.sources.urbansound8k import COLUMNS, SCHEMA
    from featstore.writer import StoreWriter

    path = tmp_path / "empty.h5"
    attributes = {"class_names": CLASS_NAMES, "source": "nothing", "versions": {}, "created": "now",
                  "layout": "urbansound8k", "columns": COLUMNS.as_dict(), "metadata_columns": SCHEMA}
    StoreWriter(path, FeatureConfig(), {}, attributes).finish({}, [], 0)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "0 clips in folds []" in out and "no clips stored" in out and "rejected at build: 0" in out
    assert main(["verify", str(path)]) == 1
    assert "problem: the store holds no clips" in capsys.readouterr().out


def test_info_on_missing_store(tmp_path, capsys):
    assert main(["info", str(tmp_path / "none.h5")]) == 1
    assert "error: No feature store" in capsys.readouterr().err


def test_build_synthetic_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # where the generated audio goes
    out = tmp_path / "synthetic.h5"
    assert main(["build", "synthetic:40", "--out", str(out), "--jobs", "2", "--quiet", "--seed", "4"]) == 0
    assert "40 of 40 clips stored" in capsys.readouterr().out
    store = FeatureStore(out)
    assert len(store) == 40 and store.source == "synthetic (40 clips, seed 4)"
    assert store.source_info == {"name": "synthetic", "size": 40, "seed": 4}
    assert store.verify() == []
    assert [p.name for p in tmp_path.iterdir()] == ["synthetic.h5"]  # the generated audio is gone


def test_a_seed_for_a_folder_is_an_error(tiny_dataset, tmp_path, capsys):
    assert main(["build", str(tiny_dataset), "--out", str(tmp_path / "s.h5"), "--seed", "3", "--quiet"]) == 1
    assert "error: seed=3 was given for" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_synth_then_build(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", str(data), "--n-clips", "30", "--quiet"]) == 0
    assert (data / "metadata" / "UrbanSound8K.csv").is_file()
    assert main(["synth", str(data), "--n-clips", "30", "--quiet"]) == 1
    assert "overwrite" in capsys.readouterr().err
    assert main(["build", str(data), "--out", str(tmp_path / "s.h5"), "--quiet"]) == 0
    assert "30 of 30 clips stored" in capsys.readouterr().out


def _small_tree(tmp_path):
    return write_tree(tmp_path / "UrbanSound8K", good_clips(n_per_fold=1, folds=(1,)))


def _with_csv(content: bytes):
    def make(tmp_path, request):
        root = _small_tree(tmp_path)
        (root / "metadata" / "UrbanSound8K.csv").write_bytes(content)
        return ["build", str(root), "--out", str(tmp_path / "s.h5")]
    return make


def _build_into_read_only(tmp_path, request):
    folder = request.getfixturevalue("read_only_folder")
    return ["build", str(_small_tree(tmp_path)), "--out", str(folder / "s.h5")]


def _build_under_a_file(tmp_path, request):
    (tmp_path / "notes").write_text("a file")
    return ["build", str(_small_tree(tmp_path)), "--out", str(tmp_path / "notes" / "s.h5")]


def _synth_into_read_only(tmp_path, request):
    return ["synth", str(request.getfixturevalue("read_only_folder") / "data"), "--n-clips", "10"]


def _synth_under_a_file(tmp_path, request):
    (tmp_path / "notes").write_text("a file")
    return ["synth", str(tmp_path / "notes" / "data"), "--n-clips", "10"]


def _corrupt_parquet(tmp_path, request):
    (tmp_path / "urbansound8k.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1")
    return ["build", str(tmp_path / "urbansound8k.parquet"), "--out", str(tmp_path / "s.h5")]


def _no_audio(tmp_path, request):
    root = _small_tree(tmp_path)
    for wav in (root / "audio").rglob("*.wav"):
        wav.unlink()
    return ["build", str(root), "--out", str(tmp_path / "s.h5")]


def _strict_with_a_bad_row(tmp_path, request):
    root = _small_tree(tmp_path)
    csv = root / "metadata" / "UrbanSound8K.csv"
    csv.write_text(csv.read_text().replace(",1,0,air_conditioner", ",,0,air_conditioner"))
    return ["build", str(root), "--out", str(tmp_path / "s.h5"), "--strict"]


@pytest.mark.parametrize(
    "make_argv, message",
    [
        (_build_into_read_only, r"Cannot write .*s\.h5: Permission denied"),
        (_build_under_a_file, r"Cannot write .*s\.h5: .*notes is a file, not a folder"),
        (_synth_into_read_only, r"Cannot write the synthetic data set into .*: Permission denied"),
        (_synth_under_a_file, r"Cannot write the synthetic data set into .*notes/data"),
        (_with_csv("slice_file_name,fsID,start,end,salience,fold,classID,class\n"
                   "caf\xe9.wav,1,0,1,1,1,0,air_conditioner\n".encode("latin-1")), r"is not UTF-8 text"),
        (_with_csv(b""), r"UrbanSound8K\.csv is empty"),
        (_with_csv(b"slice_file_name,fsID,start,end,salience,fold,classID,class\n"), r"The source has no clips"),
        (_corrupt_parquet, r"Cannot read the parquet files .*: .*Parquet"),
        (_no_audio, r"No clip could be stored: 1 of 1 clips were rejected \(1 x file not found\)"),
        (_strict_with_a_bad_row, r"strict build: .* was rejected: invalid metadata: fold is blank"),
    ],
    ids=["build-read-only-folder", "build-parent-is-a-file", "synth-read-only-folder", "synth-parent-is-a-file",
         "latin-1-csv", "empty-csv", "header-only-csv", "corrupt-parquet", "nothing-stored", "strict-bad-row"],
)
def test_user_mistakes_end_in_an_error_not_a_traceback(make_argv, message, tmp_path, request, capsys):
    argv = make_argv(tmp_path, request)
    assert main([*argv, "--quiet"]) == 1
    err = capsys.readouterr().err
    # The last line is ours (a library may have logged its own view of the problem before).
    assert err.splitlines()[-1].startswith("error: ") and re.search(message, err), err
    assert "Traceback" not in err
    assert not (tmp_path / "s.h5").exists()


@pytest.mark.parametrize(
    "argv, line",
    [
        (["build", "data", "--out", "s.h5"], "interrupted: nothing was written to s.h5"),
        (["build", "data", "--out=s.h5", "--overwrite"], "interrupted: nothing was written to s.h5"),
        (["info", "s.h5"], "interrupted: nothing was done"),
    ],
    ids=["build", "build-out-equals", "info"],
)
def test_an_interruption_while_the_command_line_is_read(argv, line, monkeypatch, capsys):
    """The parser imports most of the package: a signal may come while it does."""
    import signal

    import featstore.__main__
    from featstore import Interrupted

    def interrupted():
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr(featstore.__main__, "main_parser", interrupted)
    assert main(argv) == 143
    assert capsys.readouterr().err.splitlines() == [line]



def test_jobs_with_a_running_cluster_is_refused(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["build", "d", "--out", "s.h5", "--scheduler", "tcp://10.0.0.5:8786", "--jobs", "2"])
    assert caught.value.code == 2
    assert "a running cluster (tcp://10.0.0.5:8786) has its own workers: leave out --jobs" in capsys.readouterr().err
