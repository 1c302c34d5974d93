"""Golden data from snnTorch for neurosim's NIR importer (``ns.nir.read``).

For each reset setting and each training seed this script

1. trains a small recurrent CUBA net in snnTorch (surrogate gradient, Adam) on a
   synthetic 5-class spike-raster task (a few seconds on one CPU thread):
   ``Linear(20, 64) -> RSynaptic(64, all_to_all, learnable per-neuron alpha/beta,
   threshold 1) -> Linear(64, 5) -> Synaptic(5)``;
2. exports it with snnTorch's own ``snntorch.export_nir.export_to_nir`` and writes
   ``tests/data/nir/snntorch/rsyn_{setting}_{seed}.nir`` with ``nir.write``;
3. reads that file back with ``nir.read`` and runs the *trained snnTorch modules*
   (not snnTorch's NIR importer) step by step on 5 held-out inputs x 200 steps:
   (1) in float64 with alpha, beta replaced by exactly what the file round-trips,
   alpha' = 1 - dt/tau_syn, beta' = 1 - dt/tau_mem (float64 arithmetic on the
   stored float32 taus; the weights are float64 of the stored float32 weights),
   and (2) the untouched float32 model;
4. checks that ``numpy_replica`` -- an independent float64 implementation of the
   per-step recurrence written from the NIR parameters only -- reproduces the
   float64 hidden and output spikes at every step, and saves
   ``rsyn_{setting}_{seed}.npz``.

Settings (names used in the file names):
  ``subtract_delay``: ``reset_mechanism="subtract", reset_delay=True`` (snnTorch's default)
  ``zero_nodelay``:   ``reset_mechanism="zero", reset_delay=False`` (what snnTorch's
                      own NIR importer builds)

snnTorch 1.0.0 facts this script relies on and checks (see the report in the
commit message / the printed summary):
* RSynaptic's ``reset_delay=False`` branch writes the reset into *local*
  variables (``mem = mem - do_reset * ...`` with the ``spk``/``mem`` call
  arguments), so it has no effect on the returned/stored state: the hidden layer
  always resets with one step of delay.  Called without explicit states it even
  raises ``TypeError`` (``None / Tensor``), which is why the net is stepped with
  explicit states (``init_hidden=False``).  Synaptic (the output layer) applies
  ``reset_delay=False`` properly.  The script verifies the RSynaptic no-op by
  rerunning with ``reset_delay=True`` and records it as
  ``hidden_reset_delay_effective`` in the .npz.
* The NIR export carries no reset mechanism and no reset delay (``v_reset=0``
  always): the .npz ``reset_mechanism`` / ``reset_delay`` fields say which one the
  golden run used.

Per-step recurrence (what ``numpy_replica`` implements; t = 0, 1, ...; all state 0 at
t = -1; a_s = dt/tau_syn, a_m = dt/tau_mem, thr = v_threshold, s = spikes)::

    u[t]  = W_in x[t] + b_in + W_rec s[t-1] + b_rec        # recurrent edge: previous step
    I[t]  = I[t-1] + a_s (w_in u[t] - I[t-1])              # snnTorch: alpha I + u
    v~[t] = v[t-1] + a_m (v_leak - v[t-1] + r I[t])        # snnTorch: beta v + I  (NEW I)
    subtract, delayed (hidden and output of subtract_delay; snnTorch default):
        v[t] = v~[t] - thr s[t-1];          s[t] = v[t] > thr
    zero, delayed (hidden layer of zero_nodelay, see the RSynaptic note above):
        v[t] = 0 if s[t-1] else v~[t];      s[t] = v[t] > thr
    zero, immediate (output layer of zero_nodelay):
        s[t] = v~[t] > thr;                 v[t] = 0 if s[t] else v~[t]
    I is never reset.  The output layer's u[t] = W_out s_hidden[t] + b_out (same step).
    snnTorch's recorded mem is v[t].

Environment (kept out of the project venv), e.g.::

    ~/.pyenv/versions/3.11.7/bin/python -m venv /tmp/snnt
    /tmp/snnt/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    /tmp/snnt/bin/pip install snntorch==1.0.0 nir==1.0.8 nirtorch
    /tmp/snnt/bin/python benchmarks/peers/snntorch_rsynaptic.py
"""

