"""Errors raised by featstore. Each also inherits the builtin error it refines."""


class FeatstoreError(Exception):
    """Base class of every error featstore raises on purpose."""


class InvalidParameterError(FeatstoreError, ValueError):
    """An argument has the wrong type or is out of its range (``n_jobs=0``, ``seed=-1``, ...)."""


class OutputError(FeatstoreError, OSError):
    """An output cannot be written where asked: a read-only folder, a file where a folder should be."""


class DiskFullError(OutputError):
    """The file system has no room for an output; the message says how much is needed."""


class SourceError(FeatstoreError, ValueError):
    """A dataset source cannot be found, reached or understood."""


class StoreExistsError(FeatstoreError, FileExistsError):
    """The output store exists (or appeared during the build) and replacing it was not asked for."""


class StoreConfigError(FeatstoreError, ValueError):
    """A store was built with another feature configuration than the one asked for."""


class StoreFormatError(FeatstoreError, ValueError):
    """A file is not a feature store, or a requested feature or fold is not in it."""


class StoreCorruptError(StoreFormatError):
    """A store's data disagrees with the digests stored with it: the file was damaged after the build."""


class StoreChangedError(FeatstoreError, RuntimeError):
    """The file at a store's path was replaced after the :class:`~featstore.FeatureStore` was opened."""


class BuildError(FeatstoreError, RuntimeError):
    """A build failed, e.g. clips were rejected under ``strict=True``."""


class ClusterError(FeatstoreError, RuntimeError):
    """The Dask cluster of ``build --scheduler`` cannot be reached, has no workers, or its workers lack featstore."""


class ClipError(FeatstoreError, ValueError):
    """One clip cannot be used (unreadable, empty, non-finite...); builds skip it."""


class Interrupted(FeatstoreError, KeyboardInterrupt):
    """The command line received SIGINT or SIGTERM.

    Only ``python -m featstore`` turns these signals into this error (a program that
    calls the library keeps its own handlers). It unwinds through the build's
    clean-up like a ``KeyboardInterrupt``, which it also is.

    Attributes
    ----------
    signum : int
        The signal.
    kept : int or None
        Set by a build run with ``resume=True``: the clips done, kept for the next run.
    """

    def __init__(self, signum: int):
        import signal

        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
        self.kept = None
