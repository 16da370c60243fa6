"""Store build throughput and peak memory versus a per-clip librosa loop over the same files.

    python benchmarks/bench_build.py --source synthetic:full    # the full-size synthetic set
    python benchmarks/bench_build.py --source PATH              # any UrbanSound8K-layout folder
    python benchmarks/bench_build.py --quick                    # 300 synthetic clips

Three ways of turning the same WAV files into 16 kHz 4 s log-mels and MFCC statistics
are timed in one run, each in its own process (so its memory is its own):

* ``featstore build`` (parallel decoding over all cores, batched features, HDF5 write);
* the loop a user would otherwise write: ``librosa.load(sr=16000)`` +
  ``librosa.feature.melspectrogram`` + ``librosa.feature.mfcc`` clip by clip;
* the same librosa loop spread over all cores with joblib, for a like-for-like count
  of cores.

The files are read once beforehand, so every contender starts with a warm page cache.
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


def _files(root: Path, limit: int | None):
    meta = pd.read_csv(root / "metadata" / "UrbanSound8K.csv")
    paths = [root / "audio" / f"fold{r.fold}" / r.slice_file_name for r in meta.itertuples()]
    return paths[:limit] if limit else paths


def _librosa_features(path):
    import librosa

    y, _ = librosa.load(path, sr=16000, mono=True)
    y = librosa.util.fix_length(y, size=64000)
    mel = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=400, hop_length=200, n_mels=64)
    logmel = librosa.power_to_db(mel)
    mfcc = librosa.feature.mfcc(S=logmel, n_mfcc=20)
    return logmel.astype(np.float32), np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)]).astype(np.float32)


def librosa_loop(root: Path, limit: int | None, n_jobs: int) -> int:
    """The per-clip loop (run in its own process by the benchmark)."""
    paths = _files(root, limit)
    if n_jobs == 1:
        results = [_librosa_features(p) for p in paths]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs)(delayed(_librosa_features)(p) for p in paths)
    logmels = np.stack([r[0] for r in results])
    assert logmels.shape[1:] == (64, 321)  # a sanity check of the benchmark itself
    return len(results)


def warm_cache(paths):
    for p in paths:
        Path(p).read_bytes()


def run(root: Path, label: str, *, jobs: int, librosa_limit: int | None, results_dir=None):
    from featstore import FeatureStore

    paths = _files(root, None)
    n_clips = len(paths)
    warm_cache(paths)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        out = Path(tmp) / "store.h5"
        ours = _common.run_measured(
            [_common.python(), "-m", "featstore", "build", str(root), "--out", str(out), "--jobs", str(jobs), "--quiet"]
        )
        store = FeatureStore(out)
        n_stored = len(store)
        store_gb = out.stat().st_size / 1e9
        problems = store.verify()
    match = re.search(r"\(([\d.]+) clips/s\)", ours["output"])
    if match is None:
        raise RuntimeError(f"no throughput in the build's output:\n{ours['output']}")
    inner = float(match.group(1))
    rows.append({
        "method": f"featstore build ({jobs if jobs > 0 else os.cpu_count()} threads)",
        "clips": n_clips,
        "seconds": ours["seconds"],
        "clips_per_s": n_clips / ours["seconds"],
        "peak_rss_mb": ours["peak_rss_largest_process_mb"],
    })

    n_librosa = min(librosa_limit or n_clips, n_clips)
    for n_jobs in (1, os.cpu_count()):
        measured = _common.run_measured(
            [_common.python(), __file__, "--librosa-loop", str(root), "--limit", str(n_librosa), "--jobs", str(n_jobs)]
        )
        rows.append({
            "method": f"librosa per-clip loop ({n_jobs} process{'es' if n_jobs > 1 else ''})",
            "clips": n_librosa,
            "seconds": measured["seconds"],
            "clips_per_s": n_librosa / measured["seconds"],
            "peak_rss_mb": measured["peak_rss_largest_process_mb"],
        })

    ours_rate = rows[0]["clips_per_s"]
    for row in rows:
        row["featstore_speedup"] = ours_rate / row["clips_per_s"]
    payload = {
        "n_clips": n_clips,
        "n_stored": n_stored,
        "store_size_gb": store_gb,
        "verify_problems": problems,
        "featstore_summary": ours["output"].strip().replace(str(out), out.name),
        "featstore_clips_per_s_excluding_startup": inner,
        "speedup_vs_librosa_loop": ours_rate / rows[1]["clips_per_s"],
        "speedup_vs_parallel_librosa_loop": ours_rate / rows[2]["clips_per_s"],
        "librosa_clips_timed": n_librosa,
        "rows": rows,
    }
    table = _common.markdown_table(rows, ["method", "clips", "seconds", "clips_per_s", "peak_rss_mb", "featstore_speedup"])
    note = (
        f"Dataset: **{label}**, {n_clips} clips ({n_stored} stored, store {store_gb:.2f} GB). "
        f"Wall-clock times include process start-up; `featstore_speedup` is featstore's clips/s "
        f"over the row's, measured in the same run. featstore's own summary: {inner:.0f} clips/s "
        f"excluding start-up. Peak RSS is that of the largest single process."
    )
    folder = Path(results_dir or _common.RESULTS_DIR) / _common.dataset_slug(label)
    folder.mkdir(parents=True, exist_ok=True)
    _plot(rows, label, folder / "bench_build.png")
    _common.write_results("bench_build", label, payload, note + "\n\n" + table, results_dir=results_dir)
    print(note)
    print(table)
    return payload


def _plot(rows, label, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    names = [r["method"] for r in rows]
    axes[0].barh(names, [r["clips_per_s"] for r in rows], color=["tab:green", "tab:gray", "tab:gray"])
    axes[0].set_xlabel("clips per second (higher is better)")
    axes[1].barh(names, [r["peak_rss_mb"] for r in rows], color=["tab:green", "tab:gray", "tab:gray"])
    axes[1].set_xlabel("peak RSS of the largest process, MB")
    axes[1].set_yticklabels([])
    for ax in axes:
        ax.invert_yaxis()
    fig.suptitle(f"Building features: {label}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default="synthetic:full", help="synthetic[:N|:full] or an UrbanSound8K-layout folder")
    parser.add_argument("--quick", action="store_true", help="300 synthetic clips (unless --source is given)")
    parser.add_argument("--jobs", type=int, default=-1)
    parser.add_argument("--librosa-limit", type=int, default=None, help="time the librosa loops on the first N clips only")
    parser.add_argument("--label", help="dataset name for the tables (default: from the source)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results-dir", help="write results here instead of benchmarks/results")
    parser.add_argument("--librosa-loop", metavar="ROOT", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.librosa_loop:
        librosa_loop(Path(args.librosa_loop), args.limit, args.jobs)
        return 0
    source = args.source
    if args.quick and source == parser.get_default("source"):
        source = "synthetic:300"
    if source.startswith("synthetic"):
        label = args.label or "synthetic"
        started = time.perf_counter()
        with _common.synthetic_dataset(source, seed=args.seed) as root:
            print(f"generated {source} in {time.perf_counter() - started:.0f} s")
            run(root, label, jobs=args.jobs, librosa_limit=args.librosa_limit, results_dir=args.results_dir)
    else:
        root = Path(source)
        label = args.label or (_common.REAL_DEV_LABEL if root.resolve() == _common.REAL_DEV_DATA.resolve() else root.name)
        run(root, label, jobs=args.jobs, librosa_limit=args.librosa_limit, results_dir=args.results_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
