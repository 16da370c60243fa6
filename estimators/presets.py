"""Named configurations of ``MelCNNClassifier``: the reference notebook's baseline."""

from .cnn import MelCNNClassifier

__all__ = ["NOTEBOOK_MODULE_PARAMS", "NOTEBOOK_PARAMS", "make_notebook_cnn"]

# The notebook's network as ``MelCNN`` arguments: three conv blocks (16/32/64),
# one conv each, global average pooling.
NOTEBOOK_MODULE_PARAMS = {"channels": (16, 32, 64), "convs_per_block": 1, "pooling": "mean", "dropout": 0.0}

# The reference notebook's CNN and training: three conv blocks (16/32/64) with
# global average pooling, whole 4 s clips, AdamW at a constant lr of 1e-3,
# batches of 64, 10 epochs, plain cross-entropy.
NOTEBOOK_PARAMS = {
    **{f"module__{name}": value for name, value in NOTEBOOK_MODULE_PARAMS.items()},
    "lr": 1e-3,
    "max_epochs": 10,
    "batch_size": 64,
    "crop_frames": None,
    "mixup_alpha": 0.0,
    "label_smoothing": 0.0,
    "lr_schedule": None,
}


def make_notebook_cnn(**params):
    """``MelCNNClassifier`` set up as the reference notebook's CNN: the baseline to compare with.

    ``make_notebook_cnn(validation_fold=9, random_state=0)`` is the notebook's
    "train on folds 1-8, keep the epoch with the lowest loss on fold 9".

    Parameters
    ----------
    **params
        Any ``MelCNNClassifier`` parameter; these override
        :data:`NOTEBOOK_PARAMS`.

    Returns
    -------
    MelCNNClassifier
        Unfitted; ``get_params()`` shows every setting.
    """
    return MelCNNClassifier(**{**NOTEBOOK_PARAMS, **params})
