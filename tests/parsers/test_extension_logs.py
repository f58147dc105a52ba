"""Extension log formats: Go logfmt and slog handlers, Python HandlerUtil logs, the platform logger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from parsers import Source, VmTimezone
from parsers.formats.extension_logs import SAMPLE_LINES, extension_from_path, read_extension_logs


def parse(tmp_path: Path, relative: str, text: str, tz: str = "UTC"):
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    frame, accounts = read_extension_logs([Source.file(path)], tz=VmTimezone.parse(tz))
    assert accounts[0].balanced, accounts[0]
    return frame, accounts[0]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_customscript_logfmt_with_shim_lines(tmp_path):
    frame, account = parse(
        tmp_path,
        "var/log/azure/custom-script/handler.log",
        "+ nohup /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.6/bin/custom-script-extension enable\n"
        "time=2025-02-01T10:00:00Z version=v2.1.6/git@0a1b2c3-clean operation=enable seq=5 event=start\n"
        'time=2025-02-01T10:00:09+01:00 version=v2.1.6/git@0a1b2c3-clean operation=enable seq=5 event="failed to handle" '
        'error="failed to execute command: command terminated with exit status=127\\n[stderr]\\n/bin/sh: 1: ech: not found"\n',
    )
    assert frame["log_format"].to_list() == ["shim", "go-logfmt", "go-logfmt"]
    assert frame["extension"].unique().to_list() == ["Microsoft.Azure.Extensions.CustomScript"]
    assert frame["extension_version"].to_list() == [None, "2.1.6", "2.1.6"]
    assert frame["operation"].to_list() == [None, "enable", "enable"]
    assert frame["sequence"].to_list() == [None, 5, 5]
    assert frame["timestamp"].to_list() == [None, utc(2025, 2, 1, 10), utc(2025, 2, 1, 9, 0, 9)]
    assert frame["level"].to_list() == [None, "INFO", "ERROR"]
    assert frame["event"][2] == "failed to handle"
    assert frame["error"][2].endswith("status=127\n[stderr]\n/bin/sh: 1: ech: not found")
    assert account.records == 3


def test_applicationhealth_slog(tmp_path):
    frame, _ = parse(
        tmp_path,
        "var/log/azure/applicationhealth-extension/handler.log",
        "time=2025-02-01T10:00:00.250Z level=WARN version=v2.0.29/git@1-clean pid=9 operation=enable seq=1 "
        'task=ReportHealth event="Health state changed to unhealthy"\n',
    )
    row = frame.row(0, named=True)
    assert (row["log_format"], row["level"], row["extension"]) == (
        "go-slog",
        "WARNING",
        "Microsoft.ManagedServices.ApplicationHealthLinux",
    )
    assert row["timestamp"] == datetime(2025, 2, 1, 10, 0, 0, 250000, tzinfo=UTC)
    assert row["event"] == "Health state changed to unhealthy"


def test_python_handlerutil_log_in_local_time(tmp_path):
    frame, _ = parse(
        tmp_path,
        "var/log/azure/Microsoft.OSTCExtensions.VMAccessForLinux/extension.log",
        "2025/03/14 09:40:01 [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.25] sequence number is 3\n"
        "2025/03/14 09:51:30 ERROR: [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.25] Failed to enable: [Errno 28] No space left on device\n"
        "2025/03/14 09:51:30 ERROR:Unsupported operating system: debian 9.13\n"
        "2025/03/14 09:51:30 [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.25] Enable,error,0,Enable failed: [Errno 28] No space left on device\n",
        tz="+01:00",
    )
    assert frame["log_format"].unique().to_list() == ["python"]
    assert frame["timestamp"][0] == utc(2025, 3, 14, 8, 40, 1)
    assert frame["timestamp_local_assumed"].all()
    assert frame["level"].to_list() == ["INFO", "ERROR", "ERROR", "INFO"]
    assert frame["message"][1] == "Failed to enable: [Errno 28] No space left on device"
    assert frame["message"][2] == "Unsupported operating system: debian 9.13"
    assert frame["extension_version"].to_list() == ["1.5.25", "1.5.25", None, "1.5.25"]
    echo = frame.row(3, named=True)
    assert (echo["operation"], echo["status"], echo["status_code"]) == ("Enable", "error", 0)


def test_status_echo_with_code_51(tmp_path):
    frame, _ = parse(
        tmp_path,
        "var/log/azure/Microsoft.Azure.Monitor.AzureMonitorLinuxAgent/extension.log",
        "2025/03/14 10:20:33 [Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2] Install,failed,51,Unsupported operating system: debian 9.13\n",
    )
    row = frame.row(0, named=True)
    assert (row["operation"], row["status"], row["status_code"]) == ("Install", "failed", 51)


def test_disk_encryption_tag_version_is_not_the_extension_version(tmp_path):
    frame, _ = parse(
        tmp_path,
        "var/log/azure/Microsoft.Azure.Security.AzureDiskEncryptionForLinux/1.1.0.48/extension.log",
        "2025/03/14 17:00:00 [Microsoft.Azure.Security.AzureDiskEncryptionForLinux-1.0]: set most recent sequence number to 2\n",
    )
    assert frame["extension_version"][0] == "1.1.0.48"  # from the old per-version log folder
    assert frame["message"][0] == "set most recent sequence number to 2"


def test_platform_log_folds_goroutine_dump(tmp_path):
    frame, account = parse(
        tmp_path,
        "var/log/azure/Contoso.Platform.Inventory/log_1754384400",
        "Info 2025/08/05 09:12:00 Running operation enable for seqNo 1\n"
        "Error 2025/08/05 09:12:30 Enable failed: connection refused\ngoroutine 1 [running]:\nmain.main()\n",
    )
    assert frame["log_format"].to_list() == ["platform", "platform"]
    assert frame["operation"][0] == "enable" and frame["sequence"][0] == 1
    assert frame["level"].to_list() == ["INFO", "ERROR"]
    assert (frame["line_first"][1], frame["line_last"][1]) == (2, 4)
    assert frame["timestamp_local_assumed"].to_list() == [False, False]
    assert (account.records, account.continuations) == (2, 2)


def test_unknown_format_is_read_line_by_line_with_sniffed_time(tmp_path):
    frame, _ = parse(
        tmp_path,
        "var/log/azure/Contoso.Thing/agent.log",
        "2025-03-14 10:00:00,123 INFO starting\nno timestamp here\n2025-03-14T10:00:01+02:00 done\n",
    )
    assert frame["log_format"].to_list() == ["text", "text", "text"]
    assert frame["timestamp"].to_list() == [
        datetime(2025, 3, 14, 10, 0, 0, 123000, tzinfo=UTC),
        None,
        utc(2025, 3, 14, 8, 0, 1),
    ]
    assert frame["message"][1] == "no timestamp here"


def test_extension_from_path():
    assert extension_from_path(Path("/x/var/log/azure/run-command-handler/handler.log")) == (
        "Microsoft.CPlat.Core.RunCommandHandlerLinux",
        None,
    )
    assert extension_from_path(Path("var/log/azure/Foo.Bar/2.3.4/extension.log")) == ("Foo.Bar", "2.3.4")
    assert extension_from_path(Path("var/log/messages")) == (None, None)


def test_secret_in_runcommand_log_is_kept_in_frame_but_redacted_on_export(tmp_path):
    from loglens.api import export_records

    frame, _ = parse(
        tmp_path,
        "var/log/azure/run-command-handler/handler.log",
        "time=2025-02-01T10:00:00Z version=v1.3.28/git@1-clean operation=enable extensionName=RC1 "
        'message="RunAs cmd is echo password=Hunter2! | sudo -S -u ops /tmp/script.sh"\n',
    )
    out = export_records(frame, tmp_path / "x.csv")
    assert "Hunter2" not in out.read_text()
    assert pl.read_csv(out)["message"][0].count("«REDACTED»") == 1


@pytest.mark.parametrize(("line", "expected"), SAMPLE_LINES, ids=[s[0][:40] for s in SAMPLE_LINES])
def test_each_format_reads_its_sample_line(tmp_path, line, expected):
    # A Go handler's shim lines only count as shim beside its logfmt lines, so each sample is
    # read after one line of its own family.
    lead = SAMPLE_LINES[0][0] if expected["log_format"] == "shim" else ""
    frame, _ = parse(
        tmp_path, "var/log/azure/Microsoft.Azure.Extensions.CustomScript/handler.log", f"{lead}\n{line}\n".lstrip()
    )
    row = frame.row(frame.height - 1, named=True)
    for column, value in expected.items():
        got = row[column]
        assert (str(got) if column in ("log_format", "level") and got is not None else got) == value, (column, row)


def test_files_read_together_parse_as_each_alone(tmp_path):
    """Small logs are split and parsed in batches; each file must come out as if read by itself:
    its own format, line numbers, folding and accounting, whatever its neighbours are."""
    texts = {
        "a/handler.log": "continuation before any record\n2025/03/14 10:20:33 ERROR:boom\n  at frame 1\n",
        "b/handler.log": "time=2025-03-14T09:14:10Z version=v2.1.19 operation=enable seq=4 event=start",
        "c/handler.log": "\n\n",
        "d/handler.log": "Error 2025/03/14 09:12:05 Enable failed\ngoroutine 1 [running]:\n",
        "e/handler.log": "plain text one\r\nplain \x00text two\r\n",
        "f/handler.log": "2025/03/14 10:20:33 ok\n" * 3 + "orphan? no, a continuation\n",
        "g/handler.log": "",
        "h/handler.log": "caf\xc3\xa9 bad \xff byte\n",
    }
    paths = []
    for relative, text in texts.items():
        path = tmp_path / "var/log/azure" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("latin-1") if "\xff" in text else text.encode())
        paths.append(path)
    zone = VmTimezone.parse("UTC")
    together, accounts = read_extension_logs([Source.file(p) for p in paths], tz=zone)
    alone = [read_extension_logs([Source.file(p)], tz=zone) for p in paths]
    assert together.equals(pl.concat([frame for frame, _ in alone]))
    rows = [(a.lines, a.records, a.continuations, a.unparsed, a.first_time, a.warnings) for a in accounts]
    assert rows == [(a.lines, a.records, a.continuations, a.unparsed, a.first_time, a.warnings) for _, (a,) in alone]
    assert all(a.balanced for a in accounts)
    assert [a.lines for a in accounts] == [3, 1, 2, 2, 2, 4, 0, 1]
