"""How connections arrive in neurosim.pynn: PyNN's connectors, in bulk.

PyNN's MapConnectors call ``_standard_connect``, a loop over target neurons that evaluates
the synapse parameters and calls ``Projection._convergent_connect`` once per target. For
the connector's call only, :class:`~neurosim.pynn.projections.Projection` replaces it by
:func:`bulk_standard_connect`, which evaluates the connection map and the parameters by
blocks of columns (AllToAll, FixedProbability, DistanceDependent, IndexBased, Array,
OneToOne, Clone: a random map is drawn column by column, as PyNN's loop draws it, so the
connectivity is the other backends') or collects the per-target index arrays of the
fixed-number connectors, then evaluates the parameters once. :func:`bulk_from_list` is
FromListConnector.connect in one pass, and :func:`fixed_total_connect`
FixedTotalNumberConnector.connect without its Python loop over connections (the same
random draws).
"""

import copy

import numpy as np
from lazyarray import larray

from pyNN import errors
from pyNN.random import RandomDistribution
from pyNN.standardmodels import StandardSynapseType

__all__ = ["bulk_standard_connect", "bulk_from_list", "fixed_total_connect"]

#: Elements of the connection map evaluated at once (bool: bytes).
BLOCK = 1 << 22


def _block(value, rows, cols):
    """A partially evaluated block of a lazy array as a (rows, cols) array."""
    value = np.asarray(value)
    if value.ndim == 2 and value.shape == (rows, cols):
        return value
    if value.size == rows * cols and value.ndim >= 1:
        return value.reshape(rows, cols)
    return np.broadcast_to(value, (rows, cols))


