"""Float LIF network -> Loihi fixed-point network (loihi_lif populations, integer synapses).

The core model with one synaptic time constant maps onto Lava's LIF step for step. Measure
v from v_reset (Loihi resets v to 0) and scale every population by its own factor S (u, v
in Loihi units = 64 * S * float volts); with c the weight of I in the exact v update::

    du  = round(4095 - 4096 exp(-dt/tau_syn))      (Lava keeps (4095 - du)/4096 of u)
    dv  = round(4096 (1 - exp(-dt/tau_m)))
    vth = round(S (v_th - v_reset))                 (chosen: S = vth / (v_th - v_reset))
    bias_mant * 2**bias_exp = round(64 S (1 - exp(-dt/tau_m)) (v_rest - v_reset + I_bias))
    W * 2**weight_exp = round(S c w)                (8-bit W, weight_exp per projection)

A float spike at step n through delay d changes v at step n+d+1; Loihi's connection adds one
step of latency, so Loihi delay = d (same arrival step). What Lava's LIF cannot express is an
error: refractoriness, two synaptic time constants, reset by subtraction, delays over 63 steps.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ..models.lif import PER_NEURON, lif_propagator, refractory_steps
from ..models.loihi import MAX_LOIHI_DELAY, LoihiLIFSpec, infer_sign_mode
from ..projections import _loihi_synapses
from ..validation import ParameterError, check_int, check_nonnegative

__all__ = ["quantize", "Quantized", "QuantizationReport"]

V_MAX = 2**23 - 1


@dataclass
class QuantizationReport:
    """What was rounded, by how much, and (optionally) how the spikes compare.

    ``populations``/``projections``: one dict per item; ``agreement``: one dict per
    population (spike counts, rate ratio, correlation of per-neuron counts, fraction of the
    float spikes matched by a fixed-point spike of the same neuron within one step).
    """
    populations: list = field(default_factory=list)
    projections: list = field(default_factory=list)
    agreement: list = field(default_factory=list)
    duration: float = 0.0

    def to_markdown(self):
        out = ["| population | S (1/V) | du | dv | vth | decay err u | decay err v | "
               "bias err |", "|---|---|---|---|---|---|---|---|"]
        for p in self.populations:
            out.append(f"| {p['name']} | {p['scale']:.4g} | {p['du']} | {p['dv']} | "
                       f"{p['vth']} | {p['decay_error_u']:.2e} | {p['decay_error_v']:.2e} | "
                       f"{p['bias_max_rel_error']:.2e} |")
        out += ["", "| projection | sign mode | weight_exp | weight rms err (of max) |",
                "|---|---|---|---|"]
        for p in self.projections:
            out.append(f"| {p['name']} | {p['sign_mode']} | {p['weight_exp']} | "
                       f"{p['weight_rms_error']:.2e} |")
        if self.agreement:
            out += ["", f"Spike agreement over {self.duration:g} s:", "",
                    "| population | float spikes | fixed spikes | rate ratio | count corr | "
                    "matched within 1 step |", "|---|---|---|---|---|---|"]
            for a in self.agreement:
                out.append(f"| {a['name']} | {a['float_spikes']} | {a['fixed_spikes']} | "
                           f"{a['rate_ratio']:.3f} | {a['count_correlation']:.3f} | "
                           f"{a['matched_fraction']:.3f} |")
        return "\n".join(out)

    def __str__(self):
        return self.to_markdown()


@dataclass
class Quantized:
    """Result of :func:`quantize`: the fixed-point network and the report."""
    net: object
    report: QuantizationReport


def _err(name, what):
    raise ParameterError(f"{name} cannot be expressed on Loihi: {what}")


def _pop_params(pop, dt, vth_target):
    s = pop.spec
    if not s.kind.loihi:
        _err(pop.name, f"synapse={s.synapse!r} ({s.kind.description}); Lava's LIF has "
             "exponential currents only")
    for key, what in (("tau_w", "an adaptation current"), ("tau_a", "an adaptive threshold")):
        if getattr(s, key) is not None:
            _err(pop.name, f"{what} ({key} = {getattr(s, key)}); Lava's LIF has none")
    if s.heterogeneous:
        het = [k for k in PER_NEURON if isinstance(getattr(s, k), np.ndarray)]
        _err(pop.name, "per-neuron " + ", ".join(het) + "; a Loihi compartment group "
             "shares its decays and threshold")
    if s.convention != "brian2":
        _err(pop.name, "convention='nest'; the Loihi mapping follows the Brian2 schedule")
    if s.tau_exc != s.tau_inh:
        _err(pop.name, f"two synaptic time constants (tau_exc = {s.tau_exc:g} s, tau_inh = "
             f"{s.tau_inh:g} s); Loihi's LIF has one current u")
    if refractory_steps(s.t_ref, dt) > 1:
        _err(pop.name, f"a refractory period (t_ref = {s.t_ref:g} s); Lava's fixed-point LIF "
             "has none (LIFRefractory exists only in floating point)")
    if s.reset != "value":
        _err(pop.name, "reset by subtraction; Lava's LIF resets v to 0")
    prop = lif_propagator(s, dt)
    e_m, e_s, c = prop["e_m"], prop["e_e"], prop["c_e"]
    du = int(np.clip(round(4095 - 4096 * e_s), 0, 4095))
    dv = int(np.clip(round(4096 * (1 - e_m)), 0, 4095))
    scale = vth_target / (s.v_th - s.v_reset)
    vth = int(np.clip(round(scale * (s.v_th - s.v_reset)), 0, 2**17 - 1))
    b = 64 * scale * (1 - e_m) * (s.v_rest - s.v_reset + s.bias)
    bias_exp = np.maximum(np.ceil(np.log2(np.maximum(np.abs(b), 1e-300) / 4095)), 0)
    bias_exp = bias_exp.astype(np.int64)
    if bias_exp.size and bias_exp.max() > 16:
        _err(pop.name, "a bias too large for bias_mant * 2**16; lower vth")
    mant = np.round(b / 2.0**bias_exp).astype(np.int64)
    v0 = np.clip(np.round(64 * scale * (s.v_init - s.v_reset)), -V_MAX, V_MAX).astype(np.int64)
    spec = LoihiLIFSpec(n=s.n, du=du, dv=dv, vth=vth, bias_mant=mant, bias_exp=bias_exp,
                        u_init=np.zeros(s.n, np.int64), v_init=v0)
    got = mant * 2.0**bias_exp
    report = dict(name=pop.name, scale=scale, du=du, dv=dv, vth=vth,
                  decay_error_u=abs((4095 - du) / 4096 - e_s),
                  decay_error_v=abs((4096 - dv) / 4096 - e_m),
                  bias_max_rel_error=float(np.max(np.abs(got - b)) / max(np.abs(b).max(), 1e-300))
                  if b.size and np.abs(b).max() > 0 else 0.0)
    return spec, scale, c, report


def _weights(x, mode):
    """Integer W and weight_exp with W * 2**e ~ x, |W| within Lava's 8 bits for ``mode``."""
    top = 254 if mode == "mixed" else 255
    m = float(np.abs(x).max()) if x.size else 0.0
    e = int(math.ceil(math.log2(m / top))) if m > 0 else 0
    if mode == "mixed":   # Lava drops the LSB in mixed mode: use even values only
        w = 2 * np.round(x / 2.0**(e + 1))
        w = np.clip(w, -256, 254)
    else:
        w = np.clip(np.round(x / 2.0**e), -255, 255)
    return w, e


