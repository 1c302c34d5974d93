"""Hypothesis strategies for random networks built through the public API (issue 23).

A strategy draws a plain description (dicts of choices: population kinds and sizes, synapse
kernels, conventions, connection rules, weights, delays, sources, drives, current sources,
plasticity), and :func:`build` turns one description into a fresh ``ns.Network`` with
monitors, so that the same network can be built for several backends, thread counts or
dtypes and run in several ways. Hypothesis draws the sizes (run length, numbers of
populations, projections, drives and current sources) and a seed; the seed makes every
other choice and the bulk numbers (per-neuron values, spike lists, weight matrices) with a
NumPy generator. A case then costs a handful of draws (about 2 ms instead of 50 ms for a
description drawn choice by choice), which is what lets the suite run ~10,000 of them;
the description is printed with a failing case, and :func:`build` rebuilds it exactly.

Kinds covered: LIF populations with every synapse kernel (exp, alpha, delta, cond_exp),
both conventions, reset by value and by subtraction, adaptation current and adaptive
threshold, scalar, per-neuron and distributed parameters; spike sources; Poisson sources
with and without windows (scalar and per-neuron start/stop); Poisson drives
(``net.poisson_input``); current sources; every connection rule (all-to-all, p, indegree
and outdegree with and without multapses, total, one_to_one, explicit pairs, dense arrays,
scipy.sparse matrices), autapses on and off; scalar, distributed and per-synapse weights of
both signs; scalar (0 included, and delays longer than the run), distributed and
per-synapse delays; plasticity (STDP all/nearest, axonal/dendritic, TripletSTDP,
TsodyksMarkram); loihi_lif fixed-point networks (their own strategy).
"""

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

import neurosim as ns
from neurosim import random as nr
from neurosim.plasticity import STDP, TripletSTDP, TsodyksMarkram
from neurosim.units import mV, ms, nS, pF

KERNELS = ("exp", "alpha", "delta", "cond_exp")
RULES = ("all", "p", "indegree", "outdegree", "total", "one_to_one", "pairs", "dense",
         "sparse")
#: Population names: plain ones, and names a user might write (a slash, a space, a dot,
#: non-ASCII), which the results file must keep.
NAMES = ("a", "b", "c", "d", "e", "f", "g", "h")
ODD_NAMES = ("L2/3e", "exc 1", "in.h", "ñeur")
#: Scalar delays in steps: 0 (same step), short, and longer than any run here.
DELAY_STEPS = (0, 0, 1, 2, 3, 7, 15, 40, 150, 700)


def _pick(rng, options):
    return options[int(rng.integers(0, len(options)))]


def _names(rng, k):
    out = []
    for _ in range(k):
        pool = ODD_NAMES if rng.random() < 0.25 else NAMES
        cands = [n for n in pool if n not in out] or [n for n in NAMES if n not in out]
        out.append(_pick(rng, cands))
    return out


def _lif_spec(rng, name):
    """Choices of one LIF population (numbers filled in by :func:`build`)."""
    return dict(
        kind="lif", name=name, n=int(rng.integers(1, 9)), synapse=_pick(rng, KERNELS),
        convention=_pick(rng, ("brian2", "nest")), reset=_pick(rng, ("value", "subtract")),
        t_ref=_pick(rng, (0, 1, 3, 20, "array")),        # steps, or per neuron
        params=_pick(rng, ("scalar", "array", "dist")),   # tau_m, v_th, v_reset, tau_syn...
        tau_pair=bool(rng.random() < 0.5), adapt=bool(rng.random() < 0.4),
        thresh=bool(rng.random() < 0.4), bias=_pick(rng, ("none", "scalar", "array", "dist")),
        v_init=_pick(rng, ("rest", "array", "dist")))


def _source_spec(rng, name, steps):
    kind = _pick(rng, ("spike_source", "poisson"))
    n = int(rng.integers(1, 7))
    if kind == "spike_source":
        return dict(kind=kind, name=name, n=n, n_spikes=int(rng.integers(0, 3 * steps + 1)),
                    t_max=steps + 5)
    return dict(kind=kind, name=name, n=n, rate=_pick(rng, ("scalar", "array", "zero", "max")),
                window=_pick(rng, (None, "start", "stop", "both", "per-neuron")),
                w_lo=int(rng.integers(0, steps + 1)), w_len=int(rng.integers(0, steps + 1)))


