"""The log-mel CNN: the reference notebook's network and its wider or deeper variants, as one ``nn.Module``."""

from collections.abc import Sequence
from numbers import Integral

import torch
from torch import nn

__all__ = ["MelCNN"]


class MelCNN(nn.Module):
    """CNN for log-mel spectrograms; returns class logits.

    ``depth = len(channels)`` blocks of ``convs_per_block`` times ``3x3 conv ->
    BatchNorm -> ReLU``, a ``2x2`` max-pool after every block but the last,
    then a pooling over frequency and time and a linear head.

    The default is the reference notebook's network (three blocks of one
    convolution, 16, 32 and 64 channels) with mean+max pooling over time.
    Trained with ``MelCNNClassifier``'s recipe on two real UrbanSound8K
    folds over three seeds, it scores within a point of a VGG-style network
    (``channels=(16, 32, 64, 128), convs_per_block=2``, 60 epochs), inside
    the VGG's spread over seeds, at a seventh of its training time (see
    ``benchmarks/bench_recipe.py``): most of the recipe's gain comes from the
    training. ``MelCNN(pooling="mean")`` is exactly the notebook's network
    (global average pooling).

    Parameters
    ----------
    n_classes : int, default=10
        Number of outputs (logits). ``MelCNNClassifier`` sets it from the
        classes seen in ``fit``.
    channels : sequence of int, default=(16, 32, 64)
        Output channels of the blocks; its length is the depth. A ``2x2``
        max-pool follows every block except the last, so inputs must have at
        least ``2 ** (len(channels) - 1)`` mel bands and frames.
    convs_per_block : int, default=1
        Convolutions in each block (VGG-style stacks when 2).
    pooling : {"mean", "mean+max"}, default="mean+max"
        ``"mean"``: average over frequency and time. ``"mean+max"``: average
        over frequency, then the sum of the mean and the maximum over time,
        so that a short event in a long window still stands out.
    dropout : float, default=0.0
        Dropout probability applied to the pooled features before the head;
        0 disables it.
    channels_last : bool, default=True
        Keep weights and activations in ``torch.channels_last`` memory format.
        Same results up to float rounding; on CPUs it trains markedly faster
        (see ``benchmarks/bench_train.py``).

    Notes
    -----
    ``forward`` accepts ``(batch, n_mels, n_frames)`` or
    ``(batch, 1, n_mels, n_frames)`` float tensors and returns
    ``(batch, n_classes)`` logits. Because of the global pooling the number
    of mel bands and frames is not fixed by the module.
    """

    def __init__(
        self, n_classes=10, channels=(16, 32, 64), convs_per_block=1, pooling="mean+max",
        dropout=0.0, channels_last=True,
    ):
        super().__init__()
        channels = _check_channels(channels)
        if isinstance(n_classes, bool) or not isinstance(n_classes, Integral) or n_classes < 1:
            raise ValueError(f"n_classes must be a positive int; got {n_classes!r}.")
        if isinstance(convs_per_block, bool) or not isinstance(convs_per_block, Integral) or convs_per_block < 1:
            raise ValueError(f"convs_per_block must be a positive int; got {convs_per_block!r}.")
        if pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {_POOLINGS}; got {pooling!r}.")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {dropout!r}.")
        self.n_classes = int(n_classes)
        self.channels = channels
        self.convs_per_block = int(convs_per_block)
        self.pooling = pooling
        self.dropout_p = float(dropout)

        layers = []
        in_channels = 1
        for index, out_channels in enumerate(channels):
            for _ in range(self.convs_per_block):
                layers += [
                    nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
                    nn.BatchNorm2d(out_channels),
                    nn.ReLU(),
                ]
                in_channels = out_channels
            if index < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
        self.conv = nn.Sequential(*layers)
        self.dropout = nn.Dropout(self.dropout_p) if self.dropout_p > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, self.n_classes)
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.to(memory_format=torch.channels_last)

    @staticmethod
    def min_input_size(channels=(16, 32, 64)):
        """Smallest number of mel bands (and of frames) the network accepts.

        Parameters
        ----------
        channels : sequence of int, default=(16, 32, 64)
            The ``channels`` the module is (or will be) built with.

        Returns
        -------
        int
            ``2 ** (len(channels) - 1)``: each max-pool halves both axes.
        """
        return 2 ** (len(_check_channels(channels)) - 1)

    def forward(self, x):
        """Compute class logits.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_mels, n_frames) or (batch, 1, n_mels, n_frames)
            Log-mel spectrograms (normalised or not), floating point.

        Returns
        -------
        torch.Tensor of shape (batch, n_classes)
            Unnormalised class scores (logits).
        """
        if x.dim() == 3:
            x = x.unsqueeze(1)
        elif x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(
                "MelCNN expects input of shape (batch, n_mels, n_frames) or "
                f"(batch, 1, n_mels, n_frames); got {tuple(x.shape)}."
            )
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        maps = self.conv(x)  # (batch, channels, mels, frames)
        if self.pooling == "mean":
            features = maps.mean(dim=(2, 3))
        else:
            over_time = maps.mean(dim=2)
            features = over_time.mean(dim=2) + over_time.amax(dim=2)
        return self.fc(self.dropout(features))


_POOLINGS = ("mean", "mean+max")


def _check_channels(channels):
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence):
        raise ValueError(f"channels must be a sequence of positive ints; got {channels!r}.")
    channels = tuple(channels)
    if not channels or any(
        isinstance(c, bool) or not isinstance(c, Integral) or c < 1 for c in channels
    ):
        raise ValueError(
            f"channels must be a non-empty sequence of positive ints; got {channels!r}."
        )
    return tuple(int(c) for c in channels)
