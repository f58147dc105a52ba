"""The self-contained HTML report: a report model (plain data), figures, and a jinja2 template.

The HTML opens offline: plotly.js is embedded once and the CSS is inline. All log text goes
through jinja2's autoescaping. Figure JSON sits in `<script type="application/json">` blocks
with `<`, `>` and `&` escaped, so log text inside chart labels cannot end the script element.
Every text taken from logs is redacted first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plotly.io
import plotly.offline
import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape

from loglens.engine import Analysis
from loglens.findings import SEVERITIES
from loglens.records import columns
from loglens.redact import redact_text
from loglens.reports import figures
from loglens.reports.facts import vm_facts

#: Lines shown before and after each evidence line.
CONTEXT_LINES = 3
#: Evidence lines shown per finding (the JSON document holds as many).
MAX_EVIDENCE_SHOWN = 5
#: Characters of one log line shown.
MAX_LINE_CHARS = 400
_TEXT_FRAMES = ("waagent", "command_execution", "extension_logs")


def report_model(analysis: Analysis, *, generated_at: datetime | None = None, version: str = "") -> dict[str, Any]:
    """Everything the report shows, as plain data (the template only lays it out)."""
    counts = analysis.counts()
    findings = sorted(analysis.findings, key=lambda f: (SEVERITIES.index(f.severity), f.category))
    context = _ContextLines(analysis.load.frames, findings)
    grouped = []
    for severity in SEVERITIES:
        of_severity = [f for f in findings if f.severity == severity]
        if not of_severity:
            continue
        categories = []
        for category in sorted({f.category for f in of_severity}):
            items = []
            for index, f in enumerate(x for x in of_severity if x.category == category):
                items.append(
                    {
                        "anchor": f"finding-{severity}-{category}-{index}",
                        "rule": f.rule,
                        "vm": f.collection if analysis.several_vms else None,
                        "title": f.title,
                        "summary": f.summary,
                        "extension": f.extension,
                        "version": f.version,
                        "first_seen": _fmt(f.first_seen),
                        "last_seen": _fmt(f.last_seen),
                        "count": f.count,
                        "explanation": f.explanation,
                        "remediation": f.remediation,
                        "docs": f.docs,
                        "related": f.related,
                        "evidence": [
                            {"path": e.path, "line": e.line, "text": e.text, "context": context.around(e.path, e.line)}
                            for e in f.evidence[:MAX_EVIDENCE_SHOWN]
                        ],
                    }
                )
            categories.append({"category": category, "findings": items})
        grouped.append({"severity": severity, "categories": categories})
    load = analysis.load
    facts = vm_facts(analysis)
    # Report text times sort as they read, so the overall span comes from the per-VM spans.
    first_seen = min((vm["first_seen"] for vm in facts if vm["first_seen"]), default=None)
    last_seen = max((vm["last_seen"] for vm in facts if vm["last_seen"]), default=None)
    return {
        "version": version,
        "generated_at": _fmt(generated_at or datetime.now(UTC)),
        "counts": counts,
        "verdict": verdict(analysis),
        "facts": facts,
        "first_seen": first_seen,
        "last_seen": last_seen,
        "severities": grouped,
        "other_errors": [
            {"template": o.template, "count": o.count, "path": o.path, "line": o.line, "text": o.text}
            for o in analysis.other_errors
        ],
        "inputs": [a.row() for a in load.accounts],
        "warnings": [redact_text(w) for w in load.warnings],
        "ignored": list(getattr(load, "ignored", [])),
    }


def verdict(analysis: Analysis) -> str:
    """One paragraph in plain words: how many problems, and the most severe ones."""
    counts = analysis.counts()
    if not counts["error"] and not counts["warning"]:
        return "No errors or warnings found: the logs show the agent and its extensions working normally."
    problems = [f for f in analysis.findings if f.severity in ("error", "warning")]
    lead = f"{counts['error']} error(s) and {counts['warning']} warning(s) found."
    several = analysis.several_vms
    if several:
        hit = {f.collection for f in problems if f.collection}
        lead = f"{lead[:-1]} in {len(hit)} of the {len(analysis.collections)} VM collections loaded."

    def said(f) -> str:
        # The stderr tail belongs in the finding, not in the one-paragraph verdict.
        text = f"{f.summary.split('; stderr:')[0].rstrip('.')}."
        return f"{f.collection}: {text}" if several and f.collection else text

    return f"{lead} Most severe: {' '.join(said(f) for f in problems[:3])}"


class _ContextLines:
    """Neighbouring records of evidence lines, from the parsed text frames, fetched in one join."""

    def __init__(self, frames: dict[str, pl.DataFrame], findings) -> None:
        wanted = {(e.path, e.line) for f in findings for e in f.evidence[:MAX_EVIDENCE_SHOWN] if e.line is not None}
        self._rows: dict[tuple[str, int], dict] = {}
        if not wanted:
            return
        around = pl.DataFrame(
            [
                (path, line + offset)
                for path, line in wanted
                for offset in range(-CONTEXT_LINES, CONTEXT_LINES + 1)
                if line + offset >= 1
            ],
            schema={"source_path": pl.String, "line_first": pl.UInt32},
            orient="row",
        ).unique()
        for name in _TEXT_FRAMES:
            if name in frames and frames[name].height:
                wanted_columns = ["source_path", "line_first", "timestamp", "level", "message"]
                near = columns(frames[name], wanted_columns).join(around, on=["source_path", "line_first"], how="semi")
                for row in near.iter_rows(named=True):
                    self._rows[(row["source_path"], row["line_first"])] = row

    def around(self, path: str, line: int | None) -> list[dict[str, Any]]:
        if line is None:
            return []
        lines = range(line - CONTEXT_LINES, line + CONTEXT_LINES + 1)
        rows = [self._rows[(path, n)] for n in lines if (path, n) in self._rows]
        return [
            {
                "line": r["line_first"],
                "text": redact_text(_line_text(r))[:MAX_LINE_CHARS],
                "is_evidence": r["line_first"] == line,
            }
            for r in rows
        ]


def _line_text(row: dict) -> str:
    stamp = row["timestamp"].strftime("%Y-%m-%dT%H:%M:%SZ ") if row["timestamp"] else ""
    level = f"{row['level']} " if row["level"] else ""
    first = (row["message"] or "").split("\n", 1)
    more = " [...]" if len(first) > 1 else ""
    return f"{stamp}{level}{first[0]}{more}"


def _fmt(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else None


def _figure_json(figure) -> str:
    """Figure JSON safe to place inside a script element."""
    text = plotly.io.to_json(figure, validate=False, remove_uids=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def render(analysis: Analysis, *, generated_at: datetime | None = None, version: str = "") -> str:
    """The report as one HTML string."""
    environment = Environment(
        loader=PackageLoader("loglens.reports", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    model = report_model(analysis, generated_at=generated_at, version=version)
    charts = [{"id": f"chart-{name}", "json": _figure_json(build(analysis))} for name, build in figures.FIGURES.items()]
    template = environment.get_template("report.html.j2")
    # plotly.js is inserted verbatim; make sure no `</script` in it can end the element early.
    plotly_js = plotly.offline.get_plotlyjs().replace("</script", "<\\/script")
    return template.render(model=model, charts=charts, plotly_js=plotly_js)


def write(analysis: Analysis, out: Path | str, **kwargs) -> Path:
    """Write the report to ``out``."""
    out = Path(out)
    out.write_text(render(analysis, **kwargs), encoding="utf-8")
    return out
