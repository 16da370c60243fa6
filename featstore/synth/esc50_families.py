"""Three procedural families of sounds for the synthetic ESC-50: calls, textures and impacts.

A family renders many classes: each class gives it its own *region* of parameters
(see :mod:`~featstore.synth.esc50_signatures`). A region maps each parameter to
a ``(low, high)`` tuple, drawn uniformly once per recording, to a list (whose
items are drawn the same way), or to a constant. Renderers have the interface of
the UrbanSound8K signatures: ``render(rng, params, n, sr, short)`` returns ``n``
float32 samples at ``sr`` Hz; ``short`` asks for a sound that starts at once.

* :func:`call`: a voice or a tonal call, repeated in bouts: a harmonic tone with a
  pitch contour (start, peak, end), a formant, breath noise, tremolo and vibrato.
* :func:`texture`: a continuous noise with a spectral tilt and band, a slow
  modulation (waves, gusts, strokes, one swell), sparse drops or crackles and an
  optional drone.
* :func:`impacts`: a train of clicks, knocks or strikes (regular, random, in
  groups, or a crash and its debris), each a noise burst with a resonant ring and
  a low thud.
"""

from __future__ import annotations

import numpy as np

from .signals import (
    coloured_noise,
    db,
    decay,
    event_start,
    harmonic_table,
    impulse_train,
    n_harmonics,
    osc,
    sine,
    time_axis,
    unit_rms,
)

__all__ = ["call", "draw_region", "impacts", "texture"]


def draw_region(rng, value):
    """Draw a region: ``(low, high)`` tuples uniformly, lists item by item, the rest as is."""
    if isinstance(value, dict):
        return {key: draw_region(rng, item) for key, item in value.items()}
    if isinstance(value, tuple):
        return float(rng.uniform(*value))
    if isinstance(value, list):
        return [draw_region(rng, item) for item in value]
    return value


def _family(defaults: dict, render):
    """A function that turns a region (keyword overrides of ``defaults``) into a signature."""

    def signature(**region):
        unknown = set(region) - set(defaults)
        if unknown:
            raise TypeError(f"{render.__name__} has no parameter {sorted(unknown)}")
        spec = {**defaults, **region}
        return (lambda rng: draw_region(rng, spec)), render

    signature.__name__ = render.__name__.lstrip("_")
    return signature


# --------------------------------------------------------------------------- #
# Calls
# --------------------------------------------------------------------------- #

_CALL = {
    "f0": (200.0, 400.0),  # Hz, at the start of a call
    "rise": (1.0, 1.0), "fall": (1.0, 1.0), "peak_at": (0.3, 0.5),  # peak/start, end/peak, where
    "length": (0.2, 0.5), "gap": (0.2, 0.8),  # s: one call, silence after it
    "bout": (1.0, 1.0), "pause": (0.5, 1.5),  # calls per bout, s between bouts
    "tilt": (1.0, 1.5), "formant": (800.0, 1500.0), "formant_bw": (200.0, 400.0),
    "noise": (0.0, 0.1), "noise_lo": (300.0, 600.0), "noise_hi": (3000.0, 6000.0),
    "am_rate": (0.0, 0.0), "am_depth": (0.0, 0.0),  # tremolo or pulses, Hz and 0..1
    "vib_rate": (4.0, 7.0), "vib_depth": (0.0, 0.01),
    "shape": (0.5, 1.0),  # envelope exponent: small is flat (a beep), large is peaky
    "top": 8000.0,  # Hz, highest harmonic
}


