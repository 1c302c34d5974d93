"""A small counter-free random stream (splitmix64) usable inside kernels.

Each stream is one ``uint64`` word held in a state array, so a stream survives across
calls and runs (``run(100 ms)`` twice draws exactly what ``run(200 ms)`` draws once), and
the same seed gives the same numbers on every platform and thread count. splitmix64 passes
BigCrush and is the seeding generator recommended for xoshiro; its period (2**64) is far
beyond what a simulation draws.
"""

import math

import numpy as np
from numba import njit

from .._config import JIT_OPTIONS, STEP_JIT_OPTIONS

__all__ = ["next_u64", "uniform", "geometric", "normal", "fill_normal", "INV_2_53",
           "step_uniform", "step_geometric"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_ONE = np.uint64(1)
INV_2_53 = 1.0 / 9007199254740992.0
_NEVER = np.int64(1) << np.int64(62)


@njit(**STEP_JIT_OPTIONS)
def _next_u64(state, k):
    s = state[k] + _GOLDEN
    state[k] = s
    z = s
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(**STEP_JIT_OPTIONS)
def step_uniform(state, k):
    """:func:`uniform` for the step loop: compiled without reference counting (called per
    neuron and step, where Numba's increments of ``state``'s count cost more than the
    draw); the functions below without ``step_`` are the same draws, callable from
    Python (the reference backend) and from kernels that run once."""
    # a signed conversion (the value is below 2**53, so it is the same number): the
    # unsigned one takes a branchy instruction sequence on x86
    return float(np.int64((_next_u64(state, k) >> _S11) + _ONE)) * INV_2_53


@njit(**STEP_JIT_OPTIONS)
def step_geometric(state, k, log1m_p):
    """:func:`geometric` for the step loop (see :func:`step_uniform`)."""
    if log1m_p == 0.0:
        return _NEVER
    g = math.floor(math.log(step_uniform(state, k)) / log1m_p)
    if g > 4.0e18:
        return _NEVER
    return np.int64(g)


@njit(**JIT_OPTIONS)
def next_u64(state, k):
    """Advance stream ``k`` of ``state`` (uint64 array) and return 64 random bits."""
    return _next_u64(state, k)


@njit(**JIT_OPTIONS)
def uniform(state, k):
    """A float64 uniform on (0, 1] (never 0, so its log is finite)."""
    return step_uniform(state, k)


@njit(**JIT_OPTIONS)
def geometric(state, k, log1m_p):
    """Number of failures before the first success of Bernoulli(p) trials.

    ``log1m_p`` is ``log(1 - p)`` (``-inf`` for p = 1, 0 for p = 0, which never succeeds).
    """
    return step_geometric(state, k, log1m_p)


def _ziggurat_tables(n, r, v):
    """Marsaglia & Tsang's (2000) ziggurat of ``n`` layers for the standard normal (base
    strip starting at ``r``, each layer of area ``v``): kn (int64 acceptance thresholds on
    signed 32-bit draws), wn (scales), fn (densities at the layer edges)."""
    m1 = 2147483648.0
    dn = tn = r
    kn = np.zeros(n, np.int64)
    wn = np.zeros(n)
    fn = np.zeros(n)
    q = v / math.exp(-0.5 * dn * dn)
    kn[0] = int((dn / q) * m1)
    kn[1] = 0
    wn[0] = q / m1
    wn[n - 1] = dn / m1
    fn[0] = 1.0
    fn[n - 1] = math.exp(-0.5 * dn * dn)
    for i in range(n - 2, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


_R = 3.442619855899
_KN, _WN, _FN = _ziggurat_tables(128, _R, 9.91256303526217e-3)
# 1024 layers for the batched draws: a slow path in 0.43 % of draws instead of 2.8 %
# (r and v solved to 20 digits so that the top layer closes; the low 10 bits of a draw
# pick its layer, so values within a layer lie on a grid of 2**-21 of its width)
_R1024 = 4.0388498461095045
_KN1024, _WN1024, _FN1024 = _ziggurat_tables(1024, _R1024, 1.2263246463530881e-3)
_KNF1024 = _KN1024.astype(np.float64)      # exact: every threshold is below 2**31
_M32 = np.uint64(0xFFFFFFFF)


@njit(**JIT_OPTIONS)
def _signed32(state, k):
    u = np.int64(next_u64(state, k) & _M32)
    return u - 4294967296 if u >= 2147483648 else u


@njit(**JIT_OPTIONS)
def normal(state, k):
    """A standard normal draw of stream ``k`` (Marsaglia & Tsang's ziggurat: one 64-bit
    draw in about 97 % of calls, exact tails)."""
    hz = _signed32(state, k)
    iz = hz & 127
    if abs(hz) < _KN[iz]:
        return hz * _WN[iz]
    return _normal_tail(state, k, hz, iz)


def _make_tail(kn, wn, fn, r):
    """The rejection part of a ziggurat (tables ``kn, wn, fn``, base strip from ``r``,
    compiled in as constants) for a first draw ``hz`` outside its layer's box."""
    mask = kn.shape[0] - 1

    @njit(**JIT_OPTIONS)
    def tail(state, k, hz, iz):
        while True:
            x = hz * wn[iz]
            if iz == 0:            # the tail beyond r
                while True:
                    x = -math.log(uniform(state, k)) / r
                    y = -math.log(uniform(state, k))
                    if y + y >= x * x:
                        break
                return r + x if hz > 0 else -r - x
            if fn[iz] + uniform(state, k) * (fn[iz - 1] - fn[iz]) < math.exp(-0.5 * x * x):
                return x
            hz = _signed32(state, k)
            iz = hz & mask
            if abs(hz) < kn[iz]:
                return hz * wn[iz]
    return tail


_normal_tail = _make_tail(_KN, _WN, _FN, _R)
_normal_tail1024 = _make_tail(_KN1024, _WN1024, _FN1024, _R1024)


@njit(**JIT_OPTIONS)
def fill_normal(state, k, out, raw, flag):
    """Fill ``out`` with standard normal draws of stream ``k``: a 1024-layer ziggurat,
    batched so that the common path vectorises. splitmix64 is a hash of a counter, so the
    64-bit words of a batch are computed independently, each giving two signed 32-bit
    draws; the draws outside their layer's box (about 0.43 %) are flagged and then redone
    one by one with the rejection part of the ziggurat, from the words after the batch
    (the flags are scanned eight at a time). ``raw`` is int32 scratch of at least
    ``len(out) + 1`` entries, ``flag`` uint8 scratch of at least ``len(out)`` rounded up
    to a multiple of 8. Exact normal distribution, like :func:`normal`; about 1.5 ns a
    draw instead of 15."""
    n = out.shape[0]
    half = (n + 1) // 2
    s = state[k]
    for j in range(half):
        z = s + np.uint64(j + 1) * _GOLDEN
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        z = z ^ (z >> _S31)
        raw[2 * j] = np.int32(np.uint32(z & _M32))
        raw[2 * j + 1] = np.int32(np.uint32(z >> _S32))
    state[k] = s + np.uint64(half) * _GOLDEN
    n8 = (n + 7) // 8
    for j in range(n, 8 * n8):
        flag[j] = 0
    for j in range(n):
        hz = raw[j]
        iz = hz & 1023
        f = np.float64(hz)                     # exact (|hz| <= 2**31), so is the test
        out[j] = f * _WN1024[iz]
        flag[j] = abs(f) >= _KNF1024[iz]
    words = flag[:8 * n8].view(np.uint64)
    for w in range(n8):
        if words[w] != 0:
            for j in range(8 * w, min(8 * w + 8, n)):
                if flag[j]:
                    hz = np.int64(raw[j])
                    out[j] = _normal_tail1024(state, k, hz, hz & 1023)
