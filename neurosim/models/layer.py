"""Discrete-time layer models: the neurons of NIR graphs (and of the frameworks that train them).

Every model here is declared once: its fields (SI, with defaults), what it emits, its
per-step equations (below), its coefficients, its operation counts (energy) and its NIR node
type. :mod:`neurosim.engine.layer` runs them in Numba and :func:`reference_step` in NumPy
(the oracle the tests compare the engine with); :mod:`neurosim.nir` reads and writes them.

Per step, with ``I`` the sum of every input of the step (the node's constant ``bias``, the
inputs sent earlier with a delay, and the same-step inputs of earlier layers) and
``a_m = dt/tau_mem``, ``a_s = dt/tau_syn`` (Euler), ``e_m = exp(-a_m)``, ``e_s = exp(-a_s)``
(exact)::

    input     out = x[step]                                   (the values fed by the user)
    pass      out = I                                         (a linear node kept as a layer)
    threshold out = I > v_threshold
    I         v  += g I;  out = v                             (g = r per step, or r dt)
    IF        v  += g I;  z = v > v_threshold;  reset;  out = z
    LI        v  += a_m ((v_leak - v) + r I);  out = v        (Euler, as Norse and snnTorch)
    LIF       LI, then z = v > v_threshold, reset, out = z
    CubaLI    I_s += a_s (w_in I - I_s);  then LI with I_s in place of I   (current first)
    CubaLIF   CubaLI, then threshold and reset

``method="exact"``: the input is held over the step (zero-order hold) and the linear ODEs
are solved in closed form: ``v = v_inf + (v - v_inf) e_m`` with ``v_inf = v_leak + r I``;
LIF finds the crossing time inside the step, resets there and integrates the rest of the
step from v_reset (the NIR paper's exact reference; several crossings emit their count);
CubaLI/CubaLIF propagate the pair exactly and check the threshold at the step's end (a
two-exponential has no closed-form crossing time).

Resets: ``zero`` sets v = v_reset, ``subtract`` does v -= v_threshold - v_reset. Timing
``same`` resets in the spike's step (Norse; snnTorch's ``reset_delay=False``); ``next``
applies it in the following step's update, as snnTorch's default ``reset_delay=True``:
``zero`` then sets the new v to v_reset (that step's input to v is lost, the synaptic
current keeps it), ``subtract`` subtracts (v_threshold - v_reset) from the new v. The
threshold is strict (``v > v_threshold``) as in snnTorch's and Norse's Heaviside.
"""

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LayerModel", "MODELS", "model", "COEF", "coefficients", "reference_step",
           "RESETS", "TIMINGS"]

# model codes (the engine's switch) --------------------------------------------------------
INPUT, PASS, THRESH, INTEG, IF, LI, LIF, CUBALI, CUBALIF = range(9)
RESETS = {"zero": 0, "subtract": 1}
TIMINGS = {"same": 0, "next": 1}

# columns of the per-neuron coefficient table
A, S, G, W, L, TH, RS, C = range(8)
COEF = 8
#: crossings counted in one step of the exact LIF at most (a reset above threshold would
#: otherwise loop)
MAX_CROSSINGS = 1000


@dataclass(frozen=True)
class LayerModel:
    """One discrete-time model: its code, fields (name -> default, None = required),
    what it emits (``"spikes"``, ``"v"`` or ``"value"``) and its NIR node type."""
    name: str
    code: int
    fields: tuple            # ((name, default), ...)
    emits: str
    nir: str
    leaky: bool = False
    cuba: bool = False

    @property
    def spiking(self):
        return self.emits == "spikes"

    @property
    def stateful(self):
        return self.code not in (INPUT, PASS, THRESH)

    def ops(self):
        """Arithmetic per neuron update (energy counting, as models.lif.update_ops)."""
        if not self.stateful:
            return dict(mult=0, add=1 if self.code != INPUT else 0, exp=0, div=0, words=1)
        mult = 1 + (2 if self.leaky else 0) + (2 if self.cuba else 0)
        add = 1 + (2 if self.leaky else 0) + (2 if self.cuba else 0) + (1 if self.spiking else 0)
        return dict(mult=mult, add=add, exp=0, div=0, words=2 + (2 if self.cuba else 0))


_TH = (("v_threshold", None), ("v_reset", 0.0))
_LEAK = (("tau", None), ("r", 1.0), ("v_leak", 0.0))
_CUBA = (("tau_syn", None), ("tau_mem", None), ("r", 1.0), ("v_leak", 0.0), ("w_in", 1.0))
MODELS = {m.name: m for m in (
    LayerModel("input", INPUT, (), "value", "Input"),
    LayerModel("pass", PASS, (), "value", "Affine"),
    LayerModel("threshold", THRESH, (("v_threshold", None),), "spikes", "Threshold"),
    LayerModel("I", INTEG, (("r", 1.0),), "v", "I"),
    LayerModel("IF", IF, (("r", 1.0),) + _TH, "spikes", "IF"),
    LayerModel("LI", LI, _LEAK, "v", "LI", leaky=True),
    LayerModel("LIF", LIF, _LEAK + _TH, "spikes", "LIF", leaky=True),
    LayerModel("CubaLI", CUBALI, _CUBA, "v", "CubaLI", leaky=True, cuba=True),
    LayerModel("CubaLIF", CUBALIF, _CUBA + _TH, "spikes", "CubaLIF", leaky=True, cuba=True),
)}


