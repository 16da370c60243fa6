"""Command line: ``python -m featstore {build,info,verify,synth}``.

SIGINT and SIGTERM are turned into :class:`~featstore.exceptions.Interrupted` as the
first thing :func:`main` does; so that it comes within a few tens of milliseconds
of the start, this module and the package's ``__init__`` import nothing heavy
(numpy, pandas, h5py, torch come with the commands).
"""

import argparse
import contextlib
import os
import sys

from . import interrupt
from .exceptions import FeatstoreError, Interrupted, InvalidParameterError
from .output import file_identity
from .urbansound8k import N_CLASSES


def _checked_int(check, flag: str):
    """An argparse ``type``: an int that ``check`` accepts, else a usage error naming ``flag``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        try:
            return check(value, flag)
        except InvalidParameterError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{flag} ")) from None

    return parse


JOBS_HELP = "workers: -1 for one per core (default), or a positive count"


def main_parser() -> argparse.ArgumentParser:
    from ._validation import check_n_jobs, check_positive_int, check_seed
    from .cli_options import add_dataset_options, add_feature_options
    from .sources import DATASETS, DEFAULT_HUB_ID
    from .synth import DEFAULT_N_CLIPS as SYNTHETIC_DEFAULT_CLIPS
    from .synth.esc50_plan import DEFAULT_N_CLIPS as SYNTHETIC_ESC50_DEFAULT_CLIPS

    jobs, seed = _checked_int(check_n_jobs, "--jobs"), _checked_int(check_seed, "--seed")
    batch = _checked_int(check_positive_int, "--batch-size")
    parser = argparse.ArgumentParser(
        prog="python -m featstore",
        description="Decode a labelled sound dataset once into an HDF5 feature store.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build a feature store from a dataset")
    build.add_argument(
        "source", nargs="?", default=None,
        help=(
            "a folder (UrbanSound8K or ESC-50 layout, one folder per class, parquet files or a save_to_disk "
            "folder), a CSV of clips, hf:<dataset id>, or synthetic[:N|:full] / synthetic-esc50[:N|:full] "
            f"(default: hf:{DEFAULT_HUB_ID}, or the audio folder of --metadata)"
        ),
    )
    build.add_argument("--out", required=True, help="the store to write, e.g. urbansound8k.h5")
    build.add_argument("--jobs", type=jobs, default=None, help=f"decoding {JOBS_HELP}")
    build.add_argument("--overwrite", action="store_true", help="replace an existing store")
    build.add_argument(
        "--resume", action="store_true",
        help="take over the work of an interrupted build of --out, and keep this one's if it is interrupted",
    )
    build.add_argument("--strict", action="store_true", help="fail on any rejected clip instead of skipping it")
    build.add_argument("--batch-size", type=batch, default=16, help="clips per decoding task (default: 16)")
    build.add_argument("--seed", type=seed, default=None, help="seed of a synthetic source (default: 0)")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="decode on the workers of a running Dask cluster (e.g. tcp://10.0.0.5:8786; they must reach the "
             "audio files by the same paths), or 'local' to start a Dask LocalCluster of --jobs worker "
             "processes here",
    )
    add_dataset_options(build, datasets=DATASETS)
    add_feature_options(build)

    info = commands.add_parser("info", help="counts per fold and class, configuration")
    info.add_argument("path")

    verify = commands.add_parser(
        "verify", help="check every dataset against its digest, shapes, labels and counts; exit 1 on any problem"
    )
    verify.add_argument("path")

    synth = commands.add_parser("synth", help="write a synthetic dataset in the UrbanSound8K or ESC-50 layout")
    synth.add_argument("out", help="the dataset folder to write")
    synth.add_argument(
        "--dataset", choices=("urbansound8k", "esc50"), default="urbansound8k",
        help="the layout, classes and folds to imitate (default: urbansound8k)",
    )
    size = synth.add_mutually_exclusive_group()
    size.add_argument(
        "--n-clips", type=int,
        help=f"number of clips (default: {SYNTHETIC_DEFAULT_CLIPS}; esc50: {SYNTHETIC_ESC50_DEFAULT_CLIPS})",
    )
    size.add_argument(
        "--full", action="store_true", help="the real per-fold and per-class counts (8,732 clips; esc50: 2,000)"
    )
    synth.add_argument("--seed", type=seed, default=0, help="a non-negative int (default: 0)")
    synth.add_argument("--jobs", type=jobs, default=-1, help=f"rendering {JOBS_HELP}")
    synth.add_argument("--overwrite", action="store_true", help="write into an existing non-empty folder")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _build(args) -> int:
    from ._blas import reproducible_blas
    from ._malloc import keep_freed_memory
    from .build import build_store
    from .cli_options import config_from_options, dataset_options
    from .sources import open_source
    from .synth.source import remove_abandoned_data

    config_from_options(args)  # a bad feature option is reported before the source is read
    jobs = -1 if args.jobs is None else args.jobs
    reproducible_blas()
    keep_freed_memory()
    remove_abandoned_data()  # of killed builds from synthetic sources
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(open_source(args.source, seed=args.seed, n_jobs=jobs, progress=not args.quiet,
                                                 **dataset_options(args)))
        client = None
        if args.scheduler:
            from .cluster import dask_client

            client = stack.enter_context(dask_client(args.scheduler, n_workers=jobs))
        summary = build_store(
            source, args.out, config=config_from_options(args, clip_seconds=source.clip_seconds), n_jobs=jobs,
            batch_size=args.batch_size, overwrite=args.overwrite, strict=args.strict, resume=args.resume,
            progress=not args.quiet, client=client,
        )
    print(summary.format())
    return 0


def _info(args) -> int:
    from .store import FeatureStore

    store = FeatureStore(args.path)
    counts = store.counts()
    print(f"{store.path}: {len(store)} clips in folds {list(store.folds)}, from {store.source}, built {store.created}")
    print(f"dataset layout: {store.layout}; columns: "
          + ", ".join(f"{part} = {column}" for part, column in store.columns.items() if column is not None))
    print(f"classes ({len(store.class_names)}, label: name): "
          + ", ".join(f"{i}: {name}" for i, name in enumerate(store.class_names)))
    print(f"feature config: {store.config.to_json()}")
    print(f"feature shapes: {store.config.feature_shapes}")
    if store.view_names:
        print(f"augmented views ({store.config.augment}): {', '.join(store.view_names)}")
    if len(counts) and len(store.class_names) > 12:  # many classes read better as rows
        counts = counts.T
        counts.loc["total"] = counts.sum(axis=0)
    else:
        counts["total"] = counts.sum(axis=1)
    print(counts.to_string() if len(counts) else "no clips stored")
    rejected = store.rejected()
    print(f"rejected at build: {len(rejected)}")
    if len(rejected):
        print(rejected.to_string(index=False, max_rows=20))
    return 0


def _verify(args) -> int:
    from .store import FeatureStore
    from .verify import verify_store

    problems = verify_store(args.path)
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        print(f"{args.path}: {len(problems)} problem{'s' if len(problems) > 1 else ''}", file=sys.stderr)
        return 1
    store = FeatureStore(args.path)
    print(f"{store.path}: OK ({len(store)} clips, folds {list(store.folds)})")
    return 0


def _synth(args) -> int:
    from .synth import make_synthetic_dataset

    root = make_synthetic_dataset(
        args.out, n_clips=args.n_clips, full=args.full, seed=args.seed, overwrite=args.overwrite,
        n_jobs=args.jobs, progress=not args.quiet, dataset=args.dataset,
    )
    print(f"Wrote a synthetic dataset to {root}")
    return 0


def _synth_size_error(args) -> str | None:
    """What is wrong with ``synth --n-clips`` for its ``--dataset``, or None."""
    from . import esc50

    if args.dataset == "esc50" and not esc50.N_CLASSES <= args.n_clips <= esc50.N_CLIPS:
        return (f"--n-clips of --dataset esc50 must be from {esc50.N_CLASSES} (one clip per class) "
                f"to {esc50.N_CLIPS} (the real size), got {args.n_clips}")
    if args.dataset == "urbansound8k" and args.n_clips < N_CLASSES:
        return f"--n-clips must be at least {N_CLASSES} (one clip per class), got {args.n_clips}"
    return None


COMMANDS = {"build": _build, "info": _info, "verify": _verify, "synth": _synth}


def _output_of(argv) -> str | None:
    """The ``--out`` of a build command line, found without the parser (which imports more)."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    if argv[:1] == ["build"]:
        for option, value in zip(argv, argv[1:] + [None]):
            if option == "--out":
                return value
            if option.startswith("--out="):
                return option.removeprefix("--out=")
    return None


