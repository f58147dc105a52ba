"""A zip cut short (a half-finished download) keeps every member whose header and data arrived,
and says which members were kept and from which byte the rest was lost."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from parsers.collect import collect

#: Members of a small bundle, in archive order; the third is the one the cut lands in.
MEMBERS = {
    "var/log/azure/custom-script/handler.log": "time=2025-01-01T00:00:00Z version=v2.1.7 event=start\n" * 40,
    "var/log/waagent.log.1": "2025-01-01T00:00:01.000001Z INFO ExtHandler ExtHandler first\n" * 40,
    "var/log/waagent.log": "2025-01-01T00:00:02.000002Z INFO ExtHandler ExtHandler second\n" * 400,
    "etc/waagent.conf": "Logs.Verbose=n\n",
}


class _Unseekable(io.RawIOBase):
    """A write-only stream: `zipfile` then writes each member's sizes after its data (flag bit 3)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.data += b
        return len(b)


def _zip(streamed: bool) -> bytes:
    target = _Unseekable() if streamed else io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in MEMBERS.items():
            archive.writestr(name, text)
    return bytes(target.data if streamed else target.getvalue())


def _read(path: Path) -> tuple[dict[str, str], list[str]]:
    """Every member found, with its content, and the warnings."""
    with collect([path]) as found:
        texts = {}
        for source in (s for sources in found.sources.values() for s in sources):
            with source.opener() as handle:
                texts[str(source.member)] = handle.read().decode()
        return texts, found.warnings


@pytest.mark.parametrize("streamed", [False, True], ids=["sizes-in-header", "sizes-after-data"])
def test_a_zip_cut_inside_a_member_keeps_the_members_before_it(tmp_path, streamed):
    data = _zip(streamed)
    third = zipfile.ZipFile(io.BytesIO(data)).getinfo("var/log/waagent.log")
    cut = third.header_offset + 30 + len(third.filename) + third.compress_size // 2
    path = tmp_path / "logs.zip"
    path.write_bytes(data[:cut])
    texts, warnings = _read(path)
    assert texts == {name: MEMBERS[name] for name in list(MEMBERS)[:2]}
    assert warnings == [
        f"{path}: cut short or damaged, with no member directory; kept 2 of ? members "
        "(var/log/azure/custom-script/handler.log, var/log/waagent.log.1); "
        f"lost the rest from byte {third.header_offset:,} of {cut:,}: member var/log/waagent.log is cut short"
        + (" (no end of its data found)" if streamed else "")
    ]


def test_a_zip_cut_inside_its_directory_keeps_every_member(tmp_path):
    data = _zip(streamed=False)
    path = tmp_path / "logs.zip"
    path.write_bytes(data[: data.index(b"PK\x01\x02") + 10])
    texts, warnings = _read(path)
    assert texts == MEMBERS
    assert warnings == [
        f"{path}: its member directory is cut short or damaged; all 4 member(s) were found by scanning and kept"
    ]


def test_a_file_named_zip_that_is_not_one_says_so(tmp_path):
    path = tmp_path / "logs.zip"
    path.write_bytes(b"<html>Access denied</html>\n")
    texts, warnings = _read(path)
    assert texts == {}
    assert warnings == [
        f"{path}: not a readable zip, and no member was found by scanning: no member header there at byte 0"
    ]


def test_a_deflate64_member_of_a_zip_cut_short_is_read(tmp_path):
    import inflate64

    from tests.test_hardening_inputs import _zip_with_method

    data = MEMBERS["var/log/waagent.log"].encode()
    deflater = inflate64.Deflater()
    path = tmp_path / "logs.zip"
    _zip_with_method(path, data, 9, deflater.deflate(data) + deflater.flush())
    whole = path.read_bytes()
    path.write_bytes(whole[: whole.index(b"PK\x01\x02") + 4])
    texts, warnings = _read(path)
    assert texts == {"var/log/waagent.log": MEMBERS["var/log/waagent.log"]}
    assert "all 1 member(s) were found by scanning and kept" in warnings[0]
