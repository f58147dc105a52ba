"""Opening zip members whatever compression made them, or saying why one cannot be read.

Python's `zipfile` reads stored, deflated, bzip2 and LZMA members. Windows Explorer writes large
files with Deflate64 (method 9): those are inflated here with `inflate64` (the maintained library
py7zr uses), straight from the member's bytes in the archive. Encrypted members (ZipCrypto, AES:
method 99) and other methods cannot be read without what their author has: each is a warning
naming the member, never the end of the run.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

import inflate64

DEFLATE64 = 9
#: What `zipfile` reads itself.
_ZIPFILE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_METHOD_NAMES = {DEFLATE64: "Deflate64", 99: "AES encryption", 93: "Zstandard", 95: "xz", 98: "PPMd"}
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_READ_SIZE = 1 << 20


def unreadable(info: zipfile.ZipInfo) -> str | None:
    """Why the member cannot be read (a phrase for a warning), or None when it can."""
    if info.flag_bits & 0x1 or info.compress_type == 99:
        return "is encrypted (a password is needed); skipped"
    if info.compress_type in _ZIPFILE_METHODS or info.compress_type == DEFLATE64:
        return None
    method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
    return f"is compressed with {method}, which loglens cannot read; extract the archive and analyse the folder"


def open_member(archive: zipfile.ZipFile, path: Path, info: zipfile.ZipInfo) -> BinaryIO:
    """A stream of the member's content (`unreadable` must have said it can be read)."""
    if info.compress_type == DEFLATE64:
        return _Deflate64Member(path, info)
    return archive.open(info)


class _Deflate64Member(io.RawIOBase):
    """A Deflate64 member inflated as it is read, from its own handle on the archive."""

    def __init__(self, path: Path, info: zipfile.ZipInfo) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed with the stream
        self._file.seek(info.header_offset)
        header = self._file.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            self._file.close()
            raise zipfile.BadZipFile("bad local header")
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
        self._file.seek(name_length + extra_length, io.SEEK_CUR)
        self._compressed_left = info.compress_size
        self._inflater = inflate64.Inflater()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending and self._compressed_left > 0:
            chunk = self._file.read(min(_READ_SIZE, self._compressed_left))
            if not chunk:
                raise EOFError("Deflate64 member is cut short")
            self._compressed_left -= len(chunk)
            try:
                self._pending = self._inflater.inflate(chunk)
            except ValueError as exc:  # inflate64's word for corrupt data
                raise OSError(f"corrupt Deflate64 data ({exc})") from None
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        self._file.close()
        super().close()
