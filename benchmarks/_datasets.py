"""The dataset a benchmark runs on: an existing store, or one built for the run, and its audio.

``--store`` names an existing feature store; ``--source`` a source to build one
from (``synthetic[:N|:full]`` or a folder in the UrbanSound8K layout), or, with
``--store``, the folder of the store's audio files; ``--quick`` a CI-sized
synthetic set. The synthetic audio behind a store is generated again from the
size and seed the store records.
"""

import contextlib
import dataclasses
import tempfile
import time
from pathlib import Path

import _common

QUICK_SOURCE = "synthetic:120"


@dataclasses.dataclass
class Dataset:
    """A feature store being benchmarked, with what the benchmarks need to know about it."""

    store: object  # featstore.FeatureStore
    label: str
    audio_root: Path | None = None  # UrbanSound8K-layout folder with the store's clips
    build_seconds: float | None = None  # store build time, when built by this run

    @property
    def fold_based(self) -> bool:
        """True when the store has the folds the fold protocols need (at least 3)."""
        return len(self.store.folds) >= 3


def add_dataset_arguments(parser, *, results=True):
    group = parser.add_argument_group("dataset")
    group.add_argument("--store", type=Path, help="an existing feature store")
    group.add_argument("--source", help="build a store first from synthetic[:N|:full] or an UrbanSound8K-layout "
                       "folder (with --store: the folder holding the store's audio files)")
    group.add_argument("--quick", action="store_true", help=f"a CI-sized run (default data: {QUICK_SOURCE})")
    group.add_argument("--label", help="dataset name for the tables (default: from the store)")
    group.add_argument("--real-data", type=Path, default=_common.REAL_DEV_DATA,
                       help="the real UrbanSound8K fold-1 copies (default: %(default)s)")
    group.add_argument("--seed", type=int, default=0)
    if results:
        group.add_argument("--results-dir", type=Path, default=None,
                           help="write results (and a README) here instead of benchmarks/results/")


def is_synthetic(store) -> bool:
    return store.source_info.get("name") == "synthetic"


def dataset_label(store, *, real_data: Path | None, label: str | None = None) -> str:
    if label:
        return label
    if is_synthetic(store):
        return "synthetic"
    if real_data is not None and store.source == f"UrbanSound8K folder {Path(real_data).name}" and store.folds == (1,):
        return _common.REAL_DEV_LABEL
    return store.source


def build_temporary_store(source, folder: Path) -> tuple:
    """Build a store of an opened source into ``folder``; return (store, seconds)."""
    from featstore import FeatureStore, build_store

    out = Path(folder) / "store.h5"
    summary = build_store(source, out, n_jobs=-1, progress=False)
    return FeatureStore(out), summary.seconds


@contextlib.contextmanager
def regenerated_audio(store):
    """Generate again the synthetic dataset a store was built from (same size and seed); yield its root."""
    from featstore import SyntheticSource

    if not is_synthetic(store):
        raise SystemExit(f"error: {store.path} does not record synthetic data as its source ({store.source!r}); "
                         "pass --source with the folder of its audio files")
    with SyntheticSource(n_clips=store.source_info["size"], seed=store.source_info["seed"]) as source:
        started = time.perf_counter()
        root = source.root
        print(f"regenerated the store's audio, {source.label}, in {time.perf_counter() - started:.0f} s")
        yield root


def check_audio_matches(store, root: Path):
    """Every stored clip must have its file under ``root``."""
    from notebook_pipeline import audio_paths

    meta = store.metadata()
    missing = [p for p in audio_paths(meta, root) if not Path(p).is_file()]
    if missing:
        raise SystemExit(f"error: {len(missing)} of the store's clips are not under {root} (e.g. {missing[0]}); "
                         "pass --source with the folder the store was built from")


@contextlib.contextmanager
def open_dataset(args, *, need_audio: bool):
    """The dataset of ``--store`` / ``--source`` / ``--quick``, built or regenerated in a temporary folder."""
    from featstore import FeatureStore

    with contextlib.ExitStack() as stack:
        if args.store is not None:
            store = FeatureStore(args.store)
            label = dataset_label(store, real_data=args.real_data, label=args.label)
            audio_root, build_seconds = None, None
            if need_audio:
                if args.source:
                    audio_root = Path(args.source)
                elif is_synthetic(store):
                    audio_root = stack.enter_context(regenerated_audio(store))
                elif label == _common.REAL_DEV_LABEL:
                    audio_root = Path(args.real_data)
                else:
                    raise SystemExit("error: this benchmark needs the audio files behind the store: "
                                     "pass --source FOLDER")
                check_audio_matches(store, audio_root)
        else:
            spec = args.source or (QUICK_SOURCE if args.quick else "synthetic:full")
            source = stack.enter_context(_common.open_data(spec, seed=args.seed))
            audio_root = getattr(source, "root", None)  # generated here for synthetic data, not in the build time
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-dataset-"))
            store, build_seconds = build_temporary_store(source, tmp)
            label = dataset_label(store, real_data=args.real_data, label=args.label)
            print(f"built a store of {len(store)} clips from {spec} in {build_seconds:.1f} s")
        yield Dataset(store=store, label=label, audio_root=audio_root, build_seconds=build_seconds)


def check_folds(store, splits):
    """Exit with one line unless the store holds every fold of the ``(train_folds, test_folds)`` splits."""
    missing = {f for split in splits for part in split for f in part} - set(store.folds)
    if missing:
        raise SystemExit(f"error: the store has no fold {sorted(missing)}; it holds {list(store.folds)}")


def real_data_present(path) -> bool:
    return path is not None and (Path(path) / "metadata" / "UrbanSound8K.csv").is_file()
