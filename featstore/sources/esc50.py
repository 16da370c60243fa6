"""The ESC-50 layout, and ESC-10 read from it: ``ROOT/meta/esc50.csv`` + ``ROOT/audio/*.wav``.

A table of clips (:mod:`featstore.sources.table`) with the columns fixed: path
``filename``, class ``category``, class id ``target``, fold ``fold``, recording
``src_file``; clips are 5 s. ESC-10 is the rows whose ``esc10`` cell is the text
``True`` (the CSV holds text: ``bool("False")`` would be true), their ids
``0, 1, 10, ...`` turned into labels 0..9 in that order, the names kept. The facts
about the dataset are in :mod:`featstore.esc50`.
"""

from pathlib import Path

import pandas as pd

from ..esc50 import AUDIO_DIR, CLIP_SECONDS, METADATA_COLUMNS, METADATA_CSV
from ..exceptions import SourceError
from .table import TableSource, check_table, read_table

__all__ = ["ESC50_OPTIONS", "ESC50Source", "esc10_rows", "LAYOUTS"]

# The table options of the layout (see featstore.sources.table.check_table).
ESC50_OPTIONS = {"path": "filename", "label": "category", "class_id": "target", "fold": "fold", "group": "src_file"}
LAYOUTS = ("esc50", "esc10")


def esc10_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The ESC-10 rows of an ESC-50 table: those whose ``esc10`` cell reads ``True`` (text or bool)."""
    return frame[[str(value).strip().lower() == "true" for value in frame["esc10"]]]


def _check_columns(frame: pd.DataFrame, what: str, layout: str):
    needed = [*ESC50_OPTIONS.values(), *(["esc10"] if layout == "esc10" else [])]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SourceError(f"{what} lacks the columns {missing}; ESC-50 metadata has {list(METADATA_COLUMNS)}.")


class ESC50Source(TableSource):
    """An ESC-50 download (or ESC-10, with ``layout="esc10"``) as a source.

    Parameters
    ----------
    root : str or Path
        The folder that holds ``meta/esc50.csv`` and ``audio/``.
    layout : {"esc50", "esc10"}, default="esc50"

    Attributes
    ----------
    metadata : DataFrame
        The CSV as read (ESC-10: its ESC-10 rows), every cell as text.
    rows, rejected, class_names, folds, columns, schema, unlisted
        See :class:`~featstore.sources.base.Source`.
    """

    name = "folder"
    clip_seconds = CLIP_SECONDS

    def __init__(self, root, *, layout="esc50"):
        if layout not in LAYOUTS:
            raise SourceError(f"layout must be one of {LAYOUTS}; got {layout!r}.")
        self.root = Path(root)
        self.layout = layout
        self.table_path = self.root / METADATA_CSV
        if not self.table_path.is_file():
            raise SourceError(f"Metadata not found: {self.table_path} does not exist. Point the source at the "
                              f"ESC-50 root folder, the one that holds meta/ and audio/.")
        self.audio_dir = self.root / AUDIO_DIR
        frame = read_table(self.table_path, header=",".join(METADATA_COLUMNS), sep=",", what="an ESC-50 metadata file")
        _check_columns(frame, str(self.table_path), layout)
        # ESC-10 leaves out the other classes' files on purpose: those are listed, not "unlisted"
        listed = frame["filename"]
        if layout == "esc10":
            frame = esc10_rows(frame).reset_index(drop=True)
            if frame.empty:
                raise SourceError(f"{self.table_path} has no ESC-10 rows (no esc10 cell reads True).")
        self._read(frame, listed=listed, **ESC50_OPTIONS, what=self.table_path.name)
        self.description = f"{'ESC-10' if layout == 'esc10' else 'ESC-50'} folder {self.root.name}"


def esc50_table(frame: pd.DataFrame, *, layout: str, what: str, relative_paths: bool):
    """:func:`check_table` of an ESC-50 table from another source (a Hugging Face copy)."""
    _check_columns(frame, what, layout)
    if layout == "esc10":
        frame = esc10_rows(frame)
    return frame, check_table(frame, **ESC50_OPTIONS, what=what, relative_paths=relative_paths)
