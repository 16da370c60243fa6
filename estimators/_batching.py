"""Turning stored clips into network batches: normalisation statistics, the collate functions and loader options.

Each kind of pass has its own ``collate_fn``, a short sequence of the steps
defined below:

- :class:`PredictionCollate` (prediction, and the windows that validation
  scores): view 0 -> stack -> float32 -> normalise.
- :class:`TrainingCollate` (the training pass of a fit): draw a view per clip
  -> stack -> a random window per clip -> float32 -> normalise -> mixup ->
  SpecAugment masks.
- :func:`collate_originals` (the validation clips of a fit, before they are
  windowed): view 0 -> stack, values unchanged.

:func:`training_loader_options` and :func:`prediction_loader_options` give the
matching ``DataLoader`` arguments.
"""

import numpy as np
import torch
from torch.utils.data import Subset, default_collate, get_worker_info

from ._windows import content_frames, random_window_starts
from .augment import spec_augment

__all__ = [
    "PredictionCollate",
    "TrainingCollate",
    "ValidationClips",
    "collate_originals",
    "crop_random_windows",
    "draw_views",
    "global_mean_std",
    "mixup",
    "normalise",
    "prediction_loader_options",
    "seeded_generator",
    "stack_clips",
    "training_loader_options",
]

_STATS_CHUNK = 256  # clips per chunk: bounded memory on the full 8,732 x 64 x 321 set
_PER_CLIP_EPS = 1e-5


def global_mean_std(X, indices=None):
    """Mean and standard deviation over every value of the selected clips.

    Accumulated in float64, chunk by chunk, so no full-size temporary is made.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_clips, ...)
    indices : array of int or None, default=None
        Clips to use (e.g. the training part only); None means all.

    Returns
    -------
    mean, std : float
        ``std`` is replaced by 1.0 when it is 0 (constant input), as
        scikit-learn's ``StandardScaler`` does.
    """
    if indices is None:
        indices = np.arange(X.shape[0])
    count, mean, m2 = 0, 0.0, 0.0
    for start in range(0, len(indices), _STATS_CHUNK):
        chunk = np.asarray(X[indices[start : start + _STATS_CHUNK]], dtype=np.float64)
        n = chunk.size
        chunk_mean = float(chunk.mean())
        chunk_m2 = float(((chunk - chunk_mean) ** 2).sum())
        # Chan et al. pairwise combination of (count, mean, M2)
        delta = chunk_mean - mean
        total = count + n
        mean += delta * n / total
        m2 += chunk_m2 + delta**2 * count * n / total
        count = total
    std = float(np.sqrt(m2 / count)) if count else 0.0
    return float(mean), (std if std > 0 else 1.0)


# ----------------------------------------------------------------------------
# the steps


def draw_views(n_clips, n_views, original_view_prob=None, generator=None):
    """The view each clip of a training batch is seen as.

    Parameters
    ----------
    n_clips, n_views : int
    original_view_prob : float or None, default=None
        Probability of view 0 (the original); the other views share the
        rest equally. None draws all views equally often.
    generator : torch.Generator or None, default=None

    Returns
    -------
    numpy.ndarray of int64, shape (n_clips,)
        All 0 when there is one view (nothing is drawn then).
    """
    if n_views == 1:
        return np.zeros(n_clips, dtype=np.int64)
    if original_view_prob is None:
        return torch.randint(0, n_views, (n_clips,), generator=generator).numpy()
    original = torch.rand(n_clips, generator=generator) < original_view_prob
    other = torch.randint(1, n_views, (n_clips,), generator=generator)
    return torch.where(original, 0, other).numpy()