def model(name):
    try:
        return MODELS[name]
    except KeyError:
        from ..validation import fail
        fail("model", "one of " + ", ".join(MODELS), name)


def _cross_gain(tau_s, tau_m, dt):
    """Weight of I_s(0) - I_inf in v(dt) for the exact pair (r = 1):
    tau_s/(tau_s - tau_m) (e^{-dt/tau_s} - e^{-dt/tau_m}), by its limit form when the two
    time constants (nearly) coincide."""
    if abs(tau_s - tau_m) > 1e-6 * tau_m:
        return tau_s / (tau_s - tau_m) * (math.exp(-dt / tau_s) - math.exp(-dt / tau_m))
    x = dt * (tau_s - tau_m) / (tau_m * tau_s)
    ratio = math.expm1(x) / x if x != 0.0 else 1.0
    return math.exp(-dt / tau_m) * (dt / tau_m) * ratio


def coefficients(m, p, dt, method, integrate, n):
    """The (n, COEF) coefficient table of a population of model ``m`` with per-neuron
    parameters ``p`` (dict of float64 arrays of length ``n``), for ``method`` ("euler" or
    "exact") and ``integrate`` ("step": I and IF add r I per step, or "seconds": r I dt)."""
    c = np.zeros((n, COEF))
    c[:, W] = 1.0
    if "v_threshold" in p:
        c[:, TH] = p["v_threshold"]
    if "v_reset" in p:
        c[:, RS] = p["v_reset"]
    if m.code in (INTEG, IF):
        c[:, G] = p["r"] * (dt if integrate == "seconds" else 1.0)
    if m.leaky:
        tau_m = p["tau_mem"] if m.cuba else p["tau"]
        c[:, G] = p["r"]
        c[:, L] = p["v_leak"]
        if method == "euler":
            c[:, A] = dt / tau_m
        else:
            c[:, A] = np.exp(-dt / tau_m)
            c[:, C] = dt / tau_m           # exact LIF: crossing times in units of the step
    if m.cuba:
        c[:, W] = p["w_in"]
        if method == "euler":
            c[:, S] = dt / p["tau_syn"]
        else:
            c[:, S] = np.exp(-dt / p["tau_syn"])
            c[:, C] = [_cross_gain(ts, tm, dt) for ts, tm in zip(p["tau_syn"], p["tau_mem"])]
    return c


# ------------------------------------------------------------------ NumPy reference
def _exact_lif(v, v_inf, c, zero):
    """Exact LIF over one step with resets at the crossing times (scalar loop: the
    reference's obviously-correct form). Returns (v, count)."""
    v_th, v_reset, a = c[TH], c[RS], c[C]
    rem, k = 1.0, 0
    while k < MAX_CROSSINGS:
        if v > v_th:                     # above threshold already (a reset above it)
            k += 1
            v = v_reset if zero else v - (v_th - v_reset)
            continue
        if v_inf <= v_th:
            break
        f = math.log((v - v_inf) / (v_th - v_inf)) / a
        if f > rem:
            break
        k += 1
        rem -= f
        v = v_reset                      # v(crossing) = v_th: both resets give v_reset
    return v_inf + (v - v_inf) * math.exp(-a * rem), k


def reference_step(m, c, state, I, method, reset, timing, spike_value):
    """One step of a population in NumPy: ``state`` (dict of arrays v, i_syn, z_prev) is
    updated in place; returns the emitted values (spikes times spike_value, or v)."""
    v, isyn, zp = state["v"], state["i_syn"], state["z_prev"]
    code = m.code
    if code == PASS:
        return I.copy()
    if code == THRESH:
        return (I > c[:, TH]) * spike_value
    zero = reset == "zero"
    if code in (INTEG, IF):
        v += c[:, G] * I
    elif method == "euler":
        drive = I
        if m.cuba:
            isyn += c[:, S] * (c[:, W] * I - isyn)
            drive = isyn
        v += c[:, A] * ((c[:, L] - v) + c[:, G] * drive)
    else:
        if m.cuba:
            i_inf = c[:, W] * I
            v_inf = c[:, L] + c[:, G] * i_inf
            v[:] = v_inf + (v - v_inf) * c[:, A] + c[:, G] * (isyn - i_inf) * c[:, C]
            isyn[:] = i_inf + (isyn - i_inf) * c[:, S]
        elif code == LIF:
            out = np.zeros(len(v))
            for i in range(len(v)):
                v[i], out[i] = _exact_lif(v[i], c[i, L] + c[i, G] * I[i], c[i], zero)
            return out * spike_value
        else:
            v_inf = c[:, L] + c[:, G] * I
            v[:] = v_inf + (v - v_inf) * c[:, A]
    if not m.spiking:
        return v.copy()
    if timing == "next":
        hit = zp != 0
        v[hit] = c[hit, RS] if zero else v[hit] - (c[hit, TH] - c[hit, RS])
    z = v > c[:, TH]
    if timing == "same":
        v[z] = c[z, RS] if zero else v[z] - (c[z, TH] - c[z, RS])
    zp[:] = z
    return z * spike_value
