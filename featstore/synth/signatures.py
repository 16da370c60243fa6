"""The ten class signatures: how each UrbanSound8K class sounds in the synthetic data.

Each class has two functions: ``params(rng)`` draws the parameters of one
recording (its sound source), and ``render(rng, params, n, sr, short)`` renders
one occurrence of ``n`` samples at ``sr`` Hz from them (``short``: a clip shorter
than 4 s, whose event starts at once). :data:`SIGNATURES` lists the pairs by
classID. Some pairs are confusable on purpose, as in the real data: jackhammer and
engine_idling, drilling and air_conditioner, street_music and children_playing,
gun_shot and dog_bark.
"""

from __future__ import annotations

import math

import numpy as np

from .signals import (
    coloured_noise,
    db,
    decay,
    draw_from,
    event_start,
    gate,
    harmonic_table,
    impulse_train,
    n_harmonics,
    on_off_segments,
    osc,
    sine,
    time_axis,
    unit_rms,
)

__all__ = ["SIGNATURES"]


def _params_air_conditioner(rng):
    return {
        "f0": rng.uniform(45, 130), "tilt": rng.uniform(0.8, 2.2),
        "hum_db": rng.uniform(-14, 2), "noise_hi": rng.uniform(300, 3000),
        "noise_slope": rng.uniform(-6, -1), "am_rate": rng.uniform(3, 25),
        "am_depth": rng.uniform(0.0, 0.3),
        "whine": rng.random() < 0.35, "whine_f": rng.uniform(400, 2200), "whine_db": rng.uniform(-24, -8),
    }


def _air_conditioner(rng, p, n, sr, short):
    f0 = p["f0"] * rng.uniform(0.99, 1.01)
    k = np.arange(1, min(n_harmonics(f0, sr, 1500), 30) + 1)
    hum = osc(harmonic_table(k ** -p["tilt"] * rng.uniform(0.5, 1, len(k)), rng), f0, n, sr)
    x = db(p["hum_db"]) * unit_rms(hum) + coloured_noise(rng, n, sr, slope=p["noise_slope"], lo=30, hi=p["noise_hi"])
    t = time_axis(n, sr)
    x *= 1 + p["am_depth"] * np.sin(np.float32(2 * np.pi * p["am_rate"]) * t)
    if p["whine"]:
        x += db(p["whine_db"]) * math.sqrt(2) * sine(p["whine_f"] * rng.uniform(0.98, 1.02), n, sr)
    return x


def _params_car_horn(rng):
    f1 = rng.uniform(330, 520)
    return {
        "f1": f1, "f2": f1 * rng.uniform(1.15, 1.32) if rng.random() < 0.7 else None,
        "tilt": rng.uniform(0.5, 1.5), "bright": rng.uniform(2000, 7000),
        "attack": rng.uniform(0.005, 0.03), "release": rng.uniform(0.02, 0.1),
    }


def _car_horn(rng, p, n, sr, short):
    total = n / sr
    if short:
        start = event_start(rng, total, True)
        honks = [(start, max(0.05, total * rng.uniform(0.6, 1.0) - start))]
    else:
        honks, t = [], event_start(rng, total, False)
        for _ in range(int(rng.integers(1, 5))):
            length = rng.uniform(0.15, 1.4)
            honks.append((t, length))
            t += length + rng.uniform(0.08, 1.5)
    f_top = max(p["f1"], p["f2"] or 0)
    k = np.arange(1, n_harmonics(f_top, sr, 9000) + 1)
    amps = k ** -p["tilt"] / (1 + (k * p["f1"] / p["bright"]) ** 2)
    table = harmonic_table(amps, rng)
    tone = osc(table, p["f1"] * rng.uniform(0.99, 1.01), n, sr)
    if p["f2"]:
        tone = tone + osc(table, p["f2"] * rng.uniform(0.99, 1.01), n, sr, rng.random())
    return tone * gate(n, sr, honks, p["attack"], p["release"])


def _params_children_playing(rng):
    lo = rng.uniform(200, 320)
    return {
        "voices": int(rng.integers(3, 9)), "f_lo": lo, "f_hi": lo * rng.uniform(1.4, 2.3),
        "formants": (rng.uniform(500, 1100), rng.uniform(1300, 3000)),
        "syllable": (rng.uniform(0.06, 0.15), rng.uniform(0.2, 0.5)),
        "gap": rng.uniform(0.05, 0.5), "vib_rate": rng.uniform(4, 8),
        "vib_depth": rng.uniform(0.01, 0.05), "crowd_db": rng.uniform(-15, -2),
    }


