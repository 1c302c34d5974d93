"""Connection rules: which (pre, post) pairs a projection connects.

One rule per ``Network.connect`` call, named as NEST's ``conn_spec`` rules:

* all-to-all (no rule given);
* ``p=`` (``pairwise_bernoulli``): each pair independently with probability p;
* ``indegree=K`` (``fixed_indegree``): each target gets exactly K sources;
* ``outdegree=K`` (``fixed_outdegree``): each source gets exactly K targets;
* ``total=N`` (``fixed_total_number``): N synapses in all, spread uniformly over the pairs:
  per-target counts are multinomial with ``multapses=True`` (N independent uniform pairs,
  as NEST) and multivariate hypergeometric without (N distinct pairs), then the sources of
  each target are drawn as for ``indegree``;
* ``one_to_one=True``: i -> i (``n_pre == n_post``);
* ``pairs=(pre_indices, post_indices)``: an explicit synapse list (repeated pairs are
  multapses and are kept).

``autapses`` (i -> i when pre is post) and ``multapses`` (the same pair twice) act as in NEST
for the random rules. Draws come from the projection's stream of the network seed and are
made in chunks of compiled calls (Ctrl-C stops a large connect at once).
"""

import numpy as np

from .engine.build import draw_sources, fixed_probability
from .validation import check_finite_array, check_int, check_probability, fail

__all__ = ["RULES", "draw", "rule_of", "expected_count", "DRAW_CHUNK"]

#: Keyword arguments of Network.connect that name a rule.
RULES = ("p", "indegree", "outdegree", "total", "one_to_one", "pairs")

#: Synapses drawn per compiled call: Ctrl-C (seen by Python between calls) stops a large
#: connect within a fraction of a second, with the network unchanged.
DRAW_CHUNK = 1 << 22


def rule_of(**given):
    """The one rule given (name, value), ("all_to_all", None) when none is; two is an
    error."""
    named = [(k, v) for k, v in given.items() if v is not None and v is not False]
    if len(named) > 1:
        fail("/".join(k for k, _ in named), "only one connection rule", tuple(v for _, v in
                                                                             named))
    return named[0] if named else ("all_to_all", None)


def expected_count(rule, value, n_pre, n_post):
    """Synapses the rule will draw (for p: mean + 8 sd), None when the value is invalid."""
    try:
        if rule == "all_to_all":
            return n_pre * n_post
        if rule == "p":
            mean = float(value) * n_pre * n_post
            return mean + 8.0 * np.sqrt(max(mean, 0.0)) + 16
        if rule == "indegree":
            return int(value) * n_post
        if rule == "outdegree":
            return int(value) * n_pre
        if rule == "total":
            return int(value)
        if rule == "one_to_one":
            return n_pre
        return None                      # pairs: the arrays are already in memory
    except (TypeError, ValueError):
        return None


def draw(rule, value, n_pre, n_post, same, autapses, multapses, seed):
    """(pre_index, post_index) int32 arrays of the synapses of ``rule``."""
    skip = same and not autapses
    state = np.array([seed], dtype=np.uint64)
    if rule == "all_to_all":
        pre_i = np.repeat(np.arange(n_pre, dtype=np.int32), n_post)
        post_i = np.tile(np.arange(n_post, dtype=np.int32), n_pre)
        if skip:
            keep = pre_i != post_i
            pre_i, post_i = pre_i[keep], post_i[keep]
        return pre_i, post_i
    if rule == "p":
        return _bernoulli(n_pre, n_post, check_probability("p", value), skip, state)
    if rule == "one_to_one":
        if n_pre != n_post:
            fail("one_to_one", f"used with n_pre == n_post (got {n_pre} and {n_post})", True)
        idx = np.arange(n_pre, dtype=np.int32)
        return idx, idx.copy()
    if rule == "pairs":
        return _pairs(value, n_pre, n_post)
    if rule in ("indegree", "outdegree"):
        n_src, n_tgt = (n_pre, n_post) if rule == "indegree" else (n_post, n_pre)
        max_k = n_src - (1 if skip else 0)
        k = check_int(rule, value, 0, None if multapses else max_k)
        if k > 0 and max_k <= 0:
            fail(rule, "0 (no candidates)", k)
        src, tgt = _sources(n_src, np.full(n_tgt, k, np.int64), skip, multapses, state)
        return (src, tgt) if rule == "indegree" else (tgt, src)
    # total
    n_cand = n_pre - (1 if skip else 0)
    n = check_int("total", value, 0, None if multapses else n_cand * n_post)
    if n > 0 and n_cand <= 0:
        fail("total", "0 (no candidate pairs)", n)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    if multapses:
        counts = rng.multinomial(n, np.full(n_post, 1.0 / n_post))
    else:
        counts = rng.multivariate_hypergeometric(np.full(n_post, n_cand, np.int64), n)
    return _sources(n_pre, counts, skip, multapses, state)


def _sources(n_pre, counts, skip, multapses, state):
    """Sources for each target, ``counts[j]`` of them (target-major)."""
    offsets = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    pre_i = np.empty(total, dtype=np.int32)
    post_i = np.empty(total, dtype=np.int32)
    j0 = 0
    while j0 < counts.shape[0]:         # chunks of about DRAW_CHUNK synapses
        j1 = int(np.searchsorted(offsets, offsets[j0] + DRAW_CHUNK, side="right")) - 1
        j1 = min(max(j1, j0 + 1), counts.shape[0])
        a, b = offsets[j0], offsets[j1]
        draw_sources(n_pre, j0, j1, offsets, skip, multapses, state, pre_i[a:b], post_i[a:b])
        j0 = j1
    return pre_i, post_i


def _bernoulli(n_pre, n_post, prob, skip, state):
    total = n_pre * n_post
    mean = prob * total
    cap = int(mean + 8.0 * np.sqrt(mean) + 16)
    pre_i = np.empty(cap, dtype=np.int32)
    post_i = np.empty(cap, dtype=np.int32)
    span = max(1, int(DRAW_CHUNK / max(prob, 1e-12)))   # pairs per call: ~DRAW_CHUNK drawn
    n, pos, start = 0, -1, 0
    while start < total:
        stop = min(total, start + span)
        saved, saved_pos = state.copy(), pos
        m, pos = fixed_probability(n_pre, n_post, prob, skip, state, pos, stop, pre_i[n:],
                                   post_i[n:])
        if m < 0:                    # more than 8 sd above the mean: grow, redraw the chunk
            state[:], pos = saved, saved_pos
            pre_i = np.concatenate([pre_i, np.empty_like(pre_i)])
            post_i = np.concatenate([post_i, np.empty_like(post_i)])
            continue
        n, start = n + m, stop
    return pre_i[:n], post_i[:n]


def _pairs(value, n_pre, n_post):
    if isinstance(value, np.ndarray) and value.ndim == 2:
        value = tuple(value)
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        fail("pairs", "(pre_indices, post_indices), two arrays of equal length",
             type(value).__name__)
    out = []
    for name, arr, n in (("pairs[0]", value[0], n_pre), ("pairs[1]", value[1], n_post)):
        a = check_finite_array(name, arr).ravel()
        if a.size and (np.any(a != np.round(a)) or a.min() < 0 or a.max() >= n):
            bad = a[(a != np.round(a)) | (a < 0) | (a >= n)][0]
            fail(name, f"integers in [0, {n - 1}]", float(bad))
        out.append(a.astype(np.int32))
    if out[0].shape != out[1].shape:
        fail("pairs[1].shape", f"{out[0].shape} (as pairs[0])", out[1].shape)
    return out[0], out[1]
