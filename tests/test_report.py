"""The report renderer: structure, charts, self-containment, escaping, numbers, robustness."""

from __future__ import annotations

import copy
import json
import re
import time

import lxml.html
import pytest
from report_fixtures import (
    EVIL_CODEC,
    EVIL_PAYLOAD,
    FAILED,
    LOSSY,
    UNSUPPORTED,
    build_document,
    minimal_document,
    scaled_document,
)

from reports import analysis as A
from reports import sections as S
from reports.render import json_for_script, render_html, render_markdown, write_report


@pytest.fixture(scope="module")
def doc():
    return build_document()


@pytest.fixture(scope="module")
def html(doc):
    return render_html(doc)


@pytest.fixture(scope="module")
def tree(html):
    return lxml.html.document_fromstring(html)


# ---------------------------------------------------------------------------------------------
# pure pieces


def test_pareto_front_handmade():
    pts = [
        ("a", 100, 50.0),
        ("b", 80, 60.0),
        ("c", 120, 40.0),
        ("d", 100, 70.0),  # dominated by a (same size, slower)
        ("e", 80, 60.0),  # identical to b: both kept
        ("f", 130, 45.0),  # dominated by c (smaller and faster)
        ("g", 200, 40.0),  # dominated by c (same speed, bigger)
    ]
    assert A.pareto_front(pts) == ["b", "e", "a", "c"]
    assert A.pareto_front([]) == []
    assert A.pareto_front([("only", 1, 1.0)]) == ["only"]


def test_pareto_by_payload_skips_failed_and_untimed(doc):
    from reports.results import normalise

    fronts = A.pareto_by_payload(doc)
    assert set(fronts) == {p["name"] for p in doc["payloads"]}
    assert "thrift/compact" not in fronts[FAILED[1]]
    assert EVIL_CODEC not in fronts[UNSUPPORTED[1]]
    for p, front in fronts.items():
        pts = {(r["codec"]): (A.raw_size(r), A.total_ns(r)) for r in A.ok_rows(normalise(doc), p)}
        for c in front:  # nothing on the front is dominated
            s, t = pts[c]
            assert not any(s2 <= s and t2 <= t and (s2 < s or t2 < t) for s2, t2 in pts.values())


def test_formatting():
    assert A.fmt_ns(850) == "850 ns"
    assert A.fmt_ns(12_300) == "12.3 µs"
    assert A.fmt_ns(4_560_000) == "4.56 ms"
    assert A.fmt_ns_range(614, 633) == "614–633 ns"
    assert A.fmt_ns_range(980, 1020) == "980 ns–1.02 µs"
    assert A.fmt_sig3(0.5) == "0.500"
    assert A.fmt_sig3(10.0) == "10.0"
    assert A.fmt_sig3(1234.4) == "1,234"
    assert A.fmt_sig3(None) == "–"
    assert A.unique_slugs(["a b", "a-b", "<x>"]) == {"a b": "a-b", "a-b": "a-b-2", "<x>": "x"}


