"""Fuzzing the file parsers (issue 23, part 3): network files, results files, hardware
profiles and NIR graphs. Every input either loads or raises the parser's own error class
with a message naming the file; nothing is unpickled and no file is left behind.

The mutators are those of benchmarks/fuzz.py (which runs 100,000 inputs per parser); here a
few hundred seeded inputs per parser, hypothesis-generated values in each file format, and
one regression test per kind of crash the fuzzers found (each failed before its fix).
"""

import json
import os
import subprocess
import sys
import re
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim import hardware
from neurosim.hardware import HardwareProfileError
from neurosim.netfile import NetworkFileError, load_network
from neurosim.results import ResultsFileError, load_results
from neurosim.validation import InsufficientMemoryError

from conftest import load_script

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
fuzz = load_script("benchmarks", "fuzz")

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _memory_limit(monkeypatch):
    """What the memory checks may hand out (an input asking for more is refused)."""
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", fuzz.MEMORY_LIMIT)


@pytest.fixture(scope="module")
def fuzzers(tmp_path_factory):
    out = {}
    for p in fuzz.PARSERS:
        old = os.environ.get("NEUROSIM_MEMORY_LIMIT")
        os.environ["NEUROSIM_MEMORY_LIMIT"] = fuzz.MEMORY_LIMIT
        try:
            out[p] = fuzz.Fuzzer(p, str(tmp_path_factory.mktemp(p)))
        finally:
            if old is None:
                del os.environ["NEUROSIM_MEMORY_LIMIT"]
            else:
                os.environ["NEUROSIM_MEMORY_LIMIT"] = old
    return out


# ------------------------------------------------------------------ seeded mutations
@pytest.mark.parametrize("parser,n", [("netfile", 400), ("results", 300), ("hardware", 400),
                                      ("nir", 120), ("checkpoint", 300)])
def test_seeded_mutations_load_or_are_refused(fuzzers, parser, n):
    fz = fuzzers[parser]
    seen = {"accepted": 0, "refused": 0}
    for i in range(n):
        outcome, detail = fz.case(fuzz.case_rng([7, fuzz.PARSERS.index(parser), 0, i]))
        assert outcome != "crash", f"input {i}: {detail}"
        seen[outcome] += 1
    assert seen["refused"] > 0 and seen["accepted"] > 0


def test_the_seed_files_load(fuzzers, tmp_path):
    """Unmutated, every seed loads: the mutations start from valid files."""
    fz = fuzzers["netfile"]
    for name, doc in fz.seeds:
        path = os.path.join(fz.folder, "seed-" + name)
        with open(path, "w") as f:
            f.write(fuzz.toml_dumps(doc))
        assert fz.attempt(path, load_network) == ("accepted", None)
        os.unlink(path)


# ------------------------------------------------------------------ hypothesis
TOML_SCALARS = (st.integers(min_value=-2**63, max_value=2**63 - 1)
                | st.floats(allow_nan=True, allow_infinity=True) | st.booleans()
                | st.sampled_from(fuzz.STRINGS) | st.text(max_size=8) | st.dates())
TOML_VALUES = st.recursive(
    TOML_SCALARS, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(fuzz.KEYS), inner, max_size=3), max_leaves=8)
JSON_VALUES = st.recursive(
    st.none() | st.integers(min_value=-2**70, max_value=2**70) | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(fuzz.STRINGS),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(fuzz.KEYS), inner, max_size=3), max_leaves=8)


def _inject(data, doc, values):
    """``doc`` with one value (chosen by hypothesis) replaced by a hypothesis value."""
    doc = fuzz.json_copy(doc)
    conts = fuzz._containers(doc)
    _, c = conts[data.draw(st.integers(0, len(conts) - 1), label="container")]
    keys = list(c) if isinstance(c, dict) else list(range(len(c)))
    if keys and data.draw(st.booleans(), label="replace"):
        c[data.draw(st.sampled_from(keys), label="key")] = data.draw(values, label="value")
    elif isinstance(c, dict):
        c[data.draw(st.sampled_from(fuzz.KEYS), label="new key")] = data.draw(values)
    else:
        c.append(data.draw(values, label="item"))
    return doc


