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

from .._config import JIT_OPTIONS

__all__ = ["next_u64", "uniform", "geometric", "normal", "INV_2_53"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
INV_2_53 = 1.0 / 9007199254740992.0
_NEVER = np.int64(1) << np.int64(62)


@njit(**JIT_OPTIONS)
def next_u64(state, k):
    """Advance stream ``k`` of ``state`` (uint64 array) and return 64 random bits."""
    s = state[k] + _GOLDEN
    state[k] = s
    z = s
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(**JIT_OPTIONS)
def uniform(state, k):
    """A float64 uniform on (0, 1] (never 0, so its log is finite)."""
    return float((next_u64(state, k) >> _S11) + _ONE) * INV_2_53


@njit(**JIT_OPTIONS)
def geometric(state, k, log1m_p):
    """Number of failures before the first success of Bernoulli(p) trials.

    ``log1m_p`` is ``log(1 - p)`` (``-inf`` for p = 1, 0 for p = 0, which never succeeds).
    """
    if log1m_p == 0.0:
        return _NEVER
    g = math.floor(math.log(uniform(state, k)) / log1m_p)
    if g > 4.0e18:
        return _NEVER
    return np.int64(g)


def _ziggurat_tables():
    """Marsaglia & Tsang's (2000) 128-layer ziggurat for the standard normal: kn (int64
    acceptance thresholds on 32-bit draws), wn (scales), fn (densities at layer edges)."""
    m1 = 2147483648.0
    dn = tn = 3.442619855899
    vn = 9.91256303526217e-3
    kn = np.zeros(128, np.int64)
    wn = np.zeros(128)
    fn = np.zeros(128)
    q = vn / math.exp(-0.5 * dn * dn)
    kn[0] = int((dn / q) * m1)
    kn[1] = 0
    wn[0] = q / m1
    wn[127] = dn / m1
    fn[0] = 1.0
    fn[127] = math.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


_KN, _WN, _FN = _ziggurat_tables()
_R = 3.442619855899
_M32 = np.uint64(0xFFFFFFFF)


@njit(**JIT_OPTIONS)
def _signed32(state, k):
    u = np.int64(next_u64(state, k) & _M32)
    return u - 4294967296 if u >= 2147483648 else u


@njit(**JIT_OPTIONS)
def normal(state, k):
    """A standard normal draw of stream ``k`` (Marsaglia & Tsang's ziggurat: one 64-bit
    draw in about 99 % of calls, exact tails)."""
    hz = _signed32(state, k)
    iz = hz & 127
    if abs(hz) < _KN[iz]:
        return hz * _WN[iz]
    return _normal_tail(state, k, hz, iz)


@njit(**JIT_OPTIONS)
def _normal_tail(state, k, hz, iz):
    """The rejection part of the ziggurat for a first draw ``hz`` outside its layer's box."""
    while True:
        x = hz * _WN[iz]
        if iz == 0:            # the tail beyond R
            while True:
                x = -math.log(uniform(state, k)) / _R
                y = -math.log(uniform(state, k))
                if y + y >= x * x:
                    break
            return _R + x if hz > 0 else -_R - x
        if _FN[iz] + uniform(state, k) * (_FN[iz - 1] - _FN[iz]) < math.exp(-0.5 * x * x):
            return x
        hz = _signed32(state, k)
        iz = hz & 127
        if abs(hz) < _KN[iz]:
            return hz * _WN[iz]