def _after_interruption(args, kept, before, argv) -> str:
    """The one line an interrupted command ends with: what it left, from the facts."""
    if args is None:  # interrupted while the command line was being read
        out = _output_of(argv)
        return f"nothing was written to {out}" if out else "nothing was done"
    if args.command == "build":
        if file_identity(args.out) not in (before, None):
            return f"the store {args.out} was already complete and is in place"
        if kept is not None:
            return f"nothing was written to {args.out}; the {kept} clips done are kept for `build --resume`"
        return f"nothing was written to {args.out}"
    if args.command == "synth":
        return f"the synthetic data set in {args.out} is incomplete (it has no metadata CSV); write it again with --overwrite"
    return "stopped"


def main(argv=None) -> int:
    """Run one command. SIGINT and SIGTERM end it with one line and exit status 130 or 143."""
    args = before = None
    with interrupt.signals_as_interrupts():
        try:
            parser = main_parser()
            args = parser.parse_args(argv)
            if args.command == "synth" and args.n_clips is not None and _synth_size_error(args):
                parser.error(_synth_size_error(args))
            if args.command == "build" and args.scheduler and args.scheduler != "local" and args.jobs is not None:
                parser.error("--jobs sets the workers of a local build or of --scheduler local; a running cluster "
                             f"({args.scheduler}) has its own workers: leave out --jobs")
            before = file_identity(args.out) if args.command == "build" else None
            code = COMMANDS[args.command](args)
            interrupt.check()  # a signal whose exception Python ignored (see featstore.interrupt)
            return code
        except Interrupted as exc:
            print(f"interrupted: {_after_interruption(args, exc.kept, before, argv)}", file=sys.stderr)
            return 128 + exc.signum
        except FeatstoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1


def entry_point():
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of a pipe (e.g. `| head`) stopped early: not an error. Point stdout
        # at /dev/null so that the flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    writer = sys.modules.get("featstore.writer")
    if writer is not None and writer.exit_would_crash():  # (see featstore.writer)
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    entry_point()