@SETTINGS
@given(data=st.data())
def test_hypothesis_network_files(fuzzers, data):
    fz = fuzzers["netfile"]
    name, doc = data.draw(st.sampled_from(fz.seeds), label="seed")
    path = os.path.join(fz.folder, "hyp.toml")
    with open(path, "w") as f:
        f.write(fuzz.toml_dumps(_inject(data, doc, TOML_VALUES)))
    outcome, detail = fz.attempt(path, load_network)
    assert outcome != "crash", detail


@SETTINGS
@given(data=st.data())
def test_hypothesis_hardware_profiles(fuzzers, data):
    fz = fuzzers["hardware"]
    kind, name, doc = data.draw(st.sampled_from(fz.seeds), label="seed")
    path = os.path.join(fz.profiles, kind, name + ".toml")
    with open(path, "w") as f:
        f.write(fuzz.toml_dumps(_inject(data, doc, TOML_VALUES)))
    try:
        outcome, detail = fz.attempt(path, lambda p: hardware.load(name, kind,
                                                                   path=fz.profiles))
    finally:
        os.unlink(path)
    assert outcome != "crash", detail


@SETTINGS
@given(data=st.data())
def test_hypothesis_results_meta(fuzzers, data):
    fz = fuzzers["results"]
    arrays = dict(data.draw(st.sampled_from(fz.seeds), label="seed"))
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json.dumps(_inject(data, meta, JSON_VALUES)))
    path = os.path.join(fz.folder, "hyp.npz")
    np.savez(path, **arrays)
    outcome, detail = fz.attempt(path, lambda p: load_results(p).counts
                                 if load_results(p).meta.get("counts") else None)
    assert outcome != "crash", detail


# ------------------------------------------------------------------ nothing is unpickled
def test_results_with_pickled_objects_are_refused_unopened(tmp_path, results_arrays):
    marker = tmp_path / "MARKER"
    path = str(tmp_path / "evil.npz")
    fuzz.pickled_npz(path, str(marker), key="meta")
    with pytest.raises(ResultsFileError, match=re.escape(path) + ".*'meta'.*never unpickles"):
        load_results(path)
    fuzz.pickled_npz(path, str(marker), key="spikes/a/steps", meta=results_arrays["meta"],
                     **{"spikes/a/indices": np.zeros(1, np.int64)})
    with pytest.raises(ResultsFileError, match="never unpickles"):
        load_results(path)
    assert not marker.exists()
    np.load(path, allow_pickle=True)["spikes/a/steps"]      # the file would run code
    assert marker.exists()


def test_network_file_side_data_with_pickled_objects_is_refused(tmp_path):
    marker = tmp_path / "MARKER"
    fuzz.pickled_npz(str(tmp_path / "w.npz"), str(marker), key="W")
    path = tmp_path / "net.toml"
    path.write_text(SMALL + '[[connections]]\npre = "a"\npost = "a"\n'
                    'weight = {file = "w.npz", key = "W"}\n')
    with pytest.raises(NetworkFileError, match=r"\[\[connections\]\] #1 weight: cannot read 'W'.*allow_pickle"):
        load_network(path)
    assert not marker.exists()


def test_no_reader_in_the_package_can_unpickle_or_evaluate():
    """Every np.load of the package passes allow_pickle=False (or is text of a script it
    writes); nothing calls pickle.load(s), eval or exec."""
    pattern = re.compile(r"pickle\.loads?\(|\beval\(|\bexec\(|allow_pickle=True")
    for folder, _, files in os.walk(os.path.join(ROOT, "neurosim")):
        for f in files:
            if not f.endswith(".py"):
                continue
            path = os.path.join(folder, f)
            with open(path) as fh:
                text = fh.read()
            assert not pattern.search(text), path
            for m in re.finditer(r"np\.load\((.*)", text):
                line = m.group(1)
                generated = "export" + os.sep + "lava.py" in path    # the script it writes
                assert "allow_pickle=False" in line or generated, f"{path}: np.load({line}"


# ------------------------------------------------------------------ regressions: netfile
SMALL = ('[populations.a]\nmodel = "lif"\nn = 3\ntau_m = "10 ms"\nv_rest = "-65 mV"\n'
         'v_th = "-50 mV"\nv_reset = "-65 mV"\ntau_syn = "5 ms"\n')


