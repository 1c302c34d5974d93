"""Time to first result: the README's Quick start in a fresh process, cold and warm.

    python benchmarks/first_result.py [--quick] [--cold 3] [--warm 5] [--out benchmarks]

* cold: Numba's cache empty (``NUMBA_CACHE_DIR`` a new empty folder per repeat), as on a
  first ``pip install`` without ``make``'s warm-up: the engine compiles its kernels;
* warm: the cache filled by an earlier run (as after ``make demo`` / ``make test``, whose
  set-up runs ``python -m neurosim.warmup``): the kernels are loaded from it.

Each repeat runs the Quick start (the first python block under "## Quick start" in
README.md, run as it is) in a new interpreter and takes the wall time from starting the
process to its exit (the Quick start ends with its print), the CPU time of the process and,
cold, the engine's own compile time (the "engine compiled in" line neurosim prints). Where
the time goes: interpreter start, ``import numpy``, ``import numba``, ``import neurosim``
(each in a fresh process, warm file cache). Medians. Goal (issue 16): cold <= 10 s,
warm <= 1 s.

Python's bytecode is written once before the timed runs, as after an install (into a
temporary PYTHONPYCACHEPREFIX, whatever PYTHONDONTWRITEBYTECODE says here). Wall times on a shared 2-core machine swing with the load of the
other processes: the CPU time and the load average are reported with them.

Writes first_result.json and first_result.md to --out.
"""

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOAL = {"cold": 10.0, "warm": 1.0}


def quickstart_code(readme=os.path.join(ROOT, "README.md")):
    """The first ```python block after the "## Quick start" heading of the README."""
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"^## Quick start\s*$.*?^```python\n(.*?)^```", text, re.M | re.S)
    if m is None:
        raise SystemExit("README.md: no ```python block under '## Quick start'")
    return m.group(1)


def _run(args, env):
    """(wall s, CPU s of the child, stdout, stderr) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{p.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stdout, p.stderr


def _env(cache_dir, pyc_dir):
    """Numba's cache in ``cache_dir``; Python's bytecode in ``pyc_dir`` (written, so that
    every run but the first reads it, as in an installed environment)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=ROOT,
               PYTHONPYCACHEPREFIX=pyc_dir)
    for var in ("MPLBACKEND", "PYTHONDONTWRITEBYTECODE"):
        env.pop(var, None)
    return env


def first_results(script, cold, warm):
    """Rows of the cold and warm repeats of ``script`` (a file)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="neurosim-first-") as tmp:
        pyc = os.path.join(tmp, "pyc")
        _run([sys.executable, "-c", "import neurosim"], _env(os.path.join(tmp, "n"), pyc))
        for i in range(cold):
            cache = os.path.join(tmp, f"cold{i}")
            wall, cpu, out, err = _run([sys.executable, script], _env(cache, pyc))
            m = re.search(r"engine compiled in ([0-9.]+) s", err)
            rows.append(dict(mode="cold", wall_s=wall, cpu_s=cpu, output=out.strip(),
                             compile_s=float(m.group(1)) if m else None,
                             said_compiling="compiling the engine" in err))
        env = _env(os.path.join(tmp, "warm"), pyc)
        _run([sys.executable, script], env)                    # fills the caches
        for _ in range(warm):
            wall, cpu, out, err = _run([sys.executable, script], env)
            rows.append(dict(mode="warm", wall_s=wall, cpu_s=cpu, output=out.strip(),
                             compile_s=None, said_compiling="compiling the engine" in err))
    return rows


IMPORTS = {
    "interpreter start": "pass",
    "import numpy": "import numpy",
    "import numba": "import numba",
    # what the first kernel Numba loads (or compiles) in a process sets up first: its
    # registries of implementations (numba.np.arraymath imports scipy.linalg for BLAS)
    "import numba + its start-up": "import numba; from numba.core.registry import "
                                   "cpu_target; cpu_target.target_context.refresh()",
    "import neurosim": "import neurosim",
}


def import_times(repeats):
    """Median wall and CPU time of a fresh process that only runs each statement."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="neurosim-imports-") as tmp:
        env = _env(os.path.join(tmp, "numba"), os.path.join(tmp, "pyc"))
        for name, stmt in IMPORTS.items():
            _run([sys.executable, "-c", stmt], env)            # bytecode and files warm
            runs = [_run([sys.executable, "-c", stmt], env)[:2] for _ in range(repeats)]
            out[name] = dict(wall_s=float(np.median([r[0] for r in runs])),
                             cpu_s=float(np.median([r[1] for r in runs])))
    return out


