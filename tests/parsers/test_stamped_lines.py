"""Pasted text stamped with a time of day alone or with `date`'s output: each stamp starts a record
(they used to fold a whole file into one record with no time), and every line is accounted for."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from parsers import load_sources
from parsers.stamped_lines import SAMPLE_LINES


@pytest.mark.parametrize(("line", "expected"), SAMPLE_LINES, ids=[s[0][:40] for s in SAMPLE_LINES])
def test_sample_line_parses(parse_text, line, expected):
    row = parse_text(line + "\n", name="paste.log").frame.row(0, named=True)
    want = dict(expected)
    if "timestamp" in want:
        stamp = want.pop("timestamp")
        got = row["timestamp"]
        assert (got.replace(tzinfo=None) if got else None) == (datetime.fromisoformat(stamp) if stamp else None)
    if "local" in want:
        assert row["timestamp_local_assumed"] is want.pop("local")
    assert {k: row[k] for k in want} == want


def test_every_stamp_starts_a_record_and_every_line_is_counted(parse_text):
    result = parse_text(
        """\
        as posted by the customer:
        06:25:20.58 Enable failed: exit status=1
        06:25:20.60 [stdout]
        hello
        Thu Dec  3 06:25:21 UTC 2026
        VM has reported a failure when processing extension 'cse'
        06:25:22 ERROR:Exception: something broke
        """,
        name="paste.log",
    )
    (account,) = result.accounts
    assert (account.lines, account.records, account.continuations, account.unparsed) == (7, 4, 2, 1)
    assert account.balanced
    frame = result.frame
    formats = ["unparsed", "time-only", "time-only", "date-command", "time-only"]
    assert frame["line_format"].cast(str).to_list() == formats
    assert frame["line_first"].to_list() == [1, 2, 3, 5, 7] and frame["line_last"].to_list() == [1, 2, 4, 6, 7]
    dated = frame.filter(pl.col("line_format") == "date-command").row(0, named=True)
    assert dated["message"] == "VM has reported a failure when processing extension 'cse'"
    assert dated["timestamp"].replace(tzinfo=None) == datetime(2026, 12, 3, 6, 25, 21)
    assert frame.filter(pl.col("line_format") == "time-only")["timestamp"].null_count() == 3


def test_a_local_date_stamp_follows_the_vm_time_zone(parse_text):
    result = parse_text("Mon Jun 10 10:15:01 2024 Enable succeeded\n", name="paste.log", tz="+02:00")
    row = result.frame.row(0, named=True)
    assert row["timestamp"].replace(tzinfo=None) == datetime(2024, 6, 10, 8, 15, 1)
    assert row["timestamp_local_assumed"] is True


def test_an_agent_log_is_unchanged_by_the_other_stamps(parse_text):
    # In a chunk with agent headers, a `date` line is output of the record before it, as it always was.
    result = parse_text(
        """\
        2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler Command output:
        Thu Dec  3 06:25:21 UTC 2026
        06:25:22 done
        """
    )
    (account,) = result.accounts
    assert (account.records, account.continuations, account.unparsed) == (1, 2, 0)
    assert result.frame["line_format"].cast(str).to_list() == ["agent-iso"]


def test_a_date_stamped_paste_with_azure_status_text_is_a_log_not_one_control_plane_record(tmp_path):
    paste = tmp_path / "paste.txt"
    paste.write_text(
        "Mon Jun 10 10:15:01 2024 VM has reported a failure when processing extension 'cse'.\n"
        "Mon Jun 10 10:15:02 2024 [ExtensionOperationError] Non-zero exit code: 127, bin/install.sh\n"
    )
    (account,) = load_sources([paste]).accounts
    assert (account.kind, account.records, account.continuations) == ("text", 2, 0)
