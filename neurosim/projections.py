"""Connections between populations: validated once, stored as COO (pre, post, weight, delay).

Weights are given as

* a dense ``(n_pre, n_post)`` array: every non-zero entry is a synapse;
* a ``scipy.sparse`` matrix of that shape: every stored entry is a synapse;
* a scalar, a distribution (:mod:`neurosim.random`) or one value per synapse, together with
  a connection rule (:mod:`neurosim.rules`: ``p``, ``indegree``, ``outdegree``, ``total``,
  ``one_to_one``, ``pairs``, or none for all-to-all). Random connectivity and random values
  are drawn from the network's seed.

Delays are a scalar (s), a distribution (drawn, then rounded to the grid as NEST does) or
one value per synapse: an array shaped like a dense weight matrix, or 1-D in the order of
the synapses (row-major non-zeros for a dense matrix, ``W.tocoo()`` order for a sparse one,
generation order for random connectivity)."""

import numbers

import numpy as np

from . import rules
from .random import Distribution
from .models.loihi import (
    MAX_LOIHI_DELAY, SIGN_MODES, LoihiSynapseSpec, effective_weights, infer_sign_mode,
)
from .validation import (
    ParameterError, Sealed, check_dimension, check_finite, check_finite_array, check_int,
    fail, steps_on_grid, warn_implausible,
)

__all__ = ["Projection", "MAX_DELAY_STEPS"]

#: Longest delay in steps (ring buffer slots are indexed with 32-bit integers, and memory
#: grows as delay x neurons; 2**16 steps = 6.5 s at dt = 0.1 ms).
MAX_DELAY_STEPS = 65535


