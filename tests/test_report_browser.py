"""The rendered report in a real headless Chromium (Debian's /usr/bin/chromium via playwright).

Checks what only a browser can: no console errors, no network, charts laid out with a size,
sorting and the calculator work, injected names stay text. Saves desktop and phone screenshots
under out/screenshots/ for a human to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_fixtures import EVIL_PAYLOAD, build_document

from reports.render import write_report

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "out" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not found: install Debian's chromium "
                       "package to run the browser tests"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return write_report(build_document(), out)["html"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, report):
    """A page on the report, failing on any console error, page error, dialog or non-file request."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    requests: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def on_dialog(d):
        problems.append(f"dialog {d.type}: {d.message}")
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("request", lambda r: requests.append(r.url))
    url = report.resolve().as_uri()
    pg.goto(url)
    pg.wait_for_load_state("load")
    yield pg
    assert not problems, problems
    assert requests == [url], f"unexpected requests: {[r for r in requests if r != url]}"
    context.close()


def test_charts_visible_and_screenshots(page):
    figs = page.locator("figure.chart")
    n = figs.count()
    assert n >= 5 * 3 + 1 + 1 + 1  # size, time, scatter per payload; relative; evolution; scaling
    for i in range(n):
        fig = figs.nth(i)
        box = fig.locator("svg").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, (fig.get_attribute("id"), box)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "report-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "report-phone.png"))
    page.screenshot(path=str(SHOTS / "report-phone-full.png"), full_page=True)
    # phone: the page itself does not scroll sideways; wide tables scroll inside their wrapper
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1


def _column(page, table_id: str, col: int) -> list[str]:
    return page.eval_on_selector_all(f"#{table_id} tbody tr",
                                     f"rows => rows.map(r => r.cells[{col}].getAttribute('data-sort'))")


def test_sorting_by_header(page):
    table = page.locator("table.results").first
    tid = table.get_attribute("id")
    before = _column(page, tid, 4)  # raw bytes
    table.locator("thead th").nth(4).locator("button").click()
    asc = _column(page, tid, 4)
    nums = [float(x) for x in asc if x]
    assert nums == sorted(nums) and asc != before
    assert all(x for x in asc[:len(nums)])  # missing values (failed rows) last
    table.locator("thead th").nth(4).locator("button").click()
    desc = [float(x) for x in _column(page, tid, 4) if x]
    assert desc == sorted(desc, reverse=True)
    assert table.locator("thead th").nth(4).get_attribute("aria-sort") == "descending"


def test_calculator_updates(page):
    cell = page.locator(".calc-block").first.locator('[data-cell="cpu"]').first
    link = page.locator(".calc-block").first.locator('[data-cell="link"]').first
    cpu0, link0 = float(cell.get_attribute("data-sort")), float(link.get_attribute("data-sort"))
    page.fill("#calc-rate", "20000")
    assert float(cell.get_attribute("data-sort")) == pytest.approx(2 * cpu0)
    assert float(link.get_attribute("data-sort")) == pytest.approx(2 * link0)
    page.fill("#calc-link", "10")
    assert float(link.get_attribute("data-sort")) == pytest.approx(2 * link0 / 10)
    # only the selected payload's table is shown; "all" shows every one
    assert page.locator(".calc-block:visible").count() == 1
    page.select_option("#calc-payload", "all")
    assert page.locator(".calc-block:visible").count() == page.locator(".calc-block").count()


def test_injected_names_are_text(page):
    shown = page.get_by_text(EVIL_PAYLOAD, exact=True)
    assert shown.count() >= 1
    assert shown.first.is_visible()
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 2  # calculator data + our code


# ---------------------------------------------------------------------------------------------
# the first screen is the decision (issue 13): at a laptop and a phone size, every answer's pick
# and number are in the viewport without scrolling


@pytest.fixture(scope="module")
def recorded_report(tmp_path_factory):
    import json

    doc = json.loads((Path(__file__).parent / "report_recorded.json").read_text(encoding="utf-8"))
    return write_report(doc, tmp_path_factory.mktemp("recorded"))["html"]


@pytest.mark.parametrize("source", ["fixture", "recorded"])
@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_first_screen_shows_every_answer(browser, report, recorded_report, source, width, height):
    path = report if source == "fixture" else recorded_report
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.goto(path.resolve().as_uri())
    pg.wait_for_load_state("load")
    rows = pg.locator("table#decision tbody tr.rec")
    assert rows.count() >= 6
    for i in range(rows.count()):
        row = rows.nth(i)
        for part in (".pick", "td.number"):
            el = row.locator(part).first
            assert el.is_visible(), (row.get_attribute("id"), part)
            box = el.bounding_box()
            assert box and box["width"] > 10, (row.get_attribute("id"), part, box)
            assert 0 <= box["y"] and box["y"] + box["height"] <= height, (width, row.get_attribute("id"), part, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, row.get_attribute("id"), part, box)
    assert pg.evaluate("window.scrollY") == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"first-screen-{source}-{width}x{height}.png"))
    phone = width < 640
    # desktop: every answer's numbers are open; phone: they and the long sections start folded
    opened = pg.eval_on_selector_all("details.numbers", "ds => ds.map(d => d.open)")
    assert opened and all(o != phone for o in opened)
    folds = pg.eval_on_selector_all("details.fold", "ds => ds.map(d => d.open)")
    assert folds and all(o != phone for o in folds)
    if phone:
        # charts are never cropped: opened, each SVG fits inside its frame
        pg.eval_on_selector_all("details.fold", "ds => ds.forEach(d => d.open = true)")
        widths = pg.eval_on_selector_all(
            "figure.chart", "fs => fs.map(f => [f.id, f.querySelector('svg').getBoundingClientRect().width,"
            " f.querySelector('.svg-wrap').clientWidth])")
        assert widths and all(svg <= frame + 1 for _, svg, frame in widths), widths
        assert pg.evaluate("document.documentElement.scrollWidth") <= width + 1
    context.close()
