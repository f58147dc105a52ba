#!/usr/bin/env python3
"""How much of what the agent and the extensions can log the message catalogue covers.

    python -m mining.coverage                 # the table: per agent family and extension repository
    python -m mining.coverage --open REPO [FAMILY]   # the error/warning formats neither mapped nor triaged

Reads the committed inventory (`mining/inventory/*.jsonl`, made by `mining/mine.py`) and the
triage files (`mining/triage/*.toml`). An error or warning format is **mapped** when a catalogue
entry (other than a mere `mention.`) matches it with its placeholders filled in, and **triaged**
when a triage file marks it "no diagnosis" with a one-line reason. Coverage = (mapped + triaged)
/ formats, per unit: each WALinuxAgent generation family, and each extension repository.
Formats from test code (tests/, tests_e2e/, dcr/, *_test.go) are not messages a VM logs and are
left out.
"""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
INVENTORY = HERE / "inventory"
TRIAGE = HERE / "triage"
WALA = "Azure/WALinuxAgent"
#: What a placeholder may have held: a number, a word, a path. A format is mapped when any filling matches.
FILLS = ("1", "x", "/var/lib/waagent/x")
_TEST_CODE = re.compile(r"(^|/)(tests?|tests_e2e|dcr|testdata)/|_test\.go$|(^|/)test_[^/]*\.py$")
_TRIAGE_FIELDS = {"reason", "ids"}


@dataclass(frozen=True)
class Format:
    id: str
    repo: str
    units: tuple[str, ...]
    level: str
    text: str
    where: str


def formats() -> list[Format]:
    """Error and warning formats of the inventory, test code left out."""
    out = []
    for path in sorted(INVENTORY.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if r["level"] not in ("error", "warning") or _TEST_CODE.search(r["where"].split(":")[0]):
                continue
            units = tuple(f"WALinuxAgent {f}" for f in r["family"]) if r["repo"] == WALA else (r["repo"],)
            out.append(Format(r["id"], r["repo"], units, r["level"], r["format"], r["where"]))
    return out


def triaged() -> dict[str, str]:
    """Format id -> the reason it has no diagnosis, from every triage file (checked)."""
    reasons: dict[str, str] = {}
    for path in sorted(TRIAGE.glob("*.toml")):
        for number, group in enumerate(tomllib.loads(path.read_text()).get("no_diagnosis", []), 1):
            if set(group) != _TRIAGE_FIELDS or not group["reason"].strip() or "\n" in group["reason"]:
                raise ValueError(f"{path.name} group {number}: needs a one-line `reason` and `ids`")
            for format_id in group["ids"]:
                reasons[format_id] = group["reason"]
    return reasons


def samples(text: str) -> list[str]:
    """The format with its placeholders filled each way."""
    return [text.replace("{}", fill) for fill in FILLS]


def mapped(found: list[Format]) -> dict[str, set[str]]:
    """Format id -> catalogue ids that match it (diagnosing entries only, not mentions)."""
    from catalogue.match import ids_of

    texts = [s for f in found for s in samples(f.text)]
    hits = ids_of(texts)
    out: dict[str, set[str]] = {}
    per = len(FILLS)
    for index, f in enumerate(found):
        ids = set().union(*hits[index * per : (index + 1) * per])
        out[f.id] = {i for i in ids if not i.startswith("mention.")}
    return out


def table() -> dict[str, dict[str, int]]:
    """Per unit: formats, mapped, triaged, open."""
    found = formats()
    by_catalogue, reasons = mapped(found), triaged()
    rows: dict[str, dict[str, int]] = defaultdict(lambda: {"formats": 0, "mapped": 0, "triaged": 0, "open": 0})
    for f in found:
        state = "mapped" if by_catalogue[f.id] else "triaged" if f.id in reasons else "open"
        for unit in f.units:
            rows[unit]["formats"] += 1
            rows[unit][state] += 1
    return dict(sorted(rows.items()))


def coverage(row: dict[str, int]) -> float:
    return (row["mapped"] + row["triaged"]) / row["formats"] if row["formats"] else 1.0


def render_table() -> str:
    """The coverage table as Markdown (for docs/catalogue.md)."""
    lines = [
        "Error and warning formats that `mining/mine.py` found in each source's history, and how many a",
        "catalogue entry matches (mapped) or `mining/triage/` marks \"no diagnosis\" with a reason (triaged).",
        "",
        "| unit | formats | mapped | triaged | open | coverage |",
        "|---|---|---|---|---|---|",
    ]
    for unit, row in table().items():
        lines.append(
            f"| {unit} | {row['formats']} | {row['mapped']} | {row['triaged']} | {row['open']} | {coverage(row):.1%} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open", nargs="+", metavar=("REPO", "FAMILY"), help="list the open formats of a unit")
    args = parser.parse_args()
    if args.open:
        found, reasons = formats(), triaged()
        by_catalogue = mapped(found)
        for f in found:
            wanted = f.repo == args.open[0] and (len(args.open) == 1 or f"WALinuxAgent {args.open[1]}" in f.units)
            if wanted and not by_catalogue[f.id] and f.id not in reasons:
                print(json.dumps({"id": f.id, "level": f.level, "format": f.text, "where": f.where}))
        return
    print(f"{'unit':45} {'formats':>7} {'mapped':>7} {'triaged':>7} {'open':>6} {'coverage':>8}")
    for unit, row in table().items():
        print(f"{unit:45} {row['formats']:7} {row['mapped']:7} {row['triaged']:7} {row['open']:6} {coverage(row):8.1%}")


if __name__ == "__main__":
    main()
