"""The analysis as one plain document: what `--json` writes and what other tools read.

A view of the report model. Shape (all timestamps ISO 8601 UTC, all text redacted):
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

from typing import Any

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


def _episodes(episodes: list[dict] | None) -> list[list]:
    """A recurring incident's episodes, compactly: `[first_seen, last_seen, count]` each."""
    return [[iso(e["first_seen"]), iso(e["last_seen"]), e["count"]] for e in episodes or []]


def build(report: dict[str, Any]) -> dict[str, Any]:
    """The JSON document of a report model (`loglens.reports.model.build`)."""
    findings = [
        {k: iso(f[k]) if k in ("first_seen", "last_seen") else _episodes(f[k]) if k == "episodes" else f[k]
         for k in FINDING_FIELDS}
        for f in report["findings"]
    ]
    return {
        "loglens_version": report["version"],
        "inputs": [{k: i[k] for k in _INPUT_FIELDS} for i in report["inputs"]],
        "findings": findings,
        "other_errors": [
            {"template": o["template"], "count": o["count"], "example": {k: o[k] for k in ("path", "line", "text")}}
            for o in report["other_errors"]
        ],
        "summary": report["counts"],
        "verdict": report["verdict"],
        "vms": report["vms"],
        "unexplained": report["unexplained"],
        "rule_failures": report["rule_failures"],
        "warnings": report["warnings"],
    }
