"""Where clips come from: a dataset download, a table of clips, folders of classes, a Hugging Face dataset, or generated data.

One module per layout, each a small reader behind one interface
(:class:`~featstore.sources.base.Source`):

* :mod:`~featstore.sources.urbansound8k`: ``metadata/UrbanSound8K.csv`` + ``audio/foldN/``;
* :mod:`~featstore.sources.esc50`: ``meta/esc50.csv`` + ``audio/`` (ESC-50, or ESC-10);
* :mod:`~featstore.sources.table`: any CSV or TSV of clips, and the checks all layouts share;
* :mod:`~featstore.sources.folders`: one folder per class, under an optional folder per fold;
* :mod:`~featstore.sources.huggingface`: a ``datasets.Dataset`` (hub, parquet, ``save_to_disk``);
* :mod:`featstore.synth`: generated data in the UrbanSound8K or ESC-50 layout.

:func:`open_source` recognises the layout of a path with no flags. Every source
reads and checks its whole metadata table when it is opened, so that bad rows
are known before any audio is decoded. Sources are context managers; leaving the
``with`` block releases what the source holds (the temporary folder of
synthetic data).
"""

import os
from pathlib import Path

from ..esc50 import N_CLASSES as ESC50_CLASSES
from ..exceptions import InvalidParameterError, SourceError
from ..urbansound8k import METADATA_CSV
from ..urbansound8k import N_CLASSES as URBANSOUND8K_CLASSES
from .base import ClipRef, Columns, Source
from .esc50 import ESC50Source
from .folders import ClassFolderSource, looks_like_class_folders
from .huggingface import HuggingFaceSource, load_hub, load_parquet, load_saved
from .table import TableSource
from .urbansound8k import FolderSource

__all__ = [
    "ClassFolderSource", "ClipRef", "Columns", "DATASETS", "DEFAULT_HUB_ID", "ESC50Source", "FolderSource",
    "HuggingFaceSource", "Source", "TableSource", "open_source",
]

DEFAULT_HUB_ID = "danavery/urbansound8K"
DATASETS = ("urbansound8k", "esc50", "esc10", "table", "folders")
# open_source's table options -> check_table's names
_COLUMN_OPTIONS = {"path_column": "path", "label_column": "label", "class_id_column": "class_id",
                   "fold_column": "fold", "group_column": "group"}
_TABLE_FILES = (".csv", ".tsv", ".tab")
_SYNTHETIC = {"synthetic": "urbansound8k", "synthetic-esc50": "esc50"}


def _parse_synthetic(spec: str):
    """``synthetic[-esc50]``, ``...:N`` or ``...:full`` to ``(dataset, n_clips, full)``; None if not synthetic."""
    name, _, size = spec.partition(":")
    if name not in _SYNTHETIC:
        return None
    if not size:
        return _SYNTHETIC[name], None, False
    if size == "full":
        return _SYNTHETIC[name], None, True
    fewest = {"urbansound8k": URBANSOUND8K_CLASSES, "esc50": ESC50_CLASSES}[_SYNTHETIC[name]]
    if size.isdigit() and int(size) >= fewest:
        return _SYNTHETIC[name], int(size), False
    raise SourceError(f"Bad synthetic source {spec!r}: write {name}, {name}:N (N >= {fewest}, one clip per class) "
                      f"or {name}:full.")


