"""Digests of what a store holds: xxh3-64 of each clip's features and of every small dataset and attribute set.

A build stores the digest of every clip's row of each feature (``/foldK/digest/<feature>``,
one ``uint64`` per clip), and a ``digest`` attribute on every other dataset and on
the root: :func:`featstore.verify.verify_store` and :meth:`FeatureStore.load
<featstore.FeatureStore.load>` recompute them and compare.

xxh3-64 (the ``xxhash`` package, which ``datasets`` also depends on) hashes about
10 GB/s on one core, five times zlib's crc32, so the build's digests cost a few
tenths of a second for the full data set, and checking a load costs about a
quarter of the load itself from a warm page cache. Any change to a clip's bytes
changes its digest, except with probability 2**-64.

Anyone can recompute a digest without featstore::

    xxhash.xxh3_64_intdigest(f["fold3/logmel"][i].tobytes()) == f["fold3/digest/logmel"][i]
"""

import json

import numpy as np
import xxhash

__all__ = ["ALGORITHM", "digest_rows", "digest_array", "digest_strings", "digest_attrs"]

ALGORITHM = "xxh3_64"


def digest_rows(array) -> np.ndarray:
    """The digest of each row of ``array`` (little-endian bytes), shape ``(len(array),)`` uint64.

    Row by row, so that rows contiguous in memory are not copied, even when the
    whole is not (a slice of the views of an array of every view).
    """
    return np.fromiter((xxhash.xxh3_64_intdigest(_little_endian(row)) for row in array), dtype=np.uint64,
                       count=len(array))


def digest_array(array) -> int:
    """The digest of a whole numeric array (its little-endian bytes, in C order)."""
    return xxhash.xxh3_64_intdigest(_little_endian(array))


def digest_strings(values) -> int:
    """The digest of a column of strings: each one UTF-8 encoded and NUL-terminated."""
    return xxhash.xxh3_64_intdigest(b"".join(str(v).encode("utf-8") + b"\0" for v in values))


def digest_attrs(attrs: dict) -> int:
    """The digest of a set of attributes: their canonical JSON (sorted keys, plain Python values)."""
    plain = {str(k): _plain(v) for k, v in attrs.items()}
    return xxhash.xxh3_64_intdigest(json.dumps(plain, sort_keys=True).encode("utf-8"))


def _little_endian(array) -> np.ndarray:
    array = np.ascontiguousarray(array)
    return array.astype(array.dtype.newbyteorder("<"), copy=False)


def _plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    return value
