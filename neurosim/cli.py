"""The neurosim command: run network files, estimate energy, export to Loihi.

    neurosim run NETWORK.toml [--out DIR] [--duration 0.5s] [--checkpoint-every 10min]
                 [--checkpoint PATH] [--resume]
    neurosim energy RESULTS.npz --hardware loihi,spinnaker2,cpu
    neurosim export loihi NETWORK.toml --out DIR
    neurosim hardware list | show NAME
    neurosim bench [--full]

``neurosim COMMAND --help`` explains each. User errors (a bad network file, a bad
parameter, a network too large for the memory, a missing file, Ctrl-C) print one line,
``neurosim: error: ...``, and exit non-zero (130 for Ctrl-C); anything else is a bug in
neurosim and prints its traceback followed by a line that says so (exit 70).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import traceback
import warnings

__all__ = ["main"]

KINDS = ("energy", "memristor", "chips")
DESCRIPTION = ("neurosim: simulate spiking networks described in TOML files, estimate their "
               "energy on published hardware figures, export them to Loihi (Lava), and list "
               "the hardware profiles behind every figure.")
EX_SOFTWARE = 70          # sysexits.h: internal software error


def _fail(msg, code=2):
    print(f"neurosim: error: {msg}", file=sys.stderr)
    return code


# ------------------------------------------------------------------------------------ run
def _plots(nf, out):
    """raster.png (one panel per population) and one trace_<pop>_<var>.png per state
    monitor, in ms and mV (neurosim.plot)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from . import plot
    files = []
    mons = list(nf.spike_monitors.values())
    if mons:
        fig = plot.raster_figure(mons, title=f"{os.path.basename(nf.path)}: spikes")
        files.append(os.path.join(out, "raster.png"))
        fig.savefig(files[-1], dpi=110)
        plt.close(fig)
    for (pop, var), m in nf.state_monitors.items():
        fig, ax = plt.subplots(figsize=(9, 3.5))
        plot.traces(m, ax=ax, title=f"{os.path.basename(nf.path)}: {pop}.{var}")
        fig.tight_layout()
        files.append(os.path.join(out, f"trace_{pop}_{var}.png"))
        fig.savefig(files[-1], dpi=110)
        plt.close(fig)
    return files


_WALL = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(s|sec|min|h)?\s*$")


def _wall_seconds(text):
    """'10s', '10 s', '5min', '2h' or a number of seconds, > 0."""
    m = _WALL.match(str(text))
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a wall-clock time > 0 such as '10s', "
                                         f"'5min' or '2h'; got {text!r}")
    return float(m.group(1)) * {None: 1, "s": 1, "sec": 1, "min": 60, "h": 3600}[m.group(2)]


def _toml(text):
    from .netfile import tomllib
    return tomllib.loads(text)


def _checkpoint_seed(path):
    """The seed a checkpoint was written with (for network files that give none)."""
    from .checkpoint import read_header
    return read_header(path)["network"]["seed"]


