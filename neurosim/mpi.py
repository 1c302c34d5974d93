"""One network across several processes (MPI ranks): ``mpiexec -n K python script.py``.

The same script runs on every rank (SPMD). Launched under an MPI launcher with more than
one process, :class:`neurosim.Network` finds the communicator itself (``mpi="auto"``) and
splits the network:

* **Neurons.** Rank r owns a contiguous range of the LIF neurons, cut so that the ranks
  get about equal shares of the synapses into them (expected counts) plus a few synapses'
  worth per neuron; it integrates only them. Its ``threads`` split that range again, as in
  one process.
* **Synapses.** Each rank stores only the synapses into its own neurons (drawn from the
  same seeds, the others dropped as they are drawn): memory for synapses falls as 1/K.
  Connectivity is drawn in full on every rank, so build time does not fall.
* **Spikes.** At every step, between the thresholds and the synapses slot, the ranks swap
  their spikes (one ``Allgather`` of a count and up to ``cap`` indices per rank, plus an
  ``Allgatherv`` in the rare step where a rank fired more; called from inside the compiled
  loop: :mod:`neurosim.engine.exchange`). Every rank then holds
  the step's whole fired list, in the order of one process (rank ranges ascend), and
  delivers it through its own rows.
* **Once per minimum delay.** When every synaptic and drive delay is at least L > 1 steps
  (the minimum over all ranks' synapses), a spike cannot reach any neuron before L steps
  have passed, so the ranks swap spikes once per interval of L steps instead of every
  step (``Network.exchange_interval``): each integrates L steps of its own neurons, one
  collective swaps their spikes, and the deliveries of those L steps follow in step order,
  so every input arrives in the one-process order (threads inside a rank too). Not with
  crossbar or plastic projections: those swap at every step.
* **Replicated.** Spike sources, Poisson sources, Poisson drives' random streams, current
  sources, crossbar and plastic projections, spike counts and counters run on every rank
  from the global fired list: identical everywhere, nothing to reduce. Drives deliver (and
  count) only into own targets; their counts are summed when counters are read.

Identity: per target, inputs arrive in the order of the one-process loop, and every random
stream belongs to one neuron, population or drive, never to a rank; so spikes, traces and
counters are bitwise those of one process, for any number of ranks and threads
(``tests/test_mpi.py`` runs ``mpiexec -n 1..4`` and compares).

Monitors: spike monitors record the global list on every rank (the same data everywhere).
State monitors sample on the rank that owns each neuron and the samples are gathered to
every rank at the end of each compiled chunk. Reading a state variable (``pop.v``) is
collective: every rank must do it (as SPMD scripts do). Results files are written by rank
0 only.

Not distributed (refused with a message naming the reason): the reference backend, the
fixed-point (loihi_lif) engine and :class:`neurosim.LayerNetwork`.
"""

import contextlib
import os
import sys
import threading
import time
import warnings

import numpy as np

__all__ = ["Ranks", "resolve", "launched_under_mpi", "single_process", "RankError"]

#: Environment variables that MPI launchers set in every process they start, with the
#: number of processes (MPICH/Hydra and Intel MPI: PMI_SIZE; Open MPI: OMPI_COMM_WORLD_SIZE;
#: PMIx launchers: PMIX_SIZE is not standard, so PMIX_RANK marks them; MVAPICH2; srun).
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE",
              "SLURM_STEP_NUM_TASKS")


class RankError(RuntimeError):
    """Another rank failed; this one stops too (the message names the rank and its error)."""


# The kernels release the GIL (nogil) and the exchange's call out of compiled code takes it
# back, on purpose; Numba warns about that combination when it compiles the MPI variant.
warnings.filterwarnings("ignore", message="Code running in object mode won't allow parallel")

_LOCAL = threading.local()


@contextlib.contextmanager
def single_process():
    """Networks made inside this block (in this thread) run in this process alone even in
    an MPI job: :func:`neurosim.sweep` runs each point so, since its points are independent
    simulations (an mpi4py.futures worker is a rank of the job's world)."""
    depth = getattr(_LOCAL, "depth", 0)
    _LOCAL.depth = depth + 1
    try:
        yield
    finally:
        _LOCAL.depth = depth


def launched_under_mpi():
    """Whether this process was started by an MPI launcher with more than one process
    (read from the launcher's environment: mpi4py is imported only then), outside a
    :func:`single_process` block."""
    if os.environ.get("NEUROSIM_MPI", "1") == "0" or getattr(_LOCAL, "depth", 0):
        return False
    for var in _SIZE_VARS:
        try:
            if int(os.environ.get(var, "1")) > 1:
                return True
        except ValueError:
            continue
    return "PMIX_RANK" in os.environ


