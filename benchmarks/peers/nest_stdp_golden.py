"""Golden NEST runs for tests/test_plasticity_nest.py: the weight of one NEST ``stdp_synapse``
(additive, multiplicative, and a mixed weight dependence) and ``stdp_nn_symm_synapse``
(symmetric nearest-neighbour pairing) driven by given pre- and postsynaptic spike times,
which neurosim's ``STDP(..., delay_split="dendritic")`` (``pairing="all"``, resp.
``"nearest"``) must reproduce.

    benchmarks/.venv-nest/bin/python benchmarks/peers/nest_stdp_golden.py
    # writes tests/data/nest_stdp_synapse.json and tests/data/nest_stdp_nn_symm_synapse.json

(NEST ships wheels for Python 3.11, not 3.10: see benchmarks/peers/nest_golden.py for how
benchmarks/.venv-nest is made.)

Set-up of every case (NEST 3.10, resolution 0.1 ms, one thread)::

    spike_generator --static, 0.1 ms--> parrot_neuron "pre"
    spike_generator --static, 0.1 ms--> parrot_neuron "post" (tau_minus: the rule's)
    pre --stdp synapse, delay d, receptor_type 1--> post

A parrot neuron repeats the spikes of its port 0 one delay later and ignores those of port 1,
so the pre and post spike times are exactly the given ones (a spike_recorder checks it) and
the plastic synapse does not disturb them. d = 1, 2 and 5 steps (0.1, 0.2, 0.5 ms); NEST
takes the whole delay as dendritic: a pair's timing is (t_post + d) - t_pre.

NEST updates the weight lazily, at presynaptic spikes: at a pre spike t_pre it first
facilitates with every post spike of (t_last_pre - d, t_pre - d] (with K+ of the earlier pre
spikes only), then depresses with K- of the post spikes strictly before t_pre - d
(ArchivingNode::get_K_value). So a pair exactly coinciding at the synapse
(t_post + d == t_pre) counts neither way. Every sequence ends with a presynaptic spike after
all postsynaptic spikes have reached the synapse, so the final weight (read with
GetConnections) has seen every spike; a weight_recorder gives the weight after each
presynaptic spike (its time: the pre spike's stamp).

The sequences (NEST spike stamps, ms; per delay where the sequence depends on it):

* ``pairs``: isolated pre/post pairs 60 ms apart at synaptic intervals (t_post + d) - t_pre
  of +-0.1, +-1, +-5, +-20, +-40 ms;
* ``interleaved``: NEST's own hand-written trains (testsuite/pytests/synapses/
  test_stdp_synapse.py, shifted by 1 ms): several pre spikes between post spikes and the
  reverse, pre and post spikes at the same time stamp (which is +d at the synapse);
* ``clip``: bursts of 5 pre (resp. post) spikes 0.5 ms apart and a post (pre) spike 1 ms
  after, 200 ms apart, with lambda = 0.5, so that the weight is clipped at Wmax and at 0
  (all-to-all pairing), then potentiation from 0;
* ``poisson``: pre and post trains drawn once (50 Hz each, 800 ms, seed 19) without pairs
  coinciding at the synapse for any of the delays;
* ``coincident``: post spikes exactly d before 5 (d = 2: 6) of the 9 pre spikes
  (t_post + d == t_pre, which NEST counts neither way), pre and post spikes at the same
  stamp, two pre spikes 0.1 ms apart.

Every sequence but ``coincident`` has no pair with t_post + d == t_pre, and in every
sequence the first spike to reach the synapse is a presynaptic one: NEST's
stdp_nn_symm_synapse starts with t_lastspike_ = 0, so a post spike before the first pre
spike is paired with a presynaptic spike at t = 0 that never happened (checked below,
``nn_symm_quirk`` in the JSON); stdp_synapse has K+ = 0 then and is not affected.

The JSON holds the NEST version, the kernel settings, per family the synapse model and its
parameters, the sequences (steps, and the stamps as recorded), and per case (family,
delay, sequence) the synapse's status as NEST reports it after the run, the weights after
each presynaptic spike and the final weight.
"""

