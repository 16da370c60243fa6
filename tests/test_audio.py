import io

import numpy as np
import pytest
import soundfile as sf

from featstore import ClipError
from featstore.audio import read_audio

from conftest import tone


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
@pytest.mark.parametrize("channels", [1, 2])
def test_reads_formats(tmp_path, subtype, channels):
    samples = tone(seconds=0.1, sample_rate=44100, channels=channels)
    path = tmp_path / "clip.wav"
    sf.write(path, samples, 44100, subtype=subtype)
    decoded, sample_rate = read_audio(path)
    assert sample_rate == 44100
    assert decoded.shape == samples.shape and decoded.dtype == np.float32
    np.testing.assert_allclose(decoded, samples, atol=1e-2)


def test_reads_bytes_like_files(tmp_path):
    samples = tone(seconds=0.1, sample_rate=22050, channels=2)
    buffer = io.BytesIO()
    sf.write(buffer, samples, 22050, format="WAV", subtype="PCM_16")
    path = tmp_path / "clip.wav"
    path.write_bytes(buffer.getvalue())
    from_bytes, sr_bytes = read_audio(buffer.getvalue())
    from_file, sr_file = read_audio(path)
    assert sr_bytes == sr_file == 22050
    np.testing.assert_array_equal(from_bytes, from_file)


def _wav_bytes(samples, sample_rate=16000, subtype="PCM_16"):
    buffer = io.BytesIO()
    sf.write(buffer, samples, sample_rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "file not found"),
        (b"", "empty file"),
        (b"this is not audio at all" * 10, "unreadable audio"),
        (_wav_bytes(tone(seconds=1.0, sample_rate=16000))[:30], "unreadable audio"),
        (_wav_bytes(tone(seconds=1.0, sample_rate=16000))[:9000], "truncated file"),
        (_wav_bytes(np.zeros((0, 1), np.float32)), "zero-length audio"),
        (_wav_bytes(np.array([[0.0], [np.nan], [0.1]], np.float32), subtype="FLOAT"), "NaN or infinite"),
        (_wav_bytes(np.array([[0.0], [np.inf], [0.1]], np.float32), subtype="FLOAT"), "NaN or infinite"),
        (_wav_bytes(tone(seconds=1.0, sample_rate=500), sample_rate=500), "implausible sample rate"),
    ],
    ids=["missing", "empty", "garbage", "header-only", "truncated", "zero-length", "nan", "inf", "rate-500"],
)
def test_rejects_bad_clips_with_reason(tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ClipError, match=reason):
        read_audio(path)


def test_rejects_empty_bytes():
    with pytest.raises(ClipError, match="empty audio bytes"):
        read_audio(b"")


# --------------------------------------------------------------------------- #
# Truncation, told by the sizes in the WAV header (not by libsndfile's log)
# --------------------------------------------------------------------------- #


def _data_chunk(raw: bytes, order="little") -> tuple:
    """Offset of the data chunk's size field, and the size it declares."""
    at = raw.index(b"data") + 4
    return at, int.from_bytes(raw[at:at + 4], order)


def _declaring(raw: bytes, size: int, order="little") -> bytes:
    at, _ = _data_chunk(raw, order)
    return raw[:at] + size.to_bytes(4, order) + raw[at + 4:]


SECOND = tone(seconds=1.0, sample_rate=16000, channels=2)


@pytest.mark.parametrize(
    "raw, declared, present",
    [
        (_wav_bytes(SECOND)[:9000], 64000, 8956),
        (_wav_bytes(SECOND, subtype="FLOAT")[:30000], 128000, None),  # fact and PEAK chunks before the data
        (_wav_bytes(SECOND, subtype="PCM_24")[:-1], 96000, 95999),  # one byte short
    ],
    ids=["pcm16-cut", "float-cut-after-other-chunks", "pcm24-one-byte-short"],
)
def test_a_cut_file_is_truncated(raw, declared, present):
    present = present if present is not None else len(raw) - _data_chunk(raw)[0] - 4
    with pytest.raises(ClipError, match=f"truncated file: the header declares {declared} bytes of audio, "
                                        f"the file holds {present}"):
        read_audio(raw)


def test_a_cut_big_endian_file_is_truncated():
    buffer = io.BytesIO()
    sf.write(buffer, SECOND, 16000, format="WAV", subtype="PCM_16", endian="BIG")
    raw = buffer.getvalue()
    assert raw[:4] == b"RIFX" and _data_chunk(raw, "big")[1] == 64000
    assert read_audio(raw)[0].shape == SECOND.shape
    with pytest.raises(ClipError, match="truncated file: the header declares 64000 bytes"):
        read_audio(raw[:5000])


@pytest.mark.parametrize(
    "make",
    [
        # A chunk after the audio: more bytes in the file than the data chunk declares.
        lambda raw: raw[:4] + (len(raw) + 4).to_bytes(4, "little") + raw[8:] + b"LIST" + (4).to_bytes(4, "little")
        + b"INFO",
        # Junk at the end, outside any chunk.
        lambda raw: raw + b"\0" * 7,
        # Size left unknown by a streaming writer (libsndfile logs "data : 4294967295 (should be 64000)",
        # which the log-parsing check took for a truncation); the audio runs to the end of the file.
        lambda raw: _declaring(raw, 0xFFFFFFFF),
    ],
    ids=["chunk-after-data", "trailing-junk", "unknown-size"],
)
def test_complete_files_are_not_truncated(make):
    samples, sample_rate = read_audio(make(_wav_bytes(SECOND)))
    assert sample_rate == 16000
    np.testing.assert_array_equal(samples, read_audio(_wav_bytes(SECOND))[0])


def test_odd_sized_data_is_padded_not_truncated():
    raw = _wav_bytes(tone(seconds=1001 / 16000, sample_rate=16000), subtype="PCM_U8")
    assert _data_chunk(raw)[1] == 1001 and len(raw) - _data_chunk(raw)[0] - 4 == 1002  # the pad byte
    assert read_audio(raw)[0].shape == (1001, 1)


def test_other_formats_are_read_without_the_wav_check(tmp_path):
    path = tmp_path / "clip.flac"
    sf.write(path, SECOND, 16000, format="FLAC")
    samples, _ = read_audio(path)
    np.testing.assert_allclose(samples, SECOND, atol=1e-4)
