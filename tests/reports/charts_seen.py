"""What a reader sees of a report's charts in a real browser, and what is wrong with it.

`look` opens an HTML report (single-VM or fleet) in headless Chromium, saves a screenshot of
each chart and returns, per chart, the text plotly drew (with its box on screen) or the plain
sentence the report printed instead of a chart. `problems` lists what a reader would trip over:
labels drawn over each other, labels cut off at the plot or chart edge, placeholder axes,
sub-second ticks on a time axis, colours no legend explains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.reports.conftest import CHROMIUM_ARGS

#: Each chart as drawn: the boxes of its visible svg `text` elements and what they are.
_SEEN = r"""
() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const shown = (el) => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({opacityProperty: true, visibilityProperty: true}); };
  return [...document.querySelectorAll("div.chart, p.chart-note")].map((chart) => {
    if (!chart.querySelector("svg.main-svg")) return {id: chart.id, note: chart.textContent.trim(), texts: []};
    const areas = {};
    chart.querySelectorAll(".draglayer > g").forEach((g) => {
      const drag = g.querySelector(":scope > rect.nsewdrag");
      if (drag) areas[g.classList[0]] = box(drag);
    });
    const drawn = [...chart.querySelectorAll("svg.main-svg text")].filter((t) => t.textContent.trim() && shown(t));
    const texts = drawn.map((t) => {
      const subplot = t.closest("g.subplot");
      const kind = t.classList.contains("bartext") ? "bar" : (t.parentNode.getAttribute("class") || "").split(" ")[0];
      return {text: t.textContent, kind: kind, box: box(t), legend: !!t.closest(".legend"),
              area: kind === "bar" && subplot ? areas[subplot.classList[1]] : null};
    });
    return {id: chart.id, note: null, svg: box(chart.querySelector("svg.main-svg")), texts: texts,
            legend: chart.querySelectorAll(".legend .traces").length,
            legend_box: [...chart.querySelectorAll(".legend > rect.bg")].map(box),
            colorbar: chart.querySelectorAll(".colorbar").length,
            traces: chart.querySelectorAll(".cartesianlayer .trace, .heatmaplayer .hm").length};
  });
}
"""

#: Text boxes are line boxes (ascent to descent), wider than the ink: two labels whose boxes
#: overlap by a pixel or two still read apart, e.g. stacked legend rows or tick labels set
#: side by side. A real collision ("Enable 2.1.10" drawn over "Install 2.1.10") overlaps by far more.
OVERLAP_TOLERANCE_PX = 2
#: Sub-pixel rounding of a box against the edge it is measured to.
EDGE_TOLERANCE_PX = 1
#: A tick on a year-2000 date or below zero: plotly's axis for a chart with no data.
_PLACEHOLDER_TICK = re.compile(r"\b2000\b|^[−-]\d")
#: A time tick with a fraction of a second (`00:02:59.9996`).
_FRACTION_TICK = re.compile(r"\d:\d\d\.\d")


@dataclass
class Chart:
    id: str
    note: str | None
    texts: list[dict]
    svg: list[float] | None = None
    legend: int = 0
    legend_box: list[list[float]] | None = None
    colorbar: int = 0
    traces: int = 0


def look(report: Path, chromium: str, shots: Path, widths: tuple[int, ...] = (1300,)) -> dict[int, list[Chart]]:
    """Every chart of ``report`` as drawn at each of ``widths`` px; a screenshot of each lands in ``shots``."""
    shots.mkdir(parents=True, exist_ok=True)
    seen = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for width in widths:
            page = browser.new_page(viewport={"width": width, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            page.goto(report.as_uri())
            page.wait_for_function(
                "[...document.querySelectorAll('div.chart')].every((c) => c.querySelector('svg.main-svg'))",
                timeout=60_000,
            )
            seen[width] = [Chart(**chart) for chart in page.evaluate(_SEEN)]
            for chart in seen[width]:
                page.locator(f"#{chart.id}").screenshot(path=str(shots / f"{report.stem}-{width}-{chart.id}.png"))
            page.close()
            assert errors == [], errors
        browser.close()
    return seen


def _overlap(a: list[float], b: list[float]) -> float:
    """How far two boxes overlap: the smaller of the overlap's width and height (0 if apart)."""
    return max(0.0, min(min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])))


def _outside(inner: list[float], outer: list[float]) -> bool:
    e = EDGE_TOLERANCE_PX
    return inner[0] < outer[0] - e or inner[1] < outer[1] - e or inner[2] > outer[2] + e or inner[3] > outer[3] + e


def problems(chart: Chart) -> list[str]:
    """What is wrong with ``chart`` as drawn, one sentence each (empty when nothing is)."""
    if chart.note is not None:
        return []
    found = []
    texts = chart.texts
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            if _overlap(a["box"], b["box"]) > OVERLAP_TOLERANCE_PX:
                found.append(f"{chart.id}: {a['kind']} {a['text']!r} drawn over {b['kind']} {b['text']!r}")
        under = [box for box in chart.legend_box or [] if _overlap(a["box"], box) > OVERLAP_TOLERANCE_PX]
        if under and not a["legend"]:
            found.append(f"{chart.id}: {a['kind']} {a['text']!r} drawn under the legend")
        if _outside(a["box"], chart.svg):
            found.append(f"{chart.id}: {a['kind']} {a['text']!r} cut off at the chart's edge")
        elif a["area"] is not None and _outside(a["box"], a["area"]):
            found.append(f"{chart.id}: bar label {a['text']!r} runs out of its plot area")
        if a["kind"].endswith("tick") and _PLACEHOLDER_TICK.search(a["text"]):
            found.append(f"{chart.id}: placeholder axis tick {a['text']!r}")
        if a["kind"].endswith("tick") and _FRACTION_TICK.search(a["text"]):
            found.append(f"{chart.id}: time tick with a fraction of a second {a['text']!r}")
    if chart.traces == 0:
        found.append(f"{chart.id}: an empty frame, no data drawn")
    if chart.legend == 0 and chart.colorbar == 0:
        found.append(f"{chart.id}: colours without a legend or colour bar")
    return found