from __future__ import annotations

import copy
import os
import sys
import time
import warnings
from importlib.metadata import version as _pkg_version

import numpy as np
import torch
import torch.nn as nn

import nir
import snntorch as snn
from snntorch import surrogate
from snntorch.export_nir import export_to_nir

DT = 1e-4  # the dt hard-coded in snntorch/export_nir.py
N_IN, N_HID, N_OUT = 20, 64, 5
T_TRAIN, T_TEST, N_TEST = 100, 200, 5
N_STATE = 2  # held-out inputs whose hidden syn/mem traces are stored (size)
SEEDS = (1, 2, 3)
TASK_SEED = 0  # class prototypes (the "task"), shared by all nets
HELDOUT_SEED = 777  # golden inputs: not a training seed
SETTINGS = {
    "subtract_delay": dict(reset_mechanism="subtract", reset_delay=True),
    "zero_nodelay": dict(reset_mechanism="zero", reset_delay=False),
}
OUT_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "nir", "snntorch"
)

warnings.filterwarnings("ignore", category=DeprecationWarning)


# ----------------------------------------------------------------------------- task
def prototypes():
    """Per-class rate profiles: (5 classes, 20 channels, 2 halves) spike probabilities."""
    rng = np.random.default_rng(TASK_SEED)
    rates = np.full((N_OUT, N_IN, 2), 0.02)
    for c in range(N_OUT):
        chans = rng.choice(N_IN, size=8, replace=False)
        rates[c, chans[:4], 0] = 0.3  # early channels
        rates[c, chans[4:], 1] = 0.3  # late channels
    return rates


