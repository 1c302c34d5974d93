"""Leaky integrate-and-fire neurons: one spec, four synapse kernels, optional adaptation.

Equations (SI; currents are written in volts, i.e. multiplied by R_m, as in Brian2's CUBA
example and NEST's models once multiplied by tau_m/C_m)::

    tau_m dv/dt = v_rest - v + I_syn + I_bias - w          (frozen while refractory)
    tau_w dw/dt = -w                    (adaptation current, only when tau_w is given)
    tau_a da/dt = -a                    (threshold offset, only when tau_a is given)

spike when v > v_th + a (``convention="nest"``: v >= v_th + a, as NEST), then
v = v_reset (``reset="value"``) or v -= (v_th + a) - v_reset (``reset="subtract"``),
w += b_w, a += beta, and the neuron is refractory for t_ref. A synapse of weight w >= 0 feeds
the excitatory channel of its target, w < 0 the inhibitory one (NEST's sign convention).

Synapse kernels (``synapse=``), each channel with its own time constant tau_x:

``"exp"``       I_syn = I_exc + I_inh, tau_x dI_x/dt = -I_x; a spike adds w (V) to I_x.
``"alpha"``     tau_x dI_x/dt = -I_x + e z_x, tau_x dz_x/dt = -z_x; a spike adds w (V) to z_x,
                so that one spike's current is w (t/tau_x) exp(1 - t/tau_x), peaking at w at
                t = tau_x (NEST iaf_psc_alpha).
``"delta"``     a spike adds w (V) to v itself (NEST iaf_psc_delta, Brunel 2000).
``"cond_exp"``  c_m dv/dt = g_L (v_rest - v + I_bias - w) + g_exc (e_exc - v)
                + g_inh (e_inh - v), g_L = c_m / tau_m, tau_x dg_x/dt = -g_x; a spike adds |w|
                (S) to g_x (NEST iaf_cond_exp, PyNN IF_cond_exp, the COBA benchmark).

Integration. The current-based kernels and the adaptation are linear with constant
coefficients and are integrated exactly over one step (closed-form propagators, as Brian2's
method='exact'); the coefficients are written out below and checked in the tests against
the matrix exponential of the same system (the reference backend). ``cond_exp`` is not
linear (g v terms): it uses exponential Euler (Brian2's method='exponential_euler'): over a
step the conductances are frozen at their start-of-step values, v then relaxes exactly to
v_inf = (g_L (v_rest + I_bias - w) + g_exc e_exc + g_inh e_inh) / g_tot with time constant
c_m / g_tot, and the conductances decay exactly. Its local error is O(dt^2) per step (global
O(dt)) from freezing g while it decays: with dt = 0.1 ms and tau_exc = 5 ms, a relative change
of g of dt/tau = 2 % within the step.

Where Brian2 and NEST differ (``convention=``): ``"brian2"`` (default) follows Brian2:
a neuron that spiked at step s is free again at step s + R (R = t_ref/dt steps); a delta
input that arrives at step n is added to v in the synapses slot (after the threshold), so
it can make the neuron spike at step n+1 after propagating with v; it is lost if the neuron
is refractory at step n, the step of its spike included (Brian2 2.x makes every write to a
variable marked "(unless refractory)", on_pre included, conditional on not_refractory).
``"nest"`` follows NEST 3: the neuron is held for R steps after the step of its spike (free
at s + R + 1: NEST stamps a spike with the end of its step, so a spike at 3.0 ms with
t_ref = 2 ms holds v through 5.0 ms); a delta input arriving at step n is added to v after
the propagation of step n, before the threshold, and discarded while the neuron is
refractory (iaf_psc_delta's default); the threshold is v >= v_th. Currents and
conductances receive their inputs while refractory in both.

Every parameter may be one value or one value per neuron; a population whose values are all
equal keeps scalars (the engine's fast path for the plain exponential kernel).
"""

import math
from dataclasses import dataclass
import numpy as np

from ..engine.neurons import COEF

