"""The torch device of a net: ``"auto"`` resolution, CPU fallback on load, and the mixin that owns both."""

import contextlib
import threading
import warnings

import torch
from skorch.exceptions import DeviceWarning

__all__ = ["AutoDeviceMixin", "resolve_device", "loadable_device", "device_is_available"]


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
        return _best_available_device()
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


def _best_available_device():
    """What ``"auto"`` means here: ``"cuda"``, else ``"mps"``, else ``"cpu"``."""
    if torch.cuda.is_available():
        return "cuda"
    if _mps_is_available():
        return "mps"
    return "cpu"


def _mps_is_available():
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


class _DeviceParameter:
    """The ``device`` attribute of an :class:`AutoDeviceMixin` net.

    A data descriptor, so it wins over the instance ``__dict__`` where the
    parameter itself is stored (and pickled from). It reads as the stored
    parameter, except in a thread that is inside :meth:`resolved_for` for that
    net, where it reads as the resolved device. Writes made inside that block
    (skorch's ``load_params`` assigns ``self.device``) stay inside it.
    """

    def __init__(self):
        self._local = threading.local()

    def _overrides(self):
        """``{id(net): device}`` for the blocks open in the calling thread."""
        if not hasattr(self._local, "overrides"):
            self._local.overrides = {}
        return self._local.overrides

    def __get__(self, net, owner=None):
        if net is None:
            return self
        overrides = self._overrides()
        if id(net) in overrides:
            return overrides[id(net)]
        try:
            return net.__dict__["device"]
        except KeyError:
            raise AttributeError(f"{type(net).__name__!r} object has no attribute 'device'") from None

    def __set__(self, net, value):
        overrides = self._overrides()
        if id(net) in overrides:
            overrides[id(net)] = value
        else:
            net.__dict__["device"] = value

    @contextlib.contextmanager
    def resolved_for(self, net, device):
        """In this thread, let ``net.device`` read as ``device`` for the block."""
        overrides = self._overrides()
        key = id(net)
        previous = overrides.get(key, _MISSING)
        overrides[key] = device
        try:
            yield
        finally:
            if previous is _MISSING:
                del overrides[key]
            else:
                overrides[key] = previous


class AutoDeviceMixin:
    """Lets a skorch net keep ``device="auto"`` as its parameter and run on ``device_``.

    ``initialize`` resolves ``device`` into ``device_`` (:func:`resolve_device`).
    skorch reads ``self.device`` wherever it moves tensors; inside the methods
    below, and only in the thread running them, ``device`` reads as
    ``device_``. Everywhere else (``get_params``, ``clone``, pickling, other
    threads) it is the parameter as set: the public attribute is never
    rewritten, so two threads predicting with one net cannot see each
    other's view. Put it before skorch's class in the bases.
    """

    device = _DeviceParameter()

    def _resolved_device(self):
        """Context in which, in this thread, ``self.device`` reads as ``device_``."""
        requested = self.__dict__.get("device")
        resolved = self.__dict__.get("device_", requested)
        if _same_device(requested, resolved):
            return contextlib.nullcontext()
        return AutoDeviceMixin.device.resolved_for(self, resolved)

    def initialize(self):
        """Resolve ``device`` into ``device_`` and initialise skorch's components."""
        self.device_ = resolve_device(self.device)
        with self._resolved_device():
            return super().initialize()

    def infer(self, x, **fit_params):
        """Forward one batch on ``device_``."""
        with self._resolved_device():
            return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Criterion on one batch, targets moved to ``device_``."""
        with self._resolved_device():
            return super().get_loss(y_pred, y_true, X=X, training=training)

    def set_params(self, **kwargs):
        """Set parameters; parts of a fitted net are re-initialised on ``device_``.

        A new ``device`` is stored as the parameter and used from the next ``fit``.
        """
        device = kwargs.pop("device", _MISSING)
        with self._resolved_device():
            super().set_params(**kwargs)
        if device is not _MISSING:
            super().set_params(device=device)
        return self

    def load_params(self, *args, **kwargs):
        """skorch's ``load_params``, mapping tensors to ``device_`` (or the CPU)."""
        if "device_" not in self.__dict__:
            requested = self.device
            self.device_ = resolve_device(requested) if _is_auto(requested) else loadable_device(requested)
        with self._resolved_device():
            return super().load_params(*args, **kwargs)

    def __setstate__(self, state):
        # skorch maps the saved tensors to state["device"]; hand it the device
        # they were trained on, or the CPU when that device is missing here
        # (a net fitted on cuda loads on a CPU-only machine). The parameter
        # keeps its value ("auto" stays "auto").
        requested = state.get("device")
        trained_on = state.get("device_", None if _is_auto(requested) else requested)
        target = loadable_device(trained_on)
        if (
            "device_" in state
            and trained_on is not None
            and target != str(torch.device(trained_on))
            and not _is_auto(requested)
        ):
            warnings.warn(
                f"{type(self).__name__} was fitted on {trained_on!r}, which is not "
                f"available here; it was loaded on {target!r}. Set device='auto' or "
                "'cpu' before fitting it again.",
                DeviceWarning,
                stacklevel=2,
            )
        super().__setstate__({**state, "device": target})
        self.__dict__["device"] = requested
        if "device_" in state:
            self.__dict__["device_"] = target


_MISSING = object()


def _is_auto(device):
    return isinstance(device, str) and device == "auto"


def _same_device(a, b):
    return a is b or (type(a) is type(b) and a == b)
