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


def render(analysis: Analysis) -> Group:
    """A renderable summary: counts, findings, unexplained errors, inputs."""
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
        parts += _finding(finding)
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


def _finding(finding: dict) -> list[Text]:
    # With several VMs loaded, say whose finding it is before what it is.
    vm = f"[{printable(finding['vm'])}] " if finding["vm"] else ""
    head = Text.assemble(
        (f"{finding['severity'].upper():8}", _STYLE[finding["severity"]]),
        (f"{finding['rule']}  ", "bold"),
        (vm, "bold"),
        printable(finding["summary"]),
    )
    evidence = finding["evidence"][:_LOCATIONS]
    where = ", ".join(f"{e['path']}:{e['line']}" if e["line"] else e["path"] for e in evidence)
    more = f" (+{finding['count'] - _LOCATIONS} more)" if finding["count"] > _LOCATIONS else ""
    out = [head, Text(f"        evidence: {printable(where)}{more}", style="dim")]
    if finding["related"]:
        out.append(Text(f"        related: {', '.join(finding['related'])}", style="dim"))
    return out


def print_summary(analysis: Analysis, console: Console) -> None:
    """Print the summary to ``console``."""
    console.print(render(analysis))
