"""Command line: ``python -m estimators evaluate STORE --model NAME [--model NAME ...] [--out DIR]``.

SIGINT and SIGTERM end a run with one line and exit status 130 or 143 (as
``python -m featstore`` does, through :mod:`featstore.interrupt`); every fit
finished by then is in ``OUT/results.jsonl``, and ``--resume`` goes on from
there.
"""

import argparse
import signal
import sys

from featstore import FeatstoreError, interrupt

from ..exceptions import EstimatorsError
from .models import KNOWN
from .protocol import PROTOCOLS

__all__ = ["entry_point", "main", "main_parser"]


def _int_at_least(low: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{what}, got {value}")
        return value

    return parse


def _jobs(text: str) -> int:
    value = _int_at_least(-1, "-1 (one per core) or a positive count")(text)
    if value == 0:
        raise argparse.ArgumentTypeError("-1 (one per core) or a positive count, got 0")
    return value


def main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m estimators",
        description="Evaluate estimators on a feature store under a fold protocol.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ev = commands.add_parser(
        "evaluate", help="fit and score models on the folds of a store; results, report and error analysis",
        description="Fit and score models under a fold protocol of a feature store. Each finished (model, fold) is "
                    "written to OUT/results.jsonl at once; the report (report.md, report.json, PNGs) is written "
                    "at the end.",
    )
    ev.add_argument("store", help="a feature store (python -m featstore build ...)")
    ev.add_argument("--model", dest="models", action="append", required=True, metavar="NAME",
                    help=f"repeatable: {KNOWN} (a MelCNNClassifier reads logmel; say any other's feature after @)")
    ev.add_argument("--out", default=None,
                    help="folder for results.jsonl and the report (default: evaluation-<store name> here)")
    ev.add_argument("--protocol", choices=PROTOCOLS, default=None,
                    help="folds: leave one fold out over every fold (default); test-fold: train on the others, test "
                         "on --test-fold (default: the last fold); notebook: train on the others, validate on "
                         "--validation-fold, test on --test-fold (default: the last two folds)")
    ev.add_argument("--test-fold", metavar="K", default=None, help="the fold to test on (a number or a split name)")
    ev.add_argument("--validation-fold", metavar="V", default=None,
                    help="the fold to validate on (the CNN's validation_fold: its best epoch is kept)")
    ev.add_argument("--seed", type=_int_at_least(0, "a non-negative integer"), default=0,
                    help="random_state of every estimator, the same for every fold (default: 0)")
    again = ev.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="keep the results of an interrupted run in --out and fit only the rest")
    again.add_argument("--overwrite", action="store_true", help="replace the results and report in --out")
    ev.add_argument("--jobs", type=_jobs, default=None,
                    help="fits at once, in worker processes (-1: one per core; default: 1, in this process); "
                         "with --scheduler local, the Dask workers")
    ev.add_argument("--scheduler", metavar="ADDRESS",
                    help="fit on a Dask cluster, one fold per task: a scheduler address (tcp://host:8786; the "
                         "workers must reach STORE by the same path) or 'local' for a LocalCluster of --jobs "
                         "worker processes here")
    ev.add_argument("--threads", type=_int_at_least(1, "a positive integer"), default=None,
                    help="threads per fit (torch and BLAS); default: each estimator's own choice")
    ev.add_argument("--label", default=None, help="the dataset's name in the report (default: the store's source)")
    ev.add_argument("--quiet", action="store_true", help="no progress bars and no summary")
    return parser


def _check_args(parser, args):
    if args.protocol == "folds" and (args.test_fold is not None or args.validation_fold is not None):
        parser.error("--protocol folds tests every fold in turn: leave out --test-fold and --validation-fold")
    if args.protocol == "test-fold" and args.validation_fold is not None:
        parser.error("--protocol test-fold validates on no fold: use --protocol notebook with --validation-fold")
    if args.scheduler and args.scheduler != "local" and args.jobs is not None:
        parser.error(f"--jobs sets the workers of --scheduler local; a running cluster ({args.scheduler}) has its "
                     f"own workers: leave out --jobs")


def default_out(store) -> str:
    """``evaluation-<store file name without suffix>``, in the current folder."""
    from pathlib import Path

    return f"evaluation-{Path(store).stem}"


def _evaluate(args) -> int:
    from .report import summary_lines
    from .runner import evaluate

    evaluate(args.store, args.models, protocol=args.protocol, test_fold=args.test_fold,
             validation_fold=args.validation_fold, out=args.out, seed=args.seed, resume=args.resume,
             overwrite=args.overwrite, n_jobs=args.jobs, scheduler=args.scheduler, threads=args.threads,
             progress=not args.quiet, label=args.label)
    if not args.quiet:
        print("\n".join(summary_lines(args.out)))
        print(f"report: {args.out}/report.md")
    return 0


def _after_interruption(args) -> str:
    """The one line an interrupted run ends with, from what its results file holds."""
    from .runner import count_results

    if args is None:
        return "nothing was done"
    counts = count_results(args.out)
    if counts is None:
        return f"nothing was written to {args.out}"
    done, total = counts
    if done == total:
        return (f"all {total} fits are done and kept in {args.out}, but the report was not written; run again with "
                f"--resume to write it")
    return f"{done} of {total} fits (model x fold) done are kept in {args.out}; run again with --resume"


def main(argv=None) -> int:
    """Run one command. Bad input ends in one ``error: ...`` line and exit status 1."""
    args = None
    with interrupt.signals_as_interrupts():
        try:
            parser = main_parser()
            args = parser.parse_args(argv)
            _check_args(parser, args)
            args.out = args.out or default_out(args.store)
            code = _evaluate(args)
            interrupt.check()
            return code
        except KeyboardInterrupt as exc:  # featstore's Interrupted (SIGINT, SIGTERM) is one
            print(f"interrupted: {_after_interruption(args)}", file=sys.stderr)
            return 128 + getattr(exc, "signum", signal.SIGINT)
        except (EstimatorsError, FeatstoreError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1


def entry_point():
    raise SystemExit(main())
