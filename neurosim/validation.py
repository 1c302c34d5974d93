"""Validation at the boundary: one message format for every bad input.

Every check raises :class:`ParameterError` (a ``ValueError``) whose message names the
parameter, the allowed range and the value received, e.g.::

    tau_m must be > 0 s; got -0.02

Kernels never validate; public constructors and ``Network.build()`` call these helpers once.
"""

import contextlib
import contextvars
import difflib
import math
import numbers
import os
import sys
import warnings

import numpy as np

from .units import DIMENSION, SI_UNIT

__all__ = [
    "ParameterError",
    "InsufficientDiskError",
    "NetworkError",
    "InsufficientMemoryError",
    "check_positive",
    "check_nonnegative",
    "check_finite",
    "check_finite_array",
    "check_int",
    "check_choice",
    "check_less",
    "check_probability",
    "steps_on_grid",
    "per_neuron",
    "int_per_neuron",
    "UnitWarning",
    "warn_implausible",
    "abstract_units",
    "Sealed",
]


class ParameterError(ValueError):
    """A parameter outside its allowed range (message: name, allowed range, value)."""


class NetworkError(RuntimeError):
    """An operation that the network's current state does not allow."""


class InsufficientMemoryError(NetworkError, MemoryError):
    """A network (or a part of it) that would not fit in the memory available, refused
    before anything is allocated; the message holds the estimate and what is available."""


class InsufficientDiskError(NetworkError, OSError):
    """A recording streamed to disk that would not fit on its file system, refused before
    the run starts; the message holds the estimate and the free space."""


def _fmt(value):
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return np.array2string(value, separator=", ")
        return f"array of shape {value.shape}"
    return repr(value) if not isinstance(value, float) else f"{value:g}"


def fail(name, allowed, value, extra=""):
    """Raise the standard error: ``{name} must be {allowed}; got {value}``."""
    msg = f"{name} must be {allowed}; got {_fmt(value)}"
    if extra:
        msg += f" ({extra})"
    raise ParameterError(msg)


def check_dimension(name, value, unit):
    """A value written with a unit (a :class:`~neurosim.units.Quantity` from a network file)
    must have the parameter's dimension: ``weight = "1.62 mA"`` where volts are meant fails."""
    si = getattr(value, "si", None)
    if si is None or si == unit:
        return
    names = ", ".join(u for u, base in SI_UNIT.items() if base == unit and len(u) <= 4)
    allowed = DIMENSION.get(unit, unit) + (f" ({names})" if names else " (no unit)")
    fail(name, allowed, getattr(value, "text", value), DIMENSION.get(si, si))


def _as_float(name, value, unit):
    check_dimension(name, value, unit)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, f"a real number{' in ' + unit if unit else ''}", value)
    value = float(value)
    if not math.isfinite(value):
        fail(name, f"finite{' (' + unit + ')' if unit else ''}", value)
    return value


def check_finite(name, value, unit=""):
    """A finite real scalar, returned as float."""
    return _as_float(name, value, unit)


def check_positive(name, value, unit=""):
    """A finite scalar > 0."""
    value = _as_float(name, value, unit)
    if value <= 0:
        fail(name, f"> 0{' ' + unit if unit else ''}", value)
    return value


def check_nonnegative(name, value, unit=""):
    """A finite scalar >= 0."""
    value = _as_float(name, value, unit)
    if value < 0:
        fail(name, f">= 0{' ' + unit if unit else ''}", value)
    return value


def check_probability(name, value):
    """A finite scalar in [0, 1]."""
    value = _as_float(name, value, "")
    if not 0.0 <= value <= 1.0:
        fail(name, "in [0, 1]", value)
    return value


def check_less(name_lo, lo, name_hi, hi, unit=""):
    """Require lo < hi for two already-checked scalars."""
    if not lo < hi:
        fail(name_hi, f"> {name_lo} = {lo:g}{' ' + unit if unit else ''}", hi)


