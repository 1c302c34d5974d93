"""Golden NEST runs for tests/test_models_nest.py (iaf_psc_exp, iaf_psc_alpha, iaf_psc_delta,
iaf_cond_exp): small networks whose spike times and V_m traces neurosim's convention="nest"
must reproduce.

    python benchmarks/peers/nest_golden.py            # writes tests/data/nest_<model>.json

Runs in NEST's own virtual environment (NEST ships wheels for Python 3.11, not 3.10):

    python -c "import sys; sys.path.insert(0, 'benchmarks'); import run_suite; \\
               print(run_suite.nest_python())"       # makes benchmarks/.venv-nest once
    benchmarks/.venv-nest/bin/python benchmarks/peers/nest_golden.py

Each JSON file holds the NEST version, the kernel settings, the model's defaults, and per
case everything needed to rebuild the network elsewhere, in NEST's units (ms, mV, pA, pF,
nS): per-neuron parameters as NEST reports them after creation, spike_generator times,
dc_generators, the explicit connection list (pre, post, weight, delay), then what NEST
recorded: spike times per neuron (NEST stamps: the end of the step in which the neuron
crossed threshold) and V_m per neuron from a multimeter with interval = resolution (the value
at time t is the state after the update step that ends at t; samples t = dt, 2 dt, ...,
t_sim). V_m values are rounded to 11 significant digits (the tests compare to 1e-9).

Nothing here is random at run time: the "random" cases are drawn once from a seeded NumPy
generator, and the drawn network is stored. iaf_cond_exp is integrated by NEST with an
adaptive RK45 (GSL) solver, so its file is for a loose comparison only (spike counts).

The tests map the cases onto neurosim with convention="nest" (see tests/test_models_nest.py):
NEST delay d*dt <-> neurosim delay d steps; a NEST spike_generator time T <-> a neurosim
spike_source time T - dt; a NEST spike stamp T <-> a neurosim spike at T - dt; bias (V) =
I_e * tau_m / C_m; exp and alpha weights (V) = w_pA * tau_m / C_m; delta weights are mV.
"""

import argparse
import json
import os
import platform
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DT = 0.1

PSC_KEYS = ["C_m", "tau_m", "t_ref", "E_L", "V_th", "V_reset", "I_e", "V_m"]
KEYS = {
    "iaf_psc_exp": PSC_KEYS + ["tau_syn_ex", "tau_syn_in", "delta", "rho"],
    "iaf_psc_alpha": PSC_KEYS + ["tau_syn_ex", "tau_syn_in", "V_min"],
    "iaf_psc_delta": PSC_KEYS + ["V_min", "refractory_input"],
    "iaf_cond_exp": [k for k in PSC_KEYS if k != "tau_m"] + ["g_L", "E_ex", "E_in",
                                                             "tau_syn_ex", "tau_syn_in"],
}
#: Weights of the hand-written cases: exp and alpha in pA (PSC amplitude / peak), delta in mV.
W = {"iaf_psc_exp": 1.0, "iaf_psc_alpha": 1.0, "iaf_psc_delta": 0.01}


def _g(x, digits=11):
    return float(f"{x:.{digits}g}")


