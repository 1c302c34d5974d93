"""The Sinabs N-MNIST CNN graph: conv/pool as expanded sparse connectivity, checked.

Research script for issue 20 (docs/nir-design.md), not part of the package.

    pip install nir
    python docs/nir/scripts/cnn_shapes.py [--ref ../shared/reference/nir] [--steps 20]

For graphs/cnn_sinabs.nir: reads the graph (timed), expands every Conv2d / SumPool2d /
Flatten / Affine into (pre, post, weight) synapse lists with numpy (PyTorch's
cross-correlation, C-order flattening of (C, H, W), 'same'/'valid'/int padding, stride,
dilation, groups), composes SumPool into the Conv that follows it (the pool sits between
an IF layer and a Conv), checks each expanded operator against a direct dense convolution
on random input and its output shape against NIR's type inference, then runs the graph
for a few steps with the same-step schedule (IF: v += r I, spike if v > v_th, reset to
v_reset) on random spikes. Prints synapse counts, times and the output spike counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REF = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "reference", "nir"))


def _pair(x):
    x = np.atleast_1d(np.asarray(x)).astype(int)
    return (int(x[0]), int(x[0])) if x.size == 1 else (int(x[0]), int(x[1]))


def conv_padding(padding, kernel, dilation):
    """(top, left) and output size rule: int/pair padding symmetric; 'valid' none; 'same'
    PyTorch's (total d (k-1), the extra one on the bottom/right; stride must be 1)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        tot = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return (tot[0] // 2, tot[1] // 2), (tot[0] - tot[0] // 2, tot[1] - tot[1] // 2)
    p = _pair(padding)
    return p, p


def expand_conv2d(weight, in_shape, stride, padding, dilation, groups, bias=None):
    """Synapses of a Conv2d on a (C_in, H, W) input: (pre, post, w, out_shape, bias_post)."""
    c_out, c_in_g, kh, kw = weight.shape
    c_in, h, w_ = in_shape
    stride, dilation = _pair(stride), _pair(dilation)
    (pt, pl), (pb, pr) = conv_padding(padding, (kh, kw), dilation)
    ho = (h + pt + pb - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (w_ + pl + pr - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    co_g = c_out // groups
    # every (co, ci_g, ky, kx, oy, ox) combination, then keep those inside the input
    co, ci, ky, kx, oy, ox = np.meshgrid(np.arange(c_out), np.arange(c_in_g), np.arange(kh),
                                         np.arange(kw), np.arange(ho), np.arange(wo),
                                         indexing="ij", sparse=True)
    iy = oy * stride[0] - pt + ky * dilation[0]
    ix = ox * stride[1] - pl + kx * dilation[1]
    cin = (co // co_g) * c_in_g + ci
    ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w_)
    full = np.broadcast_shapes(co.shape, ci.shape, ky.shape, kx.shape, oy.shape, ox.shape)
    ok = np.broadcast_to(ok, full)
    pre = np.broadcast_to((cin * h + iy) * w_ + ix, full)[ok]
    post = np.broadcast_to((co * ho + oy) * wo + ox, full)[ok]
    wv = np.broadcast_to(weight[co, ci, ky, kx], full)[ok]
    keep = wv != 0
    b = None if bias is None else np.repeat(np.asarray(bias, float), ho * wo)
    return pre[keep].astype(np.int64), post[keep].astype(np.int64), wv[keep], (c_out, ho, wo), b


def expand_pool2d(kernel, stride, padding, in_shape, average):
    """SumPool2d / AvgPool2d (count_include_pad, as PyTorch): (pre, post, w, out_shape)."""
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    c, h, w_ = in_shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w_ + 2 * pw - kw) // sw + 1
    cc, oy, ox, ky, kx = np.meshgrid(np.arange(c), np.arange(ho), np.arange(wo), np.arange(kh),
                                     np.arange(kw), indexing="ij")
    iy, ix = oy * sh - ph + ky, ox * sw - pw + kx
    ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w_)
    pre = ((cc * h + iy) * w_ + ix)[ok]
    post = ((cc * ho + oy) * wo + ox)[ok]
    val = 1.0 / (kh * kw) if average else 1.0
    return pre.astype(np.int64), post.astype(np.int64), np.full(pre.size, val), (c, ho, wo)


