"""Rendering one synthetic recording: its sound in urban background noise, written as WAV files.

A recording (one ``fsID``) has one sound source (the parameters of its class
signature), one background, one level, one stereo image and one format. Each of
its occurrences is rendered once, mixed, and cut into the slices of the plan, so
that overlapping slices share their audio as in the real data.
"""

from __future__ import annotations

import io
import math
import os

import numpy as np
import soundfile as sf

from ..urbansound8k import N_CLASSES
from .plan import CLIP_SECONDS
from .signals import coloured_noise, db, time_axis, unit_rms
from .signatures import SIGNATURES

__all__ = ["render_recording", "wav_bytes"]

# Signal-to-noise ratios (dB) of foreground (salience 1) and background (salience 2)
# occurrences against the urban background noise.
_SNR_DB = {1: (0.0, 20.0), 2: (-8.0, 6.0)}
_PEAK_DBFS = (-30.0, 0.0)
_AUDIO_STREAM = 1  # the plan draws from stream 0 (see plan.py)


def _params_background(rng):
    return {
        "slope": rng.uniform(-6, -1.5), "lo": rng.uniform(20, 80), "hi": rng.uniform(2500, 16000),
        "traffic": rng.random() < 0.4, "traffic_hi": rng.uniform(150, 500), "traffic_db": rng.uniform(-6, 6),
        "sway_rate": rng.uniform(0.05, 0.5), "sway": rng.uniform(0.0, 0.5),
        "distractors_per_s": rng.uniform(0.0, 0.3),
    }


def _background(rng, p, n, sr):
    x = coloured_noise(rng, n, sr, slope=p["slope"], lo=p["lo"], hi=p["hi"])
    if p["traffic"]:
        x = x + db(p["traffic_db"]) * coloured_noise(rng, n, sr, slope=-3, lo=20, hi=p["traffic_hi"])
    t = time_axis(n, sr)
    x *= 1 + p["sway"] * np.sin(np.float32(2 * np.pi * p["sway_rate"]) * t + np.float32(rng.uniform(0, 6.3)))
    return unit_rms(x)


def _distractors(rng, p, n, sr, class_id):
    """Faint sounds of other classes, as in real street recordings (or None)."""
    total = n / sr
    count = rng.poisson(p["distractors_per_s"] * total)
    if count == 0:
        return None
    x = np.zeros(n, dtype=np.float32)
    for _ in range(count):
        other = int(rng.choice([c for c in range(N_CLASSES) if c != class_id]))
        params_of, render = SIGNATURES[other]
        length = min(n, int(rng.uniform(0.3, 2.0) * sr))
        i0 = int(rng.integers(0, n - length + 1))
        x[i0:i0 + length] += db(rng.uniform(-20, -6)) * unit_rms(render(rng, params_of(rng), length, sr, True))
    return x


def wav_bytes(data: np.ndarray, sr: int, subtype: str) -> bytes:
    """Encode a WAV file; the timestamp libsndfile puts in a PEAK chunk is zeroed so
    that the bytes depend on the samples only."""
    buffer = io.BytesIO()
    sf.write(buffer, data, sr, subtype=subtype, format="WAV")
    raw = bytearray(buffer.getvalue())
    pos = 12  # after "RIFF" <size> "WAVE"
    while pos + 8 <= len(raw):
        chunk, size = bytes(raw[pos:pos + 4]), int.from_bytes(raw[pos + 4:pos + 8], "little")
        if chunk == b"PEAK" and size >= 8:
            raw[pos + 12:pos + 16] = b"\0\0\0\0"  # version (4 bytes), then timestamp
        if chunk == b"data":
            break
        pos += 8 + size + (size & 1)
    return bytes(raw)


def render_recording(job: dict, audio_root: str) -> int:
    """Synthesise and write every slice of one recording; return the clips written."""
    sr, channels, class_id = job["sample_rate"], job["channels"], job["classID"]
    rng = np.random.default_rng(np.random.SeedSequence(job["seed"], spawn_key=(_AUDIO_STREAM, job["fsID"])))
    params_of, render = SIGNATURES[class_id]
    params = params_of(rng)
    background = _params_background(rng)
    peak_db = rng.uniform(*_PEAK_DBFS)
    pan = rng.uniform(-0.6, 0.6)
    delay = int(round(rng.uniform(-0.8e-3, 0.8e-3) * sr))
    rho = rng.uniform(0.3, 0.9)
    folder = os.path.join(audio_root, f"fold{job['fold']}")

    for clips in job["occurrences"]:
        t_first = min(clip["start"] for clip in clips)
        offsets = [int(round((clip["start"] - t_first) * sr)) for clip in clips]
        n = max(o + clip["n_frames"] for o, clip in zip(offsets, clips))
        short = len(clips) == 1 and clips[0]["n_frames"] < round(CLIP_SECONDS * sr)

        source = unit_rms(render(rng, params, n, sr, short))
        extra = _distractors(rng, background, n, sr, class_id)
        if extra is not None:
            source = source + extra
        noise = _background(rng, background, n, sr)
        noise_gain = np.float32(db(-rng.uniform(*_SNR_DB[clips[0]["salience"]])))
        if channels == 1:
            mix = (source + noise_gain * noise)[:, None]
        else:
            angle = (pan + 1) * np.pi / 4
            right = np.zeros_like(source)
            if delay >= 0:
                right[delay:] = source[:n - delay]
            else:
                right[:delay] = source[-delay:]
            noise_right = rho * noise + math.sqrt(1 - rho**2) * np.roll(noise, n // 2 + 1)
            mix = np.stack(
                [math.sqrt(2) * math.cos(angle) * source + noise_gain * noise,
                 math.sqrt(2) * math.sin(angle) * right + noise_gain * noise_right],
                axis=1,
            ).astype(np.float32, copy=False)
        peak = float(np.abs(mix).max())
        target = db(min(0.0, peak_db + rng.uniform(-2.0, 2.0)))
        mix *= np.float32(target / peak if peak > 0 else 1.0)

        for offset, clip in zip(offsets, clips):
            data = mix[offset:offset + clip["n_frames"]]
            with open(os.path.join(folder, clip["slice_file_name"]), "wb") as handle:
                handle.write(wav_bytes(data, sr, job["subtype"]))
    return sum(len(clips) for clips in job["occurrences"])
