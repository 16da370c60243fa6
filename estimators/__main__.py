"""``python -m estimators evaluate STORE --model NAME ...``: see :mod:`estimators.evaluation.cli`.

SIGINT and SIGTERM are taken over before the command's modules are imported, so
that a Ctrl-C while they load ends with one line too.
"""

import signal
import sys

from featstore import interrupt

if __name__ == "__main__":
    with interrupt.signals_as_interrupts():
        try:
            from .evaluation.cli import main
        except KeyboardInterrupt as exc:  # featstore's Interrupted (SIGINT, SIGTERM) is one
            print("interrupted: nothing was done", file=sys.stderr)
            raise SystemExit(128 + getattr(exc, "signum", signal.SIGINT)) from None
        code = main()
    raise SystemExit(code)