def resolve(mpi):
    """:class:`Ranks` for ``Network(mpi=...)``, or None for one process.

    ``"auto"``: MPI's world communicator when launched under mpiexec/srun with more than
    one process; ``False``: one process; an mpi4py communicator: that one."""
    if mpi is False or mpi is None:
        return None
    if isinstance(mpi, str):
        if mpi != "auto":
            raise ValueError(f"mpi must be 'auto', False or an mpi4py communicator; got {mpi!r}")
        if not launched_under_mpi():
            return None
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise ImportError("this process was started by an MPI launcher, but mpi4py is "
                              "not installed: pip install 'neurosim[mpi]' (mpi4py and an "
                              "MPI from PyPI wheels), or pass mpi=False to run each process "
                              "on its own") from e
        comm = MPI.COMM_WORLD
    else:
        comm = mpi
        if not all(hasattr(comm, a) for a in ("Allgatherv", "Get_rank", "Get_size")):
            raise ValueError(f"mpi must be 'auto', False or an mpi4py communicator; got "
                             f"{type(mpi).__name__}")
    return Ranks(comm) if comm.Get_size() > 1 else None


_HOOKED = []


def _abort_on_uncaught(comm):
    """An exception that ends this rank's script aborts the whole job (after printing its
    traceback), as ``python -m mpi4py`` does: else the other ranks would wait forever in
    their next collective, and MPI launchers do not stop them when a rank exits normally."""
    from mpi4py import MPI
    if _HOOKED or not isinstance(comm, MPI.Comm):
        return
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.flush()
        time.sleep(0.5)        # the launcher forwards the traceback before it ends the job
        comm.Abort(130 if issubclass(kind, KeyboardInterrupt) else 1)

    sys.excepthook = hook
    _HOOKED.append(hook)


