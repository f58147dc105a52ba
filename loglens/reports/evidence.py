"""A finding's evidence as the HTML and Markdown reports show it: blocks of log around it.

Each shown evidence line brings its whole record and up to `CONTEXT_LINES` records before and
after it. The windows of one finding in one source that overlap or touch become one block, with
every evidence record marked in it: neighbouring evidence lines used to get a block each, so a
burst of five showed the same lines five times.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from loglens.findings import CONTEXT_LINES, neighbour_lines
from loglens.records import columns
from loglens.redact import redact_texts
from loglens.reports.matched import matched_lines, parts, rule_messages
from loglens.timefmt import stamp

#: Evidence lines shown per finding in the reports (the JSON document holds every kept line).
MAX_EVIDENCE_SHOWN = 5
#: Characters of one log line shown in context.
MAX_LINE_CHARS = 400
#: Lines of one evidence record shown at most (a command's whole output is rarely longer).
MAX_RECORD_LINES = 200
_TEXT_FRAMES = ("waagent", "command_execution", "extension_logs", "nearby")


def add_blocks(frames: dict[str, pl.DataFrame], nearby: pl.DataFrame | None, findings: list[dict]) -> None:
    """Give each finding its `blocks`: `{path, lines, records}`, one per merged window of its
    shown evidence (`lines`: the evidence lines in it), in evidence order.

    A block's `records` are `{line, lines, hidden, is_evidence, parts}`: an evidence record with
    every line (its `[stdout]`/`[stderr]` sections included; `parts` says which fold, see
    `loglens.reports.matched.parts`), a neighbour by its first line. Two joins over the text
    frames (and the records a streamed analysis read back, ``nearby``): the evidence records,
    then their neighbours.
    """
    if nearby is not None:
        frames = {**frames, "nearby": nearby}
    shown = [e for f in findings for e in f["evidence"][:MAX_EVIDENCE_SHOWN] if e["line"] is not None]
    starts = {(e["path"], e["line"]) for e in shown}
    records = _records_at(frames, starts) if starts else {}
    last = {key: records[key]["line_last"] if key in records else key[1] for key in starts}
    around = {(path, line) for (path, first), end in last.items() for line in neighbour_lines(first, end)}
    if around:
        records.update(_records_at(frames, around))
    texts = dict(zip(records, redact_texts([_record_text(row) for row in records.values()]), strict=True))
    for f in findings:
        windows = _windows(f["evidence"][:MAX_EVIDENCE_SHOWN], last)
        f["blocks"] = [_block(window, texts) for window in windows]
        _fold(f["blocks"], rule_messages(f["rule"]))


def _windows(evidence: list[dict], last: dict[tuple[str, int], int]) -> list[dict[str, Any]]:
    """The evidence's context windows, those of one source that overlap or touch merged:
    `{path, start, end, evidence: {line: text}}` (a line with no number is a window alone)."""
    windows = [
        {"path": e["path"], "start": None, "end": None, "evidence": {None: e["text"]}}
        if e["line"] is None
        else {
            "path": e["path"],
            "start": e["line"] - CONTEXT_LINES,
            "end": last[(e["path"], e["line"])] + CONTEXT_LINES,
            "evidence": {e["line"]: e["text"]},
        }
        for e in evidence
    ]
    return _joined(windows)


def _joined(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``windows`` with each one that overlaps or touches an earlier one of its source merged
    into it, until none does (a window that grew may reach one it did not before)."""

    def meets(a: dict, b: dict) -> bool:
        placed = a["start"] is not None and b["start"] is not None
        return placed and a["path"] == b["path"] and a["start"] <= b["end"] + 1 and b["start"] <= a["end"] + 1

    out: list[dict[str, Any]] = []
    for window in windows:
        other = next((w for w in out if meets(w, window)), None)
        if other is None:
            out.append(window)
        else:
            other["start"], other["end"] = min(other["start"], window["start"]), max(other["end"], window["end"])
            other["evidence"] = {**window["evidence"], **other["evidence"]}
    return out if len(out) == len(windows) else _joined(out)


def _block(window: dict[str, Any], texts: dict[tuple[str, int], str]) -> dict[str, Any]:
    """One window's records, in line order: the evidence records whole (their evidence text when
    the text frames do not hold them), the neighbours by their first line."""
    path, marked = window["path"], window["evidence"]
    if window["start"] is None:
        return {"path": path, "lines": [], "records": [_entry(marked[None], None, evidence=True)]}
    records = []
    for line in range(max(1, window["start"]), window["end"] + 1):
        if line in marked and (path, line) not in texts:
            # Not a text log's record (a status or instance-view message): its lines are not
            # the file's lines, so they go unnumbered.
            records.append(_entry(marked[line], None, evidence=True))
        elif line in marked:
            records.append(_entry(texts[(path, line)], line, evidence=True))
        elif (path, line) in texts:
            records.append(_entry(texts[(path, line)], line, evidence=False))
    return {"path": path, "lines": sorted(marked), "records": records}


def _fold(blocks: list[dict], ids: tuple[str, ...]) -> None:
    """Mark which lines of each evidence record fold away (`parts`), never the matched ones."""
    entries = [r for b in blocks for r in b["records"] if r["is_evidence"]]
    matched = matched_lines([r.pop("whole") for r in entries], ids)
    for entry, lines in zip(entries, matched, strict=True):
        entry["parts"] = parts(entry["lines"], lines)
    for block in blocks:
        for record in block["records"]:
            record.pop("whole", None)
            record.setdefault("parts", [{"at": 0, "lines": record["lines"], "open": True}])


def _records_at(frames: dict[str, pl.DataFrame], wanted: set[tuple[str, int]]) -> dict:
    """(path, first line) -> record row, for records of the text frames starting at the given lines."""
    keys = pl.DataFrame(
        list(wanted), schema={"source_path": pl.String, "line_first": pl.UInt32}, orient="row"
    ).unique()
    found: dict[tuple[str, int], dict] = {}
    columns_wanted = ["source_path", "line_first", "line_last", "timestamp", "level", "message"]
    for name in _TEXT_FRAMES:
        if name in frames and frames[name].height:
            near = columns(frames[name], columns_wanted).join(keys, on=["source_path", "line_first"], how="semi")
            found.update(((r["source_path"], r["line_first"]), r) for r in near.iter_rows(named=True))
    return found


def _record_text(row: dict) -> str:
    level = f"{row['level']} " if row["level"] else ""
    return f"{stamp(row['timestamp'])}{level}{row['message'] or ''}"


def _entry(text: str, line: int | None, *, evidence: bool) -> dict[str, Any]:
    """A record shown in a block: its lines (an evidence record whole, a neighbour by its first
    line); an evidence record keeps its `whole` text until its matched lines are found."""
    lines = text.split("\n")
    entry: dict[str, Any] = {"line": line, "is_evidence": evidence}
    if evidence:
        entry["whole"] = text
    elif len(lines) > 1:
        lines = [f"{lines[0]} [... {len(lines) - 1} more line(s)]"]
    entry["lines"] = [part[:MAX_LINE_CHARS] for part in lines[:MAX_RECORD_LINES]]
    entry["hidden"] = max(0, len(lines) - MAX_RECORD_LINES)
    return entry