__all__ = ["LIFSpec", "SynapseKind", "SYNAPSES", "lif_propagator", "refractory_steps",
           "coefficients", "variables", "linear_matrix", "update_ops", "PER_NEURON",
           "STATE_VARIABLES"]

#: Variables a state monitor can record on a plain (exp) LIF population, and their units.
STATE_VARIABLES = {"v": "V", "I_exc": "V", "I_inh": "V"}

#: Parameters that may be given per neuron (array or distribution), with their units.
PER_NEURON = {"tau_m": "s", "tau_exc": "s", "tau_inh": "s", "v_rest": "V", "v_th": "V",
              "v_reset": "V", "t_ref": "s", "e_exc": "V", "e_inh": "V", "c_m": "F",
              "tau_w": "s", "b_w": "V", "tau_a": "s", "beta": "V"}


@dataclass(frozen=True, eq=False)
class LIFSpec:
    """A validated LIF population (see the module docstring for the equations).

    Parameters listed in :data:`PER_NEURON` are floats, or float64 arrays of ``n`` values
    when the neurons differ. ``tau_exc``/``tau_inh`` are None for ``synapse="delta"``,
    ``e_exc``/``e_inh``/``c_m`` None except for ``"cond_exp"``, ``tau_w`` None without an
    adaptation current and ``tau_a`` None without an adaptive threshold.
    """
    n: int
    tau_m: object
    tau_exc: object
    tau_inh: object
    v_rest: object
    v_th: object
    v_reset: object
    t_ref: object
    reset: str
    v_init: np.ndarray
    bias: np.ndarray
    synapse: str = "exp"
    e_exc: object = None
    e_inh: object = None
    c_m: object = None
    tau_w: object = None
    b_w: object = 0.0
    tau_a: object = None
    beta: object = 0.0
    convention: str = "brian2"

    @property
    def kind(self):
        """The synapse kernel's :class:`SynapseKind`."""
        return SYNAPSES[self.synapse]

    @property
    def heterogeneous(self):
        """Whether some parameter differs between neurons."""
        return any(isinstance(getattr(self, k), np.ndarray) for k in PER_NEURON)

    @property
    def fast(self):
        """Runs on the engine's fast path: exp kernel, one value per parameter, no
        adaptation, Brian2's convention."""
        return (self.synapse == "exp" and not self.heterogeneous and self.tau_w is None
                and self.tau_a is None and self.convention == "brian2")

    def values(self, name):
        """Parameter ``name`` as a float64 array of n values."""
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64),
                               (self.n,)).copy()


@dataclass(frozen=True)
class SynapseKind:
    """One synapse kernel of the LIF neuron, declared once.

    code : int
        The engine kernel (:mod:`neurosim.engine.neurons`) chosen at build time.
    weight_unit : str
        Unit of a synaptic weight ("V", or "S" for conductances).
    channels : tuple
        Names of the channel variables (recordable), or () when inputs act on v directly.
    aux_rows : int
        Extra state rows per neuron the kernel keeps (alpha: its two currents).
    ops : dict
        Arithmetic of one neuron update on a digital processor (mult, add, exp, div) and
        the state words it reads and writes back, for the energy estimate: the least a
        dedicated datapath needs (the exp kernel: v and one current decay, 2 mult + 2 add,
        2 words), not what the CPU kernel executes.
    loihi : bool
        Whether :func:`neurosim.loihi.quantize` can map it onto Loihi's LIF.
    """
    name: str
    code: int
    weight_unit: str
    channels: tuple
    aux_rows: int
    ops: dict
    loihi: bool
    description: str


#: Kernel codes (:mod:`neurosim.engine.neurons`); 0 is the fast path of plain exp.
SYNAPSES = {
    "exp": SynapseKind("exp", 1, "V", ("I_exc", "I_inh"), 0,
                       dict(mult=2, add=2, exp=0, div=0, words=2), True,
                       "exponential current (NEST iaf_psc_exp)"),
    "alpha": SynapseKind("alpha", 2, "V", ("I_exc", "I_inh"), 2,
                         dict(mult=4, add=3, exp=0, div=0, words=3), False,
                         "alpha current (NEST iaf_psc_alpha)"),
    "delta": SynapseKind("delta", 3, "V", (), 0,
                         dict(mult=1, add=2, exp=0, div=0, words=1), False,
                         "delta: a spike moves v (NEST iaf_psc_delta)"),
    "cond_exp": SynapseKind("cond_exp", 4, "S", ("g_exc", "g_inh"), 0,
                            dict(mult=6, add=5, exp=1, div=1, words=2), False,
                            "exponential conductance (NEST iaf_cond_exp)"),
}


