"""The training loss of class-weighted mixup: a weighted mean over the batch, as without mixup."""

import torch

__all__ = ["soft_target_weighted_mean"]


def soft_target_weighted_mean(mean_loss, targets, weight):
    """Rescale a class-weighted cross-entropy on class-probability targets to a weighted mean over the batch.

    For class-index targets, PyTorch's ``CrossEntropyLoss(weight=w)`` (with
    ``reduction="mean"``) is the weighted mean ``sum_i w[y_i] * loss_i / sum_i
    w[y_i]``. For class-probability targets ``t`` (mixup's blended one-hot
    targets) it sums the same class-weighted terms, ``sum_c w[c] * t[i, c] *
    (-log p[i, c])`` per clip, but divides by the batch size instead. This
    divides that sum by the weight of the targets, ``sum_i sum_c w[c] * t[i,
    c]``, instead: ``lam * w[y_i] + (1 - lam) * w[y_j]`` for a clip blended
    from classes ``y_i`` and ``y_j``, ``w[y_i]`` for a one-hot target, which
    then gives exactly the class-index loss (label smoothing included). The
    training and validation losses then share one scale.

    Parameters
    ----------
    mean_loss : torch.Tensor of shape ()
        The criterion's output on ``targets``: the weighted terms summed
        over the batch, divided by the batch size.
    targets : torch.Tensor of shape (batch, n_classes)
        The class-probability targets the criterion received, before any
        label smoothing.
    weight : torch.Tensor of shape (n_classes,)
        The criterion's class weights.

    Returns
    -------
    torch.Tensor of shape ()
    """
    targets = targets.to(device=weight.device, dtype=weight.dtype)
    return mean_loss * targets.shape[0] / (targets @ weight).sum()
