"""The one report of a run: a typed `Report` (`loglens.reports.report`) built from an `Analysis`.

HTML (`html.py`), Markdown (`markdown.py`), the JSON document (`document.py`) and the terminal
(`terminal.py`) render this report and nothing else. It is gathered here as plain data, every
string in it redacted in one pass (`redacted`), and only then made typed and immutable, so no
renderer can see an unredacted string. Findings come from the findings frame in report order;
charts (`figures.py`) are built here too, as data the HTML report draws.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import polars as pl

from loglens.engine import Analysis
from loglens.knowledge import SEVERITIES
from loglens.redact import redact_texts
from loglens.reports.charts import chart_data, chart_specs
from loglens.reports.evidence import add_blocks
from loglens.reports.report import CategoryGroup, Finding, InputAccount, Report, SeverityGroup, typed
from loglens.reports.vms import vm_entries
from parsers import LoadResult
from parsers.collect import archive_of


def build(
    analysis: Analysis,
    *,
    generated_at: datetime | None = None,
    version: str = "",
    neighbours: bool = False,
    facts: bool = True,
    charts: bool = False,
) -> Report:
    """The report of an analysis.

    Args:
        generated_at: the time the report says it was made (tests pin it); default now.
        version: the loglens version named in the report.
        neighbours: give each finding its evidence `blocks`: the log lines around its evidence
            lines, a block per source window (`loglens.reports.evidence`; the HTML and Markdown
            reports show them).
        facts: include the VM facts and the time span (a pass over every record; the JSON
            document and the terminal do not show them).
        charts: include the charts (`loglens.reports.figures`; the HTML report draws them).
    """
    from loglens.reports import figures  # plotly is loaded only by a run that asks for charts

    findings = _findings(analysis)
    if neighbours:
        add_blocks(analysis.load.frames, analysis.nearby, findings)
    _anchor(findings)
    facts = analysis.facts.to_dicts() if facts else []
    plain = redacted({
        "version": version,
        "generated_at": generated_at or datetime.now(UTC),
        "counts": analysis.counts(),
        "verdict": verdict(analysis),
        "vms": vm_entries(analysis, verdict),
        "facts": facts,
        "first_seen": min((vm["first_seen"] for vm in facts if vm["first_seen"]), default=None),
        "last_seen": max((vm["last_seen"] for vm in facts if vm["last_seen"]), default=None),
        "several_vms": analysis.several_vms,
        "findings": findings,
        "other_errors": analysis.other_errors.to_dicts(),
        "inputs": [a.row() for a in analysis.load.accounts],
        "warnings": redact_texts(analysis.warnings),
        "warnings_shown": summarised_warnings(redact_texts(analysis.warnings)),
        "rule_failures": redact_texts(analysis.rule_failures),
        "ignored": list(analysis.load.ignored),
        "unexplained": {
            "error_records": analysis.unexplained["errors"],
            "warning_records": analysis.unexplained["warnings"],
            "known_benign_records": analysis.unexplained["benign"],
            "inputs_not_read": not_read(analysis),
        },
        "charts": chart_data(figures.FIGURES, analysis) if charts else [],
    })
    plain["charts"] = chart_specs(plain["charts"])
    report = typed(Report, {**plain, "severities": ()})
    return dataclasses.replace(report, severities=_grouped(report.findings))


#: Model keys whose values hold no text: a recurring incident's episodes are times and counts
#: (`loglens.schema.EPISODE`), and a noisy VM has thousands of them (0.3 s of walking).
NOTHING_TO_REDACT = frozenset({"episodes"})


def redacted(model: Any) -> Any:
    """The model with every string in it redacted (`loglens.redact`), names included: a file saved
    with its SAS query (`waagent.log?sv=...&sig=...`) is shown, in every output, without it.

    Log texts were redacted whole before they were cut; this pass catches what reaches the model by
    other ways (paths, member names, facts, warnings), in one batch.
    """
    strings: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, str):
            strings.append(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key not in NOTHING_TO_REDACT:
                    collect(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                collect(value)

    collect(model)
    fixed = dict(zip(strings, redact_texts(strings), strict=True))
    # An archive member's name is two names: redacted apart, so that a secret in the archive's
    # name (`logs.zip?sv=...&sig=X!var/log/waagent.log`) cannot swallow the member's.
    members = {text: archive_of(text) for text in strings if "!" in text}
    members = {text: archive for text, archive in members.items() if archive is not None}
    if members:
        outer = redact_texts(list(members.values()))
        inner = redact_texts([text[len(archive) + 1 :] for text, archive in members.items()])
        fixed.update({text: f"{a}!{m}" for text, a, m in zip(members, outer, inner, strict=True)})

    def rebuild(node: Any) -> Any:
        if isinstance(node, str):
            return fixed[node]
        if isinstance(node, dict):
            return {key: value if key in NOTHING_TO_REDACT else rebuild(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rebuild(value) for value in node]
        if isinstance(node, tuple):
            return tuple(rebuild(value) for value in node)
        return node

    return rebuild(model)


#: Warnings shown one by one; past them, the rest are counted by what they say.
WARNINGS_SHOWN = 40


def summarised_warnings(warnings: list[str], shown: int = WARNINGS_SHOWN) -> list[str]:
    """The first ``shown`` warnings, then one line per kind of the rest (what follows the file
    name), with its count and first file: 100,000 skipped members are a line, not 100,000."""
    if len(warnings) <= shown:
        return list(warnings)
    rest: dict[str, list[str]] = {}
    for warning in warnings[shown:]:
        where, _, what = warning.partition(": ")
        rest.setdefault(what or where, []).append(where)
    summary = [
        f"{len(places):,} more: {what} (first: {places[0]})" if len(places) > 1 else f"{places[0]}: {what}"
        for what, places in rest.items()
    ]
    if len(summary) > shown:
        summary = [*summary[:shown], f"{len(warnings) - shown:,} more warnings in all; the JSON document lists every one"]
    return [*warnings[:shown], *summary]


def _findings(analysis: Analysis) -> list[dict[str, Any]]:
    """The findings frame as dicts, each with its evidence and, with several VMs, its VM."""
    evidence: dict[int, list[dict]] = {}
    for row in analysis.findings.evidence.iter_rows(named=True):
        evidence.setdefault(row["finding"], []).append({k: row[k] for k in ("path", "line", "text")})
    out = []
    for row in analysis.findings.table.drop("records").iter_rows(named=True):
        row["evidence"] = evidence.get(row["finding"], [])
        row["vm"] = row["collection"] if analysis.several_vms else None
        out.append(row)
    return out


def _anchor(findings: list[dict]) -> None:
    """Give each finding its stable anchor: severity, category and its place among those."""
    seen: dict[tuple[str, str], int] = {}
    for f in findings:
        key = (f["severity"], f["category"])
        f["anchor"] = f"finding-{key[0]}-{key[1]}-{seen.get(key, 0)}"
        seen[key] = seen.get(key, 0) + 1


def _grouped(findings: tuple[Finding, ...]) -> tuple[SeverityGroup, ...]:
    """Findings by severity, then category (alphabetical), each group in report order."""
    grouped = []
    for severity in SEVERITIES:
        of_severity = [f for f in findings if f.severity == severity]
        categories = tuple(
            CategoryGroup(category, tuple(f for f in of_severity if f.category == category))
            for category in sorted({f.category for f in of_severity})
        )
        if categories:
            grouped.append(SeverityGroup(severity, categories))
    return tuple(grouped)


def verdict(analysis: Analysis) -> str:
    """One paragraph in plain words: how many problems, and the most severe ones."""
    counts = analysis.counts()
    caveat = _not_understood(analysis)
    unexplained = unexplained_text(analysis)
    if analysis.rule_failures:
        failed = f"{len(analysis.rule_failures)} rule run(s) failed on this input and their findings are missing"
        caveat = f"{caveat}, and {failed}" if caveat else failed
    if not counts["error"] and not counts["warning"]:
        caveat = "; ".join(filter(None, [caveat, unexplained])) or None
        if caveat:
            return f"No errors or warnings found, but {caveat}: this is not a clean bill of health."
        return "No errors or warnings found: the logs show the agent and its extensions working normally."
    problems = analysis.findings.table.filter(pl.col("severity").is_in(["error", "warning"]))
    lead = f"{counts['error']} error(s) and {counts['warning']} warning(s) found."
    several = analysis.several_vms
    if several:
        hit = problems["collection"].drop_nulls().n_unique()
        lead = f"{lead[:-1]} in {hit} of the {len(analysis.collections)} VM collections loaded."

    def said(f: dict) -> str:
        # The stderr tail belongs in the finding, not in the one-paragraph verdict.
        text = f"{f['summary'].split('; stderr:')[0].rstrip('.')}."
        return f"{f['collection']}: {text}" if several and f["collection"] else text

    worst = " ".join(said(f) for f in problems.head(3).iter_rows(named=True))
    return (
        f"{lead} Most severe: {worst}"
        + (f" Note: {caveat}; findings there come from searching it as plain text." if caveat else "")
        + (f" Besides: {unexplained}." if unexplained else "")
    )


def unexplained_text(analysis: Analysis) -> str | None:
    """`3 error record(s) no rule explained and 1 input file(s) not read`, or None when all is accounted."""
    parts = []
    if analysis.unexplained["errors"]:
        parts.append(f"{analysis.unexplained['errors']:,} error record(s) no rule explained (listed under other errors)")
    unread = not_read(analysis)
    if unread:
        parts.append(f"{len(unread):,} input file(s) were not read")
    return " and ".join(parts) or None


def not_read(analysis: Analysis) -> list[str]:
    """Files found but not read because nothing in them was recognised (documents and key
    material skipped by their names are not counted: they are never logs)."""
    return [name for name in analysis.load.ignored if name in analysis.load.looked_like]


#: From this share of unparsed lines on, the verdict says how much was not understood.
NOT_UNDERSTOOD_SHARE = 0.5


def _not_understood(analysis: Analysis) -> str | None:
    """`1,234 of 2,000 lines (62%) were not recognised as agent, extension or Azure text`, or None."""
    lines = sum(a.lines for a in analysis.load.accounts)
    unparsed = sum(a.unparsed for a in analysis.load.accounts)
    if not lines or unparsed / lines < NOT_UNDERSTOOD_SHARE:
        return None
    return f"{unparsed:,} of {lines:,} lines ({unparsed / lines:.0%}) were not recognised as agent, extension or Azure text"


def inputs(load: LoadResult) -> tuple[InputAccount, ...]:
    """A load's line accounting as typed rows, for `loglens parse` (which shows paths as read,
    as it always has: it writes the unredacted frames too)."""
    return tuple(typed(InputAccount, account.row()) for account in load.accounts)
