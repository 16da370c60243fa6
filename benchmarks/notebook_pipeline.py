"""The reference notebook's on-the-fly pipeline, re-implemented as the baseline to compare with.

Every epoch it decodes each clip with soundfile, mixes it down, resamples it to
16 kHz with ``torchaudio.functional.resample``, pads or crops it to 4 s (a random crop
in training), computes the log-mel in ``Dataset.__getitem__`` and feeds a
``DataLoader(num_workers=0)``: what the notebook does, minus its row-index and
SpecAugment quirks. Its model is the notebook's ``SmallAudioCNN``, trained with AdamW
(lr 1e-3), batch 64, cross-entropy and best-validation-loss checkpointing.
"""

import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio
from torch import nn
from torch.utils.data import DataLoader, Dataset

TARGET_SR = 16000
CLIP_SAMPLES = 64000


class SmallAudioCNN(nn.Module):
    """The notebook's CNN: three conv blocks (16/32/64) and a linear head."""

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)),
        )
        self.fc = nn.Linear(64, n_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class OnTheFlyLogMel(Dataset):
    """Decode, resample and compute the log-mel of one clip per ``__getitem__``."""

    def __init__(self, paths, labels, *, train: bool, seed: int = 0):
        self.paths, self.labels, self.train = list(paths), list(labels), train
        self.mel = torchaudio.transforms.MelSpectrogram(sample_rate=TARGET_SR, n_mels=64)
        self.to_db = torchaudio.transforms.AmplitudeToDB()
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return len(self.paths)

    def _pad_or_crop(self, wave):
        n = wave.numel()
        if n < CLIP_SAMPLES:
            return torch.nn.functional.pad(wave, (0, CLIP_SAMPLES - n))
        if n > CLIP_SAMPLES:
            if self.train:
                start = int(torch.randint(0, n - CLIP_SAMPLES + 1, (1,), generator=self.generator))
            else:
                start = (n - CLIP_SAMPLES) // 2
            return wave[start : start + CLIP_SAMPLES]
        return wave

    def _waveform(self, idx):
        audio, sr = sf.read(self.paths[idx], dtype="float32", always_2d=True)
        wave = torch.from_numpy(audio).T.mean(dim=0)
        if sr != TARGET_SR:
            wave = torchaudio.functional.resample(wave, sr, TARGET_SR)
        return self._pad_or_crop(wave)

    def __getitem__(self, idx):
        logmel = self.to_db(self.mel(self._waveform(idx).unsqueeze(0)))  # (1, 64, 321)
        return logmel, self.labels[idx]


class OnTheFlyViews(OnTheFlyLogMel):
    """``OnTheFlyLogMel`` that alters each clip by one view drawn per item (the original or one of ``spec``).

    The views are made by the store's own ``featstore.augment.augment_waveform``
    (librosa's pitch shift and time stretch, gain, noise), after decoding and
    before the log-mel: what training on augmented copies costs without a store.
    """

    def __init__(self, paths, labels, spec, *, seed: int = 0):
        from featstore.augment import parse_spec

        super().__init__(paths, labels, train=True, seed=seed)
        self.views = parse_spec(spec)

    def __getitem__(self, idx):
        from featstore.augment import augment_waveform

        wave = self._waveform(idx)
        choice = int(torch.randint(0, len(self.views) + 1, (1,), generator=self.generator))
        if choice:  # 0 is the original clip
            wave = torch.from_numpy(augment_waveform(wave.numpy(), self.views[choice - 1], sample_rate=TARGET_SR))
        return self.to_db(self.mel(wave.unsqueeze(0))), self.labels[idx]


def audio_paths(metadata, root):
    """Audio file of every row of a store's metadata (``fold`` and ``slice_file_name``) under ``root``."""
    root = Path(root)
    return [str(root / "audio" / f"fold{fold}" / name)
            for fold, name in zip(metadata["fold"], metadata["slice_file_name"])]


def run_epoch(model, loader, loss_fn, optimizer=None):
    """One pass; trains when an optimizer is given. Returns loss, accuracy, seconds, seconds in the model."""
    model.train(optimizer is not None)
    total_loss, correct, n, model_seconds = 0.0, 0, 0, 0.0
    started = time.perf_counter()
    with torch.set_grad_enabled(optimizer is not None):
        for x, y in loader:
            t0 = time.perf_counter()
            logits = model(x)
            loss = loss_fn(logits, y)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            model_seconds += time.perf_counter() - t0
            total_loss += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            n += len(y)
    return total_loss / n, correct / n, time.perf_counter() - started, model_seconds


def fit_notebook(train, valid=None, *, epochs=10, batch_size=64, lr=1e-3, seed=0, n_classes=10, log=print):
    """Train the notebook's way; returns the model restored to its best validation loss and the history.

    ``train`` and ``valid`` are ``(paths, labels)``. With ``valid=None`` there is no
    validation pass and the model of the last epoch is returned.
    """
    torch.manual_seed(seed)
    model = SmallAudioCNN(n_classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    train_loader = DataLoader(OnTheFlyLogMel(*train, train=True, seed=seed), batch_size=batch_size, shuffle=True,
                              num_workers=0, generator=torch.Generator().manual_seed(seed))
    valid_loader = None
    if valid is not None:
        valid_loader = DataLoader(OnTheFlyLogMel(*valid, train=False), batch_size=batch_size, num_workers=0)
    best, best_state, history = np.inf, None, []
    for epoch in range(1, epochs + 1):
        tr = run_epoch(model, train_loader, loss_fn, optimizer)
        row = {"epoch": epoch, "train_loss": tr[0], "train_acc": tr[1], "epoch_seconds": tr[2], "model_seconds": tr[3]}
        if valid_loader is not None:
            va = run_epoch(model, valid_loader, loss_fn)
            row.update(valid_loss=va[0], valid_acc=va[1])
            if va[0] < best:
                best, best_state = va[0], {k: v.detach().clone() for k, v in model.state_dict().items()}
        history.append(row)
        log(f"notebook epoch {epoch}: train loss {tr[0]:.3f} acc {tr[1]:.3f}"
            + (f" | valid loss {row['valid_loss']:.3f} acc {row['valid_acc']:.3f}" if valid_loader is not None else ""))
    if best_state is not None:
        model.load_state_dict(best_state)
    return model, history


@torch.no_grad()
def predict_notebook(model, paths, labels, batch_size=64):
    model.eval()
    loader = DataLoader(OnTheFlyLogMel(paths, labels, train=False), batch_size=batch_size, num_workers=0)
    return np.concatenate([model(x).softmax(1).numpy() for x, _ in loader])


def recipe_epoch(paths, labels, *, seed=0, views=None, crop_frames=128, mixup_alpha=0.3, label_smoothing=0.1,
                 lr=3e-3, batch_size=64, n_classes=10):
    """One epoch of ``MelCNNClassifier()``'s recipe written as a PyTorch user would, on the notebook's dataset.

    Every clip is decoded and turned into a log-mel per item (``OnTheFlyLogMel``,
    or with an augment spec ``views``, ``OnTheFlyViews``);
    each batch is standardised, cut to a random ``crop_frames`` window per clip and
    mixed up, then trained on the default ``MelCNN`` with label smoothing, AdamW and
    a one-cycle schedule. Returns (seconds, seconds in forward/loss/backward/step).
    """
    from estimators import MelCNN

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = MelCNN(n_classes=n_classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    dataset = (OnTheFlyLogMel(paths, labels, train=True, seed=seed) if views is None
               else OnTheFlyViews(paths, labels, views, seed=seed))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0, generator=generator)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=len(loader))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    mix = torch.distributions.Beta(mixup_alpha, mixup_alpha)
    model.train()
    model_seconds, started = 0.0, time.perf_counter()
    for x, y in loader:
        x = (x - x.mean()) / x.std()
        starts = torch.randint(0, x.shape[-1] - crop_frames + 1, (len(x),), generator=generator)
        x = torch.stack([clip[..., s : s + crop_frames] for clip, s in zip(x, starts.tolist())])
        weight, order = float(mix.sample()), torch.randperm(len(x), generator=generator)
        targets = nn.functional.one_hot(torch.as_tensor(y), n_classes).float()
        x = weight * x + (1 - weight) * x[order]
        targets = weight * targets + (1 - weight) * targets[order]
        t0 = time.perf_counter()
        loss = loss_fn(model(x), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        model_seconds += time.perf_counter() - t0
    return time.perf_counter() - started, model_seconds