def _call(rng, p, n, sr, short):
    total = n / sr
    f_top = p["f0"] * max(1.0, p["rise"]) * 1.25 * (1 + p["vib_depth"])
    k = np.arange(1, n_harmonics(f_top, sr, p["top"]) + 1)
    kf = k * p["f0"]
    amps = k ** -p["tilt"] * (0.3 + 3 * np.exp(-(((kf - p["formant"]) / p["formant_bw"]) ** 2)))
    table = harmonic_table(amps, rng)
    noise = None
    if p["noise"] > 0:
        noise = coloured_noise(rng, n, sr, lo=p["noise_lo"], hi=min(p["noise_hi"], 0.45 * sr))
    x = np.zeros(n, dtype=np.float32)
    t = event_start(rng, total, short)
    while t < total:
        for _ in range(max(1, int(round(p["bout"] * rng.uniform(0.6, 1.4))))):
            length = p["length"] * rng.uniform(0.8, 1.25)
            i0, i1 = int(t * sr), min(n, int((t + length) * sr))
            if i1 - i0 > 16:
                m = i1 - i0
                u = np.linspace(0, 1, m, dtype=np.float32)
                f_start = p["f0"] * rng.uniform(0.93, 1.07)
                f_peak = f_start * p["rise"]
                freq = np.interp(u, [0.0, p["peak_at"], 1.0], [f_start, f_peak, f_peak * p["fall"]])
                local = time_axis(m, sr)
                if p["vib_depth"] > 0:
                    freq = freq * (1 + p["vib_depth"] * np.sin(np.float32(2 * np.pi * p["vib_rate"]) * local))
                env = np.abs(np.sin(np.float32(np.pi) * u)) ** np.float32(p["shape"])
                if p["am_depth"] > 0:
                    pulse = 0.5 - 0.5 * np.cos(np.float32(2 * np.pi * p["am_rate"]) * local)
                    env = env * (1 - p["am_depth"] * pulse)
                body = (1 - p["noise"]) * osc(table, freq.astype(np.float32), m, sr, rng.random())
                if noise is not None:
                    body = body + p["noise"] * noise[i0:i1]
                x[i0:i1] += db(rng.uniform(-4, 0)) * env * body
            t += length + p["gap"] * rng.uniform(0.7, 1.3)
            if t >= total:
                break
        t += p["pause"] * rng.uniform(0.6, 1.4)
    return x


# --------------------------------------------------------------------------- #
# Textures
# --------------------------------------------------------------------------- #

_TEXTURE = {
    "slope": (-3.0, -1.0), "lo": (50.0, 200.0), "hi": (4000.0, 12000.0), "bed_db": 0.0,
    "mod": "none",  # none, sine (waves), gusts (slow random), strokes (back and forth), swell (one)
    "mod_rate": (0.2, 0.5),  # Hz; for a swell, its width in s
    "mod_depth": (0.0, 0.0),
    "drops": (0.0, 0.0),  # drops, crackles or bubbles per second
    "drop_f": (1000.0, 4000.0), "drop_glide": (1.0, 1.0), "drop_tau": (0.005, 0.02),
    "drop_db": (-6.0, 0.0), "drop_noise": (0.0, 0.0),  # share of noise click against tone
    "tone_f0": (100.0, 200.0), "tone_db": -120.0, "tone_tilt": (1.0, 2.0),  # a drone
}


def _modulation(rng, p, n, sr):
    t = time_axis(n, sr)
    depth = np.float32(p["mod_depth"])
    if p["mod"] == "sine":
        wave = 0.5 + 0.5 * np.sin(np.float32(2 * np.pi * p["mod_rate"]) * t + np.float32(rng.uniform(0, 6.3)))
    elif p["mod"] == "gusts":
        slow = coloured_noise(rng, n, sr, hi=p["mod_rate"], order=2)
        return np.exp(depth * np.clip(slow, -3, 3)).astype(np.float32)
    elif p["mod"] == "strokes":
        wave = np.abs(np.sin(np.float32(np.pi * p["mod_rate"]) * t + np.float32(rng.uniform(0, 3.1)))) ** 1.5
    elif p["mod"] == "swell":
        centre = rng.uniform(0.1, 0.9) * n / sr
        wave = np.exp(-0.5 * ((t - np.float32(centre)) / np.float32(p["mod_rate"])) ** 2)
    else:
        return np.ones(n, dtype=np.float32)
    return (1 - depth) + depth * wave.astype(np.float32)


def _drops(rng, p, n, sr):
    """Sparse drops (tones gliding up) or crackles (noise clicks), four variants per clip."""
    count = int(rng.poisson(p["drops"] * n / sr))
    if count == 0:
        return None
    times = rng.uniform(0, n / sr, count)
    amps = db(p["drop_db"]) * rng.uniform(0.1, 1.0, count) ** 2
    variant = rng.integers(0, 4, count)
    x = np.zeros(n, dtype=np.float32)
    for v in range(4):
        tau = p["drop_tau"] * rng.uniform(0.7, 1.4)
        m = min(n, max(8, int(6 * tau * sr)))
        f = min(p["drop_f"] * rng.uniform(0.7, 1.4), 0.4 * sr / p["drop_glide"])
        tone = sine(np.linspace(f, f * p["drop_glide"], m, dtype=np.float32), m, sr)
        click = coloured_noise(rng, m, sr, lo=min(f, 0.4 * sr))
        kernel = ((1 - p["drop_noise"]) * tone + p["drop_noise"] * click) * decay(m, sr, tau, attack=0.0005)
        chosen = variant == v
        x += impulse_train(n, sr, times[chosen], amps[chosen], kernel)
    return x


