"""featstore: decode an UrbanSound8K-style dataset once into an HDF5 feature store."""

__version__ = "0.1.0"

from .build import BuildSummary, build_store
from .config import FeatureConfig
from .exceptions import (
    BuildError,
    ClipError,
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
from .sources import FolderSource, HuggingFaceSource, open_source
from .store import FeatureStore
from .synth import SyntheticSource, make_synthetic_dataset, plan_synthetic_metadata
from .urbansound8k import CLASS_NAMES

__all__ = [
    "BuildError",
    "BuildSummary",
    "CLASS_NAMES",
    "ClipError",
    "DiskFullError",
    "FeatstoreError",
    "FeatureConfig",
    "FeatureStore",
    "FolderSource",
    "HuggingFaceSource",
    "Interrupted",
    "InvalidParameterError",
    "OutputError",
    "SourceError",
    "StoreChangedError",
    "StoreConfigError",
    "StoreCorruptError",
    "StoreExistsError",
    "StoreFormatError",
    "SyntheticSource",
    "build_store",
    "make_synthetic_dataset",
    "open_source",
    "plan_synthetic_metadata",
]
