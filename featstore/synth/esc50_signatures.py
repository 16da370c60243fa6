"""The fifty class signatures of the synthetic ESC-50.

Each class is a region of parameters of one of the families of
:mod:`~featstore.synth.esc50_families` (calls, textures, impacts), one of the
UrbanSound8K signatures of :mod:`~featstore.synth.signatures` with some of its
parameters moved (a chainsaw is an idling engine revving four times faster), or
a mix of two of these (a thunderstorm is a rumble over rain).
:data:`ESC50_SIGNATURES` lists the ``(params, render)`` pairs by ``target``, with
the interface of :data:`~featstore.synth.signatures.SIGNATURES`.

Neighbours share a family and overlapping regions, so that some classes are
confusable on purpose, as in the real data. Those an MFCC-statistics classifier
confuses most (see :mod:`featstore.synth`): rooster, cat and crying_baby;
mouse_click, clock_tick and keyboard_typing; clapping and keyboard_typing;
footsteps and door_wood_knock; sea_waves and airplane; brushing_teeth and
hand_saw; dog, coughing and crow; helicopter, washing_machine and train.
"""

from __future__ import annotations

import numpy as np

from .esc50_families import call, draw_region, impacts, texture
from .signals import db, unit_rms
from .signatures import SIGNATURES

__all__ = ["ESC50_SIGNATURES"]

_AIR_CONDITIONER, _CAR_HORN, _DOG_BARK, _ENGINE_IDLING, _GUN_SHOT, _JACKHAMMER, _SIREN = 0, 1, 3, 5, 6, 7, 8


def _derived(base: int, **region):
    """An UrbanSound8K signature with some of its parameters drawn from ``region`` instead."""
    params_of, render = SIGNATURES[base]
    unknown = set(region) - set(params_of(np.random.default_rng(0)))
    if unknown:
        raise TypeError(f"{render.__name__} has no parameter {sorted(unknown)}")
    return (lambda rng: {**params_of(rng), **draw_region(rng, region)}), render


def _mix(*parts):
    """The sum of signatures, each scaled to unit RMS and then by a level drawn from its dB range."""

    def params(rng):
        return [(params_of(rng), float(rng.uniform(*level))) for (params_of, _), level in parts]

    def render(rng, p, n, sr, short):
        x = np.zeros(n, dtype=np.float32)
        for (part_params, level), ((_, part_render), _) in zip(p, parts):
            x += db(level) * unit_rms(part_render(rng, part_params, n, sr, short))
        return x

    return params, render


_RAIN = texture(slope=(-1.5, 0.5), lo=(200.0, 800.0), hi=(8000.0, 16000.0), mod="gusts", mod_rate=(0.2, 1.0),
                mod_depth=(0.05, 0.3), drops=(30.0, 150.0), drop_f=(2000.0, 8000.0), drop_tau=(0.001, 0.004),
                drop_db=(-12.0, -2.0), drop_noise=(0.6, 1.0))
_BIRDS = call(f0=(2000.0, 5000.0), rise=(0.7, 1.6), fall=(0.6, 1.4), peak_at=(0.2, 0.8), length=(0.04, 0.2),
              gap=(0.03, 0.3), bout=(3.0, 10.0), pause=(0.2, 1.5), tilt=(2.0, 3.5), formant=(2000.0, 5000.0),
              vib_rate=(10.0, 40.0), vib_depth=(0.0, 0.05), shape=(0.4, 1.0), top=16000.0, noise=0.0)
_RUMBLE = texture(slope=(-6.0, -3.0), lo=(20.0, 40.0), hi=(300.0, 1200.0), mod="sine", mod_rate=(0.5, 2.0),
                  mod_depth=(0.1, 0.3))