def cmd_run(args):
    from .netfile import load_network
    from .results import save_results
    ckpt = args.checkpoint or os.path.join(args.out, "checkpoint.npz")
    if args.resume and not os.path.isfile(ckpt):
        return _fail(f"--resume: no checkpoint {ckpt} to continue from (a run writes it "
                     "when stopped by Ctrl-C or SIGTERM, and with --checkpoint-every)")
    nf = load_network(args.network, duration=args.duration)
    if args.resume and "seed" not in _toml(nf.source).get("network", {}):
        # a file without a seed drew one: the checkpoint's (its synapses, its streams)
        nf = load_network(args.network, duration=args.duration, seed=_checkpoint_seed(ckpt))
    net = nf.net
    one = net.n_ranks == 1
    if not one and (args.resume or args.checkpoint or args.checkpoint_every):
        return _fail(f"checkpoints run in one process; this run is split over "
                     f"{net.n_ranks} MPI ranks (drop --checkpoint, --checkpoint-every and "
                     "--resume, or run without mpiexec)")
    os.makedirs(args.out, exist_ok=True)
    if args.resume:
        net.restore_checkpoint(ckpt)
        print(f"{ckpt}: continuing from t = {net.t:g} s")
    remaining = max(nf.duration - net._t_end, 0.0)
    stop = "Ctrl-C stops and keeps what was recorded" + (
        f", writing a checkpoint to {ckpt}" if one else "")
    print(f"{nf.path}: {sum(p.n for p in net.populations):,} neurons, "
          f"{sum(int(p.n_synapses) for p in net.projections):,} synapses; running "
          f"{remaining:g} s at dt {net.dt:g} s ({stop})")
    finished = net.run(remaining, progress=not args.quiet,
                       checkpoint=ckpt if one else None,
                       checkpoint_every=args.checkpoint_every)
    if finished and one and (args.checkpoint or args.checkpoint_every or args.resume):
        net.save_checkpoint(ckpt)          # --resume with a longer --duration continues it
    path = save_results(os.path.join(args.out, "results.npz"), net,
                        extra=dict(network_file=os.path.abspath(nf.path), source=nf.source),
                        interrupted=not finished)
    summary = dict(results=path, t=net.t, interrupted=not finished, populations={})
    for name, m in nf.spike_monitors.items():
        summary["populations"][name] = dict(
            n=m.pop.n, spikes=m.num_spikes,
            rate_hz=m.num_spikes / (m.pop.n * net.t) if net.t > 0 else 0.0)
    summary["figures"] = [] if args.no_plots else _plots(nf, args.out)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for name, s in summary["populations"].items():
        print(f"  {name}: {s['spikes']:,} spikes, {s['rate_hz']:.2f} Hz")
    print(f"results: {path}" + ("" if finished else " (interrupted: partial run)"))
    if not finished and one:
        print(f"checkpoint: {ckpt} (continue the run with the same command and --resume)")
    return 0 if finished else 130


# --------------------------------------------------------------------------------- energy
def cmd_energy(args):
    from . import energy
    from .results import load_results
    res = load_results(args.results)
    if res.meta.get("counts") is None:
        return _fail(f"{args.results}: the run recorded no steps; nothing to estimate")
    per = "run" if args.inferences is None else "inference"   # a run is not an inference
    rep = energy.estimate(res.counts, args.hardware, inferences=args.inferences or 1,
                          precision=args.precision, per=per)
    text = rep.to_markdown()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


# --------------------------------------------------------------------------------- export
def cmd_export(args):
    from . import loihi
    from .export import write_loihi_bundle
    from .netfile import load_network
    if os.path.exists(args.out) and not args.overwrite:
        return _fail(f"--out {args.out} exists: pass --overwrite to replace it, or choose "
                     "another folder")
    nf = load_network(args.network, duration=args.duration)
    net = nf.net
    steps = args.steps or int(round(nf.duration / net.dt))
    if steps < 1:
        return _fail("export needs at least one step: give [network] duration or --steps")
    fixed = net if net.fixed_point else loihi.quantize(net, vth=args.vth).net
    if any(p.kind == "poisson" for p in fixed.populations):
        fixed = loihi.freeze_inputs(fixed, steps)
        print("Poisson sources replaced by the spikes they draw (Lava has no Poisson source)")
    for (pop, var), _ in nf.state_monitors.items():
        if var in ("u", "v"):
            fixed.state_monitor(fixed.population(pop), var)
    out = write_loihi_bundle(fixed, args.out, steps, overwrite=args.overwrite)
    print(f"Loihi bundle for {steps} steps: {out}")
    return 0


# ------------------------------------------------------------------------------- hardware
def cmd_hardware(args):
    from . import hardware
    if args.action == "list":
        for kind in ([args.kind] if args.kind else KINDS):
            print(f"{kind}:")
            for name in hardware.list_profiles(kind):
                data = hardware.load_profile(kind, name)
                head = next((data[t] for t in ("profile", "device", "chip") if t in data), {})
                print(f"  {name:24s} {head.get('name', '')}")
        return 0
    if not args.name:
        return _fail("hardware show needs a profile NAME (see 'neurosim hardware list')")
    kinds = [args.kind] if args.kind else KINDS
    if args.name.endswith(".toml") and os.path.isfile(args.name):
        folder = os.path.basename(os.path.dirname(os.path.abspath(args.name)))
        found = [(folder if folder in kinds else kinds[0], args.name)]
    else:
        found = hardware.find_profiles(args.name, kinds)
    if len(found) > 1:
        return _fail(f"profile name {args.name!r} is ambiguous: it matches "
                     + ", ".join(f"{name} ({kind})" for kind, name in found)
                     + ("; choose one with --kind " + " or --kind ".join(k for k, _ in found)
                        if len({n for _, n in found}) == 1 else "; give more of the name"))
    if not found:
        near = hardware.find_profiles(args.name, kinds, substring=True)
        hint = ("; did you mean " + ", ".join(n for _, n in near) + "?" if near else
                "; 'neurosim hardware list' shows them all")
        return _fail(f"no profile named {args.name!r}{hint}")
    kind, name = found[0]
    data = hardware.load_profile(kind, name)
    print(f"# {kind} profile {name}: {data['_file']}\n")
    with open(data["_file"]) as f:
        print(f.read())
    return 0


