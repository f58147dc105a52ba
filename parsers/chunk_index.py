"""Where each chunk of a streamed text log came from, so its records can be read back by line.

A streamed analysis keeps only the records its rules need (`loglens.digest`); the report still
shows the lines around each evidence line. `ChunkIndex` remembers, per chunk, its source, its
place in the source's lines and the stream's rows, and (for a plain file on disk) its byte range.
`records_at` reads just the chunks holding the wanted lines again: a plain file's chunk by its
byte range, a compressed or archived source by splitting it again the same way.
"""

from __future__ import annotations

import bisect
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from parsers import schema
from parsers.chunks import RawChunk, iter_raw_chunks
from parsers.reader import Source, SourceAccount
from parsers.timezones import VmTimezone
from parsers.waagent import LINE_MARK_EVERY, parse_raw_chunk
from parsers.waagent_format import RECORD_START


@dataclass(frozen=True)
class ChunkPlace:
    """One parsed chunk.

    Attributes:
        source: the source it was cut from.
        ordinal: its number among its source's chunks, from 0.
        first_line: lines of the source before it.
        lines: its lines.
        first_row: rows of the whole stream before it.
        rows: its rows (records and unparsed lines).
        raw: its byte range in a file on disk; None when its bytes came from a stream (gzip, an
            archive member), which must be split again to reach it.
        marks: byte offsets in it of lines 1, 1 + `LINE_MARK_EVERY`, ... (empty: not marked), so
            that a few lines are read back without reading the whole chunk.
    """

    source: Source
    ordinal: int
    first_line: int
    lines: int
    first_row: int
    rows: int
    raw: RawChunk | None
    marks: tuple[int, ...] = ()


