"""The analysis as one plain document: what `--json` writes and what other tools read.

Shape (all timestamps ISO 8601 UTC, all text redacted):
    {"loglens_version", "inputs": [{"path", "kind", "lines", "records", "unparsed"}],
     "findings": [{"rule", "category", "severity", "title", "summary", "extension", "version",
                   "first_seen", "last_seen", "count", "evidence": [{"path", "line", "text"}],
                   "explanation", "remediation", "docs", "related": [rule ids]}],
     "other_errors": [{"template", "count", "example": {"path", "line", "text"}}],
     "summary": {"error", "warning", "info"}}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loglens.engine import Analysis


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, or None."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build(analysis: Analysis, version: str) -> dict[str, Any]:
    """The report document of an analysis."""
    load = analysis.load
    return {
        "loglens_version": version,
        "inputs": [
            {"path": a.path, "kind": a.kind, "lines": a.lines, "records": a.records, "unparsed": a.unparsed}
            for a in load.accounts
        ],
        "findings": [
            {
                "rule": f.rule,
                "category": f.category,
                "severity": f.severity,
                "title": f.title,
                "summary": f.summary,
                "extension": f.extension,
                "version": f.version,
                "first_seen": iso(f.first_seen),
                "last_seen": iso(f.last_seen),
                "count": f.count,
                "evidence": [{"path": e.path, "line": e.line, "text": e.text} for e in f.evidence],
                "explanation": f.explanation,
                "remediation": f.remediation,
                "docs": f.docs,
                "related": list(f.related),
            }
            for f in analysis.findings
        ],
        "other_errors": [
            {"template": o.template, "count": o.count, "example": {"path": o.path, "line": o.line, "text": o.text}}
            for o in analysis.other_errors
        ],
        "summary": analysis.counts(),
    }
