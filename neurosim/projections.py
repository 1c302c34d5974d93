"""Connections between populations: validated once, stored as COO (pre, post, weight, delay).

Weights are given as

* a dense ``(n_pre, n_post)`` array: every non-zero entry is a synapse;
* a ``scipy.sparse`` matrix of that shape: every stored entry is a synapse;
* a scalar together with ``p=`` (each pair connected with probability p), ``indegree=``
  (each target gets exactly that many distinct sources), or neither (all-to-all).
  Random connectivity is drawn from the network's seed.

Delays are a scalar (s) or one value per synapse: an array shaped like a dense weight matrix,
or 1-D in the order of the synapses (row-major non-zeros for a dense matrix, ``W.tocoo()``
order for a sparse one, generation order for random connectivity).
"""

import numbers

import numpy as np

from .engine.build import fixed_indegree, fixed_probability
from .models.loihi import (
    MAX_LOIHI_DELAY, SIGN_MODES, LoihiSynapseSpec, effective_weights, infer_sign_mode,
)
from .validation import (
    ParameterError, check_finite, check_finite_array, check_int, check_probability, fail,
    steps_on_grid,
)

__all__ = ["Projection", "MAX_DELAY_STEPS"]

#: Longest delay in steps (ring buffer slots are indexed with 32-bit integers, and memory
#: grows as delay x neurons; 2**16 steps = 6.5 s at dt = 0.1 ms).
MAX_DELAY_STEPS = 65535


class Projection:
    """Synapses from ``pre`` to ``post`` (create with :meth:`Network.connect`).

    Attributes
    ----------
    pre, post : Population
    pre_index, post_index : numpy.ndarray
        int32 local indices of each synapse's source and target.
    weight : numpy.ndarray
        float64 weight of each synapse (V).
    delay_steps : int or numpy.ndarray
        Delay in steps, one scalar for the whole projection or int64 per synapse.
    loihi : LoihiSynapseSpec or None
        Integer synapse parameters when the target is a loihi_lif population.
    crossbar : neurosim.crossbar.Crossbar or None
        The programmed arrays of crossbar synapses (their conductances follow learning).
    plasticity : neurosim.crossbar.STDP or None
    """

    def __init__(self, net, pre, post, weight, delay, p, indegree, autapses, multapses, name,
                 rng_state, loihi=None):
        self.net = net
        self.pre = pre
        self.post = post
        self.name = name
        pre_i, post_i, w = _synapses(pre, post, weight, p, indegree, autapses, multapses,
                                     rng_state)
        self.pre_index = pre_i
        self.post_index = post_i
        self.weight = w
        self.delay_steps = _delays(delay, weight, pre_i, post_i, net.dt)
        self.loihi = None if loihi is None else _loihi_synapses(self, **loihi)
        self.crossbar = None       # a programmed Crossbar (Network.connect(synapse=...))
        self.plasticity = None     # its STDP rule, if any

    @property
    def n_synapses(self):
        return int(self.pre_index.shape[0])

    @property
    def delays(self):
        """Delay of each synapse (s)."""
        d = np.broadcast_to(np.asarray(self.delay_steps), (self.n_synapses,))
        return d * self.net.dt

    def fan_out(self):
        """Number of synapses of each presynaptic neuron (int64, length pre.n)."""
        return np.bincount(self.pre_index, minlength=self.pre.n)

    def to_dense(self):
        """Weights as a dense (n_pre, n_post) array (multapses summed)."""
        out = np.zeros((self.pre.n, self.post.n))
        np.add.at(out, (self.pre_index, self.post_index), self.weight)
        return out

    def __repr__(self):
        return (f"Projection({self.pre.name} -> {self.post.name}, "
                f"{self.n_synapses} synapses)")