@dataclass
class ChunkIndex:
    """Every chunk of a stream, in stream order; filled by `parsers.waagent_stream.iter_waagent`.

    Attributes:
        zone: the zone the chunks were parsed with (a re-read must parse them the same way).
        chunk_bytes: the chunk size they were cut with (a re-split must cut them the same way).
    """

    zone: VmTimezone
    chunk_bytes: int
    places: list[ChunkPlace] = field(default_factory=list)
    #: Per source on disk, what it was when its first chunk was indexed (`_identity`).
    identities: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    #: Sources that were not read back, and why (one line each, naming the file).
    warnings: list[str] = field(default_factory=list)
    #: Bytes on disk of every source the stream will read (set by whoever opens them), for `read_fraction`.
    expected_bytes: int = 0
    #: Per source found, its VM collection as `LoadResult.collections` will give it (set by whoever
    #: opens them, before the stream): what reads the stream may keep the VMs apart as it goes.
    collections: dict[str, str] = field(default_factory=dict)
    #: Bytes on disk of the sources before the current one, and the current one's size.
    _bytes_before: int = field(default=0, repr=False)
    _current_bytes: int = field(default=0, repr=False)

    @property
    def rows(self) -> int:
        """Rows the stream has yielded so far."""
        return self.places[-1].first_row + self.places[-1].rows if self.places else 0

    def add(
        self,
        source: Source,
        ordinal: int,
        first_line: int,
        lines: int,
        rows: int,
        raw: RawChunk | None,
        marks: tuple[int, ...] = (),
    ) -> int:
        """Record the next chunk (``raw``: its byte range on disk, or None); returns its first row."""
        first_row = self.rows
        if ordinal == 0:
            self._bytes_before += self._current_bytes
            self._current_bytes = 0
        if source.path is not None and source.name not in self.identities:
            self.identities[source.name] = identity = _identity(source.path)
            self._current_bytes = identity[2] if identity else 0
        place = ChunkPlace(source, ordinal, first_line, lines, first_row, rows, raw, marks)
        self.places.append(place)
        return first_row

    def read_fraction(self) -> float | None:
        """How much of `expected_bytes` the chunks indexed so far cover; None when unknown (nothing
        expected, or the last chunk came from a decompressed stream, whose place on disk is not known)."""
        if not self.expected_bytes or not self.places or self.places[-1].raw is None:
            return None
        raw = self.places[-1].raw
        return min(1.0, (self._bytes_before + raw.offset + raw.length) / self.expected_bytes)

    def records_at(self, wanted: pl.DataFrame) -> pl.DataFrame:
        """The records (`WAAGENT_COLUMNS`) starting at the wanted lines, read back from their chunks.

        Args:
            wanted: `source_path` and `line_first` pairs; lines of other sources are ignored.
        """
        lines = wanted.select(pl.col("source_path").cast(pl.String), pl.col("line_first").cast(pl.UInt32)).unique()
        by_path = {path: sorted(group["line_first"].to_list()) for (path,), group in lines.group_by("source_path")}
        found = []
        for name, places in self._places_by_source().items():
            targets = by_path.get(name)
            if not targets or not self._unchanged(name, places):
                continue
            # Each place's wanted lines, numbered in the chunk: found once, by bisection.
            mine = {p.ordinal: _lines_in(p, targets) for p in places}
            pieces = []
            for place, data in self._reread([p for p in places if mine[p.ordinal]]):
                wanted_here = mine[place.ordinal]
                found_in = _marked_pieces(place, wanted_here) if data is None else None
                if found_in is None:
                    found_in = list(_pieces(data if data is not None else place.raw.load(), _clusters(wanted_here)))
                pieces += [(place.first_line + before, piece) for before, piece in found_in]
            if pieces:
                found.append(self._parse_pieces(name, pieces).filter(pl.col("line_first").is_in(targets)))
        return pl.concat(found) if found else schema.empty_frame(schema.WAAGENT_COLUMNS)

    def _unchanged(self, name: str, places: list[ChunkPlace]) -> bool:
        """True when the file ``name`` is still the one read (same file, not shorter): reading a
        swapped, truncated or rotated file back would show another file's lines as context, and a
        FIFO put in its place would block. Else False, with a warning."""
        source = places[0].source
        if source.path is None:
            return True  # an archive member: its archive was read once, in place
        before, now = self.identities.get(name), _identity(source.path)
        end = max((p.raw.offset + p.raw.length for p in places if p.raw is not None), default=0)
        if before is not None and now is not None and now[:2] == before[:2] and now[2] >= end:
            return True
        self.warnings.append(
            f"{name}: changed after it was read (replaced, truncated or rotated); the lines around its evidence are not shown"
        )
        return False

    def _places_by_source(self) -> dict[str, list[ChunkPlace]]:
        out: dict[str, list[ChunkPlace]] = {}
        for place in self.places:
            out.setdefault(place.source.name, []).append(place)
        return out

    def _reread(self, needed: list[ChunkPlace]) -> Iterator[tuple[ChunkPlace, bytes | None]]:
        """The bytes of each needed chunk (all of one source); None for a chunk on disk, which is
        read in part (`_marked_pieces`) or, failing that, whole."""
        streamed = {p.ordinal: p for p in needed if p.raw is None}
        for place in needed:
            if place.raw is not None:
                yield place, None
        if not streamed:
            return
        # A throwaway account: the source's warnings were reported on the first read.
        source = needed[0].source
        account = SourceAccount(path=source.name, kind="reread")
        for ordinal, raw in enumerate(
            iter_raw_chunks(source, account, record_start=RECORD_START, chunk_bytes=self.chunk_bytes)
        ):
            if (place := streamed.pop(ordinal, None)) is not None:
                yield place, raw.load()
            if not streamed:
                break

    def _parse_pieces(self, name: str, pieces: list[tuple[int, bytes]]) -> pl.DataFrame:
        """Records of a source's pieces, (lines before it, bytes) each, parsed at once (one call
        costs the same for a few lines as for many), numbered by their lines in the source."""
        data = b"".join(piece for _, piece in pieces)
        records, _, _ = parse_raw_chunk(RawChunk(None, 0, len(data), data), source_path=name, zone=self.zone)
        lines_before, shift = 0, []
        for before, piece in pieces:
            shift.append((lines_before, before - lines_before))
            lines_before += piece.count(b"\n")
        starts = pl.Series([start for start, _ in shift], dtype=pl.Int64)
        offsets = pl.Series([offset for _, offset in shift], dtype=pl.Int64)
        # Each record lies in one piece: the last piece starting before its first line.
        piece = starts.search_sorted(records["line_first"].cast(pl.Int64) - 1, side="right") - 1
        moved = offsets.gather(piece)
        return records.with_columns(
            (pl.col("line_first").cast(pl.Int64) + moved).cast(pl.UInt32),
            (pl.col("line_last").cast(pl.Int64) + moved).cast(pl.UInt32),
        )


#: Wanted lines closer than this share one piece.
_PIECE_GAP = 64


def _lines_in(place: ChunkPlace, targets: list[int]) -> list[int]:
    """The sorted ``targets`` that fall in ``place``, numbered from 1 in the chunk."""
    low = bisect.bisect_right(targets, place.first_line)
    high = bisect.bisect_right(targets, place.first_line + place.lines)
    return [n - place.first_line for n in targets[low:high]]


