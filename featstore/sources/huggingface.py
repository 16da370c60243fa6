"""A Hugging Face ``datasets.Dataset`` as a source: on the hub, in parquet files, or saved with ``save_to_disk``.

The dataset needs an ``audio`` column. Its layout is recognised from its
columns: UrbanSound8K's (read as strictly as the download's CSV), ESC-50's (or
ESC-10's, when asked), or any other table of clips given by the column options
(:func:`~featstore.sources.table.check_table`). A ``ClassLabel`` column gives the
class names. The audio is read undecoded (``Audio(decode=False)``) and decoded
by our own reader, so every source goes through the same decoding and checks.
"""

import contextlib
from typing import Iterator

import pandas as pd

from ..exceptions import SourceError
from ..urbansound8k import METADATA_COLUMNS as URBANSOUND8K_COLUMNS
from .base import ClipRef, Source
from .esc50 import ESC50_OPTIONS, esc50_table
from .table import check_table
from .urbansound8k import UrbanSound8KTable

__all__ = ["HuggingFaceSource", "load_hub", "load_parquet", "load_saved"]

OFFLINE_ALTERNATIVES = (
    "Build from a local copy instead: the original UrbanSound8K or ESC-50 folder, a folder of parquet files, "
    "or a folder written by datasets' save_to_disk; or try the project on generated data with the source "
    "'synthetic'."
)
AUDIO = "audio"
PATH = "file_name"  # the column made from the audio's own paths when no --path-column is given


def _layout_of(columns, layout, table_options, description):
    """The layout a dataset's columns say: ``"urbansound8k"``, ``"esc50"``/``"esc10"`` or ``"table"``.

    Without table options, a dataset with most of a preset's columns is taken for
    that preset, and the columns it lacks are named.
    """
    presets = {"urbansound8k": URBANSOUND8K_COLUMNS, "esc50": tuple(ESC50_OPTIONS.values()),
               "esc10": (*ESC50_OPTIONS.values(), "esc10")}
    candidates = [layout] if layout in presets else [] if layout == "table" or table_options else list(presets)[:2]
    for name in candidates:
        expected = presets[name]
        missing = [c for c in expected if c not in columns]
        if not missing:
            return name
        if layout == name or len(missing) <= len(expected) // 2:
            raise SourceError(f"{description} lacks the columns {missing}; expected an 'audio' column and "
                              f"{list(expected)}.")
    return "table"