def _texture(rng, p, n, sr, short):
    hi = min(p["hi"], 0.45 * sr)
    x = db(p["bed_db"]) * coloured_noise(rng, n, sr, slope=p["slope"], lo=p["lo"], hi=hi)
    x = x * _modulation(rng, p, n, sr)
    if p["drops"] > 0:
        drops = _drops(rng, p, n, sr)
        if drops is not None:
            x += drops
    if p["tone_db"] > -100:
        k = np.arange(1, n_harmonics(p["tone_f0"], sr, 5000) + 1)
        drone = osc(harmonic_table(k ** -p["tone_tilt"], rng), p["tone_f0"] * rng.uniform(0.97, 1.03), n, sr)
        x += db(p["tone_db"]) * unit_rms(drone)
    return x


# --------------------------------------------------------------------------- #
# Impacts
# --------------------------------------------------------------------------- #

_IMPACTS = {
    "pattern": "regular",  # regular, random, groups, crash
    "rate": (1.0, 2.0),  # events per second (within a group for "groups")
    "jitter": (0.02, 0.08),  # of the period
    "group": (2.0, 4.0), "pause": (0.5, 1.5),  # events per group and s between groups;
    # for "crash": debris pieces and their decay time (s)
    "lo": (200.0, 800.0), "hi": (3000.0, 8000.0), "tau": (0.005, 0.02),  # the click
    "ring_f": (500.0, 2000.0), "ring_tau": (0.01, 0.05), "ring_db": -120.0, "partials": [1.0],
    "thud_f": (60.0, 150.0), "thud_tau": (0.02, 0.05), "thud_db": -120.0,
    "spread": (0.3, 0.6),  # how much the strength of the events varies (0: not at all)
}


def _kernel(rng, p, n, sr):
    tau, ring_tau = p["tau"] * rng.uniform(0.8, 1.25), p["ring_tau"] * rng.uniform(0.8, 1.25)
    longest = max(tau, ring_tau if p["ring_db"] > -100 else 0, p["thud_tau"] if p["thud_db"] > -100 else 0)
    m = min(n, int((5 * longest + 0.005) * sr))
    kernel = coloured_noise(rng, m, sr, lo=p["lo"], hi=min(p["hi"], 0.45 * sr)) * decay(m, sr, tau, attack=0.0003)
    if p["ring_db"] > -100:
        f = p["ring_f"] * rng.uniform(0.95, 1.05)
        for i, ratio in enumerate(p["partials"]):
            if f * ratio < 0.45 * sr:
                level = db(p["ring_db"]) * rng.uniform(0.4, 1.0) / np.sqrt(i + 1)
                kernel += level * sine(f * ratio, m, sr, rng.uniform(0, 6.3)) * decay(m, sr, ring_tau / np.sqrt(ratio),
                                                                                     attack=0.0005)
    if p["thud_db"] > -100:
        kernel += db(p["thud_db"]) * sine(p["thud_f"], m, sr) * decay(m, sr, p["thud_tau"], attack=0.001)
    return kernel


def _impact_times(rng, p, total, short):
    t0 = event_start(rng, total, short)
    if p["pattern"] == "crash":
        debris = t0 + 0.01 + rng.exponential(p["pause"], int(p["group"]))
        times = np.concatenate([[t0], debris])
        amps = np.concatenate([[1.0], 0.5 * np.exp(-(debris - t0) / p["pause"]) * rng.uniform(0.2, 1.0, len(debris))])
        return times, amps
    times = []
    t = t0
    while t < total:
        if p["pattern"] == "random":
            times.append(t)
            t += rng.exponential(1.0 / p["rate"])
        elif p["pattern"] == "groups":
            for _ in range(max(1, int(p["group"] * rng.uniform(0.7, 1.3)))):
                times.append(t)
                t += (1.0 / p["rate"]) * (1 + p["jitter"] * rng.standard_normal())
            t += p["pause"] * rng.uniform(0.6, 1.4)
        else:
            times.append(t)
            t += (1.0 / p["rate"]) * (1 + p["jitter"] * rng.standard_normal())
    times = np.asarray(times)
    return times, 1 - p["spread"] * rng.random(len(times))


def _impacts(rng, p, n, sr, short):
    times, amps = _impact_times(rng, p, n / sr, short)
    variant = rng.integers(0, 3, len(times))
    x = np.zeros(n, dtype=np.float32)
    for v in range(3):
        chosen = variant == v
        if chosen.any():
            x += impulse_train(n, sr, times[chosen], amps[chosen], _kernel(rng, p, n, sr))
    return x


call = _family(_CALL, _call)
texture = _family(_TEXTURE, _texture)
impacts = _family(_IMPACTS, _impacts)