# ---------------------------------------------------------------------------------- bench
def _bench_dir():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folder = os.path.join(here, "benchmarks")
    return folder if os.path.isfile(os.path.join(folder, "run_suite.py")) else None


def cmd_bench(args):
    folder = _bench_dir()
    if folder is None:
        return _fail("neurosim bench runs the scripts in the repository's benchmarks/ "
                     "folder, which this installation does not have: clone the repository "
                     "and install it with 'pip install -e .'")
    out = args.out
    quick = [] if args.full else ["--quick"]
    steps = [("CUBA: neurosim vs Brian2 and NEST", "run_suite.py", "results.md"),
             ("crossbar synapses vs ideal synapses", "crossbar.py", "crossbar_results.md")]
    for title, script, table in steps:
        print(f"== {title} ({script} {' '.join(quick)})", flush=True)
        rc = subprocess.call([sys.executable, os.path.join(folder, script), *quick,
                              "--out", out])
        if rc != 0:
            return _fail(f"{script} failed (exit {rc})", rc)
        path = os.path.join(out, table)
        if os.path.isfile(path):
            with open(path) as f:
                print(f.read())
    return 0


# ----------------------------------------------------------------------------------- main
def _parser():
    ap = argparse.ArgumentParser(prog="neurosim", description=DESCRIPTION,
                                 epilog="'neurosim COMMAND --help' explains each command.")
    from . import __version__
    ap.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", help="simulate a network file; write results and plots",
                       description="Build the network of a TOML file (format: "
                       "neurosim.netfile; examples/networks/*.toml), run it with a progress "
                       "bar and write DIR/results.npz (spikes, traces, counters, parameters; "
                       "read with neurosim.load_results), DIR/summary.json and PNG plots "
                       "(raster.png, trace_*.png). Ctrl-C or SIGTERM stops at the next chunk, "
                       "keeps what was recorded and writes a checkpoint that --resume "
                       "continues. Errors in the file name the file and the entry "
                       "before anything runs.")
    p.add_argument("network", help="network file (.toml)")
    p.add_argument("--out", default="out/run", help="output folder (default: out/run)")
    p.add_argument("--duration", help="override [network] duration, e.g. '0.5 s' or 0.5")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--checkpoint", metavar="PATH", help="checkpoint file (default: "
                   "OUT/checkpoint.npz): written when Ctrl-C or SIGTERM stops the run, every "
                   "--checkpoint-every, and at the end when one of these options is given")
    p.add_argument("--checkpoint-every", type=_wall_seconds, metavar="TIME",
                   help="write the checkpoint every TIME of wall-clock time, e.g. 10min "
                   "(at the next chunk boundary)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in the "
                   "checkpoint (same network file) up to the duration; results hold the "
                   "whole run")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("energy", help="energy of a run on hardware profiles",
                       description="Energy of the run in a results file on one or several "
                       "hardware profiles ('neurosim hardware list'), from the run's exact "
                       "operation counts, with every figure's source and assumption "
                       "(neurosim.energy.estimate): per run and per simulated second, or per "
                       "inference with --inferences. Parts a profile has no figure for read "
                       "'not charged'.")
    p.add_argument("results", help="results file written by 'neurosim run' (.npz)")
    p.add_argument("--hardware", default="loihi,loihi2,spinnaker2,truenorth,digital45",
                   help="comma-separated energy profiles (default: %(default)s)")
    p.add_argument("--inferences", type=int, help="the run is N inferences: report energy "
                   "per inference (default: the run is not an inference; energy per run and "
                   "per simulated second)")
    p.add_argument("--precision", default="fp32", choices=("fp32", "fp16", "int32", "int8"),
                   help="arithmetic of the digital45 model (default fp32)")
    p.add_argument("--out", help="also write the table to this markdown file")
    p.set_defaults(func=cmd_energy)

    p = sub.add_parser("export", help="export a network to a platform (loihi)",
                       description="Quantize a network file to Loihi fixed point "
                       "(neurosim.loihi.quantize), replace Poisson sources by the spikes they "
                       "draw, and write a Lava bundle (manifest, arrays, run_lava.py, the "
                       "neurosim reference spikes) to run with Lava's CPU simulator or on "
                       "Loihi 2 at Intel's neuromorphic research cloud.")
    p.add_argument("platform", choices=("loihi",), help="target platform")
    p.add_argument("network", help="network file (.toml)")
    p.add_argument("--out", required=True, help="bundle folder")
    p.add_argument("--steps", type=int, help="steps to run (default: duration / dt)")
    p.add_argument("--duration", help="override [network] duration")
    p.add_argument("--vth", type=int, default=2**14, help="threshold mantissa (default 2**14)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing bundle")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("hardware", help="list or show the hardware profiles",
                       description="The hardware facts neurosim uses, as data with sources: "
                       "energy profiles, memristor devices and Loihi chips (hardware/).")
    p.add_argument("action", choices=("list", "show"))
    p.add_argument("name", nargs="?", help="profile to show (a unique prefix works)")
    p.add_argument("--kind", choices=KINDS, help="only this kind of profile")
    p.set_defaults(func=cmd_hardware)

    p = sub.add_parser("bench", help="run the benchmarks (quick) and print the tables",
                       description="Run benchmarks/run_suite.py (CUBA against Brian2 and "
                       "NEST) and benchmarks/crossbar.py in quick mode (a few minutes) and "
                       "print their tables; --full runs the documented full sizes.")
    p.add_argument("--full", action="store_true", help="full sizes (long)")
    p.add_argument("--out", default="out/bench", help="where the tables go")
    p.set_defaults(func=cmd_bench)
    return ap


