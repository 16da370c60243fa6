"""Shared fixtures: a seeded rng and tiny datasets in the real UrbanSound8K layout."""

import errno
import os
import tempfile

# No test may reach the network: make the Hugging Face libraries fail fast offline,
# and keep their caches out of the user's home. Set before any of them is imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="featstore-tests-hf-"))

from featstore._blas import reproducible_blas  # noqa: E402

# Builds in this process compute the same features as `python -m featstore build`,
# bit for bit, whatever ran before: asked of MKL before torch's first call.
reproducible_blas()

# Each pytest-xdist worker gets its share of torch's threads: with one thread per core
# in every worker, their OpenMP threads would fight for the cores.
_XDIST_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _XDIST_WORKERS > 1:
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads() // _XDIST_WORKERS))

from pathlib import Path  # noqa: E402
from unittest import mock  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402

from featstore.urbansound8k import CLASS_NAMES, METADATA_COLUMNS  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def read_only_folder(tmp_path, monkeypatch):
    """A folder in which nothing can be created (mode 555).

    Permissions do not stop root, so when the tests run as root ``os.mkdir`` is
    also made to refuse, with the error the kernel gives everyone else.
    """
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real_mkdir = os.mkdir

        def mkdir(path, *args, **kwargs):
            if folder in Path(os.path.abspath(path)).parents:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
            return real_mkdir(path, *args, **kwargs)

        monkeypatch.setattr(os, "mkdir", mkdir)
    yield folder
    folder.chmod(0o755)


@pytest.fixture
def reap_processes():
    """Kills the build processes a test started (tests/faults.py) if the test left them running."""
    import faults

    yield
    faults.reap()


@pytest.fixture(scope="session")
def auto_resolves_to_cpu():
    """Returns a context manager under which ``device="auto"`` resolves to ``"cpu"``.

    What "auto" picks on a machine without CUDA or MPS, on every machine: the
    tests of the auto-device machinery then compare numbers exactly and pass
    where a GPU is present too. Only the choice of ``estimators._device`` is
    patched, not torch (its lazily imported compiler inspects the real
    availability functions). Session-scoped so that module-scoped fixtures can
    fit under it; the patch lasts only for the ``with`` block.
    """
    return lambda: mock.patch("estimators._device._best_available_device", return_value="cpu")


def tone(*, seconds, sample_rate, channels=1, freq=440.0, amplitude=0.3):
    """A sine of ``freq`` Hz, ``(n_samples, channels)`` float32."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    return np.repeat(wave[:, None], channels, axis=1).astype(np.float32)


def write_tree(root, clips):
    """Write a dataset in the UrbanSound8K layout.

    ``clips`` is a list of dicts with ``name``, ``fold``, ``classID`` and either
    ``samples`` + ``sample_rate`` (+ optional ``subtype``) or ``raw`` bytes to write
    as the file (or ``missing=True`` for a row whose file does not exist). Extra
    keys override metadata columns.
    """
    root = Path(root)
    rows = []
    for i, clip in enumerate(clips):
        fold, class_id = clip["fold"], clip["classID"]
        folder = root / "audio" / f"fold{fold}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / clip["name"]
        duration = 0.0
        if "raw" in clip:
            path.write_bytes(clip["raw"])
        elif not clip.get("missing"):
            sf.write(path, clip["samples"], clip["sample_rate"], subtype=clip.get("subtype", "PCM_16"))
            duration = len(clip["samples"]) / clip["sample_rate"]
        row = {
            "slice_file_name": clip["name"],
            "fsID": 1000 + i,
            "start": 0.0,
            "end": duration,
            "salience": 1,
            "fold": fold,
            "classID": class_id,
            "class": CLASS_NAMES[class_id] if 0 <= class_id < len(CLASS_NAMES) else "unknown",
        }
        row.update({k: v for k, v in clip.items() if k in METADATA_COLUMNS and k not in ("fold", "classID")})
        rows.append(row)
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=list(METADATA_COLUMNS)).to_csv(root / "metadata" / "UrbanSound8K.csv", index=False)
    return root


def good_clips(n_per_fold=2, folds=(1, 2, 3)):
    """Valid clips of varied formats: rates 8-96 kHz, mono/stereo, several subtypes."""
    formats = [
        (44100, 2, "PCM_16", 4.0),
        (48000, 2, "PCM_24", 3.2),
        (96000, 1, "PCM_24", 4.5),  # longer than 4 s: centre-cropped
        (22050, 1, "PCM_U8", 0.5),
        (16000, 2, "FLOAT", 1.0),
        (8000, 1, "PCM_16", 0.05),
        (11025, 3, "PCM_16", 2.0),  # odd channel count
        (32000, 1, "DOUBLE", 4.0),
    ]
    clips = []
    k = 0
    for fold in folds:
        for _ in range(n_per_fold):
            sr, ch, subtype, seconds = formats[k % len(formats)]
            class_id = k % len(CLASS_NAMES)
            clips.append({
                "name": f"{2000 + k}-{class_id}-0-0.wav",
                "fold": fold,
                "classID": class_id,
                "samples": tone(seconds=seconds, sample_rate=sr, channels=ch, freq=200.0 + 100 * class_id),
                "sample_rate": sr,
                "subtype": subtype,
            })
            k += 1
    return clips


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A valid 3-fold dataset of 12 clips in varied formats, in the original layout."""
    return write_tree(tmp_path_factory.mktemp("tiny") / "UrbanSound8K", good_clips(n_per_fold=4))


@pytest.fixture(scope="session")
def tiny_store(tiny_dataset, tmp_path_factory):
    """A store built from ``tiny_dataset`` (read-only: copy it before changing it)."""
    from featstore import build_store, open_source

    out = tmp_path_factory.mktemp("store") / "tiny.h5"
    build_store(open_source(tiny_dataset), out, n_jobs=1, progress=False)
    return out


# The longest files first: each pytest-xdist worker takes a whole file at a time, so
# the short ones fill in at the end instead of one worker finishing a long file alone
# (``--no-loadscope-reorder`` keeps this order: xdist would otherwise sort the files by
# their number of tests, which says little about their length).
LONGEST_FIRST = (
    "test_benchmarks.py", "test_dask_build.py", "test_readme.py", "test_faults_signals.py",
    "test_bench_build_train.py", "test_estimators.py", "test_store_estimators.py", "test_resume.py",
    "test_evaluate_runs.py", "test_synth_esc50.py", "test_synth.py", "test_dask_search.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file keeps its order
