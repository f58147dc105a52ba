"""Format-blind input: sources (files and archive members), opening them, and per-source accounting.

Every oddity of the input becomes a one-line warning on the file's ``SourceAccount``; nothing
here raises for bad input or knows a log grammar. Cutting a source into chunks of lines is
`parsers.chunks`.
"""

from __future__ import annotations

import logging
import lzma
import os
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import polars as pl

log = logging.getLogger(__name__)


@dataclass
class SourceAccount:
    """Per-input accounting: every physical line is a record, a continuation or unparsed.

    Attributes:
        path: the input as the user named it (archive members as ``archive!member``).
        kind: what the input was read as, e.g. ``waagent``.
        lines: physical lines read.
        records: records produced from lines a grammar recognised.
        continuations: lines folded into the record they continue.
        unparsed: lines no grammar matched and no record could take; kept as flagged rows.
        skipped: lines understood but carrying nothing (comments and blank lines of a config).
        bytes_read: decompressed bytes read.
        first_time, last_time: earliest and latest record timestamp (UTC), for timed sources.
        warnings: one-line messages about bad input, each naming the file.
    """

    path: str
    kind: str
    lines: int = 0
    records: int = 0
    continuations: int = 0
    unparsed: int = 0
    skipped: int = 0
    bytes_read: int = 0
    first_time: datetime | None = None
    last_time: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    #: How the kind was decided (`parsers.collect.Collection.recognised_by`).
    recognised_by: str | None = None

    @property
    def kind_shown(self) -> str:
        """The kind and how it was decided, for input tables: `text (by content)`."""
        if self.recognised_by in ("name", "content"):
            return f"{self.kind} (by {self.recognised_by})"
        return f"{self.kind} ({self.recognised_by})" if self.recognised_by else self.kind

    @property
    def balanced(self) -> bool:
        """True when lines == records + continuations + unparsed + skipped."""
        return self.lines == self.records + self.continuations + self.unparsed + self.skipped

    def row(self) -> dict:
        """The accounting as one table row: path, kind, the line counts and whether they add up."""
        return {
            "path": self.path,
            "kind": self.kind,
            "recognised_by": self.recognised_by,
            "kind_shown": self.kind_shown,
            "lines": self.lines,
            "records": self.records,
            "continuations": self.continuations,
            "unparsed": self.unparsed,
            "skipped": self.skipped,
            "balanced": self.balanced,
        }

    def saw_times(self, timestamps: pl.Series) -> None:
        """Widen the account's time span with a column of record timestamps."""
        if timestamps.null_count() == timestamps.len():
            return
        low, high = timestamps.min(), timestamps.max()
        self.first_time = low if self.first_time is None else min(self.first_time, low)
        self.last_time = high if self.last_time is None else max(self.last_time, high)

    def warn(self, message: str) -> None:
        """Record a one-line warning about this input; the path is prefixed here."""
        text = f"{self.path}: {message}"
        self.warnings.append(text)
        log.info(text)  # the caller shows account warnings; logging here is for tracing


#: Errors a damaged file or archive member can raise while being read.
READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError)


@dataclass(frozen=True)
class Source:
    """One input to read: a file on disk, or a member of an archive read in place.

    Attributes:
        name: what users see and evidence cites: the path, or ``archive!member``.
        path: the file on disk, read in place (split by byte offsets); None for archive members.
        opener: opens an archive member's decompressed stream; None for files on disk.
        member: the member's path inside its archive (for recognising what it is).
    """

    name: str
    path: Path | None = None
    opener: Callable[[], BinaryIO] | None = None
    member: str | None = None

    def __post_init__(self) -> None:
        # A name that is not UTF-8 on disk (`h\xff.log`) is shown escaped: frames, reports and
        # terminals take only text. `path` keeps the bytes that open the file.
        object.__setattr__(self, "name", shown_name(self.name))

    @classmethod
    def file(cls, path: Path | str) -> Source:
        """A file on disk, named by its path."""
        return cls(name=str(path), path=Path(path))

    @property
    def logical_path(self) -> PurePosixPath:
        """The path that says what the input is: the member path, or the file path."""
        return PurePosixPath(self.member if self.member is not None else str(self.path).replace(os.sep, "/"))


def shown_name(name: str) -> str:
    """``name`` with the bytes that were not UTF-8 (surrogate-escaped by `os`) written as `\\xff`."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def open_source(source: Source, account: SourceAccount) -> BinaryIO | None:
    """Open ``source`` for reading; a failure becomes a warning on ``account`` and None."""
    try:
        if source.opener is not None:
            return source.opener()
        return open(source.path, "rb")
    except IsADirectoryError:
        account.warn("is a directory, not a log file")
    except FileNotFoundError:
        account.warn("no such file")
    except PermissionError:
        account.warn("permission denied (run as root or copy the file readable)")
    except READ_ERRORS as exc:
        account.warn(f"cannot open: {getattr(exc, 'strerror', None) or exc}")
    return None


def read_small(source: Source, account: SourceAccount, limit: int) -> bytes | None:
    """Read a whole small input (JSON, config); None with a warning when unreadable or too big."""
    handle = open_source(source, account)
    if handle is None:
        return None
    with handle:
        try:
            data = handle.read(limit + 1)
        except READ_ERRORS as exc:
            account.warn(f"read error: {getattr(exc, 'strerror', None) or exc}")
            return None
    if len(data) > limit:
        account.warn(f"larger than {limit // 1024} KiB; not read (not a file of this kind?)")
        return None
    account.bytes_read = len(data)
    return data


@dataclass
class ParseResult:
    """What parsing a set of inputs produced.

    Attributes:
        frame: one row per record (and per unparsed line), files oldest first, in file order;
            columns as ``schema.WAAGENT_COLUMNS``.
        accounts: per-input line accounting and warnings, in the order read.
        notes: warnings not tied to one file (e.g. a directory without logs).
    """

    frame: pl.DataFrame
    accounts: list[SourceAccount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """Every input warning: notes first, then per file in input order."""
        return self.notes + [w for a in self.accounts for w in a.warnings]
