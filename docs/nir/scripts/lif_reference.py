"""Reproduce the NIR paper's single-LIF traces from the graph's parameters.

Research script for issue 20 (docs/nir-design.md), not part of the package.

    pip install nir          # nir 1.0.x (+ h5py); numpy only otherwise
    python docs/nir/scripts/lif_reference.py [--ref ../shared/reference/nir] [--json out.json]

Reads graphs/lif_norse.nir (Input -> Affine(w=1, b=0) -> LIF(tau, r, v_leak, v_threshold)),
takes the input column of lif/lif_exact.csv (34 unit pulses, dt = 1e-4 s), simulates each
platform's discretisation and prints the max abs error of v (in the platform's own units and
in NIR volts) and whether the spike steps agree. Every CSV row k is the state *after* step k
(after the reset), and the input of row k acts in step k (same step).

Discretisations (x[k] = input of step k, I = w x + b, a = dt/tau):

  norse     forward Euler  v <- v + a (v_leak - v + I)  (r ignored by Norse; r = 1 here)
            spike if v > v_th (strict), then v <- v_reset            [float32, Norse's op order]
  snntorch  snnTorch's import: beta = 1 - a, threshold' = v_th / (r a), mem <- beta mem + I,
            spike if mem > threshold', then mem <- 0 (reset_delay=False, reset 'zero');
            mem is v / (r a) (the x25 scale of the CSV)              [float32]
  exact     zero-order hold of I over each step, closed form
            v(s) = v_inf + (v0 - v_inf) exp(-s/tau), v_inf = v_leak + r I; at the crossing
            time s* the reset subtracts v_th (the paper's event-driven ExactLIFNeuron), then
            the rest of the step integrates from there; the spike belongs to the step
            that contains s*                                          [float64]
  exact_endstep   same ZOH closed form, threshold checked only at the end of the step,
            reset to 0 there (what a per-step exact kernel does)      [float64, for comparison]
  sinabs/rockpool  v <- exp(-a) v + r' w x with the input already scaled to a (sinabs: input
            0.04; rockpool: Linear w = 0.04), spike if v >= v_th, reset by subtraction
  spyx      v <- beta v + a I - z_prev v_th, z = (v_prev > v_th): the spike and its
            subtraction come one step late
  lava_cpu_float  Norse's recursion with the input delayed by one step
  nengo     exact_endstep, v reported x10
  lava_*_fixed  Loihi integer LIF (du = 4095, dv = 163, vth = 25 << 6, w = 10 << 6), input
            one step late
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REF = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "reference", "nir"))


def load_graph(ref):
    import nir  # lazy: only this script needs it

    g = nir.read(os.path.join(ref, "graphs", "lif_norse.nir"))
    aff, lif = g.nodes["0"], g.nodes["1"]
    return dict(
        w=aff.weight.astype(np.float32)[0, 0], b=aff.bias.astype(np.float32)[0],
        tau=lif.tau[0], r=lif.r[0], v_leak=lif.v_leak[0], v_th=lif.v_threshold[0],
        v_reset=lif.v_reset[0],
    )


def load_csv(ref, name):
    d = np.loadtxt(os.path.join(ref, "lif", f"lif_{name}.csv"), delimiter=",")
    return d[:, 0], d[:, 1], d[:, 2]


def norse(x, p, dt):
    f = np.float32
    tau_mem_inv = f(1) / f(p["tau"])            # 1 / torch.float32 tensor
    k = f(f(dt) * tau_mem_inv)                  # dt * p.tau_mem_inv
    v = f(0)
    vs, zs = np.zeros(len(x), np.float32), np.zeros(len(x))
    for t, xt in enumerate(x):
        i = f(f(p["w"]) * f(xt) + f(p["b"]))     # torch.nn.Linear
        dv = f(k * f(f(f(p["v_leak"]) - v) + i))
        v = f(v + dv)
        z = v > f(p["v_th"])                    # heaviside: v - v_th > 0
        if z:
            v = f(p["v_reset"])                 # reset_value
        vs[t], zs[t] = v, z
    return vs.astype(float), zs


def snntorch(x, p, dt):
    f = np.float32
    a = f(dt) / f(p["tau"])                      # numpy float32 arithmetic, as in import_nir
    beta = f(f(1) - a)
    w_scale = f(f(p["r"]) * f(dt)) / f(p["tau"])
    thr = f(f(p["v_th"]) / w_scale)
    mem = f(0)
    ms, zs = np.zeros(len(x), np.float32), np.zeros(len(x))
    for t, xt in enumerate(x):
        cur = f(f(p["w"]) * f(xt) + f(p["b"]))
        reset = mem > thr                       # mem_reset(previous mem): 0 after a zero reset
        mem = f(f(1 - reset) * mem)
        mem = f(f(beta * mem) + cur)
        z = mem > thr
        if z:                                   # reset_delay=False: do_reset = spk - reset
            mem = f(mem - f(mem))
        ms[t], zs[t] = mem, z
    return ms.astype(float), zs, float(w_scale)


def exact(x, p, dt, mid_step_reset=True):
    tau, r, vl, th = (float(p[k]) for k in ("tau", "r", "v_leak", "v_th"))
    w, b = float(p["w"]), float(p["b"])
    v = 0.0
    vs, zs = np.zeros(len(x)), np.zeros(len(x))
    for t, xt in enumerate(x):
        v_inf = vl + r * (w * xt + b)
        left, n = dt, 0
        if mid_step_reset:
            while True:
                # time to reach th from v under constant v_inf (paper: calc_next_spike_time)
                s = math.inf
                if v < th < v_inf:
                    s = tau * math.log((v - v_inf) / (th - v_inf))
                if s > left:
                    break
                left -= s
                v = th - th                     # apply_reset: subtract v_th at the crossing
                n += 1
            v = v_inf + (v - v_inf) * math.exp(-left / tau)
        else:
            v = v_inf + (v - v_inf) * math.exp(-dt / tau)
            if v > th:
                v, n = 0.0, 1
        vs[t], zs[t] = v, n
    return vs, zs


def sinabs_like(x, p, dt, in_scale):
    a = dt / float(p["tau"])
    v, th = 0.0, float(p["v_th"])
    vs, zs = np.zeros(len(x)), np.zeros(len(x))
    for t, xt in enumerate(x):
        v = math.exp(-a) * v + in_scale * xt
        n = math.floor(v / th) if v > 0 else 0  # MultiSpike: v >= th gives a spike
        v -= n * th                              # MembraneSubtract
        vs[t], zs[t] = v, n
    return vs, zs


def spyx_like(x, p, dt):
    a = dt / float(p["tau"])
    beta, th = 1.0 - a, float(p["v_th"])
    v = 0.0
    vs, zs = np.zeros(len(x)), np.zeros(len(x))
    for t, xt in enumerate(x):
        z = v > th                               # spike from the previous step's v
        v = beta * v + a * float(p["r"]) * xt - z * th
        vs[t], zs[t] = v, z
    return vs, zs


def lava_float_like(x, p, dt):
    xd = np.concatenate([[0.0], x[:-1]])         # one step of synaptic delay
    return norse(xd, p, dt)


def lava_fixed_like(x, p, dt):
    """Lava's bit-accurate LIF (PyLifModelBitAcc) as the paper's _lava_nir.py configures it:
    du = 4095 (+1 offset: u holds one step's input), dv = int(dt/tau 4095), vth mantissa
    int(v_th 131071) >> 9 (x 2^6 in v units), weight int(dt/tau 256) (x 2^6 at a_in);
    the input reaches a_in one step late."""
    a = dt / float(p["tau"])
    dv = int(a * 4095)
    vth = (int(float(p["v_th"]) * 131071) >> 9) << 6
    w = int(a * 256) << 6
    xd = np.concatenate([[0.0], x[:-1]])
    u = v = 0
    vs, zs = np.zeros(len(x)), np.zeros(len(x))
    for t, xt in enumerate(xd):
        u = int(np.sign(u) * (abs(u * (4096 - 4096)) >> 12)) + int(w * xt)
        dec = v * (4096 - dv)
        v = int(np.sign(dec) * (abs(dec) >> 12)) + u
        z = v > vth
        if z:
            v = 0
        vs[t], zs[t] = v, z
    return vs, zs


def euler64(x, p, dt):
    """What a float64 engine computes: v <- v + (dt/tau) (v_leak - v + r I), reset to v_reset."""
    a = dt / float(p["tau"])
    v = float(p["v_leak"])
    vs, zs = np.zeros(len(x)), np.zeros(len(x))
    for t, xt in enumerate(x):
        v = v + a * ((float(p["v_leak"]) - v) + float(p["r"]) * (float(p["w"]) * xt + float(p["b"])))
        z = v > float(p["v_th"])
        if z:
            v = float(p["v_reset"])
        vs[t], zs[t] = v, z
    return vs, zs


def compare(name, v, z, ref_v, ref_z, scale=1.0):
    err = float(np.max(np.abs(v - ref_v)))
    off = np.ones(len(v), bool)
    off[np.flatnonzero(ref_z)] = False
    same = bool(np.array_equal(np.flatnonzero(z), np.flatnonzero(ref_z)))
    return dict(platform=name, max_abs_err=err, max_abs_err_nir_volts=err * scale,
                max_abs_err_off_spike_steps=float(np.max(np.abs(v - ref_v)[off])),
                spikes=np.flatnonzero(z).tolist(), ref_spikes=np.flatnonzero(ref_z).tolist(),
                spikes_equal=same)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ref", default=os.environ.get("NIR_REF", DEFAULT_REF))
    ap.add_argument("--dt", type=float, default=1e-4)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    p, dt = load_graph(args.ref), args.dt
    x, _, _ = load_csv(args.ref, "exact")
    rows = []

    _, rv, rz = load_csv(args.ref, "norse")
    v, z = norse(x, p, dt)
    rows.append(compare("norse (Euler, float32)", v, z, rv, rz))

    v, z = euler64(x, p, dt)
    rows.append(compare("norse vs float64 Euler (a float64 engine)", v, z, rv, rz))

    _, rv, rz = load_csv(args.ref, "snntorch")
    m, z, ws = snntorch(x, p, dt)
    rows.append(compare("snntorch (Euler, mem = v/(r dt/tau), float32)", m, z, rv, rz, scale=ws))
    v, z = euler64(x, p, dt)
    rows.append(compare("snntorch vs float64 Euler (v / (r dt/tau))", v / ws, z, rv, rz, scale=ws))

    _, rv, rz = load_csv(args.ref, "exact")
    v, z = exact(x, p, dt, mid_step_reset=True)
    rows.append(compare("exact (ZOH closed form, reset at the crossing)", v, z, rv, rz))
    v, z = exact(x, p, dt, mid_step_reset=False)
    rows.append(compare("exact_endstep (ZOH, reset at step end)", v, z, rv, rz))

    _, rv, rz = load_csv(args.ref, "sinabs")
    v, z = sinabs_like(x, p, dt, in_scale=dt / float(p["tau"]))
    rows.append(compare("sinabs (exp decay, input*dt/tau, >=, subtract)", v, z, rv, rz))
    _, rv, rz = load_csv(args.ref, "rockpool")
    rows.append(compare("rockpool (same as sinabs)", v, z, rv, rz))

    _, rv, rz = load_csv(args.ref, "spyx")
    v, z = spyx_like(x, p, dt)
    rows.append(compare("spyx (Euler, spike + subtract one step late)", v, z, rv, rz))

    _, rv, rz = load_csv(args.ref, "lava_cpu_float")
    v, z = lava_float_like(x, p, dt)
    rows.append(compare("lava_cpu_float (Norse, input one step late)", v, z, rv, rz))

    for name in ("lava_cpu_fixed", "lava_loihi_fixed"):
        _, rv, rz = load_csv(args.ref, name)
        v, z = lava_fixed_like(x, p, dt)
        rows.append(compare(f"{name} (Loihi integers, input one step late)", v, z, rv, rz))

    _, rv, rz = load_csv(args.ref, "nengo")
    v, z = exact(x, p, dt, mid_step_reset=False)
    rows.append(compare("nengo (= exact_endstep, v x10)", 10 * v, z, rv, rz, scale=0.1))

    for r_ in rows:
        print(f"{r_['platform']:<52s} max|dv| = {r_['max_abs_err']:.3e}"
              f" (NIR V {r_['max_abs_err_nir_volts']:.3e})  spikes {r_['spikes']}"
              f" {'==' if r_['spikes_equal'] else '!='} ref"
              f"; off spike steps {r_['max_abs_err_off_spike_steps']:.1e}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(dt=dt, params={k: float(v_) for k, v_ in p.items()}, rows=rows), fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