import argparse
import json
import math
import os
import platform
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DT = 0.1                                   # ms
DELAYS = (1, 2, 5)                         # steps
TAU_MINUS = 20.0                           # ms, on the postsynaptic parrot neuron
COMMON = {"lambda": 0.01, "alpha": 0.85, "tau_plus": 16.8, "Wmax": 100.0, "weight": 50.0}
CLIP_LAMBDA = 0.5
FAMILIES = {
    "nest_stdp_synapse": {
        "add": dict(synapse_model="stdp_synapse", mu_plus=0.0, mu_minus=0.0),
        "mult": dict(synapse_model="stdp_synapse", mu_plus=1.0, mu_minus=1.0),
        "mixed": dict(synapse_model="stdp_synapse", mu_plus=0.4, mu_minus=0.7),
    },
    "nest_stdp_nn_symm_synapse": {
        "nn_add": dict(synapse_model="stdp_nn_symm_synapse", mu_plus=0.0, mu_minus=0.0),
        "nn_mult": dict(synapse_model="stdp_nn_symm_synapse", mu_plus=1.0, mu_minus=1.0),
    },
}


def ms(step):
    return round(step * DT, 10)


# ----------------------------------------------------------------------------- sequences
def seq_pairs(d):
    gaps = [1, 10, 50, 200, -1, -10, -50, -200, 400, -400]        # steps, at the synapse
    pre, post = [], []
    for k, g in enumerate(gaps):
        t = 100 + 600 * k
        pre.append(t)
        post.append(t + g - d)
    pre.append(100 + 600 * len(gaps))
    return pre, sorted(post)


def seq_interleaved(d):
    pre = [1, 5, 6, 7, 9, 11, 12, 13, 14.5, 16.1, 21, 25, 26, 27, 29, 31, 32, 33, 34.5, 36.1]
    post = [2, 3, 4, 8, 9, 10, 12, 12.2, 14.1, 15.4, 22, 23, 24, 28, 29, 30, 32, 33.2, 35.1,
            36.4]
    pre = [int(round((t + 1.0) / DT)) for t in pre] + [450]
    post = [int(round((t + 1.0) / DT)) for t in post]
    return pre, post


def seq_clip(d):
    pre, post = [], []
    for b in (100, 2100, 4100):                   # 5 pre spikes, a post spike 1 ms after
        pre += [b + 5 * i for i in range(5)]
        post.append(b + 30 - d)
    for b in (6100, 8100, 10100, 12100):          # 5 post spikes, a pre spike 1 ms after
        post += [b + 5 * i for i in range(5)]
        pre.append(b + 30 + d)
    for b in (14100, 16100):                      # potentiation from 0
        pre.append(b)
        post.append(b + 10 - d)
    pre.append(18100)
    return pre, post


def seq_poisson(d, seed=19, rate_hz=50.0, n_steps=8000):
    rng = np.random.default_rng(seed)
    p = rate_hz * DT * 1e-3
    pre = np.flatnonzero(rng.random(n_steps) < p)
    post = np.flatnonzero(rng.random(n_steps) < p)
    pre = pre[pre >= 10]
    post = post[post > pre[0]]                     # a pre spike first (nn_symm's t = 0)
    bad = np.zeros(post.size, bool)
    for dd in DELAYS:                              # no pair coinciding at the synapse
        bad |= np.isin(post + dd, pre)
    post = post[~bad]
    pre = np.append(pre[pre < post[-1] + 20], post[-1] + 20)
    return pre.tolist(), post.tolist()


def seq_coincident(d):
    pre = [20, 50, 100, 105, 200, 300, 301, 400, 550]
    post = [50 - d, 100 - d, 103, 200 - d, 200, 301 - d, 350, 400 - d, 400]
    return pre, post


SEQUENCES = {"pairs": seq_pairs, "interleaved": seq_interleaved, "clip": seq_clip,
             "poisson": seq_poisson, "coincident": seq_coincident}


