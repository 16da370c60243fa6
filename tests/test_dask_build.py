"""Builds on a Dask cluster: a real ``LocalCluster`` on loopback, compared with a local build.

The cluster has 2 worker processes of 1 thread each and lets a task meet one
dying worker before giving up on it (``allowed-failures`` 1, instead of 3, to
keep the crash tests short). Faults are injected by a worker plugin that makes
``decode_clip`` end its worker process (``os._exit``) on a chosen clip: once
(a worker killed mid-build) or every time (a clip that crashes any worker).
Command-line builds with ``--scheduler local`` are interrupted (Ctrl-C to the
process group) and killed (SIGKILL) while their workers decode.
"""

import os
import signal
import subprocess
import sys

import dask
import pytest
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin

import faults
from featstore import FeatureConfig, FeatureStore, build_store, open_source
from featstore.verify import verify_store

pytestmark = pytest.mark.slow

N_WORKERS = 2
CONFIG = FeatureConfig(augment="gain:-6")  # the views travel back too
BATCH = 3


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), LocalCluster(
        n_workers=N_WORKERS, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=":0", local_directory=tmp_path_factory.mktemp("dask"),
    ) as cluster, Client(cluster) as client:
        client.wait_for_workers(N_WORKERS)
        yield client


@pytest.fixture(scope="module")
def local_build(tiny_dataset, tmp_path_factory):
    """The reference: a local build of the same source, configuration and batch size."""
    out = tmp_path_factory.mktemp("local") / "local.h5"
    build_store(open_source(tiny_dataset), out, config=CONFIG, n_jobs=1, batch_size=BATCH, progress=False)
    return out


def _crash_plugin(clip_name, marker=None):
    """A worker plugin: decoding ``clip_name`` ends the worker process, every time or (with a marker file) once.

    Defined in a function so that it travels to the workers by value.
    """

    class CrashOnClip(WorkerPlugin):
        name = "crash-on-clip"

        def setup(self, worker):
            import featstore.decode

            self.module, self.original = featstore.decode, featstore.decode.decode_clip
            original = self.original

            def decode_clip(audio, config):
                if os.path.basename(str(audio)) == clip_name:
                    if marker is None:
                        os._exit(1)
                    try:
                        with open(marker, "x"):  # the first worker to get here dies
                            pass
                    except FileExistsError:
                        pass
                    else:
                        os._exit(1)
                return original(audio, config)

            featstore.decode.decode_clip = decode_clip

        def teardown(self, worker):
            self.module.decode_clip = self.original

    return CrashOnClip()


@pytest.fixture
def crash(client):
    """``crash(clip_name, marker=None)`` installs the plugin on every worker, present and restarted."""
    names = []

    def install(clip_name, marker=None):
        plugin = _crash_plugin(clip_name, None if marker is None else str(marker))
        client.register_plugin(plugin)
        names.append(plugin.name)

    yield install
    for name in names:
        client.unregister_worker_plugin(name)


def _some_clip(dataset):
    return sorted((dataset / "audio" / "fold2").iterdir())[1].name


def test_a_build_on_a_cluster_equals_a_local_build(client, tiny_dataset, local_build, tmp_path):
    out = tmp_path / "cluster.h5"
    summary = build_store(open_source(tiny_dataset), out, config=CONFIG, batch_size=BATCH, progress=False,
                          client=client)
    assert summary.n_stored == len(FeatureStore(local_build))
    assert faults.different_datasets(local_build, out) == []
    assert verify_store(out) == []


def test_a_parquet_source_ships_the_audio_bytes_and_builds_the_same_store(client, tiny_dataset, tmp_path):
    from test_sources import _hf_dataset

    parquet = tmp_path / "urbansound8k.parquet"
    _hf_dataset(tiny_dataset).to_parquet(parquet)
    source = open_source(str(parquet))
    assert all(isinstance(ref.audio, bytes) for ref in source)  # what the tasks carry: no path to reach
    local, cluster = tmp_path / "local.h5", tmp_path / "cluster.h5"
    build_store(source, local, config=CONFIG, n_jobs=1, batch_size=BATCH, progress=False)
    build_store(open_source(str(parquet)), cluster, config=CONFIG, batch_size=BATCH, progress=False, client=client)
    assert faults.different_datasets(local, cluster) == []


def test_a_worker_killed_mid_build_has_its_clips_done_again_elsewhere(client, crash, tiny_dataset, local_build,
                                                                      tmp_path):
    marker = tmp_path / "crashed-once"
    crash(_some_clip(tiny_dataset), marker)
    out = tmp_path / "cluster.h5"
    summary = build_store(open_source(tiny_dataset), out, config=CONFIG, batch_size=BATCH, progress=False,
                          client=client)
    assert marker.exists()  # a worker did die
    assert summary.rejected == []
    assert faults.different_datasets(local_build, out) == []


def test_a_clip_that_crashes_every_worker_is_rejected_and_the_build_goes_on(client, crash, tiny_dataset,
                                                                            local_build, tmp_path):
    clip = _some_clip(tiny_dataset)
    crash(clip)
    out = tmp_path / "cluster.h5"
    summary = build_store(open_source(tiny_dataset), out, config=CONFIG, batch_size=BATCH, progress=False,
                          client=client)
    assert [r["file"] for r in summary.rejected] == [clip]
    assert "crashed its worker process" in summary.rejected[0]["reason"]
    store, local = FeatureStore(out), FeatureStore(local_build)
    assert len(store) == len(local) - 1
    assert list(store.rejected()["slice_file_name"]) == [clip]
    assert verify_store(out) == []
    # the other clips of the taken-apart batch, and every other batch, are all there
    assert sorted(store.metadata()["slice_file_name"]) == sorted(set(local.metadata()["slice_file_name"]) - {clip})


