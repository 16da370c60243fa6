"""Errors raised by featstore. Each also inherits the builtin error it refines."""


class FeatstoreError(Exception):
    """Base class of every error featstore raises on purpose."""


class InvalidParameterError(FeatstoreError, ValueError):
    """An argument has the wrong type or is out of its range (``n_jobs=0``, ``seed=-1``, ...)."""


class OutputError(FeatstoreError, OSError):
    """An output cannot be written where asked: a read-only folder, a file where a folder should be."""


class SourceError(FeatstoreError, ValueError):
    """A dataset source cannot be found, reached or understood."""


class StoreExistsError(FeatstoreError, FileExistsError):
    """The output store exists and replacing it was not asked for."""


class StoreConfigError(FeatstoreError, ValueError):
    """A store was built with another feature configuration than the one asked for."""


class StoreFormatError(FeatstoreError, ValueError):
    """A file is not a feature store, or a requested feature or fold is not in it."""


class BuildError(FeatstoreError, RuntimeError):
    """A build failed, e.g. clips were rejected under ``strict=True``."""


class ClipError(FeatstoreError, ValueError):
    """One clip cannot be used (unreadable, empty, non-finite...); builds skip it."""
