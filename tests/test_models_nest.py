"""neurosim's convention="nest" against NEST: NEST's own regression values and golden NEST runs.

Two kinds of checks, on every backend:

1. **NEST's regression tests, reproduced.** The set-ups and reference values of NEST 3's
   testsuite (``testsuite/pytests/neurons/``: test_iaf_psc_alpha.py, test_iaf_psc_exp.py,
   test_iaf_psp.py, test_iaf_psc_alpha_1to2.py, test_iaf_psc_alpha_fudge.py,
   test_iaf_psp_normalized.py, test_iaf_psp_peak.py), rebuilt in neurosim. Their tables
   are printed to 6 significant digits, so they are compared as NEST compares them
   (rtol 1e-6); where the values come from a closed form (v under a constant current, the
   alpha and exponential PSPs, the refractory hold), neurosim is compared with the closed
   form to 1e-9 relative.
2. **Golden NEST runs** (``tests/data/nest_<model>.json``, written by
   ``benchmarks/peers/nest_golden.py`` with NEST 3.10 in its own Python 3.11 venv: CI
   has no NEST): small networks of iaf_psc_exp / iaf_psc_alpha / iaf_psc_delta with spike
   generators, DC input, delays of 1-30 steps, refractory periods (0 included) and inputs
   that arrive during refractoriness. neurosim must give the same spikes and V_m to 1e-9
   relative. The same networks with convention="brian2" differ exactly where the
   conventions say (tested, so that swapped conventions fail).

Mapping of NEST onto neurosim (convention="nest", dt = 0.1 ms):

* NEST delay d*dt <-> neurosim delay d steps (d >= 1).
* A NEST spike_generator time T <-> a neurosim spike_source time T - dt (NEST stamps a
  spike with the end of the step it belongs to); a NEST spike at T <-> a neurosim spike at
  T - dt (``mon.steps + 1 == round(T / dt)``).
* V_m recorded by NEST at t = k*dt (the state after the update step ending at t) <->
  neurosim's state monitor sample k (the state at the start of step k).
* bias (V) = I_e * tau_m / C_m; exp and alpha weights (V) = w_pA * tau_m / C_m (the PSC
  amplitude, resp. its peak, times R_m); delta weights are NEST's mV.
* NEST's dc_generator with delay d steps (start 0) acts from step d + 1 on: bias switched on
  between runs.

iaf_cond_exp: NEST integrates it with an adaptive RK45 solver, neurosim with exponential
Euler (Brian2's method); only spike counts are compared, with a tolerance.
"""

import json
import math
import os

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import ms, mV

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DT_MS = 0.1
DT = DT_MS * ms
SYNAPSE = {"iaf_psc_exp": "exp", "iaf_psc_alpha": "alpha", "iaf_psc_delta": "delta"}
#: NEST's defaults for iaf_psc_* (NEST 3.10, as stored in the golden files' settings).
NEST = dict(C_m=250.0, tau_m=10.0, t_ref=2.0, E_L=-70.0, V_th=-55.0, V_reset=-70.0,
            tau_syn=2.0)

_cache = {}


def golden(model):
    if model not in _cache:
        with open(os.path.join(DATA, f"nest_{model}.json")) as f:
            _cache[model] = json.load(f)
    return _cache[model]


def golden_case(model, name):
    (case,) = [c for c in golden(model)["cases"] if c["name"] == name]
    return case


def steps(t_ms):
    return int(round(t_ms / DT_MS))


# ------------------------------------------------------------------- building networks
def nest_lif(net, synapse, n=1, convention="nest", I_e=0.0, V_m=None, **nest_params):
    """LIF neurons with NEST's parameters (NEST units; defaults: NEST's iaf_psc_*)."""
    p = dict(NEST, **nest_params)
    r = p["tau_m"] / p["C_m"]                       # mV per pA
    kw = dict(n=n, tau_m=p["tau_m"] * ms, v_rest=p["E_L"] * mV, v_th=p["V_th"] * mV,
              v_reset=p["V_reset"] * mV, t_ref=p["t_ref"] * ms,
              v_init=(p["E_L"] if V_m is None else V_m) * mV, bias=I_e * r * mV,
              synapse=synapse, convention=convention)
    if synapse != "delta":
        kw["tau_syn"] = p["tau_syn"] * ms
    return net.lif(**kw), r