class Ranks:
    """This process's place among the ranks of one network, and the collectives it uses."""

    def __init__(self, comm):
        from mpi4py import MPI
        self._MPI = MPI
        _abort_on_uncaught(comm)
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self._counts = np.zeros(self.size, np.int64)
        self._displs = np.zeros(self.size, np.int64)
        self._resize(64)
        self.reset_stats()

    def __repr__(self):
        return f"Ranks(rank={self.rank}, size={self.size})"

    def reset_stats(self):
        """Zero the exchange statistics (time in the collectives, calls, spikes)."""
        self.exchange_s = 0.0
        self.exchanges = 0
        self.spikes_exchanged = 0

    # ------------------------------------------------------------------ in the step loop
    def exchange(self, fired, offset, n):
        """The spike exchange of one step (:mod:`neurosim.engine.exchange`): this rank's
        ``fired[offset:offset + n]`` -> every rank's at ``fired[0:total]``, in rank order.

        One ``Allgather`` of a fixed-size block per rank (its count, then up to ``cap``
        indices) carries every step whose ranks fired at most ``cap`` spikes each; a busier
        step sends the rest with an ``Allgatherv`` and ``cap`` grows (every rank sees the
        same counts, so all take the same branch)."""
        t0 = time.perf_counter()
        cap = self._cap
        send, recv = self._send, self._recv
        send[0] = n
        m = min(n, cap)
        send[1:1 + m] = fired[offset:offset + m]
        self.comm.Allgather(send, recv)
        counts = recv[:, 0]
        total = int(counts.sum())
        top = int(counts.max())
        if top <= cap:
            pos = 0
            for r in range(self.size):
                c = int(counts[r])
                fired[pos:pos + c] = recv[r, 1:1 + c]
                pos += c
        else:
            mine = fired[offset:offset + n].copy()          # MPI buffers may not overlap
            self._counts[:] = counts
            np.cumsum(self._counts[:-1], out=self._displs[1:])
            self.comm.Allgatherv(mine, [fired[:total], self._counts, self._displs,
                                        self._MPI.INT32_T])
            self._resize(2 * top)
        self.exchange_s += time.perf_counter() - t0
        self.exchanges += 1
        self.spikes_exchanged += total
        return total

    def exchange_block(self, own, counts):
        """The spike exchange of an interval of ``L = len(counts)`` steps
        (:func:`neurosim.engine.exchange.exchange_block`): this rank's spikes ``own``
        (``counts[j]`` of them at step j, in order) -> ``(every, ptr)``, every rank's
        spikes, step j's at ``every[ptr[j]:ptr[j + 1]]`` in rank order.

        One ``Allgather`` of a fixed-size block per rank (its L counts, then up to ``cap``
        indices), plus an ``Allgatherv`` of the rest in the rare interval where a rank fired
        more than ``cap`` (then ``cap`` grows), as :meth:`exchange`."""
        t0 = time.perf_counter()
        L = counts.shape[0]
        n = own.shape[0]
        cap = self._cap
        send = np.empty(L + cap, np.int32)
        recv = np.empty((self.size, L + cap), np.int32)
        send[:L] = counts
        m = min(n, cap)
        send[L:L + m] = own[:m]
        self.comm.Allgather(send, recv)
        per = recv[:, :L].astype(np.int64)            # per[r, j]: rank r's spikes at step j
        tot = per.sum(axis=1)
        if tot.max() <= cap:
            rows = [recv[r, L:L + tot[r]] for r in range(self.size)]
        else:
            flat = np.empty(int(tot.sum()), np.int32)
            displs = np.zeros(self.size, np.int64)
            np.cumsum(tot[:-1], out=displs[1:])
            self.comm.Allgatherv(np.ascontiguousarray(own, np.int32),
                                 [flat, tot, displs, self._MPI.INT32_T])
            rows = [flat[displs[r]:displs[r] + tot[r]] for r in range(self.size)]
            self._resize(2 * int(tot.max()))
        ptr = np.zeros(L + 1, np.int64)
        np.cumsum(per.sum(axis=0), out=ptr[1:])
        every = np.empty(int(ptr[-1]), np.int32)
        start = np.zeros((self.size, L + 1), np.int64)   # step j's spikes in rank r's row
        np.cumsum(per, axis=1, out=start[:, 1:])
        for j in range(L):
            pos = int(ptr[j])
            for r in range(self.size):
                c = int(per[r, j])
                every[pos:pos + c] = rows[r][start[r, j]:start[r, j] + c]
                pos += c
        self.exchange_s += time.perf_counter() - t0
        self.exchanges += 1
        self.spikes_exchanged += int(ptr[-1])
        return every, ptr

    def min_over_ranks(self, value):
        """The smallest of every rank's integer ``value``, on every rank."""
        return int(self.comm.allreduce(int(value), op=self._MPI.MIN))

    def _resize(self, cap):
        self._cap = int(cap)
        self._send = np.zeros(self._cap + 1, np.int32)
        self._recv = np.zeros((self.size, self._cap + 1), np.int32)

    # ------------------------------------------------------------------ between chunks
    def agree(self, steps, stop):
        """(steps, stop) the same on every rank: rank 0's chunk length, and stop when any
        rank was asked to (Ctrl-C or SIGTERM reaching some of them)."""
        mine = np.array([steps, int(bool(stop))], np.int64)
        every = np.empty((self.size, 2), np.int64)
        self.comm.Allgather(mine, every)
        return int(every[0, 0]), bool(every[:, 1].any())

    def merge_columns(self, samples, owned):
        """State samples (steps x columns) whose columns ``owned`` (bool mask) this rank
        sampled -> every column from its owner, on every rank."""
        parts = self.comm.allgather((owned, samples[:, owned]))
        out = np.empty_like(samples)
        for mask, block in parts:
            out[:, mask] = block
        return out

    def merge_range(self, values, first):
        """Per-neuron ``values`` of neurons ``first, first + 1, ...`` (LIF index) -> each
        neuron's value from the rank that owns it, on every rank."""
        values = np.asarray(values)
        n_lif_hi = first + values.shape[0]
        parts = self.comm.allgather(self._own_slice(values, first, n_lif_hi))
        out = values.copy()
        for (a, b), block in parts:
            out[a - first:b - first] = block
        return out

    def _own_slice(self, values, first, last):
        lo, hi = self._range
        a, b = max(lo, first), min(hi, last)
        if a >= b:
            return (first, first), values[:0]
        return (a, b), values[a - first:b - first]

    def own(self, edges):
        """Set and return this rank's LIF range, ``edges[rank] .. edges[rank + 1] - 1``
        (``edges``: K + 1 ascending LIF indices from 0 to n_lif)."""
        self._range = (int(edges[self.rank]), int(edges[self.rank + 1]))
        return self._range

    def sum(self, array):
        """Element-wise sum over the ranks (int64 counters)."""
        a = np.ascontiguousarray(array, dtype=np.int64)
        out = np.empty_like(a)
        self.comm.Allreduce(a, out, op=self._MPI.SUM)
        return out

    def barrier(self):
        self.comm.Barrier()

    def collective(self, what, function, *args):
        """Run ``function(*args)`` on every rank; when it raises on some rank, raise on
        every rank (the failing ones their own error, the others :class:`RankError` naming
        the first failing rank), instead of leaving them waiting in the next collective."""
        err = result = None
        try:
            result = function(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised by _vote, after the vote
            err = e
        self._vote(what, err)
        return result

    def first_then_others(self, what, function):
        """:meth:`collective`, with ``function`` run on rank 0 of each node first, then on
        the node's other ranks (compiling into Numba's on-disk cache: one writer per node
        folder, the others load what it wrote)."""
        node = self.comm.Split_type(self._MPI.COMM_TYPE_SHARED)
        lead = node.Get_rank() == 0
        err = result = None
        try:
            if not lead:
                node.Barrier()
            try:
                result = function()
            except BaseException as e:  # noqa: BLE001 - re-raised by _vote
                err = e
            if lead:
                node.Barrier()
        finally:
            node.Free()
        self._vote(what, err)
        return result

    def _vote(self, what, err):
        failed = self.comm.allgather(None if err is None else f"{type(err).__name__}: {err}")
        if err is not None:
            raise err
        bad = [(r, m) for r, m in enumerate(failed) if m is not None]
        if bad:
            r, m = bad[0]
            raise RankError(f"{what} failed on rank {r} of {self.size}: {m}")
