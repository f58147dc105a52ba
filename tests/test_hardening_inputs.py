"""Hardening, round two: inputs that used to cost the whole run (exit 3) now cost a warning that
names the file, and files that change under loglens are not read back as something else."""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

import inflate64
import pytest

from loglens import pipeline
from parsers.collect import MAX_TREE_DEPTH
from parsers.documents import MAX_JSON_DEPTH
from tests.test_output_safety import loglens

LINE = "2025-06-11T03:00:01.000001Z ERROR ExtHandler ExtHandler something failed\n"


def _vm(root: Path) -> Path:
    log = root / "x" / "var" / "log" / "waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text(LINE)
    return root / "x"


def test_a_name_that_is_not_utf8_is_shown_escaped(tmp_path):
    vm = _vm(tmp_path)
    handler = vm / "var" / "log" / "azure" / "C.X"
    handler.mkdir(parents=True)
    os.close(os.open(os.fsencode(handler) + b"/h\xff.log", os.O_CREAT | os.O_WRONLY))
    Path(os.fsdecode(os.fsencode(handler) + b"/h\xff.log")).write_text("x\n")
    run = loglens("analyze", "x", "--json", "-", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    paths = [i["path"] for i in json.loads(run.stdout)["inputs"]]
    assert "x/var/log/azure/C.X/h\\xff.log" in paths


def test_an_ascii_only_terminal_gets_escapes_not_a_crash(tmp_path):
    vm = _vm(tmp_path)
    (vm / "var" / "log" / "waagent.log").write_text(LINE.replace("something", "Überprüfung «x»"))
    run = loglens("analyze", "x", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert run.returncode in (0, 1), run.stderr
    assert "internal error" not in run.stderr


def _zip_with_method(path: Path, data: bytes, method: int, stored: bytes | None = None, flags: int = 0) -> None:
    """A one-member zip whose member claims ``method`` (Python's zipfile writes no Deflate64)."""
    stored = data if stored is None else stored
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("var/log/waagent.log", stored)
    raw = bytearray(path.read_bytes())
    crc = zlib.crc32(data)
    central = raw.find(b"PK\x01\x02")
    for at, (method_at, crc_at, size_at, flags_at) in ((0, (8, 14, 22, 6)), (central, (10, 16, 24, 8))):
        raw[at + method_at : at + method_at + 2] = struct.pack("<H", method)
        raw[at + crc_at : at + crc_at + 4] = struct.pack("<I", crc)
        raw[at + size_at : at + size_at + 4] = struct.pack("<I", len(data))
        raw[at + flags_at : at + flags_at + 2] = struct.pack("<H", flags)
    path.write_bytes(bytes(raw))


def test_a_deflate64_member_is_read(tmp_path):
    data = (LINE * 40).encode()
    deflater = inflate64.Deflater()
    _zip_with_method(tmp_path / "logs.zip", data, 9, deflater.deflate(data) + deflater.flush())
    run = loglens("analyze", "logs.zip", "--json", "-", "-q", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    assert json.loads(run.stdout)["inputs"][0]["lines"] == 40


@pytest.mark.parametrize(
    ("method", "flags", "said"),
    [
        (9, 0, "corrupt Deflate64 data"),
        (99, 0, "is encrypted"),
        (0, 1, "is encrypted"),
        (93, 0, "is compressed with Zstandard, which loglens cannot read"),
    ],
)
def test_members_that_cannot_be_read_are_warnings(tmp_path, method, flags, said):
    _zip_with_method(tmp_path / "logs.zip", LINE.encode(), method, flags=flags)
    (tmp_path / "waagent.log").write_text(LINE)
    run = loglens("analyze", "logs.zip", "waagent.log", "-q", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    assert f"logs.zip!var/log/waagent.log: " in run.stderr and said in run.stderr, run.stderr


def test_a_corrupt_lzma_member_is_a_warning(tmp_path):
    with zipfile.ZipFile(tmp_path / "logs.zip", "w", zipfile.ZIP_LZMA) as archive:
        archive.writestr("var/log/waagent.log", LINE * 200)
    raw = bytearray((tmp_path / "logs.zip").read_bytes())
    for at in range(70, 90):
        raw[at] ^= 0xFF
    (tmp_path / "logs.zip").write_bytes(bytes(raw))
    (tmp_path / "waagent.log").write_text(LINE)
    run = loglens("analyze", "logs.zip", "waagent.log", "-q", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    assert "logs.zip!var/log/waagent.log: read error" in run.stderr


def test_json_nested_deeper_than_the_limit_is_malformed_not_fatal(tmp_path):
    vm = _vm(tmp_path)
    status = vm / "var" / "lib" / "waagent" / "Microsoft.Azure.Extensions.CustomScript-2.1.10" / "status"
    status.mkdir(parents=True)
    (status / "0.status").write_text("[" * 1000 + "]" * 1000)
    (tmp_path / "view.json").write_text('{"instanceView": ' + "[" * (MAX_JSON_DEPTH + 5) + "]" * (MAX_JSON_DEPTH + 5) + "}")
    run = loglens("analyze", "x", "view.json", "-q", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    assert "0.status: not valid JSON (nested deeper than" in run.stderr
    assert "view.json" in run.stderr


def test_a_tree_deeper_than_the_limit_is_cut_with_a_warning(tmp_path):
    vm = _vm(tmp_path)
    deep = os.fsencode(vm)
    fd = os.open(deep, os.O_RDONLY)
    try:
        for _ in range(MAX_TREE_DEPTH + 30):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
        log = os.open("waagent.log", os.O_CREAT | os.O_WRONLY, dir_fd=fd)
        os.write(log, LINE.encode())
        os.close(log)
    finally:
        os.close(fd)
    run = loglens("analyze", "x", "-q", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    assert f"more than {MAX_TREE_DEPTH} directory levels below x" in run.stderr


@pytest.fixture
def big_log(tmp_path, monkeypatch):
    """A log read back from disk (past the rows held whole), and a hook run after the rules."""
    monkeypatch.setattr(pipeline, "WHOLE_ROWS_HELD", 0)
    log = tmp_path / "waagent.log"
    body = "".join(f"2025-06-11T03:{m:02d}:00.000000Z INFO ExtHandler ExtHandler line {m}\n" for m in range(50))
    finding = (
        "2025-06-11T03:50:00.000000Z ERROR ExtHandler ExtHandler E: Could not get lock /var/lib/dpkg/lock-frontend. "
        "It is held by process 1519 (dpkg)\n"
    )
    log.write_text(body + finding + body)
    return log


def _analyze_then(log: Path, monkeypatch, change) -> tuple:
    from loglens import api

    original = pipeline.engine.run_rules

    def rules_then_change(*args, **kwargs):
        result = original(*args, **kwargs)
        change(log)
        return result

    monkeypatch.setattr(pipeline.engine, "run_rules", rules_then_change)
    analysis = api.analyze([log])
    return analysis.nearby, analysis.warnings


def test_a_log_swapped_for_a_link_after_the_rules_is_not_read_back(big_log, monkeypatch, tmp_path):
    other = tmp_path / "other.log"
    other.write_text("".join(f"2025-06-11T03:{m:02d}:00.000000Z INFO ExtHandler ExtHandler FOREIGN {m}\n" for m in range(60)))

    def swap(log: Path) -> None:
        log.unlink()
        log.symlink_to(other)

    nearby, warnings = _analyze_then(big_log, monkeypatch, swap)
    assert not nearby["message"].str.contains("FOREIGN").any()
    assert any("waagent.log: changed after it was read" in w for w in warnings), warnings


def test_a_log_replaced_by_a_fifo_does_not_block_the_read_back(big_log, monkeypatch):
    def fifo(log: Path) -> None:
        log.unlink()
        os.mkfifo(log)

    nearby, warnings = _analyze_then(big_log, monkeypatch, fifo)
    assert nearby.height == 0
    assert any("changed after it was read" in w for w in warnings)


def test_a_log_appended_to_is_still_read_back(big_log, monkeypatch):
    def append(log: Path) -> None:
        with log.open("a") as handle:
            handle.write(LINE)

    nearby, warnings = _analyze_then(big_log, monkeypatch, append)
    assert nearby.height > 0
    assert not any("changed after it was read" in w for w in warnings)


def test_a_hundred_thousand_warnings_are_summarised_everywhere_but_json(tmp_path):
    """Each of 2,000 skipped links warns; the terminal, Markdown and HTML show a screenful and a
    count, the JSON document lists every one."""
    vm = _vm(tmp_path)
    links = vm / "var" / "log" / "links"
    links.mkdir()
    for n in range(2000):
        (links / f"l{n}.log").symlink_to(vm / "var" / "log" / "waagent.log")
    run = loglens("analyze", "x", "--json", "r.json", "--markdown", "r.md", "--html", "r.html", "-q", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    assert len(run.stderr.splitlines()) < 60, run.stderr[-500:]
    assert "more: symbolic link skipped (first: x/var/log/links/l" in run.stderr
    assert len(json.loads((tmp_path / "r.json").read_text())["warnings"]) == 2000
    for report in ("r.md", "r.html"):
        text = (tmp_path / report).read_text()
        assert "more: symbolic link skipped" in text and text.count("symbolic link skipped") < 60


@pytest.mark.parametrize("kind", ["zip", "tar.xz"])
def test_an_archive_that_inflates_past_the_ratio_is_cut(tmp_path, kind):
    """A few KB that inflate to millions of empty lines cost a warning, not minutes and gigabytes."""
    import tarfile

    from parsers.archives import BOMB_FLOOR, MAX_RATIO

    bomb = b"\n" * (BOMB_FLOOR + 1024**2)
    archive = tmp_path / f"bomb.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
            handle.writestr("var/log/waagent.log", LINE)
            handle.writestr("var/log/azure/x/handler.log", bomb)
    else:
        import io

        with tarfile.open(archive, "w:xz") as handle:
            for name, data in (("var/log/waagent.log", LINE.encode()), ("var/log/azure/x/handler.log", bomb)):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                handle.addfile(info, io.BytesIO(data))
    run = loglens("analyze", archive.name, "--json", "-", "-q", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    assert f"inflates more than {MAX_RATIO} times" in run.stderr
    inputs = json.loads(run.stdout)["inputs"]
    assert [i["path"].split("!")[1] for i in inputs] == ["var/log/waagent.log"]


def test_millions_of_empty_members_stop_at_the_member_cap(tmp_path, monkeypatch):
    """Headers past the cap are not even read (`tarfile` keeps each one it reads)."""
    import tarfile

    import parsers.archives as archives
    from parsers.collect import collect

    monkeypatch.setattr(archives, "MAX_ARCHIVE_MEMBERS", 1000)
    archive = tmp_path / "many.tar"
    with tarfile.open(archive, "w") as handle:
        for n in range(5000):
            handle.addfile(tarfile.TarInfo(f"var/log/azure/x/{n}.log"))
    reads = []
    original = tarfile.TarFile.next
    monkeypatch.setattr(tarfile.TarFile, "next", lambda self: reads.append(1) or original(self))
    found = collect([archive])
    assert any("more than 1,000 members" in w for w in found.warnings)
    assert len(reads) <= 1010  # the cap, and the few tarfile.open reads to recognise the file


@pytest.mark.parametrize("where", ["var/log/waagent.log", "var/log/azure/Microsoft.Azure.Extensions.CustomScript/handler.log"])
def test_a_log_that_shrinks_while_it_is_read_is_a_warning(tmp_path, monkeypatch, where):
    """Truncated or rotated mid-read (`file changed while being read`): the run goes on and says so."""
    from loglens import api
    from parsers.chunks import RawChunk

    vm = _vm(tmp_path)
    target = vm / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(LINE * 3)
    (vm / "var" / "log" / "waagent.log.1").write_text(LINE)  # the rest still reads
    original = RawChunk.load

    def shrunk(self):
        if self.path is not None and Path(self.path).name == target.name:
            raise OSError("file changed while being read (0 of 10 bytes at offset 0)")
        return original(self)

    monkeypatch.setattr(RawChunk, "load", shrunk)
    analysis = api.analyze([vm])
    said = [w for w in analysis.warnings if target.name + ":" in w and "file changed while being read" in w]
    assert said, analysis.warnings
