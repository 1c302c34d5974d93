"""Cost of returning to Python between compiled chunks (what one exchange per interval
adds before any communication): CUBA N=4000, 2000 steps, chunk_steps=1 vs 10 vs 200.

    .venv/bin/python docs/mpi/scripts/call_overhead.py
"""
import time

import neurosim as ns
from neurosim.units import ms

for chunk in (200, 10, 1):
    net = ns.Network(dt=0.1 * ms, seed=1)
    ns.nets.cuba(net)
    net.run(1 * ms, progress=False)               # build + compile/load
    t0 = time.perf_counter()
    net.run(200 * ms, progress=False, chunk_steps=chunk)
    t = time.perf_counter() - t0
    print(f"chunk_steps={chunk:4d}: {t * 1e6 / 2000:7.1f} us/step")
