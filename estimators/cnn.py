"""``MelCNNClassifier``: the reference notebook's CNN as a scikit-learn/skorch classifier."""

import contextlib
import dataclasses
import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import EarlyStopping, EpochScoring, EpochTimer, PassthroughScoring, PrintLog
from skorch.exceptions import DeviceWarning
from skorch.utils import is_dataset
from torch.utils.data import Subset

from ._batching import SpectrogramCollate, global_mean_std
from ._device import loadable_device, resolve_device
from ._threads import effective_n_threads, torch_threads
from ._validation import check_groups, check_spectrograms, check_targets
from .callbacks import RestoreBestParams, encoded_accuracy
from .exceptions import EstimatorParameterError, InputDataError
from .modules import MelCNN

__all__ = ["MelCNNClassifier"]

_NORMALIZE_OPTIONS = ("global", "per_clip")
_VALIDATION_KEYWORDS = ("first", "last")


@dataclasses.dataclass
class _FitPlan:
    """What one call of ``fit``/``partial_fit`` decided; lives only during that call."""

    train_index: np.ndarray
    valid_index: np.ndarray | None
    shuffle_seed: int | None
    augment_seed: int | None


class MelCNNClassifier(NeuralNetClassifier):
    """CNN classifier for log-mel spectrograms (skorch ``NeuralNetClassifier``).

    ``MelCNNClassifier()`` reproduces the reference notebook's baseline:
    :class:`~estimators.MelCNN` (conv blocks 16/32/64), ``CrossEntropyLoss``,
    ``AdamW`` with ``lr=1e-3``, batches of 64, 10 epochs, shuffled training
    batches. It follows the scikit-learn contract (``clone``, ``get_params``,
    ``cross_val_score``, ``GridSearchCV``, pickling) and takes every skorch
    parameter as well (``module__channels=(32, 64)``, ``optimizer__weight_decay``,
    ``callbacks``, ...).

    Unlike plain skorch, no data is held out silently: validation happens only
    when asked for, through ``validation_fold`` (or an explicit
    ``train_split``). With validation, the parameters of the epoch with the
    lowest validation loss are kept in memory and restored at the end of
    ``fit`` (nothing is written to disk).

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=MelCNN
        The network; it must return logits. When it is a class that takes
        ``n_classes``, that argument is set from the classes seen in ``fit``.
        Configure it with ``module__<name>``, e.g. ``module__channels=(16, 32)``
        or ``module__dropout=0.2``.
    criterion : torch loss class, default=torch.nn.CrossEntropyLoss
        Applied to the logits.
    optimizer : torch optimizer class, default=torch.optim.AdamW
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=10
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
        ``get_params()["device"]`` stays ``"auto"``. An explicit device is
        used as given and must exist (``fit`` raises otherwise).
    verbose : int, default=0
        1 prints skorch's per-epoch table.
    normalize : {"global", "per_clip"} or None, default="global"
        ``"global"``: subtract the mean and divide by the standard deviation
        of all log-mel values of the training clips, learned in ``fit``
        (``input_mean_``, ``input_std_``) and reused in ``predict``.
        ``"per_clip"``: standardise every clip by its own mean and std.
        None: feed the values unchanged.
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
        ``class_weight_``.
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
        (needs validation). The best parameters are restored either way.
    random_state : int, numpy.random.RandomState or None, default=None
        Seeds weight initialisation, dropout, batch shuffling and the
        augmentation masks inside ``fit``; torch's global RNG state (CPU, and
        the CUDA device in use) is restored afterwards. The same int gives
        identical predictions on the CPU.
    n_threads : int or None, default=None
        torch CPU threads during ``fit``/``predict`` (restored afterwards).
        None: torch's current setting, capped by ``OMP_NUM_THREADS`` /
        ``MKL_NUM_THREADS``, which joblib's (loky) workers set to
        ``cpu_count // n_jobs``, so ``GridSearchCV(n_jobs=...)`` does not
        oversubscribe. torch's setting is process-wide: with joblib's
        threading backend, set ``n_threads`` explicitly.
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
    ``X`` is ``(n_clips, n_mels, n_frames)`` or ``(n_clips, 1, n_mels, n_frames)``
    log-mel in dB, any real dtype (cast to float32). ``groups`` reaches
    ``fit`` directly (``fit(X, y, groups=groups)``) or through scikit-learn's
    metadata routing::

        sklearn.set_config(enable_metadata_routing=True)
        clf = MelCNNClassifier(validation_fold="last").set_fit_request(groups=True)
        cross_val_score(clf, X, y, cv=LeaveOneGroupOut(), params={"groups": groups})

    Without routing, ``cross_val_score(..., groups=groups, params={"groups":
    groups})`` also passes them to ``fit``; ``GridSearchCV`` then only gives
    them to its splitter, so use routing there when ``validation_fold`` is set.
    """

    def __init__(
        self,
        module=MelCNN,
        *,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=10,
        batch_size=64,
        train_split=None,
        device="auto",
        verbose=0,
        normalize="global",
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
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.normalize = normalize
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
        X : array-like of shape (n_clips, n_mels, n_frames) or (n_clips, 1, n_mels, n_frames)
            Log-mel spectrograms.
        y : array-like of shape (n_clips,)
            Class labels (ints or strings).
        groups : array-like of shape (n_clips,) or None, default=None
            Group of every clip (e.g. UrbanSound8K fold); needed by
            ``validation_fold``, ignored otherwise.
        **fit_params
            Passed to the module's ``forward`` (skorch convention).

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
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        reset = not self._is_fitted()
        return self._fit(
            X, y, groups, fit_params, reset=reset, routing_method="partial_fit",
            classes=classes,
        )

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_mels, n_frames) or (n_clips, 1, n_mels, n_frames)
            ``n_mels`` must match ``fit``. A torch ``Dataset`` is passed on to
            skorch unchanged (used by skorch's scoring callbacks).

        Returns
        -------
        numpy.ndarray of shape (n_clips, n_classes)
            Columns follow ``classes_``.
        """
        self.check_is_fitted()
        if is_dataset(X):
            return super().predict_proba(X)
        X = check_spectrograms(
            X, estimator_name=type(self).__name__, min_size=self._min_input_size(),
            n_mels=self.n_mels_in_,
        )
        with torch_threads(effective_n_threads(self.n_threads)):
            return super().predict_proba(X)

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_mels, n_frames) or (n_clips, 1, n_mels, n_frames)

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
        encoder = self.__dict__.get("label_encoder_")
        if encoder is None:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'classes_' before fit."
            )
        return encoder.classes_

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
        early_stopping = None
        if self.early_stopping is not None:
            early_stopping = EarlyStopping(
                monitor="valid_loss", patience=self.early_stopping, load_best=False
            )
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            (
                "valid_acc",
                EpochScoring(encoded_accuracy, name="valid_acc", lower_is_better=False),
            ),
            ("restore_best", RestoreBestParams(monitor="valid_loss")),
            ("early_stopping", early_stopping),
            ("print_log", PrintLog()),
        ]

    def check_is_fitted(self, attributes=None, *args, **kwargs):
        """Raise ``NotInitializedError`` (a ``NotFittedError``) unless fitted."""
        attributes = attributes or ["module_", "label_encoder_"]
        return super().check_is_fitted(attributes, *args, **kwargs)

    def initialize(self):
        """Resolve ``device`` into ``device_`` and initialise skorch's components."""
        self.device_ = resolve_device(self.device)
        with self._on_resolved_device():
            return super().initialize()

    def initialize_module(self):
        """Instantiate the module, with ``n_classes`` from the fitted classes."""
        kwargs = self.get_params_for("module")
        encoder = self.__dict__.get("label_encoder_")
        if encoder is not None and _accepts_argument(self.module, "n_classes"):
            kwargs.setdefault("n_classes", len(encoder.classes_))
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def initialize_criterion(self):
        """Instantiate the criterion, weighted by ``class_weight_`` if set."""
        kwargs = self.get_params_for("criterion")
        weight = self.__dict__.get("class_weight_")
        if weight is not None:
            kwargs.setdefault("weight", torch.as_tensor(weight, dtype=torch.float32))
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def get_split_datasets(self, X, y=None, **fit_params):
        """Train/validation datasets: the ``validation_fold`` split, if any."""
        plan = self.__dict__.get("_fit_plan_")
        if plan is None or plan.valid_index is None:
            return super().get_split_datasets(X, y, **fit_params)
        dataset = self.get_dataset(X, y)
        return Subset(dataset, plan.train_index), Subset(dataset, plan.valid_index)

    def get_iterator(self, dataset, training=False):
        """DataLoader whose ``collate_fn`` normalises (and, in training, masks) batches.

        Training batches are shuffled by default (``iterator_train__shuffle``)
        with a generator seeded from ``random_state``.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        iterator = self.iterator_train if training else self.iterator_valid
        kwargs = self.get_params_for(prefix)
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)

        plan = self.__dict__.get("_fit_plan_")
        in_fit = training and plan is not None
        augment = None
        augment_generator = None
        if in_fit:
            kwargs.setdefault("shuffle", True)
            if plan.shuffle_seed is not None and kwargs["shuffle"]:
                kwargs.setdefault("generator", _generator(plan.shuffle_seed))
            if self.spec_augment:
                augment = {
                    "time_mask_param": self.time_mask_param,
                    "freq_mask_param": self.freq_mask_param,
                    "num_time_masks": self.num_time_masks,
                    "num_freq_masks": self.num_freq_masks,
                }
                if plan.augment_seed is not None:
                    augment_generator = _generator(plan.augment_seed)
        if not in_fit or plan.shuffle_seed is not None:
            # DataLoader draws a base seed from torch's global RNG unless it has
            # a generator; do not let prediction or seeded fits consume it.
            kwargs.setdefault("generator", torch.Generator())
        kwargs["collate_fn"] = SpectrogramCollate(
            # the fitted choice; a later set_params(normalize=...) waits for fit
            normalize=self.__dict__.get("normalize_", self.normalize),
            mean=self.__dict__.get("input_mean_"),
            std=self.__dict__.get("input_std_"),
            augment=augment,
            generator=augment_generator,
        )
        return iterator(dataset, **kwargs)

    def infer(self, x, **fit_params):
        """Forward one batch on ``device_``."""
        with self._on_resolved_device():
            return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Criterion on one batch, targets moved to ``device_``."""
        with self._on_resolved_device():
            return super().get_loss(y_pred, y_true, X=X, training=training)

    def set_params(self, **kwargs):
        """Set parameters (re-initialising parts of a fitted net, as skorch does)."""
        if not self.initialized_ or "device_" not in self.__dict__:
            return super().set_params(**kwargs)
        device = kwargs.pop("device", _MISSING)
        with self._on_resolved_device():
            super().set_params(**kwargs)
        if device is not _MISSING:
            super().set_params(device=device)
        return self

    def load_params(self, *args, **kwargs):
        """skorch's ``load_params``, mapping tensors to ``device_`` (or the CPU)."""
        if "device_" not in self.__dict__:
            requested = self.device
            self.device_ = (
                resolve_device(requested) if _is_str(requested, "auto") else loadable_device(requested)
            )
        with self._on_resolved_device():
            return super().load_params(*args, **kwargs)

    def __setstate__(self, state):
        # skorch maps the saved tensors to state["device"]; hand it the device
        # they were trained on, or the CPU when that device is missing here
        # (a net fitted on cuda loads on a CPU-only machine). "auto" is kept
        # as the parameter value.
        requested = state.get("device")
        trained_on = state.get("device_", None if requested == "auto" else requested)
        target = loadable_device(trained_on)
        if "device_" in state and trained_on is not None and target != str(
            torch.device(trained_on)
        ):
            if requested != "auto":
                warnings.warn(
                    f"{type(self).__name__} was fitted on {trained_on!r}, which is "
                    f"not available here; it was loaded on {target!r}. Set "
                    "device='auto' or 'cpu' before fitting it again.",
                    DeviceWarning,
                    stacklevel=2,
                )
        state = dict(state)
        state["device"] = target
        super().__setstate__(state)
        self.__dict__["device"] = requested
        if "device_" in state:
            self.__dict__["device_"] = target

    # ------------------------------------------------------------------
    # internals

    def _is_fitted(self):
        return bool(self.initialized_) and "label_encoder_" in self.__dict__

    @contextlib.contextmanager
    def _on_resolved_device(self):
        """Let skorch, which reads ``self.device``, see ``device_`` for the block."""
        requested = self.__dict__.get("device")
        resolved = self.__dict__.get("device_", requested)
        if requested == resolved:
            yield
            return
        self.__dict__["device"] = resolved
        try:
            yield
        finally:
            self.__dict__["device"] = requested

    def _min_input_size(self):
        module = self.module
        if isinstance(module, type) and issubclass(module, MelCNN):
            channels = self.get_params_for("module").get("channels", (16, 32, 64))
            try:
                return MelCNN.min_input_size(channels)
            except ValueError:
                return 1  # the module reports the bad `channels` itself
        return 1

    def _fit(self, X, y, groups, fit_params, *, reset, routing_method, classes=None):
        name = type(self).__name__
        self._check_params(reset=reset)
        X = check_spectrograms(
            X, estimator_name=name, min_size=self._min_input_size(),
            n_mels=None if reset else self.n_mels_in_,
        )
        first_batch_without_classes = reset and classes is None
        y = check_targets(
            y, n_samples=len(X), estimator_name=name,
            min_classes=2 if first_batch_without_classes else 1,
        )
        groups = check_groups(groups, n_samples=len(X))

        if reset:
            label_source = classes if classes is not None else self.classes
            encoder = LabelEncoder().fit(
                y if label_source is None or not len(label_source) else np.asarray(label_source)
            )
        else:
            encoder = self.label_encoder_
        unknown = np.setdiff1d(np.unique(y), encoder.classes_)
        if unknown.size:
            raise InputDataError(
                f"y contains labels {unknown.tolist()!r} that are not among the known "
                f"classes {encoder.classes_.tolist()!r}."
            )
        y_encoded = encoder.transform(y).astype(np.int64)
        validation_fold, train_index, valid_index = self._split_by_group(groups, len(X))
        if reset:
            self._check_n_classes(len(encoder.classes_))
        train_classes = np.unique(y_encoded[train_index])
        if valid_index is not None and len(train_classes) < 2:
            raise InputDataError(
                f"Once validation_fold={validation_fold!r} is set aside, the training "
                f"clips hold a single class; at least 2 are needed."
            )

        if reset:
            class_weight = self._class_weights(encoder, y_encoded[train_index], validation_fold)

        # ---- every check passed: record the fitted state, then train ----
        if reset:
            self.label_encoder_ = encoder
            self.n_mels_in_, self.n_frames_in_ = int(X.shape[-2]), int(X.shape[-1])
            self.normalize_ = self.normalize
            if self.normalize == "global":
                self.input_mean_, self.input_std_ = global_mean_std(X, train_index)
            else:
                self.input_mean_, self.input_std_ = None, None
            self.class_weight_ = class_weight
        self.validation_fold_ = validation_fold
        seeds = self._draw_seeds()
        # later partial_fit calls continue with fresh (still seeded) streams
        offset = 0 if reset else len(self.history_ or [])
        self.n_threads_ = effective_n_threads(self.n_threads)
        self._fit_plan_ = _FitPlan(
            train_index=train_index,
            valid_index=valid_index,
            shuffle_seed=None if seeds is None else seeds[1] + offset,
            augment_seed=None if seeds is None else seeds[2] + offset,
        )
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(torch_threads(self.n_threads_))
                if seeds:
                    stack.enter_context(_forked_rng(resolve_device(self.device)))
                    torch.manual_seed(seeds[0])
                if reset:
                    self.initialize()
                with self._on_resolved_device():
                    NeuralNet.partial_fit(
                        self, X, y_encoded, _routing_method=routing_method, **fit_params
                    )
        except BaseException:
            if reset:  # a half-built net must not look fitted
                self.__dict__.pop("label_encoder_", None)
            raise
        finally:
            self._fit_plan_ = None
        restore_best = dict(self.callbacks_).get("restore_best")
        self.best_epoch_ = getattr(restore_best, "best_epoch_", None)
        return self

    def _split_by_group(self, groups, n_samples):
        """Resolve ``validation_fold`` against this fit's ``groups``.

        Returns ``(fold, train_index, valid_index)``; ``valid_index`` is None
        without validation.
        """
        fold = self.validation_fold
        if fold is None:
            return None, np.arange(n_samples), None
        if groups is None:
            raise InputDataError(
                f"validation_fold={fold!r} needs the group of every clip: call "
                "fit(X, y, groups=groups) or route groups with "
                "set_fit_request(groups=True)."
            )
        present = np.unique(groups)
        if (
            isinstance(fold, str)
            and fold in _VALIDATION_KEYWORDS
            and fold not in present.tolist()
        ):
            if len(present) < 2:
                raise InputDataError(
                    f"validation_fold={fold!r} needs at least 2 groups (one to "
                    f"validate on, the rest to train on); groups holds only "
                    f"{present.tolist()!r}."
                )
            fold = present[-1] if fold == "last" else present[0]
        # element by element: no numpy str-vs-number comparison pitfalls
        is_valid = np.array([group == fold for group in groups.tolist()], dtype=bool)
        if not is_valid.any():
            raise InputDataError(
                f"validation_fold={fold!r} is not present in groups (present: "
                f"{present.tolist()!r}). Inside an outer cross-validation over "
                "groups use validation_fold='last' or 'first', which picks one of "
                "the training groups of each split."
            )
        if is_valid.all():
            raise InputDataError(
                f"validation_fold={fold!r} selects every clip, leaving none to "
                "train on; pass clips from more than one group."
            )
        fold = fold.item() if isinstance(fold, np.generic) else fold
        return fold, np.flatnonzero(~is_valid), np.flatnonzero(is_valid)

    def _check_n_classes(self, n_classes):
        requested = self.get_params_for("module").get("n_classes")
        if requested is not None and requested != n_classes:
            raise EstimatorParameterError(
                f"module__n_classes={requested!r} does not match the {n_classes} "
                "classes in y; leave module__n_classes unset, it is set from y."
            )

    def _class_weights(self, encoder, y_train, validation_fold):
        """Per-class loss weights (in encoded order) from ``class_weight``."""
        n_classes = len(encoder.classes_)
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, dict):
            unknown = [c for c in self.class_weight if c not in set(encoder.classes_.tolist())]
            if unknown:
                raise EstimatorParameterError(
                    f"class_weight names classes {unknown!r} that are not in y "
                    f"(classes: {encoder.classes_.tolist()!r})."
                )
            return np.array(
                [float(self.class_weight.get(c, 1.0)) for c in encoder.classes_.tolist()],
                dtype=np.float32,
            )
        counts = np.bincount(y_train, minlength=n_classes)
        if np.any(counts == 0):
            missing = encoder.classes_[counts == 0].tolist()
            raise InputDataError(
                f"class_weight='balanced' needs every class among the training "
                f"clips, but {missing!r} only occur in validation_fold="
                f"{validation_fold!r}; choose another validation fold."
            )
        return (len(y_train) / (n_classes * counts)).astype(np.float32)

    def _draw_seeds(self):
        if self.random_state is None:
            return None
        rng = check_random_state(self.random_state)
        return [int(s) for s in rng.randint(0, 2**31 - 1, size=3)]

    def _skorch_parameter_problems(self):
        """skorch's check for misspelt keyword arguments, run before initialisation.

        skorch registers the ``module``/``criterion``/``optimizer`` prefixes only
        while initialising; declare them for the duration of the check.
        """
        saved = self.__dict__.get("prefixes_", _MISSING)
        prefixes = list(self.prefixes_)
        prefixes += [p for p in ("module", "criterion", "optimizer") if p not in prefixes]
        self.__dict__["prefixes_"] = prefixes
        try:
            NeuralNet._validate_params(self)
        except ValueError as exc:
            return [str(exc)]
        finally:
            if saved is _MISSING:
                del self.__dict__["prefixes_"]
            else:
                self.__dict__["prefixes_"] = saved
        return []

    def _check_params(self, *, reset):
        """Check hyper-parameters; report every problem in one error."""
        name = type(self).__name__
        problems = []

        def bad(param, rule, value=_MISSING):
            value = getattr(self, param) if value is _MISSING else value
            problems.append(
                f"The {param!r} parameter of {name} must be {rule}. Got {value!r} instead."
            )

        def is_int(value):
            return isinstance(value, Integral) and not isinstance(value, bool)

        if self.normalize is not None and not (
            isinstance(self.normalize, str) and self.normalize in _NORMALIZE_OPTIONS
        ):
            bad("normalize", "one of 'global', 'per_clip' or None")
        if not isinstance(self.spec_augment, (bool, np.bool_)):
            bad("spec_augment", "a bool")
        for param in ("time_mask_param", "freq_mask_param", "num_time_masks", "num_freq_masks"):
            value = getattr(self, param)
            if not is_int(value) or value < 0:
                bad(param, "an int in the range [0, inf)")
        weight = self.class_weight
        if not (weight is None or isinstance(weight, dict) or _is_str(weight, "balanced")):
            bad("class_weight", "'balanced', a dict {label: weight} or None")
        elif isinstance(self.class_weight, dict) and not all(
            isinstance(w, Real) and not isinstance(w, bool) and w >= 0
            for w in self.class_weight.values()
        ):
            bad("class_weight", "'balanced', a dict {label: weight >= 0} or None")
        if self.early_stopping is not None and (
            not is_int(self.early_stopping) or self.early_stopping < 1
        ):
            bad("early_stopping", "an int in the range [1, inf) or None")
        if self.n_threads is not None and (not is_int(self.n_threads) or self.n_threads < 1):
            bad("n_threads", "an int in the range [1, inf) or None")
        if not (
            self.random_state is None
            or is_int(self.random_state)
            or isinstance(self.random_state, np.random.RandomState)
        ):
            bad("random_state", "an int, a numpy RandomState or None")
        if not isinstance(self.lr, Real) or isinstance(self.lr, bool) or not self.lr > 0:
            bad("lr", "a float in the range (0, inf)")
        if not is_int(self.max_epochs) or self.max_epochs < 1:
            bad("max_epochs", "an int in the range [1, inf)")
        if not is_int(self.batch_size) or not (self.batch_size >= 1 or self.batch_size == -1):
            bad("batch_size", "an int in the range [1, inf) or -1")
        fold = self.validation_fold
        if (
            isinstance(fold, str)
            and fold not in _VALIDATION_KEYWORDS
            and fold.strip().lower() in _VALIDATION_KEYWORDS
        ):  # any group value is allowed; only catch likely typos of the keywords
            bad("validation_fold", "'first', 'last', a group value or None")
        try:
            resolve_device(self.device)
        except ValueError as exc:
            problems.append(str(exc))

        if self.validation_fold is not None and self.train_split is not None:
            problems.append(
                "validation_fold and train_split both define a validation set; set "
                "train_split=None (the default) to use validation_fold."
            )
        if self.early_stopping is not None and (
            self.validation_fold is None and self.train_split is None
        ):
            problems.append(
                f"early_stopping={self.early_stopping!r} needs validation data; set "
                "validation_fold (e.g. 'last') or leave early_stopping=None."
            )
        for prefix in ("iterator_train", "iterator_valid"):
            if "collate_fn" in self.get_params_for(prefix):
                problems.append(
                    f"{prefix}__collate_fn cannot be set: {name} collates batches "
                    "itself (normalisation, augmentation)."
                )
        if reset and self.class_weight is not None:
            if not isinstance(self.criterion, type):
                problems.append(
                    "class_weight needs criterion to be a class (e.g. "
                    "torch.nn.CrossEntropyLoss) so the weights can be passed to it."
                )
            if "weight" in self.get_params_for("criterion"):
                problems.append(
                    "class_weight and criterion__weight both set class weights; use one."
                )
        problems += self._skorch_parameter_problems()
        if problems:
            raise EstimatorParameterError("\n".join(problems))


_MISSING = object()


def _forked_rng(device):
    """Restore torch's global RNG state(s) after the block (CPU, and CUDA if used)."""
    if device is not None and torch.device(device).type == "cuda":
        index = torch.device(device).index
        return torch.random.fork_rng(devices=[index if index is not None else 0])
    return torch.random.fork_rng(devices=[])


def _is_str(value, text):
    return isinstance(value, str) and value == text


def _generator(seed):
    return torch.Generator().manual_seed(int(seed))


def _accepts_argument(module, name):
    if not isinstance(module, type):
        return False
    try:
        parameters = inspect.signature(module).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