def _evaluate_at(lazy, pre, post, n_pre, n_post):
    """Values of a (n_pre, n_post) lazy parameter array at the synapses (post sorted)."""
    n = pre.size
    if lazy.is_homogeneous:
        return np.full(n, float(lazy.evaluate(simplify=True)))
    if isinstance(lazy.base_value, RandomDistribution) and not any(
            isinstance(arg, larray) for _, arg in lazy.operations):
        if n == 0:
            return np.zeros(0)
        vals = np.asarray(lazy.base_value.next(n), dtype=float).reshape(n)
        return np.asarray(lazy._apply_operations(vals), dtype=float).reshape(n)
    out = np.empty(n)
    step = max(1, BLOCK // 8 // max(n_pre, 1))
    for j0 in range(0, n_post, step):
        j1 = min(n_post, j0 + step)
        a, b = np.searchsorted(post, [j0, j1])
        if a == b:
            continue
        blk = _block(lazy[:, j0:j1], n_pre, j1 - j0).astype(float, copy=False)
        out[a:b] = blk[pre[a:b], post[a:b] - j0]
    return out


def bulk_standard_connect(connector, projection, connection_map_generator, distance_map=None):
    """MapConnector._standard_connect, in bulk (see the module docstring)."""
    n_pre, n_post = projection.shape
    params = connector._parameters_from_synapse_type(projection, distance_map)
    owner = getattr(connection_map_generator, "__self__", None)
    pres, posts = [], []
    if isinstance(owner, larray) and \
            getattr(connection_map_generator, "__name__", "") == "by_column":
        step = max(1, BLOCK // max(n_pre, 1))
        for j0 in range(0, n_post, step):
            j1 = min(n_post, j0 + step)
            if isinstance(owner.base_value, RandomDistribution) and n_pre:
                # drawn column by column, as LazyArray.by_column does: the same
                # connectivity as PyNN's other backends for the same RNG and seed
                draws = np.asarray(owner.base_value.next(n_pre * (j1 - j0)), dtype=float)
                blk = owner._apply_operations(draws.reshape(j1 - j0, n_pre).T,
                                              (slice(None), slice(j0, j1)))
            else:
                blk = owner[:, j0:j1] if n_pre else np.zeros((0, j1 - j0), bool)
            blk = _block(blk, n_pre, j1 - j0).astype(bool, copy=False)
            jj, ii = np.nonzero(blk.T)
            pres.append(ii.astype(np.int64))
            posts.append(jj.astype(np.int64) + j0)
    else:
        for col, src in zip(range(n_post), connection_map_generator()):
            if src is True or (isinstance(src, np.bool_) and src):
                s = np.arange(n_pre, dtype=np.int64)
            elif src is False or isinstance(src, np.bool_):
                continue
            else:
                src = np.asarray(src)
                s = np.flatnonzero(src) if src.dtype == bool else src.astype(np.int64)
            if s.size:
                pres.append(s)
                posts.append(np.full(s.size, col, np.int64))
    pre = np.concatenate(pres) if pres else np.zeros(0, np.int64)
    post = np.concatenate(posts) if posts else np.zeros(0, np.int64)
    values = {name: _evaluate_at(lazy, pre, post, n_pre, n_post)
              for name, lazy in params.items()}
    syn = projection.synapse_type
    if connector.safe and pre.size:
        for pname, check in getattr(syn, "parameter_checks", {}).items():
            native = syn.translations[pname]["translated_name"]
            if native in values:
                check(values[native], projection)
    projection._add_chunk(pre, post, values)
    if connector.callback:
        connector.callback(1.0)


def bulk_from_list(connector, projection):
    """FromListConnector.connect in one pass: the same checks, the same order (the list
    sorted by target as PyNN sorts it) and the same parameters, without the loop over
    targets that evaluates the synapse parameters once per target. False (nothing done)
    when a parameter not in the list is a function (PyNN evaluates it per target)."""
    names = projection.synapse_type.get_parameter_names()
    for name in connector.column_names:
        if name not in names:
            raise ValueError("%s is not a valid parameter for %s" % (
                name, projection.synapse_type.__class__.__name__))
    if connector.conn_list.size == 0:
        return True
    params = copy.deepcopy(projection.synapse_type.parameter_space)
    given = set(connector.column_names)
    if any(callable(value.base_value) for name, value in params.items() if name not in given):
        return False          # a function of the index within each target: PyNN's loop
    if np.any(connector.conn_list[:, 0] >= projection.pre.size):
        raise errors.ConnectionError("source index out of range")
    idx = np.argsort(connector.conn_list[:, 1])
    connector.conn_list = cl = connector.conn_list[idx]
    post = cl[:, 1].astype(np.int64)
    keep = (post >= 0) & (post < projection.post.size)      # PyNN connects local targets
    cl, post = cl[keep], post[keep]
    n = post.size
    if n == 0:
        return True
    params.shape = (n,)
    for col, name in enumerate(connector.column_names, 2):
        params.update(**{name: cl[:, col]})
    if isinstance(projection.synapse_type, StandardSynapseType):
        params = projection.synapse_type.translate(params)
    params.evaluate()
    projection._add_chunk(cl[:, 0].astype(np.int64), post, dict(params.items()))
    return True


def fixed_total_connect(connector, projection):
    """FixedTotalNumberConnector.connect (one process) without its Python loop over
    connections, which draws a source (``rng.next(1, 'uniform_int')``) and a target
    (``rng.choice``) per connection: NumPy's RandomState draws each as masked rejection
    sampling on 32-bit words, replayed here on a copy of the generator's words, and the
    generator is then advanced by the words used, so the synapses (and everything drawn
    after them) are PyNN's."""
    rng = connector.rng
    n_pre, n_post = projection.pre.size, projection.post.size
    bino = RandomDistribution("binomial", [connector.n, 1.0], rng=rng)   # as PyNN draws it
    bino.parameters["p"] = 1.0
    bino.parameters["n"] = connector.n
    m = int(bino.next())
    targets_ok = np.arange(n_post)[projection.post._mask_local]
    src, tgt = np.empty(m, np.int64), np.empty(m, np.int64)
    state = rng.rng.get_state()
    copy_rs = np.random.RandomState()
    copy_rs.set_state(state)
    ranges = (n_pre - 1, targets_ok.size - 1)
    masks = tuple((1 << int(r).bit_length()) - 1 for r in ranges)
    used = 0
    words = []
    k = 0
    draw = 0
    while draw < 2 * m:
        if k >= len(words):
            words = copy_rs.randint(0, 1 << 32, size=max(1024, 2 * (2 * m - draw)),
                                    dtype=np.uint64).tolist()
            k = 0
        w = words[k] & masks[draw & 1]
        k += 1
        used += 1
        if w <= ranges[draw & 1]:
            if draw & 1:
                tgt[draw >> 1] = targets_ok[w]
            else:
                src[draw >> 1] = w
            draw += 1
    if used:
        rng.rng.randint(0, 1 << 32, size=used, dtype=np.uint64)     # the words used
    order = np.argsort(tgt, kind="stable")
    bounds = np.searchsorted(tgt[order], np.arange(n_post + 1))
    sources = src[order]

    def build_source_masks(mask=None):
        lists = [sources[bounds[j]:bounds[j + 1]] for j in range(n_post)]
        return lists if mask is None else [x for x, keep in zip(lists, mask) if keep]
    connector._standard_connect(projection, build_source_masks)