def _netfile(tmp_path, text):
    path = tmp_path / "net.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text,message", [
    ("network = 5\n" + SMALL, r"\[network\]: must be a table, got 5"),
    ('populations = {a = {model = ["lif"], n = 3}}\n', r"\[populations.a\] model: one of"),
    ('[populations.a]\nmodel = {x = 1}\nn = 3\n', r"\[populations.a\] model: one of"),
    (SMALL.replace("n = 3", "n = -5")
     + 'v_init = {uniform = ["-60 mV", "-50 mV"]}\n', r"\[populations.a\]: n must be in \[1"),
    (SMALL
     + 'v_init = {uniform = ["-50 mV", "-60 mV"]}\n', r"v_init: uniform = \[low, high\] needs"),
    (SMALL
     + 'v_init = {uniform = [-1e308, 1e308]}\n', r"v_init: uniform = \[low, high\] needs"),
    (SMALL
     + 'v_init = {normal = ["-60 mV", "-1 mV"]}\n', r"v_init: normal = \[mean, sd\] needs"),
    ('[populations.s]\nmodel = "spike_source"\nn = 3\ntimes = [0.001, 0.002]\n'
     'indices = [[0], [1, 2]]\n', r"\[populations.s\] indices: nested lists of unequal"),
    ('[populations.s]\nmodel = "spike_source"\nn = 3\ntimes = [0.001]\n'
     'indices = [{a = 1}]\n', r"\[populations.s\] indices: a list of numbers, got an item"),
    ("connections = [5]\n" + SMALL, r"\[\[connections\]\] #1: must be a table, got 5"),
    ("connections = 5\n" + SMALL, r"\[\[connections\]\]: must be an array of tables"),
    (SMALL + '[[connections]]\npre = "a"\npost = "a"\nweight = 1e-3\n'
     'plasticity = {rule = ["stdp"]}\n', r"#1 plasticity: must be a table with rule"),
    ("monitors = [1, 2]\n" + SMALL, r"\[monitors\]: must be a table"),
    (SMALL + "[monitors]\nstate = 5\n", r"\[monitors\] state: an array of tables, got 5"),
])
def test_malformed_network_files_name_the_entry(tmp_path, text, message):
    path = _netfile(tmp_path, text)
    with pytest.raises(NetworkFileError, match=re.escape(path) + ".*" + message):
        load_network(path)


def test_an_sd_of_minus_zero_is_zero(tmp_path):
    path = _netfile(tmp_path, SMALL + 'v_init = {normal = ["-60 mV", -0.0]}\n')
    pop = load_network(path).net.populations[0]
    assert np.all(np.asarray(pop.spec.v_init) == -0.06)


def test_random_values_too_many_for_memory_are_refused_before_drawing(tmp_path):
    path = _netfile(tmp_path, SMALL.replace("n = 3", "n = 9007199254740992")
                    + 'v_init = {uniform = ["-60 mV", "-50 mV"]}\n')
    with pytest.raises(InsufficientMemoryError, match=re.escape(path) + r".*v_init: "
                       r"9007199254740992 random values needs about"):
        load_network(path)


# ------------------------------------------------------------------ regressions: results
@pytest.fixture(scope="module")
def results_arrays(fuzzers):
    return dict(fuzzers["results"].seeds[0])


def _results(tmp_path, arrays, **changes):
    arrays = dict(arrays, **changes)
    for k in [k for k, v in changes.items() if v is None]:
        del arrays[k]
    path = str(tmp_path / "r.npz")
    np.savez(path, **arrays)
    return path


def _meta(arrays, **fields):
    meta = json.loads(str(arrays["meta"]))
    meta.update(fields)
    return np.array(json.dumps(meta))


