"""The members of a zip or tar archive as sources, read in place: never extracted to disk.

Member names are checked (no absolute paths, no `..`), links and special files are skipped, and
each archive is held to caps on members and declared bytes; a member that says it is smaller than
it is stops at its declared size. Zip members of any compression Python reads, and Deflate64, are
opened by `parsers.zip_members`, which names the ones that cannot be read; a zip cut short (no
member directory) keeps its intact members (`parsers.zip_scan`).
"""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from contextlib import ExitStack
from typing import BinaryIO

import regex

from parsers import zip_members, zip_scan
from parsers.reader import Source

#: Caps per archive: beyond them, members are not listed (a warning says so).
MAX_ARCHIVE_BYTES = 4 * 1024**3
MAX_ARCHIVE_MEMBERS = 100_000
#: Past this many bytes inflated, an archive inflating more than `MAX_RATIO` times its own size is
#: a bomb (60 M empty lines in a 61 KB zip; 1 GiB in a 156 KB tar.xz). Logs compress 10-30 times.
BOMB_FLOOR = 16 * 1024**2
MAX_RATIO = 200


class Found:
    """Where an archive's listing reports: its warnings, and the stack that keeps it open."""

    def __init__(self, warnings: list[str], stack: ExitStack) -> None:
        self.warnings, self._stack = warnings, stack


def members(path: Path, found: Found) -> Iterator[Source]:
    """The archive's readable members, in archive order (warnings for the others on ``found``;
    the archive stays open on its stack while the members are read)."""
    if path.name.split("?", 1)[0].lower().endswith(".zip"):
        return _zip_members(path, found)
    return _tar_members(path, found)


def _safe_member_name(archive: Path, name: str, found: Found) -> str | None:
    """The member name if it is a safe relative path; otherwise warn and return None."""
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or name.startswith(("/", "\\")) or ".." in posix.parts or regex.match(r"^[A-Za-z]:", name):
        found.warnings.append(f"{archive}!{name}: unsafe member path (absolute or '..'); skipped")
        return None
    return str(posix)


class _Budget:
    """Counts members and declared bytes of one archive against the caps."""

    def __init__(self, archive: Path, found: Found) -> None:
        self.archive, self.found = archive, found
        try:
            self.compressed = max(archive.stat().st_size, 1)
        except OSError:
            self.compressed = 1
        self.members = 0
        self.bytes = 0
        self.exhausted = False

    def admit(self, size: int) -> bool:
        if self.exhausted:
            return False
        self.members += 1
        self.bytes += size
        if self.members > MAX_ARCHIVE_MEMBERS or self.bytes > MAX_ARCHIVE_BYTES:
            self.exhausted = True
            self.found.warnings.append(
                f"{self.archive}: more than {MAX_ARCHIVE_MEMBERS:,} members or {MAX_ARCHIVE_BYTES // 1024**3} GiB "
                "uncompressed (zip bomb?); the remaining members were not read"
            )
            return False
        if self.bytes > BOMB_FLOOR and self.bytes > MAX_RATIO * self.compressed:
            self.exhausted = True
            self.found.warnings.append(
                f"{self.archive}: inflates more than {MAX_RATIO} times its {self.compressed:,} bytes (zip bomb?); "
                f"members from the one that passes {BOMB_FLOOR // 1024**2} MiB on were not read"
            )
            return False
        return True


class _CappedReader(io.RawIOBase):
    """A member stream that stops with an error past its declared size (lying zip headers)."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream, self._left = stream, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise OSError("member is larger than its archive entry declares")
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


def _open_zip(path: Path, found: Found) -> zipfile.ZipFile | None:
    """The zip, or when its member directory is missing or damaged (a download cut short), its
    intact members found by scanning (`parsers.zip_scan`), with a warning saying what was lost."""
    try:
        return found._stack.enter_context(zipfile.ZipFile(path))
    except zipfile.BadZipFile as exc:
        scan = zip_scan.scan(path)
        found.warnings.append(scan.describe(path, str(exc)))
        if not scan.entries:
            return None
        return found._stack.enter_context(zipfile.ZipFile(found._stack.enter_context(zip_scan.recover(path, scan))))


def _zip_members(path: Path, found: Found) -> Iterator[Source]:
    archive = _open_zip(path, found)
    if archive is None:
        return
    budget = _Budget(path, found)
    for info in archive.infolist():
        if info.is_dir():
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            found.warnings.append(f"{path}!{info.filename}: symbolic link skipped")
            continue
        # Zips made on Windows or by `writestr` carry no file-type bits; only a set, non-regular type is refused.
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
            found.warnings.append(f"{path}!{info.filename}: not a regular file; skipped")
            continue
        name = _safe_member_name(path, info.filename, found)
        if name is None:
            continue
        why = zip_members.unreadable(info)
        if why is not None:
            found.warnings.append(f"{path}!{name}: {why}")
            continue
        if not budget.admit(info.file_size):
            break
        yield Source(
            name=f"{path}!{name}",
            opener=lambda info=info: io.BufferedReader(
                _CappedReader(zip_members.open_member(archive, path, info), info.file_size)
            ),
            member=name,
        )


def _tar_members(path: Path, found: Found) -> Iterator[Source]:
    archive = found._stack.enter_context(tarfile.open(path, "r:*"))
    budget = _Budget(path, found)
    for member in archive:
        if member.isdir():
            continue
        if member.issym() or member.islnk():
            found.warnings.append(f"{path}!{member.name}: link skipped")
            continue
        if not member.isfile():
            found.warnings.append(f"{path}!{member.name}: device or special file skipped")
            continue
        name = _safe_member_name(path, member.name, found)
        if name is None:
            continue
        if not budget.admit(member.size):
            # Stop reading headers too: `tarfile` keeps every one it reads (2 M empty members: 1 GB).
            break
        yield Source(name=f"{path}!{name}", opener=lambda member=member: archive.extractfile(member), member=name)
