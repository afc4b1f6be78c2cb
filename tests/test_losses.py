"""True loss counts: every changed value counted, examples capped (payloads.losses, bench.measure.fidelity,
the report's fidelity cell)."""

from __future__ import annotations

import struct

import lxml.html
from hypothesis import given, settings
from hypothesis import strategies as st
from report_fixtures import LOSSY, build_document

from bench.measure import FIDELITY_EXAMPLES, fidelity
from payloads.losses import count_differences
from payloads.model import differences
from reports.render import render_html

_f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]  # noqa: E731

json_leaf = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=4)
json_values = st.recursive(json_leaf, lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=3), c,
                                                                                         max_size=4), max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(json_values, json_values, st.integers(0, 30))
def test_total_counts_every_difference_and_examples_agree_with_model(a, b, k):
    loss = count_differences(a, b, examples=k)
    every = differences(a, b, limit=10**9)
    assert loss.total == len(every) == sum(loss.by_path.values())
    assert [(d.path, repr(d.expected), repr(d.actual)) for d in loss.examples] == \
        [(d.path, repr(d.expected), repr(d.actual)) for d in every[:k]]
    assert bool(loss) == (loss.total > 0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e30, 1e30, allow_nan=False), min_size=1, max_size=300))
def test_float32_loss_counted_per_value_and_folded_per_path(xs):
    expected = {"records": [{"points": xs}]}
    actual = {"records": [{"points": [_f32(x) for x in xs]}]}
    changed = sum(1 for x in xs if _f32(x) != x or (x == 0 and str(x) != str(_f32(x))))
    loss = count_differences(expected, actual, examples=5)
    assert loss.total == changed
    assert loss.by_path == ({"records[*].points[*]": changed} if changed else {})
    assert len(loss.examples) == min(5, changed)


def test_gate_fidelity_counts_beyond_the_examples():
    xs = [i + 0.1 for i in range(110_918)]
    back = [_f32(x) for x in xs]
    f = fidelity({"points": xs}, {"points": back})
    assert f.total == 110_918 and len(f) == FIDELITY_EXAMPLES
    assert f.by_path == {"points[*]": 110_918}
    assert f[0] == {"path": "points[0]", "expected": 0.1, "actual": _f32(0.1)}


def test_report_shows_the_true_total_and_says_examples_are_examples():
    doc = build_document()
    row = next(r for r in doc["rows"] if (r["codec"], r["payload"]) == LOSSY)
    row["fidelity"] = [{"path": f"points[{i}]", "expected": i + 0.1, "actual": _f32(i + 0.1)} for i in range(20)]
    row["fidelity_total"] = 110_918
    row["fidelity_paths"] = {"points[*]": 110_918}
    # a row from results written before the total existed: its examples are all there is
    old = next(r for r in doc["rows"] if r["status"] == "ok" and r is not row)
    old.update(verdict="lossy", fidelity=[{"path": f"x[{i}]", "expected": i, "actual": -i} for i in range(1, 5)])
    text = " ".join(lxml.html.fromstring(render_html(doc)).text_content().split())
    assert "110918 values changed in the round trip (points[*]: 110918); for example:" in text
    assert "the first 20 of 110918" in text
    assert "all 20" not in text and "20 values changed" not in text
    assert "4 values changed in the round trip; all:" in text and "all 4" in text
