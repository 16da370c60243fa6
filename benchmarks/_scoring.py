"""What the accuracy benchmark and the error-analysis report both compute.

Seeded subsets, scores, the running training accuracy the notebook prints, and
the sentence that says how a run was reduced from the full protocol.
"""

import numpy as np
from skorch.callbacks import Callback

from estimators.evaluation.metrics import scores  # noqa: F401  (the benchmarks' scores are the evaluation's)

FULL_EPOCHS = 10
"""CNN epochs of the full protocol (the reference notebook's)."""


def subsample(y, groups, max_per_group: int | None, seed: int) -> np.ndarray:
    """Indices keeping at most ``max_per_group`` clips of every group (seeded, sorted)."""
    index = np.arange(len(y))
    if not max_per_group:
        return index
    rng = np.random.default_rng(seed)
    keep = []
    for g in np.unique(groups):
        members = index[groups == g]
        keep.append(members if len(members) <= max_per_group else rng.choice(members, max_per_group, replace=False))
    return np.sort(np.concatenate(keep))

class RunningTrainAccuracy(Callback):
    """skorch callback recording ``train_acc``: the accuracy of the training batches as they were trained.

    The notebook's "train acc" is this running figure; skorch records only the loss.
    With mixup the targets are mixed one-hot rows: a prediction counts as right
    when it names the class with the largest weight.
    """

    def on_epoch_begin(self, net, **kwargs):
        self.correct_, self.seen_ = 0, 0

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if training and y_pred is not None:
            y = batch[1]
            if y.dim() == 2:  # mixup's soft targets
                y = y.argmax(1)
            self.correct_ += int((y_pred.argmax(1).cpu() == y.cpu()).sum())
            self.seen_ += len(y)

    def on_epoch_end(self, net, **kwargs):
        if self.seen_:
            net.history.record("train_acc", self.correct_ / self.seen_)


def history_rows(net) -> list:
    """The per-epoch figures of a skorch net's history, one dict per epoch."""
    keys = ("epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "dur")
    return [{k: row[k] for k in keys if k in row} for row in net.history]


def reduction_note(args, *, parts) -> str:
    """A sentence listing what was reduced from the full protocol, or saying nothing was."""
    notes = []
    if "grid_clips" in parts and args.max_clips_per_fold:
        notes.append(f"at most {args.max_clips_per_fold} clips per fold (seeded random subset) in the grid search")
    if "clips" in parts and args.max_clips_per_fold:
        notes.append(f"at most {args.max_clips_per_fold} clips per fold (seeded random subset) to train the CNNs")
    real_clips = getattr(args, "real_max_clips", None) or args.max_clips_per_fold
    if "real_clips" in parts and real_clips:
        notes.append(f"a seeded random subset of {real_clips} clips")
    if "epochs" in parts and args.epochs < FULL_EPOCHS:
        notes.append(f"{args.epochs} CNN epoch(s) instead of {FULL_EPOCHS}")
    if "cv_folds" in parts and args.cv_folds:
        notes.append(f"outer folds {','.join(map(str, args.cv_folds))} only (for the CNN)")
    if "grid" in parts:
        if args.grid == "small":
            notes.append("the small grid")
        if args.grid_folds:
            notes.append(f"the grid search sees folds {','.join(map(str, args.grid_folds))} only")
    if "real_epochs" in parts and args.epochs < FULL_EPOCHS:
        notes.append(f"{args.epochs} epoch(s) instead of {FULL_EPOCHS}")
    if not notes:
        return "Full protocol (nothing reduced)."
    return "**Reduced run**: " + "; ".join(notes) + "."