@pytest.mark.parametrize("change,message", [
    (lambda a: dict(meta=np.array("[1, 2]")), r"'meta': must be a JSON object; got list"),
    (lambda a: dict(meta=np.array("{nope")), r"'meta': not valid JSON"),
    (lambda a: dict(meta=np.array([1.0, 2.0])), r"'meta': must be one JSON string"),
    (lambda a: dict(meta=_meta(a, format_version="2")), r"'format_version': must be int"),
    (lambda a: dict(meta=_meta(a, dt=-1e-3)), r"'dt': must be a finite number > 0"),
    (lambda a: dict(meta=_meta(a, dt=10**400)), r"'dt': must be a finite number > 0"),
    (lambda a: dict(meta=_meta(a, network=None)), r"'network': must be dict"),
    (lambda a: dict(meta=_meta(a, counts={"dt": 1})), r"'counts': not the counts of a run"),
    (lambda a: {"param/hid": np.zeros(3)}, r"entry 'param/hid' is not an entry"),
    (lambda a: {"spikes/hid/steps": None}, r"entry 'spikes/hid/steps' is missing"),
    (lambda a: {"spikes/hid/steps": np.array(["a"])}, r"'spikes/hid/steps': must be a 1-d "
                                                       r"array of integers >= 0; got dtype <U1"),
    (lambda a: {"spikes/hid/steps": np.append(a["spikes/hid/steps"], 1)},
     r"must have one length"),
    (lambda a: {"state/hid/v/values": a["state/hid/v/values"][:, :1]},
     r"'state/hid/v/values': must have shape \(steps, indices\)"),
])
def test_malformed_results_files_name_the_entry(tmp_path, results_arrays, change, message):
    path = _results(tmp_path, results_arrays, **change(results_arrays))
    with pytest.raises(ResultsFileError, match=re.escape(path) + ".*" + message):
        load_results(path)


def test_damaged_results_files_are_refused(tmp_path, results_arrays):
    good = _results(tmp_path, results_arrays)
    raw = open(good, "rb").read()
    np.save(str(tmp_path / "one.npy"), np.zeros(3))
    with pytest.raises(ResultsFileError, match="a single .npy array"):
        load_results(tmp_path / "one.npy")
    bad = tmp_path / "cut.npz"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ResultsFileError, match=re.escape(str(bad))):
        load_results(bad)
    with zipfile.ZipFile(good) as z:                       # a member's data damaged
        info = z.getinfo("spikes/hid/steps.npy")
    data = bytearray(raw)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start:start + info.compress_size] = b"\0" * info.compress_size
    bad.write_bytes(bytes(data))
    with pytest.raises(ResultsFileError, match=re.escape(str(bad)) + ".*spikes/hid/steps"):
        load_results(bad)


# ------------------------------------------------------------------ regressions: hardware
def _profile(tmp_path, kind, name, edit=None, raw=None):
    src = os.path.join(ROOT, "hardware", kind, name + ".toml")
    folder = tmp_path / kind
    folder.mkdir(exist_ok=True)
    text = open(src, "rb").read()
    if edit is not None:
        doc = fuzz._toml_loads(text.decode())
        edit(doc)
        text = fuzz.toml_dumps(doc).encode()
    (folder / (name + ".toml")).write_bytes(raw if raw is not None else text)
    return str(folder / (name + ".toml"))


@pytest.mark.parametrize("kind,name,edit,message", [
    ("energy", "cpu", lambda d: d.update(ops=5), r"ops must be a table \(\[ops\]\)"),
    ("energy", "cpu", lambda d: d["ops"].update(x=[1]), r"ops.x must be a table"),
    ("energy", "crossbar_rram", lambda d: d["adc_energy_by_bits"].update(bits=8),
     r"adc_energy_by_bits.bits and .value must be non-empty lists"),
    ("energy", "crossbar_rram", lambda d: d["adc_energy_by_bits"].update(
        bits=["x"] * len(d["adc_energy_by_bits"]["value"])), r"adc_energy_by_bits.bits must be integers"),
    ("chips", "loihi", lambda d: d.update(limits=[1]), r"limits must be a table"),
    ("memristor", "rram_hfox_1t1r", lambda d: d["programming_noise"].update(model=["x"]),
     r"programming_noise.model must be a string"),
    ("memristor", "rram_hfox_1t1r", lambda d: d["params"]["n_levels"].update(value=float("inf")),
     r"params.n_levels.value must be a finite number >= 0; got inf"),
    ("memristor", "rram_hfox_1t1r", lambda d: d.update(params="x"), r"params must be a table"),
    ("energy", "cpu", lambda d: d["profile"].update(execution=["spiking"]),
     r"profile.execution must be a string"),
])
def test_malformed_profiles_name_the_field(tmp_path, kind, name, edit, message):
    path = _profile(tmp_path, kind, name, edit)
    with pytest.raises(HardwareProfileError, match=re.escape(path) + ": " + message):
        hardware.load(name, kind, path=str(tmp_path))


