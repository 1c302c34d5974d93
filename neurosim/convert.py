"""ANN-to-SNN conversion: a ReLU MLP becomes a network of integrate-and-fire neurons.

Pipeline::

    data = ns.convert.load_digits()                         # scikit-learn's 8x8 digits
    ann = ns.convert.train_mlp(data.x_train, data.y_train)  # plain numpy, or MLP(weights, biases)
    snn = ns.convert.convert(ann, data.x_train)             # data-based normalisation
    res = snn.evaluate(data.x_test, data.y_test, steps=[25, 50, 100])
    res.accuracy                                            # {steps: accuracy}

Conversion (rate coding; Diehl et al. 2015, Rueckauer et al. 2017):

- every ReLU unit becomes a non-leaky integrate-and-fire neuron (LIF with tau_m = 1e4 s, so
  the leak over a run is below 1e-4 of v) with threshold 1 and reset by subtraction (or to
  zero with ``reset="value"``); a spike adds its weight to v at the next step (synaptic time
  constant dt/20, so the current is spent within one step);
- data-based weight normalisation: lambda_l is the ``percentile`` of layer l's ReLU
  activations over ``x_norm``; W_l -> W_l lambda_(l-1) / lambda_l, b_l -> b_l / lambda_l, so
  a rate of one spike per step stands for an activation of lambda_l;
- biases are constant currents adding b_l / lambda_l to v every step;
- input (pixels in [0, 1]): ``"current"`` drives a layer of the same integrate-and-fire
  neurons with a constant current x per step (regular spike trains at x spikes per step),
  ``"poisson"`` uses Poisson sources firing at x * ``max_rate``;
- read-out: ``"spikes"`` (spike counts of the output layer, ties broken by the membrane
  potential) or ``"membrane"`` (output neurons never fire; the class is the largest v).

Every synaptic operation of the SNN happens inside the simulated network, so the engine's
counts give its energy (:func:`neurosim.energy.estimate`).
"""

import sys
from dataclasses import dataclass, field, replace

import numpy as np
from tqdm.auto import tqdm

from .counters import Counts
from .validation import abstract_units, check_choice, check_int, check_positive, fail

__all__ = ["Digits", "load_digits", "MLP", "train_mlp", "convert", "ConvertedSNN",
           "SNNResult"]

TAU_M = 1e4          # s: leak negligible over any run
V_TH = 1.0           # threshold (v_rest = v_reset = 0): normalised units, stored as volts


@dataclass
class Digits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(test_fraction=0.2, seed=0):
    """scikit-learn's 8x8 digits (1,797 images, shipped with the package: no download),
    pixels scaled to [0, 1], split stratified into train and test."""
    from sklearn.datasets import load_digits as _load
    from sklearn.model_selection import train_test_split
    if not 0 < test_fraction < 1:
        fail("test_fraction", "in (0, 1)", test_fraction)
    d = _load()
    x = d.data.astype(np.float64) / 16.0
    xtr, xte, ytr, yte = train_test_split(x, d.target, test_size=test_fraction,
                                          random_state=seed, stratify=d.target)
    return Digits(xtr, ytr.astype(np.int64), xte, yte.astype(np.int64))


# ---------------------------------------------------------------------------- the ANN
@dataclass
class MLP:
    """A ReLU MLP: ``weights[l]`` has shape (n_in, n_out), ``biases[l]`` shape (n_out,).
    The last layer is linear (logits)."""
    weights: list
    biases: list = None

    def __post_init__(self):
        ws = [np.asarray(w, dtype=np.float64) for w in self.weights]
        if not ws:
            fail("weights", "a non-empty list of 2-D arrays", self.weights)
        bs = ([np.zeros(w.shape[1]) for w in ws] if self.biases is None
              else [np.asarray(b, dtype=np.float64) for b in self.biases])
        if len(bs) != len(ws):
            fail("biases", f"one per layer ({len(ws)})", len(bs))
        for i, (w, b) in enumerate(zip(ws, bs)):
            if w.ndim != 2:
                fail(f"weights[{i}]", "a 2-D array (n_in, n_out)", w.shape)
            if i and w.shape[0] != ws[i - 1].shape[1]:
                fail(f"weights[{i}]", f"{ws[i - 1].shape[1]} rows (the previous layer's "
                     f"outputs)", w.shape)
            if b.shape != (w.shape[1],):
                fail(f"biases[{i}]", f"shape ({w.shape[1]},)", b.shape)
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                fail(f"weights[{i}]/biases[{i}]", "finite", "nan or inf")
        self.weights, self.biases = ws, bs

    @property
    def sizes(self):
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    def activations(self, x):
        """Per layer: the ReLU activations (last: the logits)."""
        out, h = [], np.asarray(x, dtype=np.float64)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w + b
            if i < len(self.weights) - 1:
                h = np.maximum(h, 0.0)
            out.append(h)
        return out

    def predict(self, x):
        return np.argmax(self.activations(x)[-1], axis=1)

    def accuracy(self, x, y):
        return float(np.mean(self.predict(x) == np.asarray(y)))