def open_source(spec=None, *, dataset=None, metadata=None, audio_dir=None, path_column=None, label_column=None,
                class_id_column=None, fold_column=None, group_column=None, classes=None, assign_folds=None,
                group_pattern=None, seed=None, n_jobs=-1, progress=False):
    """Open a source from its command-line spelling.

    Parameters
    ----------
    spec : str or Path, optional
        A folder (UrbanSound8K or ESC-50 layout, one folder per class, a
        ``save_to_disk`` folder or parquet files), a parquet file, a CSV/TSV of
        clips (as ``metadata``), ``hf:<dataset id>`` for the Hugging Face hub, or
        ``synthetic[:N|:full]`` / ``synthetic-esc50[:N|:full]`` for generated
        data (a string, not a Path). With ``metadata``, the audio folder.
    dataset : {"urbansound8k", "esc50", "esc10", "table", "folders"}, optional
        The layout, when it is not the one recognised (``"esc10"``: the ESC-10
        rows of an ESC-50 download).
    metadata : str or Path, optional
        A CSV or TSV listing the clips: read with the column options.
    audio_dir : str or Path, optional
        The folder the table's paths are relative to (default: ``spec``, else the
        table's folder).
    path_column, label_column, class_id_column, fold_column, group_column : str, optional
        Which column holds each clip's path (default ``file_name``), class name,
        class id, fold or split name, and recording (a table or a Hugging Face
        dataset of another layout).
    classes : sequence of str, optional
        The class names in label order (default: decided from the data).
    assign_folds : int, optional
        Without folds in the data: make this many, stable and grouped by recording.
    group_pattern : str, optional
        A regular expression that reads a clip's recording from its file name.
    seed : int, optional
        Seed of synthetic data (default 0); an error for other sources.
    n_jobs : int, default=-1
        Worker processes generating synthetic data (joblib's convention).
    progress : bool, default=False
        Show a progress bar while generating synthetic data.

    Returns
    -------
    Source
        Use it as a context manager: ``with open_source(spec) as source: ...``.
        Leaving the block deletes the temporary files of synthetic data.

    Raises
    ------
    SourceError
        If the source cannot be found, reached or read, its layout cannot be
        told, or its metadata lacks a column or is ambiguous.
    InvalidParameterError
        If ``seed`` is given for a source that is not synthetic, or an argument is invalid.
    """
    given = {"path_column": path_column, "label_column": label_column, "class_id_column": class_id_column,
             "fold_column": fold_column, "group_column": group_column}
    columns = {_COLUMN_OPTIONS[k]: v for k, v in given.items() if v is not None}
    grouping = {k: v for k, v in (("classes", classes), ("assign_folds", assign_folds),
                                  ("group_pattern", group_pattern)) if v is not None}
    _check_options(dataset, assign_folds, classes)
    synthetic = _parse_synthetic(spec) if isinstance(spec, str) else None
    if synthetic is not None:
        from ..synth.source import SyntheticSource

        _refuse({**columns, **grouping}, "synthetic data")
        kind, n_clips, full = synthetic
        return SyntheticSource(dataset=kind, layout=dataset, n_clips=n_clips, full=full,
                               seed=0 if seed is None else seed, n_jobs=n_jobs, progress=progress)
    if seed is not None:
        raise InvalidParameterError(
            f"seed={seed!r} was given for {os.fspath(spec)!r}, but only synthetic sources have a seed. "
            f"Leave it out, or build from synthetic[:N] or synthetic-esc50[:N]."
        )
    if spec is not None and Path(spec).suffix.lower() in _TABLE_FILES and metadata is None:
        metadata, spec = spec, None
    if metadata is not None:
        if dataset not in (None, "table"):
            raise SourceError(f"--metadata reads a table of clips; leave out --dataset {dataset}.")
        column_options = {k: v for k, v in given.items() if v is not None}
        return TableSource(metadata, audio_dir if audio_dir is not None else spec, **column_options, **grouping)
    if audio_dir is not None:
        raise SourceError("--audio-dir goes with --metadata (the table of clips whose paths it completes).")
    if spec is None:
        spec = f"hf:{DEFAULT_HUB_ID}"
    spec = os.fspath(spec)
    if spec.startswith("hf:"):
        if not spec[3:]:
            raise SourceError("Empty dataset id: write hf:<owner>/<name>, e.g. hf:danavery/urbansound8K.")
        return load_hub(spec[3:], layout=dataset, **columns, **grouping)
    path = Path(spec)
    if not path.exists():
        raise SourceError(
            f"Source {spec!r} does not exist. Give a dataset folder, a CSV of clips, parquet files, "
            f"hf:<dataset id> or synthetic[:N]."
        )
    if path.is_file():
        if path.suffix == ".parquet":
            return load_parquet([path], layout=dataset, **columns, **grouping)
        raise SourceError(f"Source {spec!r} is a file but not a .parquet, .csv or .tsv file.")
    return _open_folder(path, dataset, columns, grouping)


def _open_folder(path: Path, dataset, columns, grouping):
    if dataset == "urbansound8k" or (dataset is None and (path / METADATA_CSV).is_file()):
        _refuse({**columns, **grouping}, "the UrbanSound8K layout")
        return FolderSource(path)
    if dataset in ("esc50", "esc10") or (dataset is None and (path / "meta" / "esc50.csv").is_file()):
        _refuse({**columns, **grouping}, "the ESC-50 layout")
        return ESC50Source(path, layout=dataset or "esc50")
    if dataset in (None, "table") and ((path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file()):
        return load_saved(path, **columns, **grouping)
    parquet_files = sorted(path.rglob("*.parquet")) if dataset in (None, "table") else []
    if parquet_files:
        return load_parquet(parquet_files, **columns, **grouping)
    if dataset == "folders" or (dataset is None and looks_like_class_folders(path)):
        _refuse(columns, "class folders (the folder names are the classes)")
        return ClassFolderSource(path, **grouping)
    raise SourceError(
        f"Cannot tell what {os.fspath(path)!r} holds: no {METADATA_CSV} (UrbanSound8K), no meta/esc50.csv "
        f"(ESC-50), no save_to_disk files or .parquet files, and no class folders of audio files. "
        f"For a table of clips, give it with --metadata FILE."
    )


def _check_options(dataset, assign_folds, classes):
    if dataset is not None and dataset not in DATASETS:
        raise InvalidParameterError(f"dataset must be one of {DATASETS}; got {dataset!r}.")
    if assign_folds is not None and (isinstance(assign_folds, bool) or not isinstance(assign_folds, int)
                                     or assign_folds < 2):
        raise InvalidParameterError(f"assign_folds must be an int of at least 2; got {assign_folds!r}.")
    if classes is not None and (isinstance(classes, str) or not all(isinstance(c, str) for c in classes)):
        raise InvalidParameterError(f"classes must be a sequence of class names; got {classes!r}.")


def _refuse(options, what):
    """Refuse table options (``check_table``'s names or ``open_source``'s) that ``what`` has no use for."""
    if options:
        names = {v: k for k, v in _COLUMN_OPTIONS.items()}
        flags = ", ".join("--" + names.get(name, name).replace("_", "-") for name in options)
        raise SourceError(f"{flags} {'does' if len(options) == 1 else 'do'} not apply to {what}; leave "
                          f"{'it' if len(options) == 1 else 'them'} out.")