def coincident_pairs(pre, post, d):
    return sorted(set(pre) & {q + d for q in post})


# ----------------------------------------------------------------------------- NEST
def run_case(nest, params, d, pre, post):
    """One plastic synapse between two parrot neurons; pre and post are the spike steps
    (NEST stamps / dt). Returns (recorded pre and post stamps, weight_recorder times and
    weights, final weight, the synapse's status)."""
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1)
    gp = nest.Create("spike_generator", params={"spike_times": [ms(s - 1) for s in pre]})
    gq = nest.Create("spike_generator", params={"spike_times": [ms(s - 1) for s in post]})
    a = nest.Create("parrot_neuron")
    b = nest.Create("parrot_neuron", params={"tau_minus": TAU_MINUS})
    nest.Connect(gp, a, syn_spec={"synapse_model": "static_synapse", "delay": DT})
    nest.Connect(gq, b, syn_spec={"synapse_model": "static_synapse", "delay": DT})
    wr = nest.Create("weight_recorder")
    model = params["synapse_model"]
    nest.CopyModel(model, model + "_rec", {"weight_recorder": wr})
    spec = dict(params, synapse_model=model + "_rec", receptor_type=1, delay=ms(d))
    nest.Connect(a, b, syn_spec=spec)
    sr = nest.Create("spike_recorder")
    nest.Connect(a + b, sr)
    t_sim = ms(max(pre[-1], post[-1]) + 20)
    nest.Simulate(t_sim)
    ev = sr.events

    def on_grid(times):
        steps = [int(round(float(t) / DT)) for t in times]
        assert np.allclose(times, np.array(steps) * DT, rtol=0, atol=1e-9)
        return steps

    got_pre = sorted(on_grid(ev["times"][ev["senders"] == a.global_id]))
    got_post = sorted(on_grid(ev["times"][ev["senders"] == b.global_id]))
    assert got_pre == list(pre), sorted(set(got_pre) ^ set(pre))
    assert got_post == list(post), sorted(set(got_post) ^ set(post))
    conn = nest.GetConnections(a, b)
    status = {k: (v.item() if hasattr(v, "item") else v) for k, v in conn.get().items()
              if k in ("weight", "Wmax", "lambda", "alpha", "mu_plus", "mu_minus",
                       "tau_plus", "delay", "receptor", "Kplus", "t_lastspike")}
    w_final = float(conn.get("weight"))
    order = np.argsort(wr.events["times"], kind="stable")
    assert on_grid(wr.events["times"][order]) == list(pre)
    weights = [float(w) for w in wr.events["weights"][order]]
    assert weights[-1] == w_final
    return dict(t_sim=t_sim, pre_ms=[ms(s) for s in got_pre],
                post_ms=[ms(s) for s in got_post], weights=weights,
                w_final=w_final, status=status, tau_minus=b.get("tau_minus"))


def nn_symm_quirk(nest):
    """stdp_nn_symm_synapse pairs a post spike before the first pre spike with a pre spike
    at t = 0 (t_lastspike_ starts at 0); stdp_synapse (K+ = 0) does not."""
    out = {}
    pre, post, d = [50, 200], [30], 1
    for model in ("stdp_synapse", "stdp_nn_symm_synapse"):
        prm = dict(COMMON, synapse_model=model, mu_plus=0.0, mu_minus=0.0)
        r = run_case(nest, prm, d, pre, post)
        lam, al, tp = COMMON["lambda"], COMMON["alpha"], COMMON["tau_plus"]
        t_q, t_p = ms(post[0]), [ms(s) for s in pre]
        dep = al * lam * (math.exp(-(t_p[0] - ms(d) - t_q) / TAU_MINUS)
                          + math.exp(-(t_p[1] - ms(d) - t_q) / TAU_MINUS))
        without = 0.5 - dep
        with_t0 = 0.5 + lam * math.exp(-(t_q + ms(d)) / tp) - dep
        w = r["w_final"] / COMMON["Wmax"]
        out[model] = dict(pre_ms=t_p, post_ms=[t_q], delay_ms=ms(d), w_final=r["w_final"],
                          matches_no_pre_at_0=abs(w - without) < 1e-12,
                          matches_a_pre_at_0=abs(w - with_t0) < 1e-12)
    assert out["stdp_synapse"]["matches_no_pre_at_0"]
    assert out["stdp_nn_symm_synapse"]["matches_a_pre_at_0"]
    return out