ESC50_SIGNATURES = (
    # Animals
    _derived(_DOG_BARK),  # dog
    call(f0=(450.0, 750.0), rise=(1.1, 1.4), fall=(0.6, 0.8), peak_at=(0.15, 0.35), length=(0.9, 1.8),
         gap=(1.0, 3.0), tilt=(0.6, 1.2), formant=(1000.0, 2200.0), noise=(0.1, 0.3), vib_rate=(8.0, 20.0),
         vib_depth=(0.01, 0.04), shape=(0.3, 0.6)),  # rooster
    call(f0=(90.0, 220.0), fall=(0.8, 1.0), length=(0.15, 0.4), gap=(0.1, 0.4), bout=(2.0, 5.0), tilt=(0.4, 0.9),
         formant=(400.0, 900.0), noise=(0.3, 0.6), noise_lo=(150.0, 300.0), noise_hi=(2000.0, 4000.0),
         am_rate=(25.0, 50.0), am_depth=(0.3, 0.7), shape=(0.6, 1.2)),  # pig
    call(f0=(90.0, 180.0), rise=(1.1, 1.4), fall=(0.7, 0.9), peak_at=(0.2, 0.5), length=(1.0, 2.5),
         gap=(1.0, 3.0), tilt=(0.8, 1.4), formant=(300.0, 700.0), noise=(0.05, 0.2), shape=(0.4, 0.8)),  # cow
    call(f0=(180.0, 600.0), length=(0.08, 0.4), gap=(0.1, 0.6), bout=(2.0, 6.0), pause=(0.3, 1.5),
         tilt=(0.6, 1.2), formant=(500.0, 1500.0), am_rate=(15.0, 60.0), am_depth=(0.6, 1.0),
         noise=(0.0, 0.15), shape=(0.2, 0.6)),  # frog
    call(f0=(400.0, 750.0), rise=(1.1, 1.5), fall=(0.6, 0.85), peak_at=(0.3, 0.6), length=(0.5, 1.2),
         gap=(0.5, 2.0), tilt=(0.8, 1.4), formant=(700.0, 1800.0), noise=(0.05, 0.2), vib_depth=(0.005, 0.02),
         shape=(0.5, 1.0)),  # cat
    call(f0=(300.0, 550.0), rise=(1.0, 1.2), fall=(0.8, 1.0), length=(0.06, 0.15), gap=(0.08, 0.25),
         bout=(3.0, 8.0), pause=(0.3, 1.2), tilt=(0.8, 1.4), formant=(800.0, 2000.0), noise=(0.1, 0.3),
         shape=(0.5, 1.0)),  # hen
    call(f0=(150.0, 500.0), length=(1.5, 5.0), gap=(0.1, 0.5), tilt=(0.3, 0.8), formant=(1000.0, 3000.0),
         am_rate=(3.0, 15.0), am_depth=(0.0, 0.3), vib_rate=(2.0, 6.0), vib_depth=(0.01, 0.05),
         noise=(0.05, 0.2), noise_lo=(1000.0, 2000.0), shape=(0.1, 0.3)),  # insects
    call(f0=(200.0, 400.0), fall=(0.85, 1.0), length=(0.5, 1.2), gap=(0.8, 2.5), tilt=(0.8, 1.3),
         formant=(600.0, 1400.0), am_rate=(5.0, 10.0), am_depth=(0.4, 0.8), noise=(0.1, 0.3),
         shape=(0.4, 0.8)),  # sheep
    call(f0=(400.0, 900.0), rise=(0.95, 1.05), fall=(0.85, 1.0), length=(0.2, 0.45), gap=(0.15, 0.4),
         bout=(2.0, 4.0), pause=(0.8, 2.5), tilt=(0.5, 1.0), formant=(1200.0, 2200.0), noise=(0.4, 0.7),
         noise_lo=(600.0, 1200.0), am_rate=(40.0, 90.0), am_depth=(0.3, 0.6), shape=(0.4, 0.8)),  # crow
    # Natural soundscapes and water sounds
    _RAIN,  # rain
    texture(slope=(-4.0, -2.0), lo=(30.0, 100.0), hi=(1000.0, 4000.0), mod="sine", mod_rate=(0.08, 0.25),
            mod_depth=(0.5, 0.9)),  # sea_waves
    texture(slope=(-5.0, -2.0), lo=(30.0, 80.0), hi=(500.0, 2000.0), bed_db=(-12.0, -3.0), mod="gusts",
            mod_rate=(0.3, 1.0), mod_depth=(0.1, 0.3), drops=(5.0, 30.0), drop_f=(1500.0, 6000.0),
            drop_tau=(0.001, 0.005), drop_db=0.0, drop_noise=(0.8, 1.0)),  # crackling_fire
    call(f0=(3000.0, 6000.0), length=(0.05, 0.4), gap=(0.05, 0.4), bout=(2.0, 6.0), pause=(0.2, 1.0),
         tilt=(2.5, 4.0), formant=(3000.0, 6000.0), am_rate=(25.0, 70.0), am_depth=(0.7, 1.0), noise=0.0,
         vib_depth=0.0, shape=(0.1, 0.4), top=16000.0),  # crickets
    _mix((_BIRDS, (0.0, 0.0)), (_BIRDS, (-12.0, -3.0))),  # chirping_birds
    texture(bed_db=(-40.0, -20.0), hi=(2000.0, 6000.0), drops=(1.0, 6.0), drop_f=(500.0, 2500.0),
            drop_glide=(1.5, 3.0), drop_tau=(0.02, 0.06), drop_db=0.0, drop_noise=(0.0, 0.2)),  # water_drops
    texture(slope=(-6.0, -3.0), lo=(20.0, 60.0), hi=(300.0, 1500.0), mod="gusts", mod_rate=(0.1, 0.6),
            mod_depth=(0.4, 1.0)),  # wind
    texture(slope=(-2.0, 0.0), lo=(300.0, 800.0), hi=(3000.0, 8000.0), mod="gusts", mod_rate=(1.0, 4.0),
            mod_depth=(0.1, 0.4), drops=(20.0, 80.0), drop_f=(600.0, 2500.0), drop_glide=(1.2, 2.0),
            drop_tau=(0.005, 0.02), drop_noise=(0.0, 0.3)),  # pouring_water
    texture(slope=(-3.0, -1.0), lo=(100.0, 300.0), hi=(1500.0, 5000.0), mod="swell", mod_rate=(1.0, 2.5),
            mod_depth=(0.7, 0.95), drops=(10.0, 40.0), drop_f=(400.0, 1500.0), drop_glide=(1.1, 1.6),
            drop_tau=(0.01, 0.03), drop_db=(-12.0, -4.0), drop_noise=(0.0, 0.3)),  # toilet_flush
    _mix((texture(slope=(-8.0, -5.0), lo=(20.0, 30.0), hi=(100.0, 400.0), mod="swell", mod_rate=(0.8, 2.5),
                  mod_depth=(0.6, 0.95)), (0.0, 0.0)),
         (_RAIN, (-12.0, -3.0))),  # thunderstorm
    # Human, non-speech sounds
    call(f0=(350.0, 600.0), rise=(1.05, 1.3), fall=(0.7, 0.9), peak_at=(0.2, 0.5), length=(0.6, 1.5),
         gap=(0.2, 0.8), tilt=(0.5, 1.0), formant=(1000.0, 2500.0), noise=(0.05, 0.2), vib_rate=(5.0, 10.0),
         vib_depth=(0.01, 0.03), shape=(0.3, 0.6)),  # crying_baby
    call(f0=(250.0, 450.0), fall=(0.7, 0.9), length=(0.15, 0.35), gap=(1.0, 3.0), pause=(1.5, 3.0),
         tilt=(1.0, 1.6), noise=(0.7, 0.95), noise_lo=(1000.0, 3000.0), noise_hi=(6000.0, 10000.0),
         shape=(1.5, 3.0)),  # sneezing
    impacts(pattern="random", rate=(2.0, 6.0), lo=(400.0, 1000.0), hi=(3000.0, 7000.0), tau=(0.008, 0.02),
            ring_f=(800.0, 2000.0), ring_db=(-20.0, -10.0)),  # clapping
    texture(slope=(-3.0, 0.0), lo=(200.0, 600.0), hi=(1500.0, 5000.0), mod="strokes", mod_rate=(0.4, 0.8),
            mod_depth=(0.85, 1.0)),  # breathing
    call(f0=(120.0, 300.0), fall=(0.7, 0.9), length=(0.15, 0.4), gap=(0.1, 0.3), bout=(1.0, 3.0),
         pause=(1.0, 3.0), tilt=(0.8, 1.4), noise=(0.6, 0.9), noise_lo=(200.0, 800.0),
         noise_hi=(2000.0, 4000.0), shape=(1.0, 2.0)),  # coughing
    impacts(rate=(1.4, 2.4), lo=(60.0, 200.0), hi=(800.0, 3000.0), tau=(0.01, 0.04), thud_f=(50.0, 120.0),
            thud_db=(-6.0, 0.0)),  # footsteps
    call(f0=(150.0, 300.0), fall=(0.8, 0.95), length=(0.08, 0.15), gap=(0.08, 0.15), bout=(4.0, 10.0),
         pause=(0.5, 2.0), tilt=(0.8, 1.4), formant=(600.0, 1200.0), noise=(0.3, 0.6),
         shape=(0.6, 1.2)),  # laughing
    texture(slope=(-1.0, 1.0), lo=(1500.0, 3000.0), hi=(6000.0, 12000.0), mod="strokes", mod_rate=(3.0, 6.0),
            mod_depth=(0.6, 0.95)),  # brushing_teeth
    call(f0=(30.0, 90.0), length=(0.8, 1.6), gap=(1.5, 3.0), tilt=(0.3, 0.8), formant=(200.0, 600.0),
         noise=(0.3, 0.6), noise_lo=(100.0, 200.0), noise_hi=(800.0, 2000.0), shape=(0.8, 1.5),
         top=5000.0),  # snoring
    _mix((impacts(pattern="groups", rate=(3.0, 6.0), group=(2.0, 4.0), pause=(0.8, 2.0), lo=(300.0, 600.0),
                  hi=(2000.0, 5000.0), tau=(0.01, 0.03), thud_f=(150.0, 400.0), thud_db=0.0), (0.0, 0.0)),
         (texture(lo=(800.0, 2000.0), hi=(4000.0, 8000.0), mod="strokes", mod_rate=(0.5, 1.0),
                  mod_depth=0.9), (-10.0, -2.0))),  # drinking_sipping
    # Interior and domestic sounds
    impacts(pattern="groups", rate=(5.0, 9.0), group=(2.0, 5.0), pause=(0.8, 2.5), lo=(100.0, 300.0),
            hi=(1500.0, 4000.0), tau=(0.004, 0.012), ring_f=(150.0, 500.0), ring_tau=(0.01, 0.04),
            ring_db=(-6.0, 0.0), partials=[1.0, 2.3], thud_f=(60.0, 120.0), thud_db=(-12.0, -4.0)),  # door_wood_knock
    impacts(pattern="groups", rate=(6.0, 12.0), group=(1.0, 2.99), pause=(0.3, 1.5), lo=(1500.0, 4000.0),
            hi=(8000.0, 16000.0), tau=(0.0008, 0.003), ring_f=(2000.0, 5000.0), ring_tau=(0.001, 0.004),
            ring_db=(-12.0, -3.0)),  # mouse_click
    impacts(pattern="random", rate=(4.0, 12.0), lo=(500.0, 1500.0), hi=(5000.0, 10000.0), tau=(0.003, 0.01),
            ring_f=(1000.0, 3000.0), ring_tau=(0.003, 0.01), ring_db=(-12.0, -4.0),
            spread=(0.5, 0.8)),  # keyboard_typing
    call(f0=(25.0, 120.0), rise=(1.5, 3.0), fall=(0.4, 0.8), peak_at=(0.3, 0.7), length=(0.6, 2.0),
         gap=(0.3, 1.5), tilt=(0.2, 0.6), formant=(400.0, 1500.0), formant_bw=(150.0, 400.0), noise=(0.0, 0.2),
         shape=(0.3, 0.7), top=6000.0),  # door_wood_creaks
    _mix((impacts(pattern="groups", rate=(8.0, 15.0), group=(1.0, 2.99), pause=(1.5, 3.0), lo=(1000.0, 2000.0),
                  hi=(6000.0, 10000.0), ring_f=(2000.0, 4000.0), ring_tau=(0.005, 0.02), ring_db=(-6.0, 0.0)),
          (0.0, 0.0)),
         (texture(slope=(0.0, 2.0), lo=(3000.0, 5000.0), hi=(10000.0, 16000.0), mod="swell", mod_rate=(0.3, 1.0),
                  mod_depth=0.95), (-10.0, -2.0))),  # can_opening
    _derived(_AIR_CONDITIONER, f0=(40.0, 90.0), am_rate=(0.3, 1.2), am_depth=(0.4, 0.8), noise_hi=(400.0, 1500.0),
             hum_db=(-6.0, 4.0), whine=False),  # washing_machine
    _derived(_AIR_CONDITIONER, f0=(120.0, 250.0), noise_hi=(4000.0, 12000.0), noise_slope=(-2.5, 0.0),
             hum_db=(-18.0, -8.0), whine=True, whine_f=(800.0, 3000.0), whine_db=(-16.0, -6.0),
             am_depth=(0.0, 0.1)),  # vacuum_cleaner
    call(f0=(1500.0, 3500.0), length=(0.04, 0.2), gap=(0.04, 0.2), bout=(2.0, 8.0), pause=(0.3, 1.0),
         tilt=(1.5, 3.0), formant=(1500.0, 4000.0), noise=0.0, vib_depth=0.0, shape=(0.02, 0.1),
         top=12000.0),  # clock_alarm
    impacts(rate=(1.0, 5.0), jitter=(0.0, 0.01), lo=(2000.0, 5000.0), hi=(8000.0, 16000.0), tau=(0.0005, 0.002),
            ring_f=(2000.0, 6000.0), ring_tau=(0.002, 0.01), ring_db=(-8.0, 0.0), partials=[1.0, 2.7],
            spread=(0.0, 0.3)),  # clock_tick
    impacts(pattern="crash", group=(10.0, 40.0), pause=(0.15, 0.5), lo=(1000.0, 3000.0), hi=(10000.0, 16000.0),
            tau=(0.002, 0.01), ring_f=(2500.0, 7000.0), ring_tau=(0.02, 0.1), ring_db=(-3.0, 3.0),
            partials=[1.0, 1.6, 2.3, 3.1]),  # glass_breaking
    # Exterior and urban noises
    _derived(_JACKHAMMER, rate=(5.0, 14.0), tau=(0.01, 0.03), band=[(40.0, 120.0), (500.0, 1500.0)],
             ring_db=(-40.0, -30.0), thud_f=(40.0, 90.0), thud_db=(-3.0, 3.0), continuous=True, compressor=True,
             comp_f0=(60.0, 200.0), comp_db=(-18.0, -8.0)),  # helicopter
    _derived(_ENGINE_IDLING, f0=(70.0, 160.0), res_f=(300.0, 1500.0), res_bw=(200.0, 600.0), tilt=(0.3, 0.8),
             rpm_depth=(0.03, 0.12), rpm_rate=(0.2, 1.0), rumble_hi=(2000.0, 6000.0),
             rumble_db=(-8.0, 0.0)),  # chainsaw
    _derived(_SIREN),  # siren
    _derived(_CAR_HORN),  # car_horn
    _derived(_ENGINE_IDLING, f0=(15.0, 70.0)),  # engine
    _mix((_RUMBLE, (0.0, 0.0)),
         (impacts(pattern="groups", rate=(6.0, 12.0), group=(2.0, 2.99), pause=(0.4, 1.2), lo=(100.0, 300.0),
                  hi=(1500.0, 4000.0), tau=(0.01, 0.03), thud_f=(50.0, 120.0), thud_db=(-6.0, 0.0)),
          (-10.0, -3.0))),  # train
    impacts(rate=(0.5, 1.5), jitter=(0.0, 0.05), lo=(200.0, 500.0), hi=(2000.0, 5000.0), tau=(0.003, 0.01),
            ring_f=(250.0, 900.0), ring_tau=(0.8, 2.5), ring_db=(6.0, 12.0),
            partials=[0.5, 1.0, 1.19, 1.5, 2.0, 2.52, 3.0]),  # church_bells
    texture(slope=(-5.0, -2.5), lo=(30.0, 80.0), hi=(1000.0, 4000.0), mod="swell", mod_rate=(2.5, 6.0),
            mod_depth=(0.3, 0.7), tone_f0=(80.0, 250.0), tone_db=(-18.0, -8.0)),  # airplane
    _derived(_GUN_SHOT, rt60=(1.0, 2.5), tail_db=(-14.0, -4.0), boom_f=(30.0, 80.0)),  # fireworks
    texture(slope=(-1.0, 1.0), lo=(800.0, 2000.0), hi=(5000.0, 10000.0), mod="strokes", mod_rate=(1.2, 2.5),
            mod_depth=(0.7, 0.95), drops=(50.0, 200.0), drop_f=(2000.0, 5000.0), drop_tau=(0.0005, 0.002),
            drop_db=(-10.0, -4.0), drop_noise=1.0),  # hand_saw
)
"""``(params, render)`` of each class, indexed by ``target``."""