def stack_clips(clips, views=None):
    """Stack clips into one array, one view of each.

    Parameters
    ----------
    clips : list of numpy.ndarray or torch.Tensor
        Each ``(n_mels, n_frames)`` or ``(n_views, n_mels, n_frames)``.
    views : numpy.ndarray of int of shape (n_clips,) or None, default=None
        The view kept of each clip (:func:`draw_views`); None keeps view 0.

    Returns
    -------
    numpy.ndarray of shape (n_clips, n_mels, n_frames) or (n_clips, 1, n_mels, n_frames)
        As the clips went in (one view kept), in their dtype. A copy, so
        read-only inputs (memmaps, h5py reads) are fine.
    """
    if clips[0].ndim == 3:
        views = np.zeros(len(clips), dtype=np.int64) if views is None else views
        clips = [clip[view : view + 1] for clip, view in zip(clips, views)]
    return torch.stack(clips).numpy() if isinstance(clips[0], torch.Tensor) else np.stack(clips)


def crop_random_windows(X, window, generator=None):
    """One random window of ``window`` frames per clip, inside its content.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_clips, ..., n_mels, n_frames)
    window : int
        At most ``n_frames``.
    generator : torch.Generator or None, default=None

    Returns
    -------
    numpy.ndarray of shape (n_clips, ..., n_mels, window)
        Starts drawn by :func:`~estimators._windows.random_window_starts`.
    """
    starts = random_window_starts(content_frames(X), window, n_frames=X.shape[-1], generator=generator).numpy()
    return np.stack([clip[..., s : s + window] for clip, s in zip(X, starts)])


def to_float32(X):
    """``X`` as a contiguous float32 tensor (the dtype every device takes)."""
    return torch.from_numpy(np.ascontiguousarray(X)).to(torch.float32)


def normalise(X, normalize, mean=None, std=None):
    """Standardise a float tensor of clips.

    Parameters
    ----------
    X : torch.Tensor of shape (n_clips, ...)
    normalize : {"global", "per_clip"} or None
        ``"global"``: ``(X - mean) / std``; ``"per_clip"``: each clip by its
        own mean and std (at least 1e-5); None: unchanged.
    mean, std : float or None, default=None
        For ``"global"``.

    Returns
    -------
    torch.Tensor of the same shape
    """
    if normalize == "global":
        return (X - mean) / std
    if normalize == "per_clip":
        flat = X.reshape(X.shape[0], -1)
        clip_mean = flat.mean(dim=1)
        clip_std = flat.std(dim=1, correction=0).clamp_min(_PER_CLIP_EPS)
        shape = (X.shape[0],) + (1,) * (X.dim() - 1)
        return (X - clip_mean.reshape(shape)) / clip_std.reshape(shape)
    return X


def mixup(X, y, alpha, n_classes, generator=None):
    """Blend a batch with a shuffled copy of itself, inputs and one-hot targets alike.

    Parameters
    ----------
    X : torch.Tensor of shape (batch, ...)
    y : torch.Tensor of int of shape (batch,)
    alpha : float
        ``lam ~ Beta(alpha, alpha)``, one weight for the batch.
    n_classes : int
    generator : torch.Generator or None, default=None

    Returns
    -------
    X_mixed : torch.Tensor
        ``lam * X[i] + (1 - lam) * X[j]``, with ``j`` a random permutation.
    targets : torch.Tensor of shape (batch, n_classes)
        ``lam * onehot(y[i]) + (1 - lam) * onehot(y[j])``, in ``X``'s dtype.
    """
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))
    partner = torch.randperm(X.shape[0], generator=generator)
    targets = torch.nn.functional.one_hot(torch.as_tensor(y).long(), n_classes).to(X.dtype)
    return lam * X + (1 - lam) * X[partner], lam * targets + (1 - lam) * targets[partner]


# ----------------------------------------------------------------------------
# the collate functions


def _split(batch):
    """The clips of a list of ``(X_i, y_i)``, and the collated targets."""
    return [item[0] for item in batch], default_collate([item[1] for item in batch])