def summarise(rows):
    out = {}
    for mode in ("cold", "warm"):
        rs = [r for r in rows if r["mode"] == mode]
        if not rs:
            continue
        med = lambda k: float(np.median([r[k] for r in rs]))  # noqa: E731
        comp = [r["compile_s"] for r in rs if r["compile_s"] is not None]
        out[mode] = dict(repeats=len(rs), wall_s=med("wall_s"), cpu_s=med("cpu_s"),
                         wall_min_s=float(min(r["wall_s"] for r in rs)),
                         wall_max_s=float(max(r["wall_s"] for r in rs)),
                         engine_compile_s=float(np.median(comp)) if comp else None,
                         said_compiling=sum(r["said_compiling"] for r in rs),
                         goal_s=GOAL[mode], met=med("wall_s") <= GOAL[mode])
    return out


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f
                          if ln.startswith("model name")), "")
    except OSError:
        pass
    import numba
    return dict(cpus=os.cpu_count(), cpu=model, python=platform.python_version(),
                numba=numba.__version__, numpy=np.__version__)


def table(res):
    s, imp, m = res["summary"], res["imports"], res["machine"]
    L = ["# Time to first result (README Quick start, fresh process)", "",
         f"Machine: {m['cpus']} cores ({m['cpu'] or 'unknown CPU'}), shared with other "
         f"processes (load average {res['load_before'][0]:.1f} before, "
         f"{res['load_after'][0]:.1f} after); Python {m['python']}, numba {m['numba']}, "
         f"numpy {m['numpy']}. `python benchmarks/first_result.py`, {res['date']}.", "",
         "| | repeats | median wall s | min-max s | median CPU s | engine compile s | "
         "goal s | met |", "|---|---|---|---|---|---|---|---|"]
    for mode, what in (("cold", "cold (empty Numba cache)"),
                       ("warm", "warm (cache filled, as after `make`)")):
        if mode not in s:
            continue
        r = s[mode]
        comp = f"{r['engine_compile_s']:.1f}" if r["engine_compile_s"] is not None else "-"
        L.append(f"| {what} | {r['repeats']} | {r['wall_s']:.2f} | {r['wall_min_s']:.2f}-"
                 f"{r['wall_max_s']:.2f} | {r['cpu_s']:.2f} | {comp} | {r['goal_s']:g} | "
                 f"{'yes' if r['met'] else 'no'} |")
    L += ["", "Where a warm start goes (medians of a fresh process that only runs this):",
          "", "| | wall s | CPU s |", "|---|---|---|"]
    L += [f"| {k} | {v['wall_s']:.2f} | {v['cpu_s']:.2f} |" for k, v in imp.items()]
    L += ["", "The cold time is the warm time plus compiling: the step loop's kernel "
          "(\"engine compile s\", printed by neurosim) and the build kernels that draw the "
          "connectivity (the rest). The warm time is mostly Python importing numpy and numba "
          "and Numba setting itself up for the first kernel it loads (which imports "
          "scipy.linalg); loading the cached kernels and running the Quick start take the "
          "rest.", ""]
    return "\n".join(L)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", type=int, default=3, help="cold repeats")
    ap.add_argument("--warm", type=int, default=5, help="warm repeats")
    ap.add_argument("--quick", action="store_true", help="1 cold, 3 warm, 3 per import")
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args(argv)
    cold, warm, imp_rep = (1, 3, 3) if args.quick else (args.cold, args.warm, 5)
    load_before = os.getloadavg()
    with tempfile.NamedTemporaryFile("w", suffix="_quickstart.py", delete=False) as f:
        f.write(quickstart_code())
    try:
        rows = first_results(f.name, cold, warm)
    finally:
        os.unlink(f.name)
    res = dict(date=time.strftime("%Y-%m-%d"), machine=machine(), load_before=load_before,
               imports=import_times(imp_rep), rows=rows, summary=summarise(rows),
               load_after=os.getloadavg())
    print(json.dumps(dict(summary=res["summary"], imports=res["imports"],
                          load=[res["load_before"][0], res["load_after"][0]]), indent=1))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "first_result.json"), "w") as fj:
        json.dump(res, fj, indent=1)
    with open(os.path.join(args.out, "first_result.md"), "w") as fm:
        fm.write(table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
