"""MKL's conditional numerical reproducibility, for a process that builds a store.

PyTorch's CPU matrix products go through Intel MKL, whose results can differ in
their last bits from one call to the next with the same inputs: which code path
MKL takes depends on the thread and on how the buffers happen to be aligned. A
clip's resampled waveform differed by 3e-8 (and its log-mel by up to 0.19 dB in
near-silent bins) depending on which clips the worker thread had decoded before.
A build is then not a function of its input, and a resumed build not equal to
an uninterrupted one. ``MKL_CBWR=AUTO,STRICT`` makes MKL take the same path
every time; it must be set before the process's first MKL call, so the command
line sets it before it imports torch (a program that calls the library sets it
itself, as the tests do).
"""

import os

__all__ = ["reproducible_blas"]

MKL_CBWR = "AUTO,STRICT"


def reproducible_blas():
    """Ask MKL for reproducible results, unless the environment already says otherwise."""
    os.environ.setdefault("MKL_CBWR", MKL_CBWR)
