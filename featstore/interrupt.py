"""SIGINT and SIGTERM turned into an exception that unwinds through the clean-up (for the command line).

Only ``python -m featstore`` installs these handlers (:func:`signals_as_interrupts`);
a program that calls the library keeps its own. The first signal raises
:class:`~featstore.exceptions.Interrupted` in the main thread, from wherever it is;
``finally`` blocks and context managers then remove what the run had started.
Later signals are ignored, so that pressing Ctrl-C again cannot cut the clean-up
short (SIGKILL still can, and the next build removes what was left).

Python runs a signal handler wherever the main thread is, which can be a
finalizer or weakref callback, whose exceptions Python ignores. So long-running
loops also call :func:`check`, which raises the interruption if one was received
(and the report of an ignored one is not printed).
"""

import contextlib
import signal
import sys
import threading

from .exceptions import Interrupted

__all__ = ["check", "received", "signals_as_interrupts"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_received = []  # the first signal of the innermost signals_as_interrupts block, once one arrived
_installed = []


def _handle(signum, frame):
    if _received:
        return
    _received.append(signum)
    raise Interrupted(signum)


def _unraisable(previous):
    def hook(unraisable):
        if not isinstance(unraisable.exc_value, Interrupted):  # an interruption is raised again by check()
            previous(unraisable)

    return hook


@contextlib.contextmanager
def signals_as_interrupts():
    """Within the block, SIGINT and SIGTERM raise :class:`Interrupted` (main thread only; else a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    previous_hook = sys.unraisablehook
    outer = list(_received)
    _received.clear()
    _installed.append(True)
    sys.unraisablehook = _unraisable(previous_hook)
    for s in SIGNALS:
        signal.signal(s, _handle)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sys.unraisablehook = previous_hook
        _installed.pop()
        _received[:] = outer


def received():
    """The signal received within :func:`signals_as_interrupts`, or None."""
    return _received[0] if _received else None


def check():
    """Raise :class:`Interrupted` if a signal was received (a no-op without :func:`signals_as_interrupts`)."""
    if _installed and _received:
        raise Interrupted(_received[0])
