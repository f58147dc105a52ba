"""What the terminal shows, as Rich renderables the CLI prints: the summary of a `Report`
(findings by severity, each with where its evidence is), the line accounting of `loglens parse`,
and the rules list and one rule's documentation of `loglens rules`.
"""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from loglens.printable import printable
from loglens.reports.report import Finding, InputAccount, Report

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
#: Evidence locations listed per finding on the terminal (the JSON has all kept evidence).
_LOCATIONS = 3


def render(report: Report, *, wrap: bool = True) -> Group:
    """A renderable summary: counts, findings, unexplained errors, inputs (print it uncropped:
    an evidence line longer than the terminal overflows whole rather than being cut).

    ``wrap``: for a terminal, findings wrap with a hanging indent; otherwise (piped) each row is
    one unpadded line, for grep.
    """
    if not isinstance(report, Report):
        raise TypeError(f"terminal.render shows a Report, not {type(report).__name__}")
    counts = report.counts
    lines = sum(i.lines for i in report.inputs)
    parts = [
        Text.assemble(
            ("loglens: ", "bold"),
            (f"{counts.error} error(s)", _STYLE["error"] if counts.error else ""),
            ", ",
            (f"{counts.warning} warning(s)", _STYLE["warning"] if counts.warning else ""),
            f", {counts.info} info; {len(report.inputs)} source(s), {lines:,} lines",
        )
    ]
    for finding in report.findings:
        head, *details = _finding(finding)
        if wrap:
            # A grid gives the head a hanging indent: wrapped text stays right of the severity.
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True, width=7)
            grid.add_column()
            grid.add_row(*head)
            parts.append(grid)
        else:
            parts.append(Text.assemble(head[0], " " * (8 - len(head[0])), head[1]))
        parts += [_indented(text) for _, text in details]
    if report.other_errors:
        table = Table(title="Other errors and warnings no rule explains", title_justify="left")
        table.add_column("count", justify="right")
        table.add_column("message template", overflow="fold")
        table.add_column("example", overflow="fold")
        for other in report.other_errors:
            # Text, not str: log text must never be read as Rich markup (`[/]` in a message).
            table.add_row(
                str(other.count),
                Text(printable(other.template)),
                Text(printable(f"{other.path}:{other.line}")),
            )
        parts.append(table)
    if report.warnings:
        parts.append(Text(f"{len(report.warnings)} input warning(s); see stderr", style="yellow"))
    return Group(*parts)


def _indented(text: Text) -> Text:
    """A detail row under the rule name, keeping its own wrapping (an evidence location never folds)."""
    line = Text.assemble(" " * 8, text)
    line.no_wrap, line.overflow = text.no_wrap, text.overflow
    return line


def _finding(finding: Finding) -> list[tuple[Text, Text]]:
    """Rows of one finding: its head, then one row per evidence location and the related rules."""
    # With several VMs loaded, say whose finding it is before what it is.
    vm = f"[{printable(finding.vm)}] " if finding.vm else ""
    head = Text.assemble((f"{finding.rule}  ", "bold"), (vm, "bold"), printable(finding.summary))
    rows = [(Text(finding.severity.upper(), style=_STYLE[finding.severity]), head)]
    evidence = finding.evidence[:_LOCATIONS]
    for index, e in enumerate(evidence):
        where = printable(f"{e.path}:{e.line}" if e.line else e.path)
        more = (
            f" (+{finding.count - _LOCATIONS} more)"
            if index == len(evidence) - 1 and finding.count > _LOCATIONS
            else ""
        )
        # One location per line, never folded: a `file:line` must survive copy and paste whole.
        rows.append((Text(""), Text(f"evidence: {where}{more}", style="dim", no_wrap=True, overflow="ignore")))
    if finding.related:
        rows.append((Text(""), Text(f"related: {', '.join(finding.related)}", style="dim")))
    return rows


#: Columns of the full accounting table after the path.
_ACCOUNT_COLUMNS = ("kind", "lines", "records", "continuations", "unparsed", "skipped", "adds up")
#: Terminal width from which the full table is shown.
FULL_TABLE_WIDTH = 150
#: Files not read named after the accounting table; the rest are counted.
_IGNORED_SHOWN = 5


def accounting(inputs: tuple[InputAccount, ...], ignored: tuple[str, ...], *, width: int | None = None) -> Group:
    """`loglens parse`'s line accounting per source, then the files not read.

    ``width``: a terminal's width; one narrower than the full table gets a compact one
    (`62 = 38 + 24 + 0 + 0`) whose path middles are elided, never folded over rows. None: the
    full table (piped output).
    """
    parts: list = [_accounting_table(inputs, width)]
    if ignored:
        more = ", ..." if len(ignored) > _IGNORED_SHOWN else ""
        shown = ", ".join(printable(p) for p in ignored[:_IGNORED_SHOWN]) + more
        parts.append(Text(f"{len(ignored)} file(s) not read (not a source loglens knows): {shown}"))
    return Group(*parts)


def _accounting_table(inputs: tuple[InputAccount, ...], width: int | None) -> Table:
    compact = width is not None and width < FULL_TABLE_WIDTH
    table = Table(title="Line accounting (lines = records + continuations + unparsed + skipped)", box=box.SIMPLE_HEAD)
    headers = ("kind", "lines = r + c + u + s", "ok") if compact else _ACCOUNT_COLUMNS
    table.add_column("file", no_wrap=True)
    for name in headers:
        table.add_column(name, justify="left" if name == "kind" else "right", no_wrap=True)
    rows = []
    for a in inputs:
        numbers = [f"{n:,}" for n in (a.lines, a.records, a.continuations, a.unparsed, a.skipped)]
        ok = "yes" if a.balanced else "NO"
        if compact:
            rows.append([printable(a.path), a.kind, f"{numbers[0]} = {' + '.join(numbers[1:])}", ok])
        else:
            rows.append([printable(a.path), a.kind_shown, *numbers, ok])
    if compact and rows:
        others = sum(max(len(h), *(len(r[i + 1]) for r in rows)) + 3 for i, h in enumerate(headers))
        room = max(16, width - others - 4)
        for row in rows:
            row[0] = _elided(row[0], room)
    for row in rows:
        # Text, not str: a path must never be read as Rich markup (`[/x]` in an archive member name).
        table.add_row(*(Text(cell) for cell in row))
    return table


def _elided(path: str, width: int) -> str:
    """``path`` cut in the middle to ``width`` characters, keeping its start and its file name."""
    if len(path) <= width:
        return path
    tail = min(len(path) - 1, max(width * 2 // 3, width - 12))
    head = max(1, width - tail - 1)
    return f"{path[:head]}…{path[-(width - head - 1) :]}"

