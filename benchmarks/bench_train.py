"""Training throughput of the default CNN on in-memory store arrays, in clips per second.

    python benchmarks/bench_train.py --store synthetic.h5 [--clips 1024] [--repeats 3]
    python benchmarks/bench_train.py --quick            # random arrays, a few batches

Times one training epoch of the reference CNN (AdamW, lr 1e-3, cross-entropy) three
ways on the same clips: ``MelCNNClassifier.fit(max_epochs=1)`` (also with
``module__channels_last=True``), a plain PyTorch loop over the same model (the figure
to beat), and that loop with ``channels_last`` memory format, each at batch sizes 64,
128 and 256. Runs alternate and the median
of ``--repeats`` is reported, so a passing load on the machine hits every contender.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

from estimators import NOTEBOOK_MODULE_PARAMS, MelCNN, make_notebook_cnn  # noqa: E402


def plain_loop(X, y, *, batch_size, channels_last=False, seed=0):
    """One epoch of the loop a PyTorch user writes (data already in memory). Returns seconds."""
    torch.manual_seed(seed)
    model = MelCNN(n_classes=int(y.max()) + 1, channels_last=False, **NOTEBOOK_MODULE_PARAMS)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X).unsqueeze(1), torch.from_numpy(y)
    order = torch.randperm(len(X_t), generator=torch.Generator().manual_seed(seed))
    model.train()
    started = time.perf_counter()
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        xb = X_t[idx].contiguous(memory_format=memory_format)
        optimizer.zero_grad()
        loss = loss_fn(model(xb), y_t[idx])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def estimator_epoch(X, y, *, batch_size, channels_last=False, seed=0):
    clf = make_notebook_cnn(
        max_epochs=1, batch_size=batch_size, random_state=seed, device="cpu", module__channels_last=channels_last
    )
    started = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - started


def run(X, y, label, *, repeats, batch_sizes, results_dir=None):
    contenders = {
        "MelCNNClassifier.fit": lambda b: estimator_epoch(X, y, batch_size=b),
        "MelCNNClassifier.fit, module__channels_last": lambda b: estimator_epoch(X, y, batch_size=b, channels_last=True),
        "plain PyTorch loop": lambda b: plain_loop(X, y, batch_size=b),
        "plain loop, channels_last": lambda b: plain_loop(X, y, batch_size=b, channels_last=True),
    }
    times = {(name, b): [] for name in contenders for b in batch_sizes}
    for _ in range(repeats):
        for b in batch_sizes:
            for name, fn in contenders.items():
                times[(name, b)].append(fn(b))
    baseline = statistics.median(times[("plain PyTorch loop", 64)])
    rows = []
    for (name, b), seconds in times.items():
        median = statistics.median(seconds)
        rows.append({
            "method": name, "batch_size": b, "clips": len(X), "median_seconds": median,
            "clips_per_s": len(X) / median, "vs_plain_loop_batch64": baseline / median,
        })
    note = (
        f"Dataset: **{label}**, {len(X)} clips of {X.shape[1]} x {X.shape[2]} log-mels in memory, one epoch, "
        f"median of {repeats} alternating runs, {torch.get_num_threads()} torch threads. "
        f"`vs_plain_loop_batch64` is the plain loop's time at batch 64 over the row's (above 1 is faster)."
    )
    table = _common.markdown_table(rows, ["method", "batch_size", "clips", "median_seconds", "clips_per_s", "vs_plain_loop_batch64"])
    _common.write_results("bench_train", label, {"rows": rows, "repeats": repeats}, note + "\n\n" + table,
                          results_dir=results_dir)
    print(note)
    print(table)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="a feature store; the first --clips clips of its log-mels are used")
    parser.add_argument("--clips", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="128 random clips, one repeat, batch 64 only")
    parser.add_argument("--label", help="dataset name for the tables (default: from the store)")
    parser.add_argument("--results-dir", help="write results here instead of benchmarks/results")
    args = parser.parse_args(argv)

    if args.store:
        from featstore import FeatureStore

        store = FeatureStore(args.store)
        X, y, _, _ = store.load("logmel")
        X, y = X[: args.clips], y[: args.clips]
        label = args.label or store.source
    else:
        rng = np.random.default_rng(0)
        n = 128 if args.quick else args.clips
        X = rng.standard_normal((n, 64, 321)).astype(np.float32)
        y = np.arange(n) % 10
        label = args.label or "synthetic (random arrays)"
    repeats, batch_sizes = (1, [64]) if args.quick else (args.repeats, [64, 128, 256])
    run(X, y, label, repeats=repeats, batch_sizes=batch_sizes, results_dir=args.results_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