def _projection_spec(rng, n_pops, lifs, plastic):
    pre = int(rng.integers(0, n_pops))
    post = _pick(rng, lifs)
    return dict(
        pre=pre, post=post, rule=_pick(rng, RULES), p=_pick(rng, (0.0, 0.2, 0.5, 1.0)),
        k=int(rng.integers(0, 11)), multapses=bool(rng.random() < 0.5),
        autapses=bool(rng.random() < 0.5) if pre == post else True,
        sign=_pick(rng, (1, -1, 0)),                       # 0: both signs
        weight=_pick(rng, ("scalar", "dist", "array")),
        delay=_pick(rng, ("scalar", "dist", "array")), delay_steps=_pick(rng, DELAY_STEPS),
        plastic=_pick(rng, PLASTIC) if plastic else None, seed=int(rng.integers(0, 2**31)))


PLASTIC = ("stdp", "stdp-nearest-dendritic", "triplet", "tm")
PROFILES = ("plain", "full")


@st.composite
def networks(draw, max_steps=60, profile=None):
    """A random network description (see the module docstring); ``steps`` is the length of
    the run the properties make.

    Hypothesis draws the sizes (steps, numbers of populations, projections, drives, current
    sources) and a seed; the seed picks every other choice (kinds, rules, weights...), so
    that a case costs a few draws. ``profile`` ("plain": no Poisson drives, current sources
    or plasticity; "full": at least one of each; "event": as "plain" with sparse Poisson
    drives, every LIF population of the model backend="event" runs; None: drawn) keeps the engine's kernel
    variants (which Numba compiles once each) to two per dtype and thread mode."""
    steps = draw(st.integers(1, max_steps))
    n_lif = draw(st.integers(1, 3))
    n_src = draw(st.integers(0, 2))
    n_proj = draw(st.integers(0, 5))
    if profile is None:
        profile = draw(st.sampled_from(PROFILES))
    full = profile == "full"
    # drives: none in "plain"; sparse ones (rate * dt < 0.1, drawn as arrivals) in "event"
    n_drv = draw(st.integers(1, 2)) if full else \
        draw(st.integers(0, 2)) if profile == "event" else 0
    n_cur = draw(st.integers(1, 2)) if full else 0
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    names = _names(rng, n_lif + n_src)
    pops = [_lif_spec(rng, names[k]) for k in range(n_lif)]
    pops += [_source_spec(rng, names[n_lif + k], steps) for k in range(n_src)]
    if profile == "event":           # what backend="event" runs: current-based kernels,
        for d in pops[:n_lif]:       # adaptation, one value per parameter, Brian2's rules
            d.update(synapse=d["synapse"] if d["synapse"] != "cond_exp" else "exp",
                     convention="brian2", params="scalar",
                     t_ref=d["t_ref"] if d["t_ref"] != "array" else 3)
    lifs = list(range(n_lif))
    projs = [_projection_spec(rng, len(pops), lifs, full and rng.random() < 0.5)
             for _ in range(n_proj)]
    if full and not any(pr["plastic"] for pr in projs):
        projs.append(_projection_spec(rng, len(pops), lifs, True))
    if full:        # plasticity is refused into delta neurons of NEST's convention
        for pr in projs:
            if pr["plastic"] and pops[pr["post"]]["synapse"] == "delta":
                pops[pr["post"]]["convention"] = "brian2"
    drv = [dict(post=_pick(rng, lifs), rate=_pick(rng, ("scalar", "array", "zero")),
                sign=_pick(rng, (1, -1)), delay_steps=_pick(rng, (0, 1, 4, 90)),
                sparse=profile == "event")
           for _ in range(n_drv)]
    cur = [dict(post=_pick(rng, lifs), changes=int(rng.integers(1, 5)),
                per_target=bool(rng.random() < 0.5), subset=bool(rng.random() < 0.5))
           for _ in range(n_cur)]
    return dict(
        dt=_pick(rng, (0.1 * ms, 0.1 * ms, 0.25 * ms, 1 * ms)),
        seed=int(rng.integers(0, 2**32)), steps=steps, profile=profile, pops=pops,
        projs=projs, drives=drv, currents=cur, rng=int(rng.integers(0, 2**32)),
        # monitors: every population's spikes and every LIF variable, of every neuron or
        # of every other neuron
        subset_monitors=bool(rng.random() < 0.3))


# ---------------------------------------------------------------------- building


def _param(rng, how, n, lo, hi, scale):
    if how == "scalar":
        return float(rng.uniform(lo, hi)) * scale
    if how == "array":
        return rng.uniform(lo, hi, n) * scale
    return nr.uniform(lo * scale, hi * scale)