def quantize(net, vth=2**14, duration=None):
    """Turn a float LIF network into a Loihi fixed-point network.

    Parameters
    ----------
    net : Network
        Float LIF populations with one synaptic time constant, no refractoriness, reset to a
        value; spike sources and Poisson sources are copied.
    vth : int
        Integer threshold mantissa every population gets (1..131071). v reaches 64 * vth at
        threshold, so the default 2**14 leaves 8x headroom below the 24-bit limit.
    duration : float, optional
        If given, both networks (fresh copies) are run for this long (s) and the spike
        agreement goes into the report.

    Returns
    -------
    Quantized
        ``.net`` (a new Network; populations keep their names) and ``.report``.
    """
    from ..network import Network
    vth = check_int("vth", vth, 1, 2**17 - 1)
    if duration is not None:
        duration = check_nonnegative("duration", duration, "s")
    if net.fixed_point:
        raise ParameterError("net must be a float network; got one with loihi_lif "
                             "populations (already fixed point)")
    for proj in net.projections:
        d = np.asarray(proj.delay_steps)
        if d.size and d.max() > MAX_LOIHI_DELAY:
            _err(proj.name, f"a delay of {int(d.max())} steps; Loihi's synaptic delays are "
                 f"0..{MAX_LOIHI_DELAY} steps")
    params = {p: _pop_params(p, net.dt, vth) for p in net.populations if p.kind == "lif"}
    report = QuantizationReport(populations=[r for *_, r in params.values()])
    new = Network(dt=net.dt, seed=net.seed, backend=net.backend)
    pops = {}
    for p in net.populations:
        if p.kind == "lif":
            spec = params[p][0]
            pops[p] = new.loihi_lif(spec.n, du=spec.du, dv=spec.dv, vth=spec.vth,
                                    bias_mant=spec.bias_mant, bias_exp=spec.bias_exp,
                                    v_init=spec.v_init, name=p.name)
        else:
            pops[p] = new._add(type(p)(new, p.spec, p.name))
    for proj in net.projections:
        _, scale, c, _ = params[proj.post]
        x = scale * c * proj._weights()
        mode = infer_sign_mode(proj._weights())
        w, e = _weights(x, mode)
        q = proj._clone(new, pops[proj.pre], pops[proj.post])
        q._set_weights(w)
        q._set_loihi(dict(weight_exp=e, num_weight_bits=8, sign_mode=mode))
        new.projections.append(q)
        ref = np.abs(x).max() if x.size else 1.0
        report.projections.append(dict(
            name=proj.name, sign_mode=mode, weight_exp=e,
            weight_rms_error=float(np.sqrt(np.mean((q.loihi.weight * 2.0**e - x)**2)) / ref)
            if x.size and ref > 0 else 0.0))
    if duration is not None:
        report.duration = duration
        report.agreement = spike_agreement(net, new, duration)
    return Quantized(net=new, report=report)


