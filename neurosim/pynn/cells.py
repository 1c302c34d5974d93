"""Standard cell types of neurosim.pynn and how each maps onto a neurosim population.

Native parameters are SI (s, V, F, S, A), under the names of :meth:`neurosim.Network.lif`
where one exists (``i_offset`` is kept in A: neurosim's ``bias`` is in volts, i_offset x R_m
with R_m = tau_m / cm per neuron, computed at the build). Spike sources keep PyNN's units.
"""

from pyNN.standardmodels import cells, build_translations

__all__ = ["IF_curr_exp", "IF_curr_alpha", "IF_curr_delta", "IF_cond_exp",
           "SpikeSourcePoisson", "SpikeSourceArray", "UNAVAILABLE"]

_LEAKY = (
    ("v_rest", "v_rest", 1e-3),
    ("v_reset", "v_reset", 1e-3),
    ("cm", "c_m", 1e-9),
    ("tau_m", "tau_m", 1e-3),
    ("tau_refrac", "t_ref", 1e-3),
    ("v_thresh", "v_th", 1e-3),
    ("i_offset", "i_offset", 1e-9),
)
_SYN = (
    ("tau_syn_E", "tau_exc", 1e-3),
    ("tau_syn_I", "tau_inh", 1e-3),
)
_REV = (
    ("e_rev_E", "e_exc", 1e-3),
    ("e_rev_I", "e_inh", 1e-3),
)


class _LIFMixin:
    """What the neurosim Population needs to know about a LIF cell type.

    ns_synapse : neurosim's synapse kernel; weight_scale : PyNN weight unit in SI (nA, uS
    or mV); current_based : weights are currents, converted to volts with R_m per target.
    ``state_units``: recordable/initialisable state variable -> (neurosim variable, kind),
    kind "V" (mV <-> V), "S" (uS <-> S) or "I" (nA <-> V through R_m).
    """
    ns_synapse = "exp"
    weight_scale = 1e-9
    current_based = True
    state_units = {"v": ("v", "V"), "isyn_exc": ("I_exc", "I"), "isyn_inh": ("I_inh", "I")}


class IF_curr_exp(_LIFMixin, cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = build_translations(*_LEAKY, *_SYN)


class IF_curr_alpha(_LIFMixin, cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__
    translations = build_translations(*_LEAKY, *_SYN)
    ns_synapse = "alpha"


class IF_curr_delta(_LIFMixin, cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    translations = build_translations(*_LEAKY)
    ns_synapse = "delta"
    weight_scale = 1e-3
    current_based = False
    state_units = {"v": ("v", "V")}


class IF_cond_exp(_LIFMixin, cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    translations = build_translations(*_LEAKY, *_SYN, *_REV)
    ns_synapse = "cond_exp"
    weight_scale = 1e-6
    current_based = False
    state_units = {"v": ("v", "V"), "gsyn_exc": ("g_exc", "S"), "gsyn_inh": ("g_inh", "S")}


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = build_translations(
        ("rate", "rate"),
        ("start", "start"),
        ("duration", "duration"),
    )
    state_units = {}


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = build_translations(
        ("spike_times", "spike_times"),
    )
    state_units = {}


_WHY = {
    "EIF_cond_alpha_isfa_ista": "neurosim has no exponential integrate-and-fire model, and its "
                                "adaptation is a plain current (not AdEx's subthreshold a)",
    "EIF_cond_exp_isfa_ista": "neurosim has no exponential integrate-and-fire model, and its "
                              "adaptation is a plain current (not AdEx's subthreshold a)",
    "IF_cond_exp_gsfa_grr": "neurosim's adaptation is a current, not the spike-frequency "
                            "adaptation and relative-refractory conductances of this model",
    "IF_cond_alpha": "neurosim's conductance synapses are exponential only (cond_exp)",
    "HH_cond_exp": "neurosim has no Hodgkin-Huxley channels",
    "Izhikevich": "neurosim has no quadratic (Izhikevich) neuron",
    "IF_facets_hardware1": "neurosim's conductance synapses are exponential only",
    "SpikeSourceGamma": "neurosim's spike sources are spike arrays and Poisson (Bernoulli) "
                        "trains",
    "SpikeSourcePoissonRefractory": "neurosim's Poisson sources have no dead time",
    "SpikeSourceInhGamma": "neurosim's spike sources are spike arrays and Poisson trains",
    "GIF_cond_exp": "neurosim has no generalized integrate-and-fire model",
    "AdExp": "neurosim has no exponential integrate-and-fire model",
}


def unavailable(name, base, why, hint=""):
    """A subclass of ``base`` whose construction raises NotImplementedError naming it."""
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f"{name} is not available in neurosim.pynn: {why}.{hint}")
    return type(name, (base,), {"__init__": __init__, "__doc__": f"Not available: {why}."})


UNAVAILABLE = {}
for _name in _WHY:
    _base = getattr(cells, _name, None)
    if _base is not None:
        UNAVAILABLE[_name] = unavailable(
            _name, _base, _WHY[_name], " Available cell types: IF_curr_exp, IF_curr_alpha, "
            "IF_curr_delta, IF_cond_exp, SpikeSourcePoisson, SpikeSourceArray.")
del _name, _base
