"""The analysis as one plain document: what `--json` writes and what other tools read.

A renderer of the typed `Report` (`loglens.reports.report`): `build` gives the document as plain
dicts and lists, `render` its JSON text. Shape (all timestamps ISO 8601 UTC, all text redacted):
    {"loglens_version", "inputs": [{"path", "kind", "lines", "records", "unparsed"}],
     "findings": [{"rule", "category", "severity", "title", "summary", "collection", "extension",
                   "version", "first_seen", "last_seen", "count", "evidence": [{"path", "line", "text"}],
                   "explanation", "remediation", "docs", "related": [rule ids],
                   "episodes": [[first_seen, last_seen, count], ...] (a recurring incident's; else [])}],
     "other_errors": [{"template", "count", "example": {"path", "line", "text"}}],
     "summary": {"error", "warning", "info"}, "verdict": the report's one paragraph,
     "vms": [{"vm" (as `loglens fleet` names it), "collection", "inputs": [paths], "verdict", "summary"}]
            (every VM analysed, healthy ones included; `loglens.reports.vms`),
     "unexplained": {"error_records", "warning_records", "known_benign_records", "inputs_not_read": [paths]},
     "rule_failures": [one line per rule that raised; its findings are missing],
     "warnings": [every input warning, one line each (the terminal and reports summarise them)]}
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from loglens.reports.report import Episode, Finding, Report
from loglens.timefmt import iso

#: Finding fields the document carries, in order.
FINDING_FIELDS = (
    "rule",
    "category",
    "severity",
    "title",
    "summary",
    "collection",
    "extension",
    "version",
    "first_seen",
    "last_seen",
    "count",
    "evidence",
    "explanation",
    "remediation",
    "docs",
    "related",
    "episodes",
)
_INPUT_FIELDS = ("path", "kind", "lines", "records", "unparsed")


def _episodes(episodes: tuple[Episode, ...]) -> list[list]:
    """A recurring incident's episodes, compactly: `[first_seen, last_seen, count]` each."""
    return [[iso(e.first_seen), iso(e.last_seen), e.count] for e in episodes]


def _plain(value: Any) -> Any:
    """A report value as JSON data: a typed part as a dict of its fields in order, tuples as lists."""
    if dataclasses.is_dataclass(value):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _finding(f: Finding) -> dict[str, Any]:
    """One finding with the `FINDING_FIELDS`, times in ISO 8601."""
    out = {}
    for k in FINDING_FIELDS:
        value = getattr(f, k)
        if k in ("first_seen", "last_seen"):
            out[k] = iso(value)
        else:
            out[k] = _episodes(value) if k == "episodes" else _plain(value)
    return out


def build(report: Report) -> dict[str, Any]:
    """The JSON document of a report (`loglens.reports.model.build`), as plain dicts and lists."""
    if not isinstance(report, Report):
        raise TypeError(f"document.build reads a Report, not {type(report).__name__}")
    return {
        "loglens_version": report.version,
        "inputs": [{k: getattr(i, k) for k in _INPUT_FIELDS} for i in report.inputs],
        "findings": [_finding(f) for f in report.findings],
        "other_errors": [
            {"template": o.template, "count": o.count, "example": {"path": o.path, "line": o.line, "text": o.text}}
            for o in report.other_errors
        ],
        "summary": _plain(report.counts),
        "verdict": report.verdict,
        "vms": _plain(report.vms),
        "unexplained": _plain(report.unexplained),
        "rule_failures": list(report.rule_failures),
        "warnings": list(report.warnings),
    }


def render(report: Report) -> str:
    """The JSON document's text, as `--json` writes it."""
    return json.dumps(build(report), indent=2, ensure_ascii=False) + "\n"
