"""Chunking: a source's bytes cut into chunks of whole records, decoded into frames of lines.

Plain files are split by probing a few kilobytes near each chunk boundary, so that chunks begin
only where a format says a record may start and no record is split across chunks; the chunk's
bytes are read later by whoever decodes it (``RawChunk.load``), so reading, decoding and parsing
all run in the worker threads. Gzip streams are decompressed in order and hand over their bytes.
Every repair is counted (``Damage``) and reported as one warning per kind on the file's account.
"""

from __future__ import annotations

import os
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

import polars as pl
import regex

from parsers.reader import READ_ERRORS, Source, SourceAccount, open_source

#: Decompressed bytes per chunk: large enough to amortise per-call overhead, small enough that
#: the chunks in flight stay a small fraction of the result frame (12 MiB measured best on the
#: 2-core machine: 8 MiB parses about 10% slower, 16 MiB adds memory for little speed).
DEFAULT_CHUNK_BYTES = 12 * 1024 * 1024
#: Chunks worked on at once: the CI-class machine has two cores, and a third chunk fills the
#: gaps while the others wait for the GIL (four measured no faster).
PARALLEL_CHUNKS = 3
T = TypeVar("T")
#: Compressed bytes handed to zlib per step; small so a truncated .gz loses nothing decoded.
_READ_BLOCK = 1024 * 1024
#: Bytes read at a time when looking for the record start that ends a chunk.
_PROBE_BYTES = 64 * 1024
#: Lines longer than this are cut: no log line this long helps a diagnosis, and Polars' string
#: kernels need several times a line's size while working on it.
MAX_LINE_BYTES = 1024 * 1024
#: Room left after a newline for the record-start pattern to match (longer than any header start).
_MATCH_ROOM = 64
#: A chunk that finds no record start within this many chunk sizes is cut at a newline anyway.
_MAX_CHUNK_FACTOR = 4
_GZIP_MAGIC = b"\x1f\x8b"
_REPLACEMENT_CHAR = "\ufffd"


@dataclass(frozen=True)
class RawChunk:
    """One chunk's bytes: held (from a decompressed stream) or a byte range of a plain file."""

    path: Path | None
    offset: int
    length: int
    data: bytes | None = None

    def load(self) -> bytes:
        """The chunk's bytes.

        Raises:
            OSError: the file cannot be read any more, or shrank since it was split.
        """
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as handle:
            data = os.pread(handle.fileno(), self.length, self.offset)
        if len(data) != self.length:
            raise OSError(f"file changed while being read ({len(data)} of {self.length} bytes at offset {self.offset})")
        return data


@dataclass
class Damage:
    """Repairs and read problems met while decoding; summed per file and reported once."""

    crlf: bool = False
    nul_lines: int = 0
    invalid_utf8_lines: int = 0
    long_lines: int = 0
    read_errors: list[str] = field(default_factory=list)

    def add(self, other: Damage) -> None:
        """Fold another chunk's repairs into this one."""
        self.crlf = self.crlf or other.crlf
        self.nul_lines += other.nul_lines
        self.invalid_utf8_lines += other.invalid_utf8_lines
        self.long_lines += other.long_lines
        self.read_errors += other.read_errors

    def report(self, account: SourceAccount) -> None:
        """Turn the repairs into one warning line each on ``account``."""
        if account.lines and (self.nul_lines + self.invalid_utf8_lines) * 2 > account.lines:
            account.warn("looks like a binary file, not a text log; its lines are kept as unparsed text")
        for error in self.read_errors:
            account.warn(f"read error: {error}; the other parts of the file were kept")
        if self.nul_lines:
            account.warn(f"{self.nul_lines} line(s) contained NUL bytes (removed; often left by copytruncate rotation)")
        if self.invalid_utf8_lines:
            account.warn(f"{self.invalid_utf8_lines} line(s) are not valid UTF-8 (bad bytes shown as U+FFFD)")
        if self.long_lines:
            account.warn(
                f"{self.long_lines} line(s) longer than {MAX_LINE_BYTES // 1024} KiB were cut to that length (marked in the text)"
            )
        if self.crlf:
            account.warn("CRLF line endings (file passed through Windows?); carriage returns removed")


