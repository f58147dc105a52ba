"""Rule hits into findings and evidence frames: hits sliced from one frame give the same frames as
hits that own their rows, and evidence is redacted only when `redacted_evidence` finishes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from loglens.finding_frames import findings_frames, redacted_evidence
from loglens.findings import MAX_EVIDENCE_CHARS, Hit
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


def test_sliced_hits_give_the_frames_of_hits_that_own_their_rows():
    frame = _rows(12)
    cuts = [(0, 3), (3, 1), (4, 5), (9, 3)]
    own = [Hit(f"episode {i}", frame.slice(o, n).clone()) for i, (o, n) in enumerate(cuts)]
    sliced = [Hit.sliced(f"episode {i}", frame, o, n) for i, (o, n) in enumerate(cuts)]
    # A hit of its own between runs of slices ends a run and starts the next.
    middle = Hit("apart", _rows(2))
    mixed_own = own[:2] + [middle] + own[2:]
    mixed_sliced = sliced[:2] + [middle] + sliced[2:]
    for a, b in ((own, sliced), (mixed_own, mixed_sliced)):
        results_a = [("vm", rule_module, hit) for hit in a]
        results_b = [("vm", rule_module, hit) for hit in b]
        table_a, evidence_a = findings_frames(results_a)
        table_b, evidence_b = findings_frames(results_b)
        assert table_a.equals(table_b)
        assert evidence_a.equals(evidence_b)
    assert table_b["count"].to_list() == [3, 1, 2, 5, 3]


def test_evidence_is_redacted_then_cut_when_finished():
    secret = "sig=" + "A" * 40
    rows = _rows(1).with_columns(message=pl.lit("GET https://x.blob.core.windows.net/c/b?sv=2020&" + secret + " " + "x" * 2000))
    _table, evidence = findings_frames([("vm", rule_module, Hit("one", rows))])
    assert secret in evidence["text"][0]  # as logged until the findings are final
    text = redacted_evidence(evidence)["text"][0]
    assert secret not in text
    assert text.endswith(" [...]") and len(text) == MAX_EVIDENCE_CHARS + len(" [...]")