def build_golden(model, case, convention="nest", backend="numba"):
    """The golden case's network in neurosim; returns (net, pop, spike mon, v mon)."""
    syn = SYNAPSE[model]
    nrn = case["neurons"]
    n = len(nrn)
    P = {k: np.array([p[k] for p in nrn], dtype=float) for k in nrn[0]
         if not isinstance(nrn[0][k], bool)}
    r = P["tau_m"] / P["C_m"]
    net = ns.Network(dt=DT, backend=backend)
    kw = dict(n=n, tau_m=P["tau_m"] * ms, v_rest=P["E_L"] * mV, v_th=P["V_th"] * mV,
              v_reset=P["V_reset"] * mV, t_ref=P["t_ref"] * ms, v_init=P["V_m"] * mV,
              bias=P["I_e"] * r * mV, synapse=syn, convention=convention)
    if syn != "delta":
        kw["tau_syn"] = (P["tau_syn_ex"] * ms, P["tau_syn_in"] * ms)
    pop = net.lif(**kw)
    gens = case.get("generators", [])
    if gens:
        st = np.concatenate([[steps(t) - 1 for t in g] for g in gens]).astype(np.int64)
        ix = np.concatenate([[i] * len(g) for i, g in enumerate(gens)]).astype(np.int64)
        src = net.spike_source(n=len(gens), times=st * DT, indices=ix)
    conns = case.get("connections", [])
    for kind, pre_pop in (("gen", src if gens else None), ("nrn", pop)):
        sel = [c for c in conns if c[0] == kind]
        if not sel:
            continue
        pre = np.array([c[1] for c in sel])
        post = np.array([c[2] for c in sel])
        w = np.array([c[3] for c in sel], dtype=float)
        w_v = (w if syn == "delta" else w * r[post]) * mV
        d = np.array([steps(c[4]) for c in sel]) * DT
        net.connect(pre_pop, pop, weight=w_v, delay=d, pairs=(pre, post))
    sp = net.spike_monitor(pop)
    vm = net.state_monitor(pop, "v")
    return net, pop, sp, vm


def run_golden(model, case, convention="nest", backend="numba"):
    """Run to t_sim (and one step more for the last V sample); returns (spike steps per
    neuron, V in mV with row k-1 = sample k, k = 1..n_v)."""
    net, pop, sp, vm = build_golden(model, case, convention, backend)
    T = steps(case["t_sim"])
    dc = case.get("dc", [])
    if dc:
        (d,) = dc
        assert d["start"] == 0.0 and d["stop"] is None
        k_on = steps(d["delay"]) + 1
        net.run(k_on * DT)
        p = case["neurons"][d["target"]]
        b = pop.bias.copy()
        b[d["target"]] += d["amplitude"] * p["tau_m"] / p["C_m"] * mV
        pop.bias = b
        net.run((T + 1 - k_on) * DT)
    else:
        net.run((T + 1) * DT)
    trains = [sp.steps[(sp.indices == i) & (sp.steps < T)].tolist()
              for i in range(len(case["neurons"]))]
    n_v = steps(case["t_v"])
    return trains, vm.values[1:n_v + 1] / mV


def nest_steps(case):
    """NEST's spike times as neurosim steps (NEST stamp T <-> step T/dt - 1)."""
    return [[steps(t) - 1 for t in s] for s in case["spikes"]]


def nest_v(case):
    return np.array(case["V_m"], dtype=float).T


# ------------------------------------------------------------------- closed forms (NEST units)
def v_dc(t, I_e, E_L=-70.0, tau_m=10.0, C_m=250.0):
    """V under a constant current switched on at t = 0 from E_L (ms, pA -> mV)."""
    return E_L + I_e * tau_m / C_m * (1.0 - np.exp(-np.asarray(t) / tau_m))


def vm_theory_alpha(t, w, E_L=-70.0, tau_m=10.0, C_m=250.0, tau_syn=2.0):
    """NEST test_iaf_psc_alpha_1to2.py's Vm_theory: the alpha PSP of peak current w (pA)."""
    t = np.asarray(t, dtype=float)
    pre = w * np.e / (tau_syn * C_m)
    a = 1.0 / tau_syn - 1.0 / tau_m
    return E_L + pre * ((np.exp(-t / tau_m) - np.exp(-t / tau_syn)) / a ** 2
                        - t * np.exp(-t / tau_syn) / a)


