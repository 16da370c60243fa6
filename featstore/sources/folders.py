"""One folder per class: ``ROOT/<class>/*.wav``, or ``ROOT/<fold or split>/<class>/*.wav``.

The classes are the folder names, in natural order (numeric names in numeric
order), taken once from the whole tree, so that a class missing from one split
keeps its label, and an empty class folder is still a class. Hidden folders and
folders whose name starts with ``_`` (Speech Commands' ``_background_noise_``) are
not classes. With a fold level, folder names ``3`` or ``fold3`` are fold 3, other
names (``train``, ``test``) are named folds. Without one, ``assign_folds=K`` makes
K folds (see :mod:`featstore.sources.table`).
"""

import re
from pathlib import Path

import pandas as pd

from ..exceptions import SourceError
from .table import AUDIO_SUFFIXES, TableSource, audio_files, natural_key

__all__ = ["ClassFolderSource", "looks_like_class_folders"]

_FOLD_NAME = re.compile(r"(?:fold)?(\d+)", re.IGNORECASE)


def _subfolders(folder: Path) -> list:
    """The folders in ``folder`` that may be classes or folds (not hidden, not ``_...``), naturally sorted."""
    return sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))),
                  key=lambda p: natural_key(p.name))


def _holds_audio(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES for p in folder.iterdir())


def looks_like_class_folders(root: Path) -> bool:
    """Whether ``root`` has subfolders with audio files in them, or in their own subfolders."""
    return any(_holds_audio(sub) or any(_holds_audio(s) for s in _subfolders(sub)) for sub in _subfolders(root))


def _fold_of(name: str):
    match = _FOLD_NAME.fullmatch(name)
    return int(match.group(1)) if match else name


class ClassFolderSource(TableSource):
    """A folder per class (under an optional folder per fold or split) as a source.

    Parameters
    ----------
    root : str or Path
    classes : sequence of str, optional
        The class names in label order (default: the folder names, naturally sorted).
    assign_folds : int, optional
        Without fold folders: make this many folds.
    group_pattern : str, optional
        A regular expression that reads a clip's recording from its file name
        (its group ``group``, or first group), so that a recording's clips share a fold.

    Attributes
    ----------
    metadata : DataFrame
        The table made from the tree: ``file`` (relative to ``root``),
        ``class`` and, with fold folders, ``fold``.
    rows, rejected, class_names, folds, columns, schema
        See :class:`~featstore.sources.base.Source`.
    empty_classes : list of str
        Class folders without audio files (still classes).
    """

    name = "folder"
    layout = "folders"

    def __init__(self, root, *, classes=None, assign_folds=None, group_pattern=None):
        self.root = self.audio_dir = Path(root)
        if not self.root.is_dir():
            raise SourceError(f"{self.root} is not a folder.")
        top = _subfolders(self.root)
        with_audio = [sub for sub in top if _holds_audio(sub)]
        fold_level = not with_audio
        if with_audio and len(with_audio) < len(top) and any(_subfolders(sub) for sub in top if sub not in with_audio):
            raise SourceError(
                f"{self.root} mixes class folders ({with_audio[0].name}/ holds audio files) with folders of "
                f"folders ({next(s for s in top if s not in with_audio).name}/): use ROOT/<class>/*.wav or "
                f"ROOT/<fold or split>/<class>/*.wav throughout.")
        rows, class_folders = [], set()
        for fold_folder in top if fold_level else [None]:
            for class_folder in _subfolders(fold_folder) if fold_level else top:
                class_folders.add(class_folder.name)
                for file in audio_files(class_folder):
                    if "/" in file:
                        continue  # deeper folders are not part of this layout
                    row = {"file": (class_folder / file).relative_to(self.root).as_posix(), "class": class_folder.name}
                    if fold_level:
                        row["fold"] = _fold_of(fold_folder.name)
                    rows.append(row)
        if not rows:
            raise SourceError(f"{self.root} has no audio files in class folders (ROOT/<class>/*.wav or "
                              f"ROOT/<fold or split>/<class>/*.wav).")
        names = sorted(class_folders, key=natural_key) if classes is None else classes
        self.empty_classes = [c for c in names if c not in {r["class"] for r in rows}]
        frame = pd.DataFrame(rows, columns=["file", "class", *(["fold"] if fold_level else [])])
        if fold_level and assign_folds is not None:
            raise SourceError(f"{self.root} has fold folders ({top[0].name}/, ...): leave out --assign-folds.")
        self._read(frame, path="file", label="class", fold="fold" if fold_level else None, classes=names,
                   assign_folds=assign_folds, group_pattern=group_pattern, what=str(self.root),
                   no_folds_hint="put the class folders in fold folders (ROOT/<fold>/<class>/)")
        self.unlisted = []
        self.description = f"class folders {self.root.name}"