def test_json_for_script_cannot_break_out():
    text = str(json_for_script({"name": "</script><script>alert(1)</script>", "amp": "&"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script>"


def test_recommendations_have_numbers(doc):
    recs = {r.key: r for r in A.recommendations(doc)}
    assert set(recs) == {"smallest_raw", "smallest_zstd", "fastest", "evolution", "readable"}
    for r in recs.values():
        assert r.codec, r
        assert r.evidence and all(re.search(r"\d", e) for e in r.evidence), r
    assert recs["readable"].codec in {"json/orjson", "xml/lxml"}
    # the lossy row keeps xml/lxml out of exact-only picks but the evolution verdict names corruption
    assert any("corrupt" in c for c in recs["evolution"].caveats)
    no_evo = copy.deepcopy(doc)
    del no_evo["sections"]["evolution"]
    assert "evolution" not in {r.key for r in A.recommendations(no_evo)}


# ---------------------------------------------------------------------------------------------
# the page


def test_page_structure_in_order(html, tree):
    assert tree.find(".//h1").text_content() == "Which message format should go on the wire?"
    order = ["answer", "summary", "charts", "cost", "section-evolution", "section-faults", "section-calibration",
             "section-scaling", "section-batches", "section-memory", "environment", "notes"]
    positions = [html.index(f'id="{i}"') for i in order]
    assert positions == sorted(positions)
    assert 'id="section-comparison"' not in html  # handled elsewhere
    assert tree.get_element_by_id("section-mystery") is not None  # unknown: raw JSON


@pytest.mark.parametrize("prefix", ["chart-size-", "chart-time-", "chart-scatter-", "chart-relative",
                                    "chart-evolution", "chart-scaling"])
def test_each_chart_kind_present(tree, doc, prefix):
    figs = [f for f in tree.xpath("//figure[contains(concat(' ', @class, ' '), ' chart ')]")
            if f.get("id", "").startswith(prefix)]
    expected = len(doc["payloads"]) if prefix.endswith("-") else 1
    assert len(figs) == expected
    for f in figs:
        assert f.xpath(".//svg"), f.get("id")
        cap = f.find("figcaption")
        assert cap is not None and cap.text_content().strip()
        assert f.xpath(".//svg//text"), "chart text should stay text (svg.fonttype none)"


def test_chart_ids_are_unique(html, tree):
    ids = [e.get("id") for e in tree.iter() if isinstance(e.tag, str) and e.get("id")]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, sorted(dupes)[:10]
    for ref in re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', html):
        target = ref[0] or ref[1]
        assert target in ids, f"dangling internal reference #{target}"


def test_no_external_references(html, tree):
    external = re.compile(r"^\s*(?!#)(?!data:)\S")
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        assert el.tag.lower() not in ("link", "iframe", "object", "embed", "img", "base"), el.tag
        for name, value in el.attrib.items():
            low = name.lower()
            if low in ("src", "href", "xlink:href", "action", "poster", "data", "srcset", "formaction"):
                assert not external.match(value), f"<{el.tag} {name}={value!r}>"
            assert "http://" not in value and "https://" not in value, f"<{el.tag} {name}={value!r}>"
            for u in re.findall(r"url\(\s*['\"]?([^)'\"]*)", value):
                assert u.startswith("#"), f"<{el.tag} {name}> url({u})"
        if el.tag in ("style", "script"):
            text = el.text or ""
            assert "http://" not in text and "https://" not in text, el.tag
            assert "@import" not in text
            for u in re.findall(r"url\(\s*['\"]?([^)'\"]*)", text):
                assert u.startswith("#") or u.startswith("data:"), u
    assert "<!DOCTYPE svg" not in html and "<?xml" not in html


def test_malicious_names_are_escaped(html, tree):
    assert EVIL_PAYLOAD not in html
    assert "<img src=x" not in html
    assert "<script>alert(2)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "evil/&lt;img src=x onerror=alert(1)&gt;" in html
    scripts = tree.xpath("//script")
    assert len(scripts) == 2  # the calculator's data and the page's own code
    for s in scripts:
        text = s.text or ""
        assert EVIL_PAYLOAD not in text and "<img" not in text and "</script" not in text.lower()
    assert not tree.xpath("//img") and not tree.xpath("//*[@onerror]")
    # shown as text where it belongs
    headings = [h.text_content() for h in tree.xpath("//h3")]
    assert f"Payload: {EVIL_PAYLOAD}" in headings
    raw = tree.xpath("//section[@id='section-mystery']//pre")[0].text_content()
    assert "</details><script>alert(2)</script>" in raw


def test_summary_table_rows(tree, doc):
    from reports.results import normalise

    for p in doc["payloads"]:
        slug = A.unique_slugs(A.payload_names(normalise(doc)))[p["name"]]
        rows = tree.xpath(f"//table[@id='results-{slug}']/tbody/tr")
        assert len(rows) == len(doc["codecs"])
    failed = tree.xpath("//tr[contains(@class, 'st-failed')]")
    assert len(failed) == 1 and "TProtocolException" in failed[0].text_content()
    unsupported = tree.xpath("//tr[contains(@class, 'st-unsupported')]")
    assert len(unsupported) == 1 and "UnsupportedSchema" in unsupported[0].text_content()
    lossy = [tr for tr in tree.xpath("//table[contains(@class,'results')]/tbody/tr") if "lossy" in tr.text_content()]
    assert len(lossy) == 1 and "points[0].lat" in lossy[0].text_content() and LOSSY[0] in lossy[0].text_content()
    # numeric cells carry the raw number for sorting; a failed row sorts last with an empty key
    cell = failed[0].xpath("./td")[4]
    assert cell.get("data-sort") == ""
    enc = tree.xpath("//table[contains(@class,'results')]/tbody/tr/td[8]")[0]
    float(enc.get("data-sort"))
    assert "IQR" in enc.text_content() and "95% CI" in enc.text_content()


def test_calculator_static_numbers_for_defaults():
    d = minimal_document()
    d["rows"] = [{"codec": "x/y", "format": "x", "payload": "p", "status": "ok", "verdict": "exact", "fidelity": [],
                  "error": None, "size": {"raw": 1250, "gzip": 700, "zstd": 625},
                  "encode": {"median_ns": 30_000.0}, "decode": {"median_ns": 20_000.0}}]
    d["payloads"] = [{"name": "p"}]
    d["codecs"] = [{"name": "x/y", "status": "ok"}]
    t = lxml.html.document_fromstring(render_html(d))
    row = t.xpath("//table[contains(@class,'calc-table')]/tbody/tr")[0]
    cpu, link, linkz = (row.xpath(f".//td[@data-cell='{k}']")[0] for k in ("cpu", "link", "linkz"))
    # 10,000 msg/s x 50 µs = 0.5 CPU-s/s; 10,000 x 1,250 B x 8 / 1 Gbit/s = 10 %; zstd 625 B: 5 %
    assert float(cpu.get("data-sort")) == pytest.approx(0.5) and cpu.text_content() == "0.500"
    assert float(link.get("data-sort")) == pytest.approx(10.0) and link.text_content() == "10.0 %"
    assert float(linkz.get("data-sort")) == pytest.approx(5.0) and linkz.text_content() == "5.00 %"
    assert t.get_element_by_id("calc-rate").get("value") == "10000"
    assert t.get_element_by_id("calc-link").get("value") == "1"


def test_calculator_matches_fixture(tree, doc):
    data = json.loads(tree.get_element_by_id("calc-data").text)
    first = doc["payloads"][0]["name"]
    rows = tree.xpath("//div[@class='calc-block'][1]//tbody/tr")
    assert len(rows) == len(data["payloads"][first])
    for tr, it in zip(rows, data["payloads"][first], strict=True):
        cpu = float(tr.xpath(".//td[@data-cell='cpu']")[0].get("data-sort"))
        assert cpu == pytest.approx(10_000 * (it["enc_ns"] + it["dec_ns"]) / 1e9)
        link = float(tr.xpath(".//td[@data-cell='link']")[0].get("data-sort"))
        assert link == pytest.approx(10_000 * it["bytes"] * 8 / 1e9 * 100)


def test_evolution_section(tree, doc):
    sec = tree.get_element_by_id("section-evolution")
    text = sec.text_content()
    assert "Silent wrong values" in text and "thrift/compact — Widen int32 to int64" in text
    cells = sec.xpath(".//table[contains(@class,'matrix')]//td[contains(@class,'o-corrupted')]")
    assert cells and all(c.get("title") and c.text_content() == "corrupted" for c in cells)
    assert len(sec.xpath(".//table[contains(@class,'matrix')]")) == 3
    assert sec.xpath(".//details//table")  # the expandable table with every detail


def test_fault_totals(tree, doc):
    sec = tree.get_element_by_id("section-faults")
    foot = [td.text_content() for td in sec.xpath(".//tfoot//td")]
    total_garbage = sum(k["silent_garbage"] for c in doc["sections"]["faults"]["codecs"] for k in c["kinds"].values())
    assert foot[0] == "total" and foot[2] == f"{total_garbage:,}"


def test_warnings_shown(tree):
    text = tree.xpath("//div[contains(@class,'warn-box')]")[0].text_content()
    assert "busy" in text and "slow backend" in text


def test_markdown(doc):
    md = render_markdown(doc)
    assert "Which message format should go on the wire?" in md
    assert "| codec |" in md and "|---|" in md
    lines = [ln for ln in md.splitlines() if ln.startswith("| ")]
    assert len(lines) == len(doc["payloads"]) * (1 + len(doc["codecs"]))  # one short table per payload
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;" in md
    assert "Failures" in md and "TProtocolException" in md
    assert "Fastest encode" in md and "Fastest decode" in md
    assert "_Environment:" in md
    too_long = [ln for ln in md.splitlines() if len(ln) > 100]
    assert not too_long
    # the answer comes first, then the red flags, caveats and pointers a PR reviewer needs
    assert md.index("The answer") < md.index("| codec |")
    assert "thrift/compact: 1 hang in 800" in md and ": 1 crash in 800" in md  # the fault probe's flags
    assert "pure Python" in md and "index.html" in md and "msgbench compare" in md
    assert "synthetic &lt;fixture&gt; payload" in md  # payload notes


def test_render_time_budget():
    # CPU time of this process, not wall time: another process on a busy machine cannot fail it
    big = scaled_document(8, 6)
    t0 = time.process_time()
    out = render_html(big)
    elapsed = time.process_time() - t0
    assert elapsed < 10, f"rendering 8 codecs x 6 payloads took {elapsed:.1f} s of CPU"
    assert out.count('class="chart"') >= 6 * 3 + 3


def test_minimal_document_renders():
    d = minimal_document()
    out = render_html(d)
    t = lxml.html.document_fromstring(out)
    assert "pip install something" in out
    assert not [f for f in t.xpath("//figure") if f.get("id", "").startswith(("chart-time", "chart-scatter"))]
    md = render_markdown(d)
    assert "failed" in md


def test_untimed_document_renders(doc):
    d = copy.deepcopy(doc)
    for r in d["rows"]:
        r["encode"] = r["decode"] = None
    d["run"]["mode"] = "untimed"
    out = render_html(d)
    assert "no timings" in out
    assert "fastest" not in {r.key for r in A.recommendations(d)}
    render_markdown(d)


def test_broken_and_failed_sections_do_not_break_the_page(doc):
    d = copy.deepcopy(doc)
    d["sections"] = {"faults": {"error": "RuntimeError: <boom>", "traceback": "..."},
                     "calibration": "not a list", "scaling": {"series": [{"codec": "x", "op": "encode",
                                                                           "points": "garbage"}]},
                     "evolution": {"cells": [{"scenario": "s", "codec": "c", "direction": "backward",
                                              "outcome": "corrupted"}]}}

    @S.section("zz_test_broken", "Broken")
    def broken(data, ctx):
        raise ValueError("renderer bug")

    try:
        d["sections"]["zz_test_broken"] = {"a": 1}
        out = render_html(d)
    finally:
        del S.SECTIONS["zz_test_broken"]
    assert "This measurement failed" in out and "RuntimeError: &lt;boom&gt;" in out
    assert "Could not render this section (ValueError: renderer bug)" in out


def test_write_report(tmp_path, doc):
    paths = write_report(doc, tmp_path / "r")
    assert paths["html"].name == "index.html" and paths["markdown"].name == "summary.md"
    assert paths["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not [p for p in (tmp_path / "r").iterdir() if p.name.endswith(".tmp")]


def test_write_report_checks_the_document_once(tmp_path, doc, monkeypatch):
    """Every way in validates and normalises the document once; the helpers index the typed view."""
    import reports.render as R

    seen = []
    real = R.check
    monkeypatch.setattr(R, "check", lambda d, where="results": seen.append(where) or real(d, where))
    write_report(doc, tmp_path / "r")
    assert seen == ["results document"]
    seen.clear()
    render_html(doc)
    render_markdown(doc)
    assert seen == ["results document"] * 2


def test_rows_naming_codecs_and_payloads_missing_from_the_lists_render():
    """A hand-trimmed file: a timed codec and a payload only the rows name (contract defaults apply)."""
    st = lambda ns: {"median_ns": ns}  # noqa: E731
    d = {"schema_version": 1, "codecs": [], "payloads": [],
         "rows": [{"codec": c, "payload": "only_in_rows", "status": "ok", "encode": st(ns), "decode": st(2 * ns),
                   "size": {"raw": size}} for c, ns, size in (("json/x", 1000, 300), ("cbor/y", 500, 200))]}
    out = render_html(d)
    t = lxml.html.document_fromstring(out)
    assert t.xpath("//figure[starts-with(@id, 'chart-time-')]") and "only_in_rows" in out
    assert "(pure Python)" not in out  # no backend recorded: not flagged
    md = render_markdown(d)
    assert "| cbor/y | 200 B |" in md and "| json/x | 300 B |" in md