def v_exp_psp(t, w, E_L=-70.0, tau_m=10.0, C_m=250.0, tau_syn=2.0):
    """The PSP of an exponential PSC of amplitude w (pA), tau_syn != tau_m."""
    t = np.asarray(t, dtype=float)
    return E_L + w / C_m * tau_syn * tau_m / (tau_m - tau_syn) * (
        np.exp(-t / tau_m) - np.exp(-t / tau_syn))


# NEST's reference tables (testsuite/pytests/neurons/test_iaf_psc_alpha.py), (t ms, V_m mV)
I0_TABLE = [(0.1, -69.602), (0.2, -69.2079), (0.3, -68.8178), (0.4, -68.4316),
            (0.5, -68.0492), (4.3, -56.0204), (4.4, -55.7615), (4.5, -55.5051),
            (4.6, -55.2513), (4.7, -55.0001), (4.8, -70), (4.9, -70), (5.0, -70)]
BASIC_TABLE = ([(0.1, -70), (0.2, -70), (0.3, -69.602), (0.4, -69.2079), (0.5, -68.8178),
                (0.6, -68.4316), (0.7, -68.0492), (0.8, -67.6706), (0.9, -67.2958),
                (1.0, -66.9247), (4.5, -56.0204), (4.6, -55.7615), (4.7, -55.5051),
                (4.8, -55.2513), (4.9, -55.0001)]
               + [(round(5.0 + 0.1 * k, 1), -70) for k in range(21)]
               + [(7.1, -69.602), (7.2, -69.2079), (7.3, -68.8178), (7.4, -68.4316),
                  (7.5, -68.0492), (7.6, -67.6706), (7.7, -67.2958), (7.8, -66.9247),
                  (7.9, -66.5572)])
I0_REFRACTORY_RISE = [-69.4229, -68.8515, -68.2858, -67.7258, -67.1713, -66.6223, -66.0788,
                      -65.5407, -65.008, -64.4806, -63.9584, -63.4414, -62.9295, -62.4228,
                      -61.9211, -61.4243, -60.9326, -60.4457, -59.9636, -59.4864, -59.0139,
                      -58.5461, -58.0829, -57.6244, -57.1704, -56.721, -56.276, -55.8355,
                      -55.3993]
I0_REFRACTORY_TABLE = ([(round(0.1 * (k + 1), 1), v) for k, v in enumerate(I0_REFRACTORY_RISE)]
                       + [(round(3.0 + 0.1 * k, 1), -70) for k in range(21)]
                       + [(round(5.1 + 0.1 * k, 1), v)
                          for k, v in enumerate(I0_REFRACTORY_RISE[:19])])
# testsuite/pytests/neurons/test_iaf_psp.py: REFERENCE_DATA (steps of 0.1 ms, V_m mV)
PSP_TABLE = ([(k, -70.0) for k in range(1, 31)]
             + list(zip(range(31, 58), [
                 -69.9974, -69.9899, -69.9781, -69.9624, -69.9434, -69.9213, -69.8967,
                 -69.8699, -69.8411, -69.8108, -69.779, -69.7463, -69.7126, -69.6783,
                 -69.6435, -69.6084, -69.5732, -69.538, -69.5029, -69.4681, -69.4336,
                 -69.3995, -69.366, -69.333, -69.3008, -69.2692, -69.2383])))


def table_check(v_mv, table):
    """Compare samples (index k = time k*dt) with a NEST table as NEST does (rtol 1e-6)."""
    idx = [steps(t) for t, _ in table]
    np.testing.assert_allclose(v_mv[idx], [v for _, v in table], rtol=1e-6, atol=0)


# =================================================================== 1. NEST's regression tests
def run_i0(backend, synapse, I_e):
    """One neuron with NEST's defaults and I_e (pA) from t = 0, 8 ms (samples 0 .. 8.0 ms)."""
    net = ns.Network(dt=DT, backend=backend)
    pop, _ = nest_lif(net, synapse, I_e=I_e)
    sp, vm = net.spike_monitor(pop), net.state_monitor(pop, "v")
    net.run(8.1 * ms)
    return sp, vm, vm.values[:, 0] / mV