def variables(spec):
    """Recordable variables of a population: name -> unit."""
    out = {"v": "V"}
    unit = "S" if spec.synapse == "cond_exp" else "V"
    out.update({c: unit for c in spec.kind.channels})
    if spec.tau_w is not None:
        out["w"] = "V"
    if spec.tau_a is not None:
        out["a"] = "V"
    return out


def update_ops(spec):
    """Arithmetic of one neuron update of the population (its kernel's, plus 2 mult, 2 add
    and a state word for an adaptation current, 1 mult, 1 add and a word for an adaptive
    threshold), for the energy estimate (see :class:`SynapseKind`)."""
    ops = dict(spec.kind.ops)
    for on, (mult, add) in ((spec.tau_w is not None, (2, 2)), (spec.tau_a is not None, (1, 1))):
        if on:
            ops.update(mult=ops["mult"] + mult, add=ops["add"] + add, words=ops["words"] + 1)
    return ops


def _current_gain(tau_s, tau_m, dt):
    """Weight of I(t) in v(t+dt) for the exact solution of the linear system.

    tau_s/(tau_s - tau_m) * (exp(-dt/tau_s) - exp(-dt/tau_m)), evaluated as Brian2 writes it;
    when the two time constants (nearly) coincide, the stable form
    exp(-dt/tau_m) * (dt/tau_m) * expm1(x)/x with x = dt (tau_s - tau_m) / (tau_m tau_s)
    (limit dt/tau_m * exp(-dt/tau_m)).
    """
    if abs(tau_s - tau_m) > 1e-6 * tau_m:
        return ((tau_s * math.exp(-dt / tau_s)) * (-math.exp(dt / tau_s) + math.exp(dt / tau_m))
                * math.exp(-dt / tau_m)) / ((0.0 - tau_m) + tau_s)
    x = dt * (tau_s - tau_m) / (tau_m * tau_s)
    ratio = math.expm1(x) / x if x != 0.0 else 1.0
    return math.exp(-dt / tau_m) * (dt / tau_m) * ratio


def _alpha_gain(tau_s, tau_m, dt):
    """Weight of z(t) in v(t+dt) for the alpha kernel (tau_s dI/dt = -I + e z,
    tau_s dz/dt = -z): (e/(tau_m tau_s)) exp(-dt/tau_m) dt^2 g(x), x = dt (1/tau_s - 1/tau_m),
    g(x) = (1 - exp(-x)(1 + x))/x^2, by its series where |x| is small (no cancellation)."""
    x = dt * (1.0 / tau_s - 1.0 / tau_m)
    if abs(x) < 1e-2:
        g = 0.5 - x / 3.0 + x * x / 8.0 - x ** 3 / 30.0 + x ** 4 / 144.0 - x ** 5 / 840.0
    else:
        g = (-math.expm1(-x) - x * math.exp(-x)) / (x * x)
    return math.e / (tau_m * tau_s) * math.exp(-dt / tau_m) * dt * dt * g


def lif_propagator(spec, dt):
    """Constants of the one-step exact update of a homogeneous exp population: dict with
    e_m, e_e, e_i, c_e, c_i."""
    return dict(
        e_m=math.exp(-dt / spec.tau_m),
        e_e=math.exp(-dt / spec.tau_exc),
        e_i=math.exp(-dt / spec.tau_inh),
        c_e=_current_gain(spec.tau_exc, spec.tau_m, dt),
        c_i=_current_gain(spec.tau_inh, spec.tau_m, dt),
    )


