"""The self-contained HTML report: a renderer of the typed `Report` through a jinja2 template.

The HTML opens offline: plotly.js is embedded once and the CSS is inline. All log text goes
through jinja2's autoescaping. The report's charts (`Report.charts`, built with it) sit as figure
JSON in `<script type="application/json">` blocks, escaped by `loglens.reports.charts` so log
text inside chart labels cannot end the script element. Every text in the report is redacted
where it was built (`loglens.reports.model`).
"""

from __future__ import annotations

import plotly.offline
import regex
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from loglens.reports.report import Report
from loglens.timefmt import human


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


def plotly_js() -> str:
    """plotly.js, inserted verbatim: no `</script` in it can end the element early."""
    return plotly.offline.get_plotlyjs().replace("</script", "<\\/script")


def render(report: Report) -> str:
    """The report as one HTML string (``report`` built with its evidence blocks, facts and charts
    for a full page: `loglens.reports.model.build`)."""
    if not isinstance(report, Report):
        raise TypeError(f"html.render draws a Report, not {type(report).__name__}")
    if not report.charts:
        raise ValueError("html.render: the report was built without its charts (model.build(..., charts=True))")
    template = environment().get_template("report.html.j2")
    return template.render(model=report, charts=report.charts, plotly_js=plotly_js())
