"""Convolution and pooling operators expanded into sparse synapse lists.

NIR graphs carry ``Conv1d``, ``Conv2d``, ``SumPool2d``, ``AvgPool2d`` and ``Flatten``
nodes; neurosim runs them as synapses. Each operator here becomes triples
``(pre, post, w)``: ``pre`` and ``post`` are flat C-order indices into the input and the
output tensor (no batch dimension), ``w`` is the weight of the kernel tap joining them.
The semantics are PyTorch's (cross-correlation, zero padding, ``'same'`` padding with the
extra element at the end). ``Flatten`` needs no synapses: C-order flattening keeps the flat
indices as they are.

The expansion is vectorised over output positions; memory is in proportion to the
synapses made (one small index array per spatial axis, then one broadcast over channels).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["conv_output_shape", "conv_synapses", "pool_synapses", "to_csr", "compose"]


def _ints(value, n, name, minimum=1, broadcast=True):
    """`value` (an int or a sequence) as a tuple of `n` ints, each at least `minimum`.

    With `broadcast`, a single value (or a length-1 sequence) stands for all `n`.
    """
    try:
        arr = np.atleast_1d(np.asarray(value))
        ok = (arr.ndim == 1 and arr.size in ((1, n) if broadcast else (n,))
              and arr.dtype.kind in "iuf" and bool(np.all(arr == np.round(arr)))
              and bool(np.all(arr >= minimum)))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        allowed = (f"an int >= {minimum} or a sequence of {n} of them" if broadcast
                   else f"a sequence of {n} ints >= {minimum}")
        raise ValueError(f"{name}: expected {allowed}, got {value!r}")
    return tuple(int(v) for v in np.broadcast_to(arr, (n,)))


def _pads(padding, kernel, stride, dilation):
    """Zero padding ``(start, end)`` per spatial axis (`padding` as in `conv_output_shape`)."""
    n = len(kernel)
    if isinstance(padding, bytes):
        padding = padding.decode()
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * n, (0,) * n
        if padding != "same":
            raise ValueError(f"padding: expected an int >= 0, a sequence of {n} of them, "
                             f"'same' or 'valid', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"padding: 'same' needs stride 1, got stride {stride}")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
    pad = _ints(padding, n, "padding", minimum=0)
    return pad, pad


def _geometry(input_shape, kernel, stride, padding, dilation):
    """Validated (input shape, stride, dilation, start padding, output spatial shape)."""
    n = len(kernel)
    shape = _ints(input_shape, n + 1, "input_shape", broadcast=False)
    stride = _ints(stride, n, "stride")
    dilation = _ints(dilation, n, "dilation")
    start, end = _pads(padding, kernel, stride, dilation)
    out = tuple((size + a + b - d * (k - 1) - 1) // s + 1 for size, a, b, k, s, d
                in zip(shape[1:], start, end, kernel, stride, dilation))
    if min(out) < 1:
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ValueError(f"input_shape: the padded input must span the dilated kernel {span} "
                         f"in every spatial axis, got {shape} with padding {padding!r}")
    return shape, stride, dilation, start, out


def _weight_shape(shape):
    """The shape of a Conv1d (3 axes) or Conv2d (4 axes) weight, checked."""
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (3, 4):
        raise ValueError(f"weight: expected 3 (Conv1d) or 4 (Conv2d) axes, got shape {shape}")
    return shape


def conv_output_shape(input_shape, weight_shape, stride=1, padding=0, dilation=1):
    """Output shape of a PyTorch-style ``Conv1d`` / ``Conv2d`` (no batch dimension).

    Parameters
    ----------
    input_shape : sequence of int
        ``(C_in, L)`` or ``(C_in, H, W)``.
    weight_shape : sequence of int
        ``(C_out, C_in / groups, k)`` or ``(C_out, C_in / groups, kH, kW)``.
    stride, dilation : int or sequence of int
        One value per spatial axis; a single value is used for every axis.
    padding : int, sequence of int, 'same' or 'valid'
        Zero padding on both sides of each axis. ``'same'`` is PyTorch's: ``d * (k - 1)`` in
        total per axis, the smaller half at the start; it needs stride 1.

    Returns
    -------
    tuple of int
        ``(C_out, L_out)`` or ``(C_out, H_out, W_out)``.
    """
    weight_shape = _weight_shape(weight_shape)
    return (weight_shape[0],) + _geometry(input_shape, weight_shape[2:], stride, padding,
                                          dilation)[4]


def _axis_taps(n_in, n_out, k, stride, dilation, start):
    """Valid ``(tap, output, input)`` index triples along one spatial axis."""
    tap, out = np.meshgrid(np.arange(k, dtype=np.int64), np.arange(n_out, dtype=np.int64),
                           indexing="ij")
    src = out * stride + tap * dilation - start
    ok = (src >= 0) & (src < n_in)
    return tap[ok], out[ok], src[ok]


def conv_synapses(input_shape, weight, stride=1, padding=0, dilation=1, groups=1,
                  drop_zeros=True):
    """Synapses of a PyTorch-style ``Conv1d`` or ``Conv2d`` (bias excluded).

    Parameters
    ----------
    input_shape : sequence of int
        ``(C_in, L)`` or ``(C_in, H, W)``.
    weight : array_like
        ``(C_out, C_in / groups, k)`` (1-D) or ``(C_out, C_in / groups, kH, kW)`` (2-D).
    stride, padding, dilation
        As in :func:`conv_output_shape`.
    groups : int
        Input and output channels are split into `groups` blocks; output block ``g`` sees
        only input block ``g``. ``C_in`` and ``C_out`` must be divisible by it.
    drop_zeros : bool
        Leave out synapses whose weight is exactly zero.

    Returns
    -------
    pre, post : ndarray of int64
        Flat C-order indices into the input and the output tensor.
    w : ndarray of float64
        The kernel tap of each synapse.
    output_shape : tuple of int
        As :func:`conv_output_shape` gives it.
    """
    weight = np.asarray(weight, dtype=np.float64)
    c_out, c_in_g, *kernel = _weight_shape(weight.shape)
    (c_in, *spatial), stride, dilation, start, out_spatial = _geometry(
        input_shape, kernel, stride, padding, dilation)
    if (not isinstance(groups, (int, np.integer)) or groups < 1
            or c_in % groups or c_out % groups):
        raise ValueError(f"groups: expected a positive int that divides C_in = {c_in} and "
                         f"C_out = {c_out}, got {groups!r}")
    if c_in_g != c_in // groups:
        raise ValueError(f"weight: expected C_in / groups = {c_in // groups} input channels "
                         f"(axis 1), got shape {weight.shape}")
    # valid (tap, output, input) spatial triples: per axis, then their C-order product
    tap = out = src = np.zeros(1, dtype=np.int64)
    for k, n_in, n_out, s, d, a in zip(kernel, spatial, out_spatial, stride, dilation, start):
        t, o, i = _axis_taps(n_in, n_out, k, s, d, a)
        tap = (tap[:, None] * k + t).ravel()
        out = (out[:, None] * n_out + o).ravel()
        src = (src[:, None] * n_in + i).ravel()
    # over channel pairs: output channel co sees input channels of its group
    co = np.arange(c_out, dtype=np.int64)[:, None, None]
    ci = (co // (c_out // groups)) * c_in_g + np.arange(c_in_g, dtype=np.int64)[:, None]
    w = weight.reshape(c_out, c_in_g, -1)[:, :, tap]
    pre = ci * int(np.prod(spatial)) + src
    post = np.broadcast_to(co * int(np.prod(out_spatial)) + out, w.shape)
    keep = w != 0 if drop_zeros else np.ones(w.shape, dtype=bool)
    return pre[keep], post[keep], w[keep], (c_out, *out_spatial)


def pool_synapses(input_shape, kernel_size, stride=None, padding=0, mode="sum"):
    """Synapses of a PyTorch-style ``SumPool2d`` / ``AvgPool2d`` on a ``(C, H, W)`` input.

    Parameters
    ----------
    input_shape : sequence of int
        ``(C, H, W)``; each channel pools only itself.
    kernel_size : int or pair of int
        ``(kH, kW)``; one int for both.
    stride : int, pair of int or None
        None means ``stride = kernel_size``.
    padding : int or pair of int
        Zero padding on both sides; padded positions make no synapses.
    mode : {'sum', 'avg'}
        Weight 1, or ``1 / (kH * kW)`` (PyTorch's default ``count_include_pad=True``: padded
        zeros count in the divisor).

    Returns
    -------
    pre, post, w, output_shape
        As :func:`conv_synapses` gives them; ``output_shape`` is ``(C, H_out, W_out)``.
    """
    if mode not in ("sum", "avg"):
        raise ValueError(f"mode: expected 'sum' or 'avg', got {mode!r}")
    if isinstance(padding, (str, bytes)):
        raise ValueError(f"padding: expected an int >= 0 or a sequence of 2 of them, "
                         f"got {padding!r}")
    channels = _ints(input_shape, 3, "input_shape", broadcast=False)[0]
    kh, kw = _ints(kernel_size, 2, "kernel_size")
    stride = (kh, kw) if stride is None else stride
    # a depthwise convolution (one input channel per group) with a constant kernel
    weight = np.full((channels, 1, kh, kw), 1.0 if mode == "sum" else 1.0 / (kh * kw))
    return conv_synapses(input_shape, weight, stride, padding, 1, groups=channels)


def to_csr(pre, post, w, n_pre, n_post):
    """Synapse triples as an ``(n_pre, n_post)`` CSR matrix, duplicate pairs summed.

    Rows are presynaptic, as neurosim stores connectivity: the output is ``x @ M``.
    """
    m = sp.csr_matrix((np.asarray(w, dtype=np.float64), (pre, post)), shape=(n_pre, n_post))
    m.sum_duplicates()
    return m


def compose(a, b):
    """Operator `a` followed by `b`: the CSR product ``a @ b`` with zeros eliminated."""
    c = sp.csr_matrix(a @ b)
    c.eliminate_zeros()
    return c
