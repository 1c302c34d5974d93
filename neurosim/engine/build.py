"""Kernels that lower connectivity to CSR and draw random connectivity (build time only)."""

import numpy as np
from numba import njit

from .._config import JIT_OPTIONS
from .rng import geometric, next_u64

__all__ = ["csr_scatter", "fixed_probability", "fixed_indegree"]


@njit(**JIT_OPTIONS)
def csr_scatter(rows, indptr, order_out):
    """Stable counting sort: ``order_out[k]`` is the source position of the k-th CSR entry.

    ``indptr`` (length n_rows + 1) must already hold the cumulative row counts.
    """
    fill = indptr[:-1].copy()
    for s in range(rows.shape[0]):
        r = rows[s]
        order_out[fill[r]] = s
        fill[r] += 1


@njit(**JIT_OPTIONS)
def fixed_probability(n_pre, n_post, p, skip_diagonal, state, pre_out, post_out):
    """Bernoulli(p) for every (pre, post) pair, pre-major, by geometric skipping.

    Cost is proportional to the number of synapses drawn, not n_pre * n_post. Returns the
    count written, or -1 when ``pre_out`` is too small (the caller grows it and redraws from
    the same seed, so the result does not depend on the first guess).
    """
    total = np.int64(n_pre) * np.int64(n_post)
    log1m_p = np.log1p(-p) if p < 1.0 else -np.inf
    pos = geometric(state, 0, log1m_p)
    cap = pre_out.shape[0]
    n = 0
    while pos < total:
        i = pos // n_post
        j = pos - i * n_post
        if not (skip_diagonal and i == j):
            if n >= cap:
                return -1
            pre_out[n] = i
            post_out[n] = j
            n += 1
        pos += 1 + geometric(state, 0, log1m_p)
    return n


@njit(**JIT_OPTIONS)
def fixed_indegree(n_pre, n_post, k, skip_diagonal, multapses, state, pre_out, post_out):
    """For each target, ``k`` sources drawn uniformly (without repeats unless ``multapses``).

    Distinct draws use a mark array (O(k) per target). With ``skip_diagonal`` target j never
    draws source j. Output is target-major.
    """
    mark = np.zeros(n_pre, dtype=np.uint8)
    n_cand = n_pre - 1 if skip_diagonal else n_pre
    n = 0
    for j in range(n_post):
        start = n
        while n - start < k:
            i = np.int64(next_u64(state, 0) % np.uint64(n_cand))
            if skip_diagonal and i >= j:
                i += 1
            if not multapses:
                if mark[i]:
                    continue
                mark[i] = 1
            pre_out[n] = i
            post_out[n] = j
            n += 1
        if not multapses:
            for s in range(start, n):
                mark[pre_out[s]] = 0
    return n
