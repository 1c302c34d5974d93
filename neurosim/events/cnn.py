"""A CNN on event frames (numpy training) and its conversion to a spiking CNN.

Every layer is a linear operator stored as synapses, the same lists
:mod:`neurosim.compile.conv` makes for NIR graphs: ``conv`` (PyTorch's Conv2d, cross
correlation), ``pool`` (average pooling, weights ``1/k^2``) and ``dense``. The ANN and the
SNN therefore share their connectivity exactly; a weight-shared kernel tap is one parameter
(``pid``) behind many synapses.

ANN (the dense counterpart): input ``x = in_scale * c``, ``c`` the accumulated ON/OFF event
counts per pixel over the sample (one frame per inference), ``h_l = ReLU(W_l h_(l-1) + b_l)``
for every layer but the last (logits); trained with softmax cross-entropy and Adam.

SNN (rate conversion, Rueckauer et al. 2017, as :mod:`neurosim.convert`): every layer
becomes integrate-and-fire neurons (threshold 1, reset by subtraction) on
:class:`neurosim.LayerNetwork` (same-step schedule); the input population emits the events
binned into ``T`` steps (one spike per pixel, polarity and step at most). With ``lambda_l``
the ``percentile`` of layer l's ANN activations on training frames, a neuron's spike count
over ``T`` steps approximates ``T a_l / lambda_l`` when

    W_1' = W_1 in_scale T / lambda_1,   W_l' = W_l lambda_(l-1) / lambda_l  (l > 1),
    b_l' = b_l / lambda_l per step,

the last layer never fires (threshold 1e30) and the class is the largest membrane potential
after ``T`` steps. Pooling layers are spiking layers like the others (as in SNN Toolbox).
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..compile.conv import conv_synapses, pool_synapses
from ..validation import check_int, check_positive, fail

__all__ = ["Layer", "CNN", "build_cnn", "train_cnn", "SpikingCNN", "convert_cnn",
           "dense_layers"]

NEVER = 1e30     # threshold of the read-out layer: it integrates and never fires


@dataclass
class Layer:
    """One linear operator: synapses ``pre -> post`` with parameter ids ``pid`` (-1: the
    fixed weight ``fixed``), a bias per output neuron from ``bias_index`` (None: no bias)."""
    kind: str
    in_shape: tuple
    out_shape: tuple
    pre: np.ndarray
    post: np.ndarray
    pid: np.ndarray
    fixed: float
    n_params: int
    bias_index: np.ndarray = None
    kernel: int = 0
    # CSR (n_in, n_out) and its transpose, with the synapse each stored entry comes from
    _csr: tuple = field(default=None, repr=False)

    @property
    def n_in(self):
        return int(np.prod(self.in_shape))

    @property
    def n_out(self):
        return int(np.prod(self.out_shape))

    @property
    def n_bias(self):
        return 0 if self.bias_index is None else int(self.bias_index.max()) + 1

    def synapse_weights(self, w):
        return np.full(self.pre.size, self.fixed) if self.n_params == 0 else w[self.pid]

    def grad(self, h, g):
        """Gradient of the parameters from the layer's inputs ``h`` (batch, n_in) and the
        gradient ``g`` (batch, n_out) of its outputs: for a convolution the correlation of
        input patches with ``g`` (im2col, one matrix product), for a dense layer ``h.T g``."""
        if self.kind == "dense":
            return (h.T @ g).ravel()
        k, (c, hh, ww), f = self.kernel, self.in_shape, self.out_shape[0]
        patches = np.lib.stride_tricks.sliding_window_view(
            h.reshape(len(h), c, hh, ww), (k, k), axis=(2, 3))     # (b, c, ho, wo, k, k)
        return np.tensordot(g.reshape(len(g), f, *self.out_shape[1:]), patches,
                            axes=([0, 2, 3], [0, 2, 3])).ravel()   # (f, c, k, k)

    def matrices(self, w, dtype=np.float32):
        """(M, M.T) as CSR matrices for parameters ``w`` (built once, then refilled)."""
        if self._csr is None:
            ids = np.arange(1, self.pre.size + 1, dtype=np.float64)
            m = sp.csr_matrix((ids, (self.pre, self.post)), shape=(self.n_in, self.n_out))
            mt = m.T.tocsr()
            self._csr = (m, (m.data - 1).astype(np.int64), mt, (mt.data - 1).astype(np.int64))
        m, perm, mt, perm_t = self._csr
        ws = self.synapse_weights(w).astype(dtype)
        m = sp.csr_matrix((ws[perm], m.indices, m.indptr), shape=m.shape)
        mt = sp.csr_matrix((ws[perm_t], mt.indices, mt.indptr), shape=mt.shape)
        return m, mt


def _conv_layer(in_shape, filters, kernel):
    c = in_shape[0]
    ids = np.arange(1, filters * c * kernel * kernel + 1, dtype=np.float64)
    pre, post, pid, out = conv_synapses(in_shape, ids.reshape(filters, c, kernel, kernel),
                                        drop_zeros=False)
    bias = np.repeat(np.arange(filters), int(np.prod(out[1:])))
    return Layer("conv", tuple(in_shape), tuple(out), pre, post, pid.astype(np.int64) - 1,
                 0.0, ids.size, bias, kernel)


def _pool_layer(in_shape, k):
    pre, post, _, out = pool_synapses(in_shape, k, mode="avg")
    return Layer("pool", tuple(in_shape), tuple(out), pre, post, np.full(pre.size, -1),
                 1.0 / (k * k), 0, None, k)


def _dense_layer(n_in, n_out):
    pre, post = (a.ravel() for a in np.meshgrid(np.arange(n_in), np.arange(n_out),
                                                  indexing="ij"))
    return Layer("dense", (n_in,), (n_out,), pre, post, np.arange(pre.size), 0.0, pre.size,
                 np.arange(n_out), 0)


@dataclass
class CNN:
    """Layers and their parameters (``weights[l]``: (n_params,), ``biases[l]``: (n_bias,))."""
    layers: list
    weights: list
    biases: list
    in_scale: float = 0.1

    @property
    def in_shape(self):
        return self.layers[0].in_shape

    def activations(self, frames):
        """Per layer, the ReLU activations (last: logits) of frames (n, C, H, W) of counts."""
        h = np.asarray(frames, np.float32).reshape(len(frames), -1) * self.in_scale
        out = []
        for k, (layer, w, b) in enumerate(zip(self.layers, self.weights, self.biases)):
            _, mt = layer.matrices(w)
            h = np.asarray((mt @ h.T).T)
            if layer.n_bias:
                h = h + b[layer.bias_index].astype(np.float32)
            if k < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
            out.append(h)
        return out

    def predict(self, frames, batch=256):
        return np.concatenate([np.argmax(self.activations(frames[s:s + batch])[-1], axis=1)
                               for s in range(0, len(frames), batch)])

    def accuracy(self, frames, labels):
        return float(np.mean(self.predict(frames) == np.asarray(labels)))

    @property
    def n_synapses(self):
        return int(sum(layer.pre.size for layer in self.layers))

    @property
    def n_neurons(self):
        return int(sum(layer.n_out for layer in self.layers))


def build_cnn(in_shape=(2, 28, 28), channels=(8, 16), kernel=5, pool=2, classes=10,
              in_scale=0.1, seed=0):
    """conv(kernel, 'valid') -> avg pool -> ... for each entry of ``channels``, then a
    dense layer to ``classes``; He-initialised weights, zero biases."""
    rng = np.random.default_rng(seed)
    layers, shape = [], tuple(in_shape)
    for c in channels:
        layers.append(_conv_layer(shape, check_int("channels", c, 1), kernel))
        layers.append(_pool_layer(layers[-1].out_shape, pool))
        shape = layers[-1].out_shape
    layers.append(_dense_layer(int(np.prod(shape)), classes))
    ws, bs = [], []
    for layer in layers:
        fan_in = layer.pre.size / layer.n_out
        ws.append((rng.standard_normal(layer.n_params) * np.sqrt(2.0 / fan_in))
                  .astype(np.float32))
        bs.append(np.zeros(layer.n_bias, np.float32))
    return CNN(layers, ws, bs, check_positive("in_scale", in_scale))


def train_cnn(model, frames, labels, epochs=15, lr=2e-3, batch=64, weight_decay=1e-4, seed=0):
    """Train ``model`` in place (softmax cross-entropy, Adam) on frames (n, C, H, W)."""
    x = np.asarray(frames, np.float32).reshape(len(frames), -1) * model.in_scale
    y = np.asarray(labels, np.int64)
    rng = np.random.default_rng(seed)
    params = model.weights + model.biases
    mom = [np.zeros_like(p) for p in params]
    var = [np.zeros_like(p) for p in params]
    n_l, t = len(model.layers), 0
    for _ in range(check_int("epochs", epochs, 1)):
        order = rng.permutation(len(x))
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            mats = [layer.matrices(w) for layer, w in zip(model.layers, model.weights)]
            hs = [x[idx]]
            for k, layer in enumerate(model.layers):
                z = np.asarray((mats[k][1] @ hs[-1].T).T)
                if layer.n_bias:
                    z = z + model.biases[k][layer.bias_index]
                hs.append(np.maximum(z, 0.0) if k < n_l - 1 else z)
            p = np.exp(hs[-1] - hs[-1].max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(idx.size), y[idx]] -= 1.0
            g = (p / idx.size).astype(np.float32)
            gw, gb = [None] * n_l, [None] * n_l
            for k in reversed(range(n_l)):
                layer = model.layers[k]
                gw[k] = (layer.grad(hs[k], g) + weight_decay * model.weights[k]
                         if layer.n_params else np.zeros(0, np.float32)).astype(np.float32)
                gb[k] = (np.bincount(layer.bias_index, g.sum(axis=0), layer.n_bias)
                         .astype(np.float32) if layer.n_bias else np.zeros(0, np.float32))
                if k:
                    g = np.asarray((mats[k][0] @ g.T).T) * (hs[k] > 0)
            t += 1
            for i, (pk, gk) in enumerate(zip(params, gw + gb)):
                if not pk.size:
                    continue
                mom[i] = 0.9 * mom[i] + 0.1 * gk
                var[i] = 0.999 * var[i] + 0.001 * gk * gk
                pk -= (lr * (mom[i] / (1 - 0.9 ** t))
                       / (np.sqrt(var[i] / (1 - 0.999 ** t)) + 1e-8)).astype(np.float32)
    return model


# ---------------------------------------------------------------------------- conversion
@dataclass
class SNNEval:
    """Accuracy, predictions, summed engine counts (one run per sample) and input spikes
    merged by the binning (events that fell in an occupied pixel/step slot)."""
    accuracy: float
    predictions: np.ndarray
    counts: object
    merged: int
    input_events: int
    steps: int


@dataclass
class SpikingCNN:
    """A converted CNN: per-layer synapse weights in threshold units for ``steps`` steps."""
    model: CNN
    lambdas: list

    def synapses(self, steps):
        """Per layer ``(pre, post, w')`` and bias per neuron ``b'`` (module docstring)."""
        out = []
        for k, (layer, w, b) in enumerate(zip(self.model.layers, self.model.weights,
                                              self.model.biases)):
            gain = (self.model.in_scale * steps / self.lambdas[0] if k == 0
                    else self.lambdas[k - 1] / self.lambdas[k])
            ws = layer.synapse_weights(w).astype(np.float64) * gain
            bias = (b[layer.bias_index].astype(np.float64) / self.lambdas[k] if layer.n_bias
                    else 0.0)
            out.append((layer.pre, layer.post, ws, bias))
        return out

    def network(self, dt, steps, backend="numba"):
        """The SNN as a :class:`neurosim.LayerNetwork`; returns (net, input, read-out)."""
        from ..layered import LayerNetwork
        net = LayerNetwork(dt=dt, reset="subtract", backend=backend)
        pre = inp = net.input(self.model.in_shape, name="events")
        syn = self.synapses(steps)
        for k, (layer, (i, j, w, b)) in enumerate(zip(self.model.layers, syn)):
            last = k == len(syn) - 1
            post = net.neurons("IF", layer.out_shape, name="out" if last else f"{layer.kind}{k}",
                               bias=b, v_threshold=NEVER if last else 1.0)
            net.connect(pre, post, (i, j, w), name=f"{pre.name}->{post.name}")
            pre = post
        return net, inp, pre

    def evaluate(self, events, dt, backend="numba", index=None):
        """Run every sample of ``events`` (an :class:`~neurosim.events.EventSet`) binned
        into steps of ``dt``; returns :class:`SNNEval` (class: largest read-out v)."""
        from .dataset import to_steps
        steps = int(round(events.duration / dt))
        net, inp, out = self.network(dt, steps, backend)
        index = range(len(events)) if index is None else index
        preds, counts, merged, n_in = [], None, 0, 0
        for i in index:
            x, m = to_steps(events[i], events.shape, events.duration, dt)
            net.reset()
            net.run({inp: x})
            preds.append(int(np.argmax(out.v.ravel())))
            c = net.counts()
            counts = c if counts is None else counts + c
            merged += m
            n_in += len(events[i])
        preds = np.array(preds)
        acc = float(np.mean(preds == events.labels[np.asarray(list(index))]))
        return SNNEval(acc, preds, counts, merged, n_in, steps)


def convert_cnn(model, frames, percentile=99.9):
    """Data-based normalisation of ``model`` on training frames (n, C, H, W)."""
    if not 0 < percentile <= 100:
        fail("percentile", "in (0, 100]", percentile)
    lambdas = []
    acts = [model.activations(frames[s:s + 256]) for s in range(0, len(frames), 256)]
    for k in range(len(model.layers)):
        a = np.concatenate([b[k] for b in acts]).ravel()
        last = k == len(model.layers) - 1
        lambdas.append(1.0 if last or not np.any(a > 0)
                       else float(np.percentile(a[a > 0], percentile)))
    return SpikingCNN(model, lambdas)


def dense_layers(model):
    """The CNN as ``neurosim.energy`` layers (Conv2D, Pool2D, Dense) for ``dense_ann``."""
    from ..energy.dense import Conv2D, Dense, Pool2D
    out = []
    for layer in model.layers:
        c, *hw = layer.in_shape if len(layer.in_shape) == 3 else (layer.in_shape[0],)
        if layer.kind == "conv":
            out.append(Conv2D((hw[0], hw[1], c), layer.out_shape[0], layer.kernel,
                              padding="valid"))
        elif layer.kind == "pool":
            out.append(Pool2D((hw[0], hw[1], c), layer.kernel))
        else:
            out.append(Dense(layer.n_in, layer.n_out))
    return out
