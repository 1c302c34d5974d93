"""On-chip learning of crossbar synapses: pair-based STDP applied as device pulses.

With traces x_pre (per row) and x_post (per column) that decay as exp(-dt/tau_plus) and
exp(-dt/tau_minus) every step and grow by 1 at each spike of their neuron:

* a presynaptic spike of row i asks for dw_ij = -a_minus x_post[j] on every column j;
* a postsynaptic spike of column j asks for dw_ij = +a_plus x_pre[i] on every row i.

A requested dw is not added to the weight. It becomes a whole number of write pulses,
n = |dw| / dw_min rounded stochastically (dw_min = w_max / n_pulses of the direction: one
pulse of a linear device), and the pulses move the device along its own nonlinear,
asymmetric law (:func:`neurosim.engine.crossbar.pulse_update`, with cycle-to-cycle noise).
So the learned weights saturate and depression and potentiation differ as the device does.
Pulses go to the positive device of each differential pair (the data device of the offset
mapping); the negative device keeps its programmed value. Each pulse is counted with its
write energy V_w^2 G t_w.
"""

from dataclasses import dataclass

from ..validation import check_nonnegative, check_positive

__all__ = ["STDP"]


@dataclass(frozen=True)
class STDP:
    """Pair-based STDP (all-to-all traces) for ``Network.connect(..., plasticity=STDP(...))``.

    Parameters
    ----------
    a_plus, a_minus : float
        Potentiation and depression amplitude (V of weight per unit of trace), >= 0.
    tau_plus, tau_minus : float
        Trace time constants (s), > 0.
    """
    a_plus: float
    a_minus: float
    tau_plus: float = 20e-3
    tau_minus: float = 20e-3

    def __post_init__(self):
        object.__setattr__(self, "a_plus", check_nonnegative("a_plus", self.a_plus, "V"))
        object.__setattr__(self, "a_minus", check_nonnegative("a_minus", self.a_minus, "V"))
        object.__setattr__(self, "tau_plus", check_positive("tau_plus", self.tau_plus, "s"))
        object.__setattr__(self, "tau_minus", check_positive("tau_minus", self.tau_minus, "s"))
