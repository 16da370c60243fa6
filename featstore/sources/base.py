"""What every source is: a checked table of clips, each with its class, its fold and a reference to its audio.

A source reads and checks its whole metadata table when it is opened, so that bad
rows are known before any audio is decoded, and decides once, from the whole
table, the class names and the folds. Iterating it yields one :class:`ClipRef`
per usable row: the typed row and where its audio is (a path, or the encoded
bytes), decoded later by a worker.

Every usable row holds the dataset's own metadata columns (typed as
:attr:`Source.schema` says) and four keys featstore adds: ``_file``, the clip's
name as the dataset lists it; ``_fold``, its fold (an int, or a split name such as
``"train"``); ``_label``, its class as an index into :attr:`Source.class_names`;
``_class``, its class as the dataset writes it (the id, else the name), for the
record of a clip left out.
"""

import dataclasses
from typing import Iterator

__all__ = ["CLASS", "ClipRef", "Columns", "FILE", "FOLD", "LABEL", "Source", "clip_row", "rejection"]

FILE, FOLD, LABEL, CLASS = "_file", "_fold", "_label", "_class"


@dataclasses.dataclass
class ClipRef:
    """One clip to process: its metadata row and where its audio is."""

    row: dict
    audio: object  # str path or bytes


@dataclasses.dataclass(frozen=True)
class Columns:
    """Which metadata column plays which part; None where the dataset has no such column.

    Attributes
    ----------
    path : str
        The clip's file name or path (unique within the dataset).
    label : str or None
        The class name.
    class_id : str or None
        The class id (an int). The store's labels index the class names; for
        ids 0..n-1 in the names' order they equal the ids.
    fold : str
        The fold (an int) or split name.
    group : str or None
        The recording a clip was cut from: clips of one recording belong in one fold.
    """

    path: str
    label: str | None
    class_id: str | None
    fold: str
    group: str | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def clip_row(values: dict, *, file: str, fold, label: int, class_cell) -> dict:
    """A usable row: the dataset's typed ``values`` and featstore's own keys."""
    return {**values, FILE: file, FOLD: fold, LABEL: int(label), CLASS: str(class_cell)}


def rejection(row: dict, reason: str, *, file=None, fold=None, class_cell=None) -> dict:
    """The record of a clip left out of a build, as the store's ``/rejected`` table holds it.

    ``file``, ``fold`` and ``class_cell`` are the cells of a row that could not
    be typed; a usable row has its own.
    """
    return {
        "file": str(row.get(FILE, "") if file is None else file),
        "fold": str(row.get(FOLD, "") if fold is None else fold),
        "class": str(row.get(CLASS, "") if class_cell is None else class_cell),
        "reason": reason,
    }


class Source:
    """What every source shares: its facts and the context-manager protocol.

    Attributes
    ----------
    name : str
        What kind of source: ``"folder"``, ``"huggingface"``, ``"synthetic"``, ...
    layout : str
        The dataset layout: ``"urbansound8k"``, ``"esc50"``, ``"esc10"``,
        ``"table"`` or ``"folders"``.
    description : str
        One line naming the data, kept in the store.
    class_names : tuple of str
        Indexed by the labels.
    class_ids : tuple of int or None
        The dataset's id of each class (None where unknown), for a dataset
        with a class-id column; None for one without.
    folds : tuple
        The folds of the usable rows, ints or split names, in the dataset's order.
    columns : Columns
    schema : dict of str to str
        Each stored metadata column and its kind: ``"str"``, ``"int"`` or ``"float"``.
    clip_seconds : float or None
        The dataset's clip length, used unless the feature configuration says
        otherwise; None for datasets without one (the default 4 s then applies).
    rows : dict of int to dict
        The usable rows by position in the table.
    rejected : list of dict
        The rows set aside, with the reason for each (:func:`rejection`).
    unlisted : list of str
        Audio files found beside the listed ones that the table does not list.
    """

    name = "source"
    layout = "table"
    class_ids = None
    clip_seconds = None
    unlisted = ()

    @property
    def size(self) -> int:
        """Rows in the source's metadata (usable or not)."""
        return len(self)

    @property
    def info(self) -> dict:
        """What the source is, as JSON-ready values; a store built from it keeps them."""
        return {"name": self.name, "size": self.size}

    def audio_of(self, position: int, row: dict):
        """Where the audio of row ``position`` is: a path or the encoded bytes."""
        raise NotImplementedError

    def __len__(self):
        return len(self.metadata)

    def __iter__(self) -> Iterator[ClipRef]:
        for position, row in self.rows.items():
            yield ClipRef(row=row, audio=self.audio_of(position, row))

    def close(self):
        """Release what the source holds (nothing, unless a subclass says otherwise)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
