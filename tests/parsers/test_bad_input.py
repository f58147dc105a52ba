"""Bad input never raises: each case gives one clear warning naming the file, the rest goes on."""

from __future__ import annotations

import builtins
import gzip
from pathlib import Path

import polars as pl
import pytest

from parsers import read_waagent
from parsers.lines import CUT_MARK, MAX_LINE_BYTES, capped_lines

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


def _cut_whole(data: bytes) -> bytes:
    """What `capped_lines` must give, computed on the whole input at once."""
    out = []
    lines = data.split(b"\n")
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        if last and not line:
            break
        if len(line) > MAX_LINE_BYTES:
            line = line[:MAX_LINE_BYTES] + CUT_MARK.format(len(line)).encode()
        out.append(line + (b"" if last else b"\n"))
    return b"".join(out)


@pytest.mark.parametrize("seed", range(8))
def test_lines_are_cut_while_streaming_as_if_cut_whole(seed):
    import random

    generator = random.Random(seed)
    sizes = [
        generator.choice([0, 5, 300, MAX_LINE_BYTES - 1, MAX_LINE_BYTES, MAX_LINE_BYTES + 1, 3 * MAX_LINE_BYTES])
        for _ in range(6)
    ]
    data = b"\n".join(bytes([97 + i]) * n for i, n in enumerate(sizes)) + generator.choice([b"", b"\n"])
    cuts, at = [], 0
    while at < len(data):
        step = generator.choice([1, 100, 70_000, MAX_LINE_BYTES // 3, 2 * MAX_LINE_BYTES])
        cuts.append(data[at : at + step])
        at += step
    assert b"".join(capped_lines(cuts)) == _cut_whole(data)


def test_cut_never_splits_a_character():
    line = "é".encode() * MAX_LINE_BYTES  # two bytes each: the limit falls inside one at odd offsets
    out = b"".join(capped_lines([b"x" + line + b"\n"]))
    out.decode("utf-8")  # raises if a character was split
    assert out.endswith(CUT_MARK.format(len(line) + 1).encode() + b"\n")


@pytest.mark.parametrize("container", ["plain", "gzip", "zip"])
def test_giant_line_costs_linear_time_and_a_bounded_frame(tmp_path, container, monkeypatch):
    """One line of 40 MiB without a newline (a sparse file, a member of NULs) is read as one cut
    line, whichever way it arrives; with small chunks the plain file takes the streamed path."""
    import zipfile

    import parsers.archives

    # 40 MiB of NULs deflate 1,000 times: past the bomb ratio, which this test is not about.
    monkeypatch.setattr(parsers.archives, "MAX_RATIO", 10_000)

    from parsers import Source

    data = GOOD + b"\x00" * (40 * 1024 * 1024)
    if container == "plain":
        path = tmp_path / "waagent.log"
        path.write_bytes(data)
        source = Source.file(path)
    elif container == "gzip":
        path = tmp_path / "waagent.log.gz"
        path.write_bytes(gzip.compress(data))
        source = Source.file(path)
    else:
        path = tmp_path / "bundle.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("var/log/waagent.log", data)
        from parsers.collect import collect

        found = collect([path])
        source = found.sources["waagent"][0]
    result = read_waagent([source], chunk_bytes=1024 * 1024)
    account = result.accounts[0]
    assert account.balanced and account.lines == 3
    assert any("longer than 1024 KiB were cut" in w for w in account.warnings)
    assert result.frame["message"].str.len_bytes().max() < 200