def _children_playing(rng, p, n, sr, short):
    t = time_axis(n, sr)
    total = n / sr
    x = db(p["crowd_db"]) * coloured_noise(rng, n, sr, lo=300, hi=3500)
    f_mid = 0.5 * (p["f_lo"] + p["f_hi"])
    k = np.arange(1, n_harmonics(p["f_hi"] * 1.5, sr, 6000) + 1)
    f1, f2 = p["formants"]
    for _ in range(p["voices"]):
        shift = rng.uniform(0.85, 1.2)
        kf = k * f_mid * shift
        amps = (1 / k) * (0.3 + 3 * np.exp(-(((kf - f1) / 250) ** 2)) + 2 * np.exp(-(((kf - f2) / 450) ** 2)))
        table = harmonic_table(amps, rng)
        freq = np.full(n, f_mid * shift, dtype=np.float32)
        env = np.zeros(n, dtype=np.float32)
        s = rng.uniform(0, 0.4) * min(total, 1.0)
        while s < total:
            length = rng.uniform(*p["syllable"])
            i0, i1 = int(s * sr), min(n, int((s + length) * sr))
            if i1 - i0 > 8:
                fa = rng.uniform(p["f_lo"], p["f_hi"]) * shift
                fb = fa * rng.uniform(0.75, 1.35)
                freq[i0:i1] = np.linspace(fa, fb, i1 - i0, dtype=np.float32)
                env[i0:i1] = np.abs(np.sin(np.linspace(0, np.pi, i1 - i0, dtype=np.float32))) ** 0.7
            s += length + rng.exponential(p["gap"])
        vib = 1 + p["vib_depth"] * np.sin(np.float32(2 * np.pi * p["vib_rate"] * rng.uniform(0.8, 1.2)) * t
                                          + np.float32(rng.uniform(0, 2 * np.pi)))
        x += db(rng.uniform(-10, 0)) * osc(table, freq * vib, n, sr) * env
    return x


def _params_dog_bark(rng):
    return {
        "f0": rng.uniform(280, 900), "fall": rng.uniform(0.6, 0.95),
        "length": rng.uniform(0.07, 0.25), "tau": rng.uniform(0.03, 0.12),
        "noise_mix": rng.uniform(0.2, 0.8), "band": (rng.uniform(300, 1000), rng.uniform(2000, 6000)),
        "tilt": rng.uniform(0.6, 1.6), "bout": int(rng.integers(1, 5)),
        "gap": rng.uniform(0.12, 0.5), "pause": rng.uniform(0.4, 2.5),
    }


def _dog_bark(rng, p, n, sr, short):
    total = n / sr
    k = np.arange(1, n_harmonics(p["f0"] * 1.1, sr, 7000) + 1)
    table = harmonic_table(k ** -p["tilt"], rng)
    noise = coloured_noise(rng, n, sr, lo=p["band"][0], hi=p["band"][1])
    x = np.zeros(n, dtype=np.float32)
    t = event_start(rng, total, short)
    while t < total:
        for _ in range(int(rng.integers(1, p["bout"] + 1))):
            length = p["length"] * rng.uniform(0.7, 1.4)
            i0, i1 = int(t * sr), min(n, int((t + length) * sr))
            if i1 - i0 > 8:
                f0 = p["f0"] * rng.uniform(0.9, 1.1)
                freq = np.linspace(f0, f0 * p["fall"], i1 - i0, dtype=np.float32)
                env = decay(i1 - i0, sr, p["tau"], attack=rng.uniform(0.003, 0.012))
                body = (1 - p["noise_mix"]) * osc(table, freq, i1 - i0, sr) + p["noise_mix"] * noise[i0:i1]
                x[i0:i1] += db(rng.uniform(-4, 0)) * env * body
            t += length + p["gap"] * rng.uniform(0.7, 1.3)
            if t >= total:
                break
        t += p["pause"] * rng.uniform(0.5, 1.5)
    return x


def _params_drilling(rng):
    low = rng.random() < 0.25
    return {
        "f0": rng.uniform(350, 1000) if low else rng.uniform(1000, 4000),
        "tilt": rng.uniform(0.8, 2.5), "wobble_rate": rng.uniform(2, 12),
        "wobble": rng.uniform(0.003, 0.04), "noise_db": rng.uniform(-12, 3),
        "band": (rng.uniform(300, 1500), rng.uniform(3000, 9000)),
        "continuous": rng.random() < 0.5, "spin": rng.uniform(0.05, 0.3),
    }


