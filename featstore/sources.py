"""Where clips come from: the original download layout, a Hugging Face dataset, or generated data.

Every source reads and checks its whole metadata table when it is opened (see
:mod:`featstore.metadata`), so that bad rows are known before any audio is
decoded. A source has ``len(source)`` rows, ``source.rejected`` (the rows set
aside, with the reason for each) and a ``description``; iterating it yields one
:class:`ClipRef` per usable row: the typed row and a reference to the audio (a
path, or the encoded bytes), decoded later by a worker. Its ``name``, ``size``
and ``info`` (``{"name", "size"}``, plus ``"seed"`` for synthetic data) say
what it is; the store keeps ``info``. Sources are context managers; leaving the
``with`` block releases what the source holds (the temporary folder of
synthetic data).
"""

import contextlib
import dataclasses
import os
from pathlib import Path
from typing import Iterator

import pandas as pd

from .exceptions import InvalidParameterError, SourceError
from .metadata import check_metadata, missing_columns, read_metadata_csv
from .urbansound8k import AUDIO_DIR, METADATA_COLUMNS, METADATA_CSV, N_CLASSES

__all__ = [
    "ClipRef",
    "FolderSource",
    "Source",
    "HuggingFaceSource",
    "open_source",
    "DEFAULT_HUB_ID",
]

DEFAULT_HUB_ID = "danavery/urbansound8K"

OFFLINE_ALTERNATIVES = (
    "Build from a local copy instead: the original UrbanSound8K folder "
    "(metadata/UrbanSound8K.csv + audio/fold1..fold10), a folder of parquet files, "
    "or a folder written by datasets' save_to_disk; or try the project on generated "
    "data with the source 'synthetic'."
)


@dataclasses.dataclass
class ClipRef:
    """One clip to process: its metadata row and where its audio is."""

    row: dict
    audio: object  # str path or bytes


