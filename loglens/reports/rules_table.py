"""The rules as a table, from the registry: `loglens rules` prints it, the README carries it.

`python -m loglens.reports.rules_table` writes the README's table between its markers (a test
checks it is current), so the list of rules, their categories, severities, statuses and what
explains them is written once, in each rule's `Rule`.
"""

from __future__ import annotations

import sys
from pathlib import Path

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