@pytest.mark.parametrize("synapse", ["exp", "alpha", "delta"])
def test_nest_iaf_psc_alpha_i0(backend, synapse):
    """NEST test_iaf_psc_alpha.py::test_iaf_psc_alpha_i0 (I_e = 1000 pA from t = 0): the
    table, the spike at 4.8 ms, and v(t) = E_L + R I_e (1 - exp(-t/tau_m)) to 1e-9."""
    sp, vm, v = run_i0(backend, synapse, 1000.0)
    table_check(v, I0_TABLE)
    assert (sp.steps + 1).tolist() == [48]                 # NEST: spike at 4.8 ms
    k = np.arange(0, 48)
    np.testing.assert_allclose(v[k], v_dc(k * DT_MS, 1000.0), rtol=1e-9, atol=0)


@pytest.mark.parametrize("synapse", ["exp", "alpha", "delta"])
def test_nest_iaf_psc_alpha_i0_refractory(backend, synapse):
    """NEST test_iaf_psc_alpha.py::test_iaf_psc_alpha_i0_refractory (h = 0.1 ms, I_e =
    1450 pA): spikes at 3.0 and 8.0 ms, V_m held at V_reset through 5.0 ms (t_ref = 2 ms
    after the spike at 3.0), free from the step 5.0 -> 5.1 ms on; the rise after release is
    the closed form restarted at 5.0 ms (to 1e-9)."""
    sp, vm, v = run_i0(backend, synapse, 1450.0)
    table_check(v, I0_REFRACTORY_TABLE)
    assert (sp.steps + 1).tolist() == [30, 80]             # NEST: 3.0 and 8.0 ms
    assert np.all(vm.values[30:51, 0] == -70.0 * mV)      # held at V_reset, 3.0 .. 5.0 ms
    k = np.arange(1, 30)
    np.testing.assert_allclose(v[k], v_dc(k * DT_MS, 1450.0), rtol=1e-9, atol=0)
    np.testing.assert_allclose(v[50 + k], v_dc(k * DT_MS, 1450.0), rtol=1e-9, atol=0)


@pytest.mark.parametrize("synapse", ["exp", "alpha", "delta"])
def test_nest_dc_generator(backend, synapse):
    """NEST test_iaf_psc_alpha.py::test_iaf_psc_alpha_basic and
    test_iaf_psc_exp.py::test_iaf_psc_exp_dc_input: a dc_generator of 1000 pA connected with
    delay 0.1 ms acts from the step 0.2 -> 0.3 ms on (here: bias switched on after 2 steps).
    The table (rtol 1e-6) and test_iaf_psc_exp_dc_input's analytical trace (to 1e-9): rise,
    spike at 5.0 ms, V_reset for t_ref/dt samples after the crossing sample, rise again."""
    net = ns.Network(dt=DT, backend=backend)
    pop, r = nest_lif(net, synapse)
    sp, vm = net.spike_monitor(pop), net.state_monitor(pop, "v")
    net.run(2 * DT)
    pop.bias = 1000.0 * r * mV
    net.run(78 * DT)
    v = vm.values[:, 0] / mV                                # samples at 0.0 .. 7.9 ms
    table_check(v, BASIC_TABLE)
    assert (sp.steps + 1).tolist() == [50]                 # NEST: 5.0 ms
    # test_iaf_psc_exp_dc_input's construction, on the samples t = 0.1 .. 7.9 ms
    times = np.arange(1, 80) * DT_MS - DT_MS
    soln = v_dc(times, 1000.0)
    ana = np.full_like(times, -70.0)
    ana[1:] = soln[:-1]
    cross = int(np.argmax(ana > -55.0))
    n_ref = int(NEST["t_ref"] / DT_MS)
    ana[cross:cross + n_ref] = -70.0
    ana[cross + n_ref:] = soln[:len(times) - cross - n_ref]
    np.testing.assert_allclose(v[1:80], ana, rtol=1e-9, atol=0)


