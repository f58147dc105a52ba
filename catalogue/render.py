"""The catalogue as a Markdown page (`docs/catalogue.md`), generated and checked for staleness.

    python -m catalogue.render > docs/catalogue.md
"""

from __future__ import annotations

from collections import defaultdict

from catalogue import FIELDS, load


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(coverage: str = "") -> str:
    """The page: how to read it, the fields, then every entry grouped by catalogue file."""
    catalogue = load()
    by_file: dict[str, list] = defaultdict(list)
    for entry in catalogue.entries:
        by_file[entry.file].append(entry)
    out = [
        "# The message catalogue",
        "",
        "Generated from `catalogue/entries/*.toml` by `python -m catalogue.render > docs/catalogue.md`;"
        " a test fails when this page is stale.",
        "",
        f"{len(catalogue.entries)} entries in {len(by_file)} files. Each is one message of the agent, an extension,"
        " a package tool or the control plane: a pattern (Rust regex, unanchored, so the message is found"
        " inside any wrapper) with named fields, the anchors the one multi-pattern pass looks for, its"
        " category and severity, verbatim examples (each tested to produce the id), its source and what it means.",
        "",
        "## Fields",
        "",
        "| field | holds |",
        "|---|---|",
        *[f"| `{name}` | {_cell(meaning)} |" for name, meaning in FIELDS.items()],
        "",
    ]
    if coverage:
        out += ["## Coverage of the mined message formats", "", coverage.rstrip(), ""]
    for file, entries in sorted(by_file.items()):
        out += [f"## `{file}.toml`", ""]
        for e in entries:
            out += [
                f"### `{e.id}`",
                "",
                f"- **category** {e.category}, **severity** {e.severity}"
                + (f", benign below {e.benign_unless} occurrences" if e.benign_unless else ""),
                f"- **meaning** {_cell(e.meaning)}",
            ]
            if e.remediation:
                out.append(f"- **remediation** {_cell(e.remediation)}")
            if e.raises:
                out.append(f"- **raised by** {_cell(e.raises)}")
            if e.lowers:
                out.append(f"- **lowered by** {_cell(e.lowers)}")
            if e.generations:
                out.append(f"- **generations** {_cell(', '.join(e.generations))}")
            out.append(f"- **source** {_cell(e.source)}")
            if e.fields:
                out.append(f"- **fields** {', '.join(f'`{f}`' for f in e.fields)}")
            out.append(f"- **pattern** `{e.pattern.replace('`', '')}`")
            out.append("- **examples**")
            out += [f"  - `{x.replace('`', '')}`" for x in e.examples]
            out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    from mining.coverage import render_table

    print(render_markdown(render_table()))