class Projection(Sealed):
    """Synapses from ``pre`` to ``post`` (create with :meth:`Network.connect`).

    Weights and delays can be changed between runs (``proj.weight = ...``,
    ``proj.weight[:10] *= 2``, ``proj.delay = 2*ms``): the next ``run`` lowers the new values
    (and checks them, as at creation) before it simulates. Spikes already in flight keep the
    weight they were sent with (as in NEST: a spike's weight is applied when it is sent).
    Crossbar synapses refuse both (their weights are programmed conductances). Other
    attributes are fixed; assigning an unknown or fixed one raises ``AttributeError``.

    Attributes
    ----------
    pre, post : Population
    pre_index, post_index : numpy.ndarray
        int32 local indices of each synapse's source and target (read-only).
    weight : numpy.ndarray
        float64 weight of each synapse (V), live: see above.
    delay : numpy.ndarray
        Delay of each synapse (s), a read-only copy; assign to change.
    delay_steps : int or numpy.ndarray
        Delay in steps, one scalar for the whole projection or int64 per synapse.
    loihi : LoihiSynapseSpec or None
        Integer synapse parameters when the target is a loihi_lif population.
    crossbar : neurosim.crossbar.Crossbar or None
        The programmed arrays of crossbar synapses (their conductances follow learning).
    plasticity : neurosim.crossbar.STDP or None
    """

    def __init__(self, net, pre, post, weight, delay, rule, value, autapses, multapses, name,
                 rng_state, loihi=None):
        self.net = net
        self.pre = pre
        self.post = post
        self.name = name
        self.rule = rule
        pre_i, post_i, w = _synapses(pre, post, weight, rule, value, autapses, multapses,
                                     rng_state, float_target=loihi is None)
        if isinstance(delay, Distribution):
            check_dimension("delay", delay, "s")
            delay = _grid(delay.sample(_stream(rng_state, 3), pre_i.shape[0], "delay"),
                          net.dt)
        pre_i.flags.writeable = post_i.flags.writeable = False
        self.pre_index = pre_i
        self.post_index = post_i
        self._weight = w
        self._snapshot = None       # weights as last lowered, kept once they were exposed
        self._exposed = False       # the live weight array was handed out
        self._delay_edited = False
        self.delay_steps = _delays(delay, weight, pre_i, post_i, net.dt)
        self.loihi = None
        if loihi is not None:
            self._set_loihi(loihi)
        self.crossbar = None       # a programmed Crossbar (Network.connect(synapse=...))
        self.plasticity = None     # its STDP rule, if any

    @property
    def n_synapses(self):
        return int(self.pre_index.shape[0])

    # -------------------------------------------------------------- editable parameters
    @property
    def weight(self):
        """Weight of each synapse (V), float64, in synapse order; a live array whose edits
        take effect in the next run (read-only for crossbar synapses)."""
        if self.crossbar is not None:
            w = self._weight.view()
            w.flags.writeable = False
            return w
        self._expose()
        return self._weight

    @weight.setter
    def weight(self, value):
        self._refuse_crossbar("weight")
        w = check_finite_array("weight", value, unit="V" if self.loihi is None else "")
        if w.ndim == 2 and w.shape == (self.pre.n, self.post.n):
            w = w[self.pre_index, self.post_index]
        elif w.ndim == 0:
            w = np.full(self.n_synapses, float(w))
        if w.shape != (self.n_synapses,):
            fail("weight.shape", f"() or ({self.n_synapses},) (one per synapse, in the order "
                 f"of pre_index/post_index) or ({self.pre.n}, {self.post.n}) (read at the "
                 "synapses)", w.shape)
        if self.loihi is None:
            warn_implausible("weight", w, "V")
        self._expose()
        self._weight[...] = w

    @property
    def delay(self):
        """Delay of each synapse (s): a read-only copy; assign to change (on the dt grid)."""
        d = np.broadcast_to(np.asarray(self.delay_steps), (self.n_synapses,)) * self.net.dt
        d.flags.writeable = False
        return d

    @delay.setter
    def delay(self, value):
        self._refuse_crossbar("delay")
        arr = check_finite_array("delay", value, unit="s")
        if arr.ndim == 2 and arr.shape == (self.pre.n, self.post.n):
            arr = arr[self.pre_index, self.post_index]
        steps = _delays(arr, None, self.pre_index, self.post_index, self.net.dt)
        if self.loihi is not None:
            _check_loihi_delays(steps, self.net.dt)
        object.__setattr__(self, "delay_steps", steps)
        self._delay_edited = True

    delays = delay

    def _refuse_crossbar(self, what):
        if self.crossbar is not None:
            raise ParameterError(
                f"{self.name}: the {what} of crossbar synapses cannot be changed between "
                "runs (the weights are programmed device conductances and the arrays have "
                "one delay); program a new Crossbar and connect it in a new Network")

    def _expose(self):
        """The live weight array leaves the projection: from now on each run compares it
        with what was lowered (a copy of the weights, kept only for such projections)."""
        self._exposed = True
        if self._snapshot is None and self.net.built:
            self._snapshot = self._weight.copy()

    def _lowered(self):
        """The plan now holds this projection's weights and delays."""
        self._delay_edited = False
        if self._exposed:
            self._snapshot = self._weight.copy()

    def _edited(self):
        """Weights or delays differ from what the plan holds."""
        return self._delay_edited or (self._snapshot is not None
                                      and not np.array_equal(self._weight, self._snapshot))

    def _check_edits(self):
        """Validate the (possibly edited in place) weights as at creation."""
        if not self._exposed:
            return
        check_finite_array(f"{self.name}: weight", self._weight)
        if self.loihi is not None:
            self._set_loihi(self._loihi_args)

    def _set_loihi(self, args):
        """Integer synapses for a loihi_lif target from Lava's Dense arguments ``args``."""
        self._loihi_args = args
        object.__setattr__(self, "loihi", _loihi_synapses(self, **args))

    def _clone(self, net, pre, post):
        """A copy for another network (own weight array, not yet lowered)."""
        c = object.__new__(type(self))
        c.__dict__.update(self.__dict__)
        c.__dict__.update(net=net, pre=pre, post=post, _weight=self._weight.copy(),
                          _snapshot=None, _exposed=False)
        return c

    def fan_out(self):
        """Number of synapses of each presynaptic neuron (int64, length pre.n)."""
        return np.bincount(self.pre_index, minlength=self.pre.n)

    def to_dense(self):
        """Weights as a dense (n_pre, n_post) array (multapses summed)."""
        out = np.zeros((self.pre.n, self.post.n))
        np.add.at(out, (self.pre_index, self.post_index), self._weight)
        return out

    def __repr__(self):
        return (f"Projection({self.pre.name} -> {self.post.name}, "
                f"{self.n_synapses} synapses)")


