"""The Numba engine behind the backend interface (spike buffers grown on demand)."""

import numba
import numpy as np

from ..engine.lif import advance, advance_parallel
from ..engine.loihi import advance_fixed
from .base import Chunk, copy_state, fixed_bias_mant

__all__ = ["NumbaRunner", "FixedNumbaRunner"]


class NumbaRunner:
    """Runs a Plan with :func:`neurosim.engine.lif.advance`."""

    name = "numba"

    def __init__(self, plan):
        self.plan = plan
        self.threads, self._kernel, self._sample_dtype = self._configure(plan)
        self.state = copy_state(plan.init)
        self.xstate = copy_state(plan.xbar_init) if getattr(plan, "xbar_init", None) else None
        self._cap = 0
        self._spk_step = self._spk_node = None

    @staticmethod
    def _configure(plan):
        """(threads, kernel, dtype of state samples) for this plan."""
        threads = plan.conn.indptr.shape[0]
        return threads, (advance if threads == 1 else advance_parallel), plan.dtype

    def advance(self, step0, n_steps, record):
        plan = self.plan
        max_per_step = int(record.spike_mask.sum())
        need = max(4 * max_per_step, 1 << 16)
        if self._cap < need:
            self._grow(need)
        n_rec = record.var_code.shape[0]
        samples = np.empty((n_steps, n_rec), dtype=self._sample_dtype)
        steps_out, nodes_out = [], []
        if self.threads > 1:
            numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))
        done = 0
        while done < n_steps:
            k, n_spk = self._kernel(plan.params, self.state, plan.conn, plan.sources, record,
                                    *self._extra(), step0 + done, n_steps - done,
                                    max_per_step, self._spk_step, self._spk_node,
                                    samples[done:])
            if n_spk:
                steps_out.append(self._spk_step[:n_spk].copy())
                nodes_out.append(self._spk_node[:n_spk].astype(np.int64))
            done += k
            if done < n_steps:
                self._grow(2 * self._cap)
        cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64)  # noqa: E731
        return Chunk(n_steps, cat(steps_out), cat(nodes_out), samples)

    def _extra(self):
        """Arguments between the record and the first step (the crossbars)."""
        return (self.plan.xbar, self.xstate)

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
