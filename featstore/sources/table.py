"""Any table of clips: the checks every layout shares, and a CSV or TSV file of clips beside an audio folder.

:func:`check_table` turns a table (one row per clip; cells as text or typed)
into the checked rows of a source, given which column plays which part. It
decides, once and from the whole table:

* the classes: the ``classes`` given first; else, with a class-id column, the
  ids in increasing order, each checked to name one class and each class to have
  one id; else the class names in natural order (``"2"`` before ``"10"``). A class
  absent from some fold keeps its index everywhere;
* the folds: integers, or split names such as ``train``/``validation``/``test``
  kept as named folds; or, with ``assign_folds=K``, folds 1..K from a stable hash
  of each clip's recording (TensorFlow's Speech Commands method), so that adding a
  clip never moves another and a recording's clips share a fold; each class is
  spread over the folds by the same hash, so the folds are balanced per class on
  average, not exactly;
* the recordings (groups): a column, or a regular expression on the file name.

Rows that cannot be used are set aside with the reason (a blank or non-integer
cell, a path that leaves the audio folder, a duplicate path, a cell that holds
several labels, a class not among those given) and the others go on. What makes
the whole table ambiguous (a missing column, an id naming two classes) is one
:class:`~featstore.exceptions.SourceError`.
"""

import dataclasses
import hashlib
import os
import re
from pathlib import Path, PurePosixPath

import pandas as pd

from ..exceptions import SourceError
from .base import FILE, Columns, Source, clip_row, rejection
from .cells import BadCell, is_blank, parse_float, parse_int, parse_text

__all__ = [
    "AUDIO_SUFFIXES", "CheckedTable", "TableSource", "check_table", "fold_order", "natural_key", "read_table",
    "unlisted_audio",
]

# What soundfile (libsndfile) reads.
AUDIO_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc",
                            ".au", ".snd", ".w64", ".caf"})
# Split names in the order a reader expects them; other names follow in natural order.
SPLIT_ORDER = ("train", "training", "valid", "validation", "val", "dev", "development", "test", "testing", "eval",
               "evaluation")
_LABEL_SEPARATORS = re.compile(r"[,;|]")


def natural_key(name: str):
    """Sort key that puts ``"class2"`` before ``"class10"`` and ``"2"`` before ``"10"``."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", str(name))]


def fold_order(folds) -> tuple:
    """Folds in the order to show them: integers ascending, else split names (train, ..., test) first."""
    folds = set(folds)
    if all(isinstance(f, int) for f in folds):
        return tuple(sorted(folds))
    rank = {name: i for i, name in enumerate(SPLIT_ORDER)}
    return tuple(sorted(folds, key=lambda f: (rank.get(str(f).lower(), len(rank)), natural_key(f))))


def read_table(path, *, header: str | None = None, sep: str | None = None, what: str = "a metadata file") -> pd.DataFrame:
    """Read a CSV or TSV file with every cell as text (a blank cell is ``""``).

    Parameters
    ----------
    path : str or Path
    header : str, optional
        The header line expected, named in the message about an empty file.
    what : str, default="a metadata file"
        What the file is, in that message.
    sep : str, optional
        The separator; by default a tab for ``.tsv``/``.tab`` files or a first
        line with tabs and no commas, a semicolon for a first line with
        semicolons only (as spreadsheets write CSV in some locales), else a
        comma. A byte-order mark at the start is dropped.

    Raises
    ------
    SourceError
        If the file cannot be read, is not UTF-8 text, is empty or is not CSV.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig") as f:
            first = f.readline()
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
            f"{exc.start}). Save it as UTF-8."
        ) from exc
    except OSError as exc:
        raise SourceError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if sep is None:
        tabbed = path.suffix.lower() in (".tsv", ".tab") or ("\t" in first and "," not in first)
        sep = "\t" if tabbed else ";" if ";" in first and "," not in first else ","
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=sep)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
            f"{exc.start}). Save it as UTF-8."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        expected = f": {what} starts with the header line {header}" if header else ""
        raise SourceError(f"{path} is empty{expected}.") from exc
    except pd.errors.ParserError as exc:
        raise SourceError(f"{path} is not a readable CSV file ({exc}).") from exc


