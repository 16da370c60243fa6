"""Where the randomness of a fit comes from: DataLoader workers, epochs and partial_fit calls each
draw their own stream from random_state, and the same random_state repeats a fit exactly.

Small synthetic arrays on the CPU.
"""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from estimators import MelCNNClassifier

N_FRAMES, WINDOW = 80, 32
TINY = dict(module__channels=(4, 8), batch_size=16, device="cpu", verbose=0, label_smoothing=0.0)


class RecordTrainingBatches(Callback):
    """The ``(X, y)`` of every training batch, as the net received them, per epoch."""

    def initialize(self):
        self.epochs_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epochs_.append([])

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            X, y = batch
            self.epochs_[-1].append((X.clone(), torch.as_tensor(y).clone()))


def identical_ramps(n_clips=64):
    """Clips that are all the same: every mel band of frame t is t.

    A training batch of them then depends only on what the collate drew (its
    windows and mixup), never on which clips it holds: two batches are equal
    exactly when the same draws were made.
    """
    ramp = np.broadcast_to(np.arange(N_FRAMES, dtype=np.float32), (n_clips, 8, N_FRAMES)).copy()
    return ramp, np.arange(n_clips) % 2


def _equal(a, b):
    return torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")  # 2 workers on one pinned core
def test_each_worker_and_each_epoch_draws_its_own_windows_and_mixup():
    X, y = identical_ramps()
    params = dict(
        **TINY, max_epochs=3, crop_frames=WINDOW, mixup_alpha=0.4, random_state=0, iterator_train__num_workers=2,
        iterator_train__shuffle=False,
    )
    first = MelCNNClassifier(**params, callbacks=[("batches", RecordTrainingBatches())]).fit(X, y)
    epochs = dict(first.callbacks_)["batches"].epochs_
    assert [len(batches) for batches in epochs] == [4, 4, 4]
    for batches in epochs:
        # batches 0 and 2 come from one worker, 1 and 3 from the other
        assert not _equal(batches[0], batches[1]) and not _equal(batches[2], batches[3])
    for later in epochs[1:]:
        assert not any(_equal(a, b) for a, b in zip(epochs[0], later))  # a new stream every epoch
    assert len({tuple(batch[1][:, 0].tolist()) for batches in epochs for batch in batches}) == 12  # 12 mixup draws

    second = MelCNNClassifier(**params, callbacks=[("batches", RecordTrainingBatches())]).fit(X, y)
    again = dict(second.callbacks_)["batches"].epochs_
    assert all(_equal(a, b) for batches, repeat in zip(epochs, again) for a, b in zip(batches, repeat))
    np.testing.assert_array_equal(second.predict_proba(X), first.predict_proba(X))


@pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")
def test_workers_draw_windows_inside_the_content():
    X, y = identical_ramps()
    X[:, :, 60:] = -100.0  # 60 frames of content, then padding
    clf = MelCNNClassifier(
        **TINY, max_epochs=2, crop_frames=WINDOW, mixup_alpha=0.0, normalize=None, random_state=1,
        iterator_train__num_workers=2, callbacks=[("batches", RecordTrainingBatches())],
    ).fit(X, y)
    starts = [
        int(window[0, 0]) for batches in dict(clf.callbacks_)["batches"].epochs_ for X_batch, _ in batches
        for window in X_batch
    ]
    assert min(starts) >= 0 and max(starts) <= 60 - WINDOW
    assert len(set(starts)) > 10  # spread over the positions, not one repeated draw


def test_partial_fit_continues_the_streams_instead_of_repeating_them():
    X, y = identical_ramps()

    class RecordGlobalState(Callback):
        """torch's global RNG state (dropout's) when each call starts training."""

        def initialize(self):
            self.states_ = []
            return self

        def on_train_begin(self, net, **kwargs):
            self.states_.append(torch.get_rng_state())

    recorder, batches = RecordGlobalState(), RecordTrainingBatches()
    clf = MelCNNClassifier(
        **TINY, max_epochs=1, crop_frames=WINDOW, mixup_alpha=0.4, module__dropout=0.5, random_state=0,
        callbacks=[("state", recorder), ("batches", batches)],
    )
    for _ in range(3):
        clf.partial_fit(X, y)
    states = dict(clf.callbacks_)["state"].states_
    assert len(states) == 3
    # the second and third calls do not reseed dropout's stream as the one before did
    assert not torch.equal(states[1], states[2]) and not torch.equal(states[0], states[1])
    calls = dict(clf.callbacks_)["batches"].epochs_
    assert len(calls) == 3
    for earlier, later in [(0, 1), (1, 2), (0, 2)]:
        assert not any(_equal(a, b) for a, b in zip(calls[earlier], calls[later]))
