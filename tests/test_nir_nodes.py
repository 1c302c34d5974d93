"""ns.nir.read, node by node, against an independent NumPy oracle.

The oracle (``run_oracle``) is written here from the NIR equations and the semantics
contract of :mod:`neurosim.nir` (forward Euler, CubaLIF current first, same-step feed-forward
edges in topological order, recurrent edges reading the previous step's output, strict
threshold, zero/subtract resets in the same or the next step, Affine bias as a constant
input, I/IF adding ``r I`` per step, Delay a FIFO of ``round(delay/dt)`` steps, several edges
summed). It imports nothing from neurosim: it executes the nir graph itself, node by node,
with the convolutions and pools as explicit loops over PyTorch's cross-correlation windows.
Every graph runs on both backends; float64 values agree to rounding, spikes exactly.
"""

from collections import defaultdict

import numpy as np
import pytest

nir = pytest.importorskip("nir")
h5py = pytest.importorskip("h5py")

import neurosim as ns  # noqa: E402
from neurosim.validation import ParameterError  # noqa: E402

BACKENDS = ["numba", "reference"]
DT = 1e-3
NEURON_TYPES = ("LIF", "CubaLIF", "LI", "CubaLI", "IF", "I", "Threshold")
SPIKING = ("LIF", "CubaLIF", "IF", "Threshold")


# ====================================================================== the oracle
def _flatten(graph, prefix=""):
    """Nodes {dotted name: node} and edges of ``graph`` with nested graphs inlined; an edge
    into a subgraph goes to its Input nodes, one out of it leaves its Output node."""
    nodes, edges, ports = {}, [], {}
    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = _flatten(node, prefix + name + ".")
            nodes.update(sub_nodes)
            edges += sub_edges
            ports[name] = ([f"{prefix}{name}.{k}" for k, v in node.nodes.items()
                            if isinstance(v, nir.Input)],
                           [f"{prefix}{name}.{k}" for k, v in node.nodes.items()
                            if isinstance(v, nir.Output)][0])
        else:
            nodes[prefix + name] = node
    for s, d in graph.edges:
        src = ports[s][1] if s in ports else prefix + s
        edges += [(src, t) for t in (ports[d][0] if d in ports else [prefix + d])]
    return nodes, edges


def _recurrent(names, edges, inputs):
    """Edges inside a cycle whose target is not farther from the inputs than the source."""
    succ = defaultdict(list)
    for s, d in edges:
        succ[s].append(d)
    dist, front = {n: 0 for n in inputs}, list(inputs)
    while front:
        nxt = []
        for n in front:
            for d in succ[n]:
                if d not in dist:
                    dist[d] = dist[n] + 1
                    nxt.append(d)
        front = nxt

    def reaches(a, b):
        seen, todo = set(), [a]
        while todo:
            n = todo.pop()
            if n == b:
                return True
            if n not in seen:
                seen.add(n)
                todo += succ[n]
        return False
    inf = float("inf")
    return {(s, d) for s, d in edges if reaches(d, s) and dist.get(d, inf) <= dist.get(s, inf)}


def _tup(v, nd):
    return tuple(int(a) for a in np.broadcast_to(np.asarray(v).ravel(), (nd,)))


