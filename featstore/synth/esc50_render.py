"""Rendering one synthetic ESC-50 recording: its takes, each a 5 s mono 16-bit WAV file.

A recording (one ``src_file``) has one sound source (the parameters of its class
signature), one room or field ambience, one level and one microphone colouring;
each of its takes is a separate stretch of it. A take whose planned sound is
shorter than 5 s ends with digital silence (zeros), as in the real data.
"""

from __future__ import annotations

import os

import numpy as np

from ..esc50 import SAMPLE_RATE
from .esc50_plan import CLIP_FRAMES
from .esc50_signatures import ESC50_SIGNATURES
from .render import wav_bytes
from .signals import coloured_noise, db, unit_rms

__all__ = ["render_esc50_recording"]

_SNR_DB = (3.0, 30.0)  # the sound against its ambience
_FLOOR_DB = -50.0  # the ambience against the sound's peak, at least: a field recording has a noise
# floor, which 16-bit samples would otherwise round to zero under a loud click
_PEAK_DBFS = (-24.0, -1.0)
_FADE_SECONDS = 0.01  # before the digital silence of a padded take
_AUDIO_STREAM = 3  # streams 0 and 1: UrbanSound8K; 2: the ESC-50 plan


def _params_ambience(rng):
    return {"slope": rng.uniform(-6, -1.5), "lo": rng.uniform(20, 100), "hi": rng.uniform(2000, 12000)}


def _colouring(rng) -> dict:
    """A microphone and room: a gentle tilt and one broad resonance or dip."""
    return {"tilt": rng.uniform(-2.0, 2.0), "peak_f": rng.uniform(200, 6000), "peak_db": rng.uniform(-6, 6),
            "peak_q": rng.uniform(0.5, 2.0)}


def _colour(x: np.ndarray, sr: int, c: dict) -> np.ndarray:
    import scipy.fft  # scipy is imported where it is used (see signals.impulse_train)

    n = len(x)
    m = scipy.fft.next_fast_len(n, real=True)
    f = np.fft.rfftfreq(m, 1.0 / sr)
    f[0] = f[1]
    octaves = np.log2(f / c["peak_f"])
    gain_db = c["tilt"] * np.log2(f / 1000.0) + c["peak_db"] * np.exp(-0.5 * (octaves * c["peak_q"] * 2) ** 2)
    spectrum = scipy.fft.rfft(x, m) * (10.0 ** (gain_db / 20.0)).astype(np.float32)
    return scipy.fft.irfft(spectrum, m)[:n].astype(np.float32)


def render_esc50_recording(job: dict, audio_root: str) -> int:
    """Synthesise and write every take of one recording; return the clips written."""
    sr = SAMPLE_RATE
    rng = np.random.default_rng(np.random.SeedSequence(job["seed"], spawn_key=(_AUDIO_STREAM, job["src_file"])))
    params_of, render = ESC50_SIGNATURES[job["target"]]
    params = params_of(rng)
    ambience = _params_ambience(rng)
    colouring = _colouring(rng)
    snr_db = rng.uniform(*_SNR_DB)
    peak_db = rng.uniform(*_PEAK_DBFS)

    for clip in job["clips"]:
        n = clip["sound_frames"]
        source = unit_rms(render(rng, params, n, sr, n < CLIP_FRAMES))
        noise = coloured_noise(rng, n, sr, slope=ambience["slope"], lo=ambience["lo"], hi=ambience["hi"])
        gain = max(db(-(snr_db + rng.uniform(-3.0, 3.0))), db(_FLOOR_DB) * float(np.abs(source).max()))
        mix = _colour(source + np.float32(gain) * noise, sr, colouring)
        if n < CLIP_FRAMES:
            fade = min(n, int(_FADE_SECONDS * sr))
            mix[n - fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        peak = float(np.abs(mix).max())
        target = db(min(-0.5, peak_db + rng.uniform(-2.0, 2.0)))
        data = np.zeros(CLIP_FRAMES, dtype=np.float32)
        data[:n] = mix * np.float32(target / peak if peak > 0 else 1.0)
        with open(os.path.join(audio_root, clip["filename"]), "wb") as handle:
            handle.write(wav_bytes(data, sr, "PCM_16"))
    return len(job["clips"])
