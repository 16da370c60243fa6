"""skorch callbacks and scorers used by ``MelCNNClassifier``."""

import copy
import math
import multiprocessing
import sys
import threading

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, EpochScoring, EpochTimer, PassthroughScoring, PrintLog
from tqdm import tqdm

from ._threads import _current_dask_worker

__all__ = [
    "EarlyStoppingAfterWarmUp", "LRSchedule", "ProgressLog", "RestoreBestParams", "default_callbacks",
    "encoded_accuracy", "progress_is_shown",
]

LR_SCHEDULES = ("onecycle", "cosine")
ONECYCLE_WARM_UP = 0.3  # share of the steps over which "onecycle" climbs to its peak (torch's pct_start)
COSINE_WARM_UP = 0.05  # the same for "cosine"


def default_callbacks(early_stopping=None, lr_schedule=None):
    """``MelCNNClassifier``'s callbacks: skorch's defaults plus accuracy, best-epoch restore,
    early stopping, the learning-rate schedule and the progress display.

    Parameters
    ----------
    early_stopping : int or None, default=None
        Patience in epochs on the validation loss (:class:`EarlyStoppingAfterWarmUp`);
        None adds no early stopping.
    lr_schedule : {"onecycle", "cosine"} or None, default=None
        See :class:`LRSchedule`; None keeps the learning rate constant.

    Returns
    -------
    list of (str, Callback or None)
    """
    stopping = None
    if early_stopping is not None:
        stopping = EarlyStoppingAfterWarmUp(monitor="valid_loss", patience=early_stopping, load_best=False)
    return [
        ("lr_schedule", None if lr_schedule is None else LRSchedule(lr_schedule)),
        ("epoch_timer", EpochTimer()),
        ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ("valid_loss", PassthroughScoring(name="valid_loss")),
        ("valid_acc", EpochScoring(encoded_accuracy, name="valid_acc", lower_is_better=False)),
        ("restore_best", RestoreBestParams(monitor="valid_loss")),
        ("early_stopping", stopping),
        ("print_log", ProgressLog()),
    ]


class LRSchedule(Callback):
    """A learning-rate schedule over all the batches of one ``fit``, stepped after every batch.

    ``"onecycle"`` is torch's ``OneCycleLR`` (warm-up over the first 30% of the
    steps to ``net.lr``, then annealing to ``net.lr / 25 / 1e4``, with the
    momentum cycled inversely); ``"cosine"`` warms up linearly over the first
    5% of the steps, then follows torch's ``CosineAnnealingLR`` down to 0.
    Both end at a learning rate near 0, so the last epoch's parameters are
    settled even without a validation set to pick an epoch from. The number
    of steps is counted at the start of training from the training data and
    ``max_epochs``; each ``fit`` (or ``partial_fit``) call runs one schedule.

    Parameters
    ----------
    kind : {"onecycle", "cosine"}, default="onecycle"

    Attributes
    ----------
    warm_up_steps_ : int
        Steps (training batches) until the learning rate peaks.
    steps_done_ : int
        Training batches so far in this schedule.
    """

    def __init__(self, kind="onecycle"):
        self.kind = kind

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        dataset_train, _ = net.get_split_datasets(X, y)
        steps = max(1, len(net.get_iterator(dataset_train, training=True)) * net.max_epochs)
        optimizer = net.optimizer_
        if self.kind == "onecycle":
            self.scheduler_ = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=net.lr, total_steps=steps, pct_start=ONECYCLE_WARM_UP,
            )
            # OneCycleLR turns from climbing to annealing at step pct_start * steps - 1
            warm_up = max(0, math.ceil(ONECYCLE_WARM_UP * steps - 1))
        elif self.kind == "cosine":
            warm_up = max(1, int(COSINE_WARM_UP * steps))
            self.scheduler_ = torch.optim.lr_scheduler.SequentialLR(
                optimizer,
                [
                    torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / warm_up, total_iters=warm_up),
                    torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, steps - warm_up)),
                ],
                milestones=[warm_up],
            )
        else:
            raise ValueError(f"LRSchedule kind must be one of {LR_SCHEDULES}; got {self.kind!r}.")
        self.steps_left_ = steps
        self.warm_up_steps_ = warm_up
        self.steps_done_ = 0

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        self.steps_done_ += 1
        if self.steps_left_ > 1:  # OneCycleLR refuses a step past its end
            self.scheduler_.step()
            self.steps_left_ -= 1

    def in_warm_up(self):
        """Whether the learning rate has not yet reached its peak."""
        return self.steps_done_ < self.warm_up_steps_

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("scheduler_", None)  # holds the optimizer; only needed while training
        return state


