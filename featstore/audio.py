"""Reading one clip's audio, and the checks that decide whether it is usable."""

import contextlib
import io
import os

import numpy as np
import soundfile as sf

from .exceptions import ClipError

__all__ = ["MIN_SAMPLE_RATE", "open_audio", "read_audio", "read_frames"]

MIN_SAMPLE_RATE = 1000
"""Lowest sample rate accepted, in Hz: anything lower is a corrupt header."""

# A data chunk size a streaming writer leaves when it cannot seek back to fill
# it in; readers take the audio to run to the end of the file.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def _wav_data_chunk(stream) -> tuple | None:
    """``(declared, present)`` bytes of the data chunk of a RIFF (or RIFX) WAVE file.

    ``present`` counts every byte after the chunk's header to the end of the file.
    None if the file is not RIFF/RIFX WAVE (RF64 included, whose sizes live in
    another chunk) or its chunk list ends before a data chunk.
    """
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    header = stream.read(12)
    if len(header) < 12 or header[:4] not in (b"RIFF", b"RIFX") or header[8:12] != b"WAVE":
        return None
    order = "little" if header[:4] == b"RIFF" else "big"
    position = 12
    while position + 8 <= size:
        stream.seek(position)
        chunk = stream.read(8)
        length = int.from_bytes(chunk[4:8], order)
        if chunk[:4] == b"data":
            return length, size - position - 8
        position += 8 + length + (length & 1)  # chunks are padded to an even size
    return None


def _check_not_truncated(handle):
    """Raise if a WAV file's data chunk declares more bytes than the file holds.

    libsndfile then reads what is there without an error; its log says so, but
    in words that may change with its version, so the chunk sizes are read here.
    """
    with contextlib.ExitStack() as stack:
        stream = handle if isinstance(handle, io.BytesIO) else stack.enter_context(open(handle, "rb"))
        sizes = _wav_data_chunk(stream)
        stream.seek(0)
    if sizes is not None and sizes[0] not in _UNKNOWN_SIZES and sizes[0] > sizes[1]:
        raise ClipError(f"truncated file: the header declares {sizes[0]} bytes of audio, the file holds {sizes[1]}")


@contextlib.contextmanager
def open_audio(audio):
    """Open one clip after the checks that need no decoding.

    Parameters
    ----------
    audio : str, os.PathLike or bytes
        A path to an audio file, or the encoded bytes of one.

    Yields
    ------
    soundfile.SoundFile
        Open for reading, with ``samplerate``, ``channels`` and ``frames``.

    Raises
    ------
    ClipError
        If the file is missing, empty, cannot be decoded, is truncated, holds no
        samples, or declares an implausible sample rate.
    """
    if isinstance(audio, (bytes, bytearray, memoryview)):
        if len(audio) == 0:
            raise ClipError("empty audio bytes")
        handle = io.BytesIO(audio)
    else:
        handle = os.fspath(audio)
        if not os.path.exists(handle):
            raise ClipError(f"file not found: {handle}")
        if os.path.getsize(handle) == 0:
            raise ClipError("empty file (0 bytes)")
    try:
        f = sf.SoundFile(handle)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise ClipError(f"unreadable audio ({exc})") from exc
    with f:
        _check_not_truncated(handle)
        if f.samplerate < MIN_SAMPLE_RATE:
            raise ClipError(f"implausible sample rate {f.samplerate} Hz (below {MIN_SAMPLE_RATE} Hz)")
        if f.frames == 0 or f.channels == 0:
            raise ClipError("no audio samples (zero-length audio)")
        yield f


def read_frames(f: sf.SoundFile, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Decode frames ``[start, stop)`` of an open file (seeking to ``start``) to float32.

    Returns
    -------
    samples : ndarray of shape (stop - start, n_channels), dtype float32

    Raises
    ------
    ClipError
        If the frames cannot be decoded or hold NaN or infinite samples.
    """
    stop = f.frames if stop is None else stop
    try:
        f.seek(start)
        if f.subtype == "PCM_16":
            # libsndfile's own float conversion is several times slower than
            # numpy's, and x / 32768 gives the same float32 values.
            samples = f.read(stop - start, dtype="int16", always_2d=True).astype(np.float32)
            samples *= np.float32(1 / 32768)
        else:
            samples = f.read(stop - start, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise ClipError(f"unreadable audio ({exc})") from exc
    if len(samples) == 0:
        raise ClipError("no audio samples (zero-length audio)")
    if not np.isfinite(samples).all():
        raise ClipError("NaN or infinite samples")
    return samples


def read_audio(audio):
    """Decode a whole clip to float32 samples.

    ``audio`` is a path or encoded bytes, as for :func:`open_audio`, and the
    checks are those of :func:`open_audio` and :func:`read_frames` (a
    :class:`ClipError` says which failed).

    Returns
    -------
    samples : ndarray of shape (n_samples, n_channels), dtype float32
    sample_rate : int
    """
    with open_audio(audio) as f:
        return read_frames(f), f.samplerate