class Source:
    """What every source shares: its facts and the context-manager protocol."""

    name = "source"

    @property
    def size(self) -> int:
        """Rows in the source's metadata (usable or not)."""
        return len(self)

    @property
    def info(self) -> dict:
        """What the source is, as JSON-ready values; a store built from it keeps them."""
        return {"name": self.name, "size": self.size}

    def close(self):
        """Release what the source holds (nothing, unless a subclass says otherwise)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class FolderSource(Source):
    """The original download: ``ROOT/metadata/UrbanSound8K.csv`` + ``ROOT/audio/foldN/``.

    Parameters
    ----------
    root : str or Path
        The dataset root (the folder that holds ``metadata/`` and ``audio/``).

    Attributes
    ----------
    metadata : DataFrame
        The CSV as read, every cell as text.
    rows : dict of int to dict
        The usable rows by position, typed (see :func:`featstore.metadata.check_metadata`).
    rejected : list of dict
        The rows set aside, each with its ``reason``.
    """

    name = "folder"

    def __init__(self, root):
        self.root = Path(root)
        csv = self.root / METADATA_CSV
        if not csv.is_file():
            raise SourceError(
                f"Metadata not found: {csv} does not exist. Point the source at the "
                f"UrbanSound8K root folder, the one that holds metadata/ and audio/."
            )
        self.metadata = read_metadata_csv(csv)
        self.rows, self.rejected = check_metadata(self.metadata)
        self.description = f"UrbanSound8K folder {self.root.name}"

    def __len__(self):
        return len(self.metadata)

    def __iter__(self) -> Iterator[ClipRef]:
        audio_root = self.root / AUDIO_DIR
        for row in self.rows.values():
            path = audio_root / f"fold{row['fold']}" / row["slice_file_name"]
            yield ClipRef(row=row, audio=str(path))


class HuggingFaceSource(Source):
    """A ``datasets.Dataset`` with an ``audio`` column and the UrbanSound8K metadata.

    The audio is read undecoded (``Audio(decode=False)``) and decoded by our own
    reader, so every source goes through the same decoding and checks.

    Parameters
    ----------
    dataset : datasets.Dataset
    description : str

    Attributes
    ----------
    metadata, rows, rejected
        As for :class:`FolderSource`; ``metadata`` holds the dataset's typed values.
    """

    name = "huggingface"

    def __init__(self, dataset, description: str):
        from datasets import Audio

        missing = missing_columns(dataset.column_names)
        if "audio" not in dataset.column_names:
            missing.append("audio")
        if missing:
            raise SourceError(
                f"{description} lacks the columns {missing}; expected an 'audio' column "
                f"and {list(METADATA_COLUMNS)}."
            )
        self.dataset = dataset.cast_column("audio", Audio(decode=False))
        self.metadata = pd.DataFrame(dataset.select_columns(list(METADATA_COLUMNS)).to_dict())
        self.rows, self.rejected = check_metadata(self.metadata)
        self.description = description

    def __len__(self):
        return len(self.dataset)

    def __iter__(self) -> Iterator[ClipRef]:
        audio_column = self.dataset.select_columns(["audio"])
        # Iterating in slices keeps memory bounded and avoids per-row Arrow overhead.
        for start in range(0, len(audio_column), 256):
            for position, audio in enumerate(audio_column[start : start + 256]["audio"], start):
                if position in self.rows:
                    yield ClipRef(row=self.rows[position], audio=_audio_reference(audio))


def _parse_synthetic(spec: str):
    """``synthetic``, ``synthetic:N`` or ``synthetic:full`` to ``(n_clips, full)``; None if not synthetic."""
    name, _, size = spec.partition(":")
    if name != "synthetic":
        return None
    if not size:
        return None, False
    if size == "full":
        return None, True
    if size.isdigit() and int(size) >= N_CLASSES:
        return int(size), False
    raise SourceError(
        f"Bad synthetic source {spec!r}: write synthetic, synthetic:N (N >= {N_CLASSES}, "
        f"one clip per class) or synthetic:full."
    )


def _audio_reference(audio):
    if audio is None:
        return b""
    if audio.get("bytes"):
        return audio["bytes"]
    return audio.get("path") or b""


def _concatenate_splits(dataset_dict):
    from datasets import concatenate_datasets

    splits = list(dataset_dict.values())
    return splits[0] if len(splits) == 1 else concatenate_datasets(splits)


def _load_hub(dataset_id: str) -> HuggingFaceSource:
    from datasets import load_dataset

    try:
        dataset = load_dataset(dataset_id)
    except (ConnectionError, OSError) as exc:
        raise SourceError(
            f"Could not load the Hugging Face dataset {dataset_id!r} ({exc}). The hub "
            f"may be unreachable from this machine. {OFFLINE_ALTERNATIVES}"
        ) from exc
    return HuggingFaceSource(_concatenate_splits(dataset), f"Hugging Face dataset {dataset_id}")


@contextlib.contextmanager
def _reading(what: str):
    """Turn the errors of a corrupt or unreadable dataset file into a SourceError.

    ``datasets`` logs such an error before raising it; its logger is quietened
    meanwhile, so that the user reads the problem once, in our error.
    """
    from datasets.exceptions import DatasetGenerationError
    from datasets.utils import logging as datasets_logging
    from pyarrow import ArrowException

    verbosity = datasets_logging.get_verbosity()
    datasets_logging.set_verbosity(datasets_logging.CRITICAL)
    try:
        yield
    except (ArrowException, DatasetGenerationError) as exc:
        cause = exc.__cause__ or exc.__context__ or exc
        raise SourceError(
            f"Cannot read {what}: {cause}. The file may be corrupt or not in the format its name says; "
            f"check it, or export the dataset again."
        ) from exc
    finally:
        datasets_logging.set_verbosity(verbosity)


def _load_parquet(files: list) -> HuggingFaceSource:
    from datasets import load_dataset

    with _reading(f"the parquet files {[str(f) for f in files][:3]}"):
        dataset = load_dataset("parquet", data_files=[str(f) for f in files], split="train")
    return HuggingFaceSource(dataset, f"parquet files ({len(files)})")


def _load_saved(folder: Path) -> HuggingFaceSource:
    from datasets import DatasetDict, load_from_disk

    with _reading(f"the saved dataset {folder}"):
        dataset = load_from_disk(str(folder))
    if isinstance(dataset, DatasetDict):
        dataset = _concatenate_splits(dataset)
    return HuggingFaceSource(dataset, f"saved dataset {folder.name}")


def open_source(spec, *, seed=None, n_jobs=-1, progress=False):
    """Open a source from its command-line spelling.

    Parameters
    ----------
    spec : str or Path
        ``hf:<dataset id>`` for the Hugging Face hub; ``synthetic``,
        ``synthetic:N`` or ``synthetic:full`` for generated data (a string, not a
        Path); or a path: a folder in the UrbanSound8K layout, a folder written by
        ``save_to_disk``, a folder of parquet files, or one parquet file.
    seed : int, optional
        Seed of synthetic data (default 0); an error for other sources.
    n_jobs : int, default=-1
        Worker processes generating synthetic data (joblib's convention).
    progress : bool, default=False
        Show a progress bar while generating synthetic data.

    Returns
    -------
    FolderSource, HuggingFaceSource or SyntheticSource
        Use it as a context manager: ``with open_source(spec) as source: ...``.
        Leaving the block deletes the temporary files of synthetic data.

    Raises
    ------
    SourceError
        If the source cannot be found, reached or read, or its metadata lacks a column.
    InvalidParameterError
        If ``seed`` is given for a source that is not synthetic, or an argument is invalid.
    """
    synthetic = _parse_synthetic(spec) if isinstance(spec, str) else None
    if synthetic is not None:
        from .synth.source import SyntheticSource

        n_clips, full = synthetic
        return SyntheticSource(n_clips=n_clips, full=full, seed=0 if seed is None else seed, n_jobs=n_jobs,
                               progress=progress)
    if seed is not None:
        raise InvalidParameterError(
            f"seed={seed!r} was given for {os.fspath(spec)!r}, but only synthetic sources have a seed. "
            f"Leave it out, or build from synthetic, synthetic:N or synthetic:full."
        )
    spec = os.fspath(spec)
    if spec.startswith("hf:"):
        dataset_id = spec[3:]
        if not dataset_id:
            raise SourceError("Empty dataset id: write hf:<owner>/<name>, e.g. hf:danavery/urbansound8K.")
        return _load_hub(dataset_id)

    path = Path(spec)
    if not path.exists():
        raise SourceError(
            f"Source {spec!r} does not exist. Give a dataset folder, parquet files, "
            f"hf:<dataset id> or synthetic[:N]."
        )
    if path.is_file():
        if path.suffix == ".parquet":
            return _load_parquet([path])
        raise SourceError(f"Source {spec!r} is a file but not a .parquet file.")
    if (path / METADATA_CSV).is_file():
        return FolderSource(path)
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        return _load_saved(path)
    parquet_files = sorted(path.rglob("*.parquet"))
    if parquet_files:
        return _load_parquet(parquet_files)
    raise SourceError(
        f"Cannot tell what {spec!r} holds: no {METADATA_CSV}, no save_to_disk files "
        f"(dataset_info.json / dataset_dict.json) and no .parquet files."
    )
