"""Legacy agent lines (2.1-2.2) pasted with their timestamps cut off are records, not unparsed text."""

from __future__ import annotations

from parsers import read_waagent

LINES = [
    "INFO [Microsoft.OSTCExtensions.LinuxDiagnostic-2.3.9027] Expected handler state: enabled",
    "INFO [Microsoft.OSTCExtensions.LinuxDiagnostic-2.3.9027] Use version: 2.3.9027",
    "INFO Event: name=Microsoft.OSTCExtensions.LinuxDiagnostic, op=Download, message=Download succeeded",
    "...",
    "ERROR ExtHandler Failed to report status",
    "  a continuation of that error",
    "INFO [Microsoft.OSTCExtensions.LinuxDiagnostic-2.3.9025] Disable extension.",
]


def test_stripped_legacy_lines_are_records_with_their_prefix(tmp_path):
    log = tmp_path / "pasted.log"
    log.write_text("\n".join(LINES) + "\n")
    result = read_waagent([log])
    frame, (account,) = result.frame, result.accounts
    assert (account.lines, account.records, account.continuations, account.unparsed) == (7, 5, 0, 2)
    records = frame.filter(frame["line_format"] != "unparsed")
    assert records["level"].to_list() == ["INFO", "INFO", "INFO", "ERROR", "INFO"]
    assert records["extension_version"].to_list() == ["2.3.9027", "2.3.9027", None, None, "2.3.9025"]
    assert records["extension"].to_list()[2] == "Microsoft.OSTCExtensions.LinuxDiagnostic"
    assert records["operation"].to_list()[2] == "Download"
    assert records["process"].to_list()[3] == "ExtHandler"
    assert records["message"].to_list()[1] == "Use version: 2.3.9027"
    # The poster's other text after a stripped line is not folded into it: it stays unparsed.
    unparsed = frame.filter(frame["line_format"] == "unparsed")["message"].to_list()
    assert unparsed == ["...", "  a continuation of that error"]
    assert records["timestamp"].null_count() == 5


def test_before_a_stamped_line_the_stripped_head_is_read_too(tmp_path):
    log = tmp_path / "mixed.log"
    log.write_text("\n".join([*LINES, "2017/08/14 20:21:57 LinuxAzureDiagnostic started to handle."]) + "\n")
    result = read_waagent([log])
    (account,) = result.accounts
    assert (account.lines, account.records, account.continuations, account.unparsed) == (8, 6, 0, 2)


def test_other_programs_level_words_stay_unparsed(tmp_path):
    log = tmp_path / "other.log"
    log.write_text("INFO Running apt-get update\nERROR something else\n")
    (account,) = read_waagent([log]).accounts
    assert account.records == 0 and account.unparsed == 2
