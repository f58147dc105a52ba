"""Chunking: a source's bytes cut into chunks of whole records (decoded into lines by `parsers.lines`).

Plain files are split by probing a few kilobytes near each chunk boundary, so that chunks begin
only where a format says a record may start and no record is split across chunks; the chunk's
bytes are read later by whoever decodes it (``RawChunk.load``), so reading, decoding and parsing
all run in the worker threads. Gzip streams are decompressed in order and hand over their bytes.
"""

from __future__ import annotations

import os
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

import regex

from parsers.lines import capped_lines
from parsers.reader import READ_ERRORS, Source, SourceAccount, open_source

#: Decompressed bytes per chunk: large enough to amortise per-call overhead, small enough that
#: the chunks in flight stay a small fraction of the result frame (12 MiB measured best on the
#: 2-core machine: 8 MiB parses about 10% slower, 16 MiB adds memory for little speed).
DEFAULT_CHUNK_BYTES = 12 * 1024 * 1024
#: Chunks of a stream whose records are all written away (`parse --out`): nothing grows with
#: the input, so the chunks in flight are the memory. Parsing a 525 MB log through 6 MiB
#: chunks peaked at 256 MB against 386 MB with 12 MiB, in the same 2.1 s (3 MiB: 205 MB, 3.2 s).
STREAM_CHUNK_BYTES = 6 * 1024 * 1024
#: Chunks in flight: the CI-class machine has two cores, and a third chunk fills the gaps while
#: the others wait for the GIL or the consumer (four measured no faster).
PARALLEL_CHUNKS = 3


def _cores() -> int:
    """Cores this process may run on (its affinity, where the system keeps one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


#: Chunks parsed at once: one per core, up to `PARALLEL_CHUNKS`; the others in flight wait their
#: turn unread. On two cores, three parsed at once held three chunks' transients for no speed:
#: two at once peaked 45-70 MB lower (a 525 MB log 436-444 -> 383-400 MB), in the same time.
PARSING_THREADS = max(1, min(PARALLEL_CHUNKS, _cores()))
T = TypeVar("T")
#: Compressed bytes handed to zlib per step; small so a truncated .gz loses nothing decoded.
_READ_BLOCK = 1024 * 1024
#: Bytes read at a time when looking for the record start that ends a chunk.
_PROBE_BYTES = 64 * 1024
#: Room left after a newline for the record-start pattern to match (longer than any header start).
_MATCH_ROOM = 64
#: A chunk that finds no record start within this many chunk sizes is cut at a newline anyway.
_MAX_CHUNK_FACTOR = 4
_GZIP_MAGIC = b"\x1f\x8b"


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
                for data in _cut_stream(capped_lines(blocks), record_start, chunk_bytes):
                    account.bytes_read += len(data)
                    yield RawChunk(source.path, account.bytes_read - len(data), len(data), data)
        except READ_ERRORS as exc:
            account.warn(f"read error: {getattr(exc, 'strerror', None) or exc}; lines before it were kept")
    if account.bytes_read == 0 and not account.warnings:
        account.warn("file is empty")


def map_in_order(
    function: Callable[[RawChunk], T],
    chunks: Iterable[RawChunk],
    in_flight: int = PARALLEL_CHUNKS,
    workers: int = PARSING_THREADS,
) -> Iterator[T]:
    """``function`` of each chunk, in ``workers`` threads, yielded in chunk order.

    Polars releases the GIL, so chunks parse in parallel; at most ``in_flight`` are handed out
    (started or waiting for a thread) or wait to be yielded, which bounds memory.
    """
    with ThreadPoolExecutor(max_workers=min(workers, in_flight)) as pool:
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
        if end - offset <= chunk_bytes * _MAX_CHUNK_FACTOR:
            yield RawChunk(source.path, offset, end - offset)
        else:
            # No line start in a huge span (one giant line, a sparse file of NULs): stream it, so
            # over-long lines are cut as they pass and the span is never held whole.
            blocks = capped_lines(_range_blocks(handle.fileno(), offset, end))
            for data in _cut_stream(blocks, record_start, chunk_bytes):
                yield RawChunk(source.path, offset, len(data), data)
                offset += len(data)
        offset = end


def _stream_blocks(head: bytes, handle: BinaryIO) -> Iterator[bytes]:
    """The stream's blocks, starting with the bytes already read to sniff it."""
    if head:
        yield head
    while block := handle.read(_READ_BLOCK):
        yield block


def _range_blocks(fd: int, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start``..``end`` of a file, a block at a time."""
    while start < end:
        block = os.pread(fd, min(_READ_BLOCK, end - start), start)
        if not block:
            raise OSError(f"file changed while being read (ends at {start} of {end} bytes)")
        yield block
        start += len(block)


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
                # Bounded output per call: a small bomb inflating to gigabytes arrives in blocks.
                out = inflater.decompress(raw, _READ_BLOCK * 4)
            except zlib.error as exc:
                account.warn(f"corrupt gzip data ({exc}); lines before the damage were kept")
                return
            if out:
                yield out
            if not inflater.eof:
                raw = inflater.unconsumed_tail
                continue
            # Concatenated members are valid gzip (e.g. appended rotations): start the next one.
            raw = inflater.unused_data
            inflater = zlib.decompressobj(wbits=31)
            fed = False
    if fed and not inflater.eof:
        if tail := inflater.flush():
            yield tail
        account.warn("truncated gzip (ends before its end-of-stream marker); lines before the cut were kept")


def _cut_stream(blocks: Iterable[bytes], record_start: regex.Pattern[bytes], chunk_bytes: int) -> Iterator[bytes]:
    """Regroup streamed blocks into chunks of about ``chunk_bytes`` that end right before a record start.

    When no record start is found, the next look waits until the pending bytes have doubled and
    covers only the new bytes, so a span without record starts costs linear time.
    """
    pending: list[bytes] = []
    size, searched, next_look = 0, 0, chunk_bytes
    for block in blocks:
        pending.append(block)
        size += len(block)
        if size < next_look:
            continue
        buf = b"".join(pending)
        cut = _last_record_start(buf, record_start, searched)
        if cut is None and size >= chunk_bytes * _MAX_CHUNK_FACTOR:
            # No record start in a huge span: cut at a line end; later lines may count as unparsed.
            cut = buf.rfind(b"\n") + 1 or None
        if cut is None:
            pending, searched = [buf], max(0, size - _MATCH_ROOM)
            next_look = (
                min(size * 2, chunk_bytes * _MAX_CHUNK_FACTOR)
                if size < chunk_bytes * _MAX_CHUNK_FACTOR
                else size + chunk_bytes
            )
            continue
        yield buf[:cut]
        rest = buf[cut:]
        pending, size, searched, next_look = ([rest] if rest else []), len(rest), 0, chunk_bytes
    if size:
        yield b"".join(pending)


def _last_record_start(buf: bytes, record_start: regex.Pattern[bytes], low: int = 0) -> int | None:
    """Offset of the last line in ``buf`` (not the first) that starts a record and is complete,
    looking only at lines that begin after ``low``."""
    newline = buf.rfind(b"\n", 0, len(buf) - 1)
    while newline > 0 and newline >= low:
        if record_start.match(buf, newline + 1):
            return newline + 1
        newline = buf.rfind(b"\n", 0, newline)
    return None