def _conv(x, w, b, stride, padding, dilation, groups):
    """PyTorch's ConvNd (cross-correlation) of one sample x (C, *spatial), by loops."""
    nd = w.ndim - 2
    stride, dilation, k = _tup(stride, nd), _tup(dilation, nd), w.shape[2:]
    if isinstance(padding, str) and padding == "same":
        tot = [dilation[i] * (k[i] - 1) for i in range(nd)]
        pads = [(t // 2, t - t // 2) for t in tot]
    elif isinstance(padding, str):
        assert padding == "valid"
        pads = [(0, 0)] * nd
    else:
        pads = [(p, p) for p in _tup(padding, nd)]
    xp = np.pad(x, [(0, 0)] + pads)
    span = [dilation[i] * (k[i] - 1) + 1 for i in range(nd)]
    out_sp = [(xp.shape[1 + i] - span[i]) // stride[i] + 1 for i in range(nd)]
    cin, cout = w.shape[1], w.shape[0] // groups
    y = np.zeros((w.shape[0], *out_sp))
    for o in range(w.shape[0]):
        g = o // cout
        for idx in np.ndindex(*out_sp):
            win = tuple(slice(idx[i] * stride[i], idx[i] * stride[i] + span[i], dilation[i])
                        for i in range(nd))
            y[(o,) + idx] = np.sum(xp[(slice(g * cin, (g + 1) * cin),) + win] * w[o])
        if b is not None and np.size(b):
            y[o] += np.ravel(b)[o] if np.size(b) > 1 else float(np.ravel(b)[0])
    return y


def _pool(x, kernel, stride, padding, avg):
    """SumPool2d / AvgPool2d (PyTorch, count_include_pad=True) of x (C, H, W)."""
    k, s, p = _tup(kernel, 2), _tup(stride, 2), _tup(padding, 2)
    xp = np.pad(x, [(0, 0), (p[0], p[0]), (p[1], p[1])])
    oh, ow = (xp.shape[1] - k[0]) // s[0] + 1, (xp.shape[2] - k[1]) // s[1] + 1
    y = np.zeros((x.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[:, i, j] = xp[:, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]].sum(axis=(1, 2))
    return y / (k[0] * k[1]) if avg else y


def _linear_out(node, x, in_shape):
    """Output (flat) and shape of a stateless node for the flat input x of ``in_shape``."""
    if isinstance(node, (nir.Affine, nir.Linear)):
        y = np.asarray(node.weight) @ x
        if isinstance(node, nir.Affine) and node.bias is not None:
            y = y + np.asarray(node.bias)
        return y, (len(y),)
    if isinstance(node, nir.Scale):
        return np.asarray(node.scale).ravel() * x, in_shape
    if isinstance(node, (nir.Flatten, nir.Input, nir.Output)):
        return x, (x.size,)
    if isinstance(node, (nir.Conv1d, nir.Conv2d)):
        w = np.asarray(node.weight)
        y = _conv(x.reshape((w.shape[1] * node.groups,) + tuple(np.ravel(node.input_shape))),
                  w, node.bias, node.stride, node.padding, node.dilation, node.groups)
        return y.ravel(), y.shape
    if isinstance(node, (nir.SumPool2d, nir.AvgPool2d)):
        y = _pool(x.reshape(in_shape), node.kernel_size, node.stride, node.padding,
                  isinstance(node, nir.AvgPool2d))
        return y.ravel(), y.shape
    raise AssertionError(type(node))


def _lif_exact(v, v_inf, th, vr, tau, dt):
    """Closed-form LIF over one step of constant input, reset at each crossing time."""
    t, n = 0.0, 0
    while v_inf > th:
        tc = tau * np.log((v - v_inf) / (th - v_inf))        # time from v up to th
        if t + tc > dt:
            break
        t, n, v = t + tc, n + 1, vr
    return v_inf + (v - v_inf) * np.exp(-(dt - t) / tau), n


class _Neuron:
    def __init__(self, node, n, o):
        kind = type(node).__name__
        get = lambda f, d=None: np.broadcast_to(  # noqa: E731
            np.asarray(d if getattr(node, f, None) is None else getattr(node, f), float).ravel(),
            (n,)).copy()
        self.kind, self.o = kind, o
        if kind == "Threshold":
            self.th = get("threshold")
            return
        self.r = get("r")
        if kind not in ("I", "LI", "CubaLI"):
            self.th, self.vr = get("v_threshold"), get("v_reset", 0.0)
        if kind in ("LI", "LIF"):
            self.tau, self.vl = get("tau"), get("v_leak")
        if kind in ("CubaLI", "CubaLIF"):
            self.tau, self.ts, self.vl, self.w_in = (get("tau_mem"), get("tau_syn"),
                                                     get("v_leak"), get("w_in", 1.0))
        leaky = kind not in ("I", "IF")
        self.v = self.vl.copy() if leaky and o["v_init"] == "leak" else np.zeros(n)
        self.i = np.zeros(n)
        self.zprev = np.zeros(n, bool)

    def step(self, I):
        o, dt, kind, spk = self.o, self.o["dt"], self.kind, self.o["spk"]
        if kind == "Threshold":
            return (I > self.th) * spk
        count = None
        if kind in ("I", "IF"):
            self.v = self.v + self.r * I * (dt if o["integrate"] == "seconds" else 1.0)
        elif o["method"] == "euler":
            drive = I
            if kind.startswith("Cuba"):
                self.i = self.i + dt / self.ts * (self.w_in * I - self.i)
                drive = self.i
            self.v = self.v + dt / self.tau * (self.vl - self.v + self.r * drive)
        elif kind.startswith("Cuba"):                      # exact pair, zero-order hold
            i_inf = self.w_in * I
            v_inf = self.vl + self.r * i_inf
            em, es = np.exp(-dt / self.tau), np.exp(-dt / self.ts)
            amp = self.r * (self.i - i_inf) * self.ts / (self.ts - self.tau)
            self.v = v_inf + (self.v - v_inf) * em + amp * (es - em)
            self.i = i_inf + (self.i - i_inf) * es
        elif kind == "LIF":
            res = [_lif_exact(*a, dt) for a in zip(self.v, self.vl + self.r * I, self.th,
                                                   self.vr, self.tau)]
            self.v = np.array([a for a, _ in res])
            count = np.array([c for _, c in res], float)
        else:
            v_inf = self.vl + self.r * I
            self.v = v_inf + (self.v - v_inf) * np.exp(-dt / self.tau)
        if kind in ("I", "LI", "CubaLI"):
            return self.v.copy()
        if count is not None:
            return count * spk
        drop = self.th - self.vr
        if o["timing"] == "next":
            self.v = np.where(self.zprev, self.vr if o["reset"] == "zero" else self.v - drop,
                              self.v)
        z = self.v > self.th
        if o["timing"] == "same":
            self.v = np.where(z, self.vr if o["reset"] == "zero" else self.v - drop, self.v)
        self.zprev = z
        return z * spk


def run_oracle(graph, inputs, dt=DT, method="euler", reset="zero", reset_timing="same",
               v_init="leak", integrate="step", spike="unit"):
    """Run ``graph`` on {top-level Input name: (steps, *shape)}: returns {node name:
    (steps, n) outputs}, {neuron name: (steps, n) v} and {neuron name: (steps, n) i_syn}."""
    o = dict(dt=dt, method=method, reset=reset, timing=reset_timing, v_init=v_init,
             integrate=integrate, spk=1.0 / dt if spike == "dirac" else 1.0)
    nodes, edges = _flatten(graph)
    tops = [k for k, v in graph.nodes.items() if isinstance(v, nir.Input)]
    rec = _recurrent(list(nodes), edges, tops)
    preds, indeg, succ = defaultdict(list), {n: 0 for n in nodes}, defaultdict(list)
    for s, d in edges:
        preds[d].append(s)
        if (s, d) not in rec:
            succ[s].append(d)
            indeg[d] += 1
    order, ready = [], [n for n in nodes if indeg[n] == 0]
    while ready:
        n = ready.pop(0)
        order.append(n)
        for d in succ[n]:
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    assert len(order) == len(nodes), "cycle without a recurrent edge"
    shape, state, hist, prev = {}, {}, {}, {}
    for n in order:                                      # shapes, states, outputs at t = -1
        node = nodes[n]
        if n in tops:
            shape[n] = tuple(np.ravel(node.input_type["input"]))
        elif type(node).__name__ in NEURON_TYPES:
            p = node.threshold if isinstance(node, nir.Threshold) else (
                node.tau_mem if hasattr(node, "tau_mem") else node.r)
            shape[n] = np.shape(p)
            state[n] = _Neuron(node, int(np.prod(shape[n])), o)
        else:
            src = [shape[s] for s in preds[n] if s in shape]
            in_shape = src[0]
            if isinstance(node, nir.Delay):
                shape[n] = in_shape
                hist[n] = (np.rint(np.ravel(node.delay) / dt).astype(int), [])
            else:
                zero_out, shape[n] = _linear_out(node, np.zeros(int(np.prod(in_shape))),
                                                 in_shape)
                prev[n] = zero_out                       # a bias on a recurrent path
        prev.setdefault(n, np.zeros(int(np.prod(shape[n]))))
    steps = len(next(iter(inputs.values())))
    out = {n: [] for n in nodes}
    vs = {n: [] for n in state}
    isyn = {n: [] for n in state}
    for t in range(steps):
        cur = {}
        for n in order:
            node = nodes[n]
            x = np.zeros(int(np.prod(shape[n]))) if n in state or n in hist else None
            for s in preds[n]:
                val = prev[s] if (s, n) in rec else cur[s]
                x = val.copy() if x is None else x + val
            if n in tops:
                y = np.asarray(inputs[n][t], float).ravel()
            elif n in state:
                y = state[n].step(x)
                vs[n].append(getattr(state[n], "v", np.zeros_like(y)))
                isyn[n].append(state[n].i if hasattr(state[n], "i") else np.zeros_like(y))
            elif n in hist:                              # FIFO, empty (zeros) at t = 0
                k, past = hist[n]
                past.append(x)
                y = np.array([past[t - k[i % len(k)]][i] if t - k[i % len(k)] >= 0 else 0.0
                              for i in range(x.size)])
            else:
                y, _ = _linear_out(node, x, shape[preds[n][0]])
            cur[n] = y
            out[n].append(y)
        prev = cur
    stack = lambda d: {k: np.array(v) for k, v in d.items() if len(v)}  # noqa: E731
    return stack(out), stack(vs), stack(isyn)


# ====================================================================== graph helpers
def _v(rng, n, lo, hi):
    return rng.uniform(lo, hi, n)


def lif(rng, n, th=1.0, tau=(3e-3, 8e-3), reset=True):
    return nir.LIF(tau=_v(rng, n, *tau), r=_v(rng, n, 0.8, 1.2), v_leak=_v(rng, n, -0.2, 0.2),
                   v_threshold=_v(rng, n, 0.8 * th, 1.2 * th),
                   v_reset=_v(rng, n, -0.2, 0.1) if reset else None)


def cubalif(rng, n):
    return nir.CubaLIF(tau_syn=_v(rng, n, 1.5e-3, 4e-3), tau_mem=_v(rng, n, 5e-3, 9e-3),
                       r=_v(rng, n, 0.8, 1.2), v_leak=_v(rng, n, -0.2, 0.2),
                       v_threshold=_v(rng, n, 0.8, 1.2), v_reset=_v(rng, n, -0.1, 0.1),
                       w_in=_v(rng, n, 0.8, 1.5))


def cubali(rng, n):
    return nir.CubaLI(tau_syn=_v(rng, n, 1.5e-3, 4e-3), tau_mem=_v(rng, n, 5e-3, 9e-3),
                      r=_v(rng, n, 0.8, 1.2), v_leak=_v(rng, n, -0.2, 0.2),
                      w_in=_v(rng, n, 0.8, 1.5))


def li(rng, n):
    return nir.LI(tau=_v(rng, n, 3e-3, 8e-3), r=_v(rng, n, 0.8, 1.2),
                  v_leak=_v(rng, n, -0.2, 0.2))


def if_(rng, n, r=1.0):
    return nir.IF(r=r * _v(rng, n, 0.1, 0.3), v_threshold=_v(rng, n, 0.8, 1.2),
                  v_reset=_v(rng, n, -0.1, 0.1))


def w(rng, n_out, n_in, scale=1.0, lo=-0.5):
    return scale * rng.uniform(lo, 1.0, (n_out, n_in))


def graph(nodes, edges, type_check=True):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=type_check)


def inp(*shape):
    return nir.Input(input_type=np.array(shape))


def outp(*shape):
    return nir.Output(output_type=np.array(shape))


# ---------------------------------------------------------------------- the graphs
def g_affine_lif(rng):
    return graph({"in": inp(3), "aff": nir.Affine(w(rng, 5, 3, 4), _v(rng, 5, -0.5, 1.0)),
                  "lif": lif(rng, 5), "out": outp(5)},
                 [("in", "aff"), ("aff", "lif"), ("lif", "out")])


def g_linear_cubalif(rng):
    return graph({"in": inp(3), "lin": nir.Linear(w(rng, 4, 3, 6)), "cubalif": cubalif(rng, 4),
                  "out": outp(4)}, [("in", "lin"), ("lin", "cubalif"), ("cubalif", "out")])


def g_scale_li(rng):
    return graph({"in": inp(4), "scale": nir.Scale(_v(rng, 4, -2, 3)), "li": li(rng, 4),
                  "out": outp(4)}, [("in", "scale"), ("scale", "li"), ("li", "out")])


def g_threshold(rng):
    return graph({"in": inp(4), "aff": nir.Affine(w(rng, 6, 4), _v(rng, 6, -0.3, 0.3)),
                  "th": nir.Threshold(_v(rng, 6, 0.1, 0.6)), "out": outp(6)},
                 [("in", "aff"), ("aff", "th"), ("th", "out")])


def g_delay_if(rng):
    """Per-element delays of 0..4 steps, and a biased Affine before a uniform Delay."""
    return graph({"in": inp(5), "delay": nir.Delay(np.array([0, 1, 2, 3, 4]) * DT),
                  "if": if_(rng, 5, r=4.0), "out": outp(5),
                  "aff": nir.Affine(w(rng, 3, 5, 3), _v(rng, 3, 0.2, 0.5)),
                  "delay2": nir.Delay(np.full(3, 3 * DT)), "lif": lif(rng, 3),
                  "out2": outp(3)},
                 [("in", "delay"), ("delay", "if"), ("if", "out"), ("in", "aff"),
                  ("aff", "delay2"), ("delay2", "lif"), ("lif", "out2")])


def g_i(rng):
    return graph({"in": inp(3), "lin": nir.Linear(w(rng, 4, 3)), "i": nir.I(r=_v(rng, 4, .2, 1)),
                  "out": outp(4)}, [("in", "lin"), ("lin", "i"), ("i", "out")])


def g_cubali(rng):
    return graph({"in": inp(3), "aff": nir.Affine(w(rng, 4, 3, 2), _v(rng, 4, -1, 1)),
                  "cubali": cubali(rng, 4), "out": outp(4)},
                 [("in", "aff"), ("aff", "cubali"), ("cubali", "out")])


def g_conv1d(rng):
    """Conv1d stride 2, int padding, dilation 2, groups 2, bias."""
    c = nir.Conv1d(input_shape=11, weight=rng.uniform(-0.5, 1, (4, 1, 3)) * 3, stride=2,
                   padding=1, dilation=2, groups=2, bias=_v(rng, 4, -0.2, 0.4))
    shape = _conv(np.zeros((2, 11)), c.weight, None, 2, 1, 2, 2).shape
    return graph({"in": inp(2, 11), "conv": c, "lif": _shaped(lif(rng, int(np.prod(shape))),
                                                               shape),
                  "out": outp(*shape)}, [("in", "conv"), ("conv", "lif"), ("lif", "out")],
                 type_check=False)          # nir 1.0.8's type inference ignores groups


def _shaped(node, shape):
    """The neuron ``node`` with every array parameter reshaped to ``shape``."""
    kw = {f: (np.reshape(v, shape) if isinstance(v, np.ndarray) and v.size > 1 else v)
          for f, v in vars(node).items() if f not in ("input_type", "output_type", "metadata")}
    return type(node)(**kw)


def _conv2d_graph(rng, *, cin, hw, cout, k, stride, padding, dilation, groups, bias=True,
                  neuron="LIF", gain=2.0):
    c = nir.Conv2d(input_shape=hw, weight=rng.uniform(-0.5, 1, (cout, cin // groups, *k)) * gain,
                   stride=stride, padding=padding, dilation=dilation, groups=groups,
                   bias=_v(rng, cout, -0.2, 0.4) if bias else None)
    shape = _conv(np.zeros((cin, *hw)), c.weight, None, stride, padding, dilation,
                  groups).shape              # nir 1.0.8's output_type drops the dilation
    n = int(np.prod(shape))
    cell = _shaped(lif(rng, n) if neuron == "LIF" else if_(rng, n, 4.0), shape)
    return graph({"in": inp(cin, *hw), "conv": c, "cell": cell, "out": outp(*shape)},
                 [("in", "conv"), ("conv", "cell"), ("cell", "out")], type_check=False)


def g_conv2d_int(rng):
    return _conv2d_graph(rng, cin=2, hw=(6, 5), cout=3, k=(3, 3), stride=1, padding=1,
                         dilation=1, groups=1)


def g_conv2d_pair(rng):
    return _conv2d_graph(rng, cin=2, hw=(7, 8), cout=4, k=(3, 2), stride=(2, 1),
                         padding=(1, 2), dilation=(1, 2), groups=2, neuron="IF")


def g_conv2d_same(rng):
    return _conv2d_graph(rng, cin=4, hw=(6, 7), cout=4, k=(4, 3), stride=1, padding="same",
                         dilation=(1, 2), groups=4)     # H: pads 1 above, 2 below


def g_conv2d_valid(rng):
    return _conv2d_graph(rng, cin=3, hw=(7, 6), cout=2, k=(3, 3), stride=(2, 3),
                         padding="valid", dilation=1, groups=1, bias=False, gain=0.7)


def g_cnn(rng):
    """Conv -> IF -> SumPool -> Conv -> LIF -> AvgPool -> Flatten -> Affine -> CubaLIF, a
    pool before a conv (kept as a pass layer) and a flatten before an affine."""
    c1 = nir.Conv2d(input_shape=(8, 8), weight=rng.uniform(-0.3, 1, (3, 2, 3, 3)), stride=1,
                    padding=1, dilation=1, groups=1, bias=_v(rng, 3, 0.0, 0.3))
    pool = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                         padding=np.array([0, 0]))
    c2 = nir.Conv2d(input_shape=(4, 4), weight=rng.uniform(-0.8, 1, (4, 3, 3, 3)), stride=1,
                    padding="same", dilation=1, groups=1, bias=_v(rng, 4, -0.1, 0.2))
    avg = nir.AvgPool2d(kernel_size=np.array([3, 3]), stride=np.array([1, 1]),
                        padding=np.array([1, 1]))
    flat = nir.Flatten(input_type={"input": np.array([4, 4, 4])}, start_dim=0)
    nodes = {"in": inp(2, 8, 8), "c1": c1, "if": _shaped(if_(rng, 192, 1.0), (3, 8, 8)),
             "pool": pool, "c2": c2, "lif": _shaped(lif(rng, 64), (4, 4, 4)), "avg": avg,
             "flat": flat, "aff": nir.Affine(w(rng, 5, 64, 0.5), _v(rng, 5, 0, 0.5)),
             "cubalif": cubalif(rng, 5), "out": outp(5)}
    edges = [("in", "c1"), ("c1", "if"), ("if", "pool"), ("pool", "c2"), ("c2", "lif"),
             ("lif", "avg"), ("avg", "flat"), ("flat", "aff"), ("aff", "cubalif"),
             ("cubalif", "out")]
    return graph(nodes, edges, type_check=False)


def g_pools_out(rng):
    """SumPool2d (stride 1, padding 1) and AvgPool2d (kernel 2x3, stride 2) feeding Outputs
    straight (pass layers read out)."""
    sp = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([1, 1]),
                       padding=np.array([1, 1]))
    ap = nir.AvgPool2d(kernel_size=np.array([2, 3]), stride=np.array([2, 2]),
                       padding=np.array([0, 1]))
    return graph({"in": inp(2, 5, 6), "sum": sp, "avg": ap, "o_sum": outp(2, 6, 7),
                  "o_avg": outp(2, 2, 3)},
                 [("in", "sum"), ("sum", "o_sum"), ("in", "avg"), ("avg", "o_avg")],
                 type_check=False)


def g_nested(rng, dotted=False, cell=None):
    """A subgraph with its own Input/Output; ``dotted``: the edges name its ports
    ("sub.i", "sub.o") instead of the subgraph."""
    sub = graph({"i": inp(4), "lin": nir.Linear(w(rng, 3, 4, 3)), "lif": (cell or lif)(rng, 3),
                 "o": outp(3)}, [("i", "lin"), ("lin", "lif"), ("lif", "o")])
    into, out_of = ("sub.i", "sub.o") if dotted else ("sub", "sub")
    return graph({"in": inp(2), "aff": nir.Affine(w(rng, 4, 2, 3), _v(rng, 4, 0, 0.5)),
                  "sub": sub, "lin": nir.Linear(w(rng, 2, 3, 2)), "li": li(rng, 2),
                  "out": outp(2)},
                 [("in", "aff"), ("aff", into), (out_of, "lin"), ("lin", "li"), ("li", "out")],
                 type_check=not dotted)


def g_nested_dotted(rng):
    return g_nested(rng, dotted=True, cell=cubalif)


def g_biased_outputs(rng):
    """Affine and Conv2d (with biases) read out directly: pass layers with their bias."""
    c = nir.Conv2d(input_shape=(4, 4), weight=rng.normal(size=(2, 2, 3, 3)), stride=1,
                   padding=1, dilation=1, groups=1, bias=rng.normal(size=2))
    return graph({"in": inp(2, 4, 4), "conv": c, "flat": nir.Flatten(
        input_type={"input": np.array([2, 4, 4])}, start_dim=0),
        "aff": nir.Affine(rng.normal(size=(3, 32)), rng.normal(size=3)),
        "o_conv": outp(2, 4, 4), "o_aff": outp(3)},
        [("in", "conv"), ("conv", "o_conv"), ("in", "flat"), ("flat", "aff"),
         ("aff", "o_aff")], type_check=False)


def g_two_edges(rng):
    """Two edges into one neuron (from the input via two weights, and from two neuron
    layers) are summed."""
    return graph({"in": inp(3), "a": nir.Affine(w(rng, 4, 3, 3), _v(rng, 4, -.5, .5)),
                  "b": nir.Linear(w(rng, 4, 3, 2)), "lif": lif(rng, 4), "if": if_(rng, 4, 3.0),
                  "l1": nir.Linear(w(rng, 3, 4, 0.8)), "l2": nir.Linear(w(rng, 4, 3)),
                  "l3": nir.Linear(w(rng, 3, 4, 0.8)), "cubalif": cubalif(rng, 3),
                  "o1": outp(3), "o2": outp(4)},
                 [("in", "a"), ("in", "b"), ("a", "lif"), ("b", "lif"), ("in", "l2"),
                  ("l2", "if"), ("a", "if"), ("lif", "l1"), ("if", "l3"), ("l1", "cubalif"),
                  ("l3", "cubalif"), ("cubalif", "o1"), ("if", "o2")], type_check=False)


def g_self_loop(rng):
    """LIF -> Linear -> the same LIF (recurrent: one step later)."""
    return graph({"in": inp(3), "aff": nir.Affine(w(rng, 4, 3, 2), _v(rng, 4, 0, 0.3)),
                  "lif": lif(rng, 4), "rec": nir.Linear(w(rng, 4, 4, 1.5, lo=-1.0)),
                  "out": outp(4)},
                 [("in", "aff"), ("aff", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")])


def g_self_edge(rng):
    """A neuron's direct edge to itself (identity weights, one step later)."""
    return graph({"in": inp(3), "aff": nir.Affine(w(rng, 3, 3, 2), _v(rng, 3, -0.5, 0)),
                  "if": if_(rng, 3, 3.0), "out": outp(3)},
                 [("in", "aff"), ("aff", "if"), ("if", "if"), ("if", "out")])


def g_cycle(rng):
    """A 2-layer cycle: LIF a -> CubaLIF b -> back to a; b -> LI readout."""
    return graph({"in": inp(3), "aff": nir.Affine(w(rng, 4, 3, 2), _v(rng, 4, 0, 0.3)),
                  "a": lif(rng, 4), "ab": nir.Linear(w(rng, 5, 4, 12, lo=0.0)),
                  "b": cubalif(rng, 5),
                  "ba": nir.Linear(w(rng, 4, 5, 1.5, lo=-1.0)), "ro": nir.Linear(w(rng, 2, 5)),
                  "li": li(rng, 2), "out": outp(2)},
                 [("in", "aff"), ("aff", "a"), ("a", "ab"), ("ab", "b"), ("b", "ba"),
                  ("ba", "a"), ("b", "ro"), ("ro", "li"), ("li", "out")])


def g_zoo(rng, r_if=1.0):
    """Every neuron type at once, several Outputs."""
    return graph({"in": inp(4), "aff": nir.Affine(w(rng, 6, 4, 3), _v(rng, 6, -0.3, 0.5)),
                  "lif": lif(rng, 6), "l1": nir.Linear(w(rng, 5, 6, 3)), "cubalif": cubalif(rng, 5),
                  "l2": nir.Linear(w(rng, 4, 5, 3)), "if": if_(rng, 4, r_if),
                  "l3": nir.Linear(w(rng, 3, 4, 2)), "li": li(rng, 3),
                  "sc": nir.Scale(_v(rng, 4, -1, 1)), "i": nir.I(r=_v(rng, 4, 0.2, 1) * r_if),
                  "l4": nir.Linear(w(rng, 3, 5, 2)), "cubali": cubali(rng, 3),
                  "l5": nir.Affine(w(rng, 3, 4), _v(rng, 3, -.2, .2)),
                  "th": nir.Threshold(_v(rng, 3, 0.2, 0.8)),
                  "o_lif": outp(6), "o_li": outp(3), "o_i": outp(4), "o_cubali": outp(3),
                  "o_th": outp(3), "o_if": outp(4)},
                 [("in", "aff"), ("aff", "lif"), ("lif", "l1"), ("l1", "cubalif"),
                  ("cubalif", "l2"), ("l2", "if"), ("if", "l3"), ("l3", "li"), ("if", "sc"),
                  ("sc", "i"), ("cubalif", "l4"), ("l4", "cubali"), ("in", "l5"), ("l5", "th"),
                  ("lif", "o_lif"), ("li", "o_li"), ("i", "o_i"), ("cubali", "o_cubali"),
                  ("th", "o_th"), ("if", "o_if")])


GRAPHS = {f.__name__[2:]: f for f in (
    g_affine_lif, g_linear_cubalif, g_scale_li, g_threshold, g_delay_if, g_i, g_cubali,
    g_conv1d, g_conv2d_int, g_conv2d_pair, g_conv2d_same, g_conv2d_valid, g_cnn, g_pools_out,
    g_biased_outputs, g_nested, g_nested_dotted, g_two_edges, g_self_loop, g_self_edge,
    g_cycle, g_zoo)}


# ====================================================================== comparison
def _inputs(g, rng, steps, scale=1.5):
    return {k: rng.uniform(0, scale, (steps, *np.ravel(v.input_type["input"])))
            for k, v in g.nodes.items() if isinstance(v, nir.Input)}


def _neurons(g, prefix=""):
    out = []
    for k, v in g.nodes.items():
        if isinstance(v, nir.NIRGraph):
            out += _neurons(v, prefix + k + ".")
        elif type(v).__name__ in NEURON_TYPES and not isinstance(v, nir.Threshold):
            out.append(prefix + k)
    return out


def check(g, backend, steps=120, seed=1, scale=1.5, **opts):
    """Run ``g`` with ns.nir.read and the oracle; compare every Output, v and i_syn."""
    x = _inputs(g, np.random.default_rng(seed), steps, scale)
    names = _neurons(g)
    record = [(n, "v") for n in names] + [(n, "i_syn") for n in names
                                          if "Cuba" in type(_flatten(g)[0][n]).__name__]
    got = ns.nir.read(g, dt=DT, backend=backend, **opts).run(x, record=record)
    out, vs, isyn = run_oracle(g, x, **opts)
    nodes, edges = _flatten(g)
    spikes = 0
    for name, node in g.nodes.items():
        if not isinstance(node, nir.Output):
            continue
        src = [s for s, d in edges if d == name][0]
        want = out[src]
        have = np.asarray(got[name], float).reshape(steps, -1)
        kind = type(nodes[src]).__name__
        if kind in SPIKING:
            np.testing.assert_array_equal(have, want, err_msg=f"spikes of {name} ({src})")
            spikes += int(np.count_nonzero(want))
        else:
            np.testing.assert_allclose(have, want, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} ({src})")
    for n in names:
        np.testing.assert_allclose(got[(n, "v")].reshape(steps, -1), vs[n], rtol=1e-10,
                                   atol=1e-12, err_msg=f"v of {n}")
    for n, var in record:
        if var == "i_syn":
            np.testing.assert_allclose(got[(n, var)].reshape(steps, -1), isyn[n], rtol=1e-10,
                                       atol=1e-12, err_msg=f"i_syn of {n}")
    return out, spikes


# ====================================================================== tests
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(GRAPHS))
def test_graph_matches_oracle(name, backend):
    g = GRAPHS[name](np.random.default_rng(7))
    out, _ = check(g, backend)
    nodes, _ = _flatten(g)
    for n, node in nodes.items():      # the comparison means something: every spiking
        if type(node).__name__ in SPIKING:          # layer fires, and not all the time
            frac = np.count_nonzero(out[n]) / out[n].size
            assert 0.02 < frac < 0.95, (n, frac)


OPTION_SETS = [
    dict(reset="subtract"),
    dict(reset_timing="next"),
    dict(reset="subtract", reset_timing="next"),
    dict(v_init="zero"),
    dict(method="exact"),
    dict(method="exact", reset="subtract", v_init="zero"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("opts", OPTION_SETS,
                         ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("name", ["zoo", "cycle", "delay_if", "cnn"])
def test_options_match_oracle(name, opts, backend):
    g = GRAPHS[name](np.random.default_rng(11))
    out, _ = check(g, backend, **opts)
    nodes, _ = _flatten(g)
    for n, node in nodes.items():
        if type(node).__name__ in SPIKING:
            assert np.count_nonzero(out[n]), n


@pytest.mark.parametrize("backend", BACKENDS)
def test_spike_dirac(backend):
    """spike="dirac": a spike is 1/dt, in the outputs and into the next layer (whose
    weights are scaled by dt here to stay in range)."""
    g = g_zoo(np.random.default_rng(11))
    for k in ("l1", "l2", "l3", "l4"):
        g.nodes[k].weight = g.nodes[k].weight * DT
    g.nodes["sc"].scale = g.nodes["sc"].scale * DT
    out, spikes = check(g, backend, spike="dirac")
    assert spikes > 0 and set(np.unique(out["if"])) == {0.0, 1 / DT}
    assert np.count_nonzero(out["cubalif"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_integrate_seconds(backend):
    """integrate="seconds": I and IF add r I dt per step (r scaled by 1/dt to stay active)."""
    g = g_zoo(np.random.default_rng(3), r_if=1 / DT)
    out, _ = check(g, backend, integrate="seconds")
    assert 0 < np.count_nonzero(out["if"]) < out["if"].size
    # I alone: the same input gives dt times the per-step integral
    g = graph({"in": inp(3), "i": nir.I(r=np.array([0.5, 1.0, 2.0])), "out": outp(3)},
              [("in", "i"), ("i", "out")])
    x = np.random.default_rng(0).uniform(-1, 1, (20, 3))
    a = ns.nir.read(g, dt=DT, backend=backend).run(x)["out"]
    b = ns.nir.read(g, dt=DT, backend=backend, integrate="seconds").run(x)["out"]
    np.testing.assert_allclose(a, np.cumsum(x, axis=0) * [0.5, 1.0, 2.0], rtol=1e-12)
    np.testing.assert_allclose(b, a * DT, rtol=1e-12)


def _exact_graph(rng, gain=1.0):
    return graph({"in": inp(3), "aff": nir.Affine(w(rng, 5, 3, 4 * gain), _v(rng, 5, -.5, 1)),
                  "lif": lif(rng, 5, tau=(2e-3, 6e-3)), "l1": nir.Linear(w(rng, 3, 5, 2)),
                  "li": li(rng, 3), "l2": nir.Linear(w(rng, 4, 5, 4)), "cubalif": cubalif(rng, 4),
                  "l3": nir.Linear(w(rng, 2, 4, 3)), "cubali": cubali(rng, 2),
                  "o_lif": outp(5), "o_li": outp(3), "o_cubalif": outp(4), "o_cubali": outp(2)},
                 [("in", "aff"), ("aff", "lif"), ("lif", "l1"), ("l1", "li"), ("lif", "l2"),
                  ("l2", "cubalif"), ("cubalif", "l3"), ("l3", "cubali"), ("lif", "o_lif"),
                  ("li", "o_li"), ("cubalif", "o_cubalif"), ("cubali", "o_cubali")])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_exact_matches_closed_form(backend, reset):
    """method="exact": LI/CubaLI in closed form, LIF reset at its crossing time inside the
    step (input held over the step), CubaLIF checked at the step's end."""
    out, spikes = check(_exact_graph(np.random.default_rng(5)), backend, method="exact",
                     reset=reset)
    assert 0 < np.count_nonzero(out["lif"]) < out["lif"].size
    assert np.count_nonzero(out["cubalif"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_lif_counts_several_crossings(backend):
    """A drive far above threshold with tau << dt crosses several times in one step: the
    output is the count of crossings, each reset at its own time."""
    g = graph({"in": inp(3), "lin": nir.Linear(np.diag([3.0, 5.0, 8.0])),
               "lif": nir.LIF(tau=np.array([2e-4, 3e-4, 1e-4]), r=np.ones(3),
                              v_leak=np.zeros(3), v_threshold=np.ones(3),
                              v_reset=np.array([0.0, -0.2, 0.3])), "out": outp(3)},
              [("in", "lin"), ("lin", "lif"), ("lif", "out")])
    out, _ = check(g, backend, steps=20, method="exact")
    assert out["lif"].max() >= 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_lif_single_step_closed_form(backend):
    """One LIF, constant input 2 from v = 0, tau = dt: crossing at t* = tau ln 2, then from
    v_reset = 0 for dt - t* (written out by hand)."""
    g = graph({"in": inp(1), "lif": nir.LIF(tau=np.array([DT]), r=np.ones(1),
                                            v_leak=np.zeros(1), v_threshold=np.ones(1)),
               "out": outp(1)}, [("in", "lif"), ("lif", "out")])
    res = ns.nir.read(g, dt=DT, method="exact", backend=backend).run(
        np.full((1, 1), 2.0), record=[("lif", "v")])
    t_star = DT * np.log(2.0)
    assert res["out"][0, 0] == 1
    np.testing.assert_allclose(res[("lif", "v")][0, 0], 2.0 * (1 - np.exp(-(DT - t_star) / DT)),
                               rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_v_init_leak_vs_zero(backend):
    """v_init="leak" starts the leaky models at v_leak, "zero" at 0; IF/I start at 0."""
    rng = np.random.default_rng(2)
    g = graph({"in": inp(2), "lin": nir.Linear(w(rng, 4, 2)), "lif": lif(rng, 4),
               "li": li(rng, 4), "cubalif": cubalif(rng, 4), "cubali": cubali(rng, 4),
               "if": if_(rng, 4), "i": nir.I(r=np.ones(4)), "o1": outp(4), "o2": outp(4),
               "o3": outp(4), "o4": outp(4), "o5": outp(4), "o6": outp(4)},
              [("in", "lin")] + [("lin", n) for n in ("lif", "li", "cubalif", "cubali", "if",
                                                       "i")]
              + [(n, f"o{k}") for k, n in enumerate(("lif", "li", "cubalif", "cubali", "if",
                                                      "i"), 1)])
    x = {"in": np.zeros((2, 2))}
    names = ["lif", "cubalif", "li", "cubali", "if", "i"]
    rec = [(n, "v") for n in names]
    leak = ns.nir.read(g, dt=DT, backend=backend).run(x, record=rec)
    zero = ns.nir.read(g, dt=DT, backend=backend, v_init="zero").run(x, record=rec)
    for n in ("lif", "li", "cubalif", "cubali"):
        vl = np.asarray(g.nodes[n].v_leak)
        tau = np.asarray(getattr(g.nodes[n], "tau_mem", getattr(g.nodes[n], "tau", None)))
        np.testing.assert_allclose(leak[(n, "v")][0], vl, rtol=1e-14)   # stays at v_leak
        np.testing.assert_allclose(zero[(n, "v")][0], DT / tau * vl, rtol=1e-12)
    for n in ("if", "i"):
        assert not np.any(leak[(n, "v")]) and not np.any(zero[(n, "v")])


# ---------------------------------------------------------------------- pinned schedules
def _pulse(steps, at, n=1, value=1.0):
    x = np.zeros((steps, n))
    x[at] = value
    return x


@pytest.mark.parametrize("backend", BACKENDS)
def test_feedforward_chain_spikes_in_the_same_step(backend):
    """Input -> LIF -> LIF -> LIF with huge weights: the output spikes in the pulse's step."""
    big = lambda: nir.LIF(tau=np.full(1, 1e-2), r=np.ones(1), v_leak=np.zeros(1),  # noqa: E731
                          v_threshold=np.ones(1))
    g = graph({"in": inp(1), "w0": nir.Linear(np.full((1, 1), 1e4)), "a": big(),
               "w1": nir.Linear(np.full((1, 1), 1e4)), "b": big(),
               "w2": nir.Linear(np.full((1, 1), 1e4)), "c": big(), "out": outp(1)},
              [("in", "w0"), ("w0", "a"), ("a", "w1"), ("w1", "b"), ("b", "w2"), ("w2", "c"),
               ("c", "out")])
    res = ns.nir.read(g, dt=DT, backend=backend).run(_pulse(10, 5), record=[("a", "out"),
                                                                            ("b", "out")])
    want = _pulse(10, 5).astype(np.uint8)
    for got in (res[("a", "out")], res[("b", "out")], res["out"]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_recurrent_edge_acts_one_step_later(backend):
    """A pulse makes the LIF spike at step 3 (reset to 0); its self-loop (weight 0.5 through a
    Linear) reaches it at step 4, not 3: v[4] = dt/tau * 0.5 exactly."""
    tau = 1e-2
    g = graph({"in": inp(1), "w0": nir.Linear(np.full((1, 1), 1e4)),
               "lif": nir.LIF(tau=np.full(1, tau), r=np.ones(1), v_leak=np.zeros(1),
                              v_threshold=np.ones(1)),
               "rec": nir.Linear(np.full((1, 1), 0.5)), "out": outp(1)},
              [("in", "w0"), ("w0", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")])
    res = ns.nir.read(g, dt=DT, backend=backend).run(_pulse(8, 3), record=[("lif", "v")])
    v = res[("lif", "v")][:, 0]
    np.testing.assert_array_equal(res["out"][:, 0], _pulse(8, 3)[:, 0])
    assert v[3] == 0.0
    np.testing.assert_allclose(v[4], DT / tau * 0.5, rtol=1e-14)
    np.testing.assert_allclose(v[5], v[4] * (1 - DT / tau), rtol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_layer_cycle_latency(backend):
    """a -> b same step; b -> a one step later: a pulse at 2 gives a, b at 2, then a, b at 3,
    4, ... (the loop sustains itself one step per turn)."""
    big = lambda: nir.LIF(tau=np.full(1, 1e-2), r=np.ones(1), v_leak=np.zeros(1),  # noqa: E731
                          v_threshold=np.ones(1))
    g = graph({"in": inp(1), "w0": nir.Linear(np.full((1, 1), 1e4)), "a": big(),
               "ab": nir.Linear(np.full((1, 1), 1e4)), "b": big(),
               "ba": nir.Linear(np.full((1, 1), 1e4)), "out": outp(1)},
              [("in", "w0"), ("w0", "a"), ("a", "ab"), ("ab", "b"), ("b", "ba"), ("ba", "a"),
               ("b", "out")])
    res = ns.nir.read(g, dt=DT, backend=backend).run(_pulse(7, 2), record=[("a", "out")])
    want = np.array([0, 0, 1, 1, 1, 1, 1], np.uint8)[:, None]
    np.testing.assert_array_equal(res[("a", "out")], want)
    np.testing.assert_array_equal(res["out"], want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_delay_steps(backend):
    """Delay of 3 dt: a pulse at step 1 reaches the IF at step 4."""
    g = graph({"in": inp(1), "d": nir.Delay(np.array([3 * DT])),
               "if": nir.IF(r=np.ones(1), v_threshold=np.full(1, 0.5)), "out": outp(1)},
              [("in", "d"), ("d", "if"), ("if", "out")])
    res = ns.nir.read(g, dt=DT, backend=backend).run(_pulse(8, 1))
    np.testing.assert_array_equal(res["out"][:, 0], _pulse(8, 4)[:, 0])


def _bias_loop(read_out):
    nodes = {"in": inp(1), "w0": nir.Linear(np.zeros((1, 1))),
             "lif": nir.LIF(tau=np.full(1, 1e-2), r=np.ones(1), v_leak=np.zeros(1),
                            v_threshold=np.full(1, 10.0)),
             "rec": nir.Affine(np.full((1, 1), 0.5), np.array([0.3])), "out": outp(1)}
    edges = [("in", "w0"), ("w0", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")]
    if read_out:
        nodes["o_rec"] = outp(1)
        edges.append(("rec", "o_rec"))
    return graph(nodes, edges)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bias_on_recurrent_path_acts_from_step_0(backend):
    """"a bias on that path acts from step 0": v[0] = dt/tau * 0.3."""
    res = ns.nir.read(_bias_loop(False), dt=DT, backend=backend).run(
        np.zeros((3, 1)), record=[("lif", "v")])
    np.testing.assert_allclose(res[("lif", "v")][0, 0], DT / 1e-2 * 0.3, rtol=1e-14)
    check(_bias_loop(False), backend, steps=5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bias_on_recurrent_path_read_out_acts_from_step_0(backend):
    res = ns.nir.read(_bias_loop(True), dt=DT, backend=backend).run(
        np.zeros((3, 1)), record=[("lif", "v")])
    np.testing.assert_allclose(res[("lif", "v")][0, 0], DT / 1e-2 * 0.3, rtol=1e-14)


# ---------------------------------------------------------------------- errors
def _small():
    rng = np.random.default_rng(0)
    return g_affine_lif(rng)


@pytest.mark.parametrize("where", ["lif", "sub/nodes/lif"])
def test_unknown_node_type_in_file(tmp_path, where):
    """A node whose 'type' nir does not define (top level, or inside a subgraph): the error
    names the node (dotted) and the type."""
    path = tmp_path / "net.nir"
    nir.write(str(path), g_nested(np.random.default_rng(0)) if "sub" in where else _small())
    with h5py.File(path, "r+") as f:
        del f[f"node/nodes/{where}/type"]
        f[f"node/nodes/{where}/type"] = np.bytes_("LSTM")
    name = where.replace("/nodes/", ".").replace(".", r"\.")
    with pytest.raises(ns.nir.NIRError, match=rf"'{name}'.*'LSTM'"):
        ns.nir.read(path, dt=DT)


def test_file_round_trip_matches_graph(tmp_path):
    path = tmp_path / "zoo.nir"
    g = g_zoo(np.random.default_rng(4))
    nir.write(str(path), g)
    x = _inputs(g, np.random.default_rng(0), 60)
    a = ns.nir.read(path, dt=DT).run(x)
    b = ns.nir.read(g, dt=DT).run(x)
    for k in b:
        np.testing.assert_array_equal(a[k], b[k])


def test_not_hdf5(tmp_path):
    path = tmp_path / "text.nir"
    path.write_text("this is not a NIR graph\n")
    with pytest.raises(ns.nir.NIRError, match="HDF5"):
        ns.nir.read(path, dt=DT)


def test_missing_file(tmp_path):
    with pytest.raises(ParameterError, match="absent.nir"):
        ns.nir.read(tmp_path / "absent.nir", dt=DT)


def test_weight_of_wrong_shape():
    g = graph({"in": inp(3), "aff": nir.Affine(np.ones((5, 4)), np.zeros(5)),
               "lif": lif(np.random.default_rng(0), 5), "out": outp(5)},
              [("in", "aff"), ("aff", "lif"), ("lif", "out")], type_check=False)
    with pytest.raises(ns.nir.NIRError, match=r"'aff' \(Affine\).*weight"):
        ns.nir.read(g, dt=DT)


def test_neuron_of_wrong_size():
    g = graph({"in": inp(3), "lin": nir.Linear(np.ones((5, 3))),
               "lif": lif(np.random.default_rng(0), 4), "out": outp(4)},
              [("in", "lin"), ("lin", "lif"), ("lif", "out")], type_check=False)
    with pytest.raises(ns.nir.NIRError, match="'lif'"):
        ns.nir.read(g, dt=DT)


def test_delay_off_grid():
    g = graph({"in": inp(2), "late": nir.Delay(np.array([DT, 2.5 * DT])),
               "if": if_(np.random.default_rng(0), 2), "out": outp(2)},
              [("in", "late"), ("late", "if"), ("if", "out")])
    with pytest.raises(ns.nir.NIRError, match=r"'late' \(Delay\)"):
        ns.nir.read(g, dt=DT)
    ns.nir.read(g, dt=DT / 2)                  # on the grid of a finer step


def test_edge_to_missing_node():
    g = graph({"in": inp(3), "aff": nir.Affine(np.ones((5, 3)), np.zeros(5)),
               "lif": lif(np.random.default_rng(0), 5), "out": outp(5)},
              [("in", "aff"), ("aff", "ghost"), ("lif", "out")], type_check=False)
    with pytest.raises(ns.nir.NIRError, match="'ghost'"):
        ns.nir.read(g, dt=DT)


@pytest.mark.parametrize("kind", ["LIF", "LI", "CubaLIF"])
def test_negative_tau(kind):
    rng = np.random.default_rng(0)
    node = {"LIF": lif, "LI": li, "CubaLIF": cubalif}[kind](rng, 5)
    field = "tau_syn" if kind == "CubaLIF" else "tau"
    setattr(node, field, np.array([1e-3, -2e-3, 1e-3, 1e-3, 1e-3]))
    g = graph({"in": inp(3), "aff": nir.Affine(np.ones((5, 3)), np.zeros(5)), "cell": node,
               "out": outp(5)}, [("in", "aff"), ("aff", "cell"), ("cell", "out")])
    with pytest.raises(ns.nir.NIRError, match=rf"'cell' \({kind}\).*{field}"):
        ns.nir.read(g, dt=DT)


@pytest.mark.parametrize("kw", [dict(dt=0.0), dict(dt=DT, method="rk4"),
                                dict(dt=DT, reset="hold"), dict(dt=DT, reset_timing="later"),
                                dict(dt=DT, method="exact", reset_timing="next")])
def test_bad_options(kw):
    with pytest.raises(ParameterError):
        ns.nir.read(_small(), **kw)


@pytest.mark.parametrize("backend", BACKENDS)
def test_threshold_is_strict(backend):
    """IF (r = 1, threshold 1) fed 0.5 per step: v = 0.5, 1.0 (equal: no spike), 1.5
    (spike); a Threshold node fed exactly its threshold does not fire."""
    g = graph({"in": inp(1), "if": nir.IF(r=np.ones(1), v_threshold=np.ones(1)),
               "th": nir.Threshold(np.full(1, 0.5)), "o_if": outp(1), "o_th": outp(1)},
              [("in", "if"), ("in", "th"), ("if", "o_if"), ("th", "o_th")])
    res = ns.nir.read(g, dt=DT, backend=backend).run(np.full((4, 1), 0.5))
    np.testing.assert_array_equal(res["o_if"][:, 0], [0, 0, 1, 0])
    np.testing.assert_array_equal(res["o_th"][:, 0], [0, 0, 0, 0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_keep_state_continues(backend):
    """Two runs of 60 steps with keep_state=True are the oracle's 120 steps; a third run
    without it starts again from the initial state."""
    g = g_cycle(np.random.default_rng(7))
    x = _inputs(g, np.random.default_rng(1), 120)
    out, _, _ = run_oracle(g, x)
    net = ns.nir.read(g, dt=DT, backend=backend)
    first = net.run({"in": x["in"][:60]}, record=[("b", "out")])
    second = net.run({"in": x["in"][60:]}, record=[("b", "out")], keep_state=True)
    np.testing.assert_array_equal(np.concatenate([first[("b", "out")], second[("b", "out")]]),
                                  out["b"])
    np.testing.assert_allclose(np.concatenate([first["out"], second["out"]]), out["li"],
                               rtol=1e-10, atol=1e-12)
    again = net.run({"in": x["in"][:60]}, record=[("b", "out")])
    np.testing.assert_array_equal(again[("b", "out")], first[("b", "out")])


def _fast():
    """A LIF with tau = dt (Euler: v = I each step) and threshold 0.5."""
    return nir.LIF(tau=np.full(1, DT), r=np.ones(1), v_leak=np.zeros(1),
                   v_threshold=np.full(1, 0.5))


@pytest.mark.parametrize("backend", BACKENDS)
def test_cycle_through_a_delay_has_the_delays_latency_only(backend):
    """in -> Delay(2 dt) -> LIF -> Linear -> back into the Delay: the Delay (>= 1 step)
    breaks the cycle itself (y(t) = x(t - 2 dt), NIR's definition), no recurrent step is
    added: the LIF fires every 2 steps (the documented rule; an extra step, as a scheduler
    that reads the Delay's previous output would add, gives every 3)."""
    g = graph({"in": inp(1), "d": nir.Delay(np.array([2 * DT])), "lif": _fast(),
               "lin": nir.Linear(np.ones((1, 1))), "o": outp(1)},
              [("in", "d"), ("d", "lif"), ("lif", "lin"), ("lin", "d"), ("lif", "o")])
    res = ns.nir.read(g, dt=DT, backend=backend).run(_pulse(12, 0))
    np.testing.assert_array_equal(res["o"][:, 0], [0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_equal_distance_cycle_delays_the_edge_into_the_first_name(backend):
    """in -> a, in -> b (both at distance 2), a -> b and b -> a directly: of the tie, only
    the edge into the node whose name sorts first (b -> a) is delayed, so a -> b acts in
    the same step: after the pulse both fire every step."""
    g = graph({"in": inp(1), "wa": nir.Linear(np.ones((1, 1))),
               "wb": nir.Linear(np.zeros((1, 1))), "a": _fast(), "b": _fast(),
               "oa": outp(1), "ob": outp(1)},
              [("in", "wa"), ("wa", "a"), ("in", "wb"), ("wb", "b"), ("a", "b"), ("b", "a"),
               ("a", "oa"), ("b", "ob")], type_check=False)
    res = ns.nir.read(g, dt=DT, backend=backend).run(_pulse(6, 1))
    np.testing.assert_array_equal(res["oa"][:, 0], [0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(res["ob"][:, 0], [0, 1, 1, 1, 1, 1])

