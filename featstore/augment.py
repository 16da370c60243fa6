"""Augmented views of every clip: the spec that names them, and their log-mels.

A build given an augment spec (``python -m featstore build ... --augment SPEC``)
stores, beside each clip's log-mel, the log-mels of a fixed set of altered copies
of its fixed-length 16 kHz waveform, computed once in the build's workers.

The spec is ``;``-separated parts, each a named set or ``KIND:VALUE[,VALUE...]``:

==========  =============================================  ===================
kind        one view per value                             view name
==========  =============================================  ===================
``pitch``   pitch shift by VALUE semitones,                ``pitch-2``,
            ``librosa.effects.pitch_shift`` (soxr)          ``pitch+2.5``
``stretch`` time stretch by the rate VALUE (above 1 is      ``stretch0.81``
            faster), ``librosa.effects.time_stretch``
``gain``    a gain of VALUE dB                              ``gain-6``
``noise``   white (``white20`` or ``20``) or pink          ``noise-white20``,
            (``pink10``) Gaussian noise at VALUE dB SNR     ``noise-pink10``
==========  =============================================  ===================

Named sets: ``salamon2017``, the 12 views of Salamon & Bello (2017), "Deep
convolutional neural networks and data augmentation for environmental sound
classification": pitch shifts of -3.5, -2.5, -2, -1, 1, 2, 2.5, 3.5 semitones
and time stretches by 0.81, 0.93, 1.07, 1.23; and ``mild``: pitch -1, 1 and
stretch 0.93, 1.07. A spec is a set: the order of its parts and values and any
repetition do not matter. Its canonical form (:func:`canonical_spec`) lists the
kinds in the order above and the values in ascending order (noise: white, then
pink), and the views are stored in that order.

Every view keeps the clip's length: a stretched clip longer than the clip is
cut at the end (its start is kept), a shorter one is zero-padded at the end, as
short clips are. Noise is added to the clip's *content*, the samples before its
trailing zero padding, at the given ratio to the content's mean power (a silent
clip gets none), so that the padding stays silent in every view. The noise of a
clip is seeded from ``FeatureConfig.augment_seed``, the clip's file name and the
view, so a build is reproducible bit for bit, whatever the number of workers.

The views are made from the 16 kHz clip, which holds nothing above 8 kHz: a
pitch shift down leaves the top mel bands of its view nearly silent (with -2
semitones the top two of 64 bands average -97 dB, against -34 dB in the original
clips of real UrbanSound8K folds 1-2), and a speed-up pads the end with silence.
"""

import dataclasses
import hashlib
import math
import re

import numpy as np

from .exceptions import InvalidParameterError

__all__ = ["NAMED_SETS", "View", "augment_waveform", "augmented_log_mels", "canonical_spec", "parse_spec", "view_names"]

NAMED_SETS = {
    "salamon2017": "pitch:-3.5,-2.5,-2,-1,1,2,2.5,3.5;stretch:0.81,0.93,1.07,1.23",
    "mild": "pitch:-1,1;stretch:0.93,1.07",
}
KINDS = ("pitch", "stretch", "gain", "noise")
NOISE_COLOURS = ("white", "pink")
# The accepted values of each kind: (low, high, what, unit); 0 (pitch, gain) and 1
# (stretch) are refused too, since such a view would equal the original.
_RANGES = {
    "pitch": (-12.0, 12.0, "a pitch shift", "semitones"),
    "stretch": (0.5, 2.0, "a stretch rate", ""),
    "gain": (-40.0, 40.0, "a gain", "dB"),
    "noise": (-20.0, 60.0, "a signal-to-noise ratio", "dB"),
}
_IDENTITY = {"pitch": 0.0, "stretch": 1.0, "gain": 0.0}
_SYNTAX = (
    "A spec is ';'-separated parts, each a named set ({sets}) or KIND:VALUE[,VALUE...] with KIND one of "
    "pitch (semitones), stretch (rates), gain (dB) or noise (SNR in dB, white20 or pink20), "
    "e.g. 'pitch:-2,2;stretch:0.93,1.07' or 'mild;noise:white20'."
).format(sets=", ".join(NAMED_SETS))


