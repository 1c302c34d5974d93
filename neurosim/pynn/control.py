"""Simulation control of neurosim.pynn: setup, run, reset, end and the state queries."""

import logging

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_TIMESTEP, DEFAULT_MIN_DELAY
from pyNN.recording import get_io

from . import simulator

__all__ = ["setup", "end", "run", "run_until", "run_for", "reset", "initialize",
           "get_current_time", "get_time_step", "get_min_delay", "get_max_delay",
           "num_processes", "rank"]

logger = logging.getLogger("PyNN")

_EXTRA = ("rng_seed", "seed", "backend", "threads", "max_delay", "rank", "num_processes",
          "spike_precision", "verbosity")


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Start a new simulation (any existing network is discarded).

    ``timestep``, ``min_delay`` and ``max_delay`` in ms, as PyNN. neurosim's extra
    parameters: ``rng_seed`` (or ``seed``: the seed of every random draw neurosim makes,
    Poisson sources and noisy currents; default a fixed seed, so runs repeat), ``backend``
    ("numba" or "reference") and ``threads``.
    """
    max_delay = extra_params.get("max_delay", DEFAULT_MAX_DELAY)
    common.setup(timestep, min_delay, **extra_params)
    unknown = set(extra_params) - set(_EXTRA)
    if unknown:       # other backends' options (t_flush, ...): a script runs unchanged
        logger.info("neurosim.pynn.setup() ignores %s (neurosim's own are rng_seed, "
                    "backend, threads)", sorted(unknown))
    if extra_params.get("num_processes", 1) != 1:
        raise NotImplementedError("neurosim.pynn runs in one process (no MPI)")
    state = simulator.state
    state.clear()
    state.dt = float(timestep)
    state.min_delay = min_delay
    state.max_delay = max_delay
    state.seed = int(extra_params.get("rng_seed", extra_params.get("seed",
                                                                   simulator.DEFAULT_SEED)))
    state.backend = extra_params.get("backend", "numba")
    state.threads = int(extra_params.get("threads", 1))
    return rank()


def end(compatible_output=True):
    """Write the data of ``record(..., to_file=...)`` and close the simulation."""
    state = simulator.state
    for (population, variables, filename) in state.write_on_end:
        io = get_io(filename)
        population.write_data(io, variables)
    state.write_on_end = []


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, \
    num_processes, rank = common.build_state_queries(simulator)
