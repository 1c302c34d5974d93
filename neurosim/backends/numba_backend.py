"""The Numba engine behind the backend interface (spike buffers grown on demand).

The kernel and its variant are chosen when the runner is made: serial or parallel, and
with or without the crossbar stage (a network without crossbar projections passes None
for them, which Numba compiles into a variant without the crossbar code). Numba compiles
only the variants that are called, and :meth:`NumbaRunner.prepare` compiles (or loads
from Numba's on-disk cache) the one this plan needs before the progress bar opens, saying
so on stderr when it really compiles.
"""

import sys
import threading
import time

import numba
import numpy as np

from ..engine import exchange as _exchange, lif as _lif
from ..engine.lif import advance, advance_parallel
from ..engine.loihi import advance_fixed
from ..drives import start_drives
from .base import Chunk, copy_state, fixed_bias_mant, plastic_state, weight_buffer

__all__ = ["NumbaRunner", "FixedNumbaRunner", "kernel_cached_on_disk"]

# What a first compilation of a kernel variant takes on a loaded 2-core machine
# (benchmarks/first_result.md: 10-13 s for the Quick start's); an order of magnitude only.
_COMPILE_HINT = {False: "about 10-30 s", True: "about 1-2 minutes with crossbars"}
# Where the on-disk cache cannot be read (another Numba version's internals), a compile is
# announced once it has taken this long: loading a cached kernel takes well under it.
_ANNOUNCE_AFTER_S = 2.0


def kernel_cached_on_disk(kernel, argtypes):
    """Whether Numba's on-disk cache holds ``kernel`` compiled for ``argtypes`` (a tuple
    of Numba types) for this source and this machine: True, False, or None where the
    cache's index cannot be read (caching off, or Numba internals that differ from
    0.5x-0.6x's ``IndexDataCacheFile``).

    This reads the same index, under the same key (signature, CPU and Numba version,
    hash of the bytecode), that ``Dispatcher.compile`` consults before it compiles.
    """
    try:
        cache = kernel._cache
        index = cache._cache_file._load_index()
        return cache._index_key(argtypes, kernel.targetctx.codegen()) in index
    except Exception:      # noqa: BLE001 -- any failure means "cannot tell"
        return None


def _say(msg):
    print(f"neurosim: {msg}", file=sys.stderr, flush=True)