def refractory_steps(t_ref, dt):
    """Whole steps of refractoriness, as Brian2's ``timestep(t_ref, dt)``."""
    return int((t_ref + 1e-3 * dt) / dt)




def _per(fn, *arrays):
    """fn applied element by element with math (the same rounding as the scalar path)."""
    return np.array([fn(*xs) for xs in zip(*arrays)], dtype=np.float64)


def coefficients(spec, dt):
    """Coefficient table of a population: float64 array (len(COEF), m), m = 1 when every
    neuron has the same parameters, else n (one column per neuron).

    Linear kernels: v' = v_rest + b + e_m (v - v_rest - b) + c_x I_x + k_x z_x + c_w w,
    I_x' = e_x I_x + h_x z_x (alpha), z_x' = e_x z_x, w' = e_w w, a' = e_a a.
    ``cond_exp``: g_l = c_m/tau_m and inv_c = 1/c_m; k_x holds the reversal potentials.
    """
    m = spec.n if spec.heterogeneous else 1
    cols = {k: np.zeros(m) for k in COEF}

    def val(name):
        return np.broadcast_to(np.asarray(getattr(spec, name), np.float64), (m,))

    tm = val("tau_m")
    cols["e_m"] = _per(lambda t: math.exp(-dt / t), tm)
    cols["v_rest"], cols["v_th"], cols["v_reset"] = val("v_rest"), val("v_th"), val("v_reset")
    extra = 1 if spec.convention == "nest" else 0
    cols["ref"] = _per(lambda t: refractory_steps(t, dt) + extra, val("t_ref"))
    syn = spec.synapse
    if syn != "delta":
        for ch, name in (("e", "tau_exc"), ("i", "tau_inh")):
            ts = val(name)
            cols["e_" + ch] = _per(lambda t: math.exp(-dt / t), ts)
            if syn in ("exp", "alpha"):
                cols["c_" + ch] = _per(lambda s, t: _current_gain(s, t, dt), ts, tm)
            if syn == "alpha":
                cols["k_" + ch] = _per(lambda s, t: _alpha_gain(s, t, dt), ts, tm)
                cols["h_" + ch] = _per(lambda s: math.e * dt / s * math.exp(-dt / s), ts)
    if syn == "cond_exp":
        cols["k_e"], cols["k_i"] = val("e_exc"), val("e_inh")
        cols["g_l"] = val("c_m") / tm
        cols["inv_c"] = 1.0 / val("c_m")
    if spec.tau_w is not None:
        tw = val("tau_w")
        cols["e_w"] = _per(lambda t: math.exp(-dt / t), tw)
        cols["c_w"] = -_per(lambda s, t: _current_gain(s, t, dt), tw, tm)
        cols["b_w"] = val("b_w")
    if spec.tau_a is not None:
        cols["e_a"] = _per(lambda t: math.exp(-dt / t), val("tau_a"))
        cols["beta"] = val("beta")
    return np.stack([np.asarray(cols[k], np.float64) for k in COEF])


def linear_matrix(spec, i):
    """The linear system of neuron ``i`` of a current-based population, for the reference
    backend: (A, names) with d/dt x = A x for x = (v - v_rest - I_bias, I_exc, z_exc, I_inh,
    z_inh, w) (rows of absent parts are zero: exact either way)."""
    def at(name):
        val = getattr(spec, name)
        return float(val[i]) if isinstance(val, np.ndarray) else float(val)
    a = np.zeros((6, 6))
    tm = at("tau_m")
    a[0, 0] = -1.0 / tm
    if spec.synapse in ("exp", "alpha"):
        for c, name in ((1, "tau_exc"), (3, "tau_inh")):
            ts = at(name)
            a[0, c] = 1.0 / tm
            a[c, c] = -1.0 / ts
            if spec.synapse == "alpha":
                a[c, c + 1] = math.e / ts
                a[c + 1, c + 1] = -1.0 / ts
    if spec.tau_w is not None:
        a[0, 5] = -1.0 / tm
        a[5, 5] = -1.0 / at("tau_w")
    return a