def compose(a, b, n_mid):
    """b after a: (pre, post, w) of the product, summing duplicate (pre, post) pairs."""
    import scipy.sparse as sp
    pa, qa, wa, na_pre = a
    pb, qb, wb, nb_post = b
    A = sp.csr_matrix((wa, (pa, qa)), shape=(na_pre, n_mid))
    B = sp.csr_matrix((wb, (pb, qb)), shape=(n_mid, nb_post))
    C = (A @ B).tocoo()
    return C.row.astype(np.int64), C.col.astype(np.int64), C.data


def dense_conv(x, weight, stride, padding, dilation, groups):
    """Direct cross-correlation (the check)."""
    c_out, c_in_g, kh, kw = weight.shape
    stride, dilation = _pair(stride), _pair(dilation)
    (pt, pl), (pb, pr) = conv_padding(padding, (kh, kw), dilation)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr)))
    ho = (xp.shape[1] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (xp.shape[2] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((c_out, ho, wo))
    co_g = c_out // groups
    for co in range(c_out):
        g = co // co_g
        for ky in range(kh):
            for kx in range(kw):
                ys = ky * dilation[0]
                xs = kx * dilation[1]
                patch = xp[g * c_in_g:(g + 1) * c_in_g, ys:ys + stride[0] * ho:stride[0],
                           xs:xs + stride[1] * wo:stride[1]]
                out[co] += np.tensordot(weight[co, :, ky, kx], patch, axes=1)
    return out


def check_conv_cases(rng):
    """Expanded conv vs the direct one on random input, over padding/stride/dilation/groups."""
    worst = 0.0
    cases = [((3, 9, 8), (4, 3, 3, 3), 1, 1, 1, 1), ((4, 9, 8), (6, 2, 2, 3), 1, "same", 2, 2),
             ((2, 10, 7), (3, 2, 4, 4), 1, "same", 1, 1), ((2, 11, 11), (5, 2, 3, 2), 2, 1, 1, 1),
             ((2, 8, 8), (2, 2, 3, 3), (2, 1), (0, 2), (1, 2), 1), ((4, 6, 6), (4, 1, 3, 3), 1, "valid", 1, 4)]
    for shape, wshape, stride, padding, dilation, groups in cases:
        w = rng.normal(size=wshape)
        x = rng.normal(size=shape)
        pre, post, wv, oshape, _ = expand_conv2d(w, shape, stride, padding, dilation, groups)
        y = np.zeros(int(np.prod(oshape)))
        np.add.at(y, post, wv * x.ravel()[pre])
        ref = dense_conv(x, w, stride, padding, dilation, groups)
        assert ref.shape == oshape, (ref.shape, oshape)
        worst = max(worst, float(np.abs(y - ref.ravel()).max()))
    return worst, len(cases)


def main(argv=None):
    import nir

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ref", default=os.environ.get("NIR_REF", DEFAULT_REF))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    worst, ncases = check_conv_cases(rng)
    print(f"expanded conv vs direct conv: {ncases} cases (padding int/pair/'same'/'valid', "
          f"stride, dilation, groups), max |diff| = {worst:.1e}")

    t0 = time.perf_counter()
    g = nir.read(os.path.join(args.ref, "graphs", "cnn_sinabs.nir"))
    t_read = time.perf_counter() - t0

    # the chain of this graph, in edge order from the input
    nxt = dict(g.edges)
    order, k = [], "input"
    while k in nxt:
        k = nxt[k]
        order.append(k)
    t0 = time.perf_counter()
    shape = tuple(int(s) for s in g.nodes["input"].output_type["output"])
    layers = []            # (name of the neuron layer, (pre, post, w), bias or None, shape)
    pending = None         # a linear operator waiting for the next neuron layer
    n_syn = 0
    for name in order:
        node = g.nodes[name]
        if isinstance(node, nir.Conv2d):
            pre, post, w, oshape, b = expand_conv2d(node.weight, shape, node.stride,
                                                    node.padding, node.dilation, node.groups,
                                                    node.bias)
            op = (pre, post, w)
            if pending is not None:          # pool -> conv: compose
                pp, pq, pw, n_in = pending
                op = compose((pp, pq, pw, n_in), (pre, post, w, int(np.prod(oshape))),
                             int(np.prod(shape)))
                pending_in = n_in
            else:
                pending_in = int(np.prod(shape))
            assert tuple(node.output_type["output"]) == oshape, (name, oshape)
            pending, shape, bias = (*op, pending_in), oshape, b
        elif isinstance(node, nir.SumPool2d):
            pre, post, w, oshape = expand_pool2d(node.kernel_size, node.stride, node.padding,
                                                 shape, average=False)
            assert tuple(node.output_type["output"]) == oshape, (name, oshape)
            pending, shape, bias = (pre, post, w, int(np.prod(shape))), oshape, None
        elif isinstance(node, nir.Flatten):
            shape = tuple(int(s) for s in node.output_type["output"])   # C-order: no-op
        elif isinstance(node, nir.Affine):
            W = np.asarray(node.weight)
            post, pre = np.nonzero(W)
            w = W[post, pre]
            n_in = W.shape[1]
            if pending is not None:          # pool -> flatten -> affine: compose
                pp, pq, pw, n_in = pending
                pre, post, w = compose((pp, pq, pw, n_in), (pre, post, w, W.shape[0]),
                                       W.shape[1])
            pending, shape, bias = (pre, post, w, n_in), (W.shape[0],), node.bias
        elif isinstance(node, nir.IF):
            pre, post, w, n_in = pending
            layers.append((name, (pre, post, w, n_in), bias, shape, node))
            n_syn += pre.size
            pending = None
        elif isinstance(node, nir.Output):
            assert tuple(node.output_type["output"]) == shape
    t_expand = time.perf_counter() - t0

    print(f"nir.read: {t_read * 1e3:.0f} ms; expansion to synapse lists: {t_expand * 1e3:.0f} ms")
    for name, (pre, post, w, n_in), bias, shape_, node in layers:
        print(f"  -> IF {name:>3s} {str(shape_):>14s}: {pre.size:8d} synapses from {n_in} inputs"
              f" (v_th {float(node.v_threshold.ravel()[0]):g}, r {float(node.r.ravel()[0]):g})")
    print(f"  total {n_syn} synapses ({n_syn * 12 / 2**20:.1f} MiB as int32 target + float64 weight)")

    # same-step run: each IF layer integrates the spikes of the layer before in the same step
    import scipy.sparse as sp
    mats = [sp.csr_matrix((w, (post, pre)), shape=(int(np.prod(s)), n_in))
            for _, (pre, post, w, n_in), b, s, _ in layers]
    biases = [np.zeros(m.shape[0]) if b is None else np.asarray(b, float) for m, (_, _, b, _, _) in zip(mats, layers)]
    v = [np.zeros(m.shape[0]) for m in mats]
    counts = [0] * len(mats)
    n_in = int(np.prod(g.nodes["input"].output_type["output"]))
    t0 = time.perf_counter()
    for _ in range(args.steps):
        s = (rng.random(n_in) < 0.05).astype(float)       # 5 % of the input pixels spike
        for i, (m, (_, _, _, _, node)) in enumerate(zip(mats, layers)):
            v[i] += node.r.ravel() * (m @ s + biases[i])
            z = v[i] > node.v_threshold.ravel()
            v[i][z] = node.v_reset.ravel()[z]
            counts[i] += int(z.sum())
            s = z.astype(float)
    t_run = time.perf_counter() - t0
    print(f"same-step run, {args.steps} steps of random 5 % input: spikes per layer {counts}"
          f" ({t_run * 1e3:.0f} ms, scipy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
