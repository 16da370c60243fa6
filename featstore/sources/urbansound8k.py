"""The UrbanSound8K layout: ``ROOT/metadata/UrbanSound8K.csv`` + ``ROOT/audio/foldN/``, read strictly.

Every cell is parsed with the type its column must have, before any audio is
decoded. A row with a blank, malformed or out-of-range cell, or whose
``slice_file_name`` repeats an earlier row's, is set aside with the reason, and
the other rows are unaffected: a blank ``fold`` cell cannot turn the whole
column into floats, as it does when pandas guesses the types. The facts about
the dataset are in :mod:`featstore.urbansound8k`.
"""

from pathlib import Path

import pandas as pd

from ..exceptions import SourceError
from ..urbansound8k import AUDIO_DIR, CLASS_NAMES, FOLDS, METADATA_COLUMNS, METADATA_CSV
from .base import Columns, Source, clip_row, rejection
from .cells import BadCell as _BadCell
from .cells import is_blank as _is_blank
from .cells import parse_float as _number
from .cells import parse_int as _integer
from .cells import parse_text as _text
from .table import read_table, unlisted_audio

__all__ = ["COLUMNS", "SCHEMA", "FolderSource", "check_metadata", "missing_columns", "read_metadata_csv"]

COLUMNS = Columns(path="slice_file_name", label="class", class_id="classID", fold="fold", group="fsID")
SCHEMA = {"slice_file_name": "str", "fsID": "int", "start": "float", "end": "float", "salience": "int",
          "fold": "int", "classID": "int", "class": "str"}

_PARSERS = {
    "slice_file_name": _text,
    "fsID": _integer,
    "start": _number,
    "end": _number,
    "salience": _integer,
    "fold": _integer,
    "classID": _integer,
    "class": _text,
}


def _check_ranges(row: dict) -> list:
    problems = []
    name = row["slice_file_name"]
    if name in (".", "..") or "/" in name or "\\" in name:
        problems.append(f"slice_file_name {name!r} is not a file name")
    if row["fold"] not in FOLDS:
        problems.append(f"fold {row['fold']} is not one of {FOLDS[0]}..{FOLDS[-1]}")
    class_id = row["classID"]
    if not 0 <= class_id < len(CLASS_NAMES):
        problems.append(f"classID {class_id} is not one of 0..{len(CLASS_NAMES) - 1}")
    elif row["class"] != CLASS_NAMES[class_id]:
        problems.append(f"class {row['class']!r} does not match classID {class_id} ({CLASS_NAMES[class_id]})")
    if row["salience"] not in (1, 2):
        problems.append(f"salience {row['salience']} is not 1 (foreground) or 2 (background)")
    if row["fsID"] < 0:
        problems.append(f"fsID {row['fsID']} is negative")
    if row["start"] < 0:
        problems.append(f"start {row['start']} is negative")
    if row["end"] < row["start"]:
        problems.append(f"end {row['end']} is before start {row['start']}")
    return problems


def _parse_row(raw: dict) -> tuple:
    """``(typed row, [])`` or ``(None, [problems])`` for one row of raw cells."""
    row, problems = {}, []
    for column, parse in _PARSERS.items():
        value = raw.get(column)
        try:
            if _is_blank(value):
                raise _BadCell(f"{column} is blank")
            row[column] = parse(column, value)
        except _BadCell as exc:
            problems.append(str(exc))
    if problems:
        return None, problems
    problems = _check_ranges(row)
    return (None, problems) if problems else (row, [])


def missing_columns(columns) -> list:
    """The UrbanSound8K metadata columns absent from ``columns``."""
    return [c for c in METADATA_COLUMNS if c not in columns]


def check_metadata(frame: pd.DataFrame) -> tuple[dict, list]:
    """Parse and check every row of a metadata table.

    Parameters
    ----------
    frame : DataFrame
        One row per clip with the columns of
        :data:`~featstore.urbansound8k.METADATA_COLUMNS`, as text (as
        :func:`read_metadata_csv` reads them) or typed.

    Returns
    -------
    rows : dict of int to dict
        The usable rows by position (0-based, in table order), each
        ``{column: value}`` with ``fsID``, ``salience``, ``fold`` and ``classID``
        as int, ``start`` and ``end`` as float, the names as str, and the keys
        of :func:`~featstore.sources.base.clip_row` (the label is the classID).
    rejected : list of dict
        One :func:`~featstore.sources.base.rejection` per unusable row; its reason starts with
        ``"invalid metadata: "`` and ends with the row's number (1-based, the
        header not counted).
    """
    rows, rejected, first_row_of = {}, [], {}
    for position, raw in enumerate(frame[list(METADATA_COLUMNS)].to_dict("records")):
        row, problems = _parse_row(raw)
        name = None if _is_blank(raw.get("slice_file_name")) else _text("slice_file_name", raw["slice_file_name"])
        if name in first_row_of:
            problems.append(f"duplicate of row {first_row_of[name] + 1} (the same slice_file_name)")
        elif name is not None:
            first_row_of[name] = position
        if problems:
            reason = f"invalid metadata: {'; '.join(problems)} (row {position + 1})"
            rejected.append(rejection({}, reason, file=raw.get("slice_file_name"), fold=raw.get("fold"),
                                      class_cell=raw.get("classID")))
        else:
            rows[position] = clip_row(row, file=row["slice_file_name"], fold=row["fold"], label=row["classID"],
                                      class_cell=row["classID"])
    return rows, rejected


def read_metadata_csv(path) -> pd.DataFrame:
    """Read an UrbanSound8K metadata CSV with every cell as text (a blank cell is ``""``).

    Raises
    ------
    SourceError
        If the file is not UTF-8 text, is empty, is not CSV, or lacks a column.
    """
    frame = read_table(path, header=",".join(METADATA_COLUMNS), sep=",", what="an UrbanSound8K metadata file")
    missing = missing_columns(frame.columns)
    if missing:
        raise SourceError(f"{path} lacks the columns {missing}; UrbanSound8K metadata has {list(METADATA_COLUMNS)}.")
    return frame


class UrbanSound8KTable(Source):
    """What the UrbanSound8K sources share: the facts of the dataset, and the checked rows of a table."""

    layout = "urbansound8k"
    columns = COLUMNS
    schema = SCHEMA
    class_names = CLASS_NAMES
    class_ids = tuple(range(len(CLASS_NAMES)))
    clip_seconds = 4.0

    def _check(self, frame: pd.DataFrame):
        self.metadata = frame
        self.rows, self.rejected = check_metadata(frame)
        self.folds = tuple(sorted({row["fold"] for row in self.rows.values()}))


class FolderSource(UrbanSound8KTable):
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
        The usable rows by position, typed (see :func:`check_metadata`).
    rejected : list of dict
        The rows set aside, each with its ``reason``.
    unlisted : list of str
        Audio files under ``audio/`` that the CSV does not list.
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
        self._check(read_metadata_csv(csv))
        self.description = f"UrbanSound8K folder {self.root.name}"
        listed = [f"fold{str(fold).strip()}/{str(name).strip()}"
                  for fold, name in zip(self.metadata["fold"], self.metadata["slice_file_name"])]
        self.unlisted = unlisted_audio(self.root / AUDIO_DIR, listed)

    def audio_of(self, position, row):
        return str(self.root / AUDIO_DIR / f"fold{row['fold']}" / row["slice_file_name"])
