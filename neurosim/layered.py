"""Layer networks: discrete-time models on the same-step (layered) schedule.

The networks of the deep-learning SNN frameworks (snnTorch, Norse, Sinabs, ...) and of NIR
graphs run layer by layer within one step: a spike reaches the next layer in the step it was
emitted. :class:`LayerNetwork` builds such networks from the models of
:mod:`neurosim.models.layer` (equations there) and runs them on the numba engine
(:mod:`neurosim.engine.layer`) or the NumPy reference backend. Connections with a delay of
d >= 1 steps (recurrent edges, delays) arrive d steps later; connections of delay 0 must not
form a cycle.

    ln = ns.LayerNetwork(dt=1e-4)
    x = ln.input(2)
    h = ln.neurons("LIF", 8, tau=2.5e-3, v_threshold=0.1)
    ln.connect(x, h, np.ones((2, 8)))          # (n_pre, n_post) weights
    out = ln.run({x: np.random.rand(100, 2)}, record=[(h, "out"), (h, "v")])
    out[h, "out"]                              # (100, 8) spikes

``ns.nir.read`` returns one of these (wrapped with the graph's named inputs and outputs).
"""

import sys
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from . import memory
from .counters import Counts, PopulationCounts, ProjectionCounts
from .engine import layer as eng
from .models import layer as mdl
from .validation import NetworkError, Sealed, check_choice, check_positive, fail

__all__ = ["LayerNetwork", "LayerPopulation", "LayerProjection", "LayerRun"]

METHODS = ("euler", "exact")
V_INIT = ("leak", "zero")
INTEGRATE = ("step", "seconds")
SPIKES = ("unit", "dirac")
RECORDABLE = {"out": 0, "v": 1, "i_syn": 2}
BACKENDS = ("numba", "reference")
#: steps run per compiled call between two checks for Ctrl-C and progress updates
CHUNK = 2000


