"""The waagent.log grammar: every generation, continuation folding, time zones, rotation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from parsers import read_waagent
from parsers.collect import collect
from parsers.schema import WAAGENT_COLUMNS, polars_schema
from parsers.waagent_format import SAMPLE_LINES, rotation_sort_key
from parsers.wrappers import WRAPPERS


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("line", "expected"), SAMPLE_LINES, ids=[s[0][:48] for s in SAMPLE_LINES])
def test_sample_line_parses(parse_text, line, expected):
    row = parse_text(line + "\n").frame.row(0, named=True)
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("line", "stamp", "message"),
    [
        ("2017/09/12 16:40:33", datetime(2017, 9, 12, 16, 40, 33), ""),
        ("2017/09/12 16:40:33 ok", datetime(2017, 9, 12, 16, 40, 33), "ok"),
        ("2017/09/12 16:40:33.5", datetime(2017, 9, 12, 16, 40, 33, 500000), ""),
        ("2017/09/12 16:40:33.5 ok", datetime(2017, 9, 12, 16, 40, 33, 500000), "ok"),
        ("2017/08/14 20:21:57.25 LAD started", datetime(2017, 8, 14, 20, 21, 57, 250000), "LAD started"),
        ("2019/06/18 09:14:10.8 INFO Daemon Up", datetime(2019, 6, 18, 9, 14, 10, 800000), "Up"),
        ("2025-03-02T11:05:41.1234567Z INFO go", datetime(2025, 3, 2, 11, 5, 41, 123456), "go"),
        ("2025-03-02T11:05:41.12345Z INFO go", datetime(2025, 3, 2, 11, 5, 41, 123450), "go"),
        ("2025-03-02T11:05:41Z INFO go", datetime(2025, 3, 2, 11, 5, 41), "go"),
    ],
)
def test_short_stamps_keep_their_time(parse_text, line, stamp, message):
    """Stamps without a six-digit fraction, down to a bare stamp, keep their time and message."""
    row = parse_text(line + "\n").frame.row(0, named=True)
    assert (row["timestamp"], row["message"]) == (stamp.replace(tzinfo=UTC), message)


def test_frame_conforms_to_schema(parse_text):
    frame = parse_text("2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler hello\n").frame
    assert frame.schema == polars_schema(WAAGENT_COLUMNS)


def test_iso_generation_is_utc_and_not_local(parse_text):
    row = parse_text("2024-05-13T17:34:12.409342Z WARNING EnvHandler ExtHandler firewall check\n").frame.row(
        0, named=True
    )
    assert row["timestamp"] == datetime(2024, 5, 13, 17, 34, 12, 409342, tzinfo=UTC)
    assert row["timestamp_local_assumed"] is False
    assert row["line_format"] == "agent-iso"


def test_legacy_generation_without_thread(parse_text):
    frame = parse_text(
        """
        2019/06/18 09:14:03.551920 INFO Azure Linux Agent Version:2.2.18
        2019/06/18 09:14:11.104558 INFO ExtHandler Agent WALinuxAgent-2.2.38 is running as the goal state agent
        2019/06/18 10:14:30.222101 WARNING Agent WALinuxAgent-2.2.40 is permanently blacklisted
        """
    ).frame
    assert frame["line_format"].to_list() == ["agent-legacy"] * 3
    assert frame["level"].to_list() == ["INFO", "INFO", "WARNING"]
    assert frame["process"].to_list() == [None, "ExtHandler", None]
    assert frame["thread"].to_list() == [None, None, None]
    assert frame["timestamp"][0] == datetime(2019, 6, 18, 9, 14, 3, 551920, tzinfo=UTC)
    assert frame["timestamp_local_assumed"].all()


def test_lines_without_microseconds_are_extension_lines(parse_text):
    row = parse_text("2017/08/14 20:21:57 LinuxAzureDiagnostic started to handle.\n").frame.row(0, named=True)
    assert row["timestamp"] == utc(2017, 8, 14, 20, 21, 57)
    assert (row["line_format"], row["level"], row["message"]) == (
        "extension",
        "INFO",
        "LinuxAzureDiagnostic started to handle.",
    )


def test_odd_width_fractions_still_parse(parse_text):
    frame = parse_text(
        """
        2024-05-13T17:34:12Z INFO ExtHandler ExtHandler no fraction
        2024-05-13T17:34:12.5Z ERROR ExtHandler [Foo.Bar-1.2] short fraction
        2019/06/18 09:14:03.5519 INFO Daemon Run daemon
        """
    ).frame
    assert frame["line_format"].to_list() == ["agent-iso", "agent-iso", "agent-legacy"]
    assert frame["timestamp"].to_list() == [
        utc(2024, 5, 13, 17, 34, 12),
        datetime(2024, 5, 13, 17, 34, 12, 500000, tzinfo=UTC),
        datetime(2019, 6, 18, 9, 14, 3, 551900, tzinfo=UTC),
    ]
    assert frame["message"].to_list() == ["no fraction", "short fraction", "Run daemon"]
    assert frame["extension"].to_list() == [None, "Foo.Bar", None]
    assert frame["process"].to_list() == ["ExtHandler", "ExtHandler", "Daemon"]


def test_event_record_folds_output_block_with_extension_shaped_lines(parse_text):
    frame = parse_text(
        """
        2025-01-22T07:21:08.771902Z INFO ExtHandler [Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2] Enable extension: [./shim.sh -enable]
        2025-01-22T07:21:10.003327Z ERROR ExtHandler ExtHandler Event: name=Microsoft.Azure.Monitor.AzureMonitorLinuxAgent, op=Enable, message=[ExtensionOperationError] Non-zero exit code: 51, /var/lib/waagent/x/./shim.sh -enable
        [stdout]
        2025/01/22 07:21:09 Azure Monitoring Agent for Linux started to handle.
        2025/01/22 07:21:09 ERROR:Unsupported operating system: flatcar 4152.2.0

        [stderr]
        , duration=0
        2025/01/22 07:21:11 AMA wrote this after the block closed
        """
    )
    frame = result_frame = frame.frame
    assert frame.height == 3
    event = result_frame.row(1, named=True)
    assert (event["line_first"], event["line_last"]) == (2, 8)
    assert event["operation"] == "Enable"
    assert event["extension"] == "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent"
    assert event["event_duration_ms"] == 0
    assert event["event_message"].endswith("ERROR:Unsupported operating system: flatcar 4152.2.0\n\n[stderr]")
    assert event["message"].count("\n") == 6
    after = result_frame.row(2, named=True)
    assert (after["line_first"], after["line_format"]) == (9, "extension")


def test_command_output_block_closes_at_next_agent_line(parse_text):
    frame = parse_text(
        """
        2025-04-03T11:40:03.290047Z INFO ExtHandler [Microsoft.Azure.Extensions.CustomScript-2.1.10] Command: bin/custom-script-shim enable
        [stdout]
        2025/04/03 11:40:03 echoed by the script
        [stderr]
        2025-04-03T11:40:09.118861Z INFO ExtHandler ExtHandler Extension status: [('Microsoft.Azure.Extensions.CustomScript', 'transitioning')]
        """
    ).frame
    assert frame["line_first"].to_list() == [1, 5]
    assert frame["line_last"].to_list() == [4, 5]


def test_traceback_and_firewall_dump_are_continuations(parse_text):
    result = parse_text(
        """
        2025-05-20T04:30:11.552101Z ERROR ExtHandler ExtHandler Error fetching the goal state: [ProtocolError] boom
        Traceback (most recent call last):
          File "bin/WALinuxAgent-2.15.0.1-py3.12.egg/azurelinuxagent/common/protocol/wire.py", line 563, in call_wireserver
        azurelinuxagent.common.exception.HttpError: [HttpError] boom
        2019/04/02 07:58:12.648120 INFO Firewall rules:
        Chain OUTPUT (policy ACCEPT 3 packets, 180 bytes)
               0        0 DROP       tcp  --  *      *       0.0.0.0/0            168.63.129.16        ctstate INVALID,NEW

        """
    )
    account = result.accounts[0]
    assert (account.lines, account.records, account.continuations, account.unparsed) == (8, 2, 6, 0)
    assert result.frame["message"][0].splitlines()[-1].startswith("azurelinuxagent.common.exception.HttpError")


def test_blank_message_lines_keep_their_header(parse_text):
    frame = parse_text(
        "2025-03-02T11:05:41.220183Z INFO ExtHandler \n2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler \n"
    ).frame
    assert frame["message"].to_list() == ["", ""]
    assert frame["thread"].to_list() == ["ExtHandler", "ExtHandler"]


def test_mixed_generations_keep_file_order_and_apply_tz_to_local_lines(parse_text):
    frame = parse_text(
        """
        2019/06/18 10:14:13.902114 INFO Determined Agent WALinuxAgent-2.2.53 to be the latest agent
        2019-06-18T08:14:15.001000Z INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 2.2.53)
        2019/06/18 10:14:16 [Some.Ext-1.0] extension line in local time
        """,
        tz="+02:00",
    ).frame
    assert frame["line_first"].to_list() == [1, 2, 3]
    assert frame["timestamp"].to_list() == [
        datetime(2019, 6, 18, 8, 14, 13, 902114, tzinfo=UTC),
        datetime(2019, 6, 18, 8, 14, 15, 1000, tzinfo=UTC),
        utc(2019, 6, 18, 8, 14, 16),
    ]
    assert frame["timestamp_local_assumed"].to_list() == [True, False, True]


def test_iana_zone_handles_daylight_saving(parse_text):
    frame = parse_text(
        "2019/01/15 12:00:00.000000 INFO winter\n2019/07/15 12:00:00.000000 INFO summer\n", tz="Europe/Berlin"
    ).frame
    assert frame["timestamp"].to_list() == [utc(2019, 1, 15, 11), utc(2019, 7, 15, 10)]


def test_orphan_lines_before_first_record_are_kept_unparsed(parse_text):
    result = parse_text(
        "tail of a record from the previous file\n\n2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler first\n"
    )
    frame = result.frame
    assert frame["line_format"].to_list() == ["unparsed", "unparsed", "agent-iso"]
    assert frame["timestamp"].null_count() == 2
    assert frame["message"][0] == "tail of a record from the previous file"
    assert result.accounts[0].unparsed == 2


def test_chunking_never_changes_the_result():
    with collect(["sample_logs"]) as found:
        whole = read_waagent(found.sources["waagent"])
        tiny = read_waagent(found.sources["waagent"], chunk_bytes=512)
    assert tiny.frame.equals(whole.frame)
    assert [(a.lines, a.records, a.continuations, a.unparsed) for a in tiny.accounts] == [
        (a.lines, a.records, a.continuations, a.unparsed) for a in whole.accounts
    ]


def test_rotated_files_are_ordered_oldest_first(tmp_path):
    names = [
        "waagent.log",
        "waagent.log.1",
        "waagent.log.2.gz",
        "waagent.log-2025-06-10-1749513600.gz",
        "waagent.log-2025-06-11-1749600000",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    with collect([tmp_path]) as sources:
        found = [s.logical_path.name for s in sources.sources["waagent"]]
    assert found == [
        "waagent.log.2.gz",
        "waagent.log.1",
        "waagent.log-2025-06-10-1749513600.gz",
        "waagent.log-2025-06-11-1749600000",
        "waagent.log",
    ]
    assert sorted(map(Path, names), key=rotation_sort_key)[-1] == Path("waagent.log")


def test_gzip_rotation_is_read_in_place():
    with collect(["sample_logs/vm-modern"]) as found:
        result = read_waagent(found.sources["waagent"])
    assert result.accounts[0].path.endswith(".gz")
    assert result.accounts[0].records > 0
    assert result.frame["timestamp"].is_sorted()


@pytest.mark.parametrize("path", sorted(str(p) for p in Path("sample_logs").rglob("waagent.log*")))
def test_accounting_adds_up_on_every_sample_file(path):
    result = read_waagent([path])
    account = result.accounts[0]
    assert account.lines > 0 and account.balanced
    assert account.warnings == []
    assert result.frame.height == account.records + account.unparsed
    covered = (result.frame["line_last"] - result.frame["line_first"] + 1).sum()
    assert covered == account.lines - 0  # every line sits in exactly one row's span
    assert result.frame.filter(pl.col("line_format") == "unparsed").height == account.unparsed


# Line kinds for the output-block check: (text, is a damaged line).
_BLOCK_KINDS = {
    "agent": b"2025-01-01T00:00:00.000000Z INFO ExtHandler ExtHandler msg",
    "extension": b"2025/01/01 00:00:00 extension msg",
    "mark": b"[stdout]",
    "tail": b", duration=5",
    "other": b"plain output",
    "bad-extension": b"2025/01/01 00:00:00 bad \xff",
    "bad-other": b"bad output \xff",
}


def _expected_lines(kinds: list[str]) -> list[tuple[int, bool]]:
    """(line, unparsed) for each record a line-by-line reading of the block rules makes."""
    seen_agent = mark = tail = any_start = False
    rows = []
    for number, kind in enumerate(kinds, start=1):
        in_block = False
        if kind == "agent":
            start, seen_agent, mark, tail = True, True, False, False
        else:
            mark = mark or kind == "mark"
            in_block = seen_agent and mark and not tail
            start = kind in ("extension", "bad-extension") and not in_block
            tail = tail or kind == "tail"
        any_start = any_start or start
        unparsed = not start and (not any_start or (kind.startswith("bad") and not in_block))
        if start or unparsed:
            rows.append((number, unparsed))
    return rows


@pytest.mark.parametrize("seed", range(12))
def test_output_blocks_match_a_line_by_line_reading(tmp_path, seed):
    import random

    rng = random.Random(seed)
    weights = {"agent": 5, "extension": 3, "mark": 2, "tail": 1, "other": 3, "bad-extension": 1, "bad-other": 1}
    kinds = rng.choices(list(weights), weights=list(weights.values()), k=400)
    path = tmp_path / "waagent.log"
    path.write_bytes(b"\n".join(_BLOCK_KINDS[k] for k in kinds) + b"\n")
    frame = read_waagent([path], chunk_bytes=2048).frame
    got = list(zip(frame["line_first"].to_list(), (frame["line_format"] == "unparsed").to_list(), strict=True))
    assert got == _expected_lines(kinds)


def test_agent_ascii_escapes_are_decoded(parse_text):
    # The agent writes non-ASCII text as backslash escapes; extensions' own lines are left alone.
    frame = parse_text(
        r"""
        2025-01-22T07:21:10.003327Z ERROR ExtHandler ExtHandler Event: name=Contoso.Audit, op=Install, message=[ExtensionOperationError] Non-zero exit code: 51, /var/lib/waagent/x/install.sh
        [stdout]
        Syst\xe8me non support\xe9 \u2019flatcar\u2019
        , duration=0
        2025-01-22T07:21:11.000001Z INFO ExtHandler ExtHandler path C:\x41 and \u00e9 stay as written
        2025/01/22 07:21:12 [Contoso.Audit-1.0] extension wrote \u2019 itself
        2019/06/18 09:14:10.882417 WARNING emoji \U0001f600 from a legacy agent
        """
    ).frame
    event, literal, extension, legacy = frame.rows(named=True)
    assert "Système non supporté ’flatcar’" in event["message"]
    assert "Système non supporté ’flatcar’" in event["event_message"]
    assert literal["message"] == r"path C:\x41 and \u00e9 stay as written"
    assert extension["message"] == r"extension wrote \u2019 itself"
    assert legacy["message"] == "emoji \U0001f600 from a legacy agent"


@pytest.mark.parametrize(("name", "sample"), [(name, sample) for name, _, sample in WRAPPERS])
def test_wrapper_samples_unwrap_to_an_agent_line(tmp_path, name, sample):
    # Each declared wrapper's real sample line: the inner line parses as if written plainly.
    log = tmp_path / "syslog"
    log.write_text(sample + "\n")
    frame = read_waagent([log]).frame
    assert frame.height == 1
    row = frame.row(0, named=True)
    assert row["wrapper"] == name, row
    if name != "ci":  # the CI sample wraps apt output, not an agent line: it stays a searchable unparsed row
        assert row["line_format"] != "unparsed" and row["timestamp"] is not None, row


def test_journald_copy_keeps_agent_records_and_other_programs_apart(tmp_path):
    # https://github.com/Azure/WALinuxAgent/issues/2695 (journald, traceback lines inside the prefix)
    # and https://github.com/flatcar/scripts/pull/1978 (other programs' lines in between).
    log = tmp_path / "journal.txt"
    log.write_text(
        "May 03 14:06:56 newname systemd-resolved[1538]: System hostname changed to 'newname'.\n"
        "Oct 30 00:00:12 recboxlogdb python3[1654075]: 2022-10-30T00:00:12.834844Z WARNING ExtHandler Traceback (most recent call last):\n"
        'Oct 30 00:00:12 recboxlogdb python3[1654075]:   File "/usr/lib/python3/dist-packages/azurelinuxagent/ga/update.py", line 268, in run\n'
        "May 03 14:06:57 newname sudo[2479]: pam_unix(sudo:session): session closed for user root\n"
    )
    result = read_waagent([log])
    (account,) = result.accounts
    assert (account.lines, account.records, account.continuations, account.unparsed) == (4, 1, 1, 2)
    record = result.frame.filter(pl.col("line_format") != "unparsed").row(0, named=True)
    assert record["message"].endswith('azurelinuxagent/ga/update.py", line 268, in run')
    assert (record["wrapper_host"], record["wrapper_ident"], record["wrapper_pid"]) == (
        "recboxlogdb",
        "python3",
        1654075,
    )
    assert record["timestamp"].isoformat() == "2022-10-30T00:00:12.834844+00:00"


def test_plain_log_has_no_wrapper_columns_set():
    log = Path(__file__).resolve().parents[2] / "sample_logs/vm-modern/var/log/waagent.log"
    frame = read_waagent([log]).frame
    assert frame["wrapper"].null_count() == frame.height


def test_a_posters_elision_line_is_its_own_unparsed_row(tmp_path):
    # https://github.com/Azure/WALinuxAgent/issues/1320 (corpus 064): `...` between two excerpts.
    log = tmp_path / "waagent.log"
    log.write_text(
        "2018/08/03 10:37:49.021883 INFO Azure Linux Agent Version:2.1.3\n"
        "...\n"
        "2018/08/21 00:26:18.075717 INFO Handle new ext handler config\n"
    )
    result = read_waagent([log])
    (account,) = result.accounts
    assert (account.records, account.continuations, account.unparsed) == (2, 0, 1)
    assert result.frame["message"].to_list() == [
        "Azure Linux Agent Version:2.1.3",
        "...",
        "Handle new ext handler config",
    ]


def test_agent_2_0_lines_posted_without_timestamps_are_records(tmp_path):
    # https://github.com/Azure/WALinuxAgent/issues/605 (corpus 048): every line `ERROR:`-prefixed, no time.
    log = tmp_path / "pasted.log"
    log.write_text(
        "as posted:\n"
        "ERROR:Error Traceback (most recent call last):\n"
        'ERROR:  File "/usr/sbin/waagent", line 5659, in AddExtensionEvent\n'
        "ERROR:Exception: WriteToFolder:Too many file under /var/lib/waagent/events exit\n"
        "  a wrapped tail\n"
    )
    result = read_waagent([log])
    (account,) = result.accounts
    assert (account.lines, account.records, account.continuations, account.unparsed) == (5, 3, 1, 1)
    bare = result.frame.filter(pl.col("line_format") == "agent-bare")
    assert bare["level"].cast(str).to_list() == ["ERROR"] * 3 and bare["timestamp"].null_count() == 3
    assert (
        bare["message"][2]
        == "Exception: WriteToFolder:Too many file under /var/lib/waagent/events exit\n  a wrapped tail"
    )


def test_error_prefixed_output_inside_a_timestamped_log_stays_output(tmp_path):
    log = tmp_path / "waagent.log"
    log.write_text("2019/06/18 09:14:11.104558 INFO ExtHandler Run a command\nERROR: not a record here\n")
    (account,) = read_waagent([log]).accounts
    assert (account.records, account.continuations) == (1, 1)


@pytest.mark.parametrize(
    "line",
    [
        # WALinuxAgent#2024 as posted: a syslog ident with the date cut off.
        'python3[1291]: 2020/09/25 07:23:46.795804 ERROR ExtHandler Event: name=WALinuxAgent, op=HealthObservation, message={"ObservationName": "InstanceMetadataHeartbeat", "IsHealthy": false}, duration=0',
        # WALinuxAgent#2836's line (case 008) as `grep -r` prints it, and after a prompt and a bullet.
        "/var/log/waagent.log.1:2023-06-05T16:19:18.931679Z INFO ExtHandler WireServer is not responding. Reset dhcp endpoint",
        "azureuser@vm:~$ 2023-06-05T16:19:18.931679Z INFO ExtHandler WireServer is not responding. Reset dhcp endpoint",
        "* 2023-06-05T16:19:18.931679Z INFO ExtHandler WireServer is not responding. Reset dhcp endpoint",
    ],
)
def test_any_prefix_before_an_agent_line_is_a_wrapper(tmp_path, line):
    log = tmp_path / "waagent.log"
    log.write_text(line + "\n")
    row = read_waagent([log]).frame.row(0, named=True)
    assert row["wrapper"] == "embedded" and row["timestamp"] is not None and row["line_format"] != "unparsed", row


def test_an_agent_line_quoting_a_timestamp_is_not_wrapped(tmp_path):
    log = tmp_path / "waagent.log"
    log.write_text("2023-06-05T16:19:18.931679Z INFO ExtHandler ExtHandler Last seen at 2023-06-05T16:00:00.000000Z INFO x\n")
    row = read_waagent([log]).frame.row(0, named=True)
    assert row["wrapper"] is None and row["message"].startswith("Last seen at"), row
