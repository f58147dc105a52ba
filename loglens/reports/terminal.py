"""The terminal summary of an analysis: findings by severity, each with where its evidence is."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from loglens.engine import Analysis
from loglens.printable import printable
from loglens.reports import model

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
#: Evidence locations listed per finding on the terminal (the JSON has all kept evidence).
_LOCATIONS = 3


def render(analysis: Analysis, *, wrap: bool = True, report: dict | None = None) -> Group:
    """A renderable summary: counts, findings, unexplained errors, inputs.

    ``wrap``: for a terminal, findings wrap with a hanging indent; otherwise (piped) each row is
    one unpadded line, for grep.
    """
    if report is None:
        report = model.build(analysis, facts=False)
    counts = report["counts"]
    lines = sum(i["lines"] for i in report["inputs"])
    parts = [
        Text.assemble(
            ("loglens: ", "bold"),
            (f"{counts['error']} error(s)", _STYLE["error"] if counts["error"] else ""),
            ", ",
            (f"{counts['warning']} warning(s)", _STYLE["warning"] if counts["warning"] else ""),
            f", {counts['info']} info; {len(report['inputs'])} source(s), {lines:,} lines",
        )
    ]
    for finding in report["findings"]:
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
    if report["other_errors"]:
        table = Table(title="Other errors and warnings no rule explains", title_justify="left")
        table.add_column("count", justify="right")
        table.add_column("message template", overflow="fold")
        table.add_column("example", overflow="fold")
        for other in report["other_errors"]:
            # Text, not str: log text must never be read as Rich markup (`[/]` in a message).
            table.add_row(
                str(other["count"]),
                Text(printable(other["template"])),
                Text(printable(f"{other['path']}:{other['line']}")),
            )
        parts.append(table)
    if report["warnings"]:
        parts.append(Text(f"{len(report['warnings'])} input warning(s); see stderr", style="yellow"))
    return Group(*parts)


def _indented(text: Text) -> Text:
    """A detail row under the rule name, keeping its own wrapping (an evidence location never folds)."""
    line = Text.assemble(" " * 8, text)
    line.no_wrap, line.overflow = text.no_wrap, text.overflow
    return line


def _finding(finding: dict) -> list[tuple[Text, Text]]:
    """Rows of one finding: its head, then one row per evidence location and the related rules."""
    # With several VMs loaded, say whose finding it is before what it is.
    vm = f"[{printable(finding['vm'])}] " if finding["vm"] else ""
    head = Text.assemble((f"{finding['rule']}  ", "bold"), (vm, "bold"), printable(finding["summary"]))
    rows = [(Text(finding["severity"].upper(), style=_STYLE[finding["severity"]]), head)]
    evidence = finding["evidence"][:_LOCATIONS]
    for index, e in enumerate(evidence):
        where = printable(f"{e['path']}:{e['line']}" if e["line"] else e["path"])
        more = (
            f" (+{finding['count'] - _LOCATIONS} more)"
            if index == len(evidence) - 1 and finding["count"] > _LOCATIONS
            else ""
        )
        # One location per line, never folded: a `file:line` must survive copy and paste whole.
        rows.append((Text(""), Text(f"evidence: {where}{more}", style="dim", no_wrap=True, overflow="ignore")))
    if finding["related"]:
        rows.append((Text(""), Text(f"related: {', '.join(finding['related'])}", style="dim")))
    return rows


def print_summary(analysis: Analysis, console: Console, report: dict | None = None) -> None:
    """Print the summary to ``console`` (``report``: the run's report model, if built already)."""
    # No cropping: an evidence line longer than the terminal overflows whole rather than being cut.
    console.print(render(analysis, wrap=console.is_terminal, report=report), crop=False)
