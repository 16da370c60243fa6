"""glibc's allocator settings for a process that builds a store.

A build allocates and frees buffers of 0.1 to 10 MB for every clip (decoded
samples, resampled clips, spectrogram batches). With glibc's default settings,
freed memory at the top of the heap goes back to the operating system and the
next buffer of that size faults its pages in again. Keeping freed memory in the
process for reuse removes most of those faults: on the full-size synthetic set,
measured on 2 cores, 920,000 page faults became 195,000, kernel time fell from 7.9
to 3.5 s and the build from 18.5 to 15.4 s, with the same peak memory.

The settings hold for the whole process, so only the command line applies them:
a program that calls :func:`featstore.build_store` keeps its own allocator.
"""

import ctypes
import sys

__all__ = ["ENVIRONMENT", "keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Buffers up to this size come from the heap rather than from their own mmap
# (glibc's default upper limit for its adaptive threshold)...
MMAP_THRESHOLD = 32 * 2**20
# ...and free memory at the top of the heap is returned once it exceeds this.
TRIM_THRESHOLD = 256 * 2**20
# The same settings for a process started with this environment (e.g. a Dask
# worker: ``build --scheduler local`` starts its workers with them).
ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD), "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}


def keep_freed_memory() -> bool:
    """Make glibc keep freed buffers for reuse. Returns whether the settings were applied.

    Both thresholds must be set together: setting either one turns off glibc's
    adaptive thresholds, and the other then stays at its 128 KB default.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc, or a libc without mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
