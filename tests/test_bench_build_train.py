"""Smoke tests of bench_build and bench_train on tiny data, writing into a temporary folder."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_build  # noqa: E402
import bench_train  # noqa: E402

pytestmark = pytest.mark.slow


def test_bench_build_on_a_small_synthetic_set(tmp_path):
    argv = ["--source", "synthetic:30", "--repeats", "1", "--results-dir", str(tmp_path)]
    assert bench_build.main(argv) == 0
    payload = json.loads((tmp_path / "synthetic" / "bench_build.json").read_text())
    assert payload["dataset"] == "synthetic" and payload["n_stored"] == payload["n_clips"] == 30
    assert payload["repeats"] == 1
    assert payload["verify_problems"] == []
    assert [r["method"].split(" (")[0] for r in payload["rows"]] == [
        "featstore build", "librosa per-clip loop", "librosa per-clip loop"
    ]
    assert [r["clips"] for r in payload["rows"]] == [30, payload["librosa_clips_timed"], payload["librosa_clips_timed"]]
    assert all(r["clips_per_s"] > 0 and r["peak_rss_mb"] > 0 for r in payload["rows"])
    assert (tmp_path / "synthetic" / "bench_build.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<!-- results bench_build:synthetic -->" in (tmp_path / "README.md").read_text()
    md = (tmp_path / "synthetic" / "bench_build.md").read_text()
    assert "Dataset: **synthetic**, 30 clips (30 stored" in md
    assert "| method | clips | seconds | seconds_min_max | clips_per_s | peak_rss_mb | featstore_speedup |" in md


def test_bench_train_quick(tmp_path):
    assert bench_train.main(["--quick", "--results-dir", str(tmp_path)]) == 0
    payload = json.loads((tmp_path / "synthetic" / "bench_train.json").read_text())
    methods = {r["method"] for r in payload["rows"]}
    assert methods == {"MelCNNClassifier.fit", "MelCNNClassifier.fit, module__channels_last", "plain PyTorch loop",
                       "plain loop, channels_last"}
    assert {(r["batch_size"], r["clips"]) for r in payload["rows"]} == {(64, 128)}
    assert all(r["clips_per_s"] > 0 for r in payload["rows"])


def test_bench_build_with_views(tmp_path):
    argv = ["--source", "synthetic:20", "--augment", "gain:-6,6", "--results-dir", str(tmp_path)]
    assert bench_build.main(argv) == 0
    payload = json.loads((tmp_path / "synthetic" / "bench_build_augment.json").read_text())
    rows = payload["rows"]
    assert [(r["augment"], r["views"]) for r in rows] == [("(none)", 0), ("gain:-6,6", 2)]
    assert all(r["clips"] == 20 and r["clips_per_s"] > 0 and r["peak_rss_mb"] > 0 and r["verify_problems"] == []
               for r in rows)
    assert rows[1]["views_in_memory_gb"] == pytest.approx(20 * 3 * 64 * 321 * 2 / 1e9)
    assert "ms_per_view_per_clip" in rows[1] and "<!-- results bench_build_augment:synthetic -->" in (
        tmp_path / "README.md").read_text()
