"""Clip statistics of a log-mel over its content frames: the ``mfcc_delta_stats`` feature.

A clip shorter than the store's length is zero-padded at the end, and its
log-mel ends in frames at one constant floor (-100 dB). Statistics over those
frames describe the padding, not the sound, so these are taken over the clip's
*content frames* only: the frames up to the last one whose largest value (over
the mel bands) is above the clip's smallest value. A clip without such a frame
(constant throughout, e.g. silence) counts all its frames, as
``estimators``' windows do.
"""

import math

import torch

__all__ = ["content_frames", "mfcc_delta_stats"]


def content_frames(logmel: torch.Tensor) -> torch.Tensor:
    """Number of frames before the trailing padding of each clip.

    The one definition of a clip's content, shared by this feature and by
    ``estimators``' training and prediction windows: a frame is padding when
    every value in it (over the mel bands, and over any axes between the
    batch and the mel bands, such as views) equals the smallest value of
    its clip, and the content ends with the last frame that is not.

    Parameters
    ----------
    logmel : Tensor of shape (batch, n_mels, n_frames) or (batch, ..., n_mels, n_frames)
        Any real dtype, float16 included.

    Returns
    -------
    Tensor of int64, shape (batch,)
        Between 1 and ``n_frames``; ``n_frames`` for a clip without padding
        (or one that is constant throughout).
    """
    n_frames = logmel.shape[-1]
    flat = logmel.reshape(logmel.shape[0], math.prod(logmel.shape[1:-1]), n_frames)
    floor = flat.amin(dim=(1, 2))
    active = flat.amax(dim=1) > floor[:, None]  # (batch, n_frames)
    last = n_frames - torch.argmax(active.flip(-1).to(torch.uint8), dim=-1)  # last active frame + 1
    return torch.where(active.any(dim=-1), last, torch.full_like(last, n_frames))


def _masked_mean_std(values: torch.Tensor, mask: torch.Tensor, count: torch.Tensor):
    """Mean and population std over the last axis of ``values`` where ``mask``; 0 where ``count`` is 0."""
    weights = mask.to(values.dtype)[:, None, :]
    n = count.clamp_min(1).to(values.dtype)[:, None]
    mean = (values * weights).sum(dim=-1) / n
    var = ((values - mean[..., None]).square() * weights).sum(dim=-1) / n
    return mean, var.sqrt()


def mfcc_delta_stats(logmel: torch.Tensor, dct: torch.Tensor) -> torch.Tensor:
    """Mean and std of MFCCs and of their frame-to-frame differences, over each clip's content frames.

    Parameters
    ----------
    logmel : Tensor of shape (batch, n_mels, n_frames)
        Mel power in dB, not range-clipped (the stored ``logmel``).
    dct : Tensor of shape (n_mels, n_mfcc)
        ``torchaudio.functional.create_dct(n_mfcc, n_mels, "ortho")``.

    Returns
    -------
    Tensor of float32, shape (batch, 4 * n_mfcc)
        ``[mfcc mean, mfcc std, delta mean, delta std]``, each ``n_mfcc`` values:
        the MFCCs are ``dct.T @ logmel`` per frame, the deltas
        ``mfcc[:, 1:] - mfcc[:, :-1]``, both over content frames only (see
        :func:`content_frames`); the stds are population stds (divided by the
        number of frames). With fewer than two content frames the delta statistics
        are 0. Computed in float64.
    """
    mfcc = torch.matmul(logmel.double().transpose(-1, -2), dct.double()).transpose(-1, -2)  # (batch, n_mfcc, frames)
    n_content = content_frames(logmel)
    frames = torch.arange(logmel.shape[-1], device=logmel.device)
    mfcc_mean, mfcc_std = _masked_mean_std(mfcc, frames[None, :] < n_content[:, None], n_content)
    delta = mfcc[..., 1:] - mfcc[..., :-1]
    n_delta = n_content - 1
    delta_mean, delta_std = _masked_mean_std(delta, frames[None, :-1] < n_delta[:, None], n_delta)
    return torch.cat([mfcc_mean, mfcc_std, delta_mean, delta_std], dim=-1).to(torch.float32)