def _lif(net, rng, d):
    n, how = d["n"], d["params"]
    kw = dict(v_rest=-60 * mV, v_th=_param(rng, how, n, -52, -48, mV),
              v_reset=_param(rng, how, n, -70, -62, mV),
              tau_m=_param(rng, how, n, 5, 30, ms), reset=d["reset"], synapse=d["synapse"],
              convention=d["convention"], name=d["name"])
    if d["t_ref"] == "array":
        kw["t_ref"] = rng.integers(0, 30, n) * net.dt
    else:
        kw["t_ref"] = d["t_ref"] * net.dt
    if d["synapse"] != "delta":
        a = _param(rng, how, n, 1, 10, ms)
        kw["tau_syn"] = (a, _param(rng, how, n, 2, 15, ms)) if d["tau_pair"] else a
    if d["synapse"] == "cond_exp":
        kw.update(e_exc=0 * mV, e_inh=_param(rng, how, n, -85, -75, mV),
                  c_m=_param(rng, how, n, 150, 250, pF))
    if d["adapt"]:
        kw.update(tau_w=_param(rng, how, n, 20, 150, ms), b_w=_param(rng, how, n, 0, 3, mV))
    if d["thresh"]:
        kw.update(tau_a=_param(rng, how, n, 10, 100, ms), beta=_param(rng, how, n, 0, 3, mV))
    if d["bias"] != "none":              # about half of the neurons fire on their own
        kw["bias"] = _param(rng, d["bias"], n, 0, 25, mV)
    if d["v_init"] != "rest":
        kw["v_init"] = _param(rng, d["v_init"], n, -70, -48, mV)
    return net.lif(n, **kw)


