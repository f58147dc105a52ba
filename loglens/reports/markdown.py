"""The report as Markdown for tickets and chat: verdict, facts, findings with evidence, inputs.

A renderer of the typed `Report` (`loglens.reports.report`) and nothing else."""

from __future__ import annotations

import regex

from loglens.printable import printable
from loglens.reports.report import EvidenceBlock, Extension, Finding, OtherError, Report, VmFacts
from loglens.timefmt import human


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in ``text``, so log text cannot close it."""
    longest = max((len(run) for run in text.split("\n") for run in _runs(run)), default=0)
    return "`" * max(3, longest + 1)


def _runs(line: str) -> list[str]:
    runs, current = [], ""
    for char in line:
        if char == "`":
            current += char
        elif current:
            runs.append(current)
            current = ""
    return runs + ([current] if current else [])


#: Characters that could make Markdown syntax of log text: links and images need `[`/`]`, HTML
#: needs `<`, emphasis `*`/`_`/`~`, code a backtick, a table cell ends at `|`.
_MARKUP = regex.compile(r"([\\`*_\[\]<>|~])")
#: GitHub turns bare `https://...` and `www.` text into links; an escaped `:` or `.` stops it.
_AUTOLINK = regex.compile(r"(?i)(?<=\b(?:https?|ftp|file))(:)(?=//)|(?<=\bwww)(\.)")


def inline(text: str | None) -> str:
    """Log text safe in a Markdown paragraph or table cell: one line, shown as written, never a
    link, image, HTML or table break."""
    text = " ".join(printable(text).split())
    return _AUTOLINK.sub(r"\\\1\2", _MARKUP.sub(r"\\\1", text))


def code(text: str | None) -> str:
    """Text as a one-line code span (a file:line, a rule id), whatever backticks it holds."""
    text = " ".join(printable(text).split())
    ticks = "`" * (max((len(run) for run in _runs(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    # GitHub splits table cells at a `|` even inside a code span unless it is escaped.
    text = text.replace("|", "\\|")
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _extension(entry: Extension) -> str:
    status = f" ({entry.status})" if entry.status else ""
    asked = entry.requested
    wanted = f"; goal state asks for {asked}" if asked and asked != entry.version else ""
    return inline(f"{entry.name} {entry.version or ''}{status}{wanted}")


def _facts_table(facts: tuple[VmFacts, ...]) -> list[str]:
    """Facts as rows, one column per VM collection."""

    def row(label: str, values: list[str]) -> str:
        return f"| {label} | " + " | ".join(values) + " |"

    def span(vm: VmFacts) -> str:
        return f"{human(vm.first_seen)} to {human(vm.last_seen)}" if vm.first_seen else "no timestamps"

    def extensions(vm: VmFacts) -> str:
        return "<br>".join(_extension(e) for e in vm.extensions) or "none seen"

    return [
        row("VM files", [code(vm.collection) for vm in facts]),
        "|---|" + "---|" * len(facts),
        row("Logs cover", [span(vm) for vm in facts]),
        row("Agent package (daemon)", [inline(vm.agent_package) or "not in the logs" for vm in facts]),
        row("Goal-state agent", [inline(vm.goal_state_agent) or "not in the logs" for vm in facts]),
        row("Distribution", [inline(vm.distro) or "not in the logs" for vm in facts]),
        row("AutoUpdate.Enabled", [inline(vm.auto_update) for vm in facts]),
        row("Extensions.Enabled", [inline(vm.extensions_enabled) for vm in facts]),
        row("Extensions", [extensions(vm) for vm in facts]),
    ]


def render(report: Report) -> str:
    """The Markdown report (``report`` built with its evidence blocks and facts for a full one:
    `loglens.reports.model.build`)."""
    if not isinstance(report, Report):
        raise TypeError(f"markdown.render writes a Report, not {type(report).__name__}")
    counts = report.counts
    covered = f" Logs cover {human(report.first_seen)} to {human(report.last_seen)}." if report.first_seen else ""
    out = [
        "# loglens report",
        "",
        f"Generated {human(report.generated_at)} by loglens {report.version}.{covered}",
        "",
        "## Verdict",
        "",
        inline(report.verdict),
        "",
        f"**{counts.error} error(s), {counts.warning} warning(s), {counts.info} info.**",
        "",
        *_facts_table(report.facts),
        "",
        "## Findings",
        "",
    ]
    for group in report.severities:
        for category in group.categories:
            for f in category.findings:
                out += _finding(group.severity, category.category, f)
    if not report.severities:
        out += ["No findings.", ""]
    return "\n".join(out + _other_errors(report.other_errors) + _inputs(report)) + "\n"


def _finding(severity: str, category: str, f: Finding) -> list[str]:
    """One finding: heading, summary, span, evidence in fences, what to do."""
    span = f", {human(f.first_seen)} to {human(f.last_seen)}" if f.first_seen else ""
    out = [
        f"### {severity.upper()} · {category} · `{f.rule}`" + (f" · {code(f.vm)}" if f.vm else ""),
        "",
        f"**{inline(f.summary)}**",
        "",
        f"{f.count} occurrence(s){span}" + (f"; related: {', '.join(f.related)}" if f.related else ""),
        "",
    ]
    for block in f.blocks:
        out += _evidence(block)
    # The remediation is loglens's own Markdown (commands in code spans), not log text.
    out += [f"What to do: {' '.join(f.remediation.split())}", ""]
    if f.docs:
        out += [f"Docs: <{f.docs}>", ""]
    return out


#: Marks the lines of an evidence record in a block; its neighbours get a space.
EVIDENCE_MARK = ">"


def _evidence(block: EvidenceBlock) -> list[str]:
    """One evidence block (`loglens.reports.evidence`) as one fence under its path, said once:
    each line numbered, the evidence records' lines marked with `EVIDENCE_MARK`."""
    where = f"{block.path}:{', '.join(map(str, block.lines))}" if block.lines else block.path
    body = []
    for record in block.records:
        mark = EVIDENCE_MARK if record.is_evidence else " "
        for index, text in enumerate(record.lines):
            number = record.line + index if record.line else ""
            body.append(f"{mark}{number:>6}  {text}".rstrip())
        if record.hidden:
            body.append(f"{mark}{'':>6}  [... {record.hidden} more line(s) not shown]")
    text = printable("\n".join(body), lines=True)
    fence = _fence(text)
    return [f"Evidence {code(where)}:", "", fence, text, fence, ""]


def _other_errors(other_errors: tuple[OtherError, ...]) -> list[str]:
    if not other_errors:
        return []
    out = ["## Other errors and warnings", "", "| count | template | example |", "|---|---|---|"]
    out += [
        f"| {o.count} | {inline(o.template)} | {code(o.path + ':' + str(o.line))} |" for o in other_errors
    ]
    return out + [""]


def _inputs(report: Report) -> list[str]:
    out = [
        "## Inputs",
        "",
        "| file | kind | lines | records | continuations | unparsed | skipped |",
        "|---|---|---|---|---|---|---|",
    ]
    out += [
        f"| {code(i.path)} | {i.kind_shown} | {i.lines} | {i.records} | {i.continuations} | {i.unparsed} | {i.skipped} |"
        for i in report.inputs
    ]
    if report.warnings:
        out += ["", "Warnings (input that could not be read fully, rules that failed):", ""] + [
            f"- {inline(w)}" for w in report.warnings_shown
        ]
    return out
