"""Leaky integrate-and-fire neuron with exponential synaptic currents (current-based).

Equations (SI; the synaptic "currents" are in volts, as in Brian2's CUBA example and
NEST's iaf_psc_exp once multiplied by R_m)::

    dv/dt     = (v_rest - v + I_exc + I_inh + I_bias) / tau_m      (frozen while refractory)
    dI_exc/dt = -I_exc / tau_exc
    dI_inh/dt = -I_inh / tau_inh

spike when v > v_th (strict), then v = v_reset (``reset="value"``) or v -= v_th - v_reset
(``reset="subtract"``), refractory for t_ref. A synapse of weight w >= 0 adds w to I_exc of
its target, w < 0 adds to I_inh (NEST's sign convention).
"""

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LIFSpec", "lif_propagator", "refractory_steps", "STATE_VARIABLES"]

#: Variables a state monitor can record on a LIF population, and their units.
STATE_VARIABLES = {"v": "V", "I_exc": "V", "I_inh": "V"}


@dataclass(frozen=True, eq=False)
class LIFSpec:
    """A validated LIF population.

    Attributes
    ----------
    n : int
        Number of neurons.
    tau_m : float
        Membrane time constant (s).
    tau_exc, tau_inh : float
        Synaptic current time constants (s).
    v_rest, v_th, v_reset : float
        Resting (leak reversal), threshold and reset potentials (V).
    t_ref : float
        Refractory period (s).
    reset : str
        ``"value"`` or ``"subtract"``.
    v_init : numpy.ndarray
        Initial membrane potential per neuron (V).
    bias : numpy.ndarray
        Constant input I_bias per neuron (V, added to v_rest in the steady state).
    """
    n: int
    tau_m: float
    tau_exc: float
    tau_inh: float
    v_rest: float
    v_th: float
    v_reset: float
    t_ref: float
    reset: str
    v_init: np.ndarray
    bias: np.ndarray


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


def lif_propagator(spec, dt):
    """Constants of the one-step exact update: dict with e_m, e_e, e_i, c_e, c_i."""
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
