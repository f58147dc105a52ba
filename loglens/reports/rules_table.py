"""The rules as a table, from the registry: `loglens rules` prints it (`terminal_table`, and one
rule's `documentation`), the README carries it.

`python -m loglens.reports.rules_table` writes the README's table between its markers (a test
checks it is current), so the list of rules, their categories, severities, statuses and what
explains them is written once, in each rule's `Rule`.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from rich.table import Table

from loglens.rules import REGISTRY

#: The README lines that enclose the generated table.
BEGIN = "<!-- rules table: generated from the registry by `python -m loglens.reports.rules_table` -->"
END = "<!-- end of rules table -->"
README = Path(__file__).resolve().parents[2] / "README.md"
HEADERS = ("rule", "category", "severity", "status", "a symptom of", "known false positives")


def rows() -> list[tuple[str, ...]]:
    """One row per rule, in registry order: the `HEADERS` columns as plain text."""
    out = []
    for module in REGISTRY:
        rule = module.RULE
        severity = f"{rule.severity}; {rule.severity_note}" if rule.severity_note else rule.severity
        causes = ", ".join(rule.symptom_of)
        count = len(rule.false_positives)
        benign = f"{count} benign catalogue entr{'y' if count == 1 else 'ies'}" if count else ""
        out.append((rule.id, rule.category, severity, rule.status, causes, benign))
    return out


def terminal_table() -> Table:
    """`loglens rules`: id, category, severity, status and title of each rule."""
    table = Table(title="loglens rules")
    for name in ("id", "category", "severity", "status", "title"):
        table.add_column(name)
    for module, row in zip(REGISTRY, rows(), strict=True):
        table.add_row(*row[:4], module.RULE.title)
    return table


def documentation(rule_id: str) -> str | None:
    """`loglens rules ID`: the rule's heading, its module's documentation and what it reads; None
    when there is no such rule."""
    module = next((m for m in REGISTRY if m.RULE.id == rule_id), None)
    if module is None:
        return None
    rule = module.RULE
    heading = f"{rule.id} ({rule.category}, {rule.severity}, {rule.status}): {rule.title}\n"
    lines = [heading, inspect.getdoc(module) or ""]
    lines.append(f"\nReads: catalogue messages {', '.join(rule.messages) or '(every message)'}")
    if rule.reads:
        lines.append(f"Reads frames and derived parts: {', '.join(rule.reads)}")
    if rule.symptom_of:
        lines.append(f"A symptom of (when the same record proves both): {', '.join(rule.symptom_of)}")
    if rule.false_positives:
        lines.append(f"Known false positives (benign catalogue entries): {', '.join(rule.false_positives)}")
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """The table in Markdown, ids and rule names as code."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for rule_id, category, severity, status, causes, benign in rows():
        causes = ", ".join(f"`{c}`" for c in causes.split(", ")) if causes else ""
        lines.append(f"| `{rule_id}` | {category} | {severity} | {status} | {causes} | {benign} |")
    return "\n".join(lines) + "\n"


def with_table(readme: str) -> str:
    """``readme`` with the text between `BEGIN` and `END` replaced by the current table."""
    head, found, rest = readme.partition(BEGIN + "\n")
    _, ended, tail = rest.partition(END)
    if not found or not ended:
        raise ValueError(f"README.md has no rules table markers ({BEGIN} ... {END})")
    return f"{head}{BEGIN}\n{markdown()}{END}{tail}"


if __name__ == "__main__":
    README.write_text(with_table(README.read_text()))
    sys.stdout.write(f"rules table written to {README}\n")
