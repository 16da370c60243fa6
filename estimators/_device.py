"""Choosing the torch device: ``"auto"`` resolution and CPU fallback on load."""

import torch

__all__ = ["resolve_device", "loadable_device", "device_is_available"]


def resolve_device(device):
    """Turn a ``device`` parameter into a concrete device string.

    Parameters
    ----------
    device : {"auto"}, str, torch.device or None
        ``"auto"`` picks ``"cuda"`` if available, else ``"mps"`` if available,
        else ``"cpu"``. ``None`` means "do not move anything" (skorch's meaning)
        and is returned as is. Anything else must name a device that exists
        on this machine.

    Returns
    -------
    str or None
        E.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.

    Raises
    ------
    ValueError
        If ``device`` is not a valid device name, or names a device that is
        not available here.
    """
    if device is None:
        return None
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if _mps_is_available():
            return "mps"
        return "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'auto', 'cpu', "
            "'cuda', 'cuda:N' or 'mps'."
        ) from exc
    if not device_is_available(parsed):
        raise ValueError(
            f"device={device!r} was requested but is not available on this machine; "
            "use device='auto' to pick the best available device, or 'cpu'."
        )
    return str(parsed)


def device_is_available(device):
    """Whether tensors can be placed on ``device`` here (cpu, cuda[:N], mps)."""
    device = torch.device(device)
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return False
        return device.index is None or device.index < torch.cuda.device_count()
    if device.type == "mps":
        return _mps_is_available()
    # Other backends (xpu, ...): trust torch to complain when used.
    return True


def loadable_device(device):
    """Device to map saved tensors to: ``device`` if available here, else ``"cpu"``.

    Parameters
    ----------
    device : str, torch.device or None
        The device the tensors were on when saved (None counts as cpu).

    Returns
    -------
    str
    """
    if device is None:
        return "cpu"
    try:
        available = device_is_available(device)
    except (RuntimeError, TypeError, ValueError):
        available = False
    return str(torch.device(device)) if available else "cpu"


def _mps_is_available():
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