class HuggingFaceSource(UrbanSound8KTable):
    """A ``datasets.Dataset`` with an ``audio`` column and the metadata of its clips.

    Parameters
    ----------
    dataset : datasets.Dataset
    description : str
    layout : {"urbansound8k", "esc50", "esc10", "table"} or None, default=None
        None recognises UrbanSound8K's and ESC-50's columns, else reads a table.
    split_column : str, optional
        A column that names the split each row came from (made when the splits
        of a ``DatasetDict`` are put together): a table without a fold column
        or ``assign_folds`` takes its splits as named folds.
    **table_options
        For a table: ``path``, ``label``, ``class_id``, ``fold``, ``group``,
        ``classes``, ``assign_folds``, ``group_pattern`` of
        :func:`~featstore.sources.table.check_table`. Without ``path``, the
        audio's own paths are the clips' names.

    Attributes
    ----------
    metadata : DataFrame
        The dataset's columns but the audio, typed.
    rows, rejected, class_names, folds, columns, schema
        See :class:`~featstore.sources.base.Source`.
    """

    name = "huggingface"

    def __init__(self, dataset, description: str, *, layout=None, split_column=None, **table_options):
        from datasets import Audio

        if AUDIO not in dataset.column_names:
            raise SourceError(f"{description} has no 'audio' column; its columns are {dataset.column_names}.")
        self.description = description
        self.dataset = dataset.cast_column(AUDIO, Audio(decode=False))
        others = [c for c in dataset.column_names if c != AUDIO]
        self.layout = _layout_of(others, layout, table_options, description)
        if self.layout != "table" and table_options:
            given = ", ".join(sorted(table_options))
            raise SourceError(f"{description} has the {self.layout} columns, whose parts are fixed; leave out "
                              f"the options {given}.")
        frame = pd.DataFrame(self.dataset.select_columns(others).to_dict()) if others else pd.DataFrame(
            index=range(len(dataset)))
        if self.layout == "urbansound8k":
            self._check(frame[list(URBANSOUND8K_COLUMNS)])
            return
        if self.layout == "table":
            self.clip_seconds = None
            if split_column is not None and table_options.get("fold") is None and table_options.get("assign_folds") is None:
                table_options["fold"] = split_column
            frame, table_options = self._table_frame(frame, table_options)
            checked = check_table(frame, **table_options, relative_paths=False, what=description,
                                  no_folds_hint="name its fold column with --fold-column")
        else:
            frame, checked = esc50_table(frame, layout=self.layout, what=description, relative_paths=False)
            self.clip_seconds = 5.0
        self.metadata = frame
        self.rows, self.rejected = checked.rows, checked.rejected
        self.class_names, self.class_ids, self.folds = checked.class_names, checked.class_ids, checked.folds
        self.columns, self.schema = checked.columns, checked.schema

    def _table_frame(self, frame, options):
        """The frame and options of a table: ClassLabel names as text, a path column if none is named."""
        features = self.dataset.features
        options = dict(options)
        for part in ("label", "class_id"):
            column = options.get(part)
            names = getattr(features.get(column), "names", None) if column else None
            if names is not None and part == "label":  # a ClassLabel: its ints name classes
                frame[column] = [names[i] if isinstance(i, int) and 0 <= i < len(names) else i for i in frame[column]]
                options.setdefault("classes", names)
            elif names is not None and options.get("classes") is None and options.get("label") is None:
                options["classes"] = names
        if options.get("path") is None:
            frame = frame.assign(**{PATH: self._audio_paths()}) if PATH not in frame else frame
            options["path"] = PATH
        return frame, options

    def _audio_paths(self):
        paths = []
        for position, audio in enumerate(self._audio()):
            paths.append((audio or {}).get("path") or f"clip{position}")
        return paths

    def _audio(self):
        column = self.dataset.select_columns([AUDIO])
        # Iterating in slices keeps memory bounded and avoids per-row Arrow overhead.
        for start in range(0, len(column), 256):
            yield from column[start : start + 256][AUDIO]

    def __len__(self):
        return len(self.dataset)

    def __iter__(self) -> Iterator[ClipRef]:
        for position, audio in enumerate(self._audio()):
            if position in self.rows:
                yield ClipRef(row=self.rows[position], audio=_audio_reference(audio))


def _audio_reference(audio):
    if audio is None:
        return b""
    if audio.get("bytes"):
        return audio["bytes"]
    return audio.get("path") or b""


SPLIT = "split"


def _concatenate_splits(dataset_dict):
    """One dataset of all splits, and the column naming each row's split (None for a single split)."""
    from datasets import concatenate_datasets

    if len(dataset_dict) == 1:
        return next(iter(dataset_dict.values())), None
    splits = [split.add_column(SPLIT, [name] * len(split)) if SPLIT not in split.column_names else split
              for name, split in dataset_dict.items()]
    return concatenate_datasets(splits), SPLIT if all(SPLIT not in s.column_names for s in dataset_dict.values()) else None


def load_hub(dataset_id: str, **options) -> HuggingFaceSource:
    from datasets import load_dataset

    try:
        dataset = load_dataset(dataset_id)
    except (ConnectionError, OSError) as exc:
        raise SourceError(
            f"Could not load the Hugging Face dataset {dataset_id!r} ({exc}). The hub "
            f"may be unreachable from this machine. {OFFLINE_ALTERNATIVES}"
        ) from exc
    dataset, split_column = _concatenate_splits(dataset)
    return HuggingFaceSource(dataset, f"Hugging Face dataset {dataset_id}", split_column=split_column, **options)


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


def load_parquet(files: list, **options) -> HuggingFaceSource:
    from datasets import load_dataset

    with _reading(f"the parquet files {[str(f) for f in files][:3]}"):
        dataset = load_dataset("parquet", data_files=[str(f) for f in files], split="train")
    return HuggingFaceSource(dataset, f"parquet files ({len(files)})", **options)


def load_saved(folder, **options) -> HuggingFaceSource:
    from datasets import DatasetDict, load_from_disk

    with _reading(f"the saved dataset {folder}"):
        dataset = load_from_disk(str(folder))
    split_column = None
    if isinstance(dataset, DatasetDict):
        dataset, split_column = _concatenate_splits(dataset)
    return HuggingFaceSource(dataset, f"saved dataset {folder.name}", split_column=split_column, **options)
