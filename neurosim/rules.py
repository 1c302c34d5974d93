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

import contextlib

import numpy as np

from .engine.build import draw_sources, fixed_probability
from .validation import check_finite_array, check_int, check_probability, fail

__all__ = ["RULES", "check", "chunks", "draw", "rule_of", "expected_count", "DRAW_CHUNK"]

#: Keyword arguments of Network.connect that name a rule.
RULES = ("p", "indegree", "outdegree", "total", "one_to_one", "pairs")

#: Synapses drawn per compiled call: Ctrl-C (seen by Python between calls) stops a large
#: connect within a fraction of a second, with the network unchanged.
DRAW_CHUNK = 1 << 22


@contextlib.contextmanager
def draw_chunk(n):
    """Draw in chunks of about ``n`` synapses inside this block (the draws do not depend on
    the chunk size, only the working memory does: an MPI rank, which keeps a fraction of
    each chunk, draws in smaller ones)."""
    global DRAW_CHUNK
    old, DRAW_CHUNK = DRAW_CHUNK, int(n)
    try:
        yield
    finally:
        DRAW_CHUNK = old


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


def check(rule, value, n_pre, n_post, same, autapses, multapses):
    """Validate ``rule``'s value before anything is drawn: (value, exact number of synapses,
    or None for ``p`` whose count is drawn)."""
    skip = same and not autapses
    if rule == "all_to_all":
        return None, n_pre * n_post - (n_pre if skip else 0)
    if rule == "p":
        return check_probability("p", value), None
    if rule == "one_to_one":
        if n_pre != n_post:
            fail("one_to_one", f"used with n_pre == n_post (got {n_pre} and {n_post})", True)
        return True, n_pre
    if rule in ("indegree", "outdegree"):
        n_src, n_tgt = (n_pre, n_post) if rule == "indegree" else (n_post, n_pre)
        max_k = n_src - (1 if skip else 0)
        k = check_int(rule, value, 0, None if multapses else max_k)
        if k > 0 and max_k <= 0:
            fail(rule, "0 (no candidates)", k)
        return k, k * n_tgt
    if rule == "total":
        n_cand = n_pre - (1 if skip else 0)
        n = check_int("total", value, 0, None if multapses else n_cand * n_post)
        if n > 0 and n_cand <= 0:
            fail("total", "0 (no candidate pairs)", n)
        return n, n
    fail("rule", "one of " + ", ".join(("all_to_all",) + RULES[:-1]), rule)


def chunks(rule, value, n_pre, n_post, same, autapses, multapses, seed):
    """The synapses of ``rule`` (value checked by :func:`check`) as consecutive
    (pre_index, post_index) int32 chunks of about DRAW_CHUNK synapses, in synapse order.
    The same arguments give the same synapses however they are consumed (the draws are
    those of one call over everything)."""
    skip = same and not autapses
    state = np.array([seed], dtype=np.uint64)
    if rule == "all_to_all":
        rows = max(1, DRAW_CHUNK // max(n_post, 1))
        for i0 in range(0, n_pre, rows):
            i1 = min(n_pre, i0 + rows)
            pre_i = np.repeat(np.arange(i0, i1, dtype=np.int32), n_post)
            post_i = np.tile(np.arange(n_post, dtype=np.int32), i1 - i0)
            if skip:
                keep = pre_i != post_i
                pre_i, post_i = pre_i[keep], post_i[keep]
            yield pre_i, post_i
    elif rule == "p":
        yield from _bernoulli(n_pre, n_post, value, skip, state)
    elif rule == "one_to_one":
        for i0 in range(0, n_pre, DRAW_CHUNK):
            idx = np.arange(i0, min(n_pre, i0 + DRAW_CHUNK), dtype=np.int32)
            yield idx, idx.copy()
    elif rule in ("indegree", "outdegree"):
        n_src, n_tgt = (n_pre, n_post) if rule == "indegree" else (n_post, n_pre)
        for src, tgt in _sources(n_src, np.full(n_tgt, value, np.int64), skip, multapses,
                                 state):
            yield (src, tgt) if rule == "indegree" else (tgt, src)
    else:                                # total
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
        if multapses:
            counts = rng.multinomial(value, np.full(n_post, 1.0 / n_post))
        else:
            counts = rng.multivariate_hypergeometric(
                np.full(n_post, n_pre - (1 if skip else 0), np.int64), value)
        yield from _sources(n_pre, counts, skip, multapses, state)


def draw(rule, value, n_pre, n_post, same, autapses, multapses, seed):
    """(pre_index, post_index) int32 arrays of all the synapses of ``rule``."""
    if rule == "pairs":
        return _pairs(value, n_pre, n_post)
    value, _ = check(rule, value, n_pre, n_post, same, autapses, multapses)
    parts = list(chunks(rule, value, n_pre, n_post, same, autapses, multapses, seed))
    if not parts:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    return (np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts]))


def _sources(n_pre, counts, skip, multapses, state):
    """Sources for each target, ``counts[j]`` of them (target-major), in chunks."""
    offsets = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    j0 = 0
    while j0 < counts.shape[0]:         # chunks of about DRAW_CHUNK synapses
        j1 = int(np.searchsorted(offsets, offsets[j0] + DRAW_CHUNK, side="right")) - 1
        j1 = min(max(j1, j0 + 1), counts.shape[0])
        m = int(offsets[j1] - offsets[j0])
        pre_i = np.empty(m, dtype=np.int32)
        post_i = np.empty(m, dtype=np.int32)
        draw_sources(n_pre, j0, j1, offsets, skip, multapses, state, pre_i, post_i)
        j0 = j1
        yield pre_i, post_i


def _bernoulli(n_pre, n_post, prob, skip, state):
    total = n_pre * n_post
    span = max(1, int(DRAW_CHUNK / max(prob, 1e-12)))   # pairs per call: ~DRAW_CHUNK drawn
    pos, start = -1, 0
    while start < total:
        stop = min(total, start + span)
        mean = prob * (stop - start)
        cap = int(mean + 8.0 * np.sqrt(mean) + 16)
        while True:
            pre_i = np.empty(cap, dtype=np.int32)
            post_i = np.empty(cap, dtype=np.int32)
            saved, saved_pos = state.copy(), pos
            m, pos = fixed_probability(n_pre, n_post, prob, skip, state, pos, stop, pre_i,
                                       post_i)
            if m >= 0:
                break
            state[:], pos = saved, saved_pos     # more than 8 sd above the mean: redraw
            cap *= 2
        start = stop
        yield pre_i[:m], post_i[:m]


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
