"""neurosim as a PyNN (0.13) backend: ``import neurosim.pynn as sim`` runs PyNN scripts.

The module implements PyNN's API on top of PyNN's common code (``pyNN.common``,
``pyNN.standardmodels``, ``pyNN.recording``), as PyNN's own backends do, and builds one
:class:`neurosim.Network` at the first ``run`` (see :mod:`neurosim.pynn.simulator`).

Cell types: ``IF_curr_exp``, ``IF_curr_alpha``, ``IF_curr_delta`` (weights in mV),
``IF_cond_exp`` (weights in uS), ``SpikeSourceArray``, ``SpikeSourcePoisson`` (start,
duration). Synapse types: ``StaticSynapse``, ``TsodyksMarkramSynapse``, ``STDPMechanism``
with ``SpikePairRule`` and the additive, multiplicative, additive-potentiation /
multiplicative-depression and Gutig weight dependences (w_min = 0). Current sources:
``DCSource``, ``StepCurrentSource``, ``ACSource``, ``NoisyCurrentSource``. PyNN's
connectors (its own code; the connections arrive in bulk, with PyNN's random draws, see
:mod:`neurosim.pynn.connect`); Population, PopulationView, Assembly; recording of spikes, v
and (IF_cond_exp) gsyn_exc/gsyn_inh into Neo blocks.

Not provided, and why: the adaptive and non-linear PyNN cells (``EIF_cond_exp_isfa_ista``,
``EIF_cond_alpha_isfa_ista``, ``IF_cond_exp_gsfa_grr``, ``Izhikevich``, ``HH_cond_exp``)
need model equations neurosim does not have: it has no exponential (AdEx) or quadratic
spike-initiation term and no Hodgkin-Huxley channels, and its adaptation is a plain current
that decays (tau_w, b_w), not AdEx's subthreshold coupling a nor the conductance-based
spike-frequency adaptation and relative refractoriness of IF_cond_exp_gsfa_grr;
``IF_cond_alpha`` needs alpha conductances (neurosim's are exponential). Using one of them
raises ``NotImplementedError`` naming the cell; so do the stochastic synapse types, gap
junctions and other STDP rules.

Units and timing follow pyNN.brian2: parameters in mV, ms, nA, nF, uS (translated to SI
with PyNN's ``build_translations``); currents become neurosim volts per target,
I[V] = I[nA] x 1e-9 x tau_m/cm. Delays are rounded to the time step; the default delay is
min_delay, whose 'auto' is, as in pyNN.brian2, the shortest delay of the projections made
when it is first needed (one step if none). A SpikeSourceArray spike at t is emitted in the
step floor(t/dt + 1e-3) (Brian2's SpikeGeneratorGroup; several spikes of a neuron in one
step all count, as in NEST); the threshold is v > v_thresh and a neuron that spiked in step
s is free again in step s + round(tau_refrac/dt) (Brian2); a current source's value at a
step acts over that step; spikes are recorded at step*dt and v at every sampling point
from 0 to the current time inclusive. Random initial values are drawn once, on a copy of
their generator as pyNN.brian2 does, so a connector sharing the generator draws the same
connectivity. With these, deterministic networks of IF_curr_exp, IF_curr_alpha and
IF_curr_delta cells, with current sources, give pyNN.brian2's spike trains (v to ~1e-11
mV), and so does PyNN's Vogels-Abbott CUBA benchmark (4000 cells, 1 s: every spike).

Known differences from pyNN.brian2: its IF_curr_alpha decays the inhibitory current with
tau_syn_E (its equations use tau_syn_e for both channels), neurosim with tau_syn_I, so they
agree when the two are equal; Brian2 integrates IF_cond_exp with forward Euler (the
equations are not linear, so 'exact' does not apply), neurosim with exponential Euler
(closer to NEST's iaf_cond_exp), so IF_cond_exp spike times differ by a step or two; and
the plastic synapses follow NEST (neurosim.plasticity), while pyNN.brian2's STDP is always
additive and only axonal, and its Tsodyks-Markram update differs.

Beyond PyNN: ``setup(rng_seed=..., backend="numba"|"reference", threads=n)``.
"""

from pyNN import errors, random, space                          # noqa: F401
from pyNN.network import Network                                # noqa: F401
from pyNN.standardmodels import StandardCellType
from pyNN.random import NumpyRNG, GSLRNG, RandomDistribution    # noqa: F401
from pyNN.space import Space                                    # noqa: F401
from pyNN.connectors import *                                   # noqa: F401, F403
from pyNN.recording import *                                    # noqa: F401, F403

from .cells import (                                            # noqa: F401
    IF_curr_exp, IF_curr_alpha, IF_curr_delta, IF_cond_exp, SpikeSourcePoisson,
    SpikeSourceArray, UNAVAILABLE,
)
from .synapses import (                                         # noqa: F401
    StaticSynapse, TsodyksMarkramSynapse, STDPMechanism, AdditiveWeightDependence,
    MultiplicativeWeightDependence, AdditivePotentiationMultiplicativeDepression,
    GutigWeightDependence, SpikePairRule, UNAVAILABLE_SYNAPSES,
)
from .electrodes import DCSource, StepCurrentSource, ACSource, NoisyCurrentSource  # noqa: F401
from .populations import Population, PopulationView, Assembly   # noqa: F401
from .projections import Projection                             # noqa: F401
from .control import (                                          # noqa: F401
    setup, end, run, run_until, run_for, reset, initialize, get_current_time,
    get_time_step, get_min_delay, get_max_delay, num_processes, rank,
)
from .procedural_api import create, connect, record, record_v, record_gsyn, set  # noqa: F401

globals().update(UNAVAILABLE)
globals().update(UNAVAILABLE_SYNAPSES)


def list_standard_models():
    """The StandardCellType classes this backend runs."""
    return [obj.__name__ for obj in globals().values()
            if isinstance(obj, type) and issubclass(obj, StandardCellType)
            and obj is not StandardCellType and obj.__name__ not in UNAVAILABLE]


#: PyNN's API as every backend exports it (``from neurosim.pynn import *``)
__all__ = sorted(k for k, v in globals().items()
                 if not k.startswith("_") and k not in ("annotations",)
                 and getattr(v, "__module__", "").split(".")[0] in ("pyNN", "neurosim"))
