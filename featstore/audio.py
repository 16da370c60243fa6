"""Reading one clip's audio, and the checks that decide whether it is usable."""

import io
import os
import re

import numpy as np
import soundfile as sf

from .exceptions import ClipError

__all__ = ["read_audio", "MIN_SAMPLE_RATE"]

MIN_SAMPLE_RATE = 1000
"""Lowest sample rate accepted, in Hz: anything lower is a corrupt header."""

# libsndfile notes a data chunk that is longer than the file as
# "data : 176400 (should be 58770)" and then reads only what is there.
_SHORT_DATA_CHUNK = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def read_audio(audio):
    """Decode one clip to float32 samples.

    Parameters
    ----------
    audio : str, os.PathLike or bytes
        A path to an audio file, or the encoded bytes of one.

    Returns
    -------
    samples : ndarray of shape (n_samples, n_channels), dtype float32
    sample_rate : int

    Raises
    ------
    ClipError
        If the file is missing, cannot be decoded, is truncated, holds no samples,
        holds NaN or infinite samples, or declares an implausible sample rate.
    """
    if isinstance(audio, (bytes, bytearray, memoryview)):
        if len(audio) == 0:
            raise ClipError("empty audio bytes")
        handle = io.BytesIO(audio)
    else:
        name = os.fspath(audio)
        if not os.path.exists(name):
            raise ClipError(f"file not found: {name}")
        if os.path.getsize(name) == 0:
            raise ClipError("empty file (0 bytes)")
        handle = name
    try:
        with sf.SoundFile(handle) as f:
            sample_rate = f.samplerate
            log = f.extra_info
            if f.subtype == "PCM_16":
                # libsndfile's own float conversion is several times slower than
                # numpy's, and x / 32768 gives the same float32 values.
                samples = f.read(dtype="int16", always_2d=True).astype(np.float32)
                samples *= np.float32(1 / 32768)
            else:
                samples = f.read(dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise ClipError(f"unreadable audio ({exc})") from exc

    short = _SHORT_DATA_CHUNK.search(log)
    if short and int(short.group(2)) < int(short.group(1)):
        raise ClipError(
            f"truncated file: the header declares {short.group(1)} bytes of audio, "
            f"the file holds {short.group(2)}"
        )
    if sample_rate < MIN_SAMPLE_RATE:
        raise ClipError(f"implausible sample rate {sample_rate} Hz (below {MIN_SAMPLE_RATE} Hz)")
    if samples.shape[0] == 0 or samples.shape[1] == 0:
        raise ClipError("no audio samples (zero-length audio)")
    if not np.isfinite(samples).all():
        raise ClipError("NaN or infinite samples")
    return samples, sample_rate
