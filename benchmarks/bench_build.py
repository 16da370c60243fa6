"""Store build throughput and peak memory versus a per-clip librosa loop over the same files.

    python benchmarks/bench_build.py --source synthetic:full    # the full-size synthetic set
    python benchmarks/bench_build.py --source PATH              # any UrbanSound8K-layout folder
    python benchmarks/bench_build.py --quick                    # 300 synthetic clips
    python benchmarks/bench_build.py --source synthetic:2000 --augment mild --augment salamon2017

Three ways of turning the same WAV files into 16 kHz 4 s log-mels and MFCC statistics
are timed in one run, each in its own process (so its memory is its own), each
several times, taking turns (the tables give the median):

* ``featstore build`` (parallel decoding over all cores, batched features, HDF5 write);
* the loop a user would otherwise write: ``librosa.load(sr=16000)`` +
  ``librosa.feature.melspectrogram`` + ``librosa.feature.mfcc`` clip by clip;
* the same librosa loop spread over all cores with joblib, for a like-for-like count
  of cores.

The files are read once beforehand, so every contender starts with a warm page cache.

With ``--augment SPEC`` (repeatable) it instead times ``featstore build`` without
views and with each spec's views (``bench_build_augment``): throughput, peak memory,
store size, the cost of one view of one clip, and the memory ``load("logmel",
views=True)`` takes for the whole set.
"""

import argparse
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


def run(root: Path, label: str, *, jobs: int, librosa_limit: int | None, repeats: int = 3, results_dir=None):
    from featstore import FeatureStore

    paths = _files(root, None)
    n_clips = len(paths)
    n_librosa = min(librosa_limit or n_clips, n_clips)
    warm_cache(paths)
    n_cores = os.cpu_count()
    methods = {
        f"featstore build ({jobs if jobs > 0 else n_cores} threads)": n_clips,
        "librosa per-clip loop (1 process)": n_librosa,
        f"librosa per-clip loop ({n_cores} processes)": n_librosa,
    }
    runs = {method: [] for method in methods}
    ours, serial, parallel = methods
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        # The contenders take turns, so that a slow spell of the machine
        # hits all of them rather than one.
        for repeat in range(repeats):
            out = Path(tmp) / f"store-{repeat}.h5"
            runs[ours].append(_common.run_measured(
                [_common.python(), "-m", "featstore", "build", str(root), "--out", str(out), "--jobs", str(jobs), "--quiet"]
            ))
            if repeat == 0:
                store = FeatureStore(out)
                n_stored = len(store)
                store_gb = out.stat().st_size / 1e9
                problems = store.verify()
            out.unlink()
            for method, n_jobs in ((serial, 1), (parallel, n_cores)):
                runs[method].append(_common.run_measured(
                    [_common.python(), __file__, "--librosa-loop", str(root), "--limit", str(n_librosa), "--jobs", str(n_jobs)]
                ))
    summary = runs[ours][0]["output"].strip().replace(str(Path(tmp) / "store-0.h5"), "store.h5")
    inner = [_featstore_rate(measured["output"]) for measured in runs[ours]]

    rows = []
    for method, n in methods.items():
        seconds = [m["seconds"] for m in runs[method]]
        median = float(np.median(seconds))
        rows.append({
            "method": method,
            "clips": n,
            "seconds": median,
            "seconds_min_max": f"{min(seconds):.1f}-{max(seconds):.1f}",
            "clips_per_s": n / median,
            "peak_rss_mb": max(m["peak_rss_largest_process_mb"] for m in runs[method]),
            "runs_seconds": seconds,
        })
    ours_rate = rows[0]["clips_per_s"]
    for row in rows:
        row["featstore_speedup"] = ours_rate / row["clips_per_s"]
    payload = {
        "n_clips": n_clips,
        "n_stored": n_stored,
        "store_size_gb": store_gb,
        "verify_problems": problems,
        "repeats": repeats,
        "featstore_summary": summary,
        "featstore_clips_per_s_excluding_startup": float(np.median(inner)),
        "speedup_vs_librosa_loop": ours_rate / rows[1]["clips_per_s"],
        "speedup_vs_parallel_librosa_loop": ours_rate / rows[2]["clips_per_s"],
        "librosa_clips_timed": n_librosa,
        "rows": rows,
    }
    table = _common.markdown_table(
        rows, ["method", "clips", "seconds", "seconds_min_max", "clips_per_s", "peak_rss_mb", "featstore_speedup"]
    )
    note = (
        f"Dataset: **{label}**, {n_clips} clips ({n_stored} stored, store {store_gb:.2f} GB). "
        f"Each method ran {repeats} time{'s' if repeats > 1 else ''}, taking turns; `seconds` is the median "
        f"wall-clock time, process start-up included, and `featstore_speedup` is featstore's clips/s over "
        f"the row's, from the medians. featstore's own summary: {payload['featstore_clips_per_s_excluding_startup']:.0f} "
        f"clips/s excluding start-up (median). Peak RSS is that of the largest single process, highest of the runs."
    )
    folder = _common.results_folder(label, results_dir)
    _plot(rows, label, folder / "bench_build.png")
    _common.write_results("bench_build", label, payload, note + "\n\n" + table, results_dir=results_dir)
    print(note)
    print(table)
    return payload


def _featstore_rate(output: str) -> float:
    match = re.search(r"\(([\d.]+) clips/s\)", output)
    if match is None:
        raise RuntimeError(f"no throughput in the build's output:\n{output}")
    return float(match.group(1))