def _identity(path) -> tuple[int, int, int] | None:
    """(device, inode, size) of a regular file at ``path`` (not following a link), else None."""
    try:
        status = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return status.st_dev, status.st_ino, status.st_size


def _marked_pieces(place: ChunkPlace, lines: list[int]) -> list[tuple[int, bytes]] | None:
    """`_pieces` of a chunk on disk, each read from the marks around it rather than the whole
    chunk; None when the chunk has no marks or a piece reaches past its window."""
    if not place.marks or place.raw is None:
        return None
    marks, raw, out = place.marks, place.raw, []
    with open(raw.path, "rb") as handle:
        for low, high in _clusters(lines):
            # From the mark a whole stretch before the first line to the one a stretch after the last.
            first = max(0, (low - 1) // LINE_MARK_EVERY - 1)
            last = (high - 1) // LINE_MARK_EVERY + 2
            start, end = marks[first], marks[last] if last < len(marks) else raw.length
            data = os.pread(handle.fileno(), end - start, raw.offset + start)
            if len(data) != end - start:
                return None
            try:
                before = first * LINE_MARK_EVERY
                out += [
                    (before + n, piece)
                    for n, piece in _pieces(
                        data, [[low - before, high - before]], open_start=first > 0, open_end=last < len(marks)
                    )
                ]
            except _OutOfWindow:
                return None
    return out


class _OutOfWindow(Exception):
    """A piece reaches past the bytes read for it."""


def _clusters(lines: list[int]) -> list[list[int]]:
    """Sorted lines grouped into [first, last] runs with gaps of at most `_PIECE_GAP`."""
    clusters: list[list[int]] = []
    for line in lines:
        if clusters and line - clusters[-1][1] <= _PIECE_GAP:
            clusters[-1][1] = line
        else:
            clusters.append([line, line])
    return clusters


def _pieces(
    data: bytes, clusters: list[list[int]], *, open_start: bool = False, open_end: bool = False
) -> Iterator[tuple[int, bytes]]:
    """Small pieces of a chunk holding the wanted lines (`_clusters`, numbered from 1 in ``data``),
    one per cluster, as (lines of ``data`` before the piece, its bytes).

    Each piece begins at a line that starts a record and ends before one, exactly as a chunk is
    cut, so its records parse as they did in the whole chunk (parsing does not depend on where
    chunks are cut); parsing a few lines instead of the whole chunk keeps the read-back cheap,
    and lines are found by counting newlines, never by splitting the chunk. ``open_start`` and
    ``open_end``: ``data`` is a window of the chunk, whose edges are not record boundaries.

    Raises:
        _OutOfWindow: a piece would begin before or end after the window.
    """
    cursor = _LineCursor(data)
    for low, high in clusters:
        start, number = cursor.start_of(low)
        while start > 0 and not RECORD_START.match(data, start):
            start = data.rfind(b"\n", 0, start - 1) + 1
            number -= 1
        end = cursor.start_of(high + 1)[0]
        while end < len(data) and not RECORD_START.match(data, end):
            end = _next_line(data, end)
        if (open_start and start == 0 and not RECORD_START.match(data, 0)) or (open_end and end == len(data)):
            raise _OutOfWindow
        yield number - 1, data[start:end]


def _next_line(data: bytes, at: int) -> int:
    """Where the line after the one at ``at`` starts (the end of ``data`` after the last)."""
    newline = data.find(b"\n", at)
    return len(data) if newline == -1 else newline + 1


class _LineCursor:
    """Byte offsets of line starts, found moving forward: newlines are counted a block at a time
    (in C) while the wanted line is far, then passed one by one."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at, self.line = data, 0, 1

    def start_of(self, line: int) -> tuple[int, int]:
        """The offset where ``line`` starts (or the end of the data), and the line found there."""
        if line < self.line:
            self.at, self.line = 0, 1
        data, span = self.data, 1 << 16
        while line - self.line > _PIECE_GAP and span >= 4096:
            end = min(len(data), self.at + span)
            passed = data.count(b"\n", self.at, end)
            if passed >= line - self.line:
                span //= 2  # would pass the line: count a shorter block
                continue
            # ``end`` may fall inside a line; the line it falls in is still ahead of the wanted one.
            self.at, self.line, span = end, self.line + passed, span * 2
            if end == len(data):
                break
        while self.line < line and self.at < len(data):
            self.at = _next_line(data, self.at)
            self.line += 1
        return self.at, self.line
