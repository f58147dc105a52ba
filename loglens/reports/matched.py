"""Which lines of an evidence record hold what made it evidence, and how the record folds.

A rule reads records tagged with its catalogue messages (`Rule.messages`); the lines of a
record that hold such a message's match are the ones a reader needs. The HTML report folds long
records, but never those lines: a `[stdout]` or `[stderr]` part that holds a match stays open
(`E: Could not get lock` in the legacy sample's stderr was folded away under "4 more line(s)").
"""

from __future__ import annotations

from functools import cache

import polars as pl

import catalogue
from catalogue.match import ID, hits
from loglens.rules import REGISTRY

#: Lines of an evidence record shown before the rest folds away (expandable) in the HTML.
RECORD_LINES_OPEN = 6
#: A part holding a match opens whole up to this many lines; a longer one opens its marker and
#: the lines around each match (`MATCH_MARGIN` either side).
PART_LINES_OPEN = 30
MATCH_MARGIN = 2
#: The lines that start a command output's part, as the agent writes them.
PART_MARKERS = ("[stdout]", "[stderr]")


@cache
def rule_messages(rule: str) -> tuple[str, ...]:
    """The catalogue ids whose match made a record evidence of ``rule``: its `Rule.messages`
    (prefixes expanded), or, for a rule that declares none (it reports any catalogue message as
    it is), every entry but the `context` ones."""
    known = catalogue.load()
    declared = next((m.RULE.messages for m in REGISTRY if m.RULE.id == rule), ())
    if not declared:
        return tuple(e.id for e in known.entries if e.category != "context")
    exact = [m for m in declared if not m.endswith(".")]
    prefixes = tuple(m for m in declared if m.endswith("."))
    return tuple(sorted({*(i for i in exact if i in known.by_id), *(known.ids(prefix=prefixes) if prefixes else [])}))


def matched_lines(texts: list[str], ids: tuple[str, ...]) -> list[set[int]]:
    """For each text, the indices of its lines that hold a match of a catalogue entry of ``ids``
    (every line a match spans; the first match of each entry)."""
    out: list[set[int]] = [set() for _ in texts]
    if not texts or not ids:
        return out
    frame = pl.DataFrame({"message": texts}, schema={"message": pl.String}).with_row_index("text")
    found = hits(frame, "text", ids=ids).select("text", ID)
    entries = catalogue.load().by_id
    for (entry_id,), rows in found.partition_by(ID, as_dict=True).items():
        pattern = entries[entry_id].pattern
        spans = frame.join(rows, on="text", how="semi").select(
            "text", start=pl.col("message").str.find(pattern), whole=pl.col("message").str.extract(pattern, 0)
        )
        for index, start, whole in spans.iter_rows():
            if start is None or whole is None:
                continue
            # `str.find` counts bytes.
            first = texts[index].encode()[:start].count(b"\n")
            out[index].update(range(first, first + whole.count("\n") + 1))
    return out


def parts(lines: list[str], matched: set[int], *, first_open: int = RECORD_LINES_OPEN) -> list[dict]:
    """A record's lines as runs shown open or folded: `{at, lines, open}` (``at``: index of the
    run's first line).

    Open: the first ``first_open`` lines, and each part (the head, or a `[stdout]`/`[stderr]`
    section) that holds a ``matched`` line. A folded run of one or two lines is shown instead:
    folding it away would hide more than it saves.
    """
    shown = [index < first_open for index in range(len(lines))]
    starts = [0, *(i for i, line in enumerate(lines) if i and line.strip() in PART_MARKERS), len(lines)]
    for begin, end in zip(starts, starts[1:], strict=False):
        inside = sorted(m for m in matched if begin <= m < end)
        if not inside:
            continue
        if end - begin <= PART_LINES_OPEN:
            wanted = range(begin, end)
        else:
            near = (range(max(begin, m - MATCH_MARGIN), min(end, m + MATCH_MARGIN + 1)) for m in inside)
            wanted = {begin, *(i for span in near for i in span)}
        for index in wanted:
            shown[index] = True
    runs = _runs(shown)
    for run in runs:
        if not run["open"] and run["end"] - run["at"] <= 2:
            run["open"] = True
    merged: list[dict] = []
    for run in runs:
        if merged and merged[-1]["open"] == run["open"]:
            merged[-1]["end"] = run["end"]
        else:
            merged.append(dict(run))
    return [{"at": r["at"], "lines": lines[r["at"] : r["end"]], "open": r["open"]} for r in merged]


def _runs(flags: list[bool]) -> list[dict]:
    """Consecutive equal ``flags`` as `{at, end, open}` runs."""
    runs: list[dict] = []
    for index, flag in enumerate(flags):
        if runs and runs[-1]["open"] == flag:
            runs[-1]["end"] = index + 1
        else:
            runs.append({"at": index, "end": index + 1, "open": flag})
    return runs
