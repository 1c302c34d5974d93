"""Spike and state monitors.

Monitors keep what each run chunk recorded, so a run stopped with Ctrl-C keeps everything
recorded up to the last finished chunk. State monitors sample at the start of each step
(Brian2's ``when='start'``): the sample at time t is the state before step t is integrated.
"""

import numpy as np

from .validation import Sealed

__all__ = ["SpikeMonitor", "StateMonitor"]


class SpikeMonitor(Sealed):
    """Spikes of a population (or of some of its neurons).

    Attributes
    ----------
    times : numpy.ndarray
        Spike times (s), in order of time, ties in order of neuron index.
    indices : numpy.ndarray
        Neuron index (within the population) of each spike.
    counts : numpy.ndarray
        Spikes per neuron of the population (int64, length ``pop.n``).
    """

    def __init__(self, pop, indices):
        self.pop = pop
        self.record_indices = indices        # sorted int64 array (local) or None = all
        self._steps = []
        self._idx = []
        self._cache = None
        self._seal()

    def _add(self, steps, local):
        if self.record_indices is not None and local.size:
            keep = np.isin(local, self.record_indices)
            steps, local = steps[keep], local[keep]
        if steps.size:
            self._steps.append(steps.astype(np.int64, copy=True))
            self._idx.append(local.astype(np.int64, copy=True))
            self._cache = None

    def _clear(self):
        self._steps, self._idx, self._cache = [], [], None

    def _arrays(self):
        if self._cache is None:
            steps = np.concatenate(self._steps) if self._steps else np.zeros(0, np.int64)
            idx = np.concatenate(self._idx) if self._idx else np.zeros(0, np.int64)
            self._cache = (steps, idx)
        return self._cache

    @property
    def steps(self):
        """Step number of each spike (int64)."""
        return self._arrays()[0]

    @property
    def times(self):
        return self._arrays()[0] * self.pop.net.dt

    @property
    def indices(self):
        return self._arrays()[1]

    @property
    def counts(self):
        return np.bincount(self._arrays()[1], minlength=self.pop.n).astype(np.int64)

    @property
    def num_spikes(self):
        return int(self._arrays()[0].shape[0])

    def spike_trains(self):
        """Dict neuron index -> array of spike times (s)."""
        steps, idx = self._arrays()
        order = np.argsort(idx, kind="stable")
        bounds = np.searchsorted(idx[order], np.arange(self.pop.n + 1))
        t = steps[order] * self.pop.net.dt
        return {i: t[bounds[i]:bounds[i + 1]] for i in range(self.pop.n)}

    def rate(self, duration=None):
        """Mean firing rate per recorded neuron (Hz) over ``duration`` (default: net.t)."""
        duration = self.pop.net.t if duration is None else duration
        n = self.pop.n if self.record_indices is None else len(self.record_indices)
        return self.num_spikes / (n * duration) if duration > 0 and n else 0.0

    def __repr__(self):
        return f"SpikeMonitor({self.pop.name}, {self.num_spikes} spikes)"


class StateMonitor(Sealed):
    """Samples of one state variable of some neurons at every step.

    Attributes
    ----------
    t : numpy.ndarray
        Sample times (s), one per step.
    values : numpy.ndarray
        Shape ``(len(t), len(indices))``: column k is the trace of neuron ``indices[k]``
        (so ``plt.plot(m.t, m.values)`` draws one line per neuron). For a monitor that
        streams to a file (``to``), a read-only memory map of it.
    to : str or None
        The ``.npy`` file the samples are streamed to (:mod:`neurosim.stream`), or None.
    """

    def __init__(self, pop, var, indices, to=None):
        self.pop = pop
        self.var = var
        self.indices = indices
        self._steps = []
        self._vals = []
        self._cache = None
        self._stream = None
        if to is not None:
            from .stream import NpyStream
            self._stream = NpyStream(to, len(indices), np.float64)
        self._seal()

    @property
    def to(self):
        return None if self._stream is None else self._stream.path

    def _add(self, step0, block):
        if block.shape[0]:
            self._steps.append(step0 + np.arange(block.shape[0], dtype=np.int64))
            if self._stream is None:
                self._vals.append(np.array(block))   # float (V) or int64 (loihi_lif)
            elif self.pop.net.rank == 0:             # under MPI, rank 0 writes the file
                self._stream.append(block)
            else:
                self._stream.rows += block.shape[0]
            self._cache = None

    def _clear(self):
        self._steps, self._vals, self._cache = [], [], None
        if self._stream is not None:
            self._stream.clear()

    def _arrays(self):
        if self._cache is None:
            steps = np.concatenate(self._steps) if self._steps else np.zeros(0, np.int64)
            if self._stream is not None:
                vals = self._stream.array()
            else:
                vals = (np.concatenate(self._vals) if self._vals
                        else np.zeros((0, len(self.indices))))
            self._cache = (steps, vals)
        return self._cache

    def _bytes_per_row(self):
        """(memory, disk) bytes per recorded step: the step number and the 8-byte samples,
        each twice in memory (the chunks and their concatenation), or the samples once on
        disk for a monitor that streams."""
        samples = 8 * len(self.indices)
        if self._stream is not None:
            return 2 * 8, samples
        return 2 * (8 + samples), 0

    def _rows(self, n_steps, step0):
        """Samples that ``n_steps`` steps from ``step0`` add (one per step)."""
        return n_steps

    @property
    def t(self):
        return self._arrays()[0] * self.pop.net.dt

    @property
    def values(self):
        return self._arrays()[1]

    def __getitem__(self, k):
        """Trace of the k-th recorded neuron."""
        return self._arrays()[1][:, k]

    def __repr__(self):
        return f"StateMonitor({self.pop.name}.{self.var}, {len(self.indices)} neurons)"


class WeightMonitor(StateMonitor):
    """Samples of the weights of chosen synapses of a plastic projection, every ``every``
    steps (at the start of the step, as state monitors sample).

    Attributes
    ----------
    proj : Projection
    indices : numpy.ndarray
        Synapse indices (in the order of ``proj.pre_index`` / ``proj.weight``).
    t : numpy.ndarray
        Sample times (s).
    values : numpy.ndarray
        Shape ``(len(t), len(indices))``: column k is the weight of synapse ``indices[k]``.
    """

    def __init__(self, proj, indices, every):
        self.proj = proj
        self.every = every
        self._flat = None          # indices into the plan's plastic arrays, once built
        super().__init__(proj.post, "weight", indices)

    def _rows(self, n_steps, step0):
        """Samples that ``n_steps`` steps from ``step0`` add (every ``every``-th step)."""
        return -(-(step0 + n_steps) // self.every) - (-(-step0 // self.every))

    def _add_rows(self, steps, block):
        keep = steps % self.every == 0
        if keep.any():
            self._steps.append(steps[keep])
            self._vals.append(np.array(block[keep]))
            self._cache = None

    def __repr__(self):
        return f"WeightMonitor({self.proj.name}, {len(self.indices)} synapses)"
