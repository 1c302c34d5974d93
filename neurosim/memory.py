"""Memory estimates, checked before anything large is allocated.

A network that will not fit is refused with the estimate and what is available
(:class:`~neurosim.validation.InsufficientMemoryError`) instead of being left for the
operating system to kill. What is available is the smallest of the kernel's
``MemAvailable``, the room left under this process's cgroup limit, and the budget in the
environment variable ``NEUROSIM_MEMORY_LIMIT`` (bytes, or with a unit: ``"8GB"``,
``"512MiB"``), which users on shared machines and tests can set.

The estimates are per synapse and per neuron, from the arrays the code allocates. A
connect stores nothing per synapse for a rule (the build draws the synapses straight into
the plan), so each connect checks the plan of the network so far. Building (lowering,
streamed in chunks of each projection's synapses): the plan's int32 target per synapse, a
weight (in the network's dtype) where the weights of a (delay, channel) block differ, an
int32 delay where delays are kept per synapse, plus one chunk's working set (up to
``rules.DRAW_CHUNK`` synapses, 25 bytes each, and two more chunks of 17 bytes a synapse
drawn ahead when the network has more than one thread), the delay ring buffers (2 x slots x LIF
neurons) and the CSR row counts, fill pointers and pointers (8 bytes per node, block and
thread, three arrays at a time), and the table of the current sources (per change, per
amplitude and per target, :func:`currents_bytes`; each source is also checked when made).

Measured build peaks above the interpreter's (``VmHWM``) against the estimate: 2e7
synapses (1e5 neurons, in-degree 200) 9.3 bytes per synapse with one weight and delay
(estimate 10.6), 15.9 with uniform per-synapse delays (19.2: the ring buffers are counted
though they become resident only when run); the cortical microcircuit 0.50 GB at scale 0.1
(estimate 0.49) and 4.09 GB at full scale (3.94).
"""

import math
import numbers
import os
import re

from .validation import InsufficientMemoryError

__all__ = ["available_bytes", "require", "format_bytes", "expected_synapses", "plan_bytes",
           "currents_bytes"]

#: Bytes per synapse of one chunk being drawn and lowered (indices, weight, delay, their
#: temporaries).
CHUNK_BYTES_PER_SYNAPSE = 25
#: With more than one thread the next chunk is drawn while one is lowered: up to two more
#: chunks (indices, weight, delay) are alive.
CHUNK_AHEAD_BYTES_PER_SYNAPSE = 17

_UNITS = {"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def format_bytes(n):
    """``n`` bytes in a human unit (decimal: kB, MB, GB)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def _env_limit():
    text = os.environ.get("NEUROSIM_MEMORY_LIMIT", "").strip()
    if not text:
        return None
    m = re.fullmatch(r"([0-9.]+(?:e[0-9]+)?)\s*([a-zA-Z]*)", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise InsufficientMemoryError(
            f"NEUROSIM_MEMORY_LIMIT must be a number of bytes, optionally with a unit "
            f"(kB, MB, GB, MiB, GiB); got {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def available_bytes():
    """Bytes this process can still allocate (None when nothing can be read)."""
    found = []
    info = _read("/proc/meminfo")
    if info:
        m = re.search(r"^MemAvailable:\s+(\d+) kB", info, re.M)
        if m:
            found.append(int(m.group(1)) * 1024)
    limit, usage = _read("/sys/fs/cgroup/memory.max"), _read("/sys/fs/cgroup/memory.current")
    if limit and usage and limit.strip().isdigit():
        found.append(max(int(limit) - int(usage), 0))
    env = _env_limit()
    if env is not None:
        found.append(env)
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    return min(found)


def require(need, what, detail=""):
    """Refuse (InsufficientMemoryError) when ``need`` bytes exceed what is available."""
    avail = available_bytes()
    if avail is None or need <= avail:
        return
    raise InsufficientMemoryError(
        f"{what} needs about {format_bytes(need)}"
        + (f" ({detail})" if detail else "")
        + f", but only {format_bytes(avail)} is available; nothing was allocated for it. Use a "
        "smaller network, a machine with more memory, or set NEUROSIM_MEMORY_LIMIT if the "
        "estimate is wrong for your machine")


def expected_synapses(n_pre, n_post, weight, rule, value):
    """Synapses a connect will draw (an upper bound for ``p``: mean + 8 sd), or None when
    they are given as a matrix or a list (already in memory) or the arguments are invalid."""
    from .rules import expected_count
    if hasattr(weight, "tocoo") or isinstance(weight, (list, tuple)) or \
            (hasattr(weight, "ndim") and weight.ndim == 2):
        return None
    if isinstance(value, bool) or (rule in ("indegree", "outdegree", "total")
                                   and not isinstance(value, numbers.Integral)):
        return None
    if rule == "p" and (not isinstance(value, numbers.Real) or not 0 <= value <= 1):
        return None
    n = expected_count(rule, value, n_pre, n_post)
    return None if n is None else max(n, 0)


def model_bytes(spec, itemsize):
    """Bytes a LIF population needs beyond v, currents and bias: its coefficient table
    (one column, or one per neuron when the neurons differ) and its extra state rows."""
    if spec.fast:
        return 0
    from .engine.neurons import COEF
    rows = (2 if spec.synapse == "alpha" else 0) + (spec.tau_w is not None) \
        + (spec.tau_a is not None)
    return (len(COEF) * (spec.n if spec.heterogeneous else 1) + rows * spec.n) * itemsize


def currents_bytes(sources):
    """Bytes of the engine's table of current sources (``Network.current_source``): per
    source its changes, amplitudes and targets (:func:`neurosim.currents.table_bytes`)."""
    from .currents import table_bytes
    return sum(table_bytes(s._steps.size, s._amps.size, s.n) for s in sources)


def plan_bytes(n_syn, n_lif, n_nodes, slots, blocks, threads, itemsize,
               varying_weights=True, varying_delays=True, target_bytes=4):
    """Peak bytes of building a plan (see the module docstring); ``target_bytes``: the
    size of a stored target index (2 on an MPI rank of at most 65,536 neurons)."""
    from .rules import DRAW_CHUNK
    per = target_bytes + (itemsize if varying_weights else 0) + (4 if varying_delays else 0)
    chunk = CHUNK_BYTES_PER_SYNAPSE + (2 * CHUNK_AHEAD_BYTES_PER_SYNAPSE if threads > 1 else 0)
    return (n_syn * per + min(n_syn, DRAW_CHUNK) * chunk
            + 2 * slots * n_lif * itemsize + 3 * threads * blocks * (n_nodes + 1) * 8
            + n_nodes * 60)
