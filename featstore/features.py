"""Feature computation: pure functions on arrays, and one batched torch module.

Shapes follow torchaudio's conventions: waveforms are ``(..., time)``, spectrograms
``(..., n_mels, n_frames)``.
"""

import dataclasses
import functools
import math

import numpy as np
import torch
import torchaudio

from .config import FeatureConfig
from .exceptions import ClipError
from .statistics import mfcc_delta_stats

__all__ = ["Crop", "FeatureExtractor", "crop_of", "fix_length", "prepare_waveform", "resample", "to_mono"]

_AMIN = 1e-10  # power floor before the log: silence gives finite -100 dB


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Mix ``(n_samples, n_channels)`` down to ``(n_samples,)`` by averaging channels."""
    if samples.ndim == 1:
        return samples
    if samples.shape[1] == 1:
        return samples[:, 0]
    # A matrix-vector product: several times faster than mean(axis=1) on (n, 2) arrays.
    weights = np.full(samples.shape[1], 1.0 / samples.shape[1], dtype=np.float32)
    return samples @ weights


def fix_length(waveform: torch.Tensor, n_samples: int) -> torch.Tensor:
    """Zero-pad at the end, or centre-crop, ``(..., time)`` to ``(..., n_samples)``."""
    length = waveform.shape[-1]
    if length < n_samples:
        return torch.nn.functional.pad(waveform, (0, n_samples - length))
    start = (length - n_samples) // 2
    return waveform[..., start : start + n_samples]


class _SincResampler:
    """torchaudio's windowed-sinc resampler, computed without the zeros of its kernel.

    ``torchaudio.transforms.Resample`` reduces the two rates by their gcd to ``orig``
    and ``new``, takes a frame of ``orig + 2 * width`` input samples every ``orig``
    samples, and multiplies it with a kernel of ``new`` phases, one per output
    sample. Each phase has only about ``2 * width`` non-zero taps: 34 of 475 from
    44.1 to 16 kHz. Here the kernel is cut into blocks of taps and each block is
    multiplied with only the phases it touches. A rate pair with few phases (48 to
    16 kHz has one) first gets frames as long as ``MIN_PHASES`` outputs, so that
    every pair has zeros to skip. The output is torchaudio's up to float rounding
    (tested), in about half its time.
    """

    MIN_PHASES = 128

    def __init__(self, orig_freq: int, new_freq: int):
        resampler = torchaudio.transforms.Resample(orig_freq, new_freq)
        gcd = math.gcd(orig_freq, new_freq)
        orig, new = orig_freq // gcd, new_freq // gcd
        self.reduced_rates = (orig, new)  # torchaudio rounds the output length with these
        self.width = resampler.width
        kernel = resampler.kernel[:, 0, :]  # (new, orig + 2 * width)
        repeat = math.ceil(self.MIN_PHASES / new)
        if repeat > 1:
            # In a frame `repeat` times longer, phase q * new + j is phase j shifted by q * orig.
            longer = kernel.new_zeros(new * repeat, orig * repeat + 2 * self.width)
            for q in range(repeat):
                longer[q * new : (q + 1) * new, q * orig : q * orig + kernel.shape[1]] = kernel
            kernel, orig, new = longer, orig * repeat, new * repeat
        self.hop, self.n_phases, self.n_taps = orig, new, kernel.shape[1]
        self.blocks = []
        block = max(16, self.n_taps // 8)  # about eight blocks: fastest in our measurements
        for start in range(0, self.n_taps, block):
            stop = min(start + block, self.n_taps)
            phases = torch.nonzero((kernel[:, start:stop] != 0).any(dim=1))[:, 0]
            if len(phases):
                first, last = int(phases[0]), int(phases[-1]) + 1
                self.blocks.append((start, stop, first, last, kernel[first:last, start:stop].T.contiguous()))

    def __call__(self, waveform: torch.Tensor) -> torch.Tensor:
        shape = waveform.shape
        padded = torch.nn.functional.pad(waveform.reshape(-1, shape[-1]), (self.width, self.width + self.hop))
        frames = padded.unfold(-1, self.n_taps, self.hop)  # (clips, frames, taps), a view
        out = waveform.new_zeros(frames.shape[0], frames.shape[1], self.n_phases)
        for clip_frames, clip_out in zip(frames, out):
            for start, stop, first, last, weights in self.blocks:
                clip_out[:, first:last].addmm_(clip_frames[:, start:stop], weights)
        out = out.reshape(*shape[:-1], -1)
        return out[..., : _resampled_length(shape[-1], *self.reduced_rates)]


@functools.lru_cache(maxsize=32)
def _resampler(orig_freq: int, new_freq: int) -> _SincResampler:
    # The sinc kernel depends only on the pair of rates: build it once per process.
    return _SincResampler(orig_freq, new_freq)


def resample(waveform: torch.Tensor, orig_freq: int, new_freq: int) -> torch.Tensor:
    """Resample ``(..., time)`` with torchaudio's default windowed-sinc filter.

    The result equals ``torchaudio.functional.resample(waveform, orig_freq, new_freq)``
    up to float rounding.
    """
    if orig_freq == new_freq:
        return waveform
    return _resampler(int(orig_freq), int(new_freq))(waveform)


def _resampled_length(n_samples: int, orig_freq: int, new_freq: int) -> int:
    # torchaudio's own rounding (in float32, after reducing the rates by their gcd).
    gcd = math.gcd(orig_freq, new_freq)
    return int(torch.ceil(torch.as_tensor(new_freq // gcd * n_samples / (orig_freq // gcd))))


MAX_RESAMPLING_KERNEL = 2**25
"""Largest resampling kernel accepted, in values (128 MB of float32)."""


def _check_rate(sample_rate: int, config: FeatureConfig):
    gcd = math.gcd(sample_rate, config.sample_rate)
    kernel_size = (sample_rate // gcd) * (config.sample_rate // gcd)  # phases x taps, roughly
    if kernel_size > MAX_RESAMPLING_KERNEL:
        raise ClipError(
            f"unsupported sample rate {sample_rate} Hz: resampling it to {config.sample_rate} Hz would need a "
            f"filter of about {kernel_size / 1e6:.0f} million values. Convert the file to a standard rate "
            f"(e.g. 44100 or 48000 Hz)."
        )


@dataclasses.dataclass(frozen=True)
class Crop:
    """The input frames ``[start, stop)`` a clip is made from, and where it begins in their resampled output.

    ``offset`` is None when the whole file is read and padded or centre-cropped
    as usual (:func:`fix_length`).
    """

    start: int
    stop: int
    offset: int | None = None


def crop_of(n_frames: int, sample_rate: int, config: FeatureConfig) -> Crop:
    """The frames of a file of ``n_frames`` frames that its fixed-length clip needs.

    A file up to twice the clip length is read whole, as it always was. Of a
    longer one only the centre-cropped span is read, plus the whole resampling
    frames around it and ``width`` samples of context on each side (see
    :class:`_SincResampler`): every output sample kept is then computed from
    the same input samples, in the same frame, as when the whole file is
    resampled and then cropped, so the clip is the same, and memory does not
    grow with the length of the file.

    Raises
    ------
    ClipError
        If the sample rate cannot be resampled (see :func:`prepare_waveform`).
    """
    sample_rate = int(sample_rate)
    _check_rate(sample_rate, config)
    if n_frames * config.sample_rate <= 2 * config.clip_samples * sample_rate:
        return Crop(0, n_frames)
    n_out = config.clip_samples
    if sample_rate == config.sample_rate:
        start = (n_frames - n_out) // 2  # fix_length's centre crop
        return Crop(start, start + n_out, 0)
    resampler = _resampler(sample_rate, config.sample_rate)
    hop, phases, width = resampler.hop, resampler.n_phases, resampler.width
    first_out = (_resampled_length(n_frames, sample_rate, config.sample_rate) - n_out) // 2
    first_frame, end_frame = first_out // phases, -(-(first_out + n_out) // phases)
    # Whole frames before the first one kept, enough to cover the left context.
    start_frame = max(0, first_frame - -(-width // hop))
    start, stop = start_frame * hop, min(n_frames, end_frame * hop + width)
    return Crop(start, stop, first_out - start_frame * phases)


def prepare_waveform(samples: np.ndarray, sample_rate: int, config: FeatureConfig, *,
                     crop: Crop | None = None) -> torch.Tensor:
    """Decoded samples ``(n_samples, n_channels)`` to the fixed-length mono clip ``(clip_samples,)``.

    Parameters
    ----------
    samples : ndarray of shape (n_samples, n_channels)
        The whole file, or the frames ``crop`` names.
    sample_rate : int
    config : FeatureConfig
    crop : Crop, optional
        From :func:`crop_of`, when only its span of the file was read.

    Raises
    ------
    ClipError
        If the sample rate shares so small a common factor with ``config.sample_rate``
        that torchaudio's resampling kernel would not fit in memory (44101 Hz to
        16 kHz needs about 700 million values; the usual rates need under a million).
    """
    sample_rate = int(sample_rate)
    _check_rate(sample_rate, config)
    mono = torch.from_numpy(np.ascontiguousarray(to_mono(samples), dtype=np.float32))
    mono = resample(mono, sample_rate, config.sample_rate)
    if crop is None or crop.offset is None:
        return fix_length(mono, config.clip_samples)
    return mono[crop.offset : crop.offset + config.clip_samples]


def _power_to_db(power: torch.Tensor) -> torch.Tensor:
    return 10.0 * torch.log10(torch.clamp(power, min=_AMIN))


class FeatureExtractor(torch.nn.Module):
    """Log-mel spectrogram and MFCC statistics of a batch of fixed-length clips.

    :meth:`forward` gives the log-mel and the MFCC statistics;
    :meth:`mfcc_delta_stats` the richer statistics of that log-mel, and
    :meth:`log_mel` the log-mel alone (for the augmented views).

    One mel filterbank serves both features, so the log-mel and the MFCCs come from
    the same STFT. Each clip's result equals what torchaudio's ``MelSpectrogram`` +
    ``AmplitudeToDB`` and ``MFCC`` give for it alone.

    Parameters
    ----------
    config : FeatureConfig
    """

    def __init__(self, config: FeatureConfig):
        super().__init__()
        self.config = config
        # MelSpectrogram's two stages, with the power taken from the complex STFT
        # here (see forward). The other arguments are MelSpectrogram's defaults.
        self.stft = torchaudio.transforms.Spectrogram(n_fft=config.n_fft, hop_length=config.hop_length, power=None)
        self.mel_scale = torchaudio.transforms.MelScale(
            n_mels=config.n_mels,
            sample_rate=config.sample_rate,
            f_min=config.f_min,
            f_max=config.f_max,
            n_stft=config.n_fft // 2 + 1,
        )
        dct = torchaudio.functional.create_dct(config.n_mfcc, config.n_mels, norm="ortho")
        self.register_buffer("dct", dct)
        delta_dct = torchaudio.functional.create_dct(config.delta_n_mfcc, config.n_mels, norm="ortho")
        self.register_buffer("delta_dct", delta_dct)

    def _mel_power(self, waveforms: torch.Tensor) -> torch.Tensor:
        # re² + im² instead of MelSpectrogram's |z|² (abs, then square): the same
        # values to rounding, and the complex abs costs as much as the STFT itself.
        stft = torch.view_as_real(self.stft(waveforms))
        return self.mel_scale(stft[..., 0].square() + stft[..., 1].square())

    def log_mel(self, waveforms: torch.Tensor) -> torch.Tensor:
        """``(batch, time) -> (batch, n_mels, n_frames)``: the stored ``logmel`` alone (as :meth:`forward` gives it)."""
        return _power_to_db(self._mel_power(waveforms))

    def mfcc_delta_stats(self, logmel: torch.Tensor) -> torch.Tensor:
        """``(batch, n_mels, n_frames) -> (batch, 4 * delta_n_mfcc)``: see :func:`featstore.statistics.mfcc_delta_stats`."""
        return mfcc_delta_stats(logmel, self.delta_dct)

    def forward(self, waveforms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Compute the features.

        Parameters
        ----------
        waveforms : Tensor of shape (batch, time)

        Returns
        -------
        logmel : Tensor of shape (batch, n_mels, n_frames)
            Mel power in dB (``10 log10``, floored at 1e-10, not range-clipped).
        mfcc_stats : Tensor of shape (batch, 2 * n_mfcc)
            Mean then standard deviation over frames of each MFCC.
        """
        power = self._mel_power(waveforms)
        logmel = _power_to_db(power)
        # (batch, 1, n_mels, n_frames): torchaudio applies top_db per leading item,
        # so this clips each clip on its own maximum, as MFCC does for one clip.
        clipped = torchaudio.functional.amplitude_to_DB(
            power.unsqueeze(1), multiplier=10.0, amin=_AMIN, db_multiplier=0.0,
            top_db=self.config.mfcc_top_db,
        ).squeeze(1)
        mfcc = torch.matmul(clipped.transpose(-1, -2), self.dct).transpose(-1, -2)
        mfcc_stats = torch.cat([mfcc.mean(dim=-1), mfcc.std(dim=-1)], dim=-1)
        return logmel, mfcc_stats

    @torch.no_grad()
    def transform(self, waveforms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """numpy in, numpy out: ``(batch, time)`` float32 to ``(logmel, mfcc_stats)``."""
        logmel, mfcc_stats = self(torch.as_tensor(waveforms, dtype=torch.float32))
        return logmel.numpy(), mfcc_stats.numpy()
