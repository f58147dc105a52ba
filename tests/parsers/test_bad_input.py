"""Bad input never raises: each case gives one clear warning naming the file, the rest goes on."""

from __future__ import annotations

import builtins
import gzip
from pathlib import Path

import polars as pl
import pytest

from parsers import read_waagent
from parsers.chunks import MAX_LINE_BYTES

GOOD = b"2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler first\n2025-03-02T11:05:42.220183Z INFO ExtHandler ExtHandler second\n"


def only_warning(result, path: Path) -> str:
    account = next(a for a in result.accounts if a.path == str(path))
    assert len(account.warnings) == 1, account.warnings
    warning = account.warnings[0]
    assert warning.startswith(f"{path}: ") and "\n" not in warning
    return warning


def test_invalid_utf8_is_replaced_and_reported(tmp_path):
    path = tmp_path / "waagent.log"
    path.write_bytes(
        GOOD + b"2025-03-02T11:05:43.0Z INFO ExtHandler ExtHandler caf\xe9 \xff\xfe\n[stdout]\n\xc3\x28 broken output\n"
    )
    result = read_waagent([path])
    assert "not valid UTF-8" in only_warning(result, path)
    assert result.frame.height == 3
    assert result.frame["message"][2].startswith("caf\ufffd \ufffd\ufffd\n[stdout]\n")
    assert result.accounts[0].balanced


def test_damaged_line_outside_output_block_is_kept_unparsed(tmp_path):
    path = tmp_path / "waagent.log"
    path.write_bytes(GOOD + b"\x00\x00\x00\x00\xff garbage\n" + GOOD)
    result = read_waagent([path])
    frame = result.frame
    assert frame["line_format"].to_list() == ["agent-iso", "agent-iso", "unparsed", "agent-iso", "agent-iso"]
    assert frame.filter(pl.col("line_format") == "unparsed")["line_first"].to_list() == [3]
    account = result.accounts[0]
    assert (account.lines, account.records, account.continuations, account.unparsed) == (5, 4, 0, 1)
    assert len(account.warnings) == 2  # NUL bytes and invalid UTF-8, one line each


def test_nul_prefix_from_copytruncate_is_stripped(tmp_path):
    path = tmp_path / "waagent.log"
    path.write_bytes(b"\x00" * 4096 + GOOD)
    result = read_waagent([path])
    assert "NUL bytes" in only_warning(result, path)
    assert result.frame["message"].to_list() == ["first", "second"]


def test_crlf_line_endings(tmp_path):
    path = tmp_path / "waagent.log"
    path.write_bytes(GOOD.replace(b"\n", b"\r\n"))
    result = read_waagent([path])
    assert "CRLF" in only_warning(result, path)
    assert result.frame["message"].to_list() == ["first", "second"]


