"""Charts as report data: each figure built once from its source, then kept as JSON text.

`model.build` (and the fleet report) gather `chart_data` with the rest of the report, so the
strings in a figure are redacted with everything else; `chart_specs` then turns each figure
into the JSON the HTML report embeds. A chart with nothing to draw is its one sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import plotly.io

from loglens.reports.chart_fit import note_of


def chart_data(builders: Mapping[str, Callable[[Any], Any]], source: Any) -> list[dict[str, Any]]:
    """Each chart of ``source`` as plain data: `{id, note, figure}`, the figure as a dict (None
    when the chart has nothing to draw and says `note` instead)."""
    entries = []
    for name, build in builders.items():
        figure = build(source)
        note = note_of(figure)
        entries.append({"id": f"chart-{name}", "note": note, "figure": None if note else figure.to_dict()})
    return entries


def chart_specs(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` (`chart_data`, redacted) with each figure as JSON safe inside a script element."""
    return [
        {"id": e["id"], "note": e["note"], "json": None if e["figure"] is None else figure_json(e["figure"])}
        for e in entries
    ]


def figure_json(figure: Any) -> str:
    """Figure JSON (of a Figure or its dict) safe to place inside a script element: `<`, `>` and
    `&` escaped, so log text inside chart labels cannot end the element."""
    text = plotly.io.to_json(figure, validate=False, remove_uids=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