def test_nest_iaf_psp(backend):
    """NEST test_iaf_psp.py::test_iaf_psp_aligned_impact (h = 0.1 ms): iaf_psc_alpha, one
    spike (generator at 2.0 ms, weight 100 pA, delay 1.0 ms) arrives at 3.0 ms; V_m stays at
    E_L at 3.0 ms and follows the alpha PSP (Vm_theory of test_iaf_psc_alpha_1to2.py) after,
    to 1e-9."""
    net = ns.Network(dt=DT, backend=backend)
    pop, r = nest_lif(net, "alpha")
    src = net.spike_source(n=1, times=[19 * DT], indices=[0])     # NEST time 2.0 ms
    net.connect(src, pop, weight=100.0 * r * mV, delay=10 * DT)
    vm = net.state_monitor(pop, "v")
    net.run(7.0 * ms)
    v = vm.values[:, 0] / mV
    table_check(v, [(k * DT_MS, x) for k, x in PSP_TABLE])
    k = np.arange(30, 70)
    np.testing.assert_allclose(v[k], vm_theory_alpha((k - 30) * DT_MS, 100.0), rtol=1e-9,
                               atol=0)
    assert np.all(vm.values[:31, 0] == -70.0 * mV)


def test_nest_iaf_psc_alpha_1to2(backend):
    """NEST test_iaf_psc_alpha_1to2.py::test_1to2 (resolution 0.1, min_delay 1.0): neuron 1
    (I_e = 1450 pA) spikes at 3.0 and 8.0 ms; neuron 2 rests until the spike arrives at
    4.0 ms, then follows Vm_theory (weight 100 pA) to 1e-9 (NEST itself asks 1e-12)."""
    net = ns.Network(dt=DT, backend=backend)
    pop, r = nest_lif(net, "alpha", n=2)
    pop.bias = np.array([1450.0 * r * mV, 0.0])
    net.connect(pop, pop, weight=100.0 * r * mV, delay=1.0 * ms, pairs=([0], [1]))
    sp, vm = net.spike_monitor(pop), net.state_monitor(pop, "v")
    net.run(8.0 * ms + DT)
    first = sp.steps[(sp.indices == 0) & (sp.steps < 80)] + 1
    assert first.tolist() == [30, 80]
    assert not np.any(sp.indices == 1)
    v2 = vm.values[:, 1] / mV
    assert np.all(vm.values[:41, 1] == -70.0 * mV)
    k = np.arange(40, 81)
    np.testing.assert_allclose(v2[k], vm_theory_alpha((k - 40) * DT_MS, 100.0), rtol=1e-9,
                               atol=0)


def _alpha_peak(tau_m, tau_syn):
    """t_max of the alpha PSP (NEST test_iaf_psp_peak.py's closed form with Lambert W)."""
    from scipy.special import lambertw
    a = tau_m / tau_syn
    b = 1.0 / tau_syn - 1.0 / tau_m
    return float((1.0 / b * (-lambertw(-math.exp(-1.0 / a) / a, k=-1) - 1.0 / a)).real)


def test_nest_iaf_psp_peak_and_normalized(backend):
    """NEST test_iaf_psp_peak.py (the closed-form peak time is the root of dPSP/dt) and
    test_iaf_psp_normalized.py (tau_m 20 ms, tau_syn 0.5 ms, C_m 1 pF, h = 0.001 ms: a weight
    of 1/PSP_max gives a PSP of 1 mV, NEST: within 1e-6 mV); neurosim's trace also equals the
    closed form to 1e-9 at every sample."""
    from scipy.optimize import brentq
    tau_m, tau_s, c_m = 20.0, 0.5, 1.0
    t_max = _alpha_peak(tau_m, tau_s)

    def psp(t):
        return vm_theory_alpha(t, 1.0, E_L=0.0, tau_m=tau_m, C_m=c_m, tau_syn=tau_s)

    def dpsp(t, h=1e-6):
        return (psp(t + h) - psp(t - h)) / (2 * h)

    assert abs(brentq(dpsp, 0.1, 5.0, xtol=1e-11) - t_max) < 1e-6
    w = 1.0 / float(psp(t_max))
    dt_ms = 0.001
    net = ns.Network(dt=dt_ms * ms, backend=backend)
    pop = net.lif(n=1, tau_m=tau_m * ms, tau_syn=tau_s * ms, v_rest=0.0, v_th=15 * mV,
                  v_reset=0.0, t_ref=2 * ms, synapse="alpha", convention="nest")
    src = net.spike_source(n=1, times=[1999 * dt_ms * ms], indices=[0])   # NEST: 2.0 ms
    net.connect(src, pop, weight=w * tau_m / c_m * mV, delay=1000 * dt_ms * ms)
    vm = net.state_monitor(pop, "v")
    net.run(7.0 * ms)
    v = vm.values[:, 0] / mV
    assert v.max() == pytest.approx(1.0, abs=1e-6)
    k = np.arange(3000, 7000)
    np.testing.assert_allclose(v[k], w * psp((k - 3000) * dt_ms), rtol=1e-9, atol=1e-15)
    assert np.all(v[:3001] == 0.0)


