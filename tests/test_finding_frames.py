"""Rule hits into findings and evidence frames: hits given as frames (`Hits`) give the same frames
as one `Hit` each, known-benign hits are calibrated, and evidence is redacted only when
`redacted_evidence` finishes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from loglens.finding_frames import findings_frames, held, redacted_evidence
from loglens.findings import MAX_EVIDENCE_CHARS, Hit, Hits
from loglens.rules import wireserver_unreachable as rule_module


def _rows(n: int) -> pl.DataFrame:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            "record": pl.Series(range(n), dtype=pl.UInt32),
            "source_path": ["vm/waagent.log"] * n,
            "line_first": pl.Series(range(1, n + 1), dtype=pl.UInt32),
            "timestamp": [start + timedelta(minutes=i) for i in range(n)],
            "message": [f"failure {i}" for i in range(n)],
        }
    )


def test_hits_as_frames_give_the_frames_of_one_hit_each():
    frame = _rows(12)
    cuts = [(0, 3), (3, 1), (4, 5), (9, 3)]
    own = [Hit(f"episode {i}", frame.slice(o, n).clone(), count=None if i != 2 else 2) for i, (o, n) in enumerate(cuts)]
    table = pl.DataFrame(
        {"summary": [f"episode {i}" for i in range(4)], "rows": [n for _, n in cuts], "count": [None, None, 2, None]},
        schema_overrides={"rows": pl.UInt32, "count": pl.Int64},
    )
    framed = Hits(table, frame)
    # A hit of its own before and after the frames keeps its place in the numbering.
    middle = Hit("apart", _rows(2), severity="warning")
    for a, b in ((own, [framed]), ([middle, *own, middle], [middle, framed, middle])):
        table_a, evidence_a = findings_frames([("vm", rule_module, hit) for hit in a])
        table_b, evidence_b = findings_frames([("vm", rule_module, hit) for hit in b])
        assert table_a.equals(table_b)
        assert evidence_a.equals(evidence_b)
    assert table_b["count"].to_list() == [2, 3, 1, 2, 3, 2]
    assert table_b["severity"].to_list() == ["warning", "error", "error", "error", "error", "warning"]


def test_held_hits_give_the_same_findings_with_only_the_columns_findings_read():
    """`held` (what the engine keeps of each hit while the other rules run) drops the rows' other
    columns and changes no finding or evidence."""
    wide = _rows(6).with_columns(fields=pl.lit("a catalogue field"), extra=pl.lit(1))
    table = pl.DataFrame({"summary": ["one", "two"], "rows": [2, 4]}, schema_overrides={"rows": pl.UInt32})
    hits = [Hit("alone", wide.head(3), severity="warning"), Hits(table, wide)]
    kept = [held(hit) for hit in hits]
    assert (
        kept[0].rows.columns == kept[1].rows.columns == ["record", "source_path", "line_first", "timestamp", "message"]
    )
    assert kept[0].severity == "warning" and kept[1].table.equals(table)
    before = findings_frames([("vm", rule_module, hit) for hit in hits])
    after = findings_frames([("vm", rule_module, hit) for hit in kept])
    assert before[0].equals(after[0]) and before[1].equals(after[1])


def test_hits_that_miscount_their_rows_are_refused():
    table = pl.DataFrame({"summary": ["a", "b"], "rows": [2, 2]}, schema_overrides={"rows": pl.UInt32})
    with pytest.raises(ValueError, match="counts 4 rows"):
        Hits(table, _rows(3))
    with pytest.raises(ValueError, match="stray"):
        Hits(table.with_columns(title=pl.lit("x")), _rows(4))


def test_hits_proven_by_known_benign_lines_alone_are_calibrated():
    benign_line = (
        "Error fetching the goal state: [ProtocolError] [ResourceGoneError] [HTTP Failed] [410: Gone] "
        "The page you requested was removed."
    )
    rows = _rows(8).with_columns(message=pl.lit(benign_line))
    table = pl.DataFrame(
        {"summary": ["two", "six"], "rows": [2, 6], "corroborated": [False, False]},
        schema_overrides={"rows": pl.UInt32},
    )
    findings, _ = findings_frames([("vm", rule_module, Hits(table, rows))])
    assert findings["severity"].to_list() == ["info", "error"]
    assert "; known benign:" in findings["summary"][0]
    assert "this many is not" in findings["summary"][1]
    # Corroborated hits keep their severity and say nothing of it.
    findings, _ = findings_frames([("vm", rule_module, Hits(table.with_columns(corroborated=pl.lit(True)), rows))])
    assert findings["severity"].to_list() == ["error", "error"]
    assert findings["summary"].to_list() == ["two", "six"]


def test_evidence_is_redacted_then_cut_when_finished():
    secret = "sig=" + "A" * 40
    rows = _rows(1).with_columns(
        message=pl.lit("GET https://x.blob.core.windows.net/c/b?sv=2020&" + secret + " " + "x" * 2000)
    )
    _table, evidence = findings_frames([("vm", rule_module, Hit("one", rows))])
    assert secret in evidence["text"][0]  # as logged until the findings are final
    text = redacted_evidence(evidence)["text"][0]
    assert secret not in text
    assert text.endswith(" [...]") and len(text) == MAX_EVIDENCE_CHARS + len(" [...]")
