"""Build throughput on local threads against a Dask cluster on this machine, and the cost per clip of Dask.

    python benchmarks/bench_scale.py --source PATH/TO/UrbanSound8K      # any UrbanSound8K-layout folder
    python benchmarks/bench_scale.py --source synthetic:2000 --augment mild
    python benchmarks/bench_scale.py --quick                            # 60 synthetic clips, one turn

The same ``python -m featstore build`` of the same files, each run in its own
process, taking turns (the table gives the median of ``--repeats``):

* local threads: ``--jobs 1`` and ``--jobs 2``;
* a Dask ``LocalCluster`` of 1 and of 2 worker processes of one thread
  (``--scheduler local --jobs N``): the decoding in the workers, the features
  shipped back to the writer in the build's process.

"build s" is the build's own time (what its summary reports: from the first
decoded batch to the published store); "wall s" adds the process's start, the
imports and, with Dask, starting the cluster. The Dask overhead per clip is the
difference of build times with the same number of workers, over the clips. The
bytes shipped per clip are those of the features a worker sends back (the
paths sent to it are a few hundred bytes). Peak memory is the resident size of
the build's process (the writer; with Dask also the scheduler) and of the largest
Dask worker process, polled every 50 ms.
"""

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

NAME = "bench_scale"
CONTENDERS = {
    "local threads, --jobs 1": ["--jobs", "1"],
    "local threads, --jobs 2": ["--jobs", "2"],
    "Dask LocalCluster, 1 worker": ["--scheduler", "local", "--jobs", "1"],
    "Dask LocalCluster, 2 workers": ["--scheduler", "local", "--jobs", "2"],
}
# Each Dask contender against the local one with as many workers.
PAIRS = {"Dask LocalCluster, 1 worker": "local threads, --jobs 1",
         "Dask LocalCluster, 2 workers": "local threads, --jobs 2"}


def build_seconds(output: str) -> float:
    match = re.search(r"stored in ([\d.]+) s", output)
    if match is None:
        raise RuntimeError(f"no build summary in the output:\n{output}")
    return float(match.group(1))


def shipped_bytes_per_clip(store_path) -> int:
    """Bytes of the features one clip sends from a worker to the writer."""
    import numpy as np

    from featstore import FeatureStore

    features = FeatureStore(store_path).config.stored_features
    return int(sum(np.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in features.values()))


def run(source: str, label: str, *, augment, repeats: int, results_dir=None):
    extra = ["--augment", augment] if augment else []
    times = {name: [] for name in CONTENDERS}
    walls = {name: [] for name in CONTENDERS}
    peaks = {name: [] for name in CONTENDERS}
    worker_peaks = {name: [] for name in CONTENDERS}
    n_clips = bytes_per_clip = None
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(source)
        if source.startswith("synthetic"):
            root = Path(tmp) / "data"
            n = source.partition(":")[2] or "300"
            _common.log(f"writing {n} synthetic clips")
            _common.run_measured([_common.python(), "-m", "featstore", "synth", root, "--n-clips", n, "--quiet"])
        for turn in range(repeats):
            for name, options in CONTENDERS.items():
                out = Path(tmp) / "store.h5"
                measured = _common.run_measured([_common.python(), "-m", "featstore", "build", root, "--out", out,
                                                 "--overwrite", "--quiet", *options, *extra])
                times[name].append(build_seconds(measured["output"]))
                walls[name].append(measured["seconds"])
                peaks[name].append(measured["peak_rss_command_mb"])
                worker_peaks[name].append(measured["peak_rss_largest_child_mb"])
                if n_clips is None:
                    from featstore import FeatureStore

                    n_clips = len(FeatureStore(out))
                    bytes_per_clip = shipped_bytes_per_clip(out)
                _common.log(f"turn {turn + 1}/{repeats} {name}: {times[name][-1]:.1f} s "
                            f"({n_clips / times[name][-1]:.1f} clips/s)")
    rows = []
    for name in CONTENDERS:
        seconds = statistics.median(times[name])
        row = {"build": name, "build s": seconds, "wall s": statistics.median(walls[name]),
               "clips/s": n_clips / seconds, "peak MB, build process": max(peaks[name]),
               "peak MB, largest worker": max(worker_peaks[name]) if "Dask" in name else "",
               "Dask overhead, ms per clip": ""}
        if name in PAIRS:
            row["Dask overhead, ms per clip"] = 1000 * (seconds - statistics.median(times[PAIRS[name]])) / n_clips
        rows.append(row)
    note = (f"Dataset: **{label}**, {n_clips} clips" + (f", views {augment!r}" if augment else "") +
            f"; median of {repeats} turn(s), each build in its own process; {_common.machine()['cpus']} cores; "
            f"features shipped from a worker to the writer: {bytes_per_clip / 1024:.0f} KiB per clip")
    columns = list(rows[0])
    table = f"{note}\n\n" + _common.markdown_table(rows, columns)
    folder = _common.write_results(NAME if not augment else f"{NAME}_views", label, {"n_clips": n_clips, "augment": augment, "repeats": repeats,
                                                 "shipped_bytes_per_clip": bytes_per_clip, "rows": rows,
                                                 "build_seconds": times, "wall_seconds": walls},
                                   table, results_dir=results_dir)
    return table, folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", help="an UrbanSound8K-layout folder or synthetic:N (default: synthetic:600)")
    parser.add_argument("--augment", default=None, help="an augment spec for every build, e.g. mild")
    parser.add_argument("--repeats", type=int, default=3, help="turns of every contender (default: 3)")
    parser.add_argument("--label", help="dataset name for the tables (default: from the source)")
    parser.add_argument("--quick", action="store_true", help="60 synthetic clips, one turn")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="write results (and a README) here instead of benchmarks/results/")
    args = parser.parse_args(argv)
    source = args.source or ("synthetic:60" if args.quick else "synthetic:600")
    repeats = 1 if args.quick else args.repeats
    label = args.label or ("synthetic" if source.startswith("synthetic") else Path(source).name)
    table, folder = run(source, label, augment=args.augment, repeats=repeats, results_dir=args.results_dir)
    print(table)
    print(f"results in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