def _user_errors():
    """Exception classes that are the user's to fix: one line, no traceback."""
    from .energy.profiles import HardwareProfileError
    from .netfile import NetworkFileError
    from .network import NetworkError
    from .validation import ParameterError
    return (NetworkFileError, ParameterError, HardwareProfileError, NetworkError,
            OSError, ValueError)


def _memory_message(e):
    """One line for a MemoryError: neurosim's own estimate, or numpy's failed allocation."""
    text = str(e).strip()
    if type(e).__name__ == "InsufficientMemoryError" and text:
        return text                                   # the network's estimate, already worded
    return ("out of memory" + (f": {text}" if text else "") + "; the network (or a "
            "recording) is too large for this machine: use fewer neurons or synapses, "
            "dtype = \"float32\", or a shorter run / fewer recorded values")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line each, as the errors are (no source line of neurosim's code)."""
    print(f"neurosim: warning: {message}", file=sys.stderr if file is None else file)


def main(argv=None):
    import signal
    if hasattr(signal, "SIGPIPE"):            # `neurosim hardware list | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = _parser().parse_args(argv)
    with warnings.catch_warnings():           # restores the caller's warning display
        warnings.showwarning = _show_warning
        return _run(args)


def _run(args):
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("\nneurosim: interrupted (Ctrl-C); nothing more was written", file=sys.stderr)
        return 130
    except MemoryError as e:                  # numpy's _ArrayMemoryError included
        return _fail(_memory_message(e), 1)
    except _user_errors() as e:
        if isinstance(e, OSError) and e.filename is not None and e.strerror:
            return _fail(f"{e.filename}: {e.strerror}")
        return _fail(str(e))
    except Exception:                         # a bug in neurosim, not the user's input
        traceback.print_exc()
        print("neurosim: internal error: this is a bug in neurosim, not in your input; "
              "please report it with the traceback above", file=sys.stderr)
        return EX_SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