@dataclasses.dataclass(frozen=True)
class View:
    """One augmented view: its kind, its value, and the colour of a noise view."""

    kind: str
    value: float
    colour: str = ""

    @property
    def token(self) -> str:
        """The value as the canonical spec writes it: ``-2``, ``0.81``, ``pink10``."""
        return f"{self.colour}{_number(self.value)}"

    @property
    def name(self) -> str:
        """``pitch-2``, ``pitch+1``, ``stretch0.81``, ``gain+6``, ``noise-white20``."""
        if self.kind == "noise":
            return f"noise-{self.token}"
        sign = "+" if self.kind in ("pitch", "gain") and self.value > 0 else ""
        return f"{self.kind}{sign}{self.token}"

    def _sort_key(self):
        return KINDS.index(self.kind), NOISE_COLOURS.index(self.colour) if self.colour else 0, self.value


def _number(value: float) -> str:
    """The shortest text that reads back as ``value``: ``1``, ``-3.5``, ``0.81``."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _bad(spec: str, problem: str) -> InvalidParameterError:
    return InvalidParameterError(f"Bad augment spec {spec!r}: {problem}. {_SYNTAX}")


def _parse_value(spec: str, kind: str, text: str) -> View:
    colour, number = "", text
    if kind == "noise":
        match = re.fullmatch(r"(white|pink)?(.*)", text)
        colour, number = match.group(1) or "white", match.group(2)
    try:
        value = float(number)
    except ValueError:
        what = "a number, after an optional white or pink" if kind == "noise" else "a number"
        raise _bad(spec, f"{kind} value {text!r} is not {what}") from None
    low, high, what, unit = _RANGES[kind]
    if not low <= value <= high or value == _IDENTITY.get(kind):
        identity = f", and not {_number(_IDENTITY[kind])} (the original)" if kind in _IDENTITY else ""
        unit = f" {unit}" if unit else ""
        raise _bad(spec, f"{what} must be between {_number(low)} and {_number(high)}{unit}{identity}; got {text}")
    return View(kind, value + 0.0, colour)  # + 0.0 turns -0.0 into 0.0


def parse_spec(spec: str) -> tuple:
    """The views an augment spec names, in canonical order.

    Parameters
    ----------
    spec : str
        E.g. ``"salamon2017"``, ``"pitch:-2,2;stretch:0.9,1.1"`` or ``"mild;noise:white20,pink10"``;
        ``""`` names no view.

    Returns
    -------
    tuple of View

    Raises
    ------
    InvalidParameterError
        For an unknown kind or named set, a value that is not a number or is out of
        its kind's range, or an empty part; the message gives the syntax.
    """
    if not isinstance(spec, str):
        raise InvalidParameterError(f"An augment spec must be a str, got {spec!r}. {_SYNTAX}")
    if not spec.strip():
        return ()
    views = set()
    for part in spec.split(";"):
        part = part.strip()
        if part in NAMED_SETS:
            views.update(parse_spec(NAMED_SETS[part]))
            continue
        if not part:
            raise _bad(spec, "it has an empty part")
        kind, colon, values = part.partition(":")
        kind = kind.strip()
        if not colon:
            raise _bad(spec, f"{part!r} is neither a named set nor KIND:VALUES")
        if kind not in KINDS:
            raise _bad(spec, f"unknown view kind {kind!r}")
        texts = [t.strip() for t in values.split(",")]
        if not all(texts):
            raise _bad(spec, f"{part!r} has an empty value")
        views.update(_parse_value(spec, kind, text) for text in texts)
    return tuple(sorted(views, key=View._sort_key))


def canonical_spec(spec: str) -> str:
    """The one text of a spec's set of views: ``"mild"`` -> ``"pitch:-1,1;stretch:0.93,1.07"``."""
    views = parse_spec(spec)
    parts = []
    for kind in KINDS:
        tokens = [view.token for view in views if view.kind == kind]
        if tokens:
            parts.append(f"{kind}:{','.join(tokens)}")
    return ";".join(parts)