def _cli(*argv, timeout=300, **env):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env}
    return subprocess.run([sys.executable, "-m", "featstore", *map(str, argv)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_build_scheduler_local_on_the_command_line_equals_a_local_build(tiny_dataset, local_build, tmp_path):
    out = tmp_path / "cli.h5"
    done = _cli("build", tiny_dataset, "--out", out, "--scheduler", "local", "--jobs", N_WORKERS,
                "--batch-size", BATCH, "--augment", CONFIG.augment, "--quiet")
    assert done.returncode == 0, done.stderr
    assert faults.different_datasets(local_build, out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.h5"]  # no litter


def test_local_workers_start_with_the_build_s_allocator_settings():
    from featstore._malloc import ENVIRONMENT
    from featstore.cluster import dask_client

    with dask_client("local", n_workers=1) as client:
        seen = client.run(lambda: {name: os.environ.get(name) for name in ENVIRONMENT})
    assert list(seen.values()) == [ENVIRONMENT]


@pytest.fixture
def cluster_without_mkl_setting(monkeypatch, tmp_path):
    """A 2-worker LocalCluster whose workers start without MKL_CBWR in their environment (as `dask worker`
    started from a plain shell does)."""
    monkeypatch.delenv("MKL_CBWR", raising=False)
    with LocalCluster(n_workers=N_WORKERS, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", local_directory=tmp_path / "dask") as cluster, Client(cluster) as client:
        client.wait_for_workers(N_WORKERS)
        monkeypatch.setenv("MKL_CBWR", "AUTO,STRICT")  # the building process's own setting, as the tests have it
        yield client


def test_workers_started_without_the_mkl_setting_get_it_and_build_the_same_store(
        cluster_without_mkl_setting, tiny_dataset, local_build, tmp_path):
    client = cluster_without_mkl_setting
    assert set(client.run(lambda: os.environ.get("MKL_CBWR")).values()) == {None}
    out = tmp_path / "cluster.h5"
    build_store(open_source(tiny_dataset), out, config=CONFIG, batch_size=BATCH, progress=False, client=client)
    assert set(client.run(lambda: os.environ.get("MKL_CBWR")).values()) == {"AUTO,STRICT"}
    assert faults.different_datasets(local_build, out) == []


def _use_torch():
    import torch

    return float((torch.ones(8, 8) @ torch.ones(8, 8)).sum())


def test_a_worker_whose_mkl_already_ran_without_the_setting_is_refused_in_one_line(
        cluster_without_mkl_setting, tiny_dataset, tmp_path):
    from featstore import ClusterError
    from featstore.cluster import _ready

    client = cluster_without_mkl_setting
    client.run(_use_torch)  # MKL has now read its (missing) setting in every worker
    with pytest.raises(ClusterError, match=r"MKL_CBWR=unset and has loaded torch.*restart the workers with "
                                           r"MKL_CBWR=AUTO,STRICT") as caught:
        build_store(open_source(tiny_dataset), tmp_path / "s.h5", config=CONFIG, batch_size=BATCH, progress=False,
                    client=client)
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == [tmp_path / "dask"]  # no store, no work folder
    with pytest.raises(ClusterError, match="MKL_CBWR=unset"):  # and before any decoding on the command line
        _ready(client, "the cluster")


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(tiny_dataset, tmp_path):
    out = tmp_path / "s.h5"
    done = _cli("build", tiny_dataset, "--out", out, "--scheduler", "tcp://127.0.0.1:9", "--quiet",
                DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="3s")
    assert done.returncode == 1
    assert done.stderr.startswith("error: Cannot reach a Dask scheduler at 'tcp://127.0.0.1:9'")
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def _cluster_build(dataset, out):
    """A command-line build on a 2-worker LocalCluster, long enough to be caught mid-way (views)."""
    return faults.start(["build", dataset, "--out", out, "--scheduler", "local", "--jobs", N_WORKERS,
                         "--batch-size", 2, "--augment", "mild", "--quiet"], new_session=True)


@pytest.fixture(scope="module")
def larger_dataset(tmp_path_factory):
    from featstore import make_synthetic_dataset

    return make_synthetic_dataset(tmp_path_factory.mktemp("larger") / "data", n_clips=200, seed=0, progress=False)


def test_ctrl_c_stops_a_cluster_build_with_one_line_and_no_litter(larger_dataset, tmp_path):
    """Ctrl-C reaches the build and its worker processes (one process group): one line, no traceback."""
    out = tmp_path / "s.h5"
    build = _cluster_build(larger_dataset, out)
    assert faults.wait_until(lambda: faults.journal_batches(out) >= 1, process=build)
    workers = faults.children(build.pid)
    os.killpg(build.pid, signal.SIGINT)
    _, stderr = build.communicate(timeout=120)
    assert build.returncode == 130 and stderr.splitlines() == [f"interrupted: nothing was written to {out}"]
    assert faults.wait_until(lambda: not any(faults.alive(p) for p in workers), timeout=30)
    assert list(tmp_path.iterdir()) == []


def test_a_killed_cluster_build_takes_its_workers_along_and_the_next_build_cleans_up(larger_dataset, tmp_path):
    out = tmp_path / "s.h5"
    build = _cluster_build(larger_dataset, out)
    assert faults.wait_until(lambda: faults.journal_batches(out) >= 1, process=build)
    workers = faults.children(build.pid)
    assert workers
    build.kill()
    build.communicate(timeout=60)
    assert faults.wait_until(lambda: not any(faults.alive(p) for p in workers), timeout=60)
    assert not out.exists()
    again = faults.run(["build", larger_dataset, "--out", out, "--jobs", 1, "--quiet"])
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.h5"]