def settings(nest):
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1)
    ks = nest.GetKernelStatus()
    keep = ["resolution", "tics_per_ms", "ms_per_tic", "tics_per_step", "local_num_threads",
            "total_num_virtual_procs", "off_grid_spiking"]
    kernel = {k: (ks[k].item() if hasattr(ks[k], "item") else ks[k]) for k in keep if k in ks}
    kernel["min_delay"] = DT
    kernel["max_delay (per case)"] = "the plastic delay (0.1 to 0.5 ms)"
    return dict(
        kernel=kernel,
        network="spike_generator -(static, 0.1 ms)-> parrot_neuron pre; spike_generator "
                "-(static, 0.1 ms)-> parrot_neuron post (tau_minus set); pre -(plastic, "
                "delay d, receptor_type 1)-> post",
        generator_times="spike stamps - 0.1 ms", tau_minus=TAU_MINUS,
        simulate="nest.Simulate(last spike + 2 ms); weights: weight_recorder (after each "
                 "pre spike, at its stamp) and GetConnections (final)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data"))
    args = ap.parse_args()
    import nest
    nest.verbosity = nest.VerbosityLevel.ERROR            # NEST >= 3.9
    quirk = nn_symm_quirk(nest)
    for fname, families in FAMILIES.items():
        seqs = {}
        for name, fn in SEQUENCES.items():
            seqs[name] = {}
            for d in DELAYS:
                pre, post = fn(d)
                assert pre == sorted(set(pre)) and post == sorted(set(post))
                assert pre[0] < post[0] + d and pre[-1] > post[-1] + d and post[0] >= 2
                co = coincident_pairs(pre, post, d)
                assert bool(co) == (name == "coincident"), (name, d, co)
                seqs[name][str(d)] = dict(pre_steps=pre, post_steps=post,
                                          coincident_pre_steps=co)
        cases, fam_out = [], {}
        for fam, extra in families.items():
            fam_out[fam] = dict(COMMON, **extra)
            for name in SEQUENCES:
                for d in DELAYS:
                    s = seqs[name][str(d)]
                    prm = dict(COMMON, **extra)
                    if name == "clip":
                        prm["lambda"] = CLIP_LAMBDA
                    r = run_case(nest, prm, d, s["pre_steps"], s["post_steps"])
                    s.setdefault("pre_ms", r["pre_ms"])
                    s.setdefault("post_ms", r["post_ms"])
                    cases.append(dict(family=fam, sequence=name, delay_steps=d,
                                      delay_ms=ms(d), params=prm, status=r["status"],
                                      t_sim=r["t_sim"], weights=r["weights"],
                                      w_final=r["w_final"]))
        doc = dict(
            nest_version=nest.__version__, python=platform.python_version(),
            platform=platform.platform(),
            generated_by="benchmarks/peers/nest_stdp_golden.py (run with "
                         "benchmarks/.venv-nest)",
            units=dict(time="ms", weight="NEST's (unitless here: the target is a parrot "
                       "neuron); compare w / Wmax"),
            settings=settings(nest), clip_lambda=CLIP_LAMBDA, families=fam_out,
            sequences=seqs, nn_symm_quirk=quirk,
            note="pre_steps / post_steps: NEST stamps / resolution; weights[k]: the weight "
                 "after pre spike k (weight_recorder); w_final: GetConnections after the run",
            cases=cases)
        path = os.path.join(args.out, f"{fname}.json")
        with open(path, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        print(f"{path}: {os.path.getsize(path) / 1024:.1f} kB, {len(cases)} cases",
              file=sys.stderr)


if __name__ == "__main__":
    main()
