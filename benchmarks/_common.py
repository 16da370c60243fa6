"""What every benchmark script shares: datasets, peak memory, and result files.

Each script writes ``results/<dataset>/<name>.json`` (all figures), ``<name>.md`` (the
table) and PNG plots, then refreshes its section of ``benchmarks/README.md``.
"""

import contextlib
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"
# The real clips used during development: UrbanSound8K's fold 1 (873 clips, copies at
# 22.05 kHz) in the original layout. They are not part of the repository; point
# URBANSOUND8K_FOLD1 at such a folder, or put it at data/urbansound8k-fold1.
REAL_DEV_DATA = Path(os.environ.get("URBANSOUND8K_FOLD1", BENCH_DIR.parent / "data" / "urbansound8k-fold1"))
REAL_DEV_LABEL = "real UrbanSound8K, fold 1 (22.05 kHz copies)"


def dataset_slug(label: str) -> str:
    """Folder name for a dataset label: 'real UrbanSound8K, fold 1 (...)' -> 'real-urbansound8k-fold1'."""
    if label.startswith("synthetic"):
        return "synthetic"
    if label.startswith("real UrbanSound8K, fold 1"):
        return "real-urbansound8k-fold1"
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def machine() -> dict:
    import torch

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "date": datetime.date.today().isoformat(),
    }


def open_data(spec: str, *, seed: int = 0):
    """``featstore.open_source(spec)``, with ``seed`` for synthetic data (other sources have none).

    Use it as a context manager: leaving it deletes generated data.
    """
    from featstore import SyntheticSource, open_source

    source = open_source(spec)
    if isinstance(source, SyntheticSource) and source.seed != seed:
        source = open_source(spec, seed=seed)
    return source


def log(msg):
    """A progress line with the time, flushed at once."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_measured(cmd: list, *, poll_seconds: float = 0.05) -> dict:
    """Run a command; return its wall time and the peak resident memory of its largest process.

    The process tree is polled, so the peak of each worker process counts too.
    """
    import psutil

    peaks = {}
    started = time.perf_counter()
    output = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
        reader.start()
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                for p in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        peaks[p.pid] = max(peaks.get(p.pid, 0), p.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(poll_seconds)
        reader.join()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{''.join(output)}")
    return {
        "seconds": seconds,
        "peak_rss_largest_process_mb": max(peaks.values(), default=0) / 2**20,
        "peak_rss_command_mb": peaks.get(proc.pid, 0) / 2**20,  # the command's own process
        "peak_rss_largest_child_mb": max((v for pid, v in peaks.items() if pid != proc.pid), default=0) / 2**20,
        "processes_seen": len(peaks),
        "output": "".join(output),
    }


def results_folder(dataset_label: str, results_dir=None) -> Path:
    """``results/<dataset>/`` (or ``results_dir/<dataset>/``), created if missing."""
    folder = Path(results_dir or RESULTS_DIR) / dataset_slug(dataset_label)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_results(name: str, dataset_label: str, payload: dict, table_md: str, *, results_dir=None) -> Path:
    """Write ``<name>.json`` and ``<name>.md`` under results/<dataset>/ and refresh the README section.

    With ``results_dir`` (e.g. a test's temporary folder) everything, README included
    (``results_dir/README.md``), goes there instead of the committed results.
    """
    folder = results_folder(dataset_label, results_dir)
    payload = {"benchmark": name, "dataset": dataset_label, "machine": machine(), **payload}
    (folder / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (folder / f"{name}.md").write_text(table_md.rstrip() + "\n")
    update_readme(name, dataset_label, folder, readme=None if results_dir is None else Path(results_dir) / "README.md")
    return folder


def update_readme(name: str, dataset_label: str, folder: Path, *, readme=None):
    """Replace the README block between the markers of this benchmark and dataset."""
    readme = Path(readme or README)
    tag = f"{name}:{dataset_slug(dataset_label)}"
    start, end = f"<!-- results {tag} -->", f"<!-- end {tag} -->"
    table = (folder / f"{name}.md").read_text()
    plots = sorted(Path(os.path.relpath(p, readme.parent)).as_posix() for p in folder.glob(f"{name}*.png"))
    block = "\n".join([start, table.rstrip(), *[f"\n![{Path(p).stem}]({p})" for p in plots], end])
    text = readme.read_text() if readme.exists() else ""
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + f"\n\n### {name} on {dataset_label}\n\n{block}\n"
    readme.write_text(text)


# The plotting and table helpers are the evaluation report's (python -m estimators evaluate),
# imported when first used: importing estimators imports torch, which not every script needs.


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend (the scripts only write PNGs)."""
    from estimators.evaluation.plots import pyplot as _pyplot

    return _pyplot()


def save_figure(fig, path, *, dpi: int = 110):
    """Lay out, write and close a figure."""
    from estimators.evaluation.plots import save_figure as _save_figure

    _save_figure(fig, path, dpi=dpi)


def markdown_table(rows: list, columns: list) -> str:
    """A GitHub Markdown table of ``rows`` (list of dicts) in ``columns`` order."""
    from estimators.evaluation.report import markdown_table as _markdown_table

    return _markdown_table(rows, columns)


def python() -> str:
    return sys.executable
