"""The members of a zip whose member directory is gone: a download cut short, a damaged tail.

A zip lists its members in a central directory at its very end, so a zip cut anywhere before its
end has none, and Python's `zipfile` refuses it whole. Each member also starts with a local header
of its own (name, method, sizes, CRC) right before its data, so the members can be found by
reading those headers one after another from the start. `recover` does that, keeps every member
whose header and data are there in full, and hands `zipfile` the intact part with a directory
written for those members, so that they are read (and their CRCs checked) like any zip's.
`Scan.describe` says what was kept and what was lost, from which byte.

Limits, each of which ends the scan with its reason: a member whose sizes follow its data (flag
bit 3) needs the data descriptor's signature to be found; Zip64 members (over 4 GiB) and more
than 65,535 members are not recovered this way.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # signature, version, flags, method, time, date, crc, sizes, name/extra lengths
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # as `zipfile` reads it
_END = struct.Struct("<4sHHHHIIH")
#: A data descriptor: signature, CRC, compressed and uncompressed size (Zip64 ones end the scan).
_DESCRIPTOR = struct.Struct("<4sIII")
_LOCAL_SIG, _CENTRAL_SIG, _DESCRIPTOR_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x07\x08"
#: What may follow the last member of a whole zip: its central directory or an end record.
_DIRECTORY_SIGS = (_CENTRAL_SIG, b"PK\x05\x06", b"PK\x06\x06")
#: A directory without Zip64 records holds at most this many members.
MAX_SCANNED = 0xFFFF
_DATA_DESCRIPTOR_FLAG = 0x8
_BLOCK = 1 << 20
#: Names shown in the warning; the accounting table lists every member read.
_NAMES_SHOWN = 5


@dataclass
class _Entry:
    name: bytes
    flags: int
    method: int
    time: int
    date: int
    crc: int
    compressed: int
    size: int
    offset: int
    #: Bytes from the local header to the end of the data (and of the data descriptor, if any).
    length: int = 0


@dataclass
class Scan:
    """What a scan of the local headers found."""

    size: int
    entries: list[_Entry] = field(default_factory=list)
    #: The byte where the intact members end (where the directory is written).
    end: int = 0
    #: True when the scan met the directory or end record: every member was found.
    complete: bool = False
    #: Why the scan stopped, as a phrase: `member x.log is cut short`.
    stop: str = ""

    def describe(self, archive: Path, error: str) -> str:
        """The warning: what was kept and, from which byte, what was lost."""
        names = [e.name.decode("utf-8", "replace") for e in self.entries if not e.name.endswith(b"/")]
        # `zipfile`'s words when it finds no end record; anything else it says is worth passing on.
        why = "" if error == "File is not a zip file" else f" ({error})"
        if self.complete:
            return (
                f"{archive}: its member directory is cut short or damaged{why}; "
                f"all {len(names)} member(s) were found by scanning and kept"
            )
        if not self.entries:
            return (
                f"{archive}: not a readable zip{why}, and no member was found by scanning: "
                f"{self.stop} at byte {self.end:,}"
            )
        more = len(names) - _NAMES_SHOWN
        shown = ", ".join(names[:_NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")
        return (
            f"{archive}: cut short or damaged, with no member directory{why}; "
            f"kept {len(names)} of ? members ({shown}); "
            f"lost the rest from byte {self.end:,} of {self.size:,}: {self.stop}"
        )


def scan(path: Path) -> Scan:
    """Read the local headers from the start until one is missing, cut short or out of reach."""
    with open(path, "rb") as handle:
        found = Scan(size=handle.seek(0, io.SEEK_END))
        while len(found.entries) < MAX_SCANNED:
            entry, stop = _next_entry(handle, found.end, found.size)
            if entry is None:
                found.complete, found.stop = stop == "", stop
                return found
            found.entries.append(entry)
            found.end = entry.offset + entry.length
        found.stop = f"more than {MAX_SCANNED:,} members; the rest were not scanned"
    return found


def _next_entry(handle, offset: int, size: int) -> tuple[_Entry | None, str]:
    """The intact entry at ``offset``, or None and why the scan stops there ("" at the directory)."""
    handle.seek(offset)
    head = handle.read(_LOCAL.size)
    if head[:4] in _DIRECTORY_SIGS:
        return None, ""
    if not head:
        return None, "the file ends there, before the member directory"
    if len(head) < _LOCAL.size and _LOCAL_SIG.startswith(head[:4]):
        return None, "a member header is cut short"
    if head[:4] != _LOCAL_SIG:
        return None, "no member header there"
    _, _, flags, method, time, date, crc, compressed, size_, name_length, extra_length = _LOCAL.unpack(head)
    name = handle.read(name_length)
    shown = name.decode("utf-8", "replace")
    if len(name) < name_length or len(handle.read(extra_length)) < extra_length:
        return None, f"the header of member {shown} is cut short"
    if 0xFFFFFFFF in (compressed, size_):
        return None, f"member {shown} is a Zip64 member, which scanning does not recover"
    entry = _Entry(name, flags, method, time, date, crc, compressed, size_, offset)
    data = offset + _LOCAL.size + name_length + extra_length
    descriptor = 0
    if flags & _DATA_DESCRIPTOR_FLAG:
        if not _read_descriptor(handle, entry, data, size):
            return None, f"member {shown} is cut short (no end of its data found)"
        descriptor = _DESCRIPTOR.size
    entry.length = data + entry.compressed + descriptor - offset
    if offset + entry.length > size:
        return None, f"member {shown} is cut short"
    return entry, "intact"


def _read_descriptor(handle, entry: _Entry, data: int, size: int) -> bool:
    """Find a flag-bit-3 member's data descriptor (its sizes follow its data): the first
    `PK\\x07\\x08` whose compressed size is the distance from the data to it. Fills in the sizes."""
    at = data
    while at < size:
        handle.seek(at)
        block = handle.read(_BLOCK + 15)
        hit = block.find(_DESCRIPTOR_SIG)
        while hit != -1 and hit + _DESCRIPTOR.size <= len(block):
            _, crc, compressed, length = _DESCRIPTOR.unpack_from(block, hit)
            if compressed == at + hit - data:
                entry.crc, entry.compressed, entry.size = crc, compressed, length
                return True
            hit = block.find(_DESCRIPTOR_SIG, hit + 1)
        at += _BLOCK
    return False


def recover(path: Path, found: Scan) -> io.BufferedReader:
    """The intact members of ``path`` as a zip `zipfile` can open: the file's bytes up to
    ``found.end``, then a directory of ``found.entries``."""
    directory = b"".join(
        _CENTRAL.pack(
            _CENTRAL_SIG, 20, 0, 20, 0, e.flags, e.method, e.time, e.date, e.crc, e.compressed, e.size,
            len(e.name), 0, 0, 0, 0, 0, e.offset,
        )
        + e.name
        for e in found.entries
    )
    count = len(found.entries)
    end = _END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), found.end, 0)
    # Buffered, so that a read across the splice returns all it asks for.
    return io.BufferedReader(_Spliced(path, found.end, directory + end))


class _Spliced(io.RawIOBase):
    """The first ``length`` bytes of a file followed by ``tail``, seekable, read in place."""

    def __init__(self, path: Path, length: int, tail: bytes) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed with the stream
        self._length, self._tail, self._at = length, tail, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._length + len(self._tail)}[whence]
        self._at = max(base + offset, 0)
        return self._at

    def tell(self) -> int:
        return self._at

    def readinto(self, buffer) -> int:
        if self._at < self._length:
            self._file.seek(self._at)
            data = self._file.read(min(len(buffer), self._length - self._at))
        else:
            start = self._at - self._length
            data = self._tail[start : start + len(buffer)]
        buffer[: len(data)] = data
        self._at += len(data)
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()
