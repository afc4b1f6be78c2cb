"""The evolution part of the report, from a real (small) matrix: values tried, library vs adapter
layers, changed vs lost, the reader rules legend and the "safest evolution" card."""

from __future__ import annotations

import copy

import lxml.html
import pytest
from report_fixtures import minimal_document

from bench import evolution as ev
from payloads import evolution as sc
from reports import analysis as A
from reports.render import render_html
from reports.results import EvolutionSection, check

SCENARIOS = ("widen-int", "add-optional-default", "enum-add-symbol")


@pytest.fixture(scope="module")
def evo() -> dict:
    from formats.registry import build_registry

    reg = build_registry(False)
    codecs = [reg.codec(n) for n in ("avro/fastavro", "protobuf/upb", "thrift/binary")]
    return ev.run_matrix(codecs, [sc.BY_ID[s] for s in SCENARIOS], plugins=False)


@pytest.fixture(scope="module")
def doc(evo: dict) -> dict:
    d = copy.deepcopy(minimal_document())
    d["sections"] = {"evolution": evo}
    return d


def _typed(evo: dict) -> EvolutionSection:
    """The section as readers get it: in a document that went through the results contract."""
    d = copy.deepcopy(minimal_document())
    d["sections"] = {"evolution": evo}
    return check(d)["sections"]["evolution"]


@pytest.fixture(scope="module")
def section(doc: dict):
    return lxml.html.fromstring(render_html(doc)).get_element_by_id("section-evolution")


def _td(section, direction: str, title: str, codec: str):
    table = section.xpath(f".//h3[@id='evolution-{direction}']/following-sibling::div[1]//table")[0]
    heads = [th.text_content() for th in table.xpath(".//thead//th")]
    row = next(tr for tr in table.xpath(".//tbody/tr") if tr.xpath("./th")[0].text_content() == title)
    return row.xpath("./td")[heads.index(codec) - 1]


def test_matrix_cells_show_each_value_and_the_adapter_line(section) -> None:
    td = _td(section, "forward", "Widen int32 to int64", "protobuf/upb")
    assert td.text_content() == "ok / changed*" and "o-changed" in td.get("class") and "not-ideal" in td.get("class")
    assert "705032704" in td.get("title")
    td = _td(section, "forward", "Widen int32 to int64", "avro/fastavro")
    assert td.text_content() == "error* / error"  # refused even the value that fits
    td = _td(section, "forward", "Add an enum symbol", "protobuf/upb")
    assert td.text_content() == "ok / preserved-unknown*adapter: ok / defaulted"
    td = _td(section, "backward", "Widen int32 to int64", "thrift/binary")
    assert td.text_content() == "lost*adapter: error*" and "o-lost" in td.get("class")


def test_silent_loss_through_an_old_intermediary_is_listed_and_drawn(section) -> None:
    td = _td(section, "roundtrip", "Add an optional field with a default", "avro/fastavro")
    assert td.text_content() == "lost*" and "expected 'cash', got 'card'" in td.get("title")
    items = [li.text_content() for li in section.xpath(".//ul[contains(@class,'danger-list')]/li")]
    assert "lost: avro/fastavro — Add an optional field with a default (roundtrip): " \
        "no error, but the v1 intermediary dropped" in "\n".join(items)
    assert any(i.startswith("changed: protobuf/upb — Widen int32 to int64 (forward)") for i in items)
    svg = lxml.html.tostring(section.get_element_by_id("chart-evolution"), encoding="unicode")
    assert "LOST*" in svg and "CHG*" in svg


def test_legend_states_each_readers_rules(section) -> None:
    legend = section.xpath(".//ul[contains(@class,'evo-legend')]")[0].text_content()
    assert "the outcome for each value tried" in legend and "adapter: …" in legend
    assert "avro/fastavro: Avro (fastavro)" in legend and "writer's schema" in legend
    assert "protobuf/upb, thrift/binary: tag-based" in legend and "roundtrips: the intermediary forwards" in legend


def test_safest_evolution_card_counts_silent_loss_and_states_avros_condition(doc: dict, evo: dict) -> None:
    scores = A.evolution_scores(_typed(evo))
    assert scores["avro/fastavro"]["lost"] == 2  # add-optional-default and enum-add-symbol roundtrips
    assert scores["protobuf/upb"]["changed"] == 2  # widen-int forward and roundtrip (5,000,000,000)
    rec = next(r for r in A.recommendations(doc) if r.key == "evolution")
    assert rec.codec == "avro/fastavro"
    assert "2 cells with a wrong value and no error" in rec.summary
    assert "needs the writer's schema" in rec.summary and "counts the worse" in rec.summary
    assert any(c.startswith("avro/fastavro silently corrupts data in 2 cells (a wrong value, no error: 2 lost)")
               for c in rec.caveats)
    # results written before changed/lost existed still count as silent
    old = {"codecs": ["x"], "cells": [{"scenario": "s", "codec": "x", "direction": "forward", "outcome": "corrupted"}]}
    assert A.evolution_scores(_typed(old))["x"]["silent"] == 1
