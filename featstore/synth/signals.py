"""Signal building blocks of the synthesiser: oscillators, noise, envelopes, impulse trains.

Every function returns float32 arrays of ``n`` samples at ``sr`` Hz (vectorised
numpy), and draws its random values from the ``rng`` it is given, so that a seed
fixes every sample.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "TABLE_SIZE",
    "coloured_noise",
    "db",
    "decay",
    "draw_from",
    "event_start",
    "gate",
    "harmonic_table",
    "impulse_train",
    "n_harmonics",
    "on_off_segments",
    "osc",
    "sine",
    "time_axis",
    "unit_rms",
]

TABLE_SIZE = 4096
"""Samples in one period of a wavetable."""


def db(value: float) -> float:
    return 10.0 ** (value / 20.0)


def unit_rms(x: np.ndarray) -> np.ndarray:
    """Scale to unit RMS (silence stays silent)."""
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    return x / rms if rms > 1e-12 else x


def time_axis(n: int, sr: int) -> np.ndarray:
    return np.arange(n, dtype=np.float32) / np.float32(sr)


def harmonic_table(amps: np.ndarray, rng) -> np.ndarray:
    """One period of a waveform with harmonic amplitudes ``amps`` (k = 1, 2, ...)."""
    amps = np.asarray(amps, dtype=np.float64)
    k = np.arange(1, len(amps) + 1)[:, None]
    phase = rng.uniform(0, 2 * np.pi, size=(len(amps), 1))
    x = np.arange(TABLE_SIZE)[None, :] / TABLE_SIZE
    table = (amps[:, None] * np.sin(2 * np.pi * k * x + phase)).sum(axis=0)
    return (table / max(np.abs(table).max(), 1e-12)).astype(np.float32)


def n_harmonics(f_max: float, sr: int, limit: float = np.inf) -> int:
    """Harmonics of ``f_max`` that stay below 0.45 * sr (no aliasing) and ``limit``."""
    return max(1, int(min(0.45 * sr, limit) // max(f_max, 1.0)))


def osc(table: np.ndarray, freq, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    """Wavetable oscillator; ``freq`` is a scalar or an array of ``n`` values in Hz."""
    if np.ndim(freq) == 0:
        phase = phase0 + (float(freq) / sr) * np.arange(n, dtype=np.float64)
    else:
        phase = phase0 + np.cumsum(freq, dtype=np.float64) / sr
    index = (np.mod(phase, 1.0) * TABLE_SIZE).astype(np.int32)
    np.minimum(index, TABLE_SIZE - 1, out=index)
    return table[index]


def sine(freq, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    if np.ndim(freq) == 0:
        phase = phase0 + (2 * np.pi * float(freq) / sr) * np.arange(n, dtype=np.float64)
    else:
        phase = phase0 + 2 * np.pi * np.cumsum(freq, dtype=np.float64) / sr
    return np.sin(np.mod(phase, 2 * np.pi).astype(np.float32))


def coloured_noise(rng, n: int, sr: int, *, slope: float = 0.0, lo: float | None = None,
           hi: float | None = None, order: int = 2) -> np.ndarray:
    """Unit-RMS Gaussian noise with a spectral tilt of ``slope`` dB/octave, band-limited
    by Butterworth-like high-pass ``lo`` and low-pass ``hi`` magnitude responses (Hz)."""
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    import scipy.fft  # here, not at the top: see impulse_train

    m = scipy.fft.next_fast_len(max(n, 16), real=True)
    spectrum = scipy.fft.rfft(rng.standard_normal(m, dtype=np.float32))
    f = np.fft.rfftfreq(m, 1.0 / sr).astype(np.float32)
    f[0] = f[1]
    gain = (f / np.float32(1000.0)) ** np.float32(slope / 6.0206)
    if lo is not None:
        gain /= np.sqrt(1 + (np.float32(lo) / f) ** (2 * order))
    if hi is not None and hi < sr / 2:
        gain /= np.sqrt(1 + (f / np.float32(hi)) ** (2 * order))
    gain[0] = 0
    return unit_rms(scipy.fft.irfft(spectrum * gain, m)[:n].astype(np.float32))


def on_off_segments(rng, total: float, on: tuple, off: tuple, continuous: bool) -> list:
    """(start, length) pairs in seconds of on/off activity over ``total`` seconds."""
    if continuous:
        return [(0.0, total)]
    out, t = [], rng.uniform(0, 0.3) * min(total, 1.0)
    while t < total:
        length = rng.uniform(*on)
        out.append((t, length))
        t += length + rng.uniform(*off)
    return out


def gate(n: int, sr: int, segments, attack: float, release: float) -> np.ndarray:
    """Envelope that is 1 inside the segments, with linear attack and release ramps."""
    env = np.zeros(n, dtype=np.float32)
    for start, length in segments:
        i0, i1 = int(start * sr), min(n, int((start + length) * sr))
        if i1 - i0 < 2:
            continue
        seg = np.ones(i1 - i0, dtype=np.float32)
        a = min(int(attack * sr), (i1 - i0) // 2)
        r = min(int(release * sr), (i1 - i0) - a)
        if a:
            seg[:a] = np.linspace(0, 1, a, dtype=np.float32)
        if r:
            seg[-r:] = np.minimum(seg[-r:], np.linspace(1, 0, r, dtype=np.float32))
        np.maximum(env[i0:i1], seg, out=env[i0:i1])
    return env


def decay(n: int, sr: int, tau: float, attack: float = 0.0) -> np.ndarray:
    t = time_axis(n, sr)
    env = np.exp(-t / np.float32(tau))
    if attack > 0:
        env *= np.minimum(1.0, t / np.float32(attack))
    return env


def impulse_train(n: int, sr: int, times, amps, kernel: np.ndarray) -> np.ndarray:
    """Sum of copies of ``kernel`` starting at ``times`` (s) scaled by ``amps``."""
    train = np.zeros(n, dtype=np.float32)
    idx = (np.asarray(times) * sr).astype(np.int64)
    keep = (idx >= 0) & (idx < n)
    np.add.at(train, idx[keep], np.asarray(amps, dtype=np.float32)[keep])
    if not keep.any():
        return train
    # scipy's modules are imported where they are used: they take longer to import
    # than the rest of featstore, and only the generator needs them.
    import scipy.signal

    return scipy.signal.oaconvolve(train, kernel[:n])[:n].astype(np.float32, copy=False)


def event_start(rng, total: float, short: bool) -> float:
    """Onset of the first event: at once in a short clip, anywhere early otherwise."""
    return rng.uniform(0.0, 0.06) * total if short else rng.uniform(0.0, min(1.5, 0.4 * total))


def draw_from(rng, shares: dict):
    """A key of ``shares`` drawn with a probability proportional to its value."""
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]