def _source(net, rng, d):
    n, dt = d["n"], net.dt
    if d["kind"] == "spike_source":
        key = np.unique(rng.integers(0, d["t_max"], d["n_spikes"]) * n
                        + rng.integers(0, n, d["n_spikes"]))
        return net.spike_source(n, times=(key // n) * dt, indices=key % n, name=d["name"])
    top = 0.1 / dt                       # p = rate*dt <= 0.1: no warning
    rate = {"scalar": float(rng.uniform(0, top)), "array": rng.uniform(0, top, n),
            "zero": 0.0, "max": top}[d["rate"]]
    w, lo, hi = d["window"], d["w_lo"], d["w_lo"] + d["w_len"]
    kw = {}
    if w in ("start", "both"):
        kw["start"] = lo * dt
    if w in ("stop", "both"):
        kw["stop"] = hi * dt
    if w == "per-neuron":
        kw["start"] = rng.integers(0, lo + 1, n) * dt
        stop = rng.integers(0, hi + 1, n) * dt
        stop[rng.random(n) < 0.3] = np.inf
        kw["stop"] = stop
    return net.poisson(n, rate=rate, name=d["name"], **kw)


def _weight_unit(post):
    return nS if post.spec.synapse == "cond_exp" else mV


def _weights(rng, sign, shape, unit):
    w = rng.uniform(0.2, 3.0, shape)
    if sign < 0:
        w = -w
    elif sign == 0:
        w[rng.random(shape) < 0.4] *= -1
    return w * unit


def _rule_kwargs(d, pre, post):
    """The rule's keyword arguments, made valid for the sizes drawn (None: no synapses can
    be drawn by this rule, e.g. one_to_one between populations of different sizes)."""
    same, rule, k = pre is post, d["rule"], d["k"]
    skip = same and not d["autapses"]
    if rule == "all":
        return {}
    if rule == "p":
        return dict(p=d["p"])
    if rule in ("indegree", "outdegree"):
        cands = (pre.n if rule == "indegree" else post.n) - (1 if skip else 0)
        if not d["multapses"]:
            k = min(k, cands)
        if cands <= 0:
            k = 0
        return {rule: k, "multapses": d["multapses"]}
    if rule == "total":
        cands = (pre.n - (1 if skip else 0)) * post.n
        if not d["multapses"]:
            k = min(k, cands)
        if cands <= 0:
            k = 0
        return dict(total=k, multapses=d["multapses"])
    if rule == "one_to_one":
        return dict(one_to_one=True) if pre.n == post.n else None
    return {}


def _projection(net, rng, d, pops):
    pre, post = pops[d["pre"]], pops[d["post"]]
    unit = _weight_unit(post)
    rule = d["rule"]
    rng = np.random.default_rng(d["seed"])
    plastic = d["plastic"]
    sign = d["sign"] if d["sign"] != 0 or plastic is None else 1
    if plastic is not None and post.spec.synapse == "delta" and post.spec.convention == "nest":
        plastic = None                   # refused by connect (documented)
    kw = dict(autapses=d["autapses"])
    dsteps = d["delay_steps"]
    delay_how = "scalar" if plastic is not None else d["delay"]
    if rule in ("dense", "sparse"):
        mask = rng.random((pre.n, post.n)) < 0.5
        w = _weights(rng, sign, (pre.n, post.n), unit) * mask
        if delay_how == "array" and rule == "dense":
            kw["delay"] = rng.integers(0, dsteps + 1, (pre.n, post.n)) * net.dt
        elif delay_how == "dist":
            kw["delay"] = nr.uniform(0.0, max(dsteps, 1) * net.dt)
        else:
            kw["delay"] = dsteps * net.dt
        weight = w if rule == "dense" else sp.csr_matrix(w)
    else:
        if rule == "pairs":
            m = int(rng.integers(0, 12))
            kw["pairs"] = (rng.integers(0, pre.n, m), rng.integers(0, post.n, m))
            count = m
        else:
            extra = _rule_kwargs(d, pre, post)
            if extra is None:
                return None
            kw.update(extra)
            count = pre.n if rule == "one_to_one" else None
        how = d["weight"]
        if how == "array" and count is None:
            how = "scalar"
        if how == "scalar":
            weight = float(_weights(rng, sign, (), unit))
        elif how == "dist":
            lo, hi = (0.2 * unit, 3.0 * unit) if sign >= 0 else (-3.0 * unit, -0.2 * unit)
            weight = nr.uniform(lo, hi) if sign != 0 else nr.normal(0.5 * unit, 1.5 * unit)
        else:
            weight = _weights(rng, sign, (count,), unit)
        if delay_how == "array" and count is not None:
            kw["delay"] = rng.integers(0, dsteps + 1, count) * net.dt
        elif delay_how == "dist":
            kw["delay"] = nr.uniform(0.0, max(dsteps, 1) * net.dt)
        else:
            kw["delay"] = dsteps * net.dt
    if plastic is not None:
        wmax = 3.5 * unit
        kw["plasticity"] = {
            "stdp": STDP(w_max=wmax, lam=0.05, alpha=1.1),
            "stdp-nearest-dendritic": STDP(w_max=wmax, lam=0.1, alpha=0.9, mu_plus=1.0,
                                           mu_minus=0.5, pairing="nearest",
                                           delay_split="dendritic"),
            "triplet": TripletSTDP(w_max=wmax, a2_plus=0.3 * unit, a3_plus=0.2 * unit,
                                   a2_minus=0.3 * unit, a3_minus=0.1 * unit),
            "tm": TsodyksMarkram(U=0.4, tau_rec=50 * ms, tau_facil=20 * ms)}[plastic]
    return net.connect(pre, post, weight=weight, **kw)


def _current(net, rng, d, pops):
    post = pops[d["post"]]
    m = d["changes"]
    times = np.sort(rng.choice(40, m, replace=False)) * net.dt
    idx = None
    if d["subset"]:
        idx = np.flatnonzero(rng.random(post.n) < 0.6)
        if idx.size == 0:
            idx = np.array([0])
    k = post.n if idx is None else idx.size
    amps = rng.uniform(-5, 25, (m, k) if d["per_target"] else m) * mV
    return net.current_source(post, times, amps, indices=idx)


def build(desc, backend="numba", threads=1, dtype="float64", monitors=True):
    """A fresh network of ``desc`` (and its monitors, when ``monitors``): returns
    (net, spike monitors by population name, state monitors by (name, var))."""
    rng = np.random.default_rng(desc["rng"])
    net = ns.Network(dt=desc["dt"], seed=desc["seed"], backend=backend, threads=threads,
                     dtype=dtype)
    pops = []
    for d in desc["pops"]:
        prng = np.random.default_rng([desc["rng"], len(pops)])
        pops.append(_lif(net, prng, d) if d["kind"] == "lif" else _source(net, prng, d))
    for k, d in enumerate(desc["projs"]):
        _projection(net, rng, d, pops)
    for k, d in enumerate(desc["drives"]):
        post = pops[d["post"]]
        drng = np.random.default_rng([desc["rng"], 1000 + k])
        top = 0.099 / net.dt if d.get("sparse") else 3000.0
        rate = {"scalar": float(drng.uniform(0, top)),
                "array": drng.uniform(0, top, post.n), "zero": 0.0}[d["rate"]]
        w = d["sign"] * 0.8 * _weight_unit(post)
        net.poisson_input(post, rate, w, delay=d["delay_steps"] * net.dt)
    for k, d in enumerate(desc["currents"]):
        _current(net, np.random.default_rng([desc["rng"], 2000 + k]), d, pops)
    spikes, states = {}, {}
    if monitors:
        for p in pops:
            idx = None
            if desc["subset_monitors"] and p.n > 1:
                idx = np.arange(0, p.n, 2)
            spikes[p.name] = net.spike_monitor(p, indices=idx)
            if p.kind == "lif":
                for var in p.variables:
                    states[p.name, var] = net.state_monitor(p, var, indices=idx)
    return net, spikes, states


# ---------------------------------------------------------------------- fixed point

@st.composite
def fixed_networks(draw, max_steps=60):
    """A random loihi_lif network description (fixed point: bit-exact on both backends)."""
    steps = draw(st.integers(1, max_steps))
    n_pops = draw(st.integers(1, 3))
    n_proj = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pops = [dict(n=int(rng.integers(1, 7)), du=_pick(rng, (0, 1, 100, 1000, 4095)),
                 dv=_pick(rng, (0, 5, 300, 2048, 4095)), vth=_pick(rng, (0, 10, 500, 131071)),
                 bias=_pick(rng, ("none", "scalar", "array")), init=bool(rng.random() < 0.4))
             for _ in range(n_pops)]
    src = dict(n=int(rng.integers(1, 7)), n_spikes=int(rng.integers(0, 3 * steps + 1)),
               poisson=bool(rng.random() < 0.5))
    projs = [dict(pre=int(rng.integers(0, n_pops + 1)), post=int(rng.integers(0, n_pops)),
                  lohi=_pick(rng, ((-300, 300), (0, 300), (-300, 1), (-20, 20))),
                  density=_pick(rng, (0.0, 0.5, 0.95)),
                  delay=_pick(rng, ("zero", "scalar", "array", "max")),
                  weight_exp=_pick(rng, (0, -1, -3, 2, 6)), bits=_pick(rng, (8, 7, 5, 1)),
                  mode=_pick(rng, (None, "excitatory", "inhibitory", "mixed")))
             for _ in range(n_proj)]
    return dict(steps=steps, pops=pops, src=src, projs=projs,
                seed=int(rng.integers(0, 2**32)), rng=int(rng.integers(0, 2**32)))


def build_fixed(desc, backend="numba", monitors=True):
    rng = np.random.default_rng(desc["rng"])
    dt = 1e-3
    net = ns.Network(dt=dt, seed=desc["seed"], backend=backend)
    s = desc["src"]
    key = np.unique(rng.integers(0, desc["steps"] + 3, s["n_spikes"]) * s["n"]
                    + rng.integers(0, s["n"], s["n_spikes"]))
    srcs = [net.spike_source(s["n"], times=(key // s["n"]) * dt, indices=key % s["n"],
                             name="src")]
    if s["poisson"]:
        srcs.append(net.poisson(s["n"], rate=60.0, name="noise"))
    pops = []
    for k, d in enumerate(desc["pops"]):
        n = d["n"]
        bias = {"none": 0, "scalar": int(rng.integers(-4096, 4096)),
                "array": rng.integers(-4096, 4096, n)}[d["bias"]]
        pops.append(net.loihi_lif(
            n, du=d["du"], dv=d["dv"], vth=d["vth"], bias_mant=bias,
            bias_exp=rng.integers(-3, 6, n),
            u_init=rng.integers(-2**23, 2**23, n) if d["init"] else 0,
            v_init=rng.integers(-2**22, 2**22, n) if d["init"] else 0, name=f"q{k}"))
    for d in desc["projs"]:
        pre = srcs[0] if d["pre"] == len(pops) else pops[d["pre"]]
        if d["pre"] == len(pops) and len(srcs) > 1 and rng.random() < 0.5:
            pre = srcs[1]
        post = pops[d["post"]]
        w = rng.integers(*d["lohi"], (pre.n, post.n))
        w[rng.random(w.shape) < d["density"]] = 0
        delay = {"zero": 0.0, "scalar": int(rng.integers(1, 4)) * dt,
                 "array": rng.integers(0, 6, w.shape) * dt, "max": 63 * dt}[d["delay"]]
        net.connect(pre, post, weight=w, delay=delay, weight_exp=d["weight_exp"],
                    num_weight_bits=d["bits"], sign_mode=d["mode"])
    spikes, states = {}, {}
    if monitors:
        for p in srcs + pops:
            spikes[p.name] = net.spike_monitor(p)
        for p in pops:
            for var in ("u", "v"):
                states[p.name, var] = net.state_monitor(p, var)
    return net, spikes, states
