"""The self-contained HTML report: the report model, figures, and a jinja2 template.

The HTML opens offline: plotly.js is embedded once and the CSS is inline. All log text goes
through jinja2's autoescaping. Figure JSON sits in `<script type="application/json">` blocks
with `<`, `>` and `&` escaped, so log text inside chart labels cannot end the script element.
Every text taken from logs is redacted first (in the findings frame and the model).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import plotly.io
import plotly.offline
import regex
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from loglens import atomic
from loglens.engine import Analysis
from loglens.reports import figures, model
from loglens.reports.chart_fit import note_of
from loglens.timefmt import human


def figure_json(figure) -> str:
    """Figure JSON safe to place inside a script element."""
    text = plotly.io.to_json(figure, validate=False, remove_uids=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def charts(builders: dict, source) -> list[dict]:
    """Each chart of ``source`` for the template: its figure's JSON, or the sentence said instead.

    A chart with nothing to draw is that one plain sentence in the report, not a frame on
    placeholder axes.
    """
    entries = []
    for name, build in builders.items():
        figure = build(source)
        note = note_of(figure)
        entries.append({"id": f"chart-{name}", "note": note, "json": None if note else figure_json(figure)})
    return entries


#: A `code` span as the rule documentation writes it (no backtick inside).
_CODE_SPAN = regex.compile(r"`([^`\n]+)`")


def code_spans(text: str | None) -> Markup:
    """Documentation text escaped, with its `code` spans as <code> elements (never raw backticks)."""
    escaped = str(escape(text or ""))
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))


#: The separators a name or path may wrap after: dots, slashes, `!` (an archive member), `_` and `-`.
_SEPARATORS = regex.compile(r"([./\\!_-]+)")


def breakable(text: object) -> Markup:
    """Text escaped, with a `<wbr>` after each separator in it: a long extension name or path
    wraps at its dots and slashes (`Microsoft.Azure.<wbr>Extensions.<wbr>CustomScript`), never
    inside a word. The escaped text holds no separator inside an entity (`&#34;`, `&lt;`)."""
    escaped = str(escape("" if text is None else str(text)))
    return Markup(_SEPARATORS.sub(r"\1<wbr>", escaped))


def environment() -> Environment:
    """The templates (`templates/`), escaping on, with the filters every report uses."""
    env = Environment(loader=PackageLoader("loglens.reports", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["when"] = human
    env.filters["code_spans"] = code_spans
    env.filters["breakable"] = breakable
    return env


def render(
    analysis: Analysis, *, generated_at: datetime | None = None, version: str = "", report: dict | None = None
) -> str:
    """The report as one HTML string (``report``: the run's report model, built with its
    evidence blocks and facts; built here when not given)."""
    if report is None:
        report = model.build(analysis, generated_at=generated_at, version=version, neighbours=True)
    drawn = charts(figures.FIGURES, analysis)
    template = environment().get_template("report.html.j2")
    # plotly.js is inserted verbatim; make sure no `</script` in it can end the element early.
    plotly_js = plotly.offline.get_plotlyjs().replace("</script", "<\\/script")
    return template.render(model=report, charts=drawn, plotly_js=plotly_js)


def write(analysis: Analysis, out: Path | str, **kwargs) -> Path:
    """Write the report to ``out``."""
    return atomic.write_text(out, render(analysis, **kwargs))
