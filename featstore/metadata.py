"""Reading and checking clip metadata: a typed row per usable clip, a reason per unusable one.

Every cell is parsed with the type its column must have, before any audio is
decoded. A row with a blank, malformed or out-of-range cell, or whose
``slice_file_name`` repeats an earlier row's, is set aside with the reason, and
the other rows are unaffected: a blank ``fold`` cell cannot turn the whole
column into floats, as it does when pandas guesses the types.
"""

import math
import numbers
import re

import pandas as pd

from .exceptions import SourceError
from .urbansound8k import CLASS_NAMES, FOLDS, METADATA_COLUMNS

__all__ = ["check_metadata", "missing_columns", "read_metadata_csv", "rejection"]

_INTEGER = re.compile(r"[+-]?\d+")


class _BadCell(ValueError):
    """One cell's problem, e.g. "fold is blank"."""


def _is_blank(value) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def _integer(column, value) -> int:
    if isinstance(value, bool):
        raise _BadCell(f"{column} {value!r} is not an integer")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)  # a typed column holding whole numbers as floats
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    raise _BadCell(f"{column} {value!r} is not an integer")


def _number(column, value) -> float:
    if isinstance(value, bool):
        raise _BadCell(f"{column} {value!r} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise _BadCell(f"{column} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise _BadCell(f"{column} {value!r} is not a finite number")
    return number


def _text(column, value) -> str:
    return value.strip() if isinstance(value, str) else str(value)


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


def rejection(row: dict, reason: str) -> dict:
    """The record of a clip left out of a build, as the store's ``/rejected`` table holds it."""
    return {
        "slice_file_name": str(row.get("slice_file_name")),
        "fold": row.get("fold"),
        "classID": row.get("classID"),
        "reason": reason,
    }


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
        as int, ``start`` and ``end`` as float, the names as str.
    rejected : list of dict
        One :func:`rejection` per unusable row; its reason starts with
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
            rejected.append(rejection(raw, reason))
        else:
            rows[position] = row
    return rows, rejected


def read_metadata_csv(path) -> pd.DataFrame:
    """Read an UrbanSound8K metadata CSV with every cell as text (a blank cell is ``""``).

    Raises
    ------
    SourceError
        If the file is not UTF-8 text, is empty, is not CSV, or lacks a column.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
            f"{exc.start}). Save it as UTF-8; the original UrbanSound8K.csv is plain ASCII."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise SourceError(
            f"{path} is empty: an UrbanSound8K metadata file starts with the header line "
            f"{','.join(METADATA_COLUMNS)}."
        ) from exc
    except pd.errors.ParserError as exc:
        raise SourceError(f"{path} is not a readable CSV file ({exc}).") from exc
    missing = missing_columns(frame.columns)
    if missing:
        raise SourceError(f"{path} lacks the columns {missing}; UrbanSound8K metadata has {list(METADATA_COLUMNS)}.")
    return frame
