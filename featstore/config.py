"""The feature configuration: one frozen record, stored with every feature store."""

import dataclasses
import json
import math

from .augment import canonical_spec, view_names
from .exceptions import InvalidParameterError, StoreConfigError

__all__ = ["FeatureConfig"]


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """How clips are turned into fixed-size features.

    The defaults reproduce what the reference notebook fed its models: 16 kHz mono,
    4.0 s (zero-padded at the end, centre-cropped when longer), torchaudio's
    ``MelSpectrogram(sample_rate=16000, n_mels=64)`` defaults (``n_fft=400``,
    ``hop_length=200``: 64 x 321 frames) in dB, and the mean and standard deviation
    over time of ``MFCC(n_mfcc=20, melkwargs={"n_mels": 64})`` (40 values).

    Parameters
    ----------
    sample_rate : int, default=16000
        Rate every clip is resampled to, in Hz.
    clip_seconds : float, default=4.0
        Length every clip is padded or cropped to, in seconds.
    n_fft : int, default=400
        FFT size (and window length) of the STFT.
    hop_length : int, default=200
        Hop between STFT frames, in samples.
    n_mels : int, default=64
        Number of mel bands.
    f_min : float, default=0.0
        Lowest mel band edge, in Hz.
    f_max : float or None, default=None
        Highest mel band edge, in Hz; None means ``sample_rate / 2``.
    n_mfcc : int, default=20
        Number of MFCCs; the statistics hold ``2 * n_mfcc`` values.
    mfcc_top_db : float, default=80.0
        Dynamic range the MFCC's dB mel spectrogram is clipped to (torchaudio's
        ``MFCC`` default). The stored log-mel is not clipped.
    delta_n_mfcc : int, default=40
        Number of MFCCs of the ``mfcc_delta_stats`` feature, which holds
        ``4 * delta_n_mfcc`` values (see :func:`featstore.statistics.mfcc_delta_stats`).
    augment : str, default=""
        The augmented views stored beside each clip's log-mel, as a spec such as
        ``"salamon2017"`` or ``"pitch:-2,2;stretch:0.93,1.07"`` (see
        :mod:`featstore.augment`); kept in canonical form, so two specs that name
        the same views compare equal. ``""``: no views.
    augment_seed : int, default=0
        Seed of the noise views (with each clip's file name).

    Raises
    ------
    InvalidParameterError
        A ``ValueError`` that lists every invalid field, e.g. ``n_mels=0`` or
        ``f_max`` above half the sample rate.
    """

    sample_rate: int = 16000
    clip_seconds: float = 4.0
    n_fft: int = 400
    hop_length: int = 200
    n_mels: int = 64
    f_min: float = 0.0
    f_max: float | None = None
    n_mfcc: int = 20
    mfcc_top_db: float = 80.0
    delta_n_mfcc: int = 40
    augment: str = ""
    augment_seed: int = 0

    def __post_init__(self):
        problems = []
        for name in ("sample_rate", "n_fft", "hop_length", "n_mels", "n_mfcc", "delta_n_mfcc"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{name} must be a positive int, got {value!r}")
        if not (isinstance(self.clip_seconds, (int, float)) and self.clip_seconds > 0):
            problems.append(f"clip_seconds must be a positive number, got {self.clip_seconds!r}")
        if isinstance(self.n_mfcc, int) and isinstance(self.n_mels, int) and self.n_mfcc > self.n_mels:
            problems.append(f"n_mfcc ({self.n_mfcc}) cannot exceed n_mels ({self.n_mels})")
        if isinstance(self.delta_n_mfcc, int) and isinstance(self.n_mels, int) and self.delta_n_mfcc > self.n_mels:
            problems.append(f"delta_n_mfcc ({self.delta_n_mfcc}) cannot exceed n_mels ({self.n_mels}): lower it too")
        if not isinstance(self.augment_seed, int) or isinstance(self.augment_seed, bool) or self.augment_seed < 0:
            problems.append(f"augment_seed must be a non-negative int, got {self.augment_seed!r}")
        try:
            object.__setattr__(self, "augment", canonical_spec(self.augment))
        except InvalidParameterError as exc:
            problems.append(f"augment: {str(exc).rstrip('.')}")
        nyquist = self.sample_rate / 2 if isinstance(self.sample_rate, int) else math.inf
        f_max = nyquist if self.f_max is None else self.f_max
        if not 0 <= self.f_min < f_max <= nyquist:
            problems.append(
                f"need 0 <= f_min < f_max <= sample_rate / 2, got f_min={self.f_min!r}, "
                f"f_max={self.f_max!r}, sample_rate={self.sample_rate!r}"
            )
        if problems:
            raise InvalidParameterError("Invalid FeatureConfig: " + "; ".join(problems) + ".")

    @property
    def clip_samples(self) -> int:
        """Samples per clip after resampling and padding or cropping."""
        return int(round(self.sample_rate * self.clip_seconds))

    @property
    def n_frames(self) -> int:
        """Frames of the log-mel (the STFT is centred, as in torchaudio)."""
        return 1 + self.clip_samples // self.hop_length

    @property
    def stored_features(self) -> dict:
        """Per-clip ``(shape, dtype)`` of each feature dataset of a store built with this configuration.

        The one list of them: the writer, the reader and ``verify`` iterate it.
        ``logmel_views`` is there only with ``augment``; it is float16.
        """
        features = {
            "waveform": ((self.clip_samples,), "float32"),
            "logmel": ((self.n_mels, self.n_frames), "float32"),
            "mfcc_stats": ((2 * self.n_mfcc,), "float32"),
            "mfcc_delta_stats": ((4 * self.delta_n_mfcc,), "float32"),
        }
        if self.augment:
            features["logmel_views"] = ((len(self.view_names) - 1, self.n_mels, self.n_frames), "float16")
        return features

    @property
    def feature_shapes(self) -> dict:
        """Per-clip shape of each stored feature."""
        return {name: shape for name, (shape, _) in self.stored_features.items()}

    @property
    def feature_dtypes(self) -> dict:
        """numpy dtype name of each stored feature."""
        return {name: dtype for name, (_, dtype) in self.stored_features.items()}

    @property
    def view_names(self) -> tuple:
        """Names of the views ``FeatureStore.load(..., views=True)`` gives, ``"original"`` first; ``()`` without ``augment``."""
        return view_names(self.augment)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "FeatureConfig":
        fields = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise StoreConfigError(
                f"The stored feature configuration has fields this version does not know: "
                f"{unknown}. Upgrade the package or rebuild the store."
            )
        return cls(**fields)

    def differences(self, other: "FeatureConfig") -> dict:
        """Fields whose values differ, as ``{name: (self_value, other_value)}``."""
        mine, theirs = dataclasses.asdict(self), dataclasses.asdict(other)
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}