def test_nest_iaf_psc_alpha_fudge(backend):
    """NEST test_iaf_psc_alpha_fudge.py: tau_m 20, tau_syn 0.5 ms, C_m 250 pF, one spike at
    0.1 ms with delay 0.1 ms and weight 1/V_max: the sampled peak lies within dt/2 of
    t_max + 0.2 ms and is 1 mV above E_L within 1e-4 mV; the trace is the closed form."""
    tau_m, tau_s, c_m = 20.0, 0.5, 250.0
    t_max = _alpha_peak(tau_m, tau_s)
    v_max = float(vm_theory_alpha(t_max, 1.0, E_L=0.0, tau_m=tau_m, C_m=c_m, tau_syn=tau_s))
    net = ns.Network(dt=DT, backend=backend)
    pop, r = nest_lif(net, "alpha", tau_m=tau_m, tau_syn=tau_s, C_m=c_m)
    src = net.spike_source(n=1, times=[0.0], indices=[0])           # NEST: 0.1 ms
    net.connect(src, pop, weight=1.0 / v_max * r * mV, delay=DT)
    vm = net.state_monitor(pop, "v")
    net.run(20 * ms)
    v = vm.values[:, 0] / mV
    assert np.argmax(v) * DT_MS == pytest.approx(t_max + 0.2, abs=DT_MS / 2)
    assert v.max() + 70.0 == pytest.approx(1.0, abs=1e-4)
    k = np.arange(2, 200)
    np.testing.assert_allclose(
        v[k], vm_theory_alpha((k - 2) * DT_MS, 1.0 / v_max, tau_m=tau_m, C_m=c_m,
                              tau_syn=tau_s), rtol=1e-9, atol=0)


@pytest.mark.parametrize("model", ["iaf_psc_exp", "iaf_psc_delta"])
def test_nest_psp_exp_delta_closed_form(backend, model):
    """test_iaf_psp.py's set-up for iaf_psc_exp (100 pA) and iaf_psc_delta (1 mV): the
    golden NEST trace and neurosim's both equal the closed-form PSP to 1e-9 (exp: the
    effect shows from 3.1 ms as for alpha; delta: the jump is in V_m at 3.0 ms already,
    NEST adds it after the propagation of the step it arrives in)."""
    case = golden_case(model, "psp")
    trains, v = run_golden(model, case, backend=backend)
    t = np.arange(1, v.shape[0] + 1) * DT_MS - 3.0                 # samples at 0.1 .. 7.0 ms
    w = case["connections"][0][3]
    if model == "iaf_psc_exp":
        expected = np.where(t >= 0, v_exp_psp(np.maximum(t, 0), w), -70.0)
    else:
        expected = np.where(t >= 0, -70.0 + w * np.exp(-np.maximum(t, 0) / 10.0), -70.0)
    np.testing.assert_allclose(nest_v(case)[:, 0], expected, rtol=1e-9, atol=0)
    np.testing.assert_allclose(v[:, 0], expected, rtol=1e-9, atol=0)
    assert trains == [[]]


# =================================================================== 2. golden NEST runs
GOLDEN = [(m, c["name"]) for m in SYNAPSE for c in golden(m)["cases"]]


@pytest.mark.parametrize("model,name", GOLDEN, ids=[f"{m}-{c}" for m, c in GOLDEN])
def test_golden_nest(backend, model, name):
    """Same spikes (every neuron, the whole run) and V_m (to 1e-9 relative, t <= t_v) as
    NEST 3 on the stored network."""
    case = golden_case(model, name)
    trains, v = run_golden(model, case, backend=backend)
    assert trains == nest_steps(case)
    np.testing.assert_allclose(v, nest_v(case), rtol=1e-9, atol=0)