@dataclass(frozen=True)
class LineChunk:
    """The lines of one chunk, numbered from 1 within the chunk.

    Attributes:
        lines: one String column ``text``; CR, NUL bytes removed, bad UTF-8 replaced by U+FFFD.
        damaged: True when some line had NUL bytes or invalid UTF-8 (column ``damaged`` then
            marks those lines); False means no line needs checking.
        damage: what was repaired, for the file's warnings.
    """

    lines: pl.DataFrame
    damaged: bool
    damage: Damage
    #: False when no line holds a backslash (so no escape sequence needs decoding).
    has_backslash: bool = True


def iter_raw_chunks(
    source: Source,
    account: SourceAccount,
    *,
    record_start: regex.Pattern[bytes],
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Iterator[RawChunk]:
    """Split ``source`` into chunks that each begin where a record may begin.

    Args:
        source: a plain or gzip-compressed text file, on disk or in an archive.
        account: receives ``bytes_read`` and warnings (lines are counted by the decoder's caller).
        record_start: matches (with ``.match(buf, pos)``) the start of a line that begins a
            record; chunks end just before such a line, so continuation lines stay with it.
        chunk_bytes: target decompressed size of a chunk.

    Yields:
        RawChunk objects in file order; nothing for unreadable or empty inputs (the reason is on
        ``account.warnings``).
    """
    handle = open_source(source, account)
    if handle is None:
        return
    with handle:
        try:
            head = handle.read(2)
            if source.path is not None and head != _GZIP_MAGIC:
                yield from _split_file(source, handle, account, record_start, chunk_bytes)
            else:
                blocks = _stream_blocks(head, handle)
                if head == _GZIP_MAGIC:
                    blocks = _gunzip_blocks(blocks, account)
                elif source.logical_path.name.endswith(".gz"):
                    account.warn("named .gz but not gzip-compressed; read as plain text")
                for data in _cut_stream(blocks, record_start, chunk_bytes):
                    account.bytes_read += len(data)
                    yield RawChunk(source.path, account.bytes_read - len(data), len(data), data)
        except READ_ERRORS as exc:
            account.warn(f"read error: {getattr(exc, 'strerror', None) or exc}; lines before it were kept")
    if account.bytes_read == 0 and not account.warnings:
        account.warn("file is empty")


def map_in_order(
    function: Callable[[RawChunk], T], chunks: Iterable[RawChunk], in_flight: int = PARALLEL_CHUNKS
) -> Iterator[T]:
    """``function`` of each chunk, worked on ``in_flight`` at a time in threads, yielded in chunk order.

    Polars releases the GIL, so chunks parse in parallel; at most ``in_flight`` results wait
    at once, which bounds memory.
    """
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        pending: deque[Future[T]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(function, chunk))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _split_file(
    source: Source, handle: BinaryIO, account: SourceAccount, record_start: regex.Pattern[bytes], chunk_bytes: int
) -> Iterator[RawChunk]:
    """Chunks of a plain file on disk as byte ranges; the reader of each chunk loads it."""
    if source.logical_path.name.endswith(".gz"):
        account.warn("named .gz but not gzip-compressed; read as plain text")
    size = os.fstat(handle.fileno()).st_size
    offset = 0
    while offset < size:
        end = _record_boundary(handle.fileno(), offset + chunk_bytes, size, record_start, chunk_bytes)
        account.bytes_read += end - offset
        yield RawChunk(source.path, offset, end - offset)
        offset = end


def _stream_blocks(head: bytes, handle: BinaryIO) -> Iterator[bytes]:
    """The stream's blocks, starting with the bytes already read to sniff it."""
    if head:
        yield head
    while block := handle.read(_READ_BLOCK):
        yield block


def _record_boundary(fd: int, target: int, size: int, record_start: regex.Pattern[bytes], chunk_bytes: int) -> int:
    """The offset of the first line at or after ``target`` that starts a record, or ``size``."""
    if target >= size:
        return size
    limit = target + chunk_bytes * _MAX_CHUNK_FACTOR
    first_line_start = None
    at = target - 1  # a newline just before the target starts a line at the target
    while at < size:
        probe = os.pread(fd, _PROBE_BYTES, at)
        at_eof = at + len(probe) >= size
        newline = probe.find(b"\n")
        while newline != -1:
            line_start = newline + 1
            if not at_eof and line_start + _MATCH_ROOM > len(probe):
                break  # too near the probe's end to judge: the next probe starts at this newline
            if first_line_start is None:
                first_line_start = at + line_start
            if record_start.match(probe, line_start):
                return at + line_start
            newline = probe.find(b"\n", line_start)
        if at_eof:
            return size
        if first_line_start is not None and at + len(probe) > limit:
            # No record start in a huge span: cut at a line end; later lines may count as unparsed.
            return first_line_start
        at += newline if newline != -1 else len(probe)
    return size


def _gunzip_blocks(compressed: Iterator[bytes], account: SourceAccount) -> Iterator[bytes]:
    """Stream-decompress (multi-member) gzip; a truncated or corrupt tail becomes a warning."""
    inflater = zlib.decompressobj(wbits=31)
    fed = False  # has the current gzip member received input?
    for raw in compressed:
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


def _cut_stream(blocks: Iterator[bytes], record_start: regex.Pattern[bytes], chunk_bytes: int) -> Iterator[bytes]:
    """Regroup streamed blocks into chunks of about ``chunk_bytes`` that end right before a record start."""
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
    """Offset of the last line in ``buf`` (not the first) that starts a record and is complete."""
    newline = buf.rfind(b"\n", 0, len(buf) - 1)
    while newline > 0:
        if record_start.match(buf, newline + 1):
            return newline + 1
        newline = buf.rfind(b"\n", 0, newline)
    return None


def _may_hold_long_line(data: bytes) -> bool:
    """Whether a line may exceed MAX_LINE_BYTES: some aligned half-limit window has no newline.

    Any line of more than MAX_LINE_BYTES covers a whole aligned window of half that size, so
    a newline in every window rules such lines out with a few memchr calls.
    """
    window = MAX_LINE_BYTES // 2
    return len(data) > MAX_LINE_BYTES and any(
        data.find(b"\n", start, start + window) < 0 for start in range(0, len(data) - window + 1, window)
    )


def _cut_long_lines(lines: pl.DataFrame, damage: Damage) -> pl.DataFrame:
    size = pl.col("text").str.len_bytes()
    long = lines.select(size > MAX_LINE_BYTES).to_series()
    damage.long_lines = int(long.sum())
    if not damage.long_lines:
        return lines
    cut = pl.format("{} [... line cut by loglens: {} bytes long]", pl.col("text").str.head(MAX_LINE_BYTES), size)
    return lines.with_columns(text=pl.when(long).then(cut).otherwise(pl.col("text")))


def clean_line_count(data: bytes) -> int | None:
    """The number of lines in ``data`` when they need no repair (no NUL, CR, bad UTF-8 or over-long
    line), so that several such pieces can be split into lines together; otherwise None."""
    if b"\x00" in data or b"\r" in data or len(data) > MAX_LINE_BYTES:
        return None
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return data.count(b"\n") + (not data.endswith(b"\n"))


def decode_chunk(data: bytes) -> LineChunk:
    """Split bytes into lines; repair NUL bytes, CR and invalid UTF-8, marking damaged lines."""
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
    if _may_hold_long_line(data):
        lines = _cut_long_lines(lines, damage)
    if not (has_nul or invalid):
        return LineChunk(lines, damaged=False, damage=damage, has_backslash=b"\\" in data)
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
    return LineChunk(lines, damaged=True, damage=damage, has_backslash=b"\\" in data)