class PredictionCollate:
    """``collate_fn`` of prediction: view 0 of each clip, stacked, as float32, normalised.

    Also collates the windows that validation scores, which go through
    prediction (see ``MelCNNClassifier.validation_step``).

    Parameters
    ----------
    normalize : {"global", "per_clip"} or None
        See :func:`normalise`.
    mean, std : float or None, default=None
        Statistics for ``normalize="global"``.
    """

    def __init__(self, *, normalize, mean=None, std=None):
        self.normalize = normalize
        self.mean = mean
        self.std = std

    def __call__(self, batch):
        """Collate a list of ``(X_i, y_i)`` into ``(X, y)``.

        ``X_i`` is ``(n_mels, n_frames)`` or ``(n_views, n_mels, n_frames)``;
        ``X`` comes out float32 of shape ``(batch, n_mels, n_frames)`` or
        ``(batch, 1, n_mels, n_frames)``.
        """
        clips, y = _split(batch)
        return normalise(to_float32(stack_clips(clips)), self.normalize, self.mean, self.std), y


class TrainingCollate:
    """``collate_fn`` of the training pass of a fit.

    Steps: draw a view of each clip (:func:`draw_views`) -> stack -> a random
    window of ``crop_frames`` inside each clip's content
    (:func:`crop_random_windows`) -> float32 -> normalise (:func:`normalise`)
    -> mixup (:func:`mixup`) -> SpecAugment masks
    (:func:`~estimators.augment.spec_augment`).

    Parameters
    ----------
    normalize : {"global", "per_clip"} or None
    mean, std : float or None, default=None
        As for :class:`PredictionCollate`.
    original_view_prob : float or None, default=None
        See :func:`draw_views`.
    crop_frames : int or None, default=None
        Window length in frames; None (or clips no longer) keeps whole clips.
    mixup_alpha : float, default=0.0
        0 disables mixup.
    n_classes : int or None, default=None
        Number of classes, for mixup's soft targets.
    spec_augment : bool, default=False
        Whether to mask, with the four parameters below.
    time_mask_param, freq_mask_param, num_time_masks, num_freq_masks : int
        Those of :func:`~estimators.augment.spec_augment`.
    seed : int or None, default=None
        Seeds the views, windows, mixup and masks. In the process that calls
        it, one generator seeded with ``seed`` runs on across batches and
        epochs. Inside a ``DataLoader`` worker, the generator is seeded from
        ``seed`` and the worker's own seed, which the ``DataLoader`` derives
        for every worker of every epoch from its ``generator``: workers and
        epochs draw different streams, and a seeded loader makes them
        repeatable. None uses torch's global generator (which the
        ``DataLoader`` seeds in each worker).
    """

    def __init__(
        self, *, normalize, mean=None, std=None, original_view_prob=None, crop_frames=None,
        mixup_alpha=0.0, n_classes=None, spec_augment=False, time_mask_param=20, freq_mask_param=8,
        num_time_masks=2, num_freq_masks=2, seed=None,
    ):
        self.normalize = normalize
        self.mean = mean
        self.std = std
        self.original_view_prob = original_view_prob
        self.crop_frames = crop_frames
        self.mixup_alpha = mixup_alpha
        self.n_classes = n_classes
        self.spec_augment = spec_augment
        self.time_mask_param = time_mask_param
        self.freq_mask_param = freq_mask_param
        self.num_time_masks = num_time_masks
        self.num_freq_masks = num_freq_masks
        self.seed = seed
        self._generator = None
        self._stream = None

    def __call__(self, batch):
        """Collate a list of ``(X_i, y_i)`` into ``(X, y)``.

        ``X`` comes out float32 of shape ``(batch, n_mels, frames)`` or
        ``(batch, 1, n_mels, frames)``, as the clips went in (one view kept);
        ``y`` as the targets went in, or soft targets ``(batch, n_classes)``
        with mixup.
        """
        generator = self.generator()
        clips, y = _split(batch)
        views = None
        if clips[0].ndim == 3:  # (n_views, n_mels, n_frames): one view of each clip
            views = draw_views(len(clips), clips[0].shape[0], self.original_view_prob, generator)
        X = stack_clips(clips, views)
        if self.crop_frames is not None and self.crop_frames < X.shape[-1]:
            X = crop_random_windows(X, self.crop_frames, generator)
        X = normalise(to_float32(X), self.normalize, self.mean, self.std)
        if self.mixup_alpha > 0:
            X, y = mixup(X, y, self.mixup_alpha, self.n_classes, generator)
        if self.spec_augment:
            X = spec_augment(
                X, time_mask_param=self.time_mask_param, freq_mask_param=self.freq_mask_param,
                num_time_masks=self.num_time_masks, num_freq_masks=self.num_freq_masks, generator=generator,
            )
        return X, y

    def generator(self):
        """The generator of the calling process's stream (None without ``seed``)."""
        if self.seed is None:
            return None
        worker = get_worker_info()
        stream = None if worker is None else worker.seed
        if self._generator is None or stream != self._stream:
            # A worker holds a copy of this object made when its DataLoader
            # iterator started; seeding from the worker's seed (new for every
            # worker and epoch) keeps the copies from repeating one stream.
            seed = self.seed if worker is None else _mix(self.seed, worker.seed)
            self._generator, self._stream = seeded_generator(seed), stream
        return self._generator