def test_golden_settings():
    """The NEST settings the mapping relies on, as recorded by nest_golden.py: resolution
    0.1 ms, one thread, on-grid spike generators, deterministic threshold (iaf_psc_exp
    delta = 0), no V_min clip, delta inputs during refractoriness discarded."""
    for model in list(SYNAPSE) + ["iaf_cond_exp"]:
        doc = golden(model)
        assert doc["nest_version"].startswith("3.")
        k = doc["settings"]["kernel"]
        assert k["resolution"] == DT_MS and k["local_num_threads"] == 1
        assert not k["off_grid_spiking"]
        assert doc["settings"]["spike_generator"]["precise_times"] is False
        assert doc["settings"]["multimeter"]["interval"] == DT_MS
        for case in doc["cases"]:
            for p in case["neurons"]:
                assert p.get("delta", 0.0) == 0.0
                assert p.get("V_min", -1e308) < -1e300
                assert p.get("refractory_input", False) is False
    assert sum(os.path.getsize(os.path.join(DATA, f)) for f in os.listdir(DATA)
               if f.startswith("nest_iaf_")) < 200_000     # the neuron models' golden runs


# =================================================================== 3. the conventions differ
@pytest.mark.parametrize("model", list(SYNAPSE))
def test_brian2_convention_releases_one_step_earlier(backend, model):
    """The dc_refractory network with convention="brian2": neurons with t_ref = 0 spike as
    in NEST; with t_ref = R steps >= 1 a neuron is free one step earlier (after a spike at s,
    Brian2 integrates step s + R, NEST holds it), so each ISI is one step shorter, and the
    NEST-convention run is the one that matches NEST."""
    case = golden_case(model, "dc_refractory")
    want = nest_steps(case)
    nest_trains, _ = run_golden(model, case, "nest", backend)
    b2_trains, b2_v = run_golden(model, case, "brian2", backend)
    assert nest_trains == want
    for i, p in enumerate(case["neurons"]):
        R = steps(p["t_ref"])
        if R == 0:
            assert b2_trains[i] == want[i]
        elif len(want[i]) >= 2:
            assert b2_trains[i] != want[i]
            assert b2_trains[i][0] == want[i][0]
            # between the first two spikes: the same ISI, one step shorter
            assert b2_trains[i][1] - b2_trains[i][0] == want[i][1] - want[i][0] - 1
            s = want[i][0]
            v_nest = nest_v(case)[:, i]             # row k-1 = sample k
            # sample s+R+1 (after step s+R): NEST holds it at V_reset, Brian2 integrated it
            assert v_nest[s + R] == p["V_reset"]
            assert b2_v[s + R, i] > p["V_reset"]
            assert v_nest[s + R + 1] > p["V_reset"]


def test_delta_conventions_during_refractoriness(backend):
    """iaf_psc_delta's refractory_input case: a +3 mV input arriving on the step after the
    spike (s + 1) is discarded by NEST (convention="nest": V_m stays at V_reset) and by
    Brian2 too (convention="brian2": Brian2 makes every write to a variable marked
    "(unless refractory)", on_pre "v_post += w" included, conditional on not_refractory);
    an input on the first free step (s + R + 1) counts in both. A 20 mV input into a resting
    neuron: NEST adds it after the propagation of the step it arrives in (spike in that
    step: 3.1 ms), Brian2 in the synapses slot after the threshold (spike a step later)."""
    model = "iaf_psc_delta"
    case = golden_case(model, "refractory_input")
    nest_trains, v_n = run_golden(model, case, "nest", backend)
    b2_trains, v_b = run_golden(model, case, "brian2", backend)
    assert nest_trains == nest_steps(case)
    s, R = 47, 20
    assert [t[0] for t in nest_trains[:5]] == [s] * 5
    # neuron 0: +3 mV at step s + 1 (sample s + 2 = row s + 1)
    assert case["connections"][0][3] == 3.0
    assert nest_v(case)[s + 1, 0] == -70.0 and v_n[s + 1, 0] == pytest.approx(-70.0, abs=1e-12)
    assert np.all(v_b[s + 1:s + R - 1, 0] == -70.0)   # dropped, held (Brian2: free at s+R)
    # neuron 2: +3 mV on the first free step s + R + 1: both add it (after integration)
    v_free = v_dc(DT_MS, 1000.0)
    assert nest_v(case)[s + R + 1, 2] == pytest.approx(v_free + 3.0, rel=1e-9)
    assert v_n[s + R + 1, 2] == pytest.approx(v_free + 3.0, rel=1e-9)
    # neuron 5: 20 mV at step 30 into a resting neuron; Brian2 records v = E_L + 20 mV at
    # the start of step 31 (added in the synapses slot of step 30), then it spikes
    assert nest_trains[5] == [30] and b2_trains[5] == [31]
    assert v_b[29, 5] == pytest.approx(-70.0, abs=1e-9)
    assert v_b[30, 5] == pytest.approx(-50.0, abs=1e-9)
    assert v_n[30, 5] == pytest.approx(-70.0, abs=1e-9)          # NEST: reset in step 30
    np.testing.assert_allclose(v_n, nest_v(case), rtol=1e-9, atol=0)


