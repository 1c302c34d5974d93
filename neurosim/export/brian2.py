"""Export a neurosim Network to Brian2 (the reference simulator for the float model).

Each LIF population becomes a NeuronGroup with method='exact' and the equations::

    dv/dt  = (ge + gi - (v - El) + Ib) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    Ib : volt

threshold ``v > Vt``, reset ``v = Vr`` (or ``v -= Vt - Vr``) and ``refractory=t_ref``. Spike
sources become SpikeGeneratorGroups, Poisson sources PoissonGroups (same statistics, not the
same random numbers). Each projection becomes up to two Synapses objects, one for w >= 0
(``ge += w``) and one for w < 0 (``gi += w``), with the same delays. Units are converted
here and only here: neurosim's SI floats get Brian2's volt and second.
"""

import numpy as np

__all__ = ["to_brian2", "run_in_brian2"]

_EQS = """
dv/dt  = (ge + gi - (v - El) + Ib) / taum : volt (unless refractory)
dge/dt = -ge / taue : volt
dgi/dt = -gi / taui : volt
Ib : volt
El : volt (constant)
Vt : volt (constant)
Vr : volt (constant)
taum : second (constant)
taue : second (constant)
taui : second (constant)
"""


def _equations(spec, name):
    """Brian2 equations of one LIF population.

    Brian2's exact solver generates ``.../0.0`` when a synaptic time constant equals tau_m
    (it divides by taue - taum), so that case is refused here; neurosim itself integrates it
    exactly (the t*exp(-t/tau) limit).
    """
    for label, tau in (("tau_exc", spec.tau_exc), ("tau_inh", spec.tau_inh)):
        if tau == spec.tau_m:
            raise ValueError(f"population {name!r}: {label} = tau_m = {tau:g} s cannot be "
                             f"exported to Brian2 (its method='exact' divides by "
                             f"{label} - tau_m); use a slightly different value")
    return _EQS


def _brian2():
    try:
        import brian2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("neurosim.export.brian2 needs Brian2: pip install 'neurosim[dev]' "
                          "or pip install brian2") from exc
    return brian2


def to_brian2(net, target="numpy"):
    """Build Brian2 objects equivalent to ``net``.

    Returns
    -------
    (brian2.Network, dict)
        The network (with a SpikeMonitor per population) and a dict population name ->
        SpikeMonitor.
    """
    b2 = _brian2()
    b2.prefs.codegen.target = target
    volt, second = b2.volt, b2.second
    groups, monitors = {}, {}
    objs = []
    for pop in net.populations:
        if pop.kind == "lif":
            s = pop.spec
            reset = "v = Vr" if s.reset == "value" else "v -= Vt - Vr"
            g = b2.NeuronGroup(pop.n, _equations(s, pop.name), threshold="v > Vt", reset=reset,
                               refractory=s.t_ref * second, method="exact",
                               dt=net.dt * second, name=f"ns_{len(objs)}")
            g.El = s.v_rest * volt
            g.Vt = s.v_th * volt
            g.Vr = s.v_reset * volt
            g.taum = s.tau_m * second
            g.taue = s.tau_exc * second
            g.taui = s.tau_inh * second
            g.v = s.v_init * volt
            g.Ib = s.bias * volt
        elif pop.kind == "spike_source":
            g = b2.SpikeGeneratorGroup(pop.n, pop.spec.indices, pop.spec.steps * net.dt * second,
                                       dt=net.dt * second, name=f"ns_{len(objs)}")
        else:
            g = b2.PoissonGroup(pop.n, rates=pop.spec.rate * b2.Hz, dt=net.dt * second,
                                name=f"ns_{len(objs)}")
        groups[pop] = g
        monitors[pop.name] = b2.SpikeMonitor(g)
        objs += [g, monitors[pop.name]]
    for proj in net.projections:
        w = proj._weights()
        d = np.broadcast_to(np.asarray(proj.delay_steps), w.shape)
        for sel, target in ((w >= 0, "ge"), (w < 0, "gi")):
            if not np.any(sel):
                continue
            syn = b2.Synapses(groups[proj.pre], groups[proj.post], "w : volt",
                              on_pre=f"{target}_post += w", dt=net.dt * second,
                              name=f"ns_{len(objs)}")
            syn.connect(i=proj.pre_index[sel].astype(int), j=proj.post_index[sel].astype(int))
            syn.w = w[sel] * volt
            syn.delay = d[sel] * net.dt * second
            objs.append(syn)
    return b2.Network(*objs), monitors


def run_in_brian2(net, duration, target="numpy"):
    """Run ``net``'s equivalent in Brian2 for ``duration`` (s) from its initial state.

    Returns dict population name -> (steps, indices) of the spikes, both int64, sorted by
    (step, index).
    """
    b2 = _brian2()
    bnet, mons = to_brian2(net, target=target)
    bnet.run(duration * b2.second)
    out = {}
    for name, m in mons.items():
        steps = np.round(np.asarray(m.t / b2.second) / net.dt).astype(np.int64)
        idx = np.asarray(m.i, dtype=np.int64)
        order = np.lexsort((idx, steps))
        out[name] = (steps[order], idx[order])
    return out
