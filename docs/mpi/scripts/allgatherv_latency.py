"""Time one Allgatherv of spike ids per interval, as the MPI engine would do it.

    mpiexec -n 2 python docs/mpi/scripts/allgatherv_latency.py [spikes_per_rank ...]

Each rank sends `m` int32 ids (counts first, by Allgather, then the ids by Allgatherv:
two collectives, as a design that does not know the counts in advance needs). Prints
microseconds per interval on rank 0.
"""
import sys
import time

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.rank, comm.size
sizes = [int(a) for a in sys.argv[1:]] or [0, 10, 100, 1000, 10000]
reps = 2000
for m in sizes:
    send = np.arange(m, dtype=np.int32) + rank * m
    counts = np.empty(size, np.int64)
    recv = np.empty(m * size, np.int32)
    for mode in ("counts+ids", "ids-only"):
        comm.Barrier()
        t0 = time.perf_counter()
        for _ in range(reps):
            if mode == "counts+ids":
                comm.Allgather(np.array([m], np.int64), counts)
                cnt = counts
            else:
                cnt = np.full(size, m, np.int64)
            displ = np.zeros(size, np.int64)
            np.cumsum(cnt[:-1], out=displ[1:])
            comm.Allgatherv(send, [recv, cnt, displ, MPI.INT32_T])
        dt = (time.perf_counter() - t0) / reps
        t = comm.reduce(dt, op=MPI.MAX, root=0)
        if rank == 0:
            print(f"K={size} spikes/rank={m:6d} {mode:10s} {t * 1e6:8.2f} us/interval")