@pytest.mark.parametrize("model", ["iaf_psc_exp", "iaf_psc_alpha"])
def test_current_inputs_during_refractoriness(backend, model):
    """exp and alpha: an input that arrives while the neuron is refractory is kept in the
    synaptic current in both conventions (NEST and Brian2 agree), so only the release step
    differs; with convention="nest" the run matches NEST, with "brian2" the V_m trace after
    the first spike does not."""
    case = golden_case(model, "refractory_input")
    nest_trains, v_n = run_golden(model, case, "nest", backend)
    b2_trains, v_b = run_golden(model, case, "brian2", backend)
    assert nest_trains == nest_steps(case)
    np.testing.assert_allclose(v_n, nest_v(case), rtol=1e-9, atol=0)
    s = 47
    # neurons 0-4 spike first at step s = 47 (neuron 4 with t_ref = 0: the conventions agree)
    np.testing.assert_allclose(v_b[:s + 20, :5], nest_v(case)[:s + 20, :5], rtol=1e-9, atol=0)
    np.testing.assert_allclose(v_b[:, 4], nest_v(case)[:, 4], rtol=1e-9, atol=0)
    assert not np.allclose(v_b[:, :4], nest_v(case)[:, :4], rtol=1e-6, atol=0)


# =================================================================== 4. iaf_cond_exp (loose)
def test_cond_exp_spike_counts_near_nest():
    """iaf_cond_exp under fixed input for 1 s: NEST integrates it with adaptive RK45 (GSL),
    neurosim with exponential Euler at dt = 0.1 ms (first order in dt), so spikes do not
    coincide; the spike counts per neuron agree within 15 % (or 2 spikes). Not a test of
    equality."""
    doc = golden("iaf_cond_exp")
    (case,) = doc["cases"]
    nrn = case["neurons"]
    P = {k: np.array([p[k] for p in nrn], dtype=float) for k in nrn[0]}
    tau_m = P["C_m"] / P["g_L"]
    net = ns.Network(dt=DT)
    pop = net.lif(n=len(nrn), tau_m=tau_m * ms, tau_syn=(P["tau_syn_ex"] * ms,
                                                          P["tau_syn_in"] * ms),
                  v_rest=P["E_L"] * mV, v_th=P["V_th"] * mV, v_reset=P["V_reset"] * mV,
                  t_ref=P["t_ref"] * ms, v_init=P["V_m"] * mV, bias=P["I_e"] / P["g_L"] * mV,
                  synapse="cond_exp", e_exc=P["E_ex"] * mV, e_inh=P["E_in"] * mV,
                  c_m=P["C_m"] * 1e-12, convention="nest")
    gens = case["generators"]
    st = np.concatenate([[steps(t) - 1 for t in g] for g in gens]).astype(np.int64)
    ix = np.concatenate([[i] * len(g) for i, g in enumerate(gens)]).astype(np.int64)
    src = net.spike_source(n=len(gens), times=st * DT, indices=ix)
    c = case["connections"]
    net.connect(src, pop, weight=np.array([x[3] for x in c]) * 1e-9,
                delay=np.array([steps(x[4]) for x in c]) * DT,
                pairs=(np.array([x[1] for x in c]), np.array([x[2] for x in c])))
    sp = net.spike_monitor(pop)
    net.run(case["t_sim"] * ms)
    got = sp.counts
    want = np.array([len(s) for s in case["spikes"]])
    print("iaf_cond_exp spike counts, neurosim", got.tolist(), "NEST", want.tolist())
    assert np.all(np.abs(got - want) <= np.maximum(2, 0.15 * want)), (got, want)