def train_mlp(x, y, hidden=(64,), epochs=150, lr=3e-3, batch=64, weight_decay=1e-4,
              seed=0):
    """Train a ReLU MLP with softmax cross-entropy and Adam, in plain numpy."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        fail("x, y", "x of shape (n, features) and y of shape (n,)", (x.shape, y.shape))
    check_int("epochs", epochs, 1)
    check_int("batch", batch, 1)
    check_positive("lr", lr)
    rng = np.random.default_rng(seed)
    sizes = [x.shape[1], *[check_int("hidden", h, 1) for h in hidden], int(y.max()) + 1]
    ws = [rng.normal(0, np.sqrt(2.0 / a), (a, b)) for a, b in zip(sizes, sizes[1:])]
    bs = [np.zeros(b) for b in sizes[1:]]
    params = ws + bs
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0
    n_layers = len(ws)
    for _ in range(epochs):
        order = rng.permutation(x.shape[0])
        for s in range(0, x.shape[0], batch):
            idx = order[s:s + batch]
            hs = [x[idx]]
            for i in range(n_layers):
                z = hs[-1] @ ws[i] + bs[i]
                hs.append(np.maximum(z, 0.0) if i < n_layers - 1 else z)
            p = np.exp(hs[-1] - hs[-1].max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            g = p
            g[np.arange(idx.size), y[idx]] -= 1.0
            g /= idx.size
            gw, gb = [None] * n_layers, [None] * n_layers
            for i in reversed(range(n_layers)):
                gw[i] = hs[i].T @ g + weight_decay * ws[i]
                gb[i] = g.sum(axis=0)
                if i:
                    g = (g @ ws[i].T) * (hs[i] > 0)
            t += 1
            for k, (pk, gk) in enumerate(zip(params, gw + gb)):
                m[k] = 0.9 * m[k] + 0.1 * gk
                v[k] = 0.999 * v[k] + 0.001 * gk * gk
                pk -= lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
    return MLP(ws, bs)


# ---------------------------------------------------------------------------- conversion
@dataclass
class SNNResult:
    """Outcome of :meth:`ConvertedSNN.evaluate`.

    ``accuracy[steps]``: fraction correct after that many steps; ``predictions[steps]``;
    ``counts``: engine counts summed over every inference (``counts.runs`` inferences of
    ``max(steps)`` steps); ``counts_at[steps]``: the counts of the first ``steps`` steps of
    every inference (the energy at that budget); ``rates``: mean rate (spikes per step) of
    each layer over ``max(steps)`` steps.
    """
    accuracy: dict
    predictions: dict
    counts: Counts
    rates: dict = field(default_factory=dict)
    interrupted: bool = False
    counts_at: dict = field(default_factory=dict)   # steps -> Counts of the first steps


@dataclass
class ConvertedSNN:
    """A converted network: normalised weights and the options to simulate it."""
    ann: MLP
    weights: list            # normalised (threshold units)
    biases: list             # normalised, per step
    scales: list             # [input spikes per step for x = 1, lambda_1, ..., lambda_L]
    dt: float
    reset: str
    input: str
    readout: str
    max_rate: float
    seed: int

    def layer_names(self):
        n = len(self.weights)
        return ["input"] + [f"hidden{i}" for i in range(n - 1)] + ["output"]

    def program(self, crossbar):
        """Program every layer's weights into crossbars like ``crossbar`` (an unprogrammed
        :class:`neurosim.crossbar.Crossbar`; layer i uses seed ``crossbar.seed + i``): the
        chip that :meth:`network` and :meth:`evaluate` then use for every input."""
        gain = _weight_gain(self.dt, self.dt / 20)
        return [crossbar.program(w * gain, seed=crossbar.seed + i)
                for i, w in enumerate(self.weights)]

    def network(self, x, dtype="float64", monitor=True, crossbars=None):
        """The SNN for one input ``x`` (pixels in [0, 1]) as a :class:`~neurosim.Network`,
        with spike monitors on every layer and a state monitor of the output's v.
        ``crossbars`` (from :meth:`program`) makes every layer's synapses crossbar arrays.

        Returns ``(net, spike_monitors, v_monitor)``.
        """
        x = np.asarray(x, dtype=np.float64).ravel()
        if x.shape[0] != self.weights[0].shape[0]:
            fail("x", f"{self.weights[0].shape[0]} input values", x.shape[0])
        with abstract_units():          # thresholds of 1, an integrate-and-fire tau_m
            return self._network(x, dtype, monitor, crossbars)

    def _network(self, x, dtype, monitor, crossbars):
        from .network import Network
        net = Network(dt=self.dt, seed=self.seed, dtype=dtype)
        names = self.layer_names()
        tau_s = self.dt / 20
        lif = dict(tau_m=TAU_M, tau_syn=tau_s, v_rest=0.0, v_reset=0.0, reset=self.reset)
        e_m = np.exp(-self.dt / TAU_M)
        bias_gain = 1.0 / (1.0 - e_m)          # I_bias that adds 1 to v per step
        if self.input == "current":
            pre = net.lif(x.shape[0], v_th=V_TH, bias=np.clip(x, 0, None) * bias_gain,
                          name=names[0], **lif)
        else:
            pre = net.poisson(x.shape[0], rate=np.clip(x, 0, 1) * self.max_rate, name=names[0])
        pops = [pre]
        w_gain = _weight_gain(self.dt, tau_s)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            last = i == len(self.weights) - 1
            v_th = 1e30 if (last and self.readout == "membrane") else V_TH
            post = net.lif(w.shape[1], v_th=v_th, bias=b * bias_gain, name=names[i + 1], **lif)
            if crossbars is None:
                net.connect(pre, post, weight=w * w_gain, name=f"{names[i]}->{names[i + 1]}")
            else:
                net.connect(pre, post, weight=None, synapse=crossbars[i],
                            name=f"{names[i]}->{names[i + 1]}")
            pops.append(post)
            pre = post
        mons = [net.spike_monitor(p) for p in pops] if monitor else []
        vmon = net.state_monitor(pops[-1], "v")
        return net, mons, vmon

    def evaluate(self, x, y=None, steps=(25, 50, 100), progress=None, crossbars=None):
        """Simulate every sample of ``x`` for ``max(steps)`` steps; accuracy (with ``y``) and
        predictions after each budget in ``steps``. Ctrl-C stops between samples and keeps
        the results so far (``interrupted`` is then True). ``crossbars`` (from
        :meth:`program`) runs every layer on crossbar synapses; the counts of the longest
        budget then carry the arrays' own counters (for energy estimates)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        budgets = sorted({check_int("steps", int(s), 1) for s in np.atleast_1d(steps)})
        t_max = budgets[-1]
        preds = {b: [] for b in budgets}
        gcd = int(np.gcd.reduce(budgets))
        counts = {b: None for b in budgets}
        spikes = {}
        done = 0
        interrupted = False
        try:
            for xi in tqdm(x, desc="inferences", unit="sample", leave=False,
                           disable=not (progress if progress is not None
                                        else len(x) > 50 and sys.stderr.isatty())):
                net, mons, vmon = self.network(xi, crossbars=crossbars)
                cm = net.count_monitor(gcd * self.dt)
                net.run(t_max * self.dt, progress=False)
                out = mons[-1]
                v = vmon.values        # (steps, n_out): v at the start of each step
                for b in budgets:
                    k = np.bincount(out.indices[out.steps < b], minlength=v.shape[1])
                    v_b = v[b] if b < v.shape[0] else net.population("output").v
                    score = (v_b if self.readout == "membrane"
                             else k + np.clip(v_b, -0.999, 0.999) / 2)
                    preds[b].append(int(np.argmax(score)))
                for b in budgets:
                    c = replace(net.counts() if b == t_max else sum(cm.bins[:b // gcd]),
                                runs=1)  # one inference
                    counts[b] = c if counts[b] is None else counts[b] + c
                for name, pc in net.counts().populations.items():
                    spikes[name] = spikes.get(name, 0) + pc.spikes
                done += 1
        except KeyboardInterrupt:
            interrupted = True
        if done == 0:
            raise KeyboardInterrupt("interrupted before the first inference finished")
        preds = {b: np.array(p) for b, p in preds.items()}
        acc = ({b: float(np.mean(p == np.asarray(y)[:done])) for b, p in preds.items()}
               if y is not None else {})
        sizes = {p.name: p.n for p in net.populations}
        rates = {k: spikes[k] / (sizes[k] * t_max * done) for k in spikes}
        return SNNResult(acc, preds, counts[t_max], rates, interrupted, counts)


def _weight_gain(dt, tau_s):
    """Weight (V) whose spike raises v by exactly 1 in total (current spent in ~1 step)."""
    from .models.lif import _current_gain
    c = _current_gain(tau_s, TAU_M, dt)
    e_s, e_m = np.exp(-dt / tau_s), np.exp(-dt / TAU_M)
    # v gains c*I at the first step, then c*I*e_s (decayed by e_m) ...: geometric series
    return 1.0 / (c / (1.0 - e_s * e_m))


def convert(ann, x_norm, percentile=99.9, reset="subtract", input="current",
            readout="spikes", dt=1e-3, max_rate=None, seed=0):
    """Convert a ReLU MLP to an SNN (see the module docstring).

    Parameters
    ----------
    ann : MLP or (weights, biases)
        The trained network (weights as (n_in, n_out) arrays, e.g. from PyTorch's
        ``layer.weight.T`` or Keras' ``layer.get_weights()``).
    x_norm : array (n, features)
        Data for the normalisation (the training set or a part of it), values in [0, 1].
    percentile : float
        Percentile of each layer's activations that maps to one spike per step (0-100].
    reset : {"subtract", "value"}
    input : {"current", "poisson"}
    readout : {"spikes", "membrane"}
    dt : float
        Time step (s).
    max_rate : float, optional
        Poisson rate of a pixel of value 1 (Hz); default 1/dt (p = 1 per step).
    """
    if not isinstance(ann, MLP):
        if isinstance(ann, (list, tuple)) and len(ann) == 2:
            ann = MLP(*ann)
        else:
            fail("ann", "an MLP or a (weights, biases) pair", type(ann).__name__)
    check_choice("reset", reset, ("subtract", "value"))
    check_choice("input", input, ("current", "poisson"))
    check_choice("readout", readout, ("spikes", "membrane"))
    check_positive("dt", dt, "s")
    if not 0 < percentile <= 100:
        fail("percentile", "in (0, 100]", percentile)
    max_rate = 1.0 / dt if max_rate is None else check_positive("max_rate", max_rate, "Hz")
    if max_rate * dt > 1:
        fail("max_rate", f"<= 1/dt = {1 / dt:g} Hz (at most one spike per step)", max_rate)
    x_norm = np.asarray(x_norm, dtype=np.float64)
    if x_norm.ndim != 2 or x_norm.shape[1] != ann.sizes[0]:
        fail("x_norm", f"an array (n, {ann.sizes[0]})", x_norm.shape)
    if x_norm.min() < 0 or x_norm.max() > 1:
        fail("x_norm", "values in [0, 1] (scale the inputs first)",
             f"[{x_norm.min():g}, {x_norm.max():g}]")
    acts = ann.activations(x_norm)
    # an input of value x fires x spikes per step ("current") or x * max_rate * dt
    scales = [1.0 if input == "current" else max_rate * dt]
    weights, biases = [], []
    for i, (w, b) in enumerate(zip(ann.weights, ann.biases)):
        a = acts[i]
        lam = float(np.percentile(a[a > 0], percentile)) if np.any(a > 0) else 1.0
        in_scale = 1.0 / scales[0] if i == 0 else scales[-1]
        weights.append(w * in_scale / lam)
        biases.append(b / lam)
        scales.append(lam)
    return ConvertedSNN(ann=ann, weights=weights, biases=biases, scales=scales, dt=dt,
                        reset=reset, input=input, readout=readout, max_rate=max_rate,
                        seed=seed)
