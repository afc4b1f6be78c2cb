"""results.json is a typed contract: a hand-edited or hostile file gets a one-line error naming the
bad path (ResultsError), or renders; never a traceback from deep inside a renderer."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from bench.compare import compare
from reports.render import render_html, render_markdown
from reports.results import ResultsError, check, guarded

RECORDED = Path(__file__).resolve().parent / "report_recorded.json"


def _paths(doc, prefix=()):
    """Every (container, key) in the document, breadth limited so the sample covers all levels."""
    out = []
    stack = [(doc, prefix)]
    while stack:
        node, path = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            if k == "samples_ns" or (isinstance(node, list) and k > 6):
                continue
            out.append((node, k, path + (k,)))
            stack.append((v, path + (k,)))
    return out


HOSTILE = ["x", -1, 1e308, None, [], {}, True, "<script>alert(1)</script>" * 3, [["deep"]], {"a": {"b": 1}}, 0]


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(RECORDED.read_text())


def test_the_recorded_run_satisfies_the_contract(recorded) -> None:
    assert check(copy.deepcopy(recorded)) is not None


@pytest.mark.parametrize("seed", range(12))
def test_a_hand_edited_file_is_refused_in_one_line_or_renders(recorded, seed) -> None:
    rng = random.Random(seed)
    doc = copy.deepcopy(recorded)
    for _ in range(1 + seed % 3):
        node, key, path = rng.choice(_paths(doc))
        if rng.random() < 0.25 and isinstance(node, dict):
            del node[key]
        else:
            node[key] = copy.deepcopy(rng.choice(HOSTILE))
    try:
        check(doc)
    except ResultsError as e:
        assert "\n" not in str(e) and len(str(e)) < 400
        return
    # what the contract does not pin either renders or is a one-line error (never a traceback)
    for fn, args in ((render_html, (doc,)), (render_markdown, (doc,)), (compare, (doc, recorded)),
                     (compare, (recorded, doc))):
        try:
            guarded("edited.json", fn, *args)
        except ResultsError as e:
            assert "\n" not in str(e) and "edited.json" in str(e)


def test_too_many_distinct_names_are_refused_before_rendering(recorded) -> None:
    doc = copy.deepcopy(recorded)
    ev = doc["sections"]["evolution"]
    base = ev["cells"][0]
    ev["cells"] = [{**base, "codec": f"c{i}", "scenario": f"s{i}"} for i in range(2000)]
    with pytest.raises(ResultsError, match="distinct"):
        check(doc)


def test_errors_name_the_path(recorded) -> None:
    doc = copy.deepcopy(recorded)
    doc["rows"][3]["encode"]["median_ns"] = "fast"
    with pytest.raises(ResultsError, match=r"rows\[3\]\.encode\.median_ns: expected a number"):
        check(doc)


def test_report_and_compare_run_under_time_and_memory_limits(tmp_path) -> None:
    """What stays in the main process (reading results, rendering) has default limits too: a file
    that needs too much memory or time ends in one line (issue 18)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    res = tmp_path / "results.json"
    res.write_text(RECORDED.read_text())

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True,
                              timeout=120, cwd=root)

    for args, needle in ((("report", str(res), "--out", str(tmp_path / "r"), "--time-limit", "0.05"),
                          "took longer than 0.05 s"),
                         (("compare", str(res), str(res), "--out", str(tmp_path / "c"), "--time-limit", "0.001"),
                          "took longer than")):
        proc = cli(*args)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert proc.returncode == 2 and len(lines) == 1 and needle in lines[0], proc.stderr[-1500:]
    # a results file padded to 160 MB (valid JSON: trailing whitespace) needs more than a 64 MiB limit
    big = tmp_path / "big.json"
    big.write_text(RECORDED.read_text() + " " * 160_000_000)
    for args in (("report", str(big), "--out", str(tmp_path / "rb")),
                 ("compare", str(big), str(res), "--out", str(tmp_path / "cb"))):
        proc = cli(*args, "--memory-limit", str(64 << 20))
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert proc.returncode == 2 and len(lines) == 1 and "needed more than 64 MiB of memory" in lines[0], \
            proc.stderr[-1500:]
    # below 64 MiB the C libraries crash instead of raising MemoryError: refused up front
    low = cli("report", str(res), "--memory-limit", "1000")
    assert low.returncode == 2 and "give at least" in low.stderr, low.stderr[-800:]
    ok = cli("report", str(res), "--out", str(tmp_path / "r2"))
    assert ok.returncode == 0, ok.stderr[-1500:]


def test_evolution_and_faults_sections_are_typed_and_normalise_is_idempotent(recorded) -> None:
    """check() types the two sections the contract validates: every key of EvolutionSection /
    EvolutionCell / FaultsSection / FaultCodec present with its default, unknown keys kept."""
    from reports.results import (
        EvolutionCell,
        EvolutionScenario,
        EvolutionSection,
        EvolutionVerdict,
        FaultCodec,
        FaultsSection,
        normalise,
    )

    d = copy.deepcopy(recorded)
    d["sections"]["evolution"]["extra"] = {"kept": 1}
    d["sections"]["evolution"]["cells"].append({"scenario": "s", "codec": "x", "direction": "forward",
                                                "outcome": "changed", "adapter": {"outcome": "error"},
                                                "values": [{"outcome": "ok", "ideal": True}, "junk"], "mine": 2})
    d["sections"]["faults"]["codecs"].append({"codec": "bare"})
    doc = check(d)
    evo, faults = doc["sections"]["evolution"], doc["sections"]["faults"]
    assert set(EvolutionSection.__annotations__) <= set(evo) and evo["extra"] == {"kept": 1}
    assert all(set(EvolutionScenario.__annotations__) <= set(s) for s in evo["scenarios"])
    assert all(set(EvolutionCell.__annotations__) <= set(c) for c in evo["cells"])
    last = evo["cells"][-1]
    assert last["mine"] == 2 and last["detail"] == "" and last["ideal"] is None and last["brief"] == ""
    assert set(EvolutionVerdict.__annotations__) <= set(last["adapter"]) and last["adapter"]["ideal"] is None
    assert last["values"] == [{"outcome": "ok", "ideal": True, "detail": "", "label": "", "adapter": None}]
    assert set(FaultsSection.__annotations__) <= set(faults)
    assert all(set(FaultCodec.__annotations__) <= set(c) for c in faults["codecs"])
    assert faults["codecs"][-1] == {"codec": "bare", "kinds": {}, "unchanged": {}, "memory_errors": 0, "skipped": 0,
                                    "examples": [], "error": None}
    assert normalise(doc) == doc and check(normalise(doc)) == doc
    assert d["sections"]["evolution"]["cells"][-1].get("brief") is None  # the input is not modified


def test_a_failed_evolution_or_faults_section_is_left_as_written() -> None:
    """A section whose measurement failed stays ``{"error", ...}`` (the report shows it as failed)."""
    d = {"schema_version": 1, "codecs": [], "payloads": [], "rows": [],
         "sections": {"evolution": {"error": "boom", "traceback": "tb"}, "faults": {"error": "bang"}}}
    doc = check(d)
    assert doc["sections"] == d["sections"]
    html = render_html(d)
    assert "This measurement failed" in html and "boom" in html and "bang" in html
