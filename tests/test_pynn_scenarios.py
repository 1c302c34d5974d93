"""PyNN 0.13's own system-test scenarios, run against neurosim.pynn.

PyNN ships these scenarios only in its source distribution (``test/system/scenarios`` in
pynn-0.13.0.tar.gz). ``make test``'s set-up downloads it with pip and unpacks it to
``.venv/pynn-src``; this module finds the scenarios there (or under ``<sys.prefix>/pynn-src``,
or at the path in ``NEUROSIM_PYNN_SCENARIOS``) and skips, with the reason, when they are
absent. .ci/run's Python 3.11 pass runs in the same checkout after ``make test``, so it finds
the same ``.venv/pynn-src``.

How the scenarios run unchanged:

* each is ``@run_with_simulators("nest", "neuron", "brian2")`` from the package's
  ``fixtures.py``, which imports ``pyNN.<name>`` lazily. The package is loaded under a private
  name (``_pynn_scenarios``; the sdist's top-level ``test`` package would clash with the
  standard library's ``test``), and ``run_with_simulators`` is replaced, before the scenario
  modules import it, by one that parametrizes with ``neurosim`` only, whatever simulators the
  scenario lists (the table below keeps the upstream list for reference);
* ``sys.modules["pyNN.neurosim"]`` is neurosim.pynn, so ``pyNN.utility.get_simulator`` and
  the scenarios' ``import pyNN.<name>`` find it;
* every ``test_*`` function of every ``test_*.py`` is imported into this module as
  ``<file>__<function>`` (pytest collects functions imported into a test module), and runs
  unless it is in :data:`SKIP` with its reason; a failing scenario fails here;
* each runs in its own temporary directory (some write files into the working directory)
  and the logging configuration that some scenarios change (``init_logging(debug=True)``) is
  restored afterwards.

``NEUROSIM_PYNN_BACKEND=pyNN.mock`` runs the harness against PyNN's mock backend (how it was
developed before neurosim.pynn existed). If importing the backend fails, every scenario
skips with the import error.

``python tests/test_pynn_scenarios.py --list`` prints the markdown table of scenarios (runs /
skipped and why); ``--list --results`` runs them first and adds each outcome and duration.
"""

import ast
import glob
import importlib
import importlib.util
import logging
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYNN_VERSION = "0.13.0"
BACKEND = os.environ.get("NEUROSIM_PYNN_BACKEND", "neurosim.pynn")
SIM_NAME = "neurosim"
PACKAGE = "_pynn_scenarios"

# Scenarios that do not run, with the reason. ``needs`` names the PyNN classes whose absence
# from neurosim.pynn (missing, or a stub raising NotImplementedError) is the reason;
# test_skip_table_is_current fails when the backend gains one of them, so that the skip is
# removed. Entries without ``needs`` give a reason that no attribute check can express.
SKIP = {
    "test_cell_types.py::test_EIF_cond_alpha_isfa_ista": dict(
        needs=["EIF_cond_alpha_isfa_ista"],
        reason="adaptive exponential integrate-and-fire (AdEx) cell: neurosim has no "
               "exponential spike-initiation term"),
    "test_cell_types.py::test_HH_cond_exp": dict(
        needs=["HH_cond_exp"],
        reason="Hodgkin-Huxley cell: neurosim has no ion channels"),
    "test_cell_types.py::test_SpikeSourceGamma": dict(
        needs=["SpikeSourceGamma"],
        reason="gamma-process spike source: neurosim's sources are spike arrays and Poisson "
               "trains"),
    "test_cell_types.py::test_SpikeSourcePoissonRefractory": dict(
        needs=["SpikeSourcePoissonRefractory"],
        reason="Poisson source with dead time: neurosim's Poisson sources have none"),
    "test_cell_types.py::test_composed_neuron_model_homogeneous_receptors": dict(
        needs=["PointNeuron", "AdExp"],
        reason="composed point neurons (PointNeuron with AdExp and several named receptor "
               "types, AlphaPSR conductances): neurosim has one excitatory and one "
               "inhibitory synapse per cell, no AdEx"),
    "test_recording.py::test_issue259": dict(
        reason="off-grid spike times (spike_precision='off_grid'): expects a "
               "SpikeSourceArray's 0.075 ms at dt = 0.05 ms recorded exactly (rtol 1e-17); "
               "neurosim's spikes are on the dt grid (upstream: NEST and NEURON only)"),
    "test_recording.py::test_record_vm_and_gsyn_from_assembly": dict(
        needs=["EIF_cond_exp_isfa_ista"],
        reason="the assembly includes an EIF_cond_exp_isfa_ista (AdEx) population"),
    "test_scenario1.py::test_scenario1a": dict(
        needs=["IF_cond_alpha"],
        reason="IF_cond_alpha: neurosim's conductance synapses are exponential (IF_cond_exp "
               "runs in test_scenario1)"),
    "test_scenario4.py::test_scenario4": dict(
        needs=["EIF_cond_exp_isfa_ista"],
        reason="spatial network of EIF_cond_exp_isfa_ista (AdEx) cells"),
    "test_scenario5.py::test_scenario5": dict(
        needs=["MultiCompartmentNeuron"],
        reason="multi-compartment neurons with morphologies and ion channels (upstream: "
               "Arbor and NEURON only)"),
    "test_synapse_types.py::test_simple_stochastic_synapse": dict(
        needs=["SimpleStochasticSynapse"],
        reason="stochastic (probabilistic release) synapse: neurosim's synapses transmit "
               "every spike"),
}


