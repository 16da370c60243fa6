"""featstore: decode a labelled sound dataset (UrbanSound8K, ESC-50, a table of clips, class folders) once into an HDF5 feature store.

The public names are imported when first used (PEP 562), so that importing the
package, as ``python -m featstore`` does first, costs next to nothing: the
command line can then take over SIGINT and SIGTERM right away.
"""

import importlib

from .exceptions import (
    BuildError,
    ClipError,
    ClusterError,
    DiskFullError,
    FeatstoreError,
    Interrupted,
    InvalidParameterError,
    OutputError,
    SourceError,
    StoreChangedError,
    StoreConfigError,
    StoreCorruptError,
    StoreExistsError,
    StoreFormatError,
)

__version__ = "0.1.0"

# Public name -> the module that defines it.
_LAZY = {
    "BuildSummary": "build",
    "build_store": "build",
    "dask_client": "cluster",
    "FeatureConfig": "config",
    "ClassFolderSource": "sources",
    "ESC50Source": "sources",
    "FolderSource": "sources",
    "HuggingFaceSource": "sources",
    "TableSource": "sources",
    "open_source": "sources",
    "FeatureStore": "store",
    "SyntheticSource": "synth",
    "make_synthetic_dataset": "synth",
    "plan_synthetic_metadata": "synth",
    "CLASS_NAMES": "urbansound8k",
}

__all__ = sorted([
    "BuildError",
    "ClipError",
    "ClusterError",
    "DiskFullError",
    "FeatstoreError",
    "Interrupted",
    "InvalidParameterError",
    "OutputError",
    "SourceError",
    "StoreChangedError",
    "StoreConfigError",
    "StoreCorruptError",
    "StoreExistsError",
    "StoreFormatError",
    *_LAZY,
])


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