def _drilling(rng, p, n, sr, short):
    total = n / sr
    segments = on_off_segments(rng, total, (0.5, 3.0), (0.1, 1.0), p["continuous"] or short)
    env = gate(n, sr, segments, p["spin"], p["spin"] / 2)
    t = time_axis(n, sr)
    f0 = p["f0"] * rng.uniform(0.97, 1.03)
    wobble = 1 + p["wobble"] * np.sin(np.float32(2 * np.pi * p["wobble_rate"]) * t)
    freq = f0 * wobble * (0.55 + 0.45 * env)  # spins up and down with the motor
    k = np.arange(1, min(n_harmonics(f0 * 1.1, sr, 12000), 4) + 1)
    tone = osc(harmonic_table(k ** -p["tilt"], rng), freq, n, sr)
    motor = db(p["noise_db"]) * coloured_noise(rng, n, sr, lo=p["band"][0], hi=p["band"][1])
    return (tone + motor) * env


def _params_engine_idling(rng):
    return {
        "f0": rng.uniform(18, 60), "res_f": rng.uniform(80, 500), "res_bw": rng.uniform(50, 300),
        "tilt": rng.uniform(0.4, 1.4), "rpm_depth": rng.uniform(0.005, 0.03),
        "rpm_rate": rng.uniform(0.2, 2.0), "rumble_hi": rng.uniform(150, 800),
        "rumble_db": rng.uniform(-12, 0),
    }


def _engine_idling(rng, p, n, sr, short):
    t = time_axis(n, sr)
    f0 = p["f0"] * rng.uniform(0.97, 1.03)
    k = np.arange(1, min(n_harmonics(f0 * 1.05, sr, 4000), 150) + 1)
    amps = k ** -p["tilt"] * (0.2 + 4 * np.exp(-(((k * f0 - p["res_f"]) / p["res_bw"]) ** 2)))
    wobble = np.sin(np.float32(2 * np.pi * p["rpm_rate"]) * t + np.float32(rng.uniform(0, 6.3)))
    rpm = 1 + p["rpm_depth"] * wobble
    x = unit_rms(osc(harmonic_table(amps * rng.uniform(0.6, 1, len(k)), rng), f0 * rpm, n, sr))
    return x + db(p["rumble_db"]) * coloured_noise(rng, n, sr, slope=-3, lo=20, hi=p["rumble_hi"])


def _params_gun_shot(rng):
    mode = draw_from(rng, {"single": 0.55, "few": 0.3, "burst": 0.15})
    return {
        "mode": mode, "tau": rng.uniform(0.003, 0.03), "hi": rng.uniform(1500, 9000),
        "boom_f": rng.uniform(50, 200), "boom_tau": rng.uniform(0.02, 0.1), "boom_db": rng.uniform(-12, 0),
        "rt60": rng.uniform(0.2, 1.6), "tail_db": rng.uniform(-26, -8), "tail_hi": rng.uniform(800, 4000),
        "rate": rng.uniform(6, 15),
    }


def _gun_shot(rng, p, n, sr, short):
    total = n / sr
    m = min(n, int((p["rt60"] + 0.05) * sr))
    crack = coloured_noise(rng, m, sr, lo=100, hi=p["hi"]) * decay(m, sr, p["tau"], attack=0.0005)
    boom = db(p["boom_db"]) * sine(p["boom_f"], m, sr) * decay(m, sr, p["boom_tau"], attack=0.001)
    tail = coloured_noise(rng, m, sr, hi=p["tail_hi"]) * decay(m, sr, p["rt60"] / 6.9, attack=0.01)
    tail *= db(p["tail_db"])
    kernel = crack + boom + tail
    t0 = event_start(rng, total, short)
    if p["mode"] == "burst":
        times = t0 + np.arange(int(rng.integers(3, 13))) / p["rate"]
    elif p["mode"] == "few":
        times = t0 + np.concatenate([[0], np.cumsum(rng.uniform(0.2, 1.2, int(rng.integers(1, 3))))])
    else:
        times = np.array([t0])
    return impulse_train(n, sr, times, db(rng.uniform(-4, 0, len(times))), kernel)


