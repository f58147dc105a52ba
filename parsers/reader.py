"""Format-blind streaming driver: bytes in, numbered chunks of lines out.

It opens plain or gzip files, reads them in blocks, cuts the stream only where a format says a
record may start (so no record is split across chunks), decodes each chunk into a one-column
Polars frame of lines, and records every oddity of the input as a one-line warning on the
file's ``SourceAccount``. It never raises for bad input and knows nothing about log grammars.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import regex

log = logging.getLogger(__name__)

#: Decompressed bytes per chunk: large enough to amortise per-call overhead, small enough that
#: two chunks in flight stay a small fraction of the result frame.
DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
#: Compressed bytes handed to zlib per step; small so a truncated .gz loses nothing decoded.
_READ_BLOCK = 1024 * 1024
#: How far back from a chunk's end to look for a record start before reading on.
_BOUNDARY_WINDOW = 256 * 1024
#: A chunk that finds no record start within this many chunk sizes is cut at a newline anyway.
_MAX_CHUNK_FACTOR = 4
_GZIP_MAGIC = b"\x1f\x8b"
_REPLACEMENT_CHAR = "\ufffd"


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
        bytes_read: decompressed bytes read.
        warnings: one-line messages about bad input, each naming the file.
    """

    path: str
    kind: str
    lines: int = 0
    records: int = 0
    continuations: int = 0
    unparsed: int = 0
    bytes_read: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """True when lines == records + continuations + unparsed."""
        return self.lines == self.records + self.continuations + self.unparsed

    def warn(self, message: str) -> None:
        """Record a one-line warning about this input; the path is prefixed here."""
        text = f"{self.path}: {message}"
        self.warnings.append(text)
        log.info(text)  # the caller shows account warnings; logging here is for tracing


@dataclass(frozen=True)
class RawChunk:
    """Undecoded bytes that start at a record boundary, and the number of their first line."""

    first_line: int
    data: bytes


@dataclass
class Damage:
    """Repairs made while decoding; summed per file and reported once as warnings."""

    crlf: bool = False
    nul_lines: int = 0
    invalid_utf8_lines: int = 0

    def add(self, other: Damage) -> None:
        """Fold another chunk's repairs into this one."""
        self.crlf = self.crlf or other.crlf
        self.nul_lines += other.nul_lines
        self.invalid_utf8_lines += other.invalid_utf8_lines

    def report(self, account: SourceAccount) -> None:
        """Turn the repairs into one warning line each on ``account``."""
        if self.nul_lines:
            account.warn(f"{self.nul_lines} line(s) contained NUL bytes (removed; often left by copytruncate rotation)")
        if self.invalid_utf8_lines:
            account.warn(f"{self.invalid_utf8_lines} line(s) are not valid UTF-8 (bad bytes shown as U+FFFD)")
        if self.crlf:
            account.warn("CRLF line endings (file passed through Windows?); carriage returns removed")


@dataclass(frozen=True)
class LineChunk:
    """A run of physical lines that starts at a record boundary.

    Attributes:
        first_line: 1-based line number of the chunk's first line within its file.
        lines: one String column ``text``; CR, NUL bytes removed, bad UTF-8 replaced by U+FFFD.
        damaged: True when some line had NUL bytes or invalid UTF-8 (column ``damaged`` then
            marks those lines); False means no line needs checking.
        damage: what was repaired, for the file's warnings.
    """

    first_line: int
    lines: pl.DataFrame
    damaged: bool
    damage: Damage