# ----------------------------------------------------------------------------- the cases
def regression_cases(model):
    """NEST's own regression set-ups (testsuite/pytests/neurons/test_iaf_psc_alpha.py,
    test_iaf_psc_exp.py, test_iaf_psp.py, test_iaf_psc_alpha_1to2.py), at full precision."""
    w = W[model]
    cases = [
        dict(name="i0", ref="test_iaf_psc_alpha.py::test_iaf_psc_alpha_i0",
             neurons=[dict(I_e=1000.0)], t_sim=8.0),
        dict(name="i0_refractory",
             ref="test_iaf_psc_alpha.py::test_iaf_psc_alpha_i0_refractory (h = 0.1)",
             neurons=[dict(I_e=1450.0)], t_sim=8.0),
        dict(name="dc", ref="test_iaf_psc_alpha.py::test_iaf_psc_alpha_basic, "
                            "test_iaf_psc_exp.py::test_iaf_psc_exp_dc_input",
             neurons=[dict()], dc=[dict(amplitude=1000.0, start=0.0, stop=None, target=0,
                                        delay=DT)], t_sim=8.0),
        dict(name="psp", ref="test_iaf_psp.py::test_iaf_psp_aligned_impact (h = 0.1)",
             neurons=[dict()], generators=[[2.0]],
             connections=[["gen", 0, 0, 100.0 * w, 1.0]], t_sim=7.0),
        dict(name="1to2", ref="test_iaf_psc_alpha_1to2.py::test_1to2 (0.1, 1.0)",
             neurons=[dict(I_e=1450.0), dict()],
             connections=[["nrn", 0, 1, 100.0 * w, 1.0]], t_sim=8.0),
    ]
    return cases


def dc_refractory_case(model):
    """Constant I_e, several refractory periods (0 included), V_reset != E_L, per-neuron
    tau_m and C_m, V_m(0) != E_L."""
    nrn = [dict(I_e=1000.0),                                   # NEST's test_iaf_psc_alpha_i0
           dict(I_e=1450.0, t_ref=0.0),                        # no refractory period
           dict(I_e=2000.0, t_ref=0.1),                        # one step
           dict(I_e=900.0, t_ref=3.3, V_reset=-75.0, tau_m=15.0, C_m=300.0, V_m=-60.0),
           dict(I_e=376.0, t_ref=0.5, E_L=-65.0, V_th=-50.0, V_reset=-67.0, tau_m=8.0,
                C_m=200.0),
           dict(I_e=0.0, V_m=-56.0)]                           # decays from below threshold
    return dict(name="dc_refractory", neurons=nrn, t_sim=25.0, t_v=12.0)


def refractory_input_case(model):
    """One input each, arriving (steps counted as neurosim's) right after the neuron's first
    spike s (s+1), on the last held step (s+R), on the first free step (s+R+1) and after
    (s+R+2), and for t_ref = 0 on the step after the spike; plus a delta input that alone
    makes a resting neuron spike. Neurons 0-4 spike first at s = 47 (NEST stamp 4.8 ms),
    R = 20 (t_ref 2 ms) for 0-3. Also inhibitory (negative) inputs."""
    s, R = 47, 20
    w = {"iaf_psc_exp": 300.0, "iaf_psc_alpha": 300.0, "iaf_psc_delta": 3.0}[model]
    nrn = [dict(I_e=1000.0) for _ in range(4)] + [dict(I_e=1000.0, t_ref=0.0)]
    arrive = [s + 1, s + R, s + R + 1, s + R + 2, s + 1]
    # a spike arriving at neurosim step A with delay D steps leaves the source at step
    # A - D, i.e. NEST spike_generator time (A - D + 1) * dt
    delays = [1, 3, 10, 1, 2]
    gens, conns = [], []
    for i, (a, d) in enumerate(zip(arrive, delays)):
        gens.append([round((a - d + 1) * DT, 10)])
        conns.append(["gen", i, i, w if i % 2 == 0 else -w, round(d * DT, 10)])
    # neuron 5: a resting neuron kicked over threshold by one input (delta: 20 mV) at step 30
    big = {"iaf_psc_exp": 6000.0, "iaf_psc_alpha": 3000.0, "iaf_psc_delta": 20.0}[model]
    nrn.append(dict())
    gens.append([round((30 - 2 + 1) * DT, 10)])
    conns.append(["gen", 5, 5, big, 0.2])
    return dict(name="refractory_input", neurons=nrn, generators=gens, connections=conns,
                t_sim=10.0)


