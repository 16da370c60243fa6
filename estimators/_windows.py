"""Short windows of log-mel clips: random ones for training, overlapping ones averaged at prediction.

A clip shorter than the store's fixed length is zero-padded at the end, which
the log-mel shows as trailing frames at one constant floor value (-100 dB for
the feature store's ``AmplitudeToDB``). Windows are placed inside the clip's
*content*, the frames before that padding, so that a 1 s gun shot is not
learnt or scored from 3 s of padding.
"""

import numpy as np
import torch

from featstore.statistics import content_frames as _content_frames

__all__ = ["CHUNK_CLIPS", "content_frames", "random_window_starts", "window_starts", "windowed_proba"]

# Clips whose prediction windows are scored together: bounds the memory of one
# call; validation during fit goes through the clips in chunks of the same size.
CHUNK_CLIPS = 256


def content_frames(x):
    """Number of frames before the trailing padding of every clip.

    :func:`featstore.statistics.content_frames` (the one definition, shared
    with the store's ``mfcc_delta_stats``) applied to a numpy array: a frame
    is padding when every value in it equals the smallest value of its clip
    (zero-padded audio gives such frames, at the dB floor).

    Parameters
    ----------
    x : numpy.ndarray of shape (n_clips, ..., n_mels, n_frames)
        Any real dtype, float16 included.

    Returns
    -------
    numpy.ndarray of int64, shape (n_clips,)
        Between 1 and ``n_frames``; ``n_frames`` for a clip without padding
        (or one that is constant throughout).
    """
    x = np.asarray(x)
    if not x.flags.writeable:
        # torch warns about (and cannot guard) tensors over read-only memory
        x = x.copy()
    return _content_frames(torch.from_numpy(x)).numpy()


def random_window_starts(n_content, window, *, n_frames, generator=None):
    """A random first frame per clip, uniform over the windows inside its content.

    Parameters
    ----------
    n_content : numpy.ndarray of int, shape (n_clips,)
        From :func:`content_frames`.
    window : int
        Window length in frames (at most ``n_frames``).
    n_frames : int
        Frames of every clip.
    generator : torch.Generator or None, default=None

    Returns
    -------
    torch.Tensor of int64, shape (n_clips,)
        Starts in ``[0, max(n_content - window, 0)]``, never past
        ``n_frames - window``: a clip shorter than ``window`` starts at 0.
    """
    last_start = torch.from_numpy(np.clip(n_content - window, 0, n_frames - window))
    draw = torch.rand(len(last_start), generator=generator, dtype=torch.float64)
    return torch.minimum((draw * (last_start + 1)).long(), last_start)


def window_starts(n_content, window, *, n_frames, hop=None):
    """First frames of evenly spaced windows that cover a clip's content.

    The first window starts at frame 0 and the last ends with the content;
    between them the starts are spread evenly (rounded to whole frames), as
    many windows as a spacing of about ``hop`` needs, so that every frame of
    the content is covered about equally often and no window nearly repeats
    another.

    Parameters
    ----------
    n_content : int
        Frames of content (:func:`content_frames`).
    window : int
        Window length in frames.
    n_frames : int
        Frames of the clip.
    hop : int or None, default=None
        The spacing aimed at; None means ``window // 2`` (half overlap). The
        actual spacing is the one closest to ``hop`` that divides the span
        between the first and the last start evenly, and never exceeds
        ``window``, so no frame is left out.

    Returns
    -------
    list of int
        Strictly increasing starts, ``[0]`` when the content fits in one
        window.
    """
    hop = max(1, window // 2 if hop is None else hop)
    end = min(max(int(n_content), window), n_frames)
    span = end - window  # frames between the first start and the last
    if span <= 0:
        return [0]
    n_gaps = max(1, round(span / hop), -(-span // window))  # never a gap wider than a window
    return [int(s) for s in np.rint(np.linspace(0, span, n_gaps + 1))]


def windowed_proba(predict_proba, X, window, *, chunk_clips=CHUNK_CLIPS):
    """Mean class probabilities over the windows covering each clip.

    Parameters
    ----------
    predict_proba : callable
        Maps an array of windows ``(n_windows, ..., n_mels, window)`` to
        probabilities ``(n_windows, n_classes)``.
    X : numpy.ndarray of shape (n_clips, ..., n_mels, n_frames)
    window : int
        Window length in frames; clips of at most ``window`` frames are
        scored whole.
    chunk_clips : int, default=CHUNK_CLIPS (256)
        Clips whose windows are scored together (bounds the memory).

    Returns
    -------
    numpy.ndarray of shape (n_clips, n_classes)
        In the dtype ``predict_proba`` returns.
    """
    n_frames = X.shape[-1]
    if window >= n_frames:
        return predict_proba(X)
    parts = []
    for begin in range(0, len(X), chunk_clips):
        clips = np.asarray(X[begin : begin + chunk_clips])
        starts = [window_starts(n, window, n_frames=n_frames) for n in content_frames(clips)]
        windows = np.stack(
            [clip[..., s : s + window] for clip, clip_starts in zip(clips, starts) for s in clip_starts]
        )
        proba = predict_proba(windows)
        first = np.cumsum([0] + [len(s) for s in starts[:-1]])
        mean = np.add.reduceat(proba, first, axis=0) / np.array([len(s) for s in starts])[:, None]
        # in the dtype of the window probabilities, as whole clips give them: the
        # mean of float32 probabilities sums to 1 only to float32 precision
        parts.append(mean.astype(proba.dtype, copy=False))
    return np.concatenate(parts)