def iter_raw_chunks(
    path: Path,
    account: SourceAccount,
    *,
    record_start: regex.Pattern[bytes],
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Iterator[RawChunk]:
    """Yield ``path``'s bytes in chunks that each begin where a record may begin.

    Decoding is left to ``decode_chunk`` so callers can run it in parallel. Read problems
    become warnings on ``account``; ``account.lines`` and ``bytes_read`` are counted here.

    Args:
        path: a plain or gzip-compressed text file.
        account: receives line and byte counts and warnings.
        record_start: matches a newline that is followed by the start of a record; chunks are
            cut just after such a newline, so a record's continuation lines stay with it.
        chunk_bytes: target decompressed size of a chunk.

    Yields:
        RawChunk objects in file order; nothing for unreadable or empty files (the reason is on
        ``account.warnings``).
    """
    line_no = 1
    for data in _cut_at_records(_read_blocks(path, account), record_start, chunk_bytes):
        # Same count as the decoder's: a last line without a newline is still a line.
        lines = data.count(b"\n") + (not data.endswith(b"\n"))
        account.bytes_read += len(data)
        account.lines += lines
        yield RawChunk(line_no, data)
        line_no += lines
    if account.lines == 0 and not account.warnings:
        account.warn("file is empty")


def iter_line_chunks(
    path: Path,
    account: SourceAccount,
    *,
    record_start: regex.Pattern[bytes],
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Iterator[LineChunk]:
    """``iter_raw_chunks`` decoded in order, with repairs reported on ``account`` at the end."""
    damage = Damage()
    for raw in iter_raw_chunks(path, account, record_start=record_start, chunk_bytes=chunk_bytes):
        chunk = decode_chunk(raw)
        damage.add(chunk.damage)
        yield chunk
    damage.report(account)


def _read_blocks(path: Path, account: SourceAccount) -> Iterator[bytes]:
    """Decompressed blocks of ``path``; problems become warnings, never exceptions."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, generator-managed
    except IsADirectoryError:
        account.warn("is a directory, not a log file")
        return
    except FileNotFoundError:
        account.warn("no such file")
        return
    except PermissionError:
        account.warn("permission denied (run as root or copy the file readable)")
        return
    except OSError as exc:
        account.warn(f"cannot open: {exc.strerror or exc}")
        return
    with handle:
        try:
            head = handle.read(2)
            handle.seek(0)
            if head == _GZIP_MAGIC:
                yield from _gunzip_blocks(handle, account)
                return
            if path.name.endswith(".gz"):
                account.warn("named .gz but not gzip-compressed; read as plain text")
            while block := handle.read(_READ_BLOCK):
                yield block
        except OSError as exc:
            account.warn(f"read error: {exc.strerror or exc}; lines before it were kept")


def _gunzip_blocks(handle, account: SourceAccount) -> Iterator[bytes]:
    """Stream-decompress (multi-member) gzip; a truncated or corrupt tail becomes a warning."""
    inflater = zlib.decompressobj(wbits=31)
    fed = False  # has the current gzip member received input?
    while raw := handle.read(_READ_BLOCK):
        while raw:
            fed = True
            try:
                out = inflater.decompress(raw)
            except zlib.error as exc:
                account.warn(f"corrupt gzip data ({exc}); lines before the damage were kept")
                return
            if out:
                yield out
            if not inflater.eof:
                break
            # Concatenated members are valid gzip (e.g. appended rotations): start the next one.
            raw = inflater.unused_data
            inflater = zlib.decompressobj(wbits=31)
            fed = False
    if fed and not inflater.eof:
        if tail := inflater.flush():
            yield tail
        account.warn("truncated gzip (ends before its end-of-stream marker); lines before the cut were kept")


def _cut_at_records(blocks: Iterator[bytes], record_start: regex.Pattern[bytes], chunk_bytes: int) -> Iterator[bytes]:
    """Regroup blocks into chunks of about ``chunk_bytes`` that end right before a record start."""
    pending: list[bytes] = []
    size = 0
    for block in blocks:
        pending.append(block)
        size += len(block)
        if size < chunk_bytes:
            continue
        buf = b"".join(pending)
        cut = _last_record_start(buf, record_start)
        if cut is None and size >= chunk_bytes * _MAX_CHUNK_FACTOR:
            # No record start in a huge span: cut at a line end; later lines may count as unparsed.
            cut = buf.rfind(b"\n") + 1 or None
        if cut is None:
            pending, size = [buf], len(buf)
            continue
        yield buf[:cut]
        rest = buf[cut:]
        pending, size = ([rest], len(rest)) if rest else ([], 0)
    if size:
        yield b"".join(pending)


def _last_record_start(buf: bytes, record_start: regex.Pattern[bytes]) -> int | None:
    """Offset just after the last newline in ``buf`` that is followed by a record start."""
    window_start = max(0, len(buf) - _BOUNDARY_WINDOW)
    while True:
        last = None
        for match in record_start.finditer(buf, window_start):
            last = match
        if last is not None and last.start() + 1 < len(buf):
            return last.start() + 1
        if window_start == 0:
            return None
        window_start = max(0, window_start - 4 * _BOUNDARY_WINDOW)


def decode_chunk(raw: RawChunk) -> LineChunk:
    """Split a raw chunk into lines; repair NUL bytes, CR and invalid UTF-8, marking damaged lines."""
    data = raw.data
    damage = Damage()
    try:
        lines = pl.read_lines(data, name="text")
        invalid = False
    except pl.exceptions.ComputeError:
        lines = pl.read_lines(data.decode("utf-8", errors="replace").encode("utf-8"), name="text")
        invalid = True
    has_nul = b"\x00" in data
    if b"\r" in data:
        damage.crlf = b"\r\n" in data
        lines = lines.with_columns(pl.col("text").str.strip_suffix("\r"))
    if not (has_nul or invalid):
        return LineChunk(raw.first_line, lines, damaged=False, damage=damage)
    text = pl.col("text")
    lines = lines.with_columns(
        nul=text.str.contains("\x00", literal=True) if has_nul else pl.lit(False),
        bad=text.str.contains(_REPLACEMENT_CHAR, literal=True) if invalid else pl.lit(False),
    )
    damage.nul_lines = int(lines["nul"].sum())
    damage.invalid_utf8_lines = int(lines["bad"].sum())
    lines = lines.select(
        text.str.replace_all("\x00", "", literal=True) if has_nul else text,
        damaged=pl.col("nul") | pl.col("bad"),
    )
    return LineChunk(raw.first_line, lines, damaged=True, damage=damage)
