"""What the engineer sees of the inputs, round two: every path, member and line accounted for,
and nothing shown as read that was not (a real subprocess, as the user runs it)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_output_safety import REPO, loglens

HEALTHY_LOG = REPO / "sample_logs" / "vm-healthy" / "var" / "log" / "waagent.log"


def test_a_typo_among_several_paths_names_every_missing_one_and_exits_2(tmp_path):
    """`analyze vm-healthy vm-helthy` used to pass as a smaller input with a healthy verdict."""
    run = loglens(
        "analyze", "sample_logs/vm-healthy", "sample_logs/vm-helthy", "sample_logs/vm-moderm", "-q", cwd=REPO
    )
    assert run.returncode == 2
    assert "sample_logs/vm-helthy" in run.stderr and "sample_logs/vm-moderm" in run.stderr
    assert "no such file or directory" in run.stderr and run.stdout == ""


def test_a_single_loose_file_is_shown_as_itself_not_its_folder(tmp_path):
    """`analyze /some/dir/waagent.log` showed the whole folder as the VM's files."""
    log = tmp_path / "downloads" / "waagent.log"
    log.parent.mkdir()
    log.write_bytes(HEALTHY_LOG.read_bytes())
    (log.parent / "unrelated.txt").write_text("not read\n")
    out = tmp_path / "r.md"
    run = loglens("analyze", str(log), "--markdown", str(out), "-q", cwd=REPO)
    assert run.returncode == 0, run.stderr
    (row,) = [line for line in out.read_text().splitlines() if line.startswith("| VM files |")]
    assert row == f"| VM files | `{log}` |"


def test_a_one_line_text_paste_is_not_called_a_truncated_json(tmp_path):
    """A pasted error line opening with `[` was reported as "not complete JSON (a truncated paste?)"."""
    paste = tmp_path / "paste.txt"
    paste.write_text("[ExtensionOperationError] Non-zero exit code: 127, bin/install.sh\n")
    run = loglens("analyze", str(paste), "--json", "-", cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert "JSON" not in run.stderr and "truncated" not in run.stderr


def test_a_half_downloaded_zip_keeps_its_intact_members_and_says_what_was_lost(tmp_path):
    """A zip cut to 60% said "members listed before the damage were kept", then "no files found"."""
    whole = (REPO / "sample_logs" / "vm-rhel-logcollector.zip").read_bytes()
    cut = tmp_path / "logs.zip"
    cut.write_bytes(whole[: len(whole) * 6 // 10])
    run = loglens("analyze", str(cut), "--json", "-", cwd=REPO)
    assert run.returncode in (0, 1), run.stderr
    assert "no files found" not in run.stderr and "listed before the damage" not in run.stderr
    assert f"{cut}: cut short or damaged, with no member directory; kept 17 of ? members (" in run.stderr
    assert f"lost the rest from byte 5,657 of {len(whole) * 6 // 10:,}: a member header is cut short" in run.stderr
    inputs = json.loads(run.stdout)["inputs"]
    assert len(inputs) == 17 and all(i["path"].startswith(f"{cut}!") for i in inputs)


def test_pasted_lines_stamped_with_a_time_or_date_output_are_records_each(tmp_path):
    """Time-only and `date`-style stamps folded a whole paste into one record with no timestamps."""
    paste = tmp_path / "paste.txt"
    paste.write_text(
        "Thu Dec  3 06:25:20 UTC 2026\n"
        "VM has reported a failure when processing extension 'cse'. Error message: \"Enable failed: exit status=1\"\n"
        "06:25:21.02 [ExtensionOperationError] Non-zero exit code: 127, bin/install.sh\n"
        "06:25:22.58 [stdout]\n"
        "hello\n"
    )
    out = tmp_path / "r.md"
    run = loglens("analyze", str(paste), "--json", "-", "--markdown", str(out), "-q", cwd=REPO)
    assert run.returncode in (0, 1), run.stderr
    (source,) = json.loads(run.stdout)["inputs"]
    assert (source["kind"], source["lines"], source["records"], source["unparsed"]) == ("text", 5, 3, 0)
    assert "| Logs cover | 2026-12-03 06:25:20 UTC to 2026-12-03 06:25:20 UTC |" in out.read_text()