@dataclass(eq=False)
class LayerPopulation:
    """A population of one layer model: ``shape`` (NIR's, C order), per-neuron parameters
    (float64 arrays), a constant input ``bias`` and reset options."""
    name: str
    model: mdl.LayerModel
    shape: tuple
    params: dict
    bias: np.ndarray
    reset: str
    timing: str
    net: "LayerNetwork" = None
    index: int = -1

    @property
    def n(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def kind(self):
        return self.model.name

    def _state(self, var):
        net = self.net
        if net._state is None:
            net._init_state()
        lo = net._lo[self]
        arr = {"v": net._state.v, "i_syn": net._state.isyn, "out": net._state.out}[var]
        return arr[lo:lo + self.n].reshape(self.shape).astype(np.float64)

    @property
    def v(self):
        """Membrane state now (shape of the population)."""
        return self._state("v")

    @property
    def i_syn(self):
        return self._state("i_syn")

    def __repr__(self):
        return f"<LayerPopulation {self.name!r} {self.model.name} shape={self.shape}>"


@dataclass(eq=False)
class LayerProjection:
    """Synapses from ``pre`` to ``post``: a (n_pre, n_post) CSR matrix of weights and a delay
    in steps (one per projection, or one per stored synapse in the CSR's order)."""
    name: str
    pre: LayerPopulation
    post: LayerPopulation
    weights: sp.csr_matrix
    delay: object              # int, or int array aligned with weights.data
    crossbar: object = None
    initial: np.ndarray = None  # (n_post,) delivered in each of the first `delay` steps

    @property
    def n_synapses(self):
        return int(self.weights.nnz)

    @property
    def min_delay(self):
        return int(np.min(self.delay)) if np.ndim(self.delay) else int(self.delay)

    def __repr__(self):
        return (f"<LayerProjection {self.name!r} {self.pre.name} -> {self.post.name}, "
                f"{self.n_synapses:,} synapses>")


class LayerRun(dict):
    """Recorded arrays by ``(population name, variable)`` (each (steps, *shape)); also
    indexable with the population object. ``steps`` run; ``interrupted`` after Ctrl-C."""

    def __init__(self, data, steps, interrupted):
        super().__init__(data)
        self.steps = steps
        self.interrupted = interrupted

    def __getitem__(self, key):
        if isinstance(key, tuple) and isinstance(key[0], LayerPopulation):
            key = (key[0].name, key[1])
        return super().__getitem__(key)


class LayerNetwork(Sealed):
    """A network of discrete-time layer models on the same-step schedule (module docstring).

    Parameters
    ----------
    dt : float
        Time step (s).
    method : {"euler", "exact"}
        Forward Euler (snnTorch, Norse) or exact integration of the leaky models.
    reset : {"zero", "subtract"}
        Default reset of the spiking populations (v = v_reset, or v -= v_threshold - v_reset).
    timing : {"same", "next"}
        Default reset timing: in the spike's step, or in the next step's update
        (snnTorch's ``reset_delay=True``; Euler only).
    v_init : {"leak", "zero"}
        Initial v of the leaky models (v_leak, as Norse; or 0). Others start at 0.
    integrate : {"step", "seconds"}
        I and IF add ``r I`` per step (every framework) or ``r I dt`` (the NIR ODE literally).
    spike : {"unit", "dirac"}
        A spike is a value of 1 for one step, or 1/dt (an area of 1).
    dtype : {"float64", "float32"}
    backend : {"numba", "reference"}
    """

    def __init__(self, dt, method="euler", reset="zero", timing="same", v_init="leak",
                 integrate="step", spike="unit", dtype="float64", backend="numba"):
        self.dt = check_positive("dt", dt, "s")
        self.method = check_choice("method", method, METHODS)
        self.reset_mode = check_choice("reset", reset, tuple(mdl.RESETS))
        self.timing = check_choice("timing", timing, tuple(mdl.TIMINGS))
        if method == "exact" and timing == "next":
            fail("timing", "'same' with method='exact' (a next-step reset is Euler-only)",
                 timing)
        self.v_init = check_choice("v_init", v_init, V_INIT)
        self.integrate = check_choice("integrate", integrate, INTEGRATE)
        self.spike = check_choice("spike", spike, SPIKES)
        self.dtype = np.dtype(check_choice("dtype", dtype, ("float64", "float32")))
        self.backend = check_choice("backend", backend, BACKENDS)
        from .mpi import launched_under_mpi
        if launched_under_mpi():
            warnings.warn("a LayerNetwork (and a NIR graph) is not split over MPI ranks: "
                          "each process of this MPI job runs the whole network (use "
                          "ns.sweep with an MPI executor to spread independent runs)",
                          stacklevel=2)
        self.populations = []
        self.projections = []
        self._names = set()
        self._plan = None
        self._state = None
        self._counts = None
        self._lo = {}
        self._step = 0

    # ------------------------------------------------------------------ building
    def _name(self, name, prefix):
        if name is None:
            k = len(self.populations) + len(self.projections)
            while f"{prefix}{k}" in self._names:
                k += 1
            name = f"{prefix}{k}"
        if not isinstance(name, str) or not name:
            fail("name", "a non-empty string", name)
        if name in self._names:
            fail("name", "a name not used yet in this network", name)
        self._names.add(name)
        return name

    def _check_open(self, what):
        if self._plan is not None:
            raise NetworkError(f"cannot {what} after the network was built or run; "
                               "build a new LayerNetwork")

    @staticmethod
    def _shape(shape):
        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
        if not shape or any(s < 1 for s in shape):
            fail("shape", "positive sizes", shape)
        return shape

    def input(self, shape, name=None):
        """A population whose outputs are the values given to :meth:`run` (spikes 0/1 or
        any real values), one row per step."""
        self._check_open("add a population")
        return self._add(mdl.MODELS["input"], self._shape(shape), name, {}, 0.0, None, None)

    def neurons(self, model, shape, name=None, bias=0.0, reset=None, timing=None, **params):
        """A population of ``model`` (``"LIF"``, ``"CubaLIF"``, ``"LI"``, ``"CubaLI"``,
        ``"IF"``, ``"I"``, ``"threshold"``, ``"pass"``); ``params`` are the model's fields
        (scalars or arrays of ``shape``, SI), ``bias`` a constant input per step."""
        self._check_open("add a population")
        m = mdl.model(model)
        if m.code == mdl.INPUT:
            fail("model", "a neuron model (use input() for inputs)", model)
        shape = self._shape(shape)
        known = dict(m.fields)
        for k in params:
            if k not in known:
                fail(k, f"a field of {m.name} ({', '.join(known) or 'none'})", params[k])
        reset = self.reset_mode if reset is None else check_choice("reset", reset,
                                                                    tuple(mdl.RESETS))
        timing = self.timing if timing is None else check_choice("timing", timing,
                                                                  tuple(mdl.TIMINGS))
        if timing == "next" and self.method == "exact":
            fail("timing", "'same' with method='exact'", timing)
        return self._add(m, shape, name, params, bias, reset, timing)

    def _add(self, m, shape, name, params, bias, reset, timing):
        n = int(np.prod(shape, dtype=np.int64))
        memory.require(n * (8 * mdl.COEF + 48), f"a population of {n:,} neurons",
                       f"{8 * mdl.COEF + 48} bytes per neuron")
        name = self._name(name, m.name.lower())
        full = {}
        for k, default in m.fields:
            val = params.get(k, default)
            if val is None:
                self._names.discard(name)
                fail(k, f"a value (required by {m.name})", None)
            full[k] = self._per_neuron(f"{name}.{k}", val, shape)
            if k.startswith("tau") and np.any(full[k] <= 0):
                self._names.discard(name)
                fail(f"{name}.{k}", "> 0 s", full[k].min())
        pop = LayerPopulation(name, m, shape, full, self._per_neuron(f"{name}.bias", bias, shape),
                              reset, timing, self, len(self.populations))
        self.populations.append(pop)
        return pop

    @staticmethod
    def _per_neuron(name, value, shape):
        a = np.asarray(value, dtype=np.float64)
        n = int(np.prod(shape))
        if a.size == 1:
            a = np.full(n, float(a.ravel()[0]))
        elif a.shape == tuple(shape) or a.shape == (n,):
            a = a.reshape(n).copy()
        else:
            fail(name, f"a scalar or an array of shape {tuple(shape)}", a.shape)
        if not np.all(np.isfinite(a)):
            fail(name, "finite values", a[~np.isfinite(a)][0])
        return a

    def connect(self, pre, post, weight, delay=0, name=None, initial=None):
        """Synapses from ``pre`` to ``post``. ``weight``: a (n_pre, n_post) dense array or
        scipy.sparse matrix (exact zeros are no synapse), a scalar (one-to-one; same sizes),
        or a ``(pre_index, post_index, w)`` triple. ``delay``: steps (int >= 0), one per
        projection or one per synapse of a triple. ``initial``: what the projection delivers
        to ``post`` (n_post values) in each of its first ``delay`` steps, i.e. what its source
        "sent before step 0" (the bias of a recurrent Affine: snnTorch's ``recurrent(0)``);
        default nothing."""
        self._check_open("connect")
        for label, pop in (("pre", pre), ("post", post)):
            if not isinstance(pop, LayerPopulation) or pop.net is not self:
                fail(label, "a population of this network", pop)
        if post.model.code == mdl.INPUT:
            fail("post", "a population that takes inputs (not an input)", post.name)
        per_syn = None
        if isinstance(weight, tuple) and len(weight) == 3:
            i, j, w = (np.asarray(a) for a in weight)
            if not (i.shape == j.shape == np.shape(w) or np.ndim(w) == 0):
                fail("weight", "a (pre, post, w) triple of equal lengths",
                     (i.shape, j.shape, np.shape(w)))
            if i.size and (i.min() < 0 or i.max() >= pre.n or j.min() < 0 or j.max() >= post.n):
                fail("weight", f"indices in [0, {pre.n}) x [0, {post.n})",
                     (int(i.min()), int(i.max()), int(j.min()), int(j.max())))
            w = np.broadcast_to(np.asarray(w, np.float64), i.shape)
            if np.ndim(delay):
                per_syn = np.asarray(delay)
                if per_syn.shape != i.shape:
                    fail("delay", f"one delay per synapse ({i.size})", per_syn.shape)
                order = np.lexsort((j, i))
                i, j, w, per_syn = i[order], j[order], w[order], per_syn[order]
            m = sp.csr_matrix((w, (i, j)), shape=(pre.n, post.n))
            if per_syn is not None and m.nnz != i.size:
                fail("weight", "no repeated (pre, post) pair when delays are per synapse",
                     f"{i.size - m.nnz} repeated")
        elif np.ndim(weight) == 0 and not sp.issparse(weight):
            if pre.n != post.n:
                fail("weight", f"a matrix ({pre.n}, {post.n}); a scalar means one-to-one, "
                     "which needs equal sizes", weight)
            m = sp.identity(pre.n, format="csr") * float(weight)
        else:
            m = sp.csr_matrix(weight, dtype=np.float64)
            if m.shape != (pre.n, post.n):
                fail("weight", f"a matrix of shape ({pre.n}, {post.n}) (n_pre, n_post)",
                     m.shape)
        m.eliminate_zeros() if per_syn is None else None
        m.sort_indices()
        if not np.all(np.isfinite(m.data)):
            fail("weight", "finite values", "a non-finite weight")
        if per_syn is not None:
            d = per_syn.astype(np.int64)
            if d.min(initial=0) < 0:
                fail("delay", ">= 0 steps", int(d.min()))
        else:
            if not float(delay).is_integer() or delay < 0:
                fail("delay", "an integer number of steps >= 0", delay)
            d = int(delay)
        if initial is not None:
            if np.ndim(d) or d < 1:
                fail("initial", "only with one delay of >= 1 step", delay)
            initial = self._per_neuron("initial", initial, post.shape)
        memory.require(m.nnz * 16, f"a projection of {m.nnz:,} synapses", "16 bytes each")
        proj = LayerProjection(self._name(name, f"{pre.name}->{post.name}#"), pre, post, m, d,
                               initial=initial)
        self.projections.append(proj)
        return proj

    def population(self, name):
        for p in self.populations:
            if p.name == name:
                return p
        fail("name", "one of " + ", ".join(p.name for p in self.populations), name)

    # ------------------------------------------------------------------ plan
    def levels(self):
        """Level of every population: the longest chain of delay-0 projections into it.
        A cycle of delay-0 projections is an error naming them."""
        succ = {p: [] for p in self.populations}
        indeg = {p: 0 for p in self.populations}
        for q in self.projections:
            if q.min_delay == 0:
                succ[q.pre].append(q)
                indeg[q.post] += 1
        level = {p: 0 for p in self.populations}
        ready = [p for p in self.populations if indeg[p] == 0]
        seen = 0
        while ready:
            p = ready.pop()
            seen += 1
            for q in succ[p]:
                level[q.post] = max(level[q.post], level[p] + 1)
                indeg[q.post] -= 1
                if indeg[q.post] == 0:
                    ready.append(q.post)
        if seen < len(self.populations):
            cyc = [q.name for q in self.projections if q.min_delay == 0
                   and indeg[q.post] > 0 and indeg[q.pre] > 0]
            raise NetworkError("projections of delay 0 form a cycle (" + ", ".join(cyc)
                               + "): give one of them a delay of at least 1 step")
        return level

    def build(self):
        """Lower to the engine's flat arrays (once; later calls return the same plan)."""
        if self._plan is not None:
            return self._plan
        if not self.populations:
            raise NetworkError("the network has no population")
        level = self.levels()
        order = sorted(self.populations, key=lambda p: (level[p], p.index))
        projs = sorted(self.projections, key=lambda q: (level[q.pre], order.index(q.pre)))
        n = sum(p.n for p in order)
        n_syn = sum(q.n_synapses for q in projs)
        max_d = max([int(np.max(q.delay)) if q.n_synapses else 0 for q in projs] + [0])
        memory.require(n * (8 * mdl.COEF + 48) + (max_d + 1) * n * 8 + n_syn * 16
                       + sum(q.pre.n + 1 for q in projs) * 8,
                       f"a layer network of {n:,} neurons and {n_syn:,} synapses")
        lo, off, col = {}, 0, 0
        cols = []
        for p in order:
            lo[p] = off
            off += p.n
            cols.append(col if p.model.code == mdl.INPUT else -1)
            col += p.n if p.model.code == mdl.INPUT else 0
        self._lo, self._order, self._projs = lo, order, projs
        self._inputs = [p for p in order if p.model.code == mdl.INPUT]
        coef = np.zeros((n, mdl.COEF))
        bias = np.zeros(n)
        for p in order:
            coef[lo[p]:lo[p] + p.n] = mdl.coefficients(p.model, p.params, self.dt, self.method,
                                                       self.integrate, p.n)
            bias[lo[p]:lo[p] + p.n] = p.bias
        n_lv = max(level.values()) + 1
        lv_pop = np.searchsorted([level[p] for p in order], np.arange(n_lv + 1))
        lv_proj = np.searchsorted([level[q.pre] for q in projs], np.arange(n_lv + 1))
        ptr, tgt, w, dly, q_ptr, base = [], [], [], [], [], 0
        for q in projs:
            m = q.weights
            q_ptr.append(sum(len(a) for a in ptr))
            ptr.append(m.indptr.astype(np.int64) + base)
            tgt.append((m.indices + lo[q.post]).astype(np.int32))
            w.append(m.data)
            dly.append(np.broadcast_to(np.asarray(q.delay, np.int32), m.data.shape))
            base += m.nnz
        spike = 1.0 / self.dt if self.spike == "dirac" else 1.0
        ft = self.dtype
        cat = (lambda xs, t: np.concatenate(xs).astype(t) if xs else np.zeros(0, t))
        ints = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
        self._plan = eng.LayerPlan(
            p_lo=ints([lo[p] for p in order]), p_hi=ints([lo[p] + p.n for p in order]),
            p_code=ints([p.model.code for p in order]),
            p_reset=ints([mdl.RESETS.get(p.reset, 0) for p in order]),
            p_timing=ints([mdl.TIMINGS.get(p.timing, 0) for p in order]),
            p_exact=ints([self.method == "exact"] * len(order)),
            p_spike=np.full(len(order), spike, dtype=ft), p_col=ints(cols),
            lv_pop=lv_pop.astype(np.int64), lv_proj=lv_proj.astype(np.int64),
            coef=coef.astype(ft), bias=bias.astype(ft),
            q_pre=ints([lo[q.pre] for q in projs]), q_npre=ints([q.pre.n for q in projs]),
            q_ptr=ints(q_ptr), q_delayed=ints([int(np.max(q.delay, initial=0)) > 0
                                               for q in projs]),
            q_skip=ints([q.crossbar is not None for q in projs]),
            indptr=cat(ptr, np.int64), tgt=cat(tgt, np.int32), w=cat(w, ft),
            dly=cat(dly, np.int32))
        self._n, self._slots = n, max_d + 1
        self._init_state()
        return self._plan

    # ------------------------------------------------------------------ state
    def _init_state(self):
        if self._plan is None:
            self.build()
            return
        n, ft = self._n, self.dtype
        v = np.zeros(n, dtype=ft)
        if self.v_init == "leak":
            for p in self._order:
                if p.model.leaky:
                    v[self._lo[p]:self._lo[p] + p.n] = p.params["v_leak"]
        ring = np.zeros((self._slots, n), ft)
        for q in self._projs:
            if q.initial is not None:
                lo = self._lo[q.post]
                ring[:q.delay, lo:lo + q.post.n] += q.initial.astype(ft)
        self._state = eng.LayerState(v=v, isyn=np.zeros(n, ft), zprev=np.zeros(n, np.uint8),
                                     out=np.zeros(n, ft), ring=ring)
        self._counts = eng.LayerCounts(nonzero=np.zeros(n, np.int64),
                                       active=np.zeros(len(self._order), np.int64),
                                       events=np.zeros(len(self._projs), np.int64))
        self._xbar_stats = {}
        self._step = 0

    def reset(self):
        """Back to the initial state (t = 0, counters zero); weights and options kept."""
        if self._plan is not None:
            self._init_state()

    @property
    def t(self):
        return self._step * self.dt

    # ------------------------------------------------------------------ running
    def _inputs_array(self, inputs, steps):
        given = {}
        if not isinstance(inputs, dict):
            if len(self._inputs) != 1:
                fail("inputs", "a dict {input population or name: array} (the network has "
                     f"{len(self._inputs)} inputs)", type(inputs).__name__)
            inputs = {self._inputs[0]: inputs}
        for k, v in inputs.items():
            pop = k if isinstance(k, LayerPopulation) else self.population(k)
            if pop.model.code != mdl.INPUT:
                fail("inputs", "input populations", pop.name)
            given[pop] = v
        n_in = sum(p.n for p in self._inputs)
        arrays = []
        for p in self._inputs:
            if p not in given:
                if steps is None:
                    fail("inputs", f"a value for every input (missing {p.name!r})", None)
                arrays.append(np.zeros((steps, p.n)))
                continue
            a = np.asarray(given[p], dtype=np.float64)
            if a.ndim < 1 or a.shape[1:] not in (p.shape, (p.n,)):
                fail(f"inputs[{p.name!r}]", f"an array (steps, {', '.join(map(str, p.shape))})",
                     a.shape)
            if not np.all(np.isfinite(a)):
                fail(f"inputs[{p.name!r}]", "finite values", "a non-finite value")
            arrays.append(a.reshape(a.shape[0], p.n))
        lens = {a.shape[0] for a in arrays}
        if steps is None:
            steps = lens.pop() if len(lens) == 1 else None
            if steps is None:
                fail("inputs", "arrays with the same number of steps", sorted(lens))
        elif any(k != steps for k in lens):
            fail("inputs", f"{steps} rows (steps)", sorted(lens))
        x = np.concatenate(arrays, axis=1) if arrays else np.zeros((steps, n_in))
        return x.astype(self.dtype), int(steps)

    def _records(self, record):
        recs = []
        for item in record:
            if not (isinstance(item, tuple) and len(item) == 2):
                fail("record", "(population, variable) pairs", item)
            pop, var = item
            pop = pop if isinstance(pop, LayerPopulation) else self.population(pop)
            check_choice("record variable", var, tuple(RECORDABLE))
            recs.append((pop, var))
        return recs

    def run(self, inputs=None, steps=None, record=(), progress=None, crossbars=None):
        """Run ``steps`` steps (default: the inputs' rows) from the current state.

        ``inputs``: {input population or name: array (steps, *shape)} (or the array alone
        for a network with one input); missing inputs are 0. ``record``: (population,
        variable) pairs, variables "out" (what it emits: spikes, v or values), "v", "i_syn".
        ``crossbars``: {projection name: programmed Crossbar} (from :meth:`program`) runs
        those projections on crossbar arrays. Returns a :class:`LayerRun`; Ctrl-C stops
        between chunks and keeps what was recorded.
        """
        self.build()
        if steps is not None:
            steps = int(steps)
            if steps < 0:
                fail("steps", ">= 0", steps)
        x, steps = self._inputs_array({} if inputs is None else inputs, steps)
        recs = self._records(record)
        xbars = self._attach_crossbars(crossbars)
        rv = np.array([RECORDABLE[v] for _, v in recs], dtype=np.int64)
        rlo = np.array([self._lo[p] for p, _ in recs], dtype=np.int64)
        rhi = rlo + np.array([p.n for p, _ in recs], dtype=np.int64)
        roff = np.concatenate([[0], np.cumsum(rhi - rlo)])[:-1].astype(np.int64)
        width = int((rhi - rlo).sum())
        memory.require(steps * width * self.dtype.itemsize, "the recorded variables")
        buf = np.zeros((steps, width), dtype=self.dtype)
        done, interrupted = 0, False
        show = progress if progress is not None else (steps > 20 * CHUNK and sys.stderr.isatty())
        chunk = 1 if xbars else CHUNK
        try:
            with tqdm(total=steps, disable=not show, unit="step", leave=False) as bar:
                while done < steps:
                    k = min(chunk, steps - done)
                    self._advance(x[done:done + k], rv, rlo, rhi, roff, buf[done:done + k],
                                  xbars)
                    done += k
                    self._step += k
                    bar.update(k)
        except KeyboardInterrupt:
            interrupted = True
        data = {}
        for r, (p, var) in enumerate(recs):
            a = buf[:done, roff[r]:roff[r] + p.n].astype(np.float64)
            if var == "out" and p.model.spiking and self.spike == "unit":
                a = a.astype(np.int32) if self.method == "exact" else a.astype(np.uint8)
            data[(p.name, var)] = a.reshape((done,) + p.shape)
        return LayerRun(data, done, interrupted)

    def _advance(self, x, rv, rlo, rhi, roff, buf, xbars):
        pl, st, cnt = self._plan, self._state, self._counts
        if self.backend == "reference":
            from .backends.layer_reference import advance
            return advance(self, x, self._step, rv, rlo, rhi, buf, xbars)
        if not xbars:
            return eng.advance_layers(pl, st, x, self._step, cnt, rv, rlo, rhi, roff, buf)
        for k in range(x.shape[0]):             # crossbar projections: one step at a time
            step = self._step + k
            for lv in range(len(pl.lv_pop) - 1):
                eng.update_level(pl, st, lv, step, x[k], cnt)
                eng.deliver_level(pl, st, lv, step, cnt)
                for q in range(pl.lv_proj[lv], pl.lv_proj[lv + 1]):
                    if pl.q_skip[q]:
                        self._deliver_crossbar(self._projs[q], q, step)
            eng.record_step(st, rv, rlo, rhi, roff, buf, k)

    # ------------------------------------------------------------------ crossbars
    def program(self, crossbar, projections=None):
        """Program the weights of ``projections`` (names; default all) into crossbar arrays
        like ``crossbar`` (an unprogrammed :class:`neurosim.crossbar.Crossbar`; the k-th
        projection uses seed ``crossbar.seed + k``). Returns {name: programmed Crossbar}
        for :meth:`run`'s ``crossbars``. Spikes drive rows at the read voltage; graded
        values (inputs, pass layers, LI readouts) drive them through the DAC, scaled into
        [-1, 1] by the step's largest magnitude where they exceed it (the column result is
        scaled back digitally)."""
        names = [q.name for q in self.projections] if projections is None else list(projections)
        out = {}
        for k, name in enumerate(names):
            q = self._projection(name)
            if q.min_delay != int(np.max(q.delay)):
                fail("projections", "projections with one delay (crossbar rows have one)",
                     q.name)
            out[name] = crossbar.program(q.weights.toarray(), seed=crossbar.seed + k)
        return out

    def _projection(self, name):
        for q in self.projections:
            if q.name == name:
                return q
        fail("projection", "one of " + ", ".join(q.name for q in self.projections), name)

    def _attach_crossbars(self, crossbars):
        if self._plan is None:
            self.build()
        wanted = dict(crossbars or {})
        for name, xb in wanted.items():
            q = self._projection(name)
            if getattr(xb, "n_in", None) != q.pre.n or getattr(xb, "n_out", None) != q.post.n:
                fail(f"crossbars[{name!r}]", f"a programmed Crossbar of ({q.pre.n}, "
                     f"{q.post.n}) weights (from program())", xb)
        skip = np.array([q.name in wanted for q in self._projs], dtype=np.int64)
        self._plan = self._plan._replace(q_skip=skip)
        self._xbars = wanted
        return wanted

    def _deliver_crossbar(self, q, k, step):
        st = self._state
        lo = self._lo[q.pre]
        x = st.out[lo:lo + q.pre.n].astype(np.float64)
        if not np.any(x):
            return
        xb = self._xbars[q.name]
        top = float(np.max(np.abs(x)))
        if top > 1.0:          # graded values beyond the DAC's range: scaled into it
            y = xb.matvec(x / top) * top
            x = x / top
        else:
            y = xb.matvec(x)
        slot = (step + q.min_delay) % st.ring.shape[0]
        plo = self._lo[q.post]
        st.ring[slot, plo:plo + q.post.n] += y
        self._counts.events[k] += int(np.diff(q.weights.indptr)[x != 0].sum())
        self._xbar_stats[q.name] = _crossbar_read(self._xbar_stats.get(q.name), xb, x)

    # ------------------------------------------------------------------ counts
    def counts(self):
        """Operation counts since t = 0 (:class:`neurosim.Counts`, for ``ns.energy``)."""
        self.build()
        c = self._counts
        pops, projs = {}, {}
        for k, p in enumerate(self._order):
            lo = self._lo[p]
            sent = int(c.nonzero[lo:lo + p.n].sum())
            pops[p.name] = PopulationCounts(
                name=p.name, kind=p.model.name, n=p.n,
                neuron_updates=p.n * self._step if p.model.stateful else 0,
                spikes=sent, active_steps=int(c.active[k]), update_ops=p.model.ops())
        order_idx = {p: k for k, p in enumerate(self._order)}
        for k, q in enumerate(self._projs):
            xs = self._xbar_stats.get(q.name)
            projs[q.name] = ProjectionCounts(
                name=q.name, pre=q.pre.name, post=q.post.name, n_pre=q.pre.n, n_post=q.post.n,
                n_synapses=q.n_synapses, events=int(c.events[k]),
                pre_active_steps=int(c.active[order_idx[q.pre]]),
                crossbar=None if xs is None else dict(xs))
        return Counts(dt=self.dt, steps=self._step, runs=1, populations=pops,
                      projections=projs)

    def __repr__(self):
        return (f"<LayerNetwork dt={self.dt:g} s, {len(self.populations)} populations, "
                f"{len(self.projections)} projections, method={self.method!r}>")


def _crossbar_read(acc, xb, x):
    """Add one read of crossbar ``xb`` with row inputs ``x`` to the statistics ``acc``
    (the fields ``neurosim.counters.STAT_NAMES`` and the array settings)."""
    from .counters import STAT_NAMES
    if acc is None:
        acc = {k: 0.0 for k in STAT_NAMES}
        acc.update(adc_bits=xb.adc_bits, device=xb.device.key, tiles=len(xb.tiles),
                   array=xb.array, program_energy=xb.program_energy, area=xb.area()["total"])
    g = xb._g                 # the conductances now (the public property copies them)
    v = np.abs(x) * xb.device.v_read
    t_read = getattr(xb.device, "t_read", 10e-9)
    for t in xb.tiles:
        rows = v[t.r0:t.r1]
        on = rows != 0
        if not on.any():
            continue
        acc["row_drives"] += float(on.sum())
        acc["tile_reads"] += 1.0
        acc["conversions"] += float(t.k1 - t.k0) if xb.adc_bits is not None else 0.0
        acc["cell_energy"] += float((rows ** 2) @ g[t.r0:t.r1, t.p0:t.p1].sum(axis=1)) * t_read
    return acc