def spike_agreement(float_net, fixed_net, duration):
    """Run fresh copies of both networks for ``duration`` and compare their spikes."""
    a, b = float_net.copy(), fixed_net.copy()
    pairs = [(a.spike_monitor(p), b.spike_monitor(b.population(p.name)))
             for p in a.populations if p.kind == "lif"]
    a.run(duration, progress=False)
    b.run(duration, progress=False)
    out = []
    for ma, mb in pairs:
        ca, cb = ma.counts, mb.counts
        corr = float(np.corrcoef(ca, cb)[0, 1]) if ca.std() > 0 and cb.std() > 0 else \
            float(np.array_equal(ca, cb))
        n = ma.pop.n
        fixed = set((mb.steps * n + mb.indices).tolist())
        matched = sum(1 for s, i in zip(ma.steps, ma.indices)
                      if any((s + k) * n + i in fixed for k in (-1, 0, 1)))
        out.append(dict(name=ma.pop.name, float_spikes=ma.num_spikes,
                        fixed_spikes=mb.num_spikes,
                        rate_ratio=mb.num_spikes / ma.num_spikes if ma.num_spikes else
                        float(mb.num_spikes == 0),
                        count_correlation=corr,
                        matched_fraction=matched / ma.num_spikes if ma.num_spikes else 1.0))
    return out


def freeze_inputs(fixed, steps):
    """``fixed`` (a fixed-point network) with every Poisson population replaced by a spike
    source replaying the spikes it draws in its first ``steps`` steps: the same network
    run, in a form Lava can take (Lava has no Poisson source)."""
    from ..network import Network
    poisson = [p for p in fixed.populations if p.kind == "poisson"]
    probe = fixed.copy()
    mons = {p.name: probe.spike_monitor(probe.population(p.name)) for p in poisson}
    probe.run(steps * probe.dt, progress=False)
    net = Network(dt=fixed.dt, seed=fixed.seed, backend=fixed.backend)
    pops = {}
    for p in fixed.populations:
        if p.kind == "poisson":
            m = mons[p.name]
            pops[p] = net.spike_source(p.n, times=m.times, indices=m.indices, name=p.name)
        elif p.kind == "loihi_lif":
            s = p.spec
            pops[p] = net.loihi_lif(s.n, du=s.du, dv=s.dv, vth=s.vth, bias_mant=s.bias_mant,
                                    bias_exp=s.bias_exp, u_init=s.u_init, v_init=s.v_init,
                                    name=p.name)
        else:
            pops[p] = net._add(type(p)(net, p.spec, p.name))
    for q in fixed.projections:
        delay = np.zeros((q.pre.n, q.post.n))
        delay[q.pre_index, q.post_index] = q.delays
        net.connect(pops[q.pre], pops[q.post], weight=q.to_dense(), delay=delay,
                    weight_exp=q.loihi.weight_exp, num_weight_bits=q.loihi.num_weight_bits,
                    sign_mode=q.loihi.sign_mode, name=q.name)
    return net
