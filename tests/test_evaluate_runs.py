"""Interrupted, resumed and parallel evaluations give the report of one uninterrupted run in this process.

Faults are injected, not assumed: SIGINT and SIGTERM sent by a model's ``fit``
to its own process (in this process, through the command line's ``main``), and
SIGKILL of a real ``python -m estimators evaluate`` process after its first
result line, with a cut-off line after it; then ``--resume``. The parallel paths (``--jobs
2``, a Dask LocalCluster of two worker processes on loopback) are compared with
the serial run, which is the reference.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import evaluate_fixtures as fx
from estimators.evaluation import evaluate
from estimators.evaluation.cli import main

TIMINGS = {"fit_seconds", "score_seconds", "mean_fit_seconds"}
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evaluate-runs")
    return fx.build(fx.write_class_folders(tmp / "tree", (1, 2, 3)), tmp / "store.h5")


def figures(out) -> dict:
    """report.json without the wall times (which no two runs share)."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMINGS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads((Path(out) / "report.json").read_text()))


def lines(out) -> list:
    return (Path(out) / "results.jsonl").read_bytes().split(b"\n")


def no_litter(out):
    """Nothing half-written: no temporary file, every line of the results whole."""
    assert not [p.name for p in Path(out).iterdir() if p.name.startswith(".")]
    assert lines(out)[-1] == b"" and all(json.loads(line) for line in lines(out)[:-1])


@pytest.fixture(scope="module")
def reference(store, tmp_path_factory):
    """An uninterrupted serial run of :data:`MODELS`: its report figures."""
    out = tmp_path_factory.mktemp("reference") / "out"
    fx.SlowLogReg.fits = 10  # past every signal of the fixtures
    evaluate(store, MODELS, out=out)
    return figures(out)


SLOW = "evaluate_fixtures:slow_logreg@mfcc_stats"
MODELS = ["evaluate_fixtures:sigint_on_second_fit@mfcc_stats", "evaluate_fixtures:tiny_cnn"]


@pytest.mark.parametrize(("model", "signum"), [
    pytest.param("evaluate_fixtures:sigint_on_second_fit@mfcc_stats", signal.SIGINT, id="SIGINT"),
    pytest.param("evaluate_fixtures:sigterm_on_second_fit@mfcc_stats", signal.SIGTERM, id="SIGTERM"),
])
def test_signal_keeps_finished_folds_and_resume_finishes(store, tmp_path, capsys, model, signum):
    """The second fit signals its own process: one line, 128 + signal, the first fold kept; --resume ends the run."""
    fx.SlowLogReg.fits = 0
    out = tmp_path / "out"
    argv = ["evaluate", str(store), "--model", model, "--model", "logreg", "--out", str(out), "--quiet"]
    assert main(argv) == 128 + signum
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"interrupted: 1 of 6 fits (model x fold) done are kept in {out}; run again with --resume"]
    assert len(lines(out)) == 3 and not (out / "report.md").exists()  # header, one result, ""
    no_litter(out)
    assert main([*argv, "--resume"]) == 0
    records = [json.loads(line) for line in lines(out)[1:-1]]
    assert sorted((r["model"], r["test_fold"]) for r in records) == sorted(
        (m, f) for m in (model, "logreg") for f in (1, 2, 3))
    no_litter(out)


def test_resumed_report_equals_uninterrupted(store, tmp_path, reference, capsys):
    fx.SlowLogReg.fits = 0
    out = tmp_path / "out"
    argv = ["evaluate", str(store), *[a for m in MODELS for a in ("--model", m)], "--out", str(out), "--quiet"]
    assert main(argv) == 130
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    assert figures(out) == reference


def _spawn(store, out, *models):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "estimators", "evaluate", str(store), *[a for m in models for a in ("--model", m)],
            "--out", str(out), "--quiet"]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_results(out, n, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (out / "results.jsonl").exists() and len(lines(out)) >= n + 2:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"no {n} results in {out} after {timeout} s")