def collate_originals(batch):
    """``collate_fn`` of a fit's validation clips: view 0 of each, stacked, values unchanged.

    Returns
    -------
    X : numpy.ndarray of shape (batch, n_mels, n_frames) or (batch, 1, n_mels, n_frames)
        In the clips' dtype; windowed, cast and normalised later, as in
        prediction.
    y : torch.Tensor of shape (batch,)
    """
    clips, y = _split(batch)
    return stack_clips(clips), y


class ValidationClips(Subset):
    """The validation clips of a fit: a ``Subset`` that ``MelCNNClassifier`` scores as ``predict_proba`` would."""


# ----------------------------------------------------------------------------
# loader options


def seeded_generator(seed):
    """A CPU ``torch.Generator`` seeded with ``seed``."""
    return torch.Generator().manual_seed(int(seed))


def _mix(*seeds):
    """One 63-bit seed from several non-negative ints (numpy's ``SeedSequence``)."""
    return int(np.random.SeedSequence([int(s) for s in seeds]).generate_state(1, np.uint64)[0] >> 1)


def _with_batch_size(options, n_items):
    options = dict(options)
    if options["batch_size"] == -1:
        options["batch_size"] = n_items
    return options


def training_loader_options(options, *, n_items, seed=None):
    """Keyword arguments of the ``DataLoader`` of a fit's training pass (without ``collate_fn``).

    Parameters
    ----------
    options : dict
        The ``iterator_train__*`` parameters, including ``batch_size`` (-1:
        all clips in one batch). Not modified.
    n_items : int
        Number of training clips.
    seed : int or None, default=None
        Seeds the loader's ``generator`` (unless ``options`` has one): the
        order of the batches, and the seeds the loader gives its workers
        every epoch (used by :class:`TrainingCollate`), also with
        ``shuffle=False``. None leaves both to torch's global generator.

    Returns
    -------
    dict
        ``options`` with ``batch_size`` resolved, ``shuffle`` (True unless
        set) and ``generator``.
    """
    options = _with_batch_size(options, n_items)
    options.setdefault("shuffle", True)
    if seed is not None:
        options.setdefault("generator", seeded_generator(seed))
    return options


def prediction_loader_options(options, *, n_items):
    """Keyword arguments of the ``DataLoader`` of any other pass (without ``collate_fn``).

    Parameters
    ----------
    options : dict
        The ``iterator_valid__*`` (or ``iterator_train__*``) parameters,
        including ``batch_size``. Not modified.
    n_items : int

    Returns
    -------
    dict
        ``options`` with ``batch_size`` resolved and a ``generator``: a
        ``DataLoader`` draws a base seed from torch's global generator unless
        it has one, and prediction must not consume it.
    """
    options = _with_batch_size(options, n_items)
    options.setdefault("generator", torch.Generator())
    return options
