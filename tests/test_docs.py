"""The README says what the code does (issue 16, point 7): its demo numbers are generated
from the demo's results, and every file it links to exists."""

import importlib.util
import json
import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _readme_numbers():
    spec = importlib.util.spec_from_file_location(
        "readme_numbers", os.path.join(ROOT, "docs", "readme_numbers.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def test_readme_demo_numbers_are_the_demo_results():
    rn = _readme_numbers()
    with open(os.path.join(ROOT, "docs", "demo_results.json")) as f:
        results = json.load(f)
    block = rn.block(_readme())
    assert block is not None, "README.md lost its demo-numbers markers"
    assert block == rn.render(results), ("README.md's demo numbers differ from "
                                         "docs/demo_results.json: run python "
                                         "docs/readme_numbers.py out/results.json")
    acc = results["accuracy"]
    assert f"| ANN 64-64-10 | {acc['ann']:.3f} |" in block
    assert f"{acc['crossbar_vs_programming_noise']['0.05']:.3f}" in block


def test_render_reads_every_number_from_the_results():
    """Changing a result changes the README block (nothing is hard-coded)."""
    rn = _readme_numbers()
    with open(os.path.join(ROOT, "docs", "demo_results.json")) as f:
        results = json.load(f)
    before = rn.render(results)
    results["energy_per_inference_j"]["snn_crossbar"] = 42e-9
    results["accuracy"]["crossbar_vs_programming_noise"]["0.1"] = 0.123
    after = rn.render(results)
    assert "RRAM crossbar 42 nJ" in after.replace("\n", " ") and "0.123" in after
    assert before != after


def test_readme_links_and_images_exist():
    text = _readme()
    targets = re.findall(r"\]\(([^)#\s]+)\)", text)
    assert "docs/ARCHITECTURE.md" in targets
    for t in targets:
        if not t.startswith(("http://", "https://")):
            assert os.path.exists(os.path.join(ROOT, t)), t
    for name in re.findall(r"\b[A-Z_]+\.md\b", text):       # bare mentions of a document
        assert any(os.path.exists(os.path.join(ROOT, d, name))
                   for d in ("", "docs", "benchmarks", "hardware")), name


def test_check_mode_reports_a_changed_number(tmp_path):
    rn = _readme_numbers()
    with open(os.path.join(ROOT, "docs", "demo_results.json")) as f:
        results = json.load(f)
    same = tmp_path / "same.json"
    results["elapsed_s"] = 1.0                                # the run time does not count
    same.write_text(json.dumps(results))
    assert rn.check(str(same)) == []
    results["accuracy"]["snn_crossbar"] = 0.5
    other = tmp_path / "other.json"
    other.write_text(json.dumps(results))
    diff = rn.check(str(other))
    assert any(d.startswith("+") and "| 0.500 |" in d for d in diff)


def test_a_fresh_demo_gives_the_readme_numbers():
    """Opt-in: NEUROSIM_DEMO_RESULTS=out/results.json (after make demo) checks that the demo
    still gives the README's numbers (run it after any change to the engine)."""
    import pytest
    path = os.environ.get("NEUROSIM_DEMO_RESULTS")
    if not path:
        pytest.skip("set NEUROSIM_DEMO_RESULTS=out/results.json after make demo")
    assert _readme_numbers().check(path) == []