def network_case(model):
    """Hand-written network: spike generators, recurrent connections, delays of 1, 3, 5, 13,
    20, 25 steps, excitatory and inhibitory, different tau_syn_ex/in, t_ref 0 and > 0."""
    w = W[model]
    nrn = [dict(t_ref=2.0),
           dict(I_e=1000.0, t_ref=2.0),
           dict(I_e=1450.0, t_ref=0.0),
           dict(I_e=800.0, t_ref=0.1, V_reset=-72.0, tau_m=15.0, C_m=200.0),
           dict(t_ref=3.0, V_reset=-65.0, tau_m=20.0, C_m=300.0)]
    if model != "iaf_psc_delta":
        for k, (te, ti) in enumerate([(2.0, 5.0), (0.5, 3.0), (3.0, 1.0), (1.5, 8.0),
                                      (4.0, 2.0)]):
            nrn[k].update(tau_syn_ex=te, tau_syn_in=ti)
    gens = [[1.0, 1.5, 3.2, 5.0, 5.1, 8.8, 12.0, 12.1, 12.2, 17.5],
            [2.0, 4.0, 5.6, 7.3, 8.0, 15.0, 15.1, 21.4]]
    big = 1000.0 if model != "iaf_psc_delta" else 800.0
    conns = [["gen", 0, 0, big * w, 0.1],
             ["gen", 1, 0, 0.6 * big * w, 0.3],
             ["gen", 0, 1, 500.0 * w, 1.0],
             ["gen", 1, 1, -400.0 * w, 0.5],
             ["gen", 1, 2, -700.0 * w, 0.1],
             ["nrn", 0, 1, -300.0 * w, 0.3],
             ["nrn", 1, 3, 600.0 * w, 2.5],
             ["nrn", 2, 3, -250.0 * w, 1.0],
             ["nrn", 0, 4, 900.0 * w, 0.1],
             ["nrn", 1, 4, 700.0 * w, 0.5],
             ["nrn", 2, 4, 300.0 * w, 1.3],
             ["nrn", 3, 4, 500.0 * w, 2.0],
             ["gen", 1, 4, -200.0 * w, 0.2],
             ["nrn", 4, 0, 400.0 * w, 1.0]]
    return dict(name="network", neurons=nrn, generators=gens, connections=conns, t_sim=25.0,
                t_v=15.0)


def random_case(model, seed, n=8, n_gen=4, t_sim=100.0, t_v=12.0):
    """A seeded random network (drawn here, stored): per-neuron parameters, Poisson-like
    generator times on the grid, random exc/inh weights and delays of 1-30 steps. V_m is
    stored for t <= t_v only (size of the file); spikes for the whole run."""
    rng = np.random.default_rng(seed)
    nrn = []
    for i in range(n):
        tau_m = float(np.round(rng.uniform(5.0, 20.0), 3))
        c_m = float(np.round(rng.uniform(150.0, 300.0), 3))
        e_l = -70.0
        v_th = float(np.round(rng.uniform(-56.0, -50.0), 3))
        p = dict(tau_m=tau_m, C_m=c_m, E_L=e_l, V_th=v_th,
                 V_reset=float(np.round(rng.uniform(-75.0, -65.0), 3)),
                 t_ref=float(rng.choice([0.0, 0.1, 0.5, 1.0, 2.0, 3.7])),
                 V_m=float(np.round(rng.uniform(-70.0, v_th - 1.0), 3)),
                 I_e=float(np.round((v_th - e_l + rng.uniform(-3.0, 5.0)) * c_m / tau_m, 3)))
        if model != "iaf_psc_delta":
            p.update(tau_syn_ex=float(np.round(rng.uniform(0.5, 5.0), 3)),
                     tau_syn_in=float(np.round(rng.uniform(1.0, 10.0), 3)))
        nrn.append(p)
    gens = []
    for g in range(n_gen):
        steps = np.unique(rng.integers(1, int(round(t_sim / DT)) - 5, size=int(t_sim * 0.08)))
        gens.append([round(float(k) * DT, 10) for k in steps])
    conns = []
    scale = {"iaf_psc_exp": 1.0, "iaf_psc_alpha": 0.6, "iaf_psc_delta": 0.012}[model]
    for pre_kind, n_pre, p_conn in (("gen", n_gen, 0.5), ("nrn", n, 0.3)):
        for i in range(n_pre):
            for j in range(n):
                if (pre_kind == "nrn" and i == j) or rng.random() >= p_conn:
                    continue
                w = rng.uniform(100.0, 600.0) * (1 if rng.random() < 0.7 else -1.5)
                conns.append([pre_kind, i, j, float(np.round(w * scale, 4)),
                              round(int(rng.integers(1, 31)) * DT, 10)])
    return dict(name=f"random_{seed}", neurons=nrn, generators=gens, connections=conns,
                t_sim=t_sim, t_v=t_v)