def run_augment(root: Path, label: str, specs: list, *, jobs: int, repeats: int = 1, results_dir=None):
    """``featstore build`` without views and with each spec's, in turns: speed, memory, size."""
    from featstore import FeatureConfig, FeatureStore

    n_clips = len(_files(root, None))
    warm_cache(_files(root, None))
    n_cores = jobs if jobs > 0 else os.cpu_count()
    contenders = {"": [], **{spec: [] for spec in specs}}
    stores = {}
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        for repeat in range(repeats):
            for spec, runs in contenders.items():
                out = Path(tmp) / f"store-{len(stores)}.h5"
                flags = ["--augment", spec] if spec else []
                runs.append(_common.run_measured(
                    [_common.python(), "-m", "featstore", "build", str(root), "--out", str(out), "--jobs", str(jobs),
                     "--quiet", *flags]
                ))
                if repeat == 0:
                    store = FeatureStore(out)
                    clip_values = store.config.n_mels * store.config.n_frames
                    stores[spec] = (len(store), out.stat().st_size / 1e9, store.verify(), clip_values)
                out.unlink()
    rows = []
    for spec, runs in contenders.items():
        n_stored, size_gb, problems, clip_values = stores[spec]
        n_views = len(FeatureConfig(augment=spec).view_names)
        seconds = [m["seconds"] for m in runs]
        rows.append({
            "augment": spec or "(none)",
            "views": max(n_views - 1, 0),
            "clips": n_clips,
            "seconds": float(np.median(seconds)),
            "clips_per_s": float(np.median([_featstore_rate(m["output"]) for m in runs])),
            "peak_rss_mb": max(m["peak_rss_largest_process_mb"] for m in runs),
            "store_gb": size_gb,
            "views_in_memory_gb": n_stored * max(n_views, 1) * clip_values * (2 if n_views else 4) / 1e9,
            "verify_problems": problems,
            "runs_seconds": seconds,
        })
    base = rows[0]
    for row in rows[1:]:
        # core-seconds of the views alone, per clip and view
        extra = (1 / row["clips_per_s"] - 1 / base["clips_per_s"]) * n_cores
        row["ms_per_view_per_clip"] = 1000 * extra / row["views"]
    payload = {"n_clips": n_clips, "jobs": n_cores, "repeats": repeats, "rows": rows}
    table = _common.markdown_table(
        rows, ["augment", "views", "clips", "seconds", "clips_per_s", "peak_rss_mb", "store_gb", "views_in_memory_gb",
               "ms_per_view_per_clip"]
    )
    note = (
        f"Dataset: **{label}**, {n_clips} clips, `featstore build --jobs {jobs}` ({n_cores} worker threads) without "
        f"and with augmented views, {repeats} run{'s' if repeats > 1 else ''} each, taking turns. `seconds` is the "
        f"median wall-clock time including start-up; `clips_per_s` is the build's own figure (excluding start-up). "
        f"Peak RSS is that of the build process, highest of the runs. `views_in_memory_gb` is the size of "
        f"`load('logmel', views=True)` for all clips (float16, the original included; the first row: `load('logmel')`, "
        f"float32). `ms_per_view_per_clip` is the extra core time per clip and view over the build without views."
    )
    _common.write_results("bench_build_augment", label, payload, note + "\n\n" + table, results_dir=results_dir)
    print(note)
    print(table)
    return payload


def _plot(rows, label, path):
    plt = _common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    names = [r["method"] for r in rows]
    colours = ["tab:green"] + ["tab:gray"] * (len(rows) - 1)
    axes[0].barh(names, [r["clips_per_s"] for r in rows], color=colours)
    axes[0].set_xlabel("clips per second (higher is better)")
    axes[1].barh(names, [r["peak_rss_mb"] for r in rows], color=colours)
    axes[1].set_xlabel("peak RSS of the largest process, MB")
    axes[1].set_yticklabels([])
    for ax in axes:
        ax.invert_yaxis()
    fig.suptitle(f"Building features: {label}")
    _common.save_figure(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default="synthetic:full", help="synthetic[:N|:full] or an UrbanSound8K-layout folder")
    parser.add_argument("--quick", action="store_true", help="300 synthetic clips (unless --source is given)")
    parser.add_argument("--jobs", type=int, default=-1)
    parser.add_argument("--librosa-limit", type=int, default=None, help="time the librosa loops on the first N clips only")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each method, taking turns (default: 3; 1 with --quick)")
    parser.add_argument("--label", help="dataset name for the tables (default: from the source)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results-dir", help="write results here instead of benchmarks/results")
    parser.add_argument("--augment", action="append", metavar="SPEC",
                        help="time builds without views and with this spec's views instead (repeatable)")
    parser.add_argument("--librosa-loop", metavar="ROOT", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.librosa_loop:
        librosa_loop(Path(args.librosa_loop), args.limit, args.jobs)
        return 0
    source = args.source
    repeats = args.repeats or (1 if args.quick or args.augment else 3)
    if args.quick and source == parser.get_default("source"):
        source = "synthetic:300"
    from featstore import FolderSource, SyntheticSource

    with _common.open_data(source, seed=args.seed) as data:
        if isinstance(data, SyntheticSource):
            label = args.label or "synthetic"
            started = time.perf_counter()
            root = data.root
            print(f"generated {data.label} in {time.perf_counter() - started:.0f} s")
        elif isinstance(data, FolderSource):
            root = data.root
            label = args.label or (_common.REAL_DEV_LABEL if root.resolve() == _common.REAL_DEV_DATA.resolve() else root.name)
        else:
            parser.error(f"--source {source!r}: bench_build times folders in the UrbanSound8K layout, or synthetic data")
        if args.augment:
            run_augment(root, label, args.augment, jobs=args.jobs, repeats=repeats, results_dir=args.results_dir)
        else:
            run(root, label, jobs=args.jobs, librosa_limit=args.librosa_limit, repeats=repeats,
                results_dir=args.results_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
