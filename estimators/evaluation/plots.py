"""The figures of an error analysis, as PNG files (matplotlib, from the optional ``[bench]`` extra).

matplotlib is imported when a figure is drawn, never at import time; where it
is missing, :func:`pyplot` raises :class:`MissingDependencyError` saying how to
install it. Every function writes one PNG and closes its figure.
"""

import warnings

import numpy as np

from .exceptions import MissingDependencyError

__all__ = ["plot_confused_pairs", "plot_confusion", "plot_fold_accuracy", "plot_learning_curves", "plot_logmels",
           "plot_per_class_f1", "pyplot", "save_figure"]


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend (only PNG files are written).

    Raises
    ------
    MissingDependencyError
        If matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError:
        raise MissingDependencyError(
            "the report's figures need matplotlib, which is not installed: "
            "pip install 'urbansound-featstore[bench]' (or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, *, dpi: int = 110):
    """Lay out, write and close a figure (one that cannot be laid out tightly is written as it is)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tight layout not applied", category=UserWarning)
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)


def plot_confusion(cm, class_names, title, path):
    """The confusion matrix with class names on both axes and the count in every cell.

    Parameters
    ----------
    cm : ndarray of int, shape (n_classes, n_classes)
        Rows true, columns predicted.
    class_names : sequence of str
    title : str
    path : str or Path
    """
    plt = pyplot()
    n = len(class_names)
    size = max(6.5, 0.45 * n + 3)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = cm.max() / 2 if cm.size else 0
    if n <= 30:  # the counts stay readable
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if cm[i, j] > threshold else "black")
    fig.colorbar(im, ax=ax)
    ax.set_title(title, fontsize=10)
    save_figure(fig, path)


def plot_confused_pairs(pairs, title, path):
    """Horizontal bars of the most-confused pairs (``[{true, pred, count}]``, largest first)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.35 * max(len(pairs), 1)))
    ax.barh([f"{p['true']} -> {p['pred']}" for p in pairs], [p["count"] for p in pairs])
    ax.invert_yaxis()
    ax.set_xlabel("clips")
    ax.set_title(title, fontsize=10)
    save_figure(fig, path)


def plot_per_class_f1(class_names, f1_by_model: dict, title, path):
    """A heat map of the per-class F1 of several models side by side (classes down, models across).

    Parameters
    ----------
    class_names : sequence of str
    f1_by_model : dict of str to sequence of float
        Each model's F1 per class, in ``class_names`` order.
    title : str
    path : str or Path
    """
    plt = pyplot()
    models = list(f1_by_model)
    data = np.array([f1_by_model[m] for m in models], dtype=float).T.reshape(len(class_names), len(models))
    fig, ax = plt.subplots(figsize=(max(5.5, 2.2 + 1.2 * len(models)), max(3.5, 2.0 + 0.35 * len(class_names))))
    im = ax.imshow(data, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xticks(range(len(models)), [_wrapped(m) for m in models], rotation=30, ha="right", fontsize=8)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            ax.text(j, i, f"{data[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if data[i, j] < 0.5 else "black")
    fig.colorbar(im, ax=ax, label="F1")
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


def _wrapped(name: str, width: int = 24) -> str:
    """A long model name (``pkg.module:factory@feature``) broken into lines at ``:`` and ``@``."""
    if len(name) <= width:
        return name
    return name.replace(":", ":\n").replace("@", "\n@")


def plot_fold_accuracy(folds, accuracy_by_model: dict, title, path):
    """Accuracy on each test fold, one line per model (a model without a fold's figure skips it).

    Parameters
    ----------
    folds : sequence
        The test folds, in order (ints or split names).
    accuracy_by_model : dict of str to dict
        ``{model: {fold: accuracy}}``.
    title : str
    path : str or Path
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(folds) + 3), 3.4))
    position = {fold: i for i, fold in enumerate(folds)}
    markers = "os^dvP*X"
    for k, (model, by_fold) in enumerate(accuracy_by_model.items()):
        points = [(position[f], by_fold[f]) for f in folds if f in by_fold]
        if points:
            ax.plot(*zip(*points), marker=markers[k % len(markers)], label=model)
    ax.set_xticks(range(len(folds)), [str(f) for f in folds])
    ax.set_xlabel("test fold")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    save_figure(fig, path)


def plot_learning_curves(history, title, path):
    """Loss and accuracy per epoch from skorch-style history rows (``train_loss``, ``valid_acc``, ...)."""
    plt = pyplot()
    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, metric, name in ((axes[0], "loss", "Loss"), (axes[1], "acc", "Accuracy")):
        for split in ("train", "valid"):
            values = [h.get(f"{split}_{metric}") for h in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, "o-", label="validation" if split == "valid" else "train")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylim(bottom=0)
        if metric == "acc":
            ax.set_ylim(0, 1)
        ax.legend()
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def plot_logmels(index, rows, logmels, title, path, ncols=3):
    """The log-mel images of some clips, titled with their :func:`~.metrics.audit_rows` row.

    ``logmels`` has shape ``(n_clips, n_mels, n_frames)``; ``index`` picks the
    clips and ``rows`` describes them, in the same order.
    """
    plt = pyplot()
    n = max(len(index), 1)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 4.6, nrows * 3.0), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i, row in zip(axes.flat, index, rows):
        ax.axis("on")
        ax.imshow(logmels[i], aspect="auto", origin="lower", cmap="magma")
        ax.set_title(f"{row['file']}\ntrue {row['true']} | pred {row['pred']} ({row['confidence']:.2f})", fontsize=8)
        ax.set_xlabel("frame")
        ax.set_ylabel("mel band")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=100)