def check_int(name, value, lo=None, hi=None):
    """An integer in [lo, hi] (either bound may be None)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        fail(name, "an integer", value)
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"in [{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        fail(name, rng, value)
    return value


def check_choice(name, value, choices):
    """One of a fixed set of strings."""
    if value not in choices:
        fail(name, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def check_finite_array(name, value, shape=None, dtype=np.float64, unit=None):
    """A finite numeric array (NaN and inf rejected), optionally of a given shape (and, for
    values written with units, of the dimension of ``unit``)."""
    if unit is not None:
        check_dimension(name, value, unit)
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        fail(name, "a numeric array", type(value).__name__)
    if shape is not None and arr.shape != tuple(shape):
        fail(f"{name}.shape", f"{tuple(shape)}", arr.shape)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))
        fail(name, "finite everywhere", arr.ravel()[bad[0]],
             f"{bad.size} non-finite value(s), first at flat index {int(bad[0])}")
    return arr


def per_neuron(name, value, n, unit=""):
    """A scalar broadcast to ``n`` neurons or an array of length ``n``; finite."""
    arr = check_finite_array(name, value, unit=unit)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        fail(f"{name}.shape", f"() or ({n},) (one value per neuron)", arr.shape)
    return arr.astype(np.float64, copy=True)


def steps_on_grid(name, values, dt, unit="s"):
    """Convert times (>= 0) that must lie on the dt grid to integer steps.

    A value is on the grid when ``values/dt`` is within 1e-6 of an integer; the step is
    ``round(values/dt)`` as Brian2 does for delays and spike generator times.
    """
    arr = check_finite_array(name, values, unit=unit)
    if arr.size and arr.min() < 0:
        fail(name, f">= 0 {unit}", float(arr.min()))
    x = np.array(arr, dtype=np.float64)   # in place below: few temporaries per value
    x /= dt
    steps = np.round(x)
    np.subtract(x, steps, out=x)
    np.abs(x, out=x)
    off = x > 1e-6
    if np.any(off):
        first = float(arr.ravel()[np.flatnonzero(off.ravel())[0]])
        fail(name, f"a multiple of dt = {dt:g} {unit}", first,
             f"{int(off.sum())} value(s) off the time grid")
    del x, off
    return steps.astype(np.int64)


def int_per_neuron(name, value, n, lo, hi):
    """Integers in [lo, hi]: a scalar broadcast to ``n`` neurons or an array of length ``n``."""
    arr = check_finite_array(name, value)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    elif arr.shape != (n,):
        fail(f"{name}.shape", f"() or ({n},) (one value per neuron)", arr.shape)
    if arr.size and np.any(arr != np.round(arr)):
        fail(name, "integers", float(arr[arr != np.round(arr)][0]))
    if arr.size and (arr.min() < lo or arr.max() > hi):
        fail(name, f"integers in [{lo}, {hi}]", float(arr.min() if arr.min() < lo else arr.max()))
    return arr.astype(np.int64)


class UnitWarning(UserWarning):
    """A value far outside the physiological range in SI units: most likely a unit slip
    (``tau_m=20`` is 20 s, ``v_th=-50`` is -50 V)."""


#: Largest plausible magnitude of a neuron parameter in SI, by unit, and the unit a larger
#: value most likely meant: time constants and refractory periods above 10 s, potentials,
#: biases and weights above 1 V in magnitude.
PLAUSIBLE = {"s": (10.0, "ms"), "V": (1.0, "mV"), "F": (1e-6, "pF"), "S": (1e-3, "nS")}

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_stacklevel():
    """Stack level of the first frame outside neurosim (where the user's call is)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


_ABSTRACT = contextvars.ContextVar("neurosim_abstract_units", default=False)


@contextlib.contextmanager
def abstract_units():
    """Within this block, values are not checked against the physiological range: for
    models in normalised units (converted ANNs, whose thresholds are 1 and time constants
    huge to make integrate-and-fire neurons). ``warnings.filterwarnings("ignore",
    category=neurosim.UnitWarning)`` silences the check for a whole script."""
    token = _ABSTRACT.set(True)
    try:
        yield
    finally:
        _ABSTRACT.reset(token)


def warn_implausible(name, value, unit):
    """Warn (:class:`UnitWarning`, once per call) when ``value`` (SI, scalar or array) lies
    outside :data:`PLAUSIBLE` for its unit, naming the parameter and the likely unit
    (unless inside :func:`abstract_units`)."""
    if _ABSTRACT.get():
        return
    limit, hint = PLAUSIBLE[unit]
    arr = np.asarray(value, dtype=float).ravel()
    if not arr.size:
        return
    lo, hi = float(arr.min()), float(arr.max())     # no |arr| temporary
    v = hi if abs(hi) >= abs(lo) else lo
    if abs(v) > limit:
        warnings.warn(f"{name} = {v:g} {unit} is far outside the physiological range "
                      f"(|{name}| > {limit:g} {unit}); neurosim takes SI units: did you mean "
                      f"{v:g} {hint} ({name}={v:g}*{hint})?", UnitWarning,
                      stacklevel=_user_stacklevel())


class Sealed:
    """Public attributes fixed after construction.

    Once ``_seal()`` ran, assigning an unknown public name (``proj.weights = ...``) or one
    that is not settable (``net.dt = ...``, ``pop.n = ...``) raises ``AttributeError``
    naming what can be set; properties with a setter (``proj.weight``, ``pop.bias``) are
    the settable names. Names starting with ``_`` are the package's own.
    """

    def _seal(self):
        object.__setattr__(self, "_sealed", True)

    def __setattr__(self, name, value):
        if name.startswith("_") or not self.__dict__.get("_sealed", False):
            object.__setattr__(self, name, value)
            return
        attr = getattr(type(self), name, None)
        if isinstance(attr, property) and attr.fset is not None:
            object.__setattr__(self, name, value)
            return
        raise AttributeError(self._attribute_message(name, attr is not None
                                                     or name in self.__dict__))

    @classmethod
    def settable(cls):
        """Names that can be assigned after construction."""
        return sorted(n for n in dir(cls) if not n.startswith("_")
                      and isinstance(getattr(cls, n), property) and getattr(cls, n).fset)

    def _attribute_message(self, name, exists):
        cls = type(self).__name__
        ok = self.settable()
        can = ("settable: " + ", ".join(ok)) if ok else "it has no settable attributes"
        if exists:
            return f"{cls}.{name} cannot be set after creation ({can})"
        known = [n for n in list(self.__dict__) + dir(type(self)) if not n.startswith("_")]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{cls} has no attribute {name!r}{hint} ({can})"