def make_rasters(n, T, seed):
    """n Bernoulli ('Poisson-like') spike rasters (n, T, 20) uint8 and labels (n,)."""
    rng = np.random.default_rng(seed)
    rates = prototypes()
    labels = np.arange(n) % N_OUT
    rng.shuffle(labels)
    half = (np.arange(T) >= T // 2).astype(int)  # (T,)
    p = rates[labels][:, :, half].transpose(0, 2, 1)  # (n, T, 20)
    p = p * rng.uniform(0.7, 1.3, size=(n, 1, N_IN))  # per-sample rate jitter
    return (rng.random(p.shape) < p).astype(np.uint8), labels


# ----------------------------------------------------------------------------- net
class Net(nn.Module):
    def __init__(self, reset_mechanism, reset_delay):
        super().__init__()
        grad = surrogate.atan()
        self.fc1 = nn.Linear(N_IN, N_HID)
        self.rsyn = snn.RSynaptic(
            alpha=torch.full((N_HID,), 0.8), beta=torch.full((N_HID,), 0.9),
            linear_features=N_HID, all_to_all=True, threshold=1.0, spike_grad=grad,
            learn_alpha=True, learn_beta=True, reset_mechanism=reset_mechanism,
            reset_delay=reset_delay,
        )
        self.fc2 = nn.Linear(N_HID, N_OUT)
        self.out = snn.Synaptic(
            alpha=torch.full((N_OUT,), 0.8), beta=torch.full((N_OUT,), 0.9),
            # per-neuron threshold tensor: export_nir's Synaptic branch would otherwise
            # emit a 0-d v_threshold next to (5,) taus, which nir.CubaLIF rejects
            threshold=torch.ones(N_OUT), spike_grad=grad, learn_alpha=True, learn_beta=True,
            reset_mechanism=reset_mechanism, reset_delay=reset_delay,
        )
        # torch's default init gives biases up to 1/sqrt(fan_in) ~ 0.2, i.e. a constant
        # drive of ~10x threshold through the syn/mem gains (1/(1-alpha))(1/(1-beta)) = 50:
        # half the hidden neurons would fire tonically.  Keep small nonzero biases.
        with torch.no_grad():
            for lin, wscale in ((self.fc1, 0.5), (self.rsyn.recurrent, 0.5), (self.fc2, 1.0)):
                lin.weight.mul_(wscale)
                lin.bias.mul_(0.05)

    def zero_state(self, batch, dtype):
        z = lambda n: torch.zeros(batch, n, dtype=dtype)  # noqa: E731
        return [z(N_HID), z(N_HID), z(N_HID), z(N_OUT), z(N_OUT)]

    def step(self, x, st):
        """One time step with explicit state (spk1, syn1, mem1, syn2, mem2)."""
        spk1, syn1, mem1, syn2, mem2 = st
        spk1, syn1, mem1 = self.rsyn(self.fc1(x), spk1, syn1, mem1)
        spk2, syn2, mem2 = self.out(self.fc2(spk1), syn2, mem2)
        return spk2, [spk1, syn1, mem1, syn2, mem2]

    def forward(self, x):  # one step from rest; only used for the NIR export trace
        return self.step(x, self.zero_state(x.shape[0], x.dtype))[0]

    def run(self, x):
        """x: (batch, T, 20) -> dict of (batch, T, n) traces."""
        st = self.zero_state(x.shape[0], x.dtype)
        rec = {k: [] for k in ("hidden_spk", "hidden_syn", "hidden_mem", "out_spk", "out_syn", "out_mem")}
        for t in range(x.shape[1]):
            spk2, st = self.step(x[:, t], st)
            for k, v in zip(rec, (st[0], st[1], st[2], spk2, st[3], st[4])):
                rec[k].append(v)
        return {k: torch.stack(v, 1) for k, v in rec.items()}


def train(net, seed, epochs=12, n_train=320, batch=32):
    """Adam on a spike-rate MSE (target rate 0.5 for the label, 0.05 otherwise), atan
    surrogate gradient, BPTT over 100 steps.  The epoch with the best validation
    accuracy is kept (plain early stopping: this small recurrent net's training is
    noisy from epoch to epoch, most of all with the subtract reset)."""
    x, y = make_rasters(n_train, T_TRAIN, seed=1000 + seed)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    taus = [net.rsyn.alpha, net.rsyn.beta, net.out.alpha, net.out.beta]
    rest = [p for p in net.parameters() if all(p is not q for q in taus)]
    opt = torch.optim.Adam([{"params": rest}, {"params": taus, "lr": 1e-4}], lr=3e-3)
    g = torch.Generator().manual_seed(seed)
    best = (accuracy(net, seed=3000 + seed), -1, copy.deepcopy(net.state_dict()))
    for ep in range(epochs):
        for idx in torch.randperm(n_train, generator=g).split(batch):
            rate = net.run(x[idx])["out_spk"].mean(1)
            target = torch.full_like(rate, 0.05)
            target[torch.arange(len(idx)), y[idx]] = 0.5
            loss = ((rate - target) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():  # keep the exported taus finite and positive
                for m in (net.rsyn, net.out):
                    m.alpha.clamp_(0.05, 0.995)
                    m.beta.clamp_(0.05, 0.995)
        acc = accuracy(net, seed=3000 + seed)
        if acc > best[0]:
            best = (acc, ep, copy.deepcopy(net.state_dict()))
    net.load_state_dict(best[2])
    return best[0], best[1]


def accuracy(net, seed):
    x, y = make_rasters(200, T_TRAIN, seed=seed)
    with torch.no_grad():
        rec = net.run(torch.tensor(x, dtype=torch.float32))
    return float((rec["out_spk"].sum(1).argmax(1).numpy() == y).mean())


# ----------------------------------------------------------------------------- NIR
def graph_params(g):
    """Pull the parameters out of the NIR graph snnTorch exported, by structure:
    the CubaLIF with a self loop through a Linear/Affine is the hidden layer."""
    nodes, edges = g.nodes, g.edges
    succ = lambda k: [b for a, b in edges if a == k]  # noqa: E731
    pred = lambda k: [a for a, b in edges if b == k]  # noqa: E731
    cuba = [k for k, n in nodes.items() if isinstance(n, nir.CubaLIF)]
    hid = [k for k in cuba if any(k in succ(p) for p in succ(k))]
    assert len(hid) == 1 and len(cuba) == 2, (cuba, hid)
    hid = hid[0]
    out = [k for k in cuba if k != hid][0]
    rec = [p for p in pred(hid) if hid in pred(p) or p in succ(hid)]
    assert len(rec) == 1, rec
    ff_in = [p for p in pred(hid) if p != rec[0]]
    ff_out = [k for k in pred(out)]
    assert len(ff_in) == 1 and len(ff_out) == 1 and pred(ff_out[0]) == [hid], (ff_in, ff_out)
    f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731

    def aff(k):
        n = nodes[k]
        b = getattr(n, "bias", None)
        return f64(n.weight), (np.zeros(n.weight.shape[0]) if b is None else f64(b))

    def lif(k):
        n = nodes[k]
        return {a: f64(getattr(n, a)) for a in ("tau_syn", "tau_mem", "r", "w_in", "v_leak", "v_threshold", "v_reset")}

    p = {"names": dict(fc_in=ff_in[0], hidden=hid, rec=rec[0], fc_out=ff_out[0], out=out)}
    p["W_in"], p["b_in"] = aff(ff_in[0])
    p["W_rec"], p["b_rec"] = aff(rec[0])
    p["W_out"], p["b_out"] = aff(ff_out[0])
    p["hid"], p["out"] = lif(hid), lif(out)
    return p


def heaviside(mem_shift):
    """Forward of snnTorch's surrogate spike fns ((x > 0).float()) without the float32 cast."""
    return (mem_shift > 0).to(mem_shift.dtype)


def effective_semantics(setting):
    """(mechanism, immediate_reset) actually applied by snnTorch 1.0.0 per layer."""
    s = SETTINGS[setting]
    return {"hidden": (s["reset_mechanism"], False),  # RSynaptic ignores reset_delay=False
            "out": (s["reset_mechanism"], not s["reset_delay"])}


def numpy_replica(graph_params, inputs, setting, form="euler"):
    """Independent float64 replica of the snnTorch per-step recurrence, from NIR params.

    inputs: (B, T, 20) 0/1.  form="euler": NIR CubaLIF forward Euler with dt=1e-4,
        I <- I + dt/tau_syn * (w_in*u - I);  v <- v + dt/tau_mem * (v_leak - v + r*I_new)
    form="unit": the same with the input gains w_in*dt/tau_syn and r*dt/tau_mem taken as
    exactly 1 (I <- (1-a_s) I + u; v <- (1-a_m) v + I_new), i.e. snnTorch's alpha/beta form.
    u is the sum of all edges into the node; the recurrent Affine sees the hidden spikes
    of the previous step.  Returns dict of (B, T, n) traces.
    """
    p, sem = graph_params, effective_semantics(setting)

    def layer_step(q, mech, immediate, I, v, s_prev, u):
        a_s, a_m = DT / q["tau_syn"], DT / q["tau_mem"]
        if form == "euler":
            I = I + a_s * (q["w_in"] * u - I)
            v = v + a_m * (q["v_leak"] - v + q["r"] * I)
        else:
            I = (1.0 - a_s) * I + u
            v = (1.0 - a_m) * v + I
        thr = q["v_threshold"]
        if not immediate:  # reset decided by the previous step's spike, applied after integration
            v = v - thr * s_prev if mech == "subtract" else np.where(s_prev, q["v_reset"], v)
        s = v > thr
        if immediate:
            if mech != "zero":
                raise NotImplementedError("immediate subtract reset is not used here")
            v = np.where(s, q["v_reset"], v)
        return I, v, s

    B, T, _ = inputs.shape
    x = np.asarray(inputs, dtype=np.float64)
    I1 = v1 = np.zeros((B, N_HID))
    I2 = v2 = np.zeros((B, N_OUT))
    s1, s2 = np.zeros((B, N_HID), bool), np.zeros((B, N_OUT), bool)
    keys = ("hidden_spk", "hidden_syn", "hidden_mem", "out_spk", "out_syn", "out_mem")
    rec = {k: [] for k in keys}
    for t in range(T):
        u1 = x[:, t] @ p["W_in"].T + p["b_in"] + s1 @ p["W_rec"].T + p["b_rec"]
        I1, v1, s1 = layer_step(p["hid"], *sem["hidden"], I1, v1, s1, u1)
        u2 = s1 @ p["W_out"].T + p["b_out"]
        I2, v2, s2 = layer_step(p["out"], *sem["out"], I2, v2, s2, u2)
        for k, v in zip(keys, (s1, I1, v1, s2, I2, v2)):
            rec[k].append(v)
    return {k: np.stack(v, 1) for k, v in rec.items()}


def describe(g):
    lines = []
    for k, n in g.nodes.items():
        attrs = []
        for a in ("weight", "bias", "tau_syn", "tau_mem", "r", "w_in", "v_threshold", "v_leak", "v_reset"):
            v = getattr(n, a, None)
            if v is not None:
                v = np.asarray(v)
                attrs.append(f"{a}{list(v.shape)}{v.dtype}")
        io = ""
        if isinstance(n, (nir.Input, nir.Output)):
            io = " " + str({kk: list(np.asarray(vv)) for kk, vv in getattr(n, "input_type" if isinstance(n, nir.Input) else "output_type").items()})
        lines.append(f"  {k}: {type(n).__name__}{io} {' '.join(attrs)}")
    lines.append("  edges: " + ", ".join(f"{a}->{b}" for a, b in sorted(g.edges)))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    versions = {p: _pkg_version(p) for p in ("torch", "snntorch", "nir", "nirtorch", "numpy")}
    print("versions:", versions)
    x_test, y_test = make_rasters(N_TEST, T_TEST, seed=HELDOUT_SEED)
    t_start = time.perf_counter()
    summary = []
    for setting, kw in SETTINGS.items():
        for seed in SEEDS:
            t0 = time.perf_counter()
            torch.manual_seed(seed)
            net = Net(**kw)
            acc0 = accuracy(net, seed=5000 + seed)
            val_acc, best_epoch = train(net, seed)
            net.eval()
            acc = accuracy(net, seed=5000 + seed)
            t_train = time.perf_counter() - t0

            stem = f"rsyn_{setting}_{seed}"
            path = os.path.join(OUT_DIR, stem + ".nir")
            graph = export_to_nir(net, torch.zeros(1, N_IN), ignore_dims=[0])  # drop batch dim
            nir.write(path, graph)
            g = nir.read(path)
            gp = graph_params(g)
            desc = describe(g)

            # (1) float64 golden: same snnTorch modules, alpha/beta as the file round-trips
            net64 = copy.deepcopy(net).double()
            # snnTorch's surrogate forward is (mem - thr > 0).float(): float32 spikes, which
            # the float64 recurrent/next Linear rejects.  Same strict '>' in float64:
            for m in (net64.rsyn, net64.out):
                m.spike_grad = heaviside
            with torch.no_grad():
                for m, q in ((net64.rsyn, gp["hid"]), (net64.out, gp["out"])):
                    m.alpha.copy_(torch.from_numpy(1.0 - DT / q["tau_syn"]))
                    m.beta.copy_(torch.from_numpy(1.0 - DT / q["tau_mem"]))
            for mod, w, b in ((net64.fc1, "W_in", "b_in"), (net64.rsyn.recurrent, "W_rec", "b_rec"),
                              (net64.fc2, "W_out", "b_out")):
                assert np.array_equal(mod.weight.detach().numpy(), gp[w]), w
                assert np.array_equal(mod.bias.detach().numpy(), gp[b]), b
            xt64 = torch.tensor(x_test, dtype=torch.float64)
            with torch.no_grad():
                r64 = {k: v.numpy() for k, v in net64.run(xt64).items()}
                # does RSynaptic's reset_delay=False change anything?  (snnTorch 1.0.0: no)
                alt = copy.deepcopy(net64)
                alt.rsyn.reset_delay = not alt.rsyn.reset_delay
                ra = {k: v.numpy() for k, v in alt.run(xt64).items()}
                hid_rd_effective = not (np.array_equal(ra["hidden_spk"], r64["hidden_spk"])
                                        and np.array_equal(ra["hidden_mem"], r64["hidden_mem"]))
                alt = copy.deepcopy(net64)
                alt.out.reset_delay = not alt.out.reset_delay
                ra = {k: v.numpy() for k, v in alt.run(xt64).items()}
                out_rd_effective = not np.array_equal(ra["out_mem"], r64["out_mem"])
                # (2) the untouched float32 model
                r32 = {k: v.numpy() for k, v in net.run(torch.tensor(x_test, dtype=torch.float32)).items()}
            assert not hid_rd_effective, "RSynaptic reset_delay now has an effect: update effective_semantics"
            assert out_rd_effective or r64["out_spk"].sum() == 0  # Synaptic honours the flag

            # replica from the NIR parameters only
            agree = {}
            for form in ("euler", "unit"):
                rep = numpy_replica(gp, x_test, setting, form=form)
                agree[form] = dict(
                    hid_spk=float((rep["hidden_spk"] == (r64["hidden_spk"] > 0)).mean()),
                    out_spk=float((rep["out_spk"] == (r64["out_spk"] > 0)).mean()),
                    max_dmem=float(np.abs(rep["hidden_mem"] - r64["hidden_mem"]).max()),
                    max_dsyn=float(np.abs(rep["hidden_syn"] - r64["hidden_syn"]).max()),
                    max_dout_mem=float(np.abs(rep["out_mem"] - r64["out_mem"]).max()),
                )
                if form == "euler":
                    first_div = np.argwhere(rep["hidden_spk"] != (r64["hidden_spk"] > 0))
            eq32_hid = float(((r32["hidden_spk"] > 0) == (r64["hidden_spk"] > 0)).mean())
            eq32_out = float(((r32["out_spk"] > 0) == (r64["out_spk"] > 0)).mean())
            first32 = np.argwhere((r32["hidden_spk"] > 0) != (r64["hidden_spk"] > 0))
            first32_t = int(first32[:, 1].min()) if len(first32) else -1

            q = gp["hid"]
            gains = dict(
                hid_syn=float(np.abs(q["w_in"] * DT / q["tau_syn"] - 1).max()),
                hid_mem=float(np.abs(q["r"] * DT / q["tau_mem"] - 1).max()),
                out_syn=float(np.abs(gp["out"]["w_in"] * DT / gp["out"]["tau_syn"] - 1).max()),
                out_mem=float(np.abs(gp["out"]["r"] * DT / gp["out"]["tau_mem"] - 1).max()),
            )
            sem = effective_semantics(setting)
            np.savez_compressed(
                os.path.join(OUT_DIR, stem + ".npz"),
                inputs=x_test.astype(bool), labels=y_test.astype(np.int8),
                hidden_spk64=r64["hidden_spk"] > 0,
                hidden_syn64=r64["hidden_syn"][:N_STATE].astype(np.float32),
                hidden_mem64=r64["hidden_mem"][:N_STATE].astype(np.float32),
                out_spk64=r64["out_spk"] > 0,
                out_syn64=r64["out_syn"].astype(np.float32), out_mem64=r64["out_mem"].astype(np.float32),
                hidden_spk32=r32["hidden_spk"] > 0, out_spk32=r32["out_spk"] > 0,
                alpha64_hidden=net64.rsyn.alpha.detach().numpy(), beta64_hidden=net64.rsyn.beta.detach().numpy(),
                alpha64_out=net64.out.alpha.detach().numpy(), beta64_out=net64.out.beta.detach().numpy(),
                reset_mechanism=kw["reset_mechanism"], reset_delay=kw["reset_delay"], dt=DT,
                hidden_reset_delay_effective=hid_rd_effective, out_reset_delay_effective=out_rd_effective,
                hidden_reset=f"{sem['hidden'][0]}, {'immediate' if sem['hidden'][1] else 'delayed one step'}",
                out_reset=f"{sem['out'][0]}, {'immediate' if sem['out'][1] else 'delayed one step'}",
                state_note=f"*_syn64/*_mem64 are the float64 run's states rounded to float32 to keep "
                           f"the files small; hidden ones only for the first {N_STATE} inputs (all "
                           "spikes are for all 5); mem is what snnTorch returns at that step: after "
                           "a delayed reset (from the previous step's spike), after an immediate one",
                n_state_inputs=N_STATE,
                seed=seed, heldout_seed=HELDOUT_SEED, task_seed=TASK_SEED,
                train_acc_before=acc0, train_acc_after=acc,
                replica_agreement_euler_hidden=agree["euler"]["hid_spk"],
                replica_agreement_unit_hidden=agree["unit"]["hid_spk"],
                float32_vs_float64_hidden_agreement=eq32_hid,
                graph_description=desc,
                **{f"{k}_version": v for k, v in versions.items()},
            )
            print(f"\n=== {stem}: train {t_train:.1f}s, best epoch {best_epoch} (validation {val_acc:.2f}), "
                  f"test accuracy {acc0:.2f} -> {acc:.2f}")
            print(desc)
            print("  node roles:", gp["names"])
            print(f"  hidden rate {r64['hidden_spk'].mean():.3f}, out rate {r64['out_spk'].mean():.3f}, "
                  f"out counts per input {r64['out_spk'].sum(1).astype(int).tolist()} labels {y_test.tolist()}")
            print(f"  tau_syn hid [{q['tau_syn'].min():.3e}, {q['tau_syn'].max():.3e}] "
                  f"tau_mem hid [{q['tau_mem'].min():.3e}, {q['tau_mem'].max():.3e}] "
                  f"v_thr {np.unique(q['v_threshold'])} v_leak {np.unique(q['v_leak'])} v_reset {np.unique(q['v_reset'])}")
            print(f"  |w_in*dt/tau_syn - 1|, |r*dt/tau_mem - 1| max: {gains}")
            print(f"  RSynaptic reset_delay flag effective: {hid_rd_effective}; Synaptic: {out_rd_effective}")
            for form, a in agree.items():
                print(f"  replica[{form}] vs float64 snnTorch: hidden spikes equal {a['hid_spk']:.6f}, "
                      f"out spikes equal {a['out_spk']:.6f}, max|dmem| {a['max_dmem']:.2e}, "
                      f"max|dsyn| {a['max_dsyn']:.2e}, max|dout_mem| {a['max_dout_mem']:.2e}")
            if len(first_div):
                print("  euler replica first divergence (b, t, n):", first_div[np.argmin(first_div[:, 1])].tolist())
            print(f"  float32 snnTorch vs float64: hidden spikes equal {eq32_hid:.6f} "
                  f"(first difference at step {first32_t}), out spikes equal {eq32_out:.6f}")
            summary.append((stem, agree["euler"]["hid_spk"], agree["unit"]["hid_spk"], eq32_hid, acc,
                            min(a["out_spk"] for a in agree.values())))
    print(f"\ntotal {time.perf_counter() - t_start:.1f}s")
    for s in summary:
        print("  %-26s replica(euler) %.6f replica(unit) %.6f float32 %.6f acc %.2f" % s[:5])
    ok = all(s[1] == 1.0 and s[2] == 1.0 and s[5] == 1.0 for s in summary)
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"files in {os.path.normpath(OUT_DIR)}: {total / 1e6:.2f} MB; replica exact: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
