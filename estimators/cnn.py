"""``MelCNNClassifier``: a log-mel CNN and its training recipe as a scikit-learn/skorch classifier."""

import contextlib
import inspect

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from skorch import NeuralNet, NeuralNetClassifier
from skorch.utils import is_dataset, to_device, to_numpy, to_tensor
from torch.utils.data import DataLoader, Subset

from ._batching import (
    PredictionCollate,
    TrainingCollate,
    ValidationClips,
    collate_originals,
    global_mean_std,
    prediction_loader_options,
    training_loader_options,
)
from ._device import AutoDeviceMixin, resolve_device
from ._loss import soft_target_weighted_mean
from ._params import MASK_PARAMS, MEL_CNN_RULES, accepts_argument, check_module_n_classes, check_parameters
from ._plan import FitPlan, class_weights, draw_seeds, split_by_group, torch_seeded
from ._threads import effective_n_threads, torch_threads
from ._validation import check_groups, check_spectrograms, check_targets, encode_labels
from ._windows import CHUNK_CLIPS, windowed_proba
from .callbacks import default_callbacks
from .exceptions import EstimatorParameterError
from .modules import MelCNN

__all__ = ["MelCNNClassifier"]


class MelCNNClassifier(AutoDeviceMixin, NeuralNetClassifier):
    """CNN classifier for log-mel spectrograms (skorch ``NeuralNetClassifier``).

    ``MelCNNClassifier()`` trains with a recipe measured on real UrbanSound8K
    (``benchmarks/bench_recipe.py``): the notebook's network as
    :class:`~estimators.MelCNN` (three blocks of one 3x3 convolution, 16 to
    64 channels) with mean+max pooling over time, random 128-frame windows
    (1.6 s) at a new position every epoch and the mean of the window
    probabilities at prediction, mixup (``alpha=0.3``), label smoothing 0.1,
    ``AdamW`` under a one-cycle schedule peaking at ``lr=3e-3`` and ending
    near 0, batches of 64, 30 epochs. The schedule ends at a low learning
    rate, so the last epoch is a good model without a validation fold.
    :func:`~estimators.make_notebook_cnn` is the reference notebook's CNN and
    training (the baseline).

    It follows the scikit-learn contract (``clone``, ``get_params``,
    ``cross_val_score``, ``GridSearchCV``, pickling) and takes every skorch
    parameter as well (``module__channels=(32, 64)``, ``optimizer__weight_decay``,
    ``callbacks``, ...).

    Unlike plain skorch, no data is held out silently: validation happens only
    when asked for, through ``validation_fold`` (or an explicit
    ``train_split``). Validation scores its clips exactly as
    :meth:`predict_proba` would (the windows of ``crop_frames`` averaged per
    clip, see :meth:`validation_step`), so ``valid_loss``, ``valid_acc``,
    the epoch kept and early stopping all judge what ``predict`` will
    return. With validation, the parameters of the epoch with the lowest
    validation loss are kept in memory and restored at the end of ``fit``
    (nothing is written to disk).

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=MelCNN
        The network; it must return logits. When it is a class that takes
        ``n_classes``, that argument is set from the classes seen in ``fit``.
        Configure it with ``module__<name>``, e.g. ``module__channels=(16, 32)``
        or ``module__dropout=0.2``.
    criterion : torch loss class or instance, default=torch.nn.CrossEntropyLoss
        Applied to the logits in training. Used as given, configured with
        ``criterion__<name>``; ``class_weight`` and ``label_smoothing`` add
        ``weight=`` and ``label_smoothing=`` to a class that takes them.
        ``fit`` refuses a combination that cannot work: ``label_smoothing >
        0`` or ``class_weight`` with an instance or a class without that
        argument (e.g. ``torch.nn.NLLLoss`` has no ``label_smoothing``), and
        ``mixup_alpha > 0`` with a criterion other than ``CrossEntropyLoss``
        (mixup's targets are class probabilities). In validation the
        criterion receives the log of the window-averaged probabilities (see
        :meth:`validation_step`).
    optimizer : torch optimizer class, default=torch.optim.AdamW
    lr : float, default=3e-3
        Learning rate (the peak of ``lr_schedule``).
    max_epochs : int, default=30
        Number of training epochs (fewer with ``early_stopping``).
    batch_size : int, default=64
        Batch size for training, validation and prediction (-1: everything at once).
    train_split : callable or None, default=None
        skorch's internal train/validation split. None (the default) trains on
        all data given to ``fit``; skorch's own default would silently hold out
        20%. Prefer ``validation_fold``; the two cannot be combined (with a
        ``train_split`` the normalisation statistics also see its holdout).
    device : {"auto"}, str, torch.device or None, default="auto"
        ``"auto"`` resolves at fit time to ``"cuda"`` if available, else
        ``"mps"``, else ``"cpu"``; the choice is stored in ``device_`` while
        the ``device`` attribute and ``get_params()["device"]`` stay ``"auto"``
        (also while other threads fit or predict). An explicit device is
        used as given and must exist (``fit`` raises otherwise).
    verbose : {"auto"}, int or bool, default="auto"
        ``"auto"``: a progress bar over the epochs on stderr, with the last
        training loss (and validation loss and accuracy), only in the main
        thread of the main process: nothing inside joblib's workers
        (``cross_val_score`` or ``GridSearchCV`` with ``n_jobs``), other
        threads or Dask workers. 1 (or more): skorch's per-epoch table on
        stdout. 0: nothing. Any value but 0 also lets skorch print its
        one-line notes, e.g. "Re-initializing module." when a fitted net is
        fitted again.
    normalize : {"global", "per_clip"} or None, default="global"
        ``"global"``: subtract the mean and divide by the standard deviation
        of all log-mel values of the training clips, learned in ``fit``
        (``input_mean_``, ``input_std_``) and reused in ``predict``.
        ``"per_clip"``: standardise every clip by its own mean and std.
        None: feed the values unchanged.
    original_view_prob : float or None, default=None
        For ``X`` with augmented views (``(n_clips, n_views, n_mels,
        n_frames)``, view 0 the original, e.g. ``FeatureStore.load("logmel",
        views=True)``): training sees one view of each clip per epoch, the
        original with this probability and the other views equally often
        otherwise; None draws all views equally often. Prediction and
        validation always use view 0, and the normalisation statistics come
        from view 0.
    crop_frames : int or None, default=128
        Train on windows of this many frames (128 frames are 1.6 s with the
        store's 12.5 ms hop), each clip cut at a new random position every
        epoch inside its content (the frames before any trailing padding);
        predict and validate on overlapping windows averaged per clip (see
        :meth:`predict_proba`). None trains and predicts on whole clips.
        Clips of at most ``crop_frames`` frames are used whole. Windows are
        cut before normalisation, so ``normalize="per_clip"`` standardises
        each window.
    mixup_alpha : float, default=0.3
        Mixup: every training batch is blended with a shuffled copy of
        itself, inputs and one-hot targets alike, with a weight drawn from
        ``Beta(mixup_alpha, mixup_alpha)``; 0 disables it. Needs a criterion
        that takes class-probability targets (``CrossEntropyLoss``).
    label_smoothing : float, default=0.1
        Passed to the criterion (``CrossEntropyLoss(label_smoothing=...)``),
        which must be a class that takes it; 0 passes nothing (the
        criterion's own setting, e.g. ``criterion__label_smoothing``, holds).
        It applies to the validation loss too.
    lr_schedule : {"onecycle", "cosine"} or None, default="onecycle"
        Learning-rate schedule over all batches of a fit, peaking at ``lr``
        and ending near 0 (:class:`~estimators.callbacks.LRSchedule`); None
        keeps ``lr`` constant.
    spec_augment : bool, default=False
        Apply SpecAugment-style masking (:func:`~estimators.augment.spec_augment`)
        to training batches only; validation and prediction are never masked.
    time_mask_param : int, default=20
        Largest width of a time mask, in frames.
    freq_mask_param : int, default=8
        Largest width of a frequency mask, in mel bands.
    num_time_masks : int, default=2
        Time masks per clip.
    num_freq_masks : int, default=2
        Frequency masks per clip.
    class_weight : {"balanced"}, dict or None, default=None
        ``"balanced"`` weights the loss by ``n_train / (n_classes * count)``
        per class, counted on the training clips (not the validation fold);
        a dict maps labels to weights (missing labels weigh 1). Stored in
        ``class_weight_`` and passed to the criterion as ``weight``. The loss
        of a batch is then the weighted mean of its clips' losses, ``sum_i
        w[y_i] * loss_i / sum_i w[y_i]``, as PyTorch's ``CrossEntropyLoss``
        computes it for class labels; under mixup a blended clip weighs
        ``lam * w[y_i] + (1 - lam) * w[y_j]`` and its loss is the sum of its
        two classes' terms, each weighted by its class's weight, so the loss
        keeps that meaning (and training and validation losses one scale;
        PyTorch alone would divide by the batch size instead).
    validation_fold : {"first", "last"}, scalar or None, default=None
        Clips whose ``groups`` value equals this are used for validation (loss,
        accuracy, best-epoch selection) and not for training; e.g. fitting on
        folds 1-9 with ``validation_fold=9`` is the notebook's "train 1-8,
        validate 9". ``"last"`` / ``"first"`` pick the largest / smallest group
        present in this fit's ``groups``, which is what works inside an outer
        cross-validation over groups (a fixed fold may be the outer test fold).
        Needs ``groups`` in ``fit``.
    early_stopping : int or None, default=None
        Stop when the validation loss has not improved for this many epochs
        (needs validation). Epochs that end while ``lr_schedule`` is still
        warming up (before the learning rate peaks: the first 30% of the
        steps under ``"onecycle"``) do not count, as the validation loss
        may rise while the learning rate climbs
        (:class:`~estimators.callbacks.EarlyStoppingAfterWarmUp`). The best
        parameters are restored either way.
    random_state : int, numpy.random.RandomState or None, default=None
        Seeds everything random inside ``fit``: weight initialisation,
        dropout, batch order and the training augmentation (views, windows,
        mixup, masks), also in ``DataLoader`` workers
        (``iterator_train__num_workers``), where every worker of every epoch
        draws its own stream. torch's global RNG state (CPU, and the CUDA
        device in use) is restored afterwards. Two fits give bit-identical
        models when they have the same ``random_state`` (an int), data,
        parameters, device, number of torch CPU threads (``n_threads_``) and
        ``iterator_train__num_workers``, with the same library versions; on
        the CPU, another number of threads can change the last bits of the
        results, which then grow apart over training. A later
        ``partial_fit`` (or ``warm_start`` fit) continues with new streams
        (derived from ``random_state`` and the epochs already trained).
    n_threads : int or None, default=None
        torch CPU threads during ``fit``/``predict`` (restored afterwards).
        None: torch's current setting, capped by ``OMP_NUM_THREADS`` /
        ``MKL_NUM_THREADS``, which joblib's (loky) workers set to
        ``cpu_count // n_jobs``, so ``GridSearchCV(n_jobs=...)`` does not
        oversubscribe; inside a Dask worker, ``cores // nthreads`` with the
        same cap (see the README). torch's setting is process-wide: with
        joblib's threading backend, set ``n_threads`` explicitly.
    **kwargs
        Any other skorch ``NeuralNetClassifier`` parameter, including
        ``module__*``, ``optimizer__*``, ``criterion__*``, ``iterator_*__*``,
        ``callbacks``, ``classes``, ``warm_start``.

    Attributes
    ----------
    classes_ : numpy.ndarray of shape (n_classes,)
        The class labels seen in ``fit`` (ints or strings), in the order of
        the ``predict_proba`` columns.
    label_encoder_ : sklearn.preprocessing.LabelEncoder
        Maps labels to the 0..n_classes-1 targets the network is trained on.
    n_mels_in_, n_frames_in_ : int
        Mel bands and frames of the clips seen in ``fit``. ``predict`` needs
        the same number of mel bands; the number of frames may differ.
    normalize_ : {"global", "per_clip"} or None
        The normalisation ``predict`` applies (``normalize`` at fit time).
    crop_frames_ : int or None
        The window length ``predict`` uses (``crop_frames`` at fit time).
    input_mean_, input_std_ : float or None
        Normalisation statistics (``normalize="global"`` only).
    class_weight_ : numpy.ndarray of shape (n_classes,) or None
    validation_fold_ : object or None
        The group used for validation in the last ``fit``.
    best_epoch_ : int or None
        Epoch whose parameters were restored (None without validation).
    device_ : str or None
        Device the network lives on.
    n_threads_ : int
        torch CPU threads used by the last ``fit``.
    module_, criterion_, optimizer_, history_ :
        skorch's fitted components and training history.

    Notes
    -----
    ``X`` is ``(n_clips, n_mels, n_frames)`` log-mel in dB, or ``(n_clips,
    n_views, n_mels, n_frames)`` with augmented views of every clip (view 0 the
    original; one view is the plain ``(n_clips, 1, ...)`` form). Any real dtype:
    float16 is kept as is (half the memory of a dataset's views) and batches
    are cast to float32; other types are cast to float32. ``groups`` reaches
    ``fit`` directly (``fit(X, y, groups=groups)``) or through scikit-learn's
    metadata routing::

        sklearn.set_config(enable_metadata_routing=True)
        clf = MelCNNClassifier(validation_fold="last").set_fit_request(groups=True)
        cross_val_score(clf, X, y, cv=LeaveOneGroupOut(), params={"groups": groups})

    Without routing, ``cross_val_score(..., groups=groups, params={"groups":
    groups})`` also passes them to ``fit``; ``GridSearchCV`` then only gives
    them to its splitter, so use routing there when ``validation_fold`` is set.
    """

    # valid values of each parameter, checked at the top of fit: see _params.py
    _parameter_rules = MEL_CNN_RULES

    def __init__(
        self,
        module=MelCNN,
        *,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=3e-3,
        max_epochs=30,
        batch_size=64,
        train_split=None,
        device="auto",
        verbose="auto",
        normalize="global",
        original_view_prob=None,
        crop_frames=128,
        mixup_alpha=0.3,
        label_smoothing=0.1,
        lr_schedule="onecycle",
        spec_augment=False,
        time_mask_param=20,
        freq_mask_param=8,
        num_time_masks=2,
        num_freq_masks=2,
        class_weight=None,
        validation_fold=None,
        early_stopping=None,
        random_state=None,
        n_threads=None,
        **kwargs,
    ):
        super().__init__(
            module, criterion=criterion, optimizer=optimizer, lr=lr, max_epochs=max_epochs,
            batch_size=batch_size, train_split=train_split, device=device, verbose=verbose, **kwargs,
        )
        self.normalize = normalize
        self.original_view_prob = original_view_prob
        self.crop_frames = crop_frames
        self.mixup_alpha = mixup_alpha
        self.label_smoothing = label_smoothing
        self.lr_schedule = lr_schedule
        self.spec_augment = spec_augment
        self.time_mask_param = time_mask_param
        self.freq_mask_param = freq_mask_param
        self.num_time_masks = num_time_masks
        self.num_freq_masks = num_freq_masks
        self.class_weight = class_weight
        self.validation_fold = validation_fold
        self.early_stopping = early_stopping
        self.random_state = random_state
        self.n_threads = n_threads

    # ------------------------------------------------------------------
    # scikit-learn API

    def fit(self, X, y, groups=None, **fit_params):
        """Check the data, then initialise and train the network.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_mels, n_frames) or (n_clips, n_views, n_mels, n_frames)
            Log-mel spectrograms.
        y : array-like of shape (n_clips,)
            Class labels (ints or strings).
        groups : array-like of shape (n_clips,) or None, default=None
            Group of every clip (e.g. UrbanSound8K fold); needed by
            ``validation_fold``, ignored otherwise.
        **fit_params
            Passed to the module's ``forward`` in training (skorch
            convention); validation, like ``predict``, calls it without them.

        Returns
        -------
        self
        """
        reset = not (self.warm_start and self._is_fitted())
        return self._fit(X, y, groups, fit_params, reset=reset, routing_method="fit")

    def partial_fit(self, X, y, classes=None, groups=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        The first call (on an unfitted estimator) behaves like ``fit``; later
        calls keep the classes, normalisation statistics and class weights.

        Parameters
        ----------
        X, y, groups
            As in :meth:`fit`.
        classes : array-like or None, default=None
            All class labels, for a first call whose ``y`` lacks some of them.
        **fit_params
            As in :meth:`fit`.

        Returns
        -------
        self
        """
        reset = not self._is_fitted()
        return self._fit(
            X, y, groups, fit_params, reset=reset, routing_method="partial_fit", classes=classes
        )

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits).

        With ``crop_frames`` (as fitted), each clip is scored on overlapping
        windows of that many frames (hop ``crop_frames // 2``) covering its
        content (the frames before any trailing padding), and the window
        probabilities are averaged. Validation during ``fit`` scores its
        clips with this same computation.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_mels, n_frames) or (n_clips, n_views, n_mels, n_frames)
            ``n_mels`` must match ``fit``; only view 0 is used. A torch
            ``Dataset`` is passed on to skorch unchanged (skorch's scoring
            callbacks pass the validation clips of a fit, which are scored as
            arrays are).

        Returns
        -------
        numpy.ndarray of shape (n_clips, n_classes)
            Columns follow ``classes_``.
        """
        self.check_is_fitted()
        if isinstance(X, ValidationClips):
            # skorch's scoring callbacks during fit: through forward_iter, which
            # they replace by what validation_step returned for these clips
            return np.concatenate([np.exp(to_numpy(log_proba)) for log_proba in self.forward_iter(X)])
        if is_dataset(X):
            return super().predict_proba(X)
        X = check_spectrograms(
            X, estimator_name=type(self).__name__, min_size=self._min_input_size(),
            n_mels=self.n_mels_in_,
        )
        with torch_threads(effective_n_threads(self.n_threads)):
            return self._clip_proba(_originals(X))

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_mels, n_frames) or (n_clips, n_views, n_mels, n_frames)

        Returns
        -------
        numpy.ndarray of shape (n_clips,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.label_encoder_.inverse_transform(proba.argmax(axis=1))

    @property
    def classes_(self):
        """Class labels seen in ``fit``, in ``predict_proba`` column order."""
        if "label_encoder_" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} has no attribute 'classes_' before fit.")
        return self.label_encoder_.classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        # `two_d_array` stays True only so scikit-learn's common checks run at
        # all (with False they are all skipped); 2-D input is rejected and the
        # checks that feed it are listed as expected failures in
        # tests/test_common.py.
        return tags

    # ------------------------------------------------------------------
    # skorch hooks

    @property
    def _default_callbacks(self):
        return default_callbacks(self.early_stopping, self.lr_schedule)

    def check_is_fitted(self, attributes=None, *args, **kwargs):
        """Raise ``NotInitializedError`` (a ``NotFittedError``) unless fitted."""
        attributes = attributes or ["module_", "label_encoder_"]
        return super().check_is_fitted(attributes, *args, **kwargs)

    def initialize_module(self):
        """Instantiate the module, with ``n_classes`` from the fitted classes."""
        kwargs = self.get_params_for("module")
        encoder = self.__dict__.get("label_encoder_")
        if encoder is not None and accepts_argument(self.module, "n_classes"):
            kwargs.setdefault("n_classes", len(encoder.classes_))
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def initialize_criterion(self):
        """Instantiate the criterion as given, with ``weight`` from ``class_weight_`` and
        ``label_smoothing`` added when those are set.

        ``fit`` refuses, before training, a criterion that cannot take them
        (an instance, or a class without that argument).
        """
        kwargs = self.get_params_for("criterion")
        weight = self.__dict__.get("class_weight_")
        if weight is not None:
            kwargs["weight"] = torch.as_tensor(weight, dtype=torch.float32)
        if self.label_smoothing:
            kwargs["label_smoothing"] = float(self.label_smoothing)
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion on one batch; with mixup's soft targets and class weights, a weighted mean.

        PyTorch's weighted ``CrossEntropyLoss`` divides by the batch size for
        class-probability targets, by the sum of the targets' weights for
        class indices; the former is rescaled to the latter
        (:func:`~estimators._loss.soft_target_weighted_mean`), so that class
        weights mean the same with and without mixup.
        """
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        weight = getattr(self.criterion_, "weight", None)
        if (
            weight is not None
            and getattr(self.criterion_, "reduction", None) == "mean"
            and torch.is_tensor(y_true) and y_true.is_floating_point() and y_true.dim() == 2
        ):
            loss = soft_target_weighted_mean(loss, y_true, weight)
        return loss

    def get_split_datasets(self, X, y=None, **fit_params):
        """Train/validation datasets: the ``validation_fold`` split, if any.

        The validation part is marked (a ``ValidationClips``) so that
        :meth:`validation_step` scores it as :meth:`predict_proba` would.
        """
        plan = self.__dict__.get("_fit_plan_")
        if plan is not None and plan.valid_index is not None:
            dataset = self.get_dataset(X, y)
            return Subset(dataset, plan.train_index), ValidationClips(dataset, plan.valid_index)
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        if dataset_valid is None:
            return dataset_train, None
        return dataset_train, ValidationClips(dataset_valid, np.arange(len(dataset_valid)))

    def get_iterator(self, dataset, training=False):
        """DataLoader of one pass over ``dataset``, its ``collate_fn`` suited to the pass.

        - The training pass of a fit: :meth:`_training_collate` (views,
          windows, normalisation, mixup, masks); batches shuffled by default
          (``iterator_train__shuffle``), and the loader's generator seeded
          from ``random_state`` (it also seeds the loader's workers).
        - The validation clips of a fit: the original clips (view 0) as they
          are, :data:`~estimators._windows.CHUNK_CLIPS` at a time, for
          :meth:`validation_step`; in the calling process (the
          ``iterator_valid__*`` options apply to the prediction inside it).
        - Anything else (prediction, the windows scored in validation):
          :meth:`_prediction_collate` (view 0, normalisation).
        """
        if isinstance(dataset, ValidationClips):
            return DataLoader(
                dataset, batch_size=CHUNK_CLIPS, collate_fn=collate_originals, generator=torch.Generator(),
            )
        plan = self.__dict__.get("_fit_plan_")
        if training and plan is not None:
            options = training_loader_options(
                {"batch_size": self.batch_size, **self.get_params_for("iterator_train")},
                n_items=len(dataset), seed=plan.shuffle_seed,
            )
            return self.iterator_train(dataset, collate_fn=self._training_collate(plan), **options)
        prefix = "iterator_train" if training else "iterator_valid"
        options = prediction_loader_options(
            {"batch_size": self.batch_size, **self.get_params_for(prefix)}, n_items=len(dataset),
        )
        return getattr(self, prefix)(dataset, collate_fn=self._prediction_collate(), **options)

    def validation_step(self, batch, **fit_params):
        """Score a chunk of validation clips exactly as :meth:`predict_proba` would.

        ``batch`` holds original clips (view 0) as they were given, and their
        encoded targets. Their probabilities ``p`` come from the computation
        of :meth:`predict_proba` (windows, then normalisation, then the mean
        of the window probabilities). The criterion receives their logarithm,
        ``log(p)``, as if it were logits: for ``CrossEntropyLoss`` that is
        exactly the negative log-likelihood of the averaged probability (with
        the class weights and label smoothing of training). ``fit_params`` do
        not reach the module here, as in :meth:`predict_proba`.

        Returns
        -------
        dict
            ``loss`` and ``y_pred``, ``log(p)``, which skorch's scoring
            callbacks turn back into ``p`` (see :meth:`predict_proba`).
        """
        X_clips, y = batch
        log_proba = self._clip_log_proba(X_clips)
        with self._resolved_device(), torch.no_grad():
            loss = self.criterion_(to_tensor(log_proba, device=self.device), to_tensor(y, device=self.device))
        return {"loss": loss, "y_pred": log_proba}

    def forward_iter(self, X, training=False, device="cpu"):
        """skorch's ``forward_iter``; for a fit's validation clips, ``log(p)`` chunk by chunk (see :meth:`validation_step`)."""
        if not isinstance(X, ValidationClips):
            yield from super().forward_iter(X, training=training, device=device)
            return
        for X_clips, _ in self.get_iterator(X, training=False):
            yield to_device(self._clip_log_proba(X_clips), device)

    # ------------------------------------------------------------------
    # internals

    def _training_collate(self, plan):
        """The ``collate_fn`` of the training pass of a fit (see :class:`~estimators._batching.TrainingCollate`)."""
        return TrainingCollate(
            normalize=self.normalize_, mean=self.input_mean_, std=self.input_std_,
            original_view_prob=self.original_view_prob, crop_frames=self.crop_frames,
            mixup_alpha=self.mixup_alpha, n_classes=len(self.classes_), spec_augment=self.spec_augment,
            **{name: getattr(self, name) for name in MASK_PARAMS}, seed=plan.augment_seed,
        )

    def _prediction_collate(self):
        """The ``collate_fn`` of every other pass (see :class:`~estimators._batching.PredictionCollate`)."""
        # the fitted choice; a later set_params(normalize=...) waits for fit
        return PredictionCollate(
            normalize=self.__dict__.get("normalize_", self.normalize),
            mean=self.__dict__.get("input_mean_"), std=self.__dict__.get("input_std_"),
        )

    def _clip_proba(self, X):
        """The probabilities of :meth:`predict_proba` for checked clips ``X`` (view 0 only).

        The windows of ``crop_frames_`` covering each clip's content, scored
        by skorch's ``predict_proba`` (batches of :meth:`_prediction_collate`,
        so windows are normalised after they are cut) and averaged per clip;
        whole clips without ``crop_frames_``.
        """
        window = self.__dict__.get("crop_frames_", self.crop_frames)
        if window is None:
            return super().predict_proba(X)
        return windowed_proba(super().predict_proba, X, window)

    def _clip_log_proba(self, X):
        """``log`` of :meth:`_clip_proba` as a float32 tensor, probabilities of 0 taken as the smallest float32."""
        proba = torch.from_numpy(np.asarray(self._clip_proba(X), dtype=np.float32))
        return proba.clamp_min(torch.finfo(torch.float32).tiny).log()

    def _is_fitted(self):
        return bool(self.initialized_) and "label_encoder_" in self.__dict__

    def _min_input_size(self):
        if isinstance(self.module, type) and issubclass(self.module, MelCNN):
            try:
                default = inspect.signature(MelCNN).parameters["channels"].default
                return MelCNN.min_input_size(self.get_params_for("module").get("channels", default))
            except ValueError:
                return 1  # the module reports the bad `channels` itself
        return 1

    def _fit(self, X, y, groups, fit_params, *, reset, routing_method, classes=None):
        name = type(self).__name__
        check_parameters(self, self._parameter_rules, reset=reset)
        min_size = self._min_input_size()
        if self.crop_frames is not None and self.crop_frames < min_size:
            raise EstimatorParameterError(
                f"crop_frames={self.crop_frames!r} is shorter than the network accepts: its "
                f"pooling needs windows of at least {min_size} frames; raise crop_frames "
                "or use fewer conv blocks."
            )
        X = check_spectrograms(
            X, estimator_name=name, min_size=min_size, n_mels=None if reset else self.n_mels_in_,
        )
        y = check_targets(
            y, n_samples=len(X), estimator_name=name,
            min_classes=2 if reset and classes is None else 1,
        )
        groups = check_groups(groups, n_samples=len(X))
        if reset:
            labels = classes if classes is not None else self.classes
            encoder = LabelEncoder().fit(y if labels is None or not len(labels) else np.asarray(labels))
        else:
            encoder = self.label_encoder_
        y_encoded = encode_labels(y, encoder)
        validation_fold, train_index, valid_index = split_by_group(groups, self.validation_fold, y=y_encoded)
        if reset:
            check_module_n_classes(self, len(encoder.classes_))
            class_weight = class_weights(
                self.class_weight, classes=encoder.classes_, y_train=y_encoded[train_index],
                validation_fold=validation_fold,
            )
            # ---- every check passed: record the fitted state, then train ----
            self.label_encoder_ = encoder
            self.n_mels_in_, self.n_frames_in_ = int(X.shape[-2]), int(X.shape[-1])
            self.normalize_ = self.normalize
            self.crop_frames_ = self.crop_frames
            self.input_mean_, self.input_std_ = (
                global_mean_std(_originals(X), train_index) if self.normalize == "global" else (None, None)
            )
            self.class_weight_ = class_weight
        self.validation_fold_ = validation_fold
        seeds = draw_seeds(self.random_state, offset=0 if reset else len(self.history_ or []))
        self.n_threads_ = effective_n_threads(self.n_threads)
        self._fit_plan_ = FitPlan(
            train_index, valid_index,
            shuffle_seed=None if seeds is None else seeds.shuffle,
            augment_seed=None if seeds is None else seeds.augment,
        )
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(torch_threads(self.n_threads_))
                if seeds is not None:
                    stack.enter_context(torch_seeded(seeds.init, resolve_device(self.device)))
                if reset:
                    self.initialize()
                with self._resolved_device():
                    NeuralNet.partial_fit(self, X, y_encoded, _routing_method=routing_method, **fit_params)
        except BaseException:
            if reset:  # a half-built net must not look fitted
                self.__dict__.pop("label_encoder_", None)
            raise
        finally:
            self._fit_plan_ = None
        restore_best = dict(self.callbacks_).get("restore_best")
        self.best_epoch_ = getattr(restore_best, "best_epoch_", None)
        return self


def _originals(X):
    """View 0 (the original clip) of ``(n_clips, n_views, n_mels, n_frames)`` input, as
    ``(n_clips, 1, n_mels, n_frames)``; 3-D input as it is. No copy."""
    return X[:, :1] if X.ndim == 4 else X