def audio_files(folder: Path) -> list:
    """The audio files under ``folder`` (hidden ones and those in hidden folders left out), relative, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(dirpath).relative_to(folder)
        found += [(base / name).as_posix() for name in sorted(filenames)
                  if not name.startswith(".") and Path(name).suffix.lower() in AUDIO_SUFFIXES]
    return found


def unlisted_audio(folder: Path, listed) -> list:
    """The audio files under ``folder`` that ``listed`` (paths relative to it) does not name."""
    if not Path(folder).is_dir():
        return []
    names = {_normalised(p) for p in listed if not is_blank(p)}
    return [f for f in audio_files(Path(folder)) if f not in names]


def _normalised(path) -> str:
    return os.path.normpath(str(path).strip().replace("\\", "/")).replace(os.sep, "/")


@dataclasses.dataclass
class CheckedTable:
    """What :func:`check_table` decided: the usable rows and the facts of the whole table."""

    rows: dict
    rejected: list
    class_names: tuple
    folds: tuple
    columns: Columns
    schema: dict
    class_ids: tuple | None = None


def _column_kind(values) -> str:
    """``"int"``, ``"float"`` or ``"str"``: the narrowest type every (non-blank) cell of a column has."""
    for kind, parse in (("int", parse_int), ("float", parse_float)):
        try:
            for value in values:
                parse("", value)
        except BadCell:
            continue
        return kind
    return "str"


_PARSE = {"int": parse_int, "float": parse_float, "str": parse_text}


def _group_reader(pattern):
    """A function ``file name -> recording or None`` from a regular expression."""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise SourceError(f"--group-pattern {pattern!r} is not a valid regular expression ({exc}).") from None

    def group_of(path: str):
        match = regex.search(PurePosixPath(path).name)
        if match is None:
            return None
        if "group" in regex.groupindex:
            return match.group("group")
        return match.group(1) if regex.groups else match.group(0)

    return group_of


def stable_fold(key: str, n_folds: int) -> int:
    """Fold 1..``n_folds`` of a recording, from a hash of its name alone: other clips never move it."""
    return 1 + int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % n_folds


def check_table(frame: pd.DataFrame, *, path: str, label: str | None = None, class_id: str | None = None,
                fold: str | None = None, group: str | None = None, classes=None, assign_folds: int | None = None,
                group_pattern: str | None = None, relative_paths: bool = True, what: str = "the table",
                no_folds_hint: str = "name its fold column with --fold-column") -> CheckedTable:
    """Check every row of a table of clips and decide its classes and folds.

    Parameters
    ----------
    frame : DataFrame
        One row per clip; cells as text (a CSV read by :func:`read_table`) or typed.
    path, label, class_id, fold, group : str or None
        The columns that hold each clip's file path, class name, class id, fold
        and recording. ``path`` and one of ``label``/``class_id`` are required.
    classes : sequence of str, optional
        The class names in label order; rows of other classes are set aside.
    assign_folds : int, optional
        Without a fold column: make this many folds (see the module docstring).
    group_pattern : str, optional
        A regular expression whose group ``group`` (or first group, or whole
        match) is the recording of a clip, searched in its file name.
    relative_paths : bool, default=True
        Whether paths are relative to an audio folder (and must stay inside it).
    what : str
        The table's name in messages (e.g. the file name).
    no_folds_hint : str
        How to give the folds, for the message about a table without any.

    Returns
    -------
    CheckedTable
        Its rows hold every column of ``frame``, typed by ``schema`` (plus
        ``fold`` or ``group`` columns made by ``assign_folds`` and
        ``group_pattern``), and the keys of :func:`~featstore.sources.base.clip_row`.

    Raises
    ------
    SourceError
        A column is missing, the options contradict each other, or the table is
        ambiguous: an id names two classes, or a class has two ids.
    """
    if label is None and class_id is None:
        raise SourceError(f"{what}: say which column holds the classes (--label-column and/or --class-id-column); "
                          f"its columns are {list(frame.columns)}.")
    if fold is not None and assign_folds is not None:
        raise SourceError(f"{what}: give the folds by a column (--fold-column) or by --assign-folds, not both.")
    if group is not None and group_pattern is not None:
        raise SourceError(f"{what}: give the recordings by a column (--group-column) or by --group-pattern, not both.")
    named = {"path": path, "label": label, "class id": class_id, "fold": fold, "group": group}
    missing = [f"{column!r} ({part})" for part, column in named.items() if column is not None and column not in frame]
    if missing:
        raise SourceError(f"{what} has no column {', '.join(missing)}; its columns are {list(frame.columns)}.")
    if fold is None and assign_folds is None:
        raise SourceError(f"{what} has no folds: {no_folds_hint}, or make K folds with --assign-folds K (e.g. 5).")
    group_of = _group_reader(group_pattern) if group_pattern is not None else None

    records = frame.to_dict("records")
    int_folds = fold is None or any(_is_int(r[fold]) for r in records)
    usable, rejected, first_row_of = {}, [], {}
    for position, raw in enumerate(records):
        cells = _Cells(raw, path=path, label=label, class_id=class_id, fold=fold, group=group)
        problems = cells.check(relative_paths=relative_paths, int_folds=int_folds)
        if cells.file is not None:
            key = _normalised(cells.file) if relative_paths else cells.file
            if key in first_row_of:
                problems.append(f"duplicate of row {first_row_of[key] + 1} (the same path)")
            else:
                first_row_of[key] = position
        if problems:
            rejected.append(_rejected(raw, cells, problems, position))
        else:
            usable[position] = cells
    if group_of is not None and usable:
        found = {p: group_of(c.file) for p, c in usable.items()}
        if not any(g is not None for g in found.values()):
            example = next(iter(usable.values())).file
            raise SourceError(f"--group-pattern {group_pattern!r} matches none of the {len(usable)} file names "
                              f"(e.g. {PurePosixPath(example).name!r}); fix the pattern or leave it out.")
        for p, cells in usable.items():
            cells.group = found[p] if found[p] is not None else PurePosixPath(cells.file).stem

    class_names, index_of, class_ids = _classes(usable, classes, label, class_id, what)
    for position in list(usable):
        cells = usable[position]
        name = cells.label if label is not None else cells.class_id
        if name not in index_of:
            rejected.append(_rejected(records[position], cells, [
                f"class {name!r} is not among the classes given ({', '.join(map(str, class_names))})"], position))
            del usable[position]
    if assign_folds is not None:
        for cells in usable.values():
            cells.fold = stable_fold(str(cells.group if cells.group is not None else cells.file), assign_folds)
    rejected.sort(key=lambda r: r.pop("_position"))

    schema, extra = _schema(frame, usable, path, label, fold, assign_folds, group_pattern)
    columns = Columns(path=path, label=label, class_id=class_id, fold=fold or extra.get("fold"),
                      group=group or extra.get("group"))
    rows = {}
    for position, cells in usable.items():
        values = {}
        for column, kind in schema.items():
            if column == extra.get("fold"):
                values[column] = cells.fold
            elif column == extra.get("group"):
                values[column] = str(cells.group)
            elif column == fold:
                values[column] = cells.fold
            else:
                raw = records[position][column]
                values[column] = "" if is_blank(raw) else _PARSE[kind](column, raw)
        key = cells.label if label is not None else cells.class_id
        rows[position] = clip_row(values, file=cells.file, fold=cells.fold, label=index_of[key],
                                  class_cell=cells.class_id if class_id is not None else cells.label)
    folds = fold_order({cells.fold for cells in usable.values()})
    return CheckedTable(rows, rejected, class_names, folds, columns, schema, class_ids)


def _is_int(value) -> bool:
    try:
        parse_int("", value)
    except BadCell:
        return False
    return True


class _Cells:
    """The cells of one row that play a part, parsed; ``check`` lists what is wrong with them."""

    def __init__(self, raw, *, path, label, class_id, fold, group):
        self.raw = raw
        self.columns = {"path": path, "label": label, "class_id": class_id, "fold": fold, "group": group}
        self.file = None if is_blank(raw[path]) else parse_text(path, raw[path]).replace("\\", "/")
        self.label = self.class_id = self.fold = None
        self.group = None if group is None or is_blank(raw[group]) else parse_text(group, raw[group])

    def check(self, *, relative_paths: bool, int_folds: bool) -> list:
        problems = []
        path, label, class_id, fold = (self.columns[k] for k in ("path", "label", "class_id", "fold"))
        if self.file is None:
            problems.append(f"{path} is blank")
        elif relative_paths and (PurePosixPath(self.file).is_absolute() or re.match(r"[A-Za-z]:/", self.file)):
            problems.append(f"path {self.file!r} is absolute: list paths relative to the audio folder")
        elif relative_paths and _normalised(self.file).split("/")[0] == "..":
            problems.append(f"path {self.file!r} leaves the audio folder")
        if label is not None:
            if is_blank(self.raw[label]):
                problems.append(f"{label} is blank")
            else:
                self.label = parse_text(label, self.raw[label])
                parts = [p.strip() for p in _LABEL_SEPARATORS.split(self.label) if p.strip()]
                if len(parts) > 1:
                    problems.append(f"{label} {self.label!r} holds several labels ({', '.join(parts)}): "
                                    f"a clip has one class here")
        if class_id is not None:
            try:
                if is_blank(self.raw[class_id]):
                    raise BadCell(f"{class_id} is blank")
                self.class_id = parse_int(class_id, self.raw[class_id])
            except BadCell as exc:
                problems.append(str(exc))
        if fold is not None:
            value = self.raw[fold]
            if is_blank(value):
                problems.append(f"{fold} is blank")
            elif int_folds:
                try:
                    self.fold = parse_int(fold, value)
                except BadCell as exc:
                    problems.append(str(exc))
            else:
                self.fold = parse_text(fold, value)
                if "/" in self.fold or self.fold in (".", ".."):
                    problems.append(f"{fold} {self.fold!r} cannot name a fold (no '/')")
        return problems


def _rejected(raw, cells, problems, position) -> dict:
    klass = cells.columns["class_id"] or cells.columns["label"]
    record = rejection({}, f"invalid metadata: {'; '.join(problems)} (row {position + 1})",
                       file=cells.file or "", fold="" if cells.columns["fold"] is None else raw.get(cells.columns["fold"]),
                       class_cell=raw.get(klass, ""))
    record["_position"] = position
    return record


def _classes(usable: dict, classes, label, class_id, what):
    """``(class names, {label cell or id: index}, class ids)``, decided once from the whole table."""
    id_of = _one_to_one(usable, label, class_id, what) if label is not None and class_id is not None else {}
    if classes is not None:
        names = tuple(str(c) for c in classes)
        if len(set(names)) != len(names) or not names:
            raise SourceError(f"The classes given must be distinct names; got {list(names)}.")
        if label is not None:
            ids = tuple(id_of.get(name) for name in names) if class_id is not None else None
            return names, {name: i for i, name in enumerate(names)}, ids
        return names, {i: i for i in range(len(names))}, tuple(range(len(names)))
    if class_id is None:
        names = tuple(sorted({c.label for c in usable.values()}, key=natural_key))
        return names, {name: i for i, name in enumerate(names)}, None
    ids = sorted({c.class_id for c in usable.values()})
    if label is None:
        return tuple(str(i) for i in ids), {i: rank for rank, i in enumerate(ids)}, tuple(ids)
    name_of = {i: name for name, i in id_of.items()}
    names = tuple(name_of[i] for i in ids)
    return names, {name: rank for rank, name in enumerate(names)}, tuple(ids)


def _one_to_one(usable: dict, label, class_id, what) -> dict:
    """``{class name: id}``, once every id is seen to name one class and every class to have one id."""
    name_of, id_of = {}, {}
    for cells in usable.values():
        name_of.setdefault(cells.class_id, set()).add(cells.label)
        id_of.setdefault(cells.label, set()).add(cells.class_id)
    for i, found in name_of.items():
        if len(found) > 1:
            raise SourceError(f"{what}: class id {i} ({class_id}) names several classes ({', '.join(sorted(found))}) "
                              f"in {label}; each id must name one class. Fix the table, or leave out --class-id-column.")
    for name, found in id_of.items():
        if len(found) > 1:
            raise SourceError(f"{what}: class {name!r} ({label}) has several ids ({', '.join(map(str, sorted(found)))}) "
                              f"in {class_id}; each class must have one id. Fix the table, or leave out "
                              f"--class-id-column.")
    return {name: next(iter(found)) for name, found in id_of.items()}


def _schema(frame, usable, path, label, fold, assign_folds, group_pattern):
    """Each stored column's kind, and the names of the columns made here (``{"fold": ..., "group": ...}``)."""
    schema, extra = {}, {}
    for column in frame.columns:
        values = [c.raw[column] for c in usable.values() if not is_blank(c.raw[column])]
        if column == fold:
            schema[column] = "int" if all(isinstance(c.fold, int) for c in usable.values()) else "str"
        elif column in (path, label):
            schema[column] = "str"
        else:
            blank = len(values) < len(usable)
            schema[column] = "str" if blank else _column_kind(values)
    for part, made in (("fold", assign_folds is not None), ("group", group_pattern is not None)):
        if made:
            name = next(n for n in (part, f"{part}_", f"assigned_{part}") if n not in schema)
            schema[name] = "int" if part == "fold" else "str"
            extra[part] = name
    return schema, extra


