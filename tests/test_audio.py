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