def cond_exp_case(seed=7, n=4, t_sim=1000.0):
    """iaf_cond_exp under fixed pseudo-Poisson input (for a loose spike-count comparison:
    NEST integrates it with adaptive RK45, neurosim with exponential Euler)."""
    rng = np.random.default_rng(seed)
    nrn = [dict(I_e=float(100.0 * k), t_ref=float([2.0, 0.0, 0.5, 5.0][k]),
                V_reset=-60.0, V_th=-50.0, tau_syn_ex=5.0, tau_syn_in=10.0) for k in range(n)]
    gens, conns = [], []
    for g in range(8):
        steps = np.unique(rng.integers(1, int(round(t_sim / DT)) - 5, size=int(t_sim * 0.1)))
        gens.append([round(float(k) * DT, 10) for k in steps])
        for j in range(n):
            w = 6.0 if g < 6 else -30.0       # nS: 6 excitatory, 2 inhibitory generators
            conns.append(["gen", g, j, w, round(float(1 + (g + j) % 7) * DT, 10)])
    return dict(name="cond_exp_poisson", neurons=nrn, generators=gens, connections=conns,
                t_sim=t_sim, t_v=10.0)


# ----------------------------------------------------------------------------- running
def run_case(nest, model, case):
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1)
    nodes = nest.Create(model, len(case["neurons"]))
    for k, p in enumerate(case["neurons"]):
        if p:
            nodes[k].set(p)
    gens = [nest.Create("spike_generator", params={"spike_times": list(t),
                                                   "precise_times": False})
            for t in case.get("generators", [])]
    for d in case.get("dc", []):
        prm = {"amplitude": d["amplitude"], "start": d["start"]}
        if d["stop"] is not None:
            prm["stop"] = d["stop"]
        dc = nest.Create("dc_generator", params=prm)
        nest.Connect(dc, nodes[d["target"]], syn_spec={"weight": 1.0, "delay": d["delay"]})
    for kind, i, j, w, d in case.get("connections", []):
        pre = gens[i] if kind == "gen" else nodes[i]
        nest.Connect(pre, nodes[j], syn_spec={"synapse_model": "static_synapse",
                                              "weight": w, "delay": d})
    mm = nest.Create("multimeter", params={"interval": DT, "record_from": ["V_m"]})
    nest.Connect(mm, nodes)
    sr = nest.Create("spike_recorder")
    nest.Connect(nodes, sr)
    params = [{k: (v if not isinstance(v, (np.floating, np.integer, np.bool_)) else v.item())
               for k, v in nodes[k].get(KEYS[model]).items()} for k in range(len(nodes))]
    t_sim = case["t_sim"]
    # the multimeter delivers its data with the kernel's min_delay: simulate past t_sim and
    # keep t <= t_sim
    nest.Simulate(t_sim + nest.GetKernelStatus("min_delay"))
    ev, sp = mm.events, sr.events
    t_v = case.get("t_v", t_sim)
    n_v = int(round(t_v / DT))
    v = []
    for k, node in enumerate(nodes):
        sel = ev["senders"] == node.global_id
        times, vm = ev["times"][sel], ev["V_m"][sel]
        order = np.argsort(times)
        times, vm = times[order], vm[order]
        assert np.allclose(times[:n_v], DT * np.arange(1, n_v + 1)), times[:5]
        v.append([_g(x) for x in vm[:n_v]])
    spikes = []
    for node in nodes:
        sel = (sp["senders"] == node.global_id) & (sp["times"] <= t_sim + 1e-9)
        spikes.append([round(float(t), 10) for t in np.sort(sp["times"][sel])])
    out = dict(case)
    out["neurons"] = params
    out["t_v"] = t_v
    out["spikes"] = spikes
    out["V_m"] = v
    out["min_delay"] = nest.GetKernelStatus("min_delay")
    out["max_delay"] = nest.GetKernelStatus("max_delay")
    return out