def _synapses(pre, post, weight, p, indegree, autapses, multapses, rng_state):
    n_pre, n_post = pre.n, post.n
    same = pre is post
    if _is_sparse(weight) or (isinstance(weight, np.ndarray) and weight.ndim == 2) or (
            isinstance(weight, (list, tuple))):
        if p is not None or indegree is not None:
            fail("p/indegree", "None when weight is a matrix", p if p is not None else indegree)
        if _is_sparse(weight):
            coo = weight.tocoo()
            if coo.shape != (n_pre, n_post):
                fail("weight.shape", f"({n_pre}, {n_post}) (n_pre, n_post)", coo.shape)
            data = check_finite_array("weight", coo.data)
            return coo.row.astype(np.int32), coo.col.astype(np.int32), data
        w = check_finite_array("weight", weight)
        if w.shape != (n_pre, n_post):
            fail("weight.shape", f"({n_pre}, {n_post}) (n_pre, n_post)", w.shape)
        rows, cols = np.nonzero(w)
        return rows.astype(np.int32), cols.astype(np.int32), w[rows, cols]
    if isinstance(weight, np.ndarray) and weight.ndim != 0:
        fail("weight", "a scalar, an (n_pre, n_post) array or a scipy.sparse matrix",
             weight.shape, "array of shape")
    if not isinstance(weight, (numbers.Real, np.ndarray)) or isinstance(weight, bool):
        fail("weight", "a number, an (n_pre, n_post) array or a scipy.sparse matrix",
             type(weight).__name__)
    w = check_finite("weight", float(weight), "V")
    state = np.array([rng_state], dtype=np.uint64)
    skip = same and not autapses
    if p is not None and indegree is not None:
        fail("p/indegree", "only one of the two", (p, indegree))
    if indegree is not None:
        max_k = n_pre - (1 if skip else 0)
        k = check_int("indegree", indegree, 0, None if multapses else max_k)
        if k > 0 and max_k <= 0:
            fail("indegree", "0 (no candidate sources)", k)
        total = k * n_post
        pre_i = np.empty(total, dtype=np.int32)
        post_i = np.empty(total, dtype=np.int32)
        fixed_indegree(n_pre, n_post, k, skip, bool(multapses), state, pre_i, post_i)
    else:
        prob = 1.0 if p is None else check_probability("p", p)
        if p is None:
            rows, cols = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
            keep = ~(rows == cols) if skip else np.ones(rows.shape, bool)
            pre_i = rows[keep].astype(np.int32)
            post_i = cols[keep].astype(np.int32)
        else:
            mean = prob * n_pre * n_post
            cap = int(mean + 8.0 * np.sqrt(mean) + 16)
            while True:
                st = state.copy()
                pre_i = np.empty(cap, dtype=np.int32)
                post_i = np.empty(cap, dtype=np.int32)
                n = fixed_probability(n_pre, n_post, prob, skip, st, pre_i, post_i)
                if n >= 0:
                    pre_i, post_i = pre_i[:n].copy(), post_i[:n].copy()
                    break
                cap *= 2
    return pre_i, post_i, np.full(pre_i.shape[0], w)


def _loihi_synapses(proj, weight_exp, num_weight_bits, sign_mode):
    """Validate integer weights and Lava's Dense parameters; quantize as PyDenseModelBitAcc."""
    w = proj.weight
    if w.size and np.any(w != np.round(w)):
        fail("weight", "integers for a loihi_lif target (see neurosim.loihi.quantize for float "
             "networks)", float(w[w != np.round(w)][0]))
    if w.size and (w.min() < -2**31 or w.max() > 2**31 - 1):
        fail("weight", "integers in [-2**31, 2**31 - 1]", float(np.abs(w).max()))
    weight_exp = check_int("weight_exp", weight_exp, -24, 24)
    num_weight_bits = check_int("num_weight_bits", num_weight_bits, 1, 8)
    if sign_mode is None:
        sign_mode = infer_sign_mode(w)
    else:
        if not isinstance(sign_mode, str) or sign_mode.lower() not in SIGN_MODES:
            fail("sign_mode", "None or one of " + ", ".join(repr(k) for k in SIGN_MODES),
                 sign_mode)
        sign_mode = sign_mode.lower()
    d = np.asarray(proj.delay_steps)
    if d.size and d.max() > MAX_LOIHI_DELAY:
        fail("delay", f"<= {MAX_LOIHI_DELAY} steps ({MAX_LOIHI_DELAY * proj.net.dt:g} s) for a "
             "loihi_lif target (6-bit delays)", float(d.max() * proj.net.dt))
    return LoihiSynapseSpec(weight_exp=weight_exp, num_weight_bits=num_weight_bits,
                            sign_mode=sign_mode,
                            weight=effective_weights(w.astype(np.int64), num_weight_bits,
                                                     sign_mode))


def _delays(delay, weight, pre_i, post_i, dt):
    arr = np.asarray(delay, dtype=float) if not _is_sparse(delay) else None
    if arr is not None and arr.ndim == 0:
        steps = int(steps_on_grid("delay", arr, dt))
        if steps > MAX_DELAY_STEPS:
            fail("delay", f"<= {MAX_DELAY_STEPS} steps ({MAX_DELAY_STEPS * dt:g} s)", float(arr))
        return steps
    n = pre_i.shape[0]
    if _is_sparse(delay):
        arr = np.asarray(delay.toarray(), dtype=float)
    if arr.ndim == 2 and isinstance(weight, np.ndarray) and weight.shape == arr.shape:
        arr = arr[pre_i, post_i]
    elif arr.ndim == 2:
        if _is_sparse(weight) and arr.shape == weight.shape:
            arr = arr[pre_i, post_i]
        else:
            fail("delay.shape", "the weight matrix's shape or (n_synapses,)", arr.shape)
    if arr.shape != (n,):
        fail("delay.shape", f"() or ({n},) (one per synapse)", arr.shape)
    steps = steps_on_grid("delay", arr, dt)
    if steps.size and steps.max() > MAX_DELAY_STEPS:
        fail("delay", f"<= {MAX_DELAY_STEPS} steps", float(arr.max()))
    return steps


def _is_sparse(x):
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is a core dependency
        return False
    return sp.issparse(x)


def check_same_network(net, pop, name):
    """A population given to ``net`` must belong to it."""
    from .populations import Population
    if not isinstance(pop, Population):
        fail(name, "a population of this network", type(pop).__name__)
    if pop.net is not net:
        raise ParameterError(f"{name} must be a population of this network; got {pop.name!r} "
                             f"of another Network")