def test_killed_process_then_resume(store, tmp_path):
    """A real `python -m estimators evaluate`, SIGKILLed once its first fold is written, then resumed here."""
    out = tmp_path / "out"
    proc = _spawn(store, out, SLOW, "logreg")
    try:
        _wait_for_results(out, 1, proc)
        proc.kill()
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    kept = len(lines(out)) - 2
    assert 1 <= kept < 6
    with open(out / "results.jsonl", "ab") as f:  # as if the kill had cut the next line short
        f.write(b'{"kind":"result","model":"evaluate_fixtures:slow')
    assert main(["evaluate", str(store), "--model", SLOW, "--model", "logreg", "--out", str(out), "--quiet",
                 "--resume"]) == 0
    no_litter(out)
    records = [json.loads(line) for line in lines(out)[1:-1]]
    assert len(records) == 6 and len({(r["model"], r["test_fold"]) for r in records}) == 6
    uninterrupted = tmp_path / "uninterrupted"
    evaluate(store, [SLOW, "logreg"], out=uninterrupted)
    assert figures(out) == figures(uninterrupted)


def test_signal_campaign(store, tmp_path):
    """SIGINT at 12 seeded random moments of a run: every time the file holds whole lines, and resuming gives the
    uninterrupted results.

    The signal comes from another thread, under the command line's handlers
    (``featstore.interrupt``), so the interruption lands wherever the main thread
    is: loading, fitting, writing the header or a line, or a finalizer, where
    Python ignores it until the run checks for it before keeping a fit.
    """
    import random
    import threading

    from estimators.evaluation import build_report
    from estimators.evaluation.results import read_results
    from featstore import interrupt

    def report_figures(out):
        header, records, _ = read_results(out / "results.jsonl")
        return {k: v for k, v in build_report(header, records).items() if k != "store"}

    def strip(payload):
        return json.loads(json.dumps(payload, default=str), object_hook=lambda d: {
            k: v for k, v in d.items() if k not in TIMINGS})

    models = ["logreg", "evaluate_fixtures:tiny_cnn"]
    started = time.perf_counter()
    evaluate(store, models, out=tmp_path / "reference", report=False)
    seconds = time.perf_counter() - started
    reference = strip(report_figures(tmp_path / "reference"))
    rng, cut_short = random.Random(0), 0
    for attempt in range(12):
        out = tmp_path / f"run{attempt}"
        # (the reference run paid for first imports and warm-up: the runs below take a fraction of it)
        timer = threading.Timer(rng.uniform(0, seconds / 3), os.kill, (os.getpid(), signal.SIGINT))
        try:
            with interrupt.signals_as_interrupts():
                timer.start()
                evaluate(store, models, out=out, report=False)
                timer.join()
        except KeyboardInterrupt:
            pass
        finally:
            timer.cancel()
        if (out / "results.jsonl").exists():
            assert lines(out)[-1] == b"" and all(json.loads(line) for line in lines(out)[:-1])
        cut_short += not (out / "results.jsonl").exists() or len(lines(out)) < 8  # header, 6 results, ""
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")] if out.exists() else True
        evaluate(store, models, out=out, resume=True, report=False)
        assert strip(report_figures(out)) == reference
    assert cut_short >= 6  # most signals landed inside the run


PARALLEL_MODELS = ["logreg", "evaluate_fixtures:tiny_cnn"]


@pytest.fixture(scope="module")
def serial(store, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "out"
    evaluate(store, PARALLEL_MODELS, out=out)
    return figures(out)


def test_jobs_agree_with_serial(store, tmp_path, serial):
    out = tmp_path / "out"
    assert main(["evaluate", str(store), *[a for m in PARALLEL_MODELS for a in ("--model", m)], "--jobs", "2",
                 "--out", str(out), "--quiet"]) == 0
    assert figures(out) == serial


def test_dask_local_cluster_agrees_with_serial(store, tmp_path, serial):
    """Two worker processes on loopback, one fold per task."""
    from distributed import Client, LocalCluster

    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        results = evaluate(store, PARALLEL_MODELS, out=out, client=client)
        hosts = {json.loads(line)["host"] for line in lines(out)[1:-1]}
    assert figures(out) == serial
    assert results["logreg"]["test_fold"] == [1, 2, 3] and hosts
