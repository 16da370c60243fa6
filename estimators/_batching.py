"""Turning stored clips into network batches: normalisation statistics, collation and loader options."""

import numpy as np
import torch
from torch.utils.data import default_collate

from ._windows import content_frames, random_window_starts
from .augment import spec_augment

__all__ = ["global_mean_std", "loader_options", "seeded_generator", "SpectrogramCollate"]

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


class SpectrogramCollate:
    """``collate_fn`` that stacks clips and prepares them for the network.

    Steps: one view per clip -> stack the clips -> (training) a random window
    of ``crop_frames`` inside each clip's content -> float32 -> normalisation
    -> (training) mixup -> (training) SpecAugment masking. Holds only plain
    numbers and a ``torch.Generator``, so it pickles.

    Parameters
    ----------
    normalize : {"global", "per_clip"} or None
        ``"global"``: ``(x - mean) / std`` with the statistics learned in
        ``fit``; ``"per_clip"``: each clip standardised by its own mean and
        std; None: unchanged.
    mean, std : float or None
        Statistics for ``normalize="global"``.
    training : bool, default=False
        Whether the batches train the network. Only then are views drawn at
        random (otherwise view 0, the original, is used), windows cropped
        and mixup and masks applied.
    crop_frames : int or None, default=None
        Window length in frames for training; None keeps whole clips.
    mixup_alpha : float, default=0.0
        Mixup: each training batch is blended with a shuffled copy of itself,
        ``lam * x_i + (1 - lam) * x_j`` with ``lam ~ Beta(alpha, alpha)``, and
        the one-hot targets likewise; 0 disables it.
    n_classes : int or None, default=None
        Number of classes, for the mixed (soft) targets.
    augment : dict or None, default=None
        Keyword arguments of :func:`~estimators.augment.spec_augment`
        (without ``generator``); None disables masking.
    generator : torch.Generator or None, default=None
        Randomness of the views, windows, mixup and masks.
    """

    def __init__(
        self, *, normalize, mean=None, std=None, training=False, original_view_prob=None,
        crop_frames=None, mixup_alpha=0.0, n_classes=None, augment=None, generator=None,
    ):
        self.normalize = normalize
        self.mean = mean
        self.std = std
        self.training = training
        self.original_view_prob = original_view_prob
        self.crop_frames = crop_frames
        self.mixup_alpha = mixup_alpha
        self.n_classes = n_classes
        self.augment = augment
        self.generator = generator

    def __call__(self, batch):
        """Collate a list of ``(X_i, y_i)`` into ``(X, y)``.

        ``X_i`` is ``(n_mels, n_frames)`` or ``(n_views, n_mels, n_frames)``.
        ``X`` comes out as float32 of shape ``(batch, n_mels, frames)`` or
        ``(batch, 1, n_mels, frames)``, as the clips went in (one view kept);
        ``y`` as the targets went in, or as soft targets ``(batch,
        n_classes)`` with mixup.
        """
        clips = [item[0] for item in batch]
        if clips[0].ndim == 3:  # (n_views, n_mels, n_frames): keep one view of each clip
            views = self._views(len(clips), clips[0].shape[0])
            clips = [clip[view : view + 1] for clip, view in zip(clips, views)]
        # np.stack copies, so read-only inputs (memmaps, h5py reads) are fine
        X = torch.stack(clips).numpy() if isinstance(clips[0], torch.Tensor) else np.stack(clips)
        y = default_collate([item[1] for item in batch])
        if self.training and self.crop_frames is not None and self.crop_frames < X.shape[-1]:
            X = self._random_windows(X)
        X = torch.from_numpy(np.ascontiguousarray(X)).to(torch.float32)
        if self.normalize == "global":
            X = (X - self.mean) / self.std
        elif self.normalize == "per_clip":
            flat = X.reshape(X.shape[0], -1)
            mean = flat.mean(dim=1)
            std = flat.std(dim=1, correction=0).clamp_min(_PER_CLIP_EPS)
            shape = (X.shape[0],) + (1,) * (X.dim() - 1)
            X = (X - mean.reshape(shape)) / std.reshape(shape)
        if self.training and self.mixup_alpha > 0:
            X, y = self._mixup(X, y)
        if self.training and self.augment is not None:
            X = spec_augment(X, generator=self.generator, **self.augment)
        return X, y

    def _views(self, n_clips, n_views):
        """The view each clip of a batch is seen as: 0 (the original) unless training."""
        if n_views == 1 or not self.training:
            return np.zeros(n_clips, dtype=np.int64)
        if self.original_view_prob is None:
            return torch.randint(0, n_views, (n_clips,), generator=self.generator).numpy()
        original = torch.rand(n_clips, generator=self.generator) < self.original_view_prob
        other = torch.randint(1, n_views, (n_clips,), generator=self.generator)
        return torch.where(original, 0, other).numpy()

    def _random_windows(self, X):
        window = self.crop_frames
        starts = random_window_starts(
            content_frames(X), window, n_frames=X.shape[-1], generator=self.generator
        ).numpy()
        return np.stack([clip[..., s : s + window] for clip, s in zip(X, starts)])

    def _mixup(self, X, y):
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=self.generator))
        lam = float(np.random.default_rng(seed).beta(self.mixup_alpha, self.mixup_alpha))
        partner = torch.randperm(X.shape[0], generator=self.generator)
        targets = torch.nn.functional.one_hot(torch.as_tensor(y).long(), self.n_classes).to(X.dtype)
        return lam * X + (1 - lam) * X[partner], lam * targets + (1 - lam) * targets[partner]


def seeded_generator(seed):
    """A CPU ``torch.Generator`` seeded with ``seed``."""
    return torch.Generator().manual_seed(int(seed))


def loader_options(options, *, n_items, collate, plan=None, training_steps=None):
    """Keyword arguments of the ``DataLoader`` for one pass over ``n_items`` clips.

    Parameters
    ----------
    options : dict
        The ``iterator_train__*`` or ``iterator_valid__*`` parameters,
        including ``batch_size`` (-1: all clips in one batch). Not modified.
    n_items : int
        Number of clips in the pass.
    collate : dict
        ``normalize``, ``mean`` and ``std`` of :class:`SpectrogramCollate`.
    plan : FitPlan or None, default=None
        Given for the training pass of a fit only: batches are then shuffled
        (unless ``options`` says ``shuffle=False``) with a generator seeded
        from ``plan.shuffle_seed``, and prepared with ``training_steps``
        (randomness seeded from ``plan.augment_seed``).
    training_steps : dict or None, default=None
        ``original_view_prob``, ``crop_frames``, ``mixup_alpha``, ``n_classes`` and ``augment`` of
        :class:`SpectrogramCollate`; used with ``plan`` only.

    Returns
    -------
    dict
        ``options`` completed with ``collate_fn`` (and ``shuffle``, ``generator``).
    """
    options = dict(options)
    if options["batch_size"] == -1:
        options["batch_size"] = n_items
    training = {}
    if plan is not None:
        options.setdefault("shuffle", True)
        if plan.shuffle_seed is not None and options["shuffle"]:
            options.setdefault("generator", seeded_generator(plan.shuffle_seed))
        training = dict(training_steps or {}, training=True)
        if plan.augment_seed is not None:
            training["generator"] = seeded_generator(plan.augment_seed)
    if plan is None or plan.shuffle_seed is not None:
        # DataLoader draws a base seed from torch's global RNG unless it has
        # a generator; do not let prediction or seeded fits consume it.
        options.setdefault("generator", torch.Generator())
    options["collate_fn"] = SpectrogramCollate(**collate, **training)
    return options