def settings(nest, model):
    """The kernel as every case sets it (min_delay and max_delay are per case), the model's
    defaults and the devices' settings."""
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1)
    ks = nest.GetKernelStatus()
    keep = ["resolution", "tics_per_ms", "ms_per_tic", "tics_per_step", "local_num_threads",
            "total_num_virtual_procs", "rng_type", "off_grid_spiking"]
    kernel = {k: (ks[k].item() if hasattr(ks[k], "item") else ks[k]) for k in keep if k in ks}
    d = nest.GetDefaults(model)
    defaults = {k: (d[k].item() if hasattr(d[k], "item") else d[k]) for k in KEYS[model]}
    sg = nest.GetDefaults("spike_generator")
    mm = nest.GetDefaults("multimeter")
    ss = nest.GetDefaults("static_synapse")
    return dict(
        kernel=kernel, model_defaults=defaults,
        spike_generator=dict(precise_times=False, allow_offgrid_times=bool(
            sg.get("allow_offgrid_times", False)), shift_now_spikes=bool(
            sg.get("shift_now_spikes", False))),
        multimeter=dict(interval=DT, record_from=["V_m"], offset=float(mm.get("offset", 0.0)),
                        origin=float(mm.get("origin", 0.0))),
        synapse=dict(model="static_synapse", receptor_type=int(ss.get("receptor_type", 0))),
        recording="V_m at t is the state after the update step ending at t (t = dt, 2 dt, "
                  "...); spike times are NEST stamps (end of the step of the crossing)",
        simulate="nest.Simulate(t_sim + min_delay), recordings cut at t_sim")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data"))
    args = ap.parse_args()
    import nest
    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:
        nest.set_verbosity("M_ERROR")
    for model in ("iaf_psc_exp", "iaf_psc_alpha", "iaf_psc_delta", "iaf_cond_exp"):
        if model == "iaf_cond_exp":
            cases = [cond_exp_case()]
        else:
            cases = (regression_cases(model) + [dc_refractory_case(model),
                                                refractory_input_case(model),
                                                network_case(model),
                                                random_case(model, seed=18)])
        results = [run_case(nest, model, c) for c in cases]
        doc = dict(
            model=model, nest_version=nest.__version__,
            python=platform.python_version(), platform=platform.platform(),
            generated_by="benchmarks/peers/nest_golden.py (run with benchmarks/.venv-nest)",
            units=dict(time="ms", V="mV", I="pA", C="pF", g="nS",
                       weight={"iaf_psc_exp": "pA (PSC amplitude)",
                               "iaf_psc_alpha": "pA (PSC peak)",
                               "iaf_psc_delta": "mV (jump of V_m)",
                               "iaf_cond_exp": "nS (conductance jump)"}[model]),
            settings=settings(nest, model), cases=results)
        path = os.path.join(args.out, f"nest_{model}.json")
        with open(path, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        print(f"{path}: {os.path.getsize(path) / 1024:.1f} kB, "
              f"{sum(len(c['V_m']) * len(c['V_m'][0]) for c in results)} V_m samples, "
              f"spikes {[sum(map(len, c['spikes'])) for c in results]}", file=sys.stderr)


if __name__ == "__main__":
    main()