def test_profiles_that_are_not_utf8_are_refused(tmp_path):
    path = _profile(tmp_path, "energy", "cpu", raw=b'[profile]\nname = "\xff"\n')
    with pytest.raises(HardwareProfileError, match=re.escape(path) + ": not valid TOML"):
        hardware.load("cpu", "energy", path=str(tmp_path))


# ------------------------------------------------------------------ regressions: NIR
def _nir(tmp_path, name, edit):
    tree = fuzz.h5_tree(os.path.join(fuzz.GRAPHS, name))
    edit(tree)
    path = str(tmp_path / "g.nir")
    fuzz.write_h5(tree, path)
    return path


@pytest.mark.parametrize("edit,message", [
    (lambda t: t["node"]["nodes"]["1"].update(type=np.array([b"LIF", b"LIF"])),
     r"node '1': 'type' must be the name of a node type"),
    (lambda t: t["node"]["nodes"].update({"1": np.zeros(3)}),
     r"node '1': must be a group of the node's fields"),
    (lambda t: t["node"]["nodes"]["1"].update(type=np.float64(3.0)),
     r"node '1': 'type' must be the name"),
    (lambda t: t["node"]["nodes"]["input"].update(shape=np.array([b"x"])),
     r"node 'input' \(Input\): input_type must be a shape"),
    (lambda t: t["node"]["nodes"]["1"].update(tau=np.array([b"a"])),
     r"node '1' \(LIF\): tau must be an array of numbers"),
    (lambda t: t["node"].update(edges=np.array([[b"input", b"nope"]])),
     r"edge 'input' -> 'nope': no node 'nope'"),
])
def test_malformed_nir_graphs_name_file_and_node(tmp_path, edit, message):
    ns = pytest.importorskip("neurosim.nir")
    path = _nir(tmp_path, "lif_norse.nir", edit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # nir's type check fallback
        with pytest.raises(ns.NIRError, match=re.escape(path) + ": " + message):
            ns.read(path, dt=1e-4)


def test_damaged_nir_files_are_refused(tmp_path):
    ns = pytest.importorskip("neurosim.nir")
    raw = open(os.path.join(fuzz.GRAPHS, "lif_norse.nir"), "rb").read()
    rng = np.random.default_rng(3)
    for i in range(40):
        path = tmp_path / f"d{i}.nir"
        path.write_bytes(fuzz.mutate_bytes(raw, rng) if i else raw[:3000])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ns.read(str(path), dt=1e-4)
        except ns.NIRError as e:
            assert str(path) in str(e)


def test_nir_datasets_of_a_damaged_variable_length_type_are_refused_unread(tmp_path):
    """A variable-length string type whose kind byte was changed to the reserved kind 2
    (fuzz input nir:0,3,16,1315 changed it to 0xd2) made HDF5 crash the process reading it
    (a segmentation fault that killed the fuzz worker); the file is refused before any
    dataset is read. Run in a process of its own, so a regression fails the test instead of
    ending the test run."""
    pytest.importorskip("neurosim.nir")
    import subprocess
    import sys
    raw = open(os.path.join(fuzz.GRAPHS, "lif_norse.nir"), "rb").read()
    vlen_utf8 = b"\x19\x01\x01\x00\x10\x00\x00\x00"     # class 9 (vlen), kind 1 (string)
    assert raw.count(vlen_utf8) >= 2
    path = tmp_path / "vlen.nir"
    path.write_bytes(raw.replace(vlen_utf8, b"\x19\x02" + vlen_utf8[2:]))
    code = ("import sys, neurosim as ns\n"
            "try:\n    ns.nir.read(sys.argv[1], dt=1e-4)\n"
            "except ns.nir.NIRError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"exit status {r.returncode}: {r.stderr[-2000:]}"
    assert re.match(re.escape(str(path)) + r": dataset '[^']+' is of HDF5 type Vlen \(not a "
                    r"number, string or boolean", r.stdout), r.stdout + r.stderr


def test_nir_datasets_too_large_for_memory_are_refused_before_reading(tmp_path):
    """A dataset's declared shape needs no stored data: a 20 kB file can declare a 2 GB
    weight matrix, which reading would allocate (and fill); it is refused first."""
    h5py = pytest.importorskip("h5py")
    ns = pytest.importorskip("neurosim.nir")
    import tracemalloc
    path = str(tmp_path / "big.nir")
    with open(os.path.join(fuzz.GRAPHS, "lif_norse.nir"), "rb") as f:
        open(path, "wb").write(f.read())
    with h5py.File(path, "a") as f:
        del f["node/nodes/0/weight"]
        f.create_dataset("node/nodes/0/weight", shape=(16000, 16000), dtype="f8",
                         chunks=(1000, 1000))
    assert os.path.getsize(path) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ns.NIRError, match=re.escape(path) + r": its datasets declare "
                           r"2\.0\d GB \(dataset 'node/nodes/0/weight': shape \(16000, 16000\), "
                           r"float64\), more than the 1(\.0)? GB of memory available"):
            ns.read(path, dt=1e-4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6


@pytest.mark.parametrize("value,message", [
    (np.array([[b"input", b"lif"], [b"lif", b"nope"]]),                 # nir:0,3,28,408
     r"groups must be an integer; got an array of shape \(2, 2\)"),
    (np.float64(1.5), r"groups must be an integer; got 1\.5"),
])
def test_nir_conv_groups_that_are_not_an_integer_are_refused(tmp_path, value, message):
    """A Conv2d's groups went through int(): an array of several values raised TypeError
    (found by the fuzzer), a fraction was cut."""
    ns = pytest.importorskip("neurosim.nir")
    path = _nir(tmp_path, "cnn_sinabs.nir", lambda t: t["node"]["nodes"]["0"].update(
        groups=value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # nir's type check fallback
        with pytest.raises(ns.NIRError, match=re.escape(path) + r": node '0' \(Conv2d\): "
                           + message):
            ns.read(path, dt=1e-4)


def test_nir_populations_too_large_for_memory_name_the_file(tmp_path):
    """An unconnected Output of 2**31 neurons (fuzz input nir:0,3,40,177) was refused before
    allocating, but the InsufficientMemoryError did not name the file or the node."""
    ns = pytest.importorskip("neurosim.nir")
    def edit(t):                  # no edges: the Output is a population of its own
        t["node"].update(edges=np.array([]))
        t["node"]["nodes"]["output"].update(shape=np.array([2**31]))
    path = _nir(tmp_path, "lif_norse.nir", edit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # nir's type check fallback
        with pytest.raises(InsufficientMemoryError, match=re.escape(path) + r": node '[^']+' "
                           r"\(\w+\): a population of 2,147,483,648 neurons needs about"):
            ns.read(path, dt=1e-4)


def test_nir_damaged_global_heap_is_refused_before_hdf5_reads_it(tmp_path):
    """Fuzz input nir:0,3,31,151: the free-space object of the file's global heap
    collection shrunk by one changed byte made h5py's read of a node's 'type' string never
    return (a worker spun for 46 minutes). Run in a child process with a time limit, so
    that a regression fails instead of hanging the suite."""
    src = os.path.join(fuzz.GRAPHS, "two_lif_neurons.nir")
    raw = bytearray(open(src, "rb").read())
    heap = raw.find(b"GCOL")
    assert heap > 0
    import struct
    size = struct.unpack_from("<Q", raw, heap + 8)[0]
    pos = heap + 16                                  # find the free-space object
    while struct.unpack_from("<H", raw, pos)[0] != 0:
        pos += 16 + ((struct.unpack_from("<Q", raw, pos + 8)[0] + 7) & ~7)
    assert struct.unpack_from("<Q", raw, pos + 8)[0] == heap + size - pos
    raw[pos + 9] = 0x01                              # the fuzz input's change
    path = tmp_path / "damaged.nir"
    path.write_bytes(bytes(raw))
    code = ("import sys, neurosim.nir\n"
            "try:\n    neurosim.nir.read(sys.argv[1], dt=1e-4)\n"
            "except neurosim.nir.NIRError as e:\n    print('REFUSED', e)\n")
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                       text=True, timeout=120)
    assert "REFUSED" in r.stdout and "global heap collection" in r.stdout, r.stdout + r.stderr
    assert str(path) in r.stdout
    ns = pytest.importorskip("neurosim.nir")
    ns.read(src, dt=1e-4)                            # the undamaged file still loads
