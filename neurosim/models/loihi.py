"""Loihi fixed-point LIF neurons and synapses, as Lava's bit-accurate CPU models compute them.

Lava (lava-nc 0.10.0) ``PyLifModelBitAcc`` and ``PyDenseModelBitAcc`` /
``PyDelayDenseModelBitAcc`` (``Loihi2SimCfg(select_tag="fixed_pt")``). All integers;
``>>`` is an arithmetic shift. Per neuron, at step t with input ``a`` (int32 sum of every
incoming connection's message)::

    u = wrap32(decay(u, 4096 - (du + 1)) + wrap32(a << 6))      # note the +1 on du
    if u > 2**23: u -= 2**24  elif u <= -2**23: u += 2**24       # one 24-bit wrap
    v = clip(wrap32(decay(v, 4096 - dv) + u + bias), -(2**23 - 1), 2**23 - 1)
    spike = v > (vth << 6);  if spike: v = 0                   # u is not reset, no refractoriness

with ``decay(x, keep) = sign(x*keep) * (|x*keep| >> 12)`` (rounds toward zero) and
``bias = bias_mant << bias_exp`` (``>> -bias_exp`` when negative: rounds toward -inf).

Synapses: the weights are clipped to 8 bits and their low bits dropped once
(:func:`effective_weights`); every step each connection sums the weights of the
presynaptic neurons that spiked, per target and per delay d (0..63), shifts the *sum* by
``weight_exp`` (floor for negative exponents) and delivers it ``1 + d`` steps later.
"""

from dataclasses import dataclass

import numpy as np

__all__ = [
    "LoihiLIFSpec", "LoihiSynapseSpec", "effective_weights", "shift", "SIGN_MODES",
    "MAX_LOIHI_DELAY", "LOIHI_STATE_VARIABLES", "U_V_BITS",
]

#: Sign modes of Lava's ``SignMode`` (1, 2, 3), by name.
SIGN_MODES = {"excitatory": 2, "inhibitory": 3, "mixed": 1}
#: Longest synaptic delay of a Loihi connection (6 bits; DelayDense raises above it).
MAX_LOIHI_DELAY = 63
#: Variables a state monitor records on a loihi_lif population (integers).
LOIHI_STATE_VARIABLES = {"u": "", "v": ""}
#: Width of the u and v registers.
U_V_BITS = 24


@dataclass(frozen=True, eq=False)
class LoihiLIFSpec:
    """A validated fixed-point LIF population (Lava's LIF with integer parameters).

    Attributes
    ----------
    n : int
    du, dv : int
        Current and voltage decay, 0..4095 (per 4096 per step; the current keeps
        (4095 - du)/4096, the voltage (4096 - dv)/4096).
    vth : int
        Threshold mantissa, 0..131071; v spikes when v > vth * 64.
    bias_mant, bias_exp : numpy.ndarray
        int64 per neuron; bias = bias_mant * 2**bias_exp added to v every step.
    u_init, v_init : numpy.ndarray
        int64 initial state per neuron.
    """
    n: int
    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    u_init: np.ndarray
    v_init: np.ndarray

    def bias(self, bias_mant=None):
        """Per-neuron bias at v scale (int64), as Lava computes it every step."""
        mant = self.bias_mant if bias_mant is None else bias_mant
        return shift(mant, self.bias_exp)


@dataclass(frozen=True, eq=False)
class LoihiSynapseSpec:
    """Integer synapse parameters of a connection into a loihi_lif population.

    Attributes
    ----------
    weight_exp : int
        Exponent applied to each step's summed input (floor for negative values).
    num_weight_bits : int
        1..8 bits kept of each weight.
    sign_mode : str
        "excitatory", "inhibitory" or "mixed" (inferred as Lava does when not given).
    weight : numpy.ndarray
        int64 effective weight of each synapse (after clipping and truncation).
    """
    weight_exp: int
    num_weight_bits: int
    sign_mode: str
    weight: np.ndarray


def shift(x, e):
    """x * 2**e in int64; for e < 0 an arithmetic right shift (floor toward -inf)."""
    x = np.asarray(x, np.int64)
    e = np.asarray(e, np.int64)
    return np.where(e >= 0, x << np.maximum(e, 0), x >> np.maximum(-e, 0))


def infer_sign_mode(w):
    """Lava's inference: excitatory if min >= 0 (or empty), inhibitory if max <= 0, else mixed."""
    w = np.asarray(w)
    if w.size == 0 or w.min() >= 0:
        return "excitatory"
    return "inhibitory" if w.max() <= 0 else "mixed"


def effective_weights(w, num_weight_bits=8, sign_mode=None):
    """Integer weights as PyDenseModelBitAcc uses them: clipped to 8 bits, low bits dropped.

    In mixed mode one more low bit is dropped (with 8 bits, 3 -> 2 and -3 -> -4).
    """
    w = np.asarray(w, np.int64)
    mode = infer_sign_mode(w) if sign_mode is None else sign_mode
    drop = 8 - int(num_weight_bits) + (1 if mode == "mixed" else 0)
    if mode == "inhibitory":
        m = np.clip(-w, 0, 255)
        return -((m >> drop) << drop)
    w = np.clip(w, -256, 255) if mode == "mixed" else np.clip(w, 0, 255)
    return (w >> drop) << drop