def _synapses(pre, post, weight, rule, value, autapses, multapses, seed, float_target=True):
    """(pre_index, post_index, weight) of a connect: a matrix's entries, or the pairs of
    ``rule`` (:mod:`neurosim.rules`) with a scalar, per-synapse or random weight."""
    n_pre, n_post = pre.n, post.n
    unit = "V" if float_target else ""
    if _is_sparse(weight) or (isinstance(weight, np.ndarray) and weight.ndim == 2) or (
            isinstance(weight, (list, tuple))):
        if rule != "all_to_all":
            fail(rule, "None when weight is a matrix (its non-zeros are the synapses)", value)
        if _is_sparse(weight):
            coo = weight.tocoo()
            if coo.shape != (n_pre, n_post):
                fail("weight.shape", f"({n_pre}, {n_post}) (n_pre, n_post)", coo.shape)
            rows, cols, w = coo.row, coo.col, check_finite_array("weight", coo.data)
        else:
            w = check_finite_array("weight", weight, unit=unit)
            if w.shape != (n_pre, n_post):
                fail("weight.shape", f"({n_pre}, {n_post}) (n_pre, n_post)", w.shape)
            rows, cols = np.nonzero(w)
            w = w[rows, cols]
        if float_target:
            warn_implausible("weight", w, "V")
        return rows.astype(np.int32), cols.astype(np.int32), w
    if isinstance(weight, Distribution):
        check_dimension("weight", weight, unit)
    elif isinstance(weight, np.ndarray) and weight.ndim == 1:
        weight = check_finite_array("weight", weight, unit=unit)
    else:
        if isinstance(weight, np.ndarray) and weight.ndim != 0:
            fail("weight", "a scalar, a distribution, one value per synapse, an (n_pre, "
                 "n_post) array or a scipy.sparse matrix", weight.shape, "array of shape")
        if not isinstance(weight, (numbers.Real, np.ndarray)) or isinstance(weight, bool):
            fail("weight", "a number, a distribution (neurosim.random), an (n_pre, n_post) "
                 "array or a scipy.sparse matrix", type(weight).__name__)
        check_dimension("weight", weight, unit)
        weight = check_finite("weight", float(weight), "V")
    pre_i, post_i = rules.draw(rule, value, n_pre, n_post, pre is post, autapses, multapses,
                               seed)
    n = pre_i.shape[0]
    if isinstance(weight, Distribution):
        w = weight.sample(_stream(seed, 2), n, "weight")
    elif np.ndim(weight) == 1:
        if weight.shape != (n,):
            fail("weight.shape", f"({n},) (one per synapse of this rule)", weight.shape)
        w = weight.astype(np.float64, copy=True)
    else:
        w = np.full(n, weight)
    if float_target:
        warn_implausible("weight", w, "V")
    return pre_i, post_i, w


def _stream(seed, k):
    """The projection's random stream ``k`` (2: weights, 3: delays)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), k]))


def _loihi_synapses(proj, weight_exp, num_weight_bits, sign_mode):
    """Validate integer weights and Lava's Dense parameters; quantize as PyDenseModelBitAcc."""
    w = proj._weight
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
    _check_loihi_delays(proj.delay_steps, proj.net.dt)
    return LoihiSynapseSpec(weight_exp=weight_exp, num_weight_bits=num_weight_bits,
                            sign_mode=sign_mode,
                            weight=effective_weights(w.astype(np.int64), num_weight_bits,
                                                     sign_mode))


def _grid(values, dt):
    """Drawn delays rounded to the time grid (as NEST does), checked >= 0."""
    v = np.round(values / dt) * dt
    if v.size and v.min() < 0:
        fail("delay", ">= 0 s after rounding to the grid (bound the distribution: low=...)",
             float(values.min()))
    return v


def _check_loihi_delays(delay_steps, dt):
    d = np.asarray(delay_steps)
    if d.size and d.max() > MAX_LOIHI_DELAY:
        fail("delay", f"<= {MAX_LOIHI_DELAY} steps ({MAX_LOIHI_DELAY * dt:g} s) for a "
             "loihi_lif target (6-bit delays)", float(d.max() * dt))


def _delays(delay, weight, pre_i, post_i, dt):
    check_dimension("delay", delay, "s")
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
    steps = steps.astype(np.int32)      # the plan's type (MAX_DELAY_STEPS fits): 4 B each
    steps.flags.writeable = False
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
