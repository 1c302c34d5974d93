"""The JSON line every peer script prints (shared by scripts that run in different venvs)."""

import json
import resource
import time


def report(simulator, N, threads, n_syn, build_s, sim_s, spikes, duration, t_proc):
    """Print one benchmark row; events/s uses the mean fan-out (synapses / N)."""
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024.0
    print(json.dumps(dict(simulator=simulator, N=N, threads=threads, synapses=int(n_syn),
                          build_s=round(build_s, 4), sim_s=round(sim_s, 4), spikes=int(spikes),
                          rate_hz=round(spikes / (N * duration), 3),
                          events_per_s=round(spikes * n_syn / N / sim_s, 1),
                          process_s=round(time.perf_counter() - t_proc, 3),
                          peak_rss_mb=round(rss, 1))))