class TableSource(Source):
    """A CSV or TSV file of clips beside their audio folder: ``--metadata FILE --audio-dir DIR``.

    Parameters
    ----------
    metadata : str or Path
        The table: one row per clip, a header line naming the columns.
    audio_dir : str or Path, optional
        The folder the paths are relative to (default: the table's folder).
    path_column : str, default="file_name"
        The column of file paths (Hugging Face AudioFolder's name).
    label_column, class_id_column, fold_column, group_column : str, optional
    classes, assign_folds, group_pattern
        See :func:`check_table`.

    Attributes
    ----------
    metadata : DataFrame
        The table as read, every cell as text.
    rows, rejected, class_names, folds, columns, schema, unlisted
        See :class:`~featstore.sources.base.Source`.
    """

    name = "table"
    layout = "table"

    def __init__(self, metadata, audio_dir=None, *, path_column="file_name", label_column=None,
                 class_id_column=None, fold_column=None, group_column=None, classes=None, assign_folds=None,
                 group_pattern=None):
        self.table_path = Path(metadata)
        if not self.table_path.is_file():
            raise SourceError(f"Metadata not found: {self.table_path} is not a file. Give the CSV or TSV that "
                              f"lists the clips (--metadata).")
        self.audio_dir = Path(audio_dir) if audio_dir is not None else self.table_path.parent
        if not self.audio_dir.is_dir():
            raise SourceError(f"Audio folder not found: {self.audio_dir} is not a folder (--audio-dir).")
        self._read(read_table(self.table_path), path=path_column, label=label_column, class_id=class_id_column,
                   fold=fold_column, group=group_column, classes=classes, assign_folds=assign_folds,
                   group_pattern=group_pattern, what=self.table_path.name)
        self.description = f"table {self.table_path.name} (audio in {self.audio_dir.name})"

    def _read(self, frame, *, listed=None, **options):
        """Check ``frame``; ``listed``: every path the dataset lists (default: the table's)."""
        self.metadata = frame
        checked = check_table(frame, **options)
        self.rows, self.rejected = checked.rows, checked.rejected
        self.class_names, self.class_ids, self.folds = checked.class_names, checked.class_ids, checked.folds
        self.columns, self.schema = checked.columns, checked.schema
        self.unlisted = unlisted_audio(self.audio_dir, frame[options["path"]] if listed is None else listed)

    def audio_of(self, position, row):
        return str(self.audio_dir / row[FILE])