class NumbaRunner:
    """Runs a Plan with :func:`neurosim.engine.lif.advance`."""

    name = "numba"

    def __init__(self, plan):
        self.plan = plan
        self.threads, self._kernel, self._sample_dtype = self._configure(plan)
        self.state = copy_state(plan.init)
        self.xstate = copy_state(plan.xbar_init) if getattr(plan, "xbar_init", None) else None
        self.dstate = (start_drives(plan.drives, copy_state(plan.drives_init))
                       if getattr(plan, "drives", None) is not None else None)
        self.pstate = plastic_state(plan)
        self.cstate = (copy_state(plan.currents_init)
                       if getattr(plan, "currents", None) is not None else None)
        self._cap = 0
        self._spk_step = self._spk_node = None
        self._ready = False
        self.ranks = getattr(plan, "ranks", None)
        self._ex = None if self.ranks is None else np.ones(1, np.int64)  # exchange interval

    def exchange_every(self, steps):
        """Under MPI: swap spikes with the other ranks once per ``steps`` steps
        (``Network.exchange_interval``; 1: every step)."""
        self._ex[0] = steps

    @staticmethod
    def _configure(plan):
        """(threads, kernel, dtype of state samples) for this plan."""
        threads = plan.conn.indptr.shape[0]
        return threads, (advance if threads == 1 else advance_parallel), plan.dtype

    def _args(self, record, step0, n_steps, max_per_step, samples):
        """The kernel's arguments (one place, so that prepare() types them as advance())."""
        plan = self.plan
        return (plan.params, self.state, plan.conn, plan.sources, record, *self._extra(),
                step0, n_steps, max_per_step, self._spk_step, self._spk_node, samples)

    def _reserve(self, record):
        """Spike buffers for at least four steps of every recorded node spiking."""
        max_per_step = int(record.spike_mask.sum())
        need = max(4 * max_per_step, 1 << 16)
        if self._cap < need:
            self._grow(need)
        return max_per_step

    def prepare(self, record):
        """Make the kernel of this plan ready for ``record``'s argument types: compiled in
        this process, loaded from Numba's on-disk cache, or compiled now, with a line on
        stderr before and after a real compilation (it takes tens of seconds, once per
        environment). A no-op once this runner is ready (microseconds)."""
        if self._ready:
            return
        if self.ranks is not None:       # one compiler per node, the other ranks load
            self.ranks.first_then_others("preparing the engine", lambda: self._prepare(record))
        else:
            self._prepare(record)

    def _prepare(self, record):
        max_per_step = self._reserve(record)
        samples = np.empty((0, record.var_code.shape[0]), dtype=self._sample_dtype)
        args = self._args(record, 0, 0, max_per_step, samples)
        kernel = self._kernel
        if hasattr(kernel, "overloads"):       # else NUMBA_DISABLE_JIT: plain Python
            argtypes = tuple(kernel.typeof_pyval(a) for a in args)
            if argtypes not in kernel.overloads:
                self._compile(kernel, argtypes, args)
        self._ready = True

    def _compile(self, kernel, argtypes, args):
        """Call ``kernel`` for zero steps (Numba compiles it or loads it from its cache)."""
        cached = kernel_cached_on_disk(kernel, argtypes)
        # under MPI only rank 0 speaks, and a rank that finds no cached kernel after its
        # node's first rank compiled one (which would mean concurrent compiles)
        quiet = self.ranks is not None and self.ranks.rank != 0 and cached is not False
        say = (lambda msg: None) if quiet else _say
        name = f"{kernel.__module__.rsplit('.', 1)[-1]}.{kernel.__name__}"
        extra = self._extra()
        hint = _COMPILE_HINT[bool(extra) and extra[0] is not None]
        what = f"compiling the engine ({name}) for this environment (once; {hint})"
        if cached is False:
            say(what + "...")
        timer = None
        if cached is None:     # cannot tell a cache load from a compile: announce a slow one
            timer = threading.Timer(_ANNOUNCE_AFTER_S, say, (what + "...",))
            timer.daemon = True
            timer.start()
        t0 = time.perf_counter()
        self._call(args)
        took = time.perf_counter() - t0
        if timer is not None:
            timer.cancel()
        if cached is False or (timer is not None and took >= _ANNOUNCE_AFTER_S):
            say(f"engine compiled in {took:.1f} s; later runs load it from Numba's cache")

    def _call(self, args):
        if self.threads > 1:
            numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))
        if self.ranks is not None:
            _exchange.HOOK[0] = self.ranks.exchange
            _exchange.BLOCK_HOOK[0] = self.ranks.exchange_block
        return self._kernel(*args)

    def advance(self, step0, n_steps, record):
        self.pstate = weight_buffer(self.plan, self.pstate, step0, n_steps)
        max_per_step = self._reserve(record)
        n_rec = record.var_code.shape[0]
        samples = np.empty((n_steps, n_rec), dtype=self._sample_dtype)
        steps_out, nodes_out = [], []
        done = 0
        while done < n_steps:
            k, n_spk = self._call(self._args(record, step0 + done, n_steps - done,
                                             max_per_step, samples[done:]))
            if n_spk:
                steps_out.append(self._spk_step[:n_spk].copy())
                nodes_out.append(self._spk_node[:n_spk].astype(np.int64))
            done += k
            if done < n_steps:
                self._grow(2 * self._cap)
        cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64)  # noqa: E731
        return Chunk(n_steps, cat(steps_out), cat(nodes_out), samples)

    def _extra(self):
        """Arguments between the record and the first step: the crossbars, or (None, None)
        when the plan has none (the kernel variant without the crossbar stage), then the
        Poisson drives, or (None, None) likewise, then the plastic projections likewise,
        then ref_until for networks above HOLD_MAX_NEURONS (the variant that blends
        refractory neurons), else None, then the model codes when a population is off the
        fast path (engine.neurons), else None, then the current sources and their state, or
        (None, None), then a token when this process is one of several MPI ranks (the
        variant that exchanges spikes), else None."""
        xc = self.plan.xbar
        pc = getattr(self.plan, "plastic", None)
        cc = self.plan.currents
        models = self.plan.params.code
        drives = (self.plan.drives, self.dstate, pc, self.pstate if pc is not None else None,
                  self.state.ref_until if self.plan.n_lif > _lif.HOLD_MAX_NEURONS else None,
                  models if models.size and models.max() > 0 else None,
                  cc, self.cstate if cc is not None else None, self._ex)
        if xc is None or xc.pre_lo.shape[0] == 0:
            return (None, None) + drives
        return (xc, self.xstate) + drives

    def _grow(self, cap):
        self._cap = cap
        self._spk_step = np.empty(cap, dtype=np.int64)
        self._spk_node = np.empty(cap, dtype=np.int32)


class FixedNumbaRunner(NumbaRunner):
    """Runs a FixedPlan (loihi_lif populations) with :func:`neurosim.engine.loihi.advance_fixed`
    on one thread; state samples are int64."""

    def __init__(self, plan):
        super().__init__(plan)
        self.bias_mant = fixed_bias_mant(plan)

    @staticmethod
    def _configure(plan):
        return 1, advance_fixed, np.int64

    def _extra(self):
        return ()
