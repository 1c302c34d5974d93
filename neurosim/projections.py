"""Connections between populations: validated once; a rule's synapses are drawn at build.

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
from .random import Distribution, Sampler
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

    Synapses of a connection rule are not stored: the projection keeps the rule, its seed
    and the weight and delay (scalars, distributions or arrays), and the build draws them
    straight into the plan (twice, in chunks: once to count, once to place), so a network
    holds its synapses once. ``pre_index``, ``post_index`` and ``weight`` are drawn (the
    same values, from the same seed) when first read and are then kept.

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
        int32 local indices of each synapse's source and target (read-only; kept once read).
    weight : numpy.ndarray
        float64 weight of each synapse (V), live: see above (kept once read).
    delay : numpy.ndarray
        Delay of each synapse (s), a read-only copy; assign to change.
    delay_steps : int or numpy.ndarray
        Delay in steps, one scalar for the whole projection or int32 per synapse.
    loihi : LoihiSynapseSpec or None
        Integer synapse parameters when the target is a loihi_lif population.
    crossbar : neurosim.crossbar.Crossbar or None
        The programmed arrays of crossbar synapses (their conductances follow learning).
    plasticity : neurosim.crossbar.STDP or None
    """

    def __init__(self, net, pre, post, weight, delay, rule, value, autapses, multapses, name,
                 rng_state, loihi=None, eager=False):
        self.net = net
        self.pre = pre
        self.post = post
        self.name = name
        self.rule = rule
        self._seed = rng_state
        self._pre = self._post = None   # stored indices: explicit synapses, or once read
        self._w = None                  # stored weights (float64), or None: drawn
        self._wspec = None              # the scalar or distribution they are drawn from
        self._dsteps = None             # one delay (int) or int32 per synapse; None: drawn
        self._dspec = None              # the distribution delays are drawn from
        self._fan = None                # synapses per source, counted by the build
        self._snapshot = None       # weights as last lowered, kept once they were exposed
        self._exposed = False       # the live weight array was handed out
        self._delay_edited = False
        unit = "V" if loihi is None else ""
        if _explicit(weight, rule):
            pre_i, post_i, w = _synapses(pre, post, weight, rule, value, loihi is None,
                                         rng_state)
            pre_i.flags.writeable = post_i.flags.writeable = False
            self._pre, self._post, self._w = pre_i, post_i, w
            self._rule = None
            self._n = int(pre_i.shape[0])
        else:
            value, self._n = rules.check(rule, value, pre.n, post.n, pre is post, autapses,
                                         multapses)
            self._rule = (rule, value, pre is post, bool(autapses), bool(multapses))
            self._wspec = _weight_spec(weight, self._n, unit)
        self._set_delay(delay, weight)
        if eager or loihi is not None:      # integer weights are checked and quantized now
            self._materialize()
        self.loihi = None
        if loihi is not None:
            self._set_loihi(loihi)
        self.crossbar = None       # a programmed Crossbar (Network.connect(synapse=...))
        self.plasticity = None     # its learning rule (crossbar or neurosim.plasticity)
        self._plastic_offset = 0   # where its synapses start in the plan's plastic arrays

    def _set_delay(self, delay, weight):
        if isinstance(delay, Distribution):
            check_dimension("delay", delay, "s")
            if delay.lowest() < -0.5 * self.net.dt:
                fail("delay", "a distribution that cannot give negative delays (bound it: "
                     "low=0 or more)", str(delay))
            delay.sample(np.random.default_rng(0), 1, "delay")    # bounds hold probability
            self._dspec = delay
            return
        arr = np.asarray(delay, dtype=float) if not _is_sparse(delay) else None
        if arr is not None and arr.ndim == 0 or self._pre is not None:
            self._dsteps = _delays(delay, weight, self._pre, self._post, self.net.dt,
                                   self._n)
        elif arr is not None and arr.ndim == 1 and self._n is not None:
            self._dsteps = _delays(arr, None, None, None, self.net.dt, self._n)
        else:
            fail("delay.shape", "() or a distribution (one value per synapse needs a rule "
                 "whose count is known; p's is drawn)", np.shape(delay))

    # ----------------------------------------------------------------- synapses, streamed
    def _index_chunks(self):
        """(pre_index, post_index) int32 chunks in synapse order."""
        if self._pre is not None:
            step = rules.DRAW_CHUNK
            for s in range(0, max(self._pre.shape[0], 1), step):
                yield self._pre[s:s + step], self._post[s:s + step]
        else:
            rule, value, same, autapses, multapses = self._rule
            yield from rules.chunks(rule, value, self.pre.n, self.post.n, same, autapses,
                                    multapses, self._seed)

    def _chunks(self, weights=True, delays=True, drawn_delays=None, keep=None):
        """(pre, post, weight, delay) of consecutive synapses, in synapse order: weights
        float64 (None unless ``weights``), delays int steps (one int for the whole
        projection, or an int array; None unless ``delays``). Drawn from the seed where
        not stored: the same values on every call. ``drawn_delays``: the delays of each
        chunk from an earlier call (to draw them once). ``keep(post_index)`` -> bool mask:
        only those synapses (an MPI rank's), their values drawn without arrays for the
        others."""
        ws = ds = None
        if weights and self._w is None and isinstance(self._wspec, Distribution):
            ws = Sampler(self._wspec, _stream(self._seed, 2), f"{self.name}: weight")
        if delays and self._dsteps is None and drawn_delays is None:
            ds = Sampler(self._dspec, _stream(self._seed, 3), f"{self.name}: delay")
        given = iter(drawn_delays) if drawn_delays is not None else None
        k = 0
        for pre_i, post_i in self._index_chunks():
            m = pre_i.shape[0]
            mask = None if keep is None else keep(post_i)
            cut = (lambda a: a) if mask is None else (lambda a: a[mask])  # noqa: E731
            w = d = None
            if weights:
                w = (cut(self._w[k:k + m]) if self._w is not None else ws.take(m, mask)
                     if ws is not None else np.full(m if mask is None else int(
                         np.count_nonzero(mask)), self._wspec) if np.ndim(self._wspec) == 0
                     else cut(self._wspec[k:k + m]))
            if delays:
                d = (cut(next(given)) if given is not None
                     else ds_steps(ds.take(m, mask), self.net.dt) if ds is not None
                     else self._dsteps if np.ndim(self._dsteps) == 0
                     else cut(self._dsteps[k:k + m]))
            k += m
            yield cut(pre_i), cut(post_i), w, d

    def _indices(self):
        """(pre_index, post_index), stored or drawn (not kept)."""
        if self._pre is not None:
            return self._pre, self._post
        parts = list(self._index_chunks())
        if not parts:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return tuple(np.concatenate([c[i] for c in parts]) for i in (0, 1))

    def _weights(self):
        """float64 weight of each synapse, stored or drawn (not kept)."""
        if self._w is not None:
            return self._w
        parts = [w for _, _, w, _ in self._chunks(delays=False)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _delay_steps(self):
        """One int, or int32 per synapse (drawn when from a distribution; not kept)."""
        if self._dsteps is not None:
            return self._dsteps
        parts = [d for _, _, _, d in self._chunks(weights=False)]
        out = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        out.flags.writeable = False
        return out

    def _materialize(self):
        """Store every synapse (for targets and tools that need them all at once)."""
        if self._pre is None:
            pre_i, post_i = self._indices()
            pre_i.flags.writeable = post_i.flags.writeable = False
            self._pre, self._post = pre_i, post_i
            self._n = int(pre_i.shape[0])
        if self._w is None:
            self._w = self._weights()
        if self._dsteps is None:
            self._dsteps = self._delay_steps()

    @property
    def hetero_delays(self):
        """True when the delay is given per synapse (an array or a distribution)."""
        return np.ndim(self._dsteps) != 0 or self._dsteps is None

    def _delay_range(self):
        """(shortest, longest) delay in steps, without drawing (a distribution's range, an
        unbounded tail cut at 6 sd)."""
        spec, dt = self._dspec, self.net.dt
        if spec is None:
            d = np.asarray(self._dsteps)
            return (int(d.min()), int(d.max())) if d.size else (0, 0)
        top = spec.highest()
        if not np.isfinite(top):
            top = spec.a + 6 * spec.b if spec.kind == "normal" else np.exp(spec.a + 6 * spec.b)
        return (int(np.rint(max(spec.lowest(), 0.0) / dt)),
                int(min(np.rint(max(top, 0.0) / dt), MAX_DELAY_STEPS)))

    def _sign(self):
        """+1 / -1 when every weight feeds I_exc / I_inh (zero weights go either way: they
        add nothing), 0 when it depends on the synapse."""
        spec = self._wspec if self._w is None else None
        if isinstance(spec, Distribution):
            return 1 if spec.lowest() >= 0 else -1 if spec.highest() <= 0 else 0
        if spec is not None:
            spec = np.asarray(spec)      # a scalar, or one value per synapse
            return 1 if np.all(spec >= 0) else -1 if np.all(spec <= 0) else 0
        return 0

    def _weight_range(self):
        """(smallest, largest) weight when known without drawing, else None."""
        if self._w is None and np.ndim(self._wspec) == 0 \
                and not isinstance(self._wspec, Distribution):
            return float(self._wspec), float(self._wspec)
        return None

    @property
    def n_synapses(self):
        if self._n is None:              # p: count the draw once
            self._n = sum(int(a.shape[0]) for a, _ in self._index_chunks())
        return self._n

    def _max_synapses(self):
        """Synapses, or for an undrawn ``p`` an upper bound (mean + 8 sd), without drawing."""
        if self._n is not None:
            return self._n
        return int(rules.expected_count("p", self._rule[1], self.pre.n, self.post.n))

    @property
    def pre_index(self):
        self._keep_indices()
        return self._pre

    @property
    def post_index(self):
        self._keep_indices()
        return self._post

    def _keep_indices(self):
        if self._pre is None:
            pre_i, post_i = self._indices()
            pre_i.flags.writeable = post_i.flags.writeable = False
            self._pre, self._post, self._n = pre_i, post_i, int(pre_i.shape[0])

    # -------------------------------------------------------------- editable parameters
    @property
    def weight(self):
        """Weight of each synapse (V), float64, in synapse order; a live array whose edits
        take effect in the next run (read-only for crossbar synapses)."""
        if self.crossbar is not None:
            w = self._weights().view()
            w.flags.writeable = False
            return w
        self._expose()
        return self._w

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
        self._w[...] = w

    @property
    def delay_steps(self):
        """Delay in steps: one int, or int32 per synapse (read-only)."""
        return self._delay_steps()

    @property
    def delay(self):
        """Delay of each synapse (s): a read-only copy; assign to change (on the dt grid)."""
        d = np.broadcast_to(np.asarray(self._delay_steps()), (self.n_synapses,)) * self.net.dt
        d.flags.writeable = False
        return d

    @delay.setter
    def delay(self, value):
        self._refuse_crossbar("delay")
        if self.plasticity is not None:
            raise AttributeError(f"{self.name}: the delay of plastic synapses is fixed at "
                                 "the build (build a new network to change it)")
        arr = check_finite_array("delay", value, unit="s")
        if arr.ndim == 2 and arr.shape == (self.pre.n, self.post.n):
            arr = arr[self.pre_index, self.post_index]
        steps = _delays(arr, None, None, None, self.net.dt, self.n_synapses)
        if self.loihi is not None:
            _check_loihi_delays(steps, self.net.dt)
        self._dsteps, self._dspec = steps, None
        self._delay_edited = True

    delays = delay

    def _refuse_crossbar(self, what):
        if self.crossbar is not None:
            raise ParameterError(
                f"{self.name}: the {what} of crossbar synapses cannot be changed between "
                "runs (the weights are programmed device conductances and the arrays have "
                "one delay); program a new Crossbar and connect it in a new Network")

    def _expose(self):
        """The live weight array leaves the projection: it is drawn and kept, and from now
        on each run compares it with what was lowered (a copy, kept only for such
        projections)."""
        if self._w is None:
            self._w = self._weights()
        self._exposed = True
        if self._snapshot is None and self.net.built:
            self._snapshot = self._w.copy()

    def _lowered(self):
        """The plan now holds this projection's weights and delays."""
        self._delay_edited = False
        if self._exposed:
            self._snapshot = self._w.copy()

    def _edited(self):
        """Weights or delays differ from what the plan holds."""
        if self.plasticity is not None and self.crossbar is None:
            return False              # the engine reads its weights live (a view)
        return self._delay_edited or (self._snapshot is not None
                                      and not np.array_equal(self._w, self._snapshot))

    def _check_edits(self):
        """Validate the (possibly edited in place) weights as at creation."""
        if not self._exposed:
            return
        check_finite_array(f"{self.name}: weight", self._w)
        if self.loihi is not None:
            self._set_loihi(self._loihi_args)

    def _set_loihi(self, args):
        """Integer synapses for a loihi_lif target from Lava's Dense arguments ``args``."""
        self._loihi_args = args
        object.__setattr__(self, "loihi", _loihi_synapses(self, **args))

    def _set_weights(self, w):
        """Store ``w`` (float64, one per synapse) as the weights (tools that derive one
        network from another)."""
        self._w, self._wspec = np.asarray(w, dtype=np.float64), None

    def _clone(self, net, pre, post):
        """A copy for another network (own weight array, not yet lowered)."""
        c = object.__new__(type(self))
        c.__dict__.update(self.__dict__)
        c.__dict__.update(net=net, pre=pre, post=post, _snapshot=None, _exposed=False,
                          _w=None if self._w is None else self._w.copy())
        return c

    def fan_out(self):
        """Number of synapses of each presynaptic neuron (int64, length pre.n)."""
        if self._fan is None:
            fan = np.zeros(self.pre.n, np.int64)
            for pre_i, _ in self._index_chunks():
                fan += np.bincount(pre_i, minlength=self.pre.n)
            self._fan = fan
        return self._fan

    def to_dense(self):
        """Weights as a dense (n_pre, n_post) array (multapses summed)."""
        out = np.zeros((self.pre.n, self.post.n))
        for pre_i, post_i, w, _ in self._chunks(delays=False):
            np.add.at(out, (pre_i, post_i), w)
        return out

    def __repr__(self):
        return (f"Projection({self.pre.name} -> {self.post.name}, "
                f"{self.n_synapses} synapses)")


def _explicit(weight, rule):
    """The synapses are given (a matrix, or a list of pairs): they are stored."""
    return (rule == "pairs" or _is_sparse(weight)
            or (isinstance(weight, np.ndarray) and weight.ndim == 2)
            or isinstance(weight, (list, tuple)))


def ds_steps(values, dt):
    """Drawn delays (s) rounded to the grid (as NEST does): int32 steps."""
    steps = np.rint(values / dt)
    if steps.size and (steps.min() < 0 or steps.max() > MAX_DELAY_STEPS):
        bad = values[(steps < 0) | (steps > MAX_DELAY_STEPS)][0]
        fail("delay", f"in [0, {MAX_DELAY_STEPS}] steps after rounding to the grid (bound the "
             "distribution: low=..., high=...)", float(bad))
    return steps.astype(np.int32)


def _weight_spec(weight, n, unit):
    """A rule's weight: a float, a distribution, or a stored float64 array of ``n``."""
    if isinstance(weight, Distribution):
        check_dimension("weight", weight, unit)
        if unit:
            warn_implausible("weight", weight.typical(), unit)
        weight.sample(np.random.default_rng(0), 1, "weight")       # bounds hold probability
        return weight
    if isinstance(weight, np.ndarray) and weight.ndim == 1:
        w = check_finite_array("weight", weight, unit=unit)
        if n is None or w.shape != (n,):
            fail("weight.shape", f"({n},) (one per synapse of this rule)" if n is not None
                 else "a scalar or a distribution (the number of synapses of p is drawn)",
                 w.shape)
        if unit:
            warn_implausible("weight", w, unit)
        return w.astype(np.float64, copy=True)
    if isinstance(weight, np.ndarray) and weight.ndim != 0:
        fail("weight", "a scalar, a distribution, one value per synapse, an (n_pre, "
             "n_post) array or a scipy.sparse matrix", weight.shape, "array of shape")
    if not isinstance(weight, (numbers.Real, np.ndarray)) or isinstance(weight, bool):
        fail("weight", "a number, a distribution (neurosim.random), an (n_pre, n_post) "
             "array or a scipy.sparse matrix", type(weight).__name__)
    check_dimension("weight", weight, unit)
    w = check_finite("weight", float(weight), "V")
    if unit:
        warn_implausible("weight", np.array([w]), unit)
    return w


def _synapses(pre, post, weight, rule, value, float_target, seed):
    """(pre_index, post_index, weight) of explicit synapses: a matrix's entries, or a list of
    pairs with a scalar or per-synapse weight."""
    n_pre, n_post = pre.n, post.n
    unit = "V" if float_target else ""
    if rule == "pairs":
        if _is_sparse(weight) or (isinstance(weight, np.ndarray) and weight.ndim == 2):
            fail("pairs", "None when weight is a matrix (its non-zeros are the synapses)",
                 "pairs")
        pre_i, post_i = rules.draw("pairs", value, n_pre, n_post, False, True, True, 0)
        w = _weight_spec(weight, pre_i.shape[0], unit)
        if isinstance(w, Distribution):
            w = w.sample(_stream(seed, 2), pre_i.shape[0], "weight")
        return pre_i, post_i, (np.full(pre_i.shape[0], w) if np.ndim(w) == 0 else w)
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
    return rows.astype(np.int32), cols.astype(np.int32), np.asarray(w, dtype=np.float64)


def _stream(seed, k):
    """The projection's random stream ``k`` (2: weights, 3: delays)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), k]))


def _loihi_synapses(proj, weight_exp, num_weight_bits, sign_mode):
    """Validate integer weights and Lava's Dense parameters; quantize as PyDenseModelBitAcc."""
    w = proj._weights()
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


def _check_loihi_delays(delay_steps, dt):
    d = np.asarray(delay_steps)
    if d.size and d.max() > MAX_LOIHI_DELAY:
        fail("delay", f"<= {MAX_LOIHI_DELAY} steps ({MAX_LOIHI_DELAY * dt:g} s) for a "
             "loihi_lif target (6-bit delays)", float(d.max() * dt))


def _delays(delay, weight, pre_i, post_i, dt, n):
    check_dimension("delay", delay, "s")
    arr = np.asarray(delay, dtype=float) if not _is_sparse(delay) else None
    if arr is not None and arr.ndim == 0:
        steps = int(steps_on_grid("delay", arr, dt))
        if steps > MAX_DELAY_STEPS:
            fail("delay", f"<= {MAX_DELAY_STEPS} steps ({MAX_DELAY_STEPS * dt:g} s)", float(arr))
        return steps
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
