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

Plastic projections (:mod:`neurosim.plasticity`) become one Synapses object each (one
channel: the sign of their weights; ``w`` holds the magnitude), written in neurosim's order
and arithmetic (see :data:`RULES`): per-synapse traces and their time of last update ``tl``,
decayed explicitly at every event, ``K = K * exp(-gap / tau)`` with ``gap = t - tl``, every
rule parameter a per-synapse constant (Brian2's code optimisation reorders products with
scalar factors, as ``w * (1/w_max)`` for ``w / w_max``; among vectors it keeps the order
written, so the arithmetic is neurosim's operation for operation). neurosim keeps the traces
per neuron of the projection, which gives the same values (a neuron's synapses all see its
spikes at the same times) up to rounding: the trace is multiplied at other times.
The pathways run in the synapses slot after the static synapses (order -1) and the Poisson
drives (0), projection by projection in creation order (orders 1, 2, ...; Brian2's default
would run every pre pathway before every post pathway), in neurosim's order within a step:

* axonal split (Brian2's; triplet and Tsodyks-Markram too): ``pre`` (delay d: deliver the
  weight before the update, learn, count the spike in the traces), then ``post`` (delay 0:
  learn, count), so a pre and a post spike at the synapse in the same step pair at dt = 0;
* dendritic split (NEST's): neurosim updates the weight at the presynaptic spike and delivers
  the updated weight d later, which a Brian2 pathway cannot carry (it reads the weight at
  delivery). The synapse's whole timeline therefore runs d later: pre pathways with delay d,
  post pathways with delay 2 d, and the rule reads neurosim's time of the event,
  ``(t_in_timesteps - d) * dt``, bit for bit. NEST's order within a step: ``post``
  (facilitate), ``pre`` (depress, deliver the updated weight: it arrives at t_pre + d as in
  neurosim), then ``post_count`` and ``pre_count`` add the spikes to the traces, so a pre and
  a post spike meeting at the synapse do not pair. The weights lag d: after step n + d they
  are neurosim's after step n (``run_in_brian2(..., weights=True)`` runs d steps longer to
  read them and cuts the spikes at the duration).

Spike sources become SpikeGeneratorGroups, Poisson sources PoissonGroups and Poisson drives
(``net.poisson_input``) PoissonInputs (same statistics, not the same random numbers). Each
static projection becomes up to two Synapses objects, one per channel (w >= 0 excitatory,
w < 0 inhibitory), with the same delays. Units are converted here
and only here: neurosim's SI floats get Brian2's volt, second, siemens and farad.
"""

import math
import re
from dataclasses import dataclass

import numpy as np

from ..models.lif import refractory_steps

__all__ = ["KERNELS", "BrianKernel", "RULES", "PlasticExport", "to_brian2", "run_in_brian2",
           "brian2_equations"]


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


# ----------------------------------------------------------------- plastic projections


@dataclass(frozen=True)
class BrianRule:
    """How one plasticity rule (:mod:`neurosim.plasticity`) is written in Brian2.

    Attributes
    ----------
    state : tuple of str
        Its per-synapse state variables (dimensionless, 0 at first unless ``initial``).
    initial : dict
        State variable -> initial value, where not 0.
    params : callable
        (rule, weight unit name) -> [(Brian2 name, value, unit name)]: the rule's
        parameters, each a per-synapse constant (see the module docstring: the arithmetic
        stays neurosim's).
    decay : callable
        rule -> the code that decays the traces exactly over ``gap`` (the time since the
        synapse's last update), run at every event.
    pre, post : callable
        rule -> the learning code of a presynaptic / postsynaptic event, after the decay
        (post: None when the rule has no postsynaptic pathway).
    count_pre, count_post : callable
        rule -> the code that counts the spike in its traces (after the learning; with
        NEST's order, in a pathway of its own after every learning pathway of the step).
    value : str
        What a presynaptic event delivers (times the channel's sign and kernel scale).
    """
    state: tuple
    initial: dict
    params: object
    decay: object
    pre: object
    post: object
    count_pre: object
    count_post: object
    value: str


def _pair_params(rule, unit):
    return [("s_wmax", rule.w_max, unit), ("s_lam", rule.lam, "1"), ("s_alpha", rule.alpha, "1"),
            ("s_taup", rule.tau_plus, "second"), ("s_taun", rule.tau_minus, "second"),
            ("s_mup", rule.mu_plus, "1"), ("s_mun", rule.mu_minus, "1")]


def _pair_pre(rule):
    # neurosim: wn = m/w_max - alpha*lam*(m/w_max)**mu_minus*Km; m = wn*w_max if wn > 0 else 0
    return ("wn = w / s_wmax - s_alpha * s_lam * (w / s_wmax) ** s_mun * Kn\n"
            "w = clip(wn, 0, inf) * s_wmax\n")


def _pair_post(rule):
    # neurosim: wn = m/w_max + lam*(1 - m/w_max)**mu_plus*Kp; m = wn*w_max if wn < 1 else w_max
    return ("wn = w / s_wmax + s_lam * (1 - w / s_wmax) ** s_mup * Kp\n"
            "w = clip(wn, -inf, 1) * s_wmax\n")


def _count(trace):
    return lambda rule: (f"{trace} = 1\n" if rule.pairing == "nearest"
                         else f"{trace} = {trace} + 1\n")


def _triplet_params(rule, unit):
    return [("s_wmax", rule.w_max, unit), ("s_a2p", rule.a2_plus, unit),
            ("s_a3p", rule.a3_plus, unit), ("s_a2n", rule.a2_minus, unit),
            ("s_a3n", rule.a3_minus, unit), ("s_taup", rule.tau_plus, "second"),
            ("s_taun", rule.tau_minus, "second"), ("s_taux", rule.tau_x, "second"),
            ("s_tauy", rule.tau_y, "second")]


def _tm_params(rule, unit):
    return [("s_U", rule.U, "1"), ("s_taurec", rule.tau_rec, "second"),
            ("s_tauf", rule.tau_facil, "second")]


def _tm_pre(rule):
    # neurosim: u decays (tau_facil = 0: u = 0, so u + U (1 - u) = U exactly), x recovers,
    # u += U (1 - u), r = u x, x -= r, current += w r
    u = "u = u + s_U * (1 - u)\n" if rule.tau_facil > 0 else "u = s_U\n"
    return u + "r = u * x\nx = x - r\n"


def _decays(*pairs):
    """Exact decay of traces over ``gap``, as neurosim's ``K * exp(-gap / tau)``."""
    return "".join(f"{x} = {x} * exp(-gap / {tau})\n" for x, tau in pairs)


def _tm_decay(rule):
    # neurosim: u = u exp(-gap/tau_facil) (tau_facil = 0: set by _tm_pre);
    # x = 1 + (x - 1) exp(-gap/tau_rec)
    return ((_decays(("u", "s_tauf")) if rule.tau_facil > 0 else "")
            + "x = 1 + (x - 1) * exp(-gap / s_taurec)\n")


_NONE = lambda rule: None  # noqa: E731

#: Plasticity rule class name -> its Brian2 form.
RULES = {
    "STDP": BrianRule(
        state=("Kp", "Kn"), initial={}, params=_pair_params,
        decay=lambda rule: _decays(("Kp", "s_taup"), ("Kn", "s_taun")), pre=_pair_pre,
        post=_pair_post, count_pre=_count("Kp"), count_post=_count("Kn"), value="w"),
    "TripletSTDP": BrianRule(
        state=("r1", "r2", "o1", "o2"), initial={}, params=_triplet_params,
        decay=lambda rule: _decays(("r1", "s_taup"), ("r2", "s_taux"), ("o1", "s_taun"),
                                   ("o2", "s_tauy")),
        pre=lambda rule: "w = clip(w - o1 * (s_a2n + s_a3n * r2), 0 * s_wmax, s_wmax)\n",
        post=lambda rule: "w = clip(w + r1 * (s_a2p + s_a3p * o2), 0 * s_wmax, s_wmax)\n",
        count_pre=lambda rule: "r1 = r1 + 1\nr2 = r2 + 1\n",
        count_post=lambda rule: "o1 = o1 + 1\no2 = o2 + 1\n", value="w"),
    "TsodyksMarkram": BrianRule(
        state=("u", "x"), initial={"x": 1.0}, params=_tm_params, decay=_tm_decay,
        pre=_tm_pre, post=_NONE, count_pre=lambda rule: "", count_post=_NONE,
        value="w * r"),
}


@dataclass(frozen=True)
class PlasticExport:
    """A plastic projection in Brian2 (``to_brian2(..., weights=True)``).

    Attributes
    ----------
    synapses : brian2.Synapses
        Its synapses in neurosim's order (``proj.pre_index``, ``proj.post_index``); ``w`` is
        the weight magnitude.
    sign : float
        +1.0, or -1.0 for a projection into the inhibitory channel.
    lag : int
        Steps the Brian2 synapses run behind neurosim: the delay for the dendritic split,
        else 0. Their weights after step n + lag are neurosim's after step n.
    pathways : tuple of str
        Its pathways (attributes of ``synapses``) in the order they run within a step.
    """
    synapses: object
    sign: float
    lag: int
    pathways: tuple

    def weights(self):
        """The Synapses' weights now as neurosim's (signed float64, SI, synapse order)."""
        return self.sign * np.asarray(self.synapses.w_[:], dtype=np.float64)


def _initial_plastic_weights(net, proj):
    """The weights a plastic projection starts from (``net.reset()``'s), not the learned
    ones that ``proj.weight`` shows after a run."""
    plan = getattr(net, "_plan", None)
    init = getattr(plan, "plastic_init", None) if plan is not None else None
    if init is not None:
        s0 = proj._plastic_offset
        return np.array(init.w[s0:s0 + proj.n_synapses], dtype=np.float64)
    return np.array(proj._weights(), dtype=np.float64)


def _libm(b2):
    """Brian2 Functions ``ns_exp`` and ``ns_pow`` that evaluate the C library's exp and pow
    element by element (Python's math module, as Numba's compiled code does), where NumPy's
    vectorised exp and power differ from it in the last bit for about a quarter of the
    arguments."""
    def elementwise(f):
        def g(*args):
            arrs = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
            flat = [a.ravel() for a in arrs]
            out = np.fromiter((f(*v) for v in zip(*flat)), np.float64, arrs[0].size)
            return out.reshape(arrs[0].shape)
        return g
    return {"ns_exp": b2.Function(elementwise(math.exp), arg_units=[1], return_unit=1),
            "ns_pow": b2.Function(elementwise(math.pow), arg_units=[1, 1], return_unit=1)}


def _use_libm(code):
    """``exp(x)`` -> ``ns_exp(x)``, ``(a) ** b`` -> ``ns_pow(a, b)`` (the rules' forms)."""
    code = re.sub(r"\bexp\(", "ns_exp(", code)
    return re.sub(r"\(([^()]*)\) \*\* (\w+)", r"ns_pow(\1, \2)", code)


def _plastic_pathways(brule, rule, d, deliver):
    """[(pathway name, 'pre' or 'post', delay in steps, code)] of one plastic projection, in
    the order they run within a step (see the module docstring), and its lag (steps)."""
    dendritic = getattr(rule, "delay_split", "axonal") == "dendritic"
    lag = d if dendritic else 0
    if lag:       # the synapse's timeline runs d later; the rule reads neurosim's time
        head = f"tnow = (t_in_timesteps - {lag}) * dt\ngap = tnow - tl\ntl = tnow\n"
    else:
        head = "gap = t - tl\ntl = t\n"
    head += brule.decay(rule)
    pre, post = brule.pre(rule), brule.post(rule)
    if post is None:
        return [("pre", "pre", d, head + pre + brule.count_pre(rule) + deliver)], lag
    if not dendritic:         # Brian2's order: on_pre (deliver, learn, count), then on_post
        return [("pre", "pre", d, head + deliver + pre + brule.count_pre(rule)),
                ("post", "post", 0, head + post + brule.count_post(rule))], lag
    # NEST's order: the post spikes reaching the synapse now facilitate, the pre spikes
    # depress (and deliver the updated weight), then both are counted
    return [("post", "post", 2 * d, head + post), ("pre", "pre", d, head + pre + deliver),
            ("post_count", "post", 2 * d, brule.count_post(rule)),
            ("pre_count", "pre", d, brule.count_pre(rule))], lag


def _plastic_synapses(b2, net, proj, order, groups, dt, objs, libm=False):
    """One Brian2 Synapses object for a plastic projection; its pathways get the orders
    ``order``, ``order + 1``, ... Returns (PlasticExport, next free order)."""
    rule = proj.plasticity
    brule = RULES.get(type(rule).__name__)
    if brule is None:
        raise ValueError(f"projection {proj.name!r}: plasticity rule "
                         f"{type(rule).__name__} has no Brian2 export (known: "
                         f"{', '.join(RULES)})")
    post = proj.post.spec
    k, _, _ = _features(post)
    if k.targets[0] == "v" and post.convention != "brian2":
        raise ValueError(f"projection {proj.name!r}: plastic synapses into a delta population "
                         f"with convention={post.convention!r} have no Brian2 export")
    w = _initial_plastic_weights(net, proj)
    inh = bool(np.any(w < 0))
    sign = -1.0 if inh else 1.0
    ch = 1 if inh else 0
    coef = k.weight_scale[ch] * sign              # delivered: coef * magnitude
    value = brule.value if abs(coef) == 1.0 else f"({brule.value})"
    scale = "" if abs(coef) == 1.0 else f"{abs(coef)!r} * "
    deliver = f"{k.targets[ch]}_post {'+=' if coef > 0 else '-='} {scale}{value}\n"
    d = int(np.max(np.asarray(proj.delay_steps)))
    paths, lag = _plastic_pathways(brule, rule, d, deliver)
    namespace = None
    if libm:
        paths = [(name, side, delay, _use_libm(code)) for name, side, delay, code in paths]
        namespace = _libm(b2)
    params = brule.params(rule, k.unit)
    eqs = f"w : {k.unit}\ntl : second\n" + "".join(f"{x} : 1\n" for x in brule.state)
    eqs += "".join(f"{name} : {unit} (constant)\n" for name, _, unit in params)
    syn = b2.Synapses(
        groups[proj.pre], groups[proj.post], eqs,
        on_pre={name: code for name, side, _, code in paths if side == "pre"},
        on_post={name: code for name, side, _, code in paths if side == "post"} or None,
        delay={name: delay * dt * b2.second for name, _, delay, _ in paths},
        dt=dt * b2.second, namespace=namespace, name=f"ns_{len(objs)}")
    syn.connect(i=proj.pre_index.astype(int), j=proj.post_index.astype(int))
    syn.w = np.abs(w) * getattr(b2, k.unit)
    for name, value, unit in params:
        setattr(syn, name, value * (getattr(b2, unit) if unit != "1" else 1.0))
    for name, value in brule.initial.items():
        setattr(syn, name, value)
    for n, (name, _, _, _) in enumerate(paths):   # neurosim's order within the step
        getattr(syn, name).order = order + n
    objs.append(syn)
    return PlasticExport(syn, sign, lag, tuple(p[0] for p in paths)), order + len(paths)


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


def to_brian2(net, target="numpy", record=None, seed=None, weights=False, libm=False):
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
    weights : bool
        Also return the plastic projections (see Returns).
    libm : bool
        Plastic rules evaluate exp and ``**`` with the C library's functions element by
        element (as neurosim's compiled engine) instead of NumPy's vectorised ones, which
        differ in the last bit for about a quarter of the arguments: the learned weights are
        then neurosim's bit for bit (slower; target "numpy" only).

    Returns
    -------
    (brian2.Network, dict) or (brian2.Network, dict, dict)
        The network (with a SpikeMonitor per population) and a dict population name ->
        SpikeMonitor; with ``record``, also a dict population name -> (StateMonitor,
        {neurosim variable: Brian2 variable}); with ``weights``, last, a dict projection name
        -> :class:`PlasticExport` of every plastic projection (its Synapses, sign and lag).
    """
    from . import refuse_unexported_inputs
    refuse_unexported_inputs(net, "Brian2")
    b2 = _brian2()
    if libm and target != "numpy":
        raise ValueError(f"libm=True needs target='numpy' (got {target!r})")
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
    plastic, order = {}, 1            # after the static synapses (-1) and drives (0)
    for proj in net.projections:
        if proj.plasticity is not None and proj.crossbar is None:
            plastic[proj.name], order = _plastic_synapses(b2, net, proj, order, groups, dt,
                                                          objs, libm=libm)
        else:
            _synapses(b2, proj, groups, dt, objs)
    for drive in net.drives:
        _drive(b2, drive, groups, dt, objs)
    out = (b2.Network(*objs), monitors)
    if record_arg is not None:
        out += (states,)
    if weights:
        out += (plastic,)
    return out


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


def run_in_brian2(net, duration, target="numpy", record=None, seed=None, weights=False,
                  libm=False):
    """Run ``net``'s equivalent in Brian2 for ``duration`` (s) from its initial state.

    Returns dict population name -> (steps, indices) of the spikes, both int64, sorted by
    (step, index). ``record``, ``seed`` and ``libm``: see :func:`to_brian2`; with ``record``
    returns ``(spikes, traces)``, traces: population name -> {variable: float64 array (steps,
    neurons) in SI units}. With ``weights``, also (last) the final weights: projection name
    -> float64 array of every plastic projection, signed, in SI units and in neurosim's
    synapse order (``proj.weight`` after ``net.run(duration)``). A dendritic projection's
    Brian2 synapses lag d steps (module docstring): Brian2 runs d steps longer to read them,
    which changes nothing before the duration (spikes and traces are taken at the duration).
    """
    b2 = _brian2()
    bnet, mons, states, plastic = to_brian2(net, target=target, record=record or {},
                                            seed=seed, weights=True, libm=libm)
    n_steps = int(round(duration / net.dt))
    bnet.run(duration * b2.second)
    out = {}
    for name, m in mons.items():
        steps = np.round(np.asarray(m.t / b2.second) / net.dt).astype(np.int64)
        idx = np.asarray(m.i, dtype=np.int64)
        keep = steps < n_steps
        steps, idx = steps[keep], idx[keep]
        order = np.lexsort((idx, steps))
        out[name] = (steps[order], idx[order])
    traces = {}
    for name, (mon, names) in states.items():
        traces[name] = {var: np.asarray(getattr(mon, bvar + "_"), dtype=np.float64).T.copy()
                        for var, bvar in names.items()}
    final, done = {}, 0
    for name, pe in sorted(plastic.items(), key=lambda item: item[1].lag):
        if not weights:
            break
        if pe.lag > done:
            bnet.run((pe.lag - done) * net.dt * b2.second)
            done = pe.lag
        final[name] = pe.weights()
    final = {name: final[name] for name in plastic if name in final}     # creation order
    result = (out,) + ((traces,) if record is not None else ()) + \
        ((final,) if weights else ())
    return result[0] if len(result) == 1 else result
