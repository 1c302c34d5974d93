"""Export a neurosim Network to Brian2 (the reference simulator for the float models).

Each LIF population becomes one NeuronGroup; its equations are assembled from the entry of
its synapse kernel in :data:`KERNELS` (a registry: adding a kernel adds one entry), plus the
adaptation current and the adaptive threshold when the population has them. Every parameter
is a per-neuron Brian2 variable (``taum : second (constant)``, ...), so homogeneous and
heterogeneous populations share one set of equations (and Brian2 solves each set once per
process). The membrane equation, current-based kernels (``method='exact'``)::

    dv/dt    = (El - v + I_syn + Ib - w_ad) / taum : volt (unless refractory)
    exp:     I_syn = Ie + Ii,  dIe/dt = -Ie/taue            on_pre  Ie_post += w
    alpha:   I_syn = Ie + Ii,  dIe/dt = (ye - Ie)/taue,
                               dye/dt = -ye/taue            on_pre  ye_post += e*w
             (one spike's current w (t/tau) exp(1 - t/tau), peak w at t = tau)
    delta:   I_syn = 0                                      on_pre  v_post += w

and the conductance-based kernel (``method='exponential_euler'``, conductances in siemens)::

    cond_exp: dv/dt = (El - v + Ib - w_ad)/taum + (ge (Ee - v) + gi (Ei - v))/Cm
              dge/dt = -ge/taue (siemens)                   on_pre  ge_post += w, gi_post += -w

(the inhibitory channel, w < 0, of each kernel is the same with ``i``). With an adaptation
current ``dw_ad/dt = -w_ad/tauw`` and the reset adds ``w_ad += bw``; with an adaptive
threshold ``da/dt = -a/taua``, the threshold is ``v > Vt + a`` and the reset adds
``a += beta`` after moving v (``v = Vr``, or ``v -= Vt + a - Vr`` for reset="subtract").
``refractory='tref'`` (per neuron).

Delta inputs that arrive while the neuron is refractory (its spike step included) are lost
in both conventions: Brian2 makes every write to a variable marked ``(unless refractory)``
conditional on ``not_refractory``, on_pre included, as neurosim's Brian2 convention does.
convention="nest" populations are translated exactly: threshold ``v >= Vt + a``, refractory
one step longer (under NEST's convention a neuron that spiked at step s is free at s + R + 1,
in Brian2 with refractory R dt at s + R, so Brian2 gets (R + 1) dt), and for delta synapses
the pathway runs in the ``before_thresholds`` slot (the input is added after the
propagation, so it can make the neuron spike in the same step) with one step less delay (a
delay of 0 or 1 step both arrive in the next step).

Spike sources become SpikeGeneratorGroups, Poisson sources PoissonGroups and Poisson drives
(``net.poisson_input``) PoissonInputs (same statistics, not the same random numbers). Each
projection becomes up to two Synapses objects, one per channel (w >= 0 excitatory, w < 0
inhibitory), with the same delays. Units are converted here
and only here: neurosim's SI floats get Brian2's volt, second, siemens and farad.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..models.lif import refractory_steps

__all__ = ["KERNELS", "BrianKernel", "to_brian2", "run_in_brian2", "brian2_equations"]


@dataclass(frozen=True)
class BrianKernel:
    """How one synapse kernel of the LIF model is written in Brian2.

    Attributes
    ----------
    lines : str
        Equations of the kernel's own state variables (``{c}`` is ``e`` or ``i``).
    drive : str
        Synaptic term in the current-based membrane equation, or None for a kernel that
        writes its own membrane equation (``membrane``).
    membrane : str or None
        The membrane equation, when the kernel is not current-based.
    targets : (str, str)
        Variable that an excitatory / inhibitory spike adds to (``on_pre``: target += w).
    weight_scale : (float, float)
        Factor applied to the weight of an excitatory / inhibitory synapse.
    method : str
        Brian2's integration method.
    coupled : tuple of str
        Spec fields (time constants) whose equality with tau_m Brian2's exact solver cannot
        handle (it divides by their difference).
    params : tuple of (str, str, str)
        (spec field, Brian2 name, Brian2 unit name) of the kernel's parameters.
    record : dict
        neurosim variable -> Brian2 variable, for recording.
    unit : str
        Brian2 unit of the synaptic state (``volt`` or ``siemens``).
    """
    lines: str
    drive: str
    membrane: str
    targets: tuple
    weight_scale: tuple
    method: str
    coupled: tuple
    params: tuple
    record: dict
    unit: str = "volt"


_TAUS = (("tau_exc", "taue", "second"), ("tau_inh", "taui", "second"))

#: Synapse kernel (``pop.spec.synapse``) -> its Brian2 form.
KERNELS = {
    "exp": BrianKernel(
        lines="dI{c}/dt = -I{c} / tau{c} : volt\n", drive="Ie + Ii", membrane=None,
        targets=("Ie", "Ii"), weight_scale=(1.0, 1.0), method="exact",
        coupled=("tau_exc", "tau_inh"), params=_TAUS,
        record={"I_exc": "Ie", "I_inh": "Ii"}),
    "alpha": BrianKernel(
        lines="dI{c}/dt = (y{c} - I{c}) / tau{c} : volt\ndy{c}/dt = -y{c} / tau{c} : volt\n",
        drive="Ie + Ii", membrane=None, targets=("ye", "yi"),
        weight_scale=(math.e, math.e), method="exact", coupled=("tau_exc", "tau_inh"),
        params=_TAUS, record={"I_exc": "Ie", "I_inh": "Ii"}),
    "delta": BrianKernel(
        lines="", drive=None, membrane=None, targets=("v", "v"), weight_scale=(1.0, 1.0),
        method="exact", coupled=(), params=(), record={}),
    "cond_exp": BrianKernel(
        lines="dg{c}/dt = -g{c} / tau{c} : siemens\n", drive=None,
        membrane="dv/dt = (El - v + Ib{w}) / taum + (ge * (Ee - v) + gi * (Ei - v)) / Cm"
                 " : volt (unless refractory)\n",
        targets=("ge", "gi"), weight_scale=(1.0, -1.0), method="exponential_euler",
        coupled=(), params=_TAUS + (("e_exc", "Ee", "volt"), ("e_inh", "Ei", "volt"),
                                    ("c_m", "Cm", "farad")),
        record={"g_exc": "ge", "g_inh": "gi"}, unit="siemens"),
}

#: Parameters every LIF population has: (spec field, Brian2 name, unit).
_COMMON = (("tau_m", "taum", "second"), ("v_rest", "El", "volt"), ("v_th", "Vt", "volt"),
           ("v_reset", "Vr", "volt"))
_ADAPT = (("tau_w", "tauw", "second"), ("b_w", "bw", "volt"))
_THRESH = (("tau_a", "taua", "second"), ("beta", "beta", "volt"))

#: Where Brian2 and NEST differ (``pop.spec.convention``): the threshold's comparison,
#: extra refractory steps, and for delta synapses the pathway's slot and its delay shift
#: (steps).
CONVENTIONS = {
    "brian2": dict(compare=">", extra_ref=0, delta_when="synapses", delta_shift=0),
    "nest": dict(compare=">=", extra_ref=1, delta_when="before_thresholds", delta_shift=-1),
}


def _features(spec):
    """(kernel, adaptation current on, adaptive threshold on) of a LIF spec."""
    if spec.synapse not in KERNELS:
        raise ValueError(f"synapse kernel {spec.synapse!r} has no Brian2 export (known: "
                         f"{', '.join(KERNELS)})")
    return KERNELS[spec.synapse], spec.tau_w is not None, spec.tau_a is not None


def brian2_equations(spec):
    """The Brian2 equations (str) and method of one LIF population (see the module
    docstring); the same string for every population with the same kernel and features."""
    k, adapt, thresh = _features(spec)
    w = " - w_ad" if adapt else ""
    if k.membrane is not None:
        eqs = k.membrane.format(w=w)
    else:
        syn = f" + {k.drive}" if k.drive else ""
        eqs = f"dv/dt = (El - v{syn} + Ib{w}) / taum : volt (unless refractory)\n"
    eqs += "".join(k.lines.format(c=c) for c in "ei")
    if adapt:
        eqs += "dw_ad/dt = -w_ad / tauw : volt\n"
    if thresh:
        eqs += "da/dt = -a / taua : volt\n"
    eqs += "Ib : volt\ntref : second (constant)\n"
    for _, name, unit in _params(spec):
        eqs += f"{name} : {unit} (constant)\n"
    return eqs, k.method


def _params(spec):
    k, adapt, thresh = _features(spec)
    return _COMMON + k.params + (_ADAPT if adapt else ()) + (_THRESH if thresh else ())


def _values(spec, field):
    return np.broadcast_to(np.asarray(getattr(spec, field), dtype=np.float64),
                           (spec.n,)).copy()


def _check_exact(spec, name):
    """Brian2's exact solver generates ``.../0.0`` when a time constant coupled to v equals
    tau_m (it divides by their difference), so that case is refused here, neuron by neuron;
    neurosim itself integrates it exactly (the t*exp(-t/tau) limit)."""
    k, adapt, _ = _features(spec)
    coupled = k.coupled + (("tau_w",) if adapt else ())
    tau_m = _values(spec, "tau_m")
    for label in coupled:
        tau = _values(spec, label)
        same = np.flatnonzero(tau == tau_m)
        if same.size:
            i = int(same[0])
            where = f" (neuron {i})" if spec.n > 1 else ""
            raise ValueError(f"population {name!r}: {label} = tau_m = {tau[i]:g} s{where} "
                             f"cannot be exported to Brian2 (its method='exact' divides by "
                             f"{label} - tau_m); use a slightly different value")


def _lif_group(b2, pop, dt, name):
    spec = pop.spec
    _check_exact(spec, pop.name)
    conv = CONVENTIONS[spec.convention]
    eqs, method = brian2_equations(spec)
    k, adapt, thresh = _features(spec)
    a = " + a" if thresh else ""
    reset = "v = Vr" if spec.reset == "value" else f"v -= Vt{a} - Vr"
    if thresh:
        reset += "\na += beta"
    if adapt:
        reset += "\nw_ad += bw"
    g = b2.NeuronGroup(spec.n, eqs, threshold=f"v {conv['compare']} Vt{a}", reset=reset,
                       refractory="tref", method=method, dt=dt * b2.second, name=name)
    for field, bname, unit in _params(spec):
        setattr(g, bname, _values(spec, field) * getattr(b2, unit))
    steps = [refractory_steps(t, dt) + conv["extra_ref"] for t in _values(spec, "t_ref")]
    g.tref = np.array(steps, dtype=np.float64) * dt * b2.second
    g.v = _values(spec, "v_init") * b2.volt
    g.Ib = _values(spec, "bias") * b2.volt
    if pop._initial:                  # initial currents, conductances, w, a set by the user
        names = _recorded(pop, pop._initial)
        unit = lambda var: b2.siemens if var.startswith("g_") else b2.volt  # noqa: E731
        for var, values in pop._initial.items():
            setattr(g, names[var], values * unit(var))
    return g


def _source_group(b2, pop, dt, name):
    return b2.SpikeGeneratorGroup(pop.n, pop.spec.indices, pop.spec.steps * dt * b2.second,
                                  dt=dt * b2.second, name=name)


def _poisson_group(b2, pop, dt, name):
    return b2.PoissonGroup(pop.n, rates=pop.spec.rate * b2.Hz, dt=dt * b2.second, name=name)


#: Population kind -> builder of its Brian2 group.
GROUPS = {"lif": _lif_group, "spike_source": _source_group, "poisson": _poisson_group}


def _brian2():
    try:
        import brian2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("neurosim.export.brian2 needs Brian2: pip install 'neurosim[dev]' "
                          "or pip install brian2") from exc
    return brian2


def _synapses(b2, proj, groups, dt, objs):
    """Brian2 Synapses of one projection (one object per channel that has synapses)."""
    if proj.crossbar is not None:
        raise ValueError(f"projection {proj.name!r}: crossbar synapses have no Brian2 "
                         f"equivalent")
    post = proj.post.spec
    k, _, _ = _features(post)
    conv = CONVENTIONS[post.convention]
    delta = k.targets[0] == "v"
    w = proj._weights()
    d = np.broadcast_to(np.asarray(proj.delay_steps, dtype=np.int64), w.shape)
    if delta:
        d = np.maximum(d + conv["delta_shift"], 0)
    unit = getattr(b2, k.unit)
    for sel, target, scale in ((w >= 0, k.targets[0], k.weight_scale[0]),
                               (w < 0, k.targets[1], k.weight_scale[1])):
        if not np.any(sel):
            continue
        syn = b2.Synapses(groups[proj.pre], groups[proj.post], f"w : {k.unit}",
                          on_pre=f"{target}_post += w", dt=dt * b2.second,
                          name=f"ns_{len(objs)}")
        syn.connect(i=proj.pre_index[sel].astype(int), j=proj.post_index[sel].astype(int))
        syn.w = w[sel] * scale * unit
        syn.delay = d[sel] * dt * b2.second
        if delta:
            syn.pre.when = conv["delta_when"]
        objs.append(syn)


def _drive(b2, drive, groups, dt, objs):
    """A Poisson drive as a Brian2 PoissonInput: the same statistics, not the same random
    numbers. Brian2 draws Binomial(N, r dt / N) per step; N is chosen so that r dt / N is at
    most 1e-3 (the count is then Poisson(r dt) to that order). The drive's delay shifts a
    stationary Poisson train, so it is not reproduced (no input during the first delay in
    neurosim)."""
    rates = np.asarray(drive.rate, dtype=np.float64)
    if rates.size and np.any(rates != rates[0]):
        raise ValueError(f"drive {drive.name!r}: per-neuron rates have no Brian2 PoissonInput "
                         f"equivalent (its rate is one value)")
    rate = float(rates[0]) if rates.size else 0.0
    if rate == 0.0 or drive.weight == 0.0:
        return
    spec = drive.post.spec
    k, _, _ = _features(spec)
    conv = CONVENTIONS[spec.convention]
    ch = 0 if drive.weight >= 0 else 1
    unit = getattr(b2, k.unit)
    n_inputs = max(1, int(math.ceil(rate * dt * 1000)))
    delta = k.targets[ch] == "v"
    pin = b2.PoissonInput(groups[drive.post], k.targets[ch], n_inputs, rate / n_inputs * b2.Hz,
                          weight=drive.weight * k.weight_scale[ch] * unit,
                          when=conv["delta_when"] if delta else "synapses")
    objs.append(pin)


def to_brian2(net, target="numpy", record=None, seed=None):
    """Build Brian2 objects equivalent to ``net``.

    Parameters
    ----------
    net : neurosim.Network
    target : str
        Brian2's code generation target.
    record : dict, optional
        Population name -> neurosim variable names (``"v"``, ``"I_exc"``, ``"g_exc"``,
        ``"w"``, ``"a"``, ...) to record on every neuron with a Brian2 StateMonitor (sampled
        at the start of each step, as neurosim's state monitors).
    seed : int, optional
        Seed of Brian2's random numbers (Poisson sources and drives), ``brian2.seed``.

    Returns
    -------
    (brian2.Network, dict) or (brian2.Network, dict, dict)
        The network (with a SpikeMonitor per population) and a dict population name ->
        SpikeMonitor; with ``record``, also a dict population name -> (StateMonitor,
        {neurosim variable: Brian2 variable}).
    """
    b2 = _brian2()
    b2.prefs.codegen.target = target
    if seed is not None:
        b2.seed(seed)
    dt = net.dt
    groups, monitors, states = {}, {}, {}
    objs = []
    record_arg, record = record, dict(record or {})
    for pop in net.populations:
        if pop.kind not in GROUPS:
            raise ValueError(f"population {pop.name!r}: {pop.kind} populations have no Brian2 "
                             f"export (exported kinds: {', '.join(GROUPS)})")
        g = GROUPS[pop.kind](b2, pop, dt, f"ns_{len(objs)}")
        groups[pop] = g
        monitors[pop.name] = b2.SpikeMonitor(g)
        objs += [g, monitors[pop.name]]
        if pop.name in record:
            names = _recorded(pop, record.pop(pop.name))
            mon = b2.StateMonitor(g, sorted(set(names.values())), record=True,
                                  dt=dt * b2.second, when="start")
            states[pop.name] = (mon, names)
            objs.append(mon)
    if record:
        raise ValueError(f"record: no population named {sorted(record)[0]!r}")
    for proj in net.projections:
        _synapses(b2, proj, groups, dt, objs)
    for drive in net.drives:
        _drive(b2, drive, groups, dt, objs)
    if record_arg is None:
        return b2.Network(*objs), monitors
    return b2.Network(*objs), monitors, states


def _recorded(pop, variables):
    if pop.kind != "lif":
        raise ValueError(f"record: population {pop.name!r} ({pop.kind}) has no state")
    k, adapt, thresh = _features(pop.spec)
    known = {"v": "v", **k.record}
    if adapt:
        known["w"] = "w_ad"
    if thresh:
        known["a"] = "a"
    for var in variables:
        if var not in known:
            raise ValueError(f"record: {var!r} is not a variable of population {pop.name!r} "
                             f"(one of {', '.join(known)})")
    return {var: known[var] for var in variables}


def run_in_brian2(net, duration, target="numpy", record=None, seed=None):
    """Run ``net``'s equivalent in Brian2 for ``duration`` (s) from its initial state.

    Returns dict population name -> (steps, indices) of the spikes, both int64, sorted by
    (step, index). ``record`` and ``seed``: see :func:`to_brian2`; with ``record`` returns
    ``(spikes, traces)``, traces: population name -> {variable: float64 array (steps,
    neurons) in SI units}.
    """
    b2 = _brian2()
    bnet, mons, states = to_brian2(net, target=target, record=record or {}, seed=seed)
    bnet.run(duration * b2.second)
    out = {}
    for name, m in mons.items():
        steps = np.round(np.asarray(m.t / b2.second) / net.dt).astype(np.int64)
        idx = np.asarray(m.i, dtype=np.int64)
        order = np.lexsort((idx, steps))
        out[name] = (steps[order], idx[order])
    if record is None:
        return out
    traces = {}
    for name, (mon, names) in states.items():
        traces[name] = {var: np.asarray(getattr(mon, bvar + "_"), dtype=np.float64).T.copy()
                        for var, bvar in names.items()}
    return out, traces
