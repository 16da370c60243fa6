"""skorch callbacks and scorers used by ``MelCNNClassifier``."""

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, EpochScoring, EpochTimer, PassthroughScoring, PrintLog

__all__ = ["LRSchedule", "RestoreBestParams", "default_callbacks", "encoded_accuracy"]

LR_SCHEDULES = ("onecycle", "cosine")


def default_callbacks(early_stopping=None, lr_schedule=None):
    """``MelCNNClassifier``'s callbacks: skorch's defaults plus accuracy, best-epoch restore,
    early stopping and the learning-rate schedule.

    Parameters
    ----------
    early_stopping : int or None, default=None
        Patience in epochs on the validation loss; None adds no early stopping.
    lr_schedule : {"onecycle", "cosine"} or None, default=None
        See :class:`LRSchedule`; None keeps the learning rate constant.

    Returns
    -------
    list of (str, Callback or None)
    """
    stopping = None
    if early_stopping is not None:
        stopping = EarlyStopping(monitor="valid_loss", patience=early_stopping, load_best=False)
    return [
        ("lr_schedule", None if lr_schedule is None else LRSchedule(lr_schedule)),
        ("epoch_timer", EpochTimer()),
        ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ("valid_loss", PassthroughScoring(name="valid_loss")),
        ("valid_acc", EpochScoring(encoded_accuracy, name="valid_acc", lower_is_better=False)),
        ("restore_best", RestoreBestParams(monitor="valid_loss")),
        ("early_stopping", stopping),
        ("print_log", PrintLog()),
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
    """

    def __init__(self, kind="onecycle"):
        self.kind = kind

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        dataset_train, _ = net.get_split_datasets(X, y)
        steps = max(1, len(net.get_iterator(dataset_train, training=True)) * net.max_epochs)
        optimizer = net.optimizer_
        if self.kind == "onecycle":
            self.scheduler_ = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=net.lr, total_steps=steps)
        elif self.kind == "cosine":
            warm_up = max(1, int(0.05 * steps))
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

    def on_batch_end(self, net, training=False, **kwargs):
        if training and self.steps_left_ > 1:  # OneCycleLR refuses a step past its end
            self.scheduler_.step()
            self.steps_left_ -= 1

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


def encoded_accuracy(net, X, y):
    """Accuracy of ``net`` on a skorch dataset whose targets are encoded 0..n-1.

    skorch's ``"accuracy"`` scorer compares ``net.predict`` with the dataset's
    targets; ``MelCNNClassifier.predict`` returns the original labels while
    the internal datasets hold encoded ones, so the validation accuracy is
    computed on the argmax of ``predict_proba`` instead.
    """
    y_pred = net.predict_proba(X).argmax(axis=1)
    return float(np.mean(np.asarray(y_pred) == np.asarray(y)))