class RestoreBestParams(Callback):
    """Keep the module parameters of the best epoch in memory; restore them at the end.

    After every epoch in which ``monitor`` reached a new best (skorch records
    this as ``<monitor>_best`` in the history), a CPU copy of
    ``net.module_.state_dict()`` is kept. When training ends (normally or by
    early stopping) the copy is loaded back and dropped. Nothing is written to
    disk, so parallel fits (``n_jobs > 1``) cannot overwrite each other's
    checkpoints, unlike skorch's file-based ``Checkpoint``.

    Parameters
    ----------
    monitor : str, default="valid_loss"
        History key to follow; ``<monitor>_best`` must be recorded (skorch's
        ``PassthroughScoring`` / ``EpochScoring`` do this).

    Attributes
    ----------
    best_epoch_ : int or None
        1-based epoch whose parameters were restored by the last training
        run; None when there was no validation data.
    """

    def __init__(self, monitor="valid_loss"):
        self.monitor = monitor

    def initialize(self):
        self.best_epoch_ = None
        self._best_state = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.best_epoch_ = None
        self._best_state = None

    def on_epoch_end(self, net, **kwargs):
        if net.history[-1].get(f"{self.monitor}_best", False):
            self._best_state = {
                name: tensor.detach().to("cpu", copy=True)
                for name, tensor in net.module_.state_dict().items()
            }
            self.best_epoch_ = net.history[-1, "epoch"]

    def on_train_end(self, net, **kwargs):
        if self._best_state is not None:
            net.module_.load_state_dict(self._best_state)
        self._best_state = None  # do not carry a second copy into pickles

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_best_state"] = None
        return state


class EarlyStoppingAfterWarmUp(EarlyStopping):
    """skorch's ``EarlyStopping``, except that epochs of a learning-rate warm-up do not count.

    While the learning rate climbs to its peak (the first 30% of the steps
    under ``lr_schedule="onecycle"``, 5% under ``"cosine"``; see
    :class:`LRSchedule`), the validation loss may well rise; an epoch that
    ends before the peak is therefore never counted against ``patience``,
    though a new best during it still sets the score to beat. Without an
    :class:`LRSchedule` among the net's callbacks every epoch counts. With
    ``verbose="auto"`` the stopping message is not printed.
    """

    def on_epoch_end(self, net, **kwargs):
        schedule = next((cb for _, cb in net.callbacks_ if isinstance(cb, LRSchedule)), None)
        if schedule is None or not schedule.in_warm_up():
            return super().on_epoch_end(net, **kwargs)
        # skorch's bookkeeping of a new best, without counting a miss
        current_score = net.history[-1, self.monitor]
        if self._is_score_improved(current_score):
            self.misses_ = 0
            self.dynamic_threshold_ = self._calc_new_threshold(current_score)
            self.best_epoch_ = net.history[-1, "epoch"]
            if self.load_best:
                self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())
        return None

    def _sink(self, text, verbose):
        if not _is_auto(verbose):
            super()._sink(text, verbose)


def progress_is_shown():
    """Whether ``verbose="auto"`` shows a progress bar in the calling context.

    Only in the main thread of the main process, outside a Dask worker: never
    in joblib's worker processes or threads (``cross_val_score`` or
    ``GridSearchCV`` with ``n_jobs``), in a ``multiprocessing`` child or in
    the tasks of a Dask worker.
    """
    return (
        threading.current_thread() is threading.main_thread()
        and multiprocessing.parent_process() is None
        and _current_dask_worker() is None
    )


class _EpochBar(tqdm):
    # no monitor thread: a bar over epochs has nothing for it to adjust
    monitor_interval = 0


class ProgressLog(PrintLog):
    """What ``verbose`` shows of each epoch.

    An int of 1 or more (or True): skorch's per-epoch table (this is skorch's
    ``PrintLog``). ``"auto"``: a tqdm progress bar over the epochs of each
    ``fit``/``partial_fit`` call, on stderr, with the last ``train_loss``,
    ``valid_loss`` and ``valid_acc`` after it, shown only where
    :func:`progress_is_shown`. 0 (or False): nothing.
    """

    def initialize(self):
        super().initialize()
        self._close()
        return self

    def on_train_begin(self, net, **kwargs):
        self._close()
        if _is_auto(net.verbose) and progress_is_shown():
            self.bar_ = _EpochBar(
                total=net.max_epochs, desc=type(net).__name__, unit="epoch", file=sys.stderr, leave=True,
            )

    def on_epoch_end(self, net, **kwargs):
        if not _is_auto(net.verbose):
            return super().on_epoch_end(net, **kwargs)
        bar = getattr(self, "bar_", None)
        if bar is not None:
            row = net.history[-1]
            bar.set_postfix(
                {key: f"{row[key]:.4g}" for key in ("train_loss", "valid_loss", "valid_acc") if key in row},
                refresh=False,
            )
            bar.update()
        return None

    def on_train_end(self, net, **kwargs):
        self._close()

    def _close(self):
        bar = getattr(self, "bar_", None)
        if bar is not None:
            bar.close()
        self.bar_ = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["bar_"] = None  # holds the stream it writes to; only needed while training
        return state


def _is_auto(verbose):
    return isinstance(verbose, str) and verbose == "auto"


def encoded_accuracy(net, X, y):
    """Accuracy of ``net`` on a skorch dataset whose targets are encoded 0..n-1.

    skorch's ``"accuracy"`` scorer compares ``net.predict`` with the dataset's
    targets; ``MelCNNClassifier.predict`` returns the original labels while
    the internal datasets hold encoded ones, so the validation accuracy is
    computed on the argmax of ``predict_proba`` instead. For the validation
    clips of a fit these are the probabilities ``predict_proba`` gives for
    those clips as arrays (windows averaged), taken from what
    ``validation_step`` computed.
    """
    y_pred = net.predict_proba(X).argmax(axis=1)
    return float(np.mean(np.asarray(y_pred) == np.asarray(y)))