# ----------------------------------------------------------------------------- inventory

def find_scenarios():
    """(directory of the scenarios package or None, where it was looked for)."""
    env = os.environ.get("NEUROSIM_PYNN_SCENARIOS")
    if env:
        p = Path(env)
        return (p if (p / "fixtures.py").is_file() else None), f"NEUROSIM_PYNN_SCENARIOS={env}"
    places = [ROOT / ".venv" / "pynn-src", Path(sys.prefix) / "pynn-src"]
    for base in places:
        for d in sorted(glob.glob(str(base / f"*{PYNN_VERSION}" / "test" / "system" /
                                      "scenarios"))):
            if (Path(d) / "fixtures.py").is_file():
                return Path(d), d
    return None, " or ".join(str(b / f"pynn-{PYNN_VERSION}" / "test/system/scenarios")
                             for b in places)


def inventory(directory):
    """[(file, function, upstream simulators)] of every test function, in file order, read
    from the sources (no import)."""
    rows = []
    for path in sorted(Path(directory).glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                sims = []
                for dec in node.decorator_list:
                    if (isinstance(dec, ast.Call) and getattr(dec.func, "id", "") ==
                            "run_with_simulators"):
                        sims = [a.value for a in dec.args if isinstance(a, ast.Constant)]
                rows.append((path.name, node.name, sims))
    return rows


def key(file, function):
    return f"{file}::{function}"


def exported_name(file, function):
    return f"{Path(file).stem}__{function}"


# ------------------------------------------------------------------------------- backend

_backend = {}


def load_backend():
    """The backend module (registered as pyNN.neurosim), or pytest.skip with the reason."""
    if "module" not in _backend and "error" not in _backend:
        try:
            module = importlib.import_module(BACKEND)
        except Exception as e:  # any failure of the backend's import is the skip reason
            _backend["error"] = f"import {BACKEND} failed: {type(e).__name__}: {e}"
        else:
            _backend["module"] = module
            sys.modules.setdefault(f"pyNN.{SIM_NAME}", module)
    if "error" in _backend:
        pytest.skip(_backend["error"])
    return _backend["module"]


class LazyBackend:
    """What the scenarios get as ``sim``: neurosim.pynn, imported at first use."""

    __name__ = f"pyNN.{SIM_NAME}"

    def __str__(self):
        return f"pyNN.{SIM_NAME}"

    __repr__ = __str__

    def __getattr__(self, name):
        return getattr(load_backend(), name)


def _run_with_simulators(*sim_names):
    """Replaces fixtures.run_with_simulators: neurosim only, whatever the scenario lists."""
    return pytest.mark.parametrize("sim", [pytest.param(LazyBackend(), id=SIM_NAME)])


def load_scenarios(directory):
    """Import the scenarios package as PACKAGE; {(file, function): function object}."""
    directory = Path(directory)
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, directory / "__init__.py", submodule_search_locations=[str(directory)])
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
        fixtures = importlib.import_module(f"{PACKAGE}.fixtures")
        fixtures.run_with_simulators = _run_with_simulators
    found = {}
    for path in sorted(directory.glob("test_*.py")):
        module = importlib.import_module(f"{PACKAGE}.{path.stem}")
        for name, obj in vars(module).items():
            if (name.startswith("test") and callable(obj) and
                    getattr(obj, "__module__", None) == module.__name__):
                found[(path.name, name)] = obj
    return found


# ------------------------------------------------------------------------ pytest exposure

SCENARIOS_DIR, SCENARIOS_WHERE = find_scenarios()

