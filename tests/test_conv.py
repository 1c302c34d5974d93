"""neurosim.compile.conv: conv / pool operators expanded into synapse lists.

Every expansion is applied to random input through its CSR matrix and compared with a
direct dense cross-correlation written here with explicit loops over output positions.
Padding for the reference is spelled out per case (PyTorch's 'same' puts the extra
element at the end), not derived by the module under test.
"""

import numpy as np
import pytest

from neurosim.compile.conv import (compose, conv_output_shape, conv_synapses, pool_synapses,
                                   to_csr)


def _window(pos, stride, span, step=1):
    """Slices of the padded input that output position `pos` reads."""
    return tuple(slice(p * s, p * s + n, step_) for p, s, n, step_ in
                 zip(pos, stride, span, np.broadcast_to(step, len(pos))))


def dense_conv(x, weight, stride, pads, dilation, groups):
    """PyTorch's cross-correlation, one output element at a time."""
    nd = weight.ndim - 2
    stride = np.broadcast_to(stride, nd)
    dilation = np.broadcast_to(dilation, nd)
    xp = np.pad(x, [(0, 0)] + list(pads))
    c_out, c_in_g, *kernel = weight.shape
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    out = [(n - sp) // s + 1 for n, sp, s in zip(xp.shape[1:], span, stride)]
    y = np.zeros((c_out, *out))
    for co in range(c_out):
        g = co // (c_out // groups)
        chans = xp[g * c_in_g:(g + 1) * c_in_g]
        for pos in np.ndindex(*out):
            patch = chans[(slice(None),) + _window(pos, stride, span, dilation)]
            y[(co,) + pos] = np.sum(patch * weight[co])
    return y


def dense_pool(x, kernel, stride, pad, average):
    """Sum (or mean over the padded window) of each window, one output at a time."""
    xp = np.pad(x, [(0, 0), (pad[0], pad[0]), (pad[1], pad[1])])
    out = [(n - k) // s + 1 for n, k, s in zip(xp.shape[1:], kernel, stride)]
    y = np.zeros((x.shape[0], *out))
    for pos in np.ndindex(*out):
        y[(slice(None),) + pos] = xp[(slice(None),) + _window(pos, stride, kernel)].sum(axis=(1, 2))
    return y / (kernel[0] * kernel[1]) if average else y


def apply(x, pre, post, w, out_shape):
    """The expanded operator on x: x_flat @ CSR (rows presynaptic)."""
    m = to_csr(pre, post, w, x.size, int(np.prod(out_shape)))
    return np.asarray(x.ravel() @ m).reshape(out_shape)


# input shape, weight shape, stride, padding, dilation, groups, explicit (start, end) pads
CONV_CASES = [
    ((3, 11), (4, 3, 3), 1, 1, 1, 1, [(1, 1)]),
    ((2, 12), (3, 2, 4), 1, "same", 1, 1, [(1, 2)]),                 # even kernel
    ((2, 12), (3, 2, 3), 1, "same", 2, 1, [(2, 2)]),                 # dilation 2
    ((2, 12), (3, 2, 2), 1, "same", 3, 1, [(1, 2)]),
    ((4, 13), (6, 2, 3), 2, "valid", 1, 2, [(0, 0)]),                # groups 2
    ((4, 9), (4, 1, 3), 1, 2, 2, 4, [(2, 2)]),                       # depthwise
    ((3, 9, 8), (4, 3, 3, 3), 1, 1, 1, 1, [(1, 1), (1, 1)]),
    ((2, 10, 7), (3, 2, 4, 4), 1, "same", 1, 1, [(1, 2), (1, 2)]),
    ((4, 9, 8), (6, 2, 2, 3), 1, "same", 2, 2, [(1, 1), (2, 2)]),
    ((2, 9, 10), (3, 2, 2, 4), 1, "same", (3, 1), 1, [(1, 2), (1, 2)]),
    ((2, 11, 11), (5, 2, 3, 2), 2, 1, 1, 1, [(1, 1), (1, 1)]),
    ((2, 8, 8), (2, 2, 3, 3), (2, 1), (0, 2), (1, 2), 1, [(0, 0), (2, 2)]),
    ((3, 9, 9), (3, 3, 3, 3), [2], [1], [2], 1, [(1, 1), (1, 1)]),   # length-1 sequences
    ((4, 6, 6), (4, 1, 3, 3), 1, "valid", 1, 4, [(0, 0), (0, 0)]),   # depthwise
    ((4, 10, 9), (6, 2, 3, 3), 2, 2, 2, 2, [(2, 2), (2, 2)]),
]

# input shape, kernel_size, stride, padding, mode
POOL_CASES = [
    ((2, 8, 8), 2, None, 0, "sum"),
    ((3, 9, 7), (3, 2), (2, 1), (1, 1), "avg"),
    ((2, 7, 7), 3, 2, 1, "sum"),
    ((2, 10, 9), 2, 3, 0, "avg"),
    ((1, 6, 7), np.array([2, 3]), None, np.array([1, 0]), "avg"),    # as NIR nodes give them
]


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv_matches_direct_cross_correlation(case):
    in_shape, w_shape, stride, padding, dilation, groups, pads = case
    rng = np.random.default_rng(1)
    weight, x = rng.normal(size=w_shape), rng.normal(size=in_shape)
    pre, post, w, out_shape = conv_synapses(in_shape, weight, stride, padding, dilation, groups)
    ref = dense_conv(x, weight, stride, pads, dilation, groups)
    assert out_shape == ref.shape == conv_output_shape(in_shape, w_shape, stride, padding,
                                                       dilation)
    assert pre.dtype == post.dtype == np.int64 and w.dtype == np.float64
    assert pre.max() < x.size and post.max() < ref.size and min(pre.min(), post.min()) >= 0
    assert len(set(zip(pre.tolist(), post.tolist()))) == pre.size      # no pair twice
    np.testing.assert_allclose(apply(x, pre, post, w, out_shape), ref, atol=1e-12)


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pool_matches_direct_pooling(case):
    in_shape, kernel, stride, padding, mode = case
    x = np.random.default_rng(2).normal(size=in_shape)
    pre, post, w, out_shape = pool_synapses(in_shape, kernel, stride, padding, mode)
    k = tuple(np.broadcast_to(kernel, 2))
    s = k if stride is None else tuple(np.broadcast_to(stride, 2))
    ref = dense_pool(x, k, s, tuple(np.broadcast_to(padding, 2)), mode == "avg")
    assert out_shape == ref.shape
    np.testing.assert_allclose(apply(x, pre, post, w, out_shape), ref, atol=1e-12)


def test_avg_pool_counts_padding_in_the_divisor():
    # corner window of a 3x3 kernel with padding 1 covers 4 real pixels: 4 / 9, not 1
    pre, post, w, out_shape = pool_synapses((1, 4, 4), 3, 1, 1, "avg")
    y = apply(np.ones((1, 4, 4)), pre, post, w, out_shape)
    assert y[0, 0, 0] == pytest.approx(4 / 9) and y[0, 1, 1] == pytest.approx(1.0)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv_output_shape_matches_nir(case):
    nir = pytest.importorskip("nir")
    in_shape, w_shape, stride, padding, dilation, groups, _ = case
    # nir does not broadcast a length-1 list as PyTorch does: hand it the int
    stride, padding, dilation = (v[0] if isinstance(v, list) else v
                                 for v in (stride, padding, dilation))
    weight, bias = np.zeros(w_shape), np.zeros(w_shape[0])
    if len(in_shape) == 2:
        node = nir.Conv1d(in_shape[1], weight, stride, padding, dilation, groups, bias)
    else:
        node = nir.Conv2d(in_shape[1:], weight, stride, padding, dilation, groups, bias)
    expected = tuple(int(n) for n in node.output_type["output"])
    assert conv_synapses(in_shape, np.ones(w_shape), stride, padding, dilation,
                         groups)[3] == expected


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pool_output_shape_matches_nir(case):
    calculate_conv_output = pytest.importorskip("nir.ir.utils").calculate_conv_output
    in_shape, kernel, stride, padding, mode = case
    stride = kernel if stride is None else stride
    spatial = calculate_conv_output(in_shape[1:], padding, 1, kernel, stride)
    expected = (in_shape[0], *(int(n) for n in spatial))
    assert pool_synapses(in_shape, kernel, stride, padding, mode)[3] == expected


def test_drop_zeros():
    weight = np.random.default_rng(3).normal(size=(3, 2, 3, 3))
    weight[0, 1] = 0.0
    weight[2, 0, 1, 2] = 0.0
    kept = conv_synapses((2, 7, 7), weight, padding="valid")
    full = conv_synapses((2, 7, 7), weight, padding="valid", drop_zeros=False)
    positions = 5 * 5                                  # every tap meets every output pixel
    assert full[0].size == weight.size * positions and np.sum(full[2] == 0) == 10 * positions
    assert kept[0].size == np.count_nonzero(weight) * positions and np.all(kept[2] != 0)
    n_in, n_out = 2 * 7 * 7, 3 * 5 * 5
    assert (to_csr(*kept[:3], n_in, n_out) != to_csr(*full[:3], n_in, n_out)).nnz == 0


def test_known_synapse_counts():
    # Sinabs N-MNIST CNN, first layer: 16x2x5x5, stride 2, padding 1 on (2, 34, 34)
    pre, _, _, out_shape = conv_synapses((2, 34, 34), np.ones((16, 2, 5, 5)), 2, 1)
    assert (pre.size, out_shape) == (199_712, (16, 16, 16))
    pre, _, _, out_shape = conv_synapses((16, 16, 16), np.ones((16, 16, 3, 3)), padding=1)
    assert (pre.size, out_shape) == (541_696, (16, 16, 16))


def test_to_csr_sums_duplicates_with_presynaptic_rows():
    m = to_csr(np.array([0, 0, 2]), np.array([1, 1, 0]), np.array([1.0, 2.0, 5.0]), 3, 2)
    assert m.shape == (3, 2) and m.nnz == 2
    np.testing.assert_array_equal(m.toarray(), [[0, 3], [0, 0], [5, 0]])


def test_compose_pool_then_conv():
    rng = np.random.default_rng(4)
    x, weight = rng.normal(size=(2, 12, 12)), rng.normal(size=(3, 2, 3, 3))
    p_pre, p_post, p_w, mid = pool_synapses((2, 12, 12), 2)
    c_pre, c_post, c_w, out = conv_synapses(mid, weight, padding=1)
    a = to_csr(p_pre, p_post, p_w, x.size, int(np.prod(mid)))
    b = to_csr(c_pre, c_post, c_w, int(np.prod(mid)), int(np.prod(out)))
    ref = dense_conv(dense_pool(x, (2, 2), (2, 2), (0, 0), False), weight, 1, [(1, 1)] * 2, 1, 1)
    np.testing.assert_allclose((x.ravel() @ compose(a, b)).reshape(out), ref, atol=1e-12)


def test_compose_eliminates_cancelled_entries():
    a = to_csr([0, 0], [0, 1], [1.0, 1.0], 1, 2)
    b = to_csr([0, 1], [0, 0], [1.0, -1.0], 2, 1)
    c = compose(a, b)
    assert c.shape == (1, 1) and c.nnz == 0


W2 = np.ones((4, 2, 3, 3))


@pytest.mark.parametrize("call, match", [
    (lambda: conv_synapses((2, 8, 8), W2, 2, "same"),
     r"padding: 'same' needs stride 1, got stride \(2, 2\)"),
    (lambda: conv_output_shape((2, 8), (4, 2, 3), 3, "same", 1),
     r"padding: 'same' needs stride 1, got stride \(3,\)"),
    (lambda: conv_synapses((2, 8, 8), W2, padding="full"),
     r"padding: expected an int >= 0, a sequence of 2 of them, 'same' or 'valid', got 'full'"),
    (lambda: conv_synapses((2, 8, 8), W2, padding=-1), r"padding: expected an int >= 0.*got -1"),
    (lambda: conv_synapses((2, 8, 8), W2, stride=0), r"stride: expected an int >= 1.*got 0"),
    (lambda: conv_synapses((2, 8, 8), W2, dilation=(1, 2, 3)),
     r"dilation: expected an int >= 1 or a sequence of 2 of them, got \(1, 2, 3\)"),
    (lambda: conv_synapses((2, 8, 8), W2, stride=1.5), r"stride: .*got 1\.5"),
    (lambda: conv_synapses((3, 8, 8), np.ones((4, 1, 3, 3)), groups=3),
     r"groups: expected a positive int that divides C_in = 3 and C_out = 4, got 3"),
    (lambda: conv_synapses((4, 8, 8), W2, groups=1),
     r"weight: expected C_in / groups = 4 input channels \(axis 1\), got shape \(4, 2, 3, 3\)"),
    (lambda: conv_synapses((2, 8, 8), np.ones((4, 2, 3, 3, 3))),
     r"weight: expected 3 \(Conv1d\) or 4 \(Conv2d\) axes, got shape \(4, 2, 3, 3, 3\)"),
    (lambda: conv_synapses((2, 8), W2), r"input_shape: expected a sequence of 3 ints >= 1"),
    (lambda: conv_synapses((2, 2, 8), W2),
     r"input_shape: the padded input must span the dilated kernel \(3, 3\)"),
    (lambda: pool_synapses((2, 8, 8), 2, mode="max"), r"mode: expected 'sum' or 'avg', got 'max'"),
    (lambda: pool_synapses((2, 8, 8), 2, padding="same"),
     r"padding: expected an int >= 0 or a sequence of 2 of them, got 'same'"),
    (lambda: pool_synapses((2, 8, 8), (0, 2)), r"kernel_size: expected an int >= 1.*got \(0, 2\)"),
    (lambda: pool_synapses((8, 8), 2), r"input_shape: expected a sequence of 3 ints"),
])
def test_bad_arguments_raise_naming_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