def _params_jackhammer(rng):
    return {
        "rate": rng.uniform(10, 25), "tau": rng.uniform(0.002, 0.012),
        "band": (rng.uniform(200, 800), rng.uniform(3000, 10000)),
        "ring_f": rng.uniform(700, 3500), "ring_tau": rng.uniform(0.005, 0.04),
        "ring_db": rng.uniform(-12, 0),
        "thud_f": rng.uniform(60, 200), "thud_db": rng.uniform(-12, 0),
        "continuous": rng.random() < 0.5,
        "compressor": rng.random() < 0.5, "comp_f0": rng.uniform(25, 60), "comp_db": rng.uniform(-18, -6),
    }


def _jackhammer(rng, p, n, sr, short):
    total = n / sr
    m = min(n, int(0.08 * sr))
    kernel = (coloured_noise(rng, m, sr, lo=p["band"][0], hi=p["band"][1]) * decay(m, sr, p["tau"], attack=0.0005)
              + db(p["ring_db"]) * sine(p["ring_f"], m, sr) * decay(m, sr, p["ring_tau"], attack=0.0005)
              + db(p["thud_db"]) * sine(p["thud_f"], m, sr) * decay(m, sr, 0.02, attack=0.001))
    times = []
    for start, length in on_off_segments(rng, total, (0.6, 3.0), (0.2, 1.2), p["continuous"] or short):
        period = 1.0 / (p["rate"] * rng.uniform(0.95, 1.05))
        beats = start + np.arange(int(length / period) + 1) * period
        times.append(beats + rng.normal(0, 0.04 * period, len(beats)))
    times = np.concatenate(times) if times else np.zeros(0)
    x = impulse_train(n, sr, times, rng.uniform(0.8, 1.2, len(times)), kernel)
    if p["compressor"]:
        k = np.arange(1, n_harmonics(p["comp_f0"], sr, 1500) + 1)
        drone = osc(harmonic_table(k ** -1.0, rng), p["comp_f0"], n, sr)
        x = unit_rms(x) + db(p["comp_db"]) * unit_rms(drone)
    return x


def _params_siren(rng):
    mode = draw_from(rng, {"wail": 0.55, "yelp": 0.25, "hilo": 0.2})
    lo = rng.uniform(550, 850)
    hi = lo * rng.uniform(1.25, 1.5) if mode == "hilo" else rng.uniform(1100, 1650)
    period = {"wail": rng.uniform(2, 6), "yelp": rng.uniform(0.15, 0.45), "hilo": rng.uniform(0.7, 1.4)}[mode]
    return {
        "mode": mode, "lo": lo, "hi": hi, "period": period,
        "tilt": rng.uniform(0.8, 2.5) if rng.random() < 0.7 else None,
        "ramp_db": rng.uniform(-8, 8),
    }


def _siren(rng, p, n, sr, short):
    t = time_axis(n, sr)
    phase = (t / np.float32(p["period"]) + np.float32(rng.random())) % 1
    if p["mode"] == "hilo":
        shape = (phase < 0.5).astype(np.float32)
    else:
        rise = rng.uniform(0.3, 0.7)  # asymmetric up/down sweep
        shape = np.where(phase < rise, phase / rise, (1 - phase) / (1 - rise)).astype(np.float32)
        shape = 0.5 - 0.5 * np.cos(np.float32(np.pi) * shape)
    freq = p["lo"] + (p["hi"] - p["lo"]) * shape
    if p["tilt"] is None:
        tone = sine(freq, n, sr)
    else:
        k = np.arange(1, n_harmonics(p["hi"], sr, 8000) + 1)
        tone = osc(harmonic_table(k ** -p["tilt"], rng), freq, n, sr)
    ramp = np.float32(10.0) ** (np.float32(p["ramp_db"] / 20 / 4.0) * t)  # approaching or leaving
    return tone * ramp


_MAJOR, _MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)


def _params_street_music(rng):
    return {
        "tempo": rng.uniform(70, 160), "root": rng.uniform(98, 262),
        "scale": _MAJOR if rng.random() < 0.6 else _MINOR, "tilt": rng.uniform(0.5, 2.0),
        "pluck": rng.random() < 0.6, "tau": rng.uniform(0.15, 0.8),
        "chords": rng.random() < 0.6, "melody": rng.random() < 0.7, "bass": rng.random() < 0.5,
        "drums": rng.random() < 0.35, "kick_f": rng.uniform(45, 80),
        "singer": rng.random() < 0.35, "formants": (rng.uniform(500, 1000), rng.uniform(1200, 2800)),
        "vib_rate": rng.uniform(4.5, 7), "vib_depth": rng.uniform(0.01, 0.04),
    }