if __name__ != "__main__":
    if SCENARIOS_DIR is None:
        pytest.skip(f"PyNN {PYNN_VERSION} scenarios not found at {SCENARIOS_WHERE}: run "
                    "`make test` (its set-up downloads the PyNN sdist into .venv/pynn-src) or "
                    "set NEUROSIM_PYNN_SCENARIOS", allow_module_level=True)
    pytest.importorskip("pyNN", reason="PyNN is not installed (the pynn/dev extra)")
    os.environ.setdefault("MPLBACKEND", "Agg")
    _FUNCTIONS = load_scenarios(SCENARIOS_DIR)
    for (_file, _name), _func in _FUNCTIONS.items():
        _skip = SKIP.get(key(_file, _name))
        if _skip is not None:
            _func = pytest.mark.skip(reason=f"{key(_file, _name)}: {_skip['reason']}")(_func)
        globals()[exported_name(_file, _name)] = _func
    del _file, _name, _func, _skip


@pytest.fixture(autouse=True)
def _scenario_sandbox(tmp_path, monkeypatch):
    """Each scenario in its own working directory; the root logger restored afterwards."""
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def test_every_scenario_is_exposed():
    """Every test function of the sdist's scenario files is collected here (or skipped by the
    table), and every skip-table entry names an existing scenario."""
    rows = inventory(SCENARIOS_DIR)
    names = {key(f, fn) for f, fn, _ in rows}
    assert len(rows) == len(names) > 0
    assert set(SKIP) <= names, sorted(set(SKIP) - names)
    for f, fn, _ in rows:
        assert exported_name(f, fn) in globals(), key(f, fn)


def _unavailable(module, name):
    cls = getattr(module, name, None)
    if cls is None:
        return True
    try:
        cls()
    except NotImplementedError:
        return True
    except Exception:  # available, but wants arguments: not the stub
        return False
    return False


def test_skip_table_is_current():
    """A scenario skipped for a missing model runs once neurosim.pynn provides the model."""
    if BACKEND != "neurosim.pynn":
        pytest.skip(f"skip table is checked against neurosim.pynn, not {BACKEND}")
    module = load_backend()
    provided = [(k, [n for n in v["needs"] if not _unavailable(module, n)])
                for k, v in SKIP.items() if v.get("needs")]
    stale = [(k, names) for k, names in provided
             if names and len(names) == len(SKIP[k]["needs"])]
    assert not stale, f"neurosim.pynn now provides these; remove the skips: {stale}"


# ------------------------------------------------------------------------------ listing

def markdown_table(results=None):
    """The scenarios as a markdown table; ``results`` {key: (outcome, seconds)} adds them."""
    if SCENARIOS_DIR is None:
        return f"PyNN {PYNN_VERSION} scenarios not found at {SCENARIOS_WHERE}"
    rows = inventory(SCENARIOS_DIR)
    head = "| scenario | upstream simulators | neurosim.pynn |"
    sep = "|---|---|---|"
    if results is not None:
        head += " outcome | s |"
        sep += "---|---|"
    lines = [head, sep]
    n_skip = 0
    for f, fn, sims in rows:
        k = key(f, fn)
        if k in SKIP:
            n_skip += 1
            status = "skipped: " + SKIP[k]["reason"]
        else:
            status = "runs"
        line = f"| `{Path(f).stem}::{fn}` | {', '.join(sims)} | {status} |"
        if results is not None:
            outcome, secs = results.get(k, ("not run", None))
            line += f" {outcome} | {'' if secs is None else f'{secs:.1f}'} |"
        lines.append(line)
    lines.append("")
    summary = (f"{len(rows)} scenarios from PyNN {PYNN_VERSION}'s test/system/scenarios: "
               f"{len(rows) - n_skip} run, {n_skip} skipped")
    if results is not None:
        outcomes = [results.get(key(f, fn), ("not run", None))[0] for f, fn, _ in rows]
        n_pass = sum(o == "passed" for o in outcomes)
        n_fail = sum(o.startswith("FAILED") for o in outcomes)
        summary += f"; of those run, {n_pass} passed and {n_fail} failed"
    lines.append(summary + ".")
    return "\n".join(lines)


def _run_for_results():
    """Run this module under pytest in a subprocess; {key: (outcome, seconds)}."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--junitxml={report}", str(Path(__file__).resolve())], cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import xml.etree.ElementTree as ET
        keys = {exported_name(f, fn): key(f, fn) for f, fn, _ in inventory(SCENARIOS_DIR)}
        out = {}
        for case in ET.parse(report).iter("testcase"):
            name = case.get("name").split("[")[0]
            if name not in keys:
                continue
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error"):
                    msg = (child.get("message") or "").splitlines() or [""]
                    outcome = "FAILED: " + msg[0][:120]
                elif child.tag == "skipped":
                    outcome = "skipped"
            out[keys[name]] = (outcome.replace("|", "\\|"), float(case.get("time")))
        return out


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the markdown table")
    parser.add_argument("--results", action="store_true",
                        help="run the scenarios first and add outcome and duration")
    a = parser.parse_args()
    print(markdown_table(_run_for_results() if a.results else None))