def test_truncated_gzip_keeps_what_was_readable(tmp_path):
    path = tmp_path / "waagent.log.1.gz"
    data = gzip.compress(GOOD * 2000)
    path.write_bytes(data[: len(data) // 2])
    result = read_waagent([path])
    assert "truncated gzip" in only_warning(result, path)
    account = result.accounts[0]
    assert 0 < account.records < 4000 and account.balanced


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "waagent.log.2.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"not deflate at all" * 10)
    result = read_waagent([path])
    assert "corrupt gzip" in only_warning(result, path)


def test_gz_name_without_gzip_content_is_read_as_text(tmp_path):
    path = tmp_path / "waagent.log.3.gz"
    path.write_bytes(GOOD)
    result = read_waagent([path])
    assert "not gzip-compressed" in only_warning(result, path)
    assert result.frame.height == 2


def test_empty_file(tmp_path):
    path = tmp_path / "waagent.log"
    path.write_bytes(b"")
    result = read_waagent([path])
    assert "empty" in only_warning(result, path)
    assert result.frame.height == 0


def test_missing_path_and_directory_do_not_stop_other_inputs(tmp_path):
    good = tmp_path / "waagent.log"
    good.write_bytes(GOOD)
    missing = tmp_path / "nope.log"
    result = read_waagent([missing, tmp_path, good])
    assert "no such file" in only_warning(result, missing)
    assert "is a directory" in only_warning(result, tmp_path)
    assert result.frame.height == 2


def test_unreadable_file(tmp_path, monkeypatch):
    # Tests run as root, which bypasses file modes: simulate the OS refusal at the open() boundary.
    locked = tmp_path / "waagent.log"
    locked.write_bytes(GOOD)
    real_open = builtins.open

    def refusing_open(file, *args, **kwargs):
        if Path(file) == locked:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing_open)
    result = read_waagent([locked])
    assert "permission denied" in only_warning(result, locked)


def test_line_longer_than_a_chunk(tmp_path):
    path = tmp_path / "waagent.log"
    huge = b"x" * 300_000
    path.write_bytes(GOOD + b"2025-03-02T11:05:43.0Z INFO ExtHandler ExtHandler " + huge + b"\n" + GOOD)
    result = read_waagent([path], chunk_bytes=4096)
    assert result.frame.height == 5
    assert result.frame["message"][2] == huge.decode()
    assert result.accounts[0].balanced


def test_absurdly_long_line_is_cut_with_a_warning(tmp_path):
    path = tmp_path / "waagent.log"
    huge = b"y" * (MAX_LINE_BYTES * 3)
    path.write_bytes(GOOD + b"2025-03-02T11:05:43.0Z ERROR ExtHandler ExtHandler " + huge + b"\n" + GOOD)
    result = read_waagent([path])
    assert "1 line(s) longer than 1024 KiB were cut" in only_warning(result, path)
    assert result.frame.height == 5 and result.accounts[0].balanced
    cut = result.frame.row(2, named=True)
    assert cut["level"] == "ERROR" and cut["line_first"] == 3
    assert cut["message"].startswith("yyyy") and cut["message"].endswith(
        f"line cut by loglens: {len(huge) + 51} bytes long]"
    )
    assert len(cut["message"]) < MAX_LINE_BYTES + 100


@pytest.mark.parametrize("lead", [0, 1, 7000, MAX_LINE_BYTES // 2 - 1, MAX_LINE_BYTES // 2 + 3])
def test_line_just_over_the_limit_is_cut_wherever_it_starts(tmp_path, lead):
    path = tmp_path / "waagent.log"
    filler = b"" if lead == 0 else b"z" * (lead - 1) + b"\n"
    header = b"2025-03-02T11:05:43.0Z ERROR ExtHandler ExtHandler "
    line = header + b"w" * (MAX_LINE_BYTES + 1 - len(header))
    path.write_bytes(filler + line + b"\n" + GOOD)
    result = read_waagent([path])
    assert "1 line(s) longer than 1024 KiB were cut" in only_warning(result, path)
    assert result.accounts[0].balanced


def test_line_at_the_limit_is_kept_whole(tmp_path):
    path = tmp_path / "waagent.log"
    header = b"2025-03-02T11:05:43.0Z ERROR ExtHandler ExtHandler "
    path.write_bytes(b"z" * 1000 + b"\n" + header + b"w" * (MAX_LINE_BYTES - len(header)) + b"\n" + GOOD)
    result = read_waagent([path])
    assert not result.warnings
    assert result.frame.filter(pl.col("level") == "ERROR")["message"].str.len_bytes().item() == MAX_LINE_BYTES - len(
        header
    )


def test_binary_file_is_called_out_and_kept_as_unparsed(tmp_path):
    path = tmp_path / "waagent.log"
    path.write_bytes(bytes(range(256)) * 400 + b"\n" + bytes(range(255, -1, -1)) * 400)
    result = read_waagent([path])
    account = result.accounts[0]
    assert any("looks like a binary file" in w for w in account.warnings)
    assert account.balanced and account.records == 0 and account.unparsed == account.lines