def view_names(spec: str) -> tuple:
    """Names of the views a store built with ``spec`` holds, ``"original"`` first; ``()`` for no views."""
    views = parse_spec(spec)
    return ("original", *(view.name for view in views)) if views else ()


def _stable_int(text: str) -> int:
    # Python's hash() of a str changes between processes; this does not.
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def noise_generator(seed: int, clip_name: str, view: View) -> np.random.Generator:
    """The random generator of one noise view of one clip."""
    return np.random.default_rng(np.random.SeedSequence([seed, _stable_int(clip_name), _stable_int(view.name)]))


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with a power spectrum falling as 1/f (pink), ``(n,)`` float64."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    frequencies = np.arange(len(spectrum), dtype=np.float64)
    spectrum[1:] /= np.sqrt(frequencies[1:])
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, n)


def _content_length(waveform: np.ndarray) -> int:
    """Samples up to the last non-zero one: the clip before its trailing zero padding."""
    nonzero = np.flatnonzero(waveform)
    return int(nonzero[-1]) + 1 if len(nonzero) else 0


def augment_waveform(waveform: np.ndarray, view: View, *, sample_rate: int, seed: int = 0,
                     clip_name: str = "") -> np.ndarray:
    """One view of a fixed-length clip.

    Parameters
    ----------
    waveform : ndarray of float32, shape (n_samples,)
        The prepared clip (mono, resampled, padded or cropped).
    view : View
    sample_rate : int
    seed : int, default=0
        With ``clip_name``, seeds a noise view.
    clip_name : str, default=""

    Returns
    -------
    ndarray of float32, shape (n_samples,)
    """
    n = len(waveform)
    if view.kind == "pitch":
        import librosa

        out = librosa.effects.pitch_shift(waveform, sr=sample_rate, n_steps=view.value)
    elif view.kind == "stretch":
        import librosa

        stretched = librosa.effects.time_stretch(waveform, rate=view.value)
        out = np.zeros(n, dtype=np.float32)  # the start kept; zero-padded at the end
        out[: min(n, len(stretched))] = stretched[:n]
    elif view.kind == "gain":
        out = waveform * np.float32(10.0 ** (view.value / 20.0))
    elif view.kind == "noise":
        out = waveform.copy()
        length = _content_length(waveform)
        power = float(np.mean(np.square(waveform[:length], dtype=np.float64))) if length else 0.0
        if power > 0:
            rng = noise_generator(seed, clip_name, view)
            noise = rng.standard_normal(length) if view.colour == "white" else _pink(length, rng)
            noise_power = float(np.mean(np.square(noise)))
            if noise_power > 0:  # pink noise of a 1-sample clip is 0
                noise *= math.sqrt(power / 10.0 ** (view.value / 10.0) / noise_power)
                out[:length] += noise.astype(np.float32)
    else:
        raise InvalidParameterError(f"Unknown view kind {view.kind!r}; kinds are {', '.join(KINDS)}.")
    return np.ascontiguousarray(out, dtype=np.float32)


def augmented_log_mels(waveforms, clip_names, extractor) -> np.ndarray:
    """The log-mels of every view of a batch of clips, one clip at a time.

    Parameters
    ----------
    waveforms : Tensor of shape (batch, clip_samples)
    clip_names : list of str
        The clips' file names, which seed their noise views.
    extractor : FeatureExtractor
        Its configuration's ``augment`` names the views.

    Returns
    -------
    ndarray of float16, shape (batch, n_views, n_mels, n_frames)
        The original is not among the views.
    """
    import torch

    config = extractor.config
    views = parse_spec(config.augment)
    out = np.empty((len(waveforms), len(views), config.n_mels, config.n_frames), dtype=np.float16)
    for i, (waveform, name) in enumerate(zip(waveforms.numpy(), clip_names)):
        stack = np.stack([
            augment_waveform(waveform, view, sample_rate=config.sample_rate, seed=config.augment_seed, clip_name=name)
            for view in views
        ])
        with torch.no_grad():
            out[i] = extractor.log_mel(torch.from_numpy(stack)).numpy()  # rounded to the nearest float16
    return out
