"""SpecAugment-style time and frequency masking of log-mel batches (train time only)."""

import torch

__all__ = ["spec_augment"]


def spec_augment(
    x,
    *,
    time_mask_param=20,
    freq_mask_param=8,
    num_time_masks=2,
    num_freq_masks=2,
    generator=None,
):
    """Mask random time and frequency stripes of each spectrogram in a batch.

    This is the reference notebook's "SpecAugment-lite", vectorised over the
    batch: for every clip, ``num_time_masks`` stripes of ``w ~ U{0, ...,
    min(time_mask_param, n_frames)}`` consecutive frames and
    ``num_freq_masks`` stripes of ``w ~ U{0, ..., min(freq_mask_param,
    n_mels)}`` consecutive mel bands are replaced by that clip's mean value
    (computed before masking). Stripes may overlap; a width of 0 masks
    nothing.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, ..., n_mels, n_frames)
        Floating-point spectrograms, e.g. ``(batch, n_mels, n_frames)`` or
        ``(batch, 1, n_mels, n_frames)``. Not modified.
    time_mask_param : int, default=20
        Largest width of a time mask, in frames.
    freq_mask_param : int, default=8
        Largest width of a frequency mask, in mel bands.
    num_time_masks : int, default=2
        Number of time masks per clip.
    num_freq_masks : int, default=2
        Number of frequency masks per clip.
    generator : torch.Generator or None, default=None
        Source of randomness (on the CPU); None uses torch's global generator.

    Returns
    -------
    torch.Tensor of the same shape, dtype and device as ``x``
        The masked copy.
    """
    if x.dim() < 3:
        raise ValueError(
            "spec_augment expects a batch of shape (batch, ..., n_mels, n_frames); "
            f"got {tuple(x.shape)}."
        )
    batch, n_mels, n_frames = x.shape[0], x.shape[-2], x.shape[-1]
    fill = x.reshape(batch, -1).mean(dim=1)
    time_mask = _stripe_mask(batch, n_frames, num_time_masks, time_mask_param, generator)
    freq_mask = _stripe_mask(batch, n_mels, num_freq_masks, freq_mask_param, generator)
    # (batch, n_mels, n_frames) mask, broadcast over any channel dimensions.
    mask = freq_mask[:, :, None] | time_mask[:, None, :]
    mask = mask.reshape((batch,) + (1,) * (x.dim() - 3) + (n_mels, n_frames))
    fill = fill.reshape((batch,) + (1,) * (x.dim() - 1))
    return torch.where(mask.to(x.device), fill, x)


def _stripe_mask(batch, length, num_masks, max_width, generator):
    """Boolean ``(batch, length)`` mask, True inside any of ``num_masks`` random stripes."""
    mask = torch.zeros(batch, length, dtype=torch.bool)
    if num_masks <= 0 or max_width <= 0 or length <= 0:
        return mask
    max_width = min(max_width, length)
    widths = torch.randint(0, max_width + 1, (batch, num_masks), generator=generator)
    # start uniformly in [0, length - width]
    starts = (
        torch.rand(batch, num_masks, generator=generator) * (length - widths + 1)
    ).long()
    positions = torch.arange(length)[None, None, :]
    inside = (positions >= starts[..., None]) & (positions < (starts + widths)[..., None])
    return inside.any(dim=1)