def _street_music(rng, p, n, sr, short):
    total = n / sr
    x = np.zeros(n, dtype=np.float32)
    beat = 60.0 / p["tempo"]
    k = np.arange(1, n_harmonics(p["root"] * 8, sr, 8000) + 1)
    table = harmonic_table(k ** -p["tilt"], rng)
    scale = np.array(p["scale"])

    if p["singer"]:  # a voice with vibrato: confusable with children_playing
        kf = np.arange(1, n_harmonics(p["root"] * 4, sr, 6000) + 1) * p["root"] * 2.5
        f1, f2 = p["formants"]
        voice = harmonic_table(
            (1 / np.arange(1, len(kf) + 1))
            * (0.3 + 3 * np.exp(-(((kf - f1) / 250) ** 2)) + 2 * np.exp(-(((kf - f2) / 450) ** 2))),
            rng,
        )

    def note(start, length, degree, level, sung=False):
        octave, step = divmod(int(degree), 7)
        f = p["root"] * 2.0 ** (octave + scale[step] / 12.0)
        i0, i1 = int(start * sr), min(n, int((start + length) * sr))
        if i1 - i0 < 16 or f * k[0] > 0.45 * sr:
            return
        m = i1 - i0
        if sung:
            t = time_axis(m, sr)
            freq = f * (1 + p["vib_depth"] * np.sin(np.float32(2 * np.pi * p["vib_rate"]) * t))
            env = gate(m, sr, [(0, m / sr)], 0.04, 0.08)
            x[i0:i1] += level * env * osc(voice, freq, m, sr, rng.random())
            return
        if p["pluck"]:
            env = decay(m, sr, p["tau"], attack=0.004)
        else:
            env = gate(m, sr, [(0, m / sr)], 0.03, 0.05)
        x[i0:i1] += level * env * osc(table, f, m, sr, rng.random())

    offset = -rng.uniform(0, beat)
    n_beats = int((total - offset) / beat) + 1
    chord_degrees = (0, 3, 4, 5)
    melody = int(rng.integers(7, 14))
    for b in range(n_beats):
        t = offset + b * beat
        chord = chord_degrees[int(rng.integers(4))] if b % 2 == 0 else chord
        if p["chords"] and b % 2 == 0:
            for d in (0, 2, 4):
                note(max(t, 0), 2 * beat, chord + d + 7, 0.5)
        if p["bass"]:
            note(max(t, 0), beat * 0.9, chord, 0.8)
        if p["melody"] or not p["chords"]:
            for half in (0, 1):
                if rng.random() < 0.75:
                    melody = int(np.clip(melody + rng.integers(-2, 3), 7, 20))
                    note(max(t + half * beat / 2, 0), beat / 2 * rng.uniform(0.8, 1.0), melody, 0.7)
        if p["singer"] and b % 2 == 0 and rng.random() < 0.8:
            note(max(t, 0), 2 * beat * rng.uniform(0.6, 0.95), int(rng.integers(7, 12)), 1.0, sung=True)
    if p["drums"]:
        m = min(n, int(0.15 * sr))
        kick = sine(np.linspace(p["kick_f"] * 2, p["kick_f"], m), m, sr) * decay(m, sr, 0.05, 0.002)
        beats = offset + np.arange(n_beats) * beat
        x += 0.8 * impulse_train(n, sr, beats, np.ones(len(beats)), kick)
        hat_m = min(n, int(0.03 * sr))
        hat = coloured_noise(rng, hat_m, sr, lo=6000) * decay(hat_m, sr, 0.008)
        halves = offset + beat / 2 + np.arange(n_beats) * beat
        x += 0.3 * impulse_train(n, sr, halves, np.ones(len(halves)), hat)
    return x


SIGNATURES = (
    (_params_air_conditioner, _air_conditioner),
    (_params_car_horn, _car_horn),
    (_params_children_playing, _children_playing),
    (_params_dog_bark, _dog_bark),
    (_params_drilling, _drilling),
    (_params_engine_idling, _engine_idling),
    (_params_gun_shot, _gun_shot),
    (_params_jackhammer, _jackhammer),
    (_params_siren, _siren),
    (_params_street_music, _street_music),
)
