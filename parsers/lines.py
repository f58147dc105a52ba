"""Bytes into lines: repairs (NUL bytes, CR, invalid UTF-8) and over-long lines cut.

Lines longer than `MAX_LINE_BYTES` are cut twice over: while bytes stream past
(`capped_lines`, so a giant line is never held whole) and, for byte ranges of plain files read
whole, when a chunk is decoded. Both leave the same mark with the line's full length, and every
repair is counted in a `Damage` that becomes one warning per kind on the file's account.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import polars as pl

from parsers.reader import SourceAccount

#: Lines longer than this are cut: no log line this long helps a diagnosis, and Polars' string
#: kernels need several times a line's size while working on it.
MAX_LINE_BYTES = 1024 * 1024
_REPLACEMENT_CHAR = "\ufffd"


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


#: What replaces the dropped tail of an over-long line (its full length in bytes is filled in).
CUT_MARK = " [... line cut by loglens: {} bytes long]"
_CUT_MARK_PATTERN = r" \[\.\.\. line cut by loglens: \d+ bytes long\]$"


def capped_lines(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The stream with each line longer than MAX_LINE_BYTES cut to that length as it passes.

    The dropped tail is never held: time stays linear and memory bounded by a block, however long
    the line. A cut line ends in `CUT_MARK` with its full length; the decoder counts it.
    """
    run = 0  # bytes of the current line seen so far, kept or dropped
    for block in blocks:
        first, last = block.find(b"\n"), block.rfind(b"\n")
        head = first if first >= 0 else len(block)
        tail = len(block) - last - 1 if first >= 0 else 0
        if run + head <= MAX_LINE_BYTES and tail <= MAX_LINE_BYTES and not _may_hold_long_line(block, first, last):
            yield block
            run = tail if first >= 0 else run + len(block)
            continue
        yield from _cut_block(block, run)
        run = (len(block) - last - 1) if first >= 0 else run + len(block)
    if run > MAX_LINE_BYTES:
        yield CUT_MARK.format(run).encode()  # the last line ends with the stream


def _cut_block(block: bytes, run: int) -> Iterator[bytes]:
    """One block's lines with over-long ones cut; ``run`` bytes of its first line came before it."""
    start = 0
    while start < len(block):
        newline = block.find(b"\n", start)
        end = len(block) if newline < 0 else newline
        room = max(0, MAX_LINE_BYTES - run)
        keep = _utf8_boundary(block, start, min(end, start + room))
        if keep > start:
            yield block[start:keep]
        run += end - start
        if newline < 0:
            return
        yield (CUT_MARK.format(run).encode() if run > MAX_LINE_BYTES else b"") + b"\n"
        run, start = 0, newline + 1


def _utf8_boundary(data: bytes, low: int, at: int) -> int:
    """``at`` moved back so it does not split a UTF-8 character (never below ``low``)."""
    if at >= len(data):
        return at
    back = at
    while back > low and back > at - 4 and data[back] & 0xC0 == 0x80:
        back -= 1
    return back


def _may_hold_long_line(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether a line may exceed MAX_LINE_BYTES: some aligned half-limit window has no newline.

    Any line of more than MAX_LINE_BYTES covers a whole aligned window of half that size, so
    a newline in every window rules such lines out with a few memchr calls.
    """
    end = len(data) if end is None else end
    window = MAX_LINE_BYTES // 2
    return end - start > MAX_LINE_BYTES and any(
        data.find(b"\n", at, at + window) < 0 for at in range(start, end - window + 1, window)
    )


def _cut_long_lines(lines: pl.DataFrame, damage: Damage) -> pl.DataFrame:
    size = pl.col("text").str.len_bytes()
    long = lines.select(size > MAX_LINE_BYTES).to_series()
    damage.long_lines = int(long.sum())
    if not damage.long_lines:
        return lines
    # Lines cut while streaming (`capped_lines`) already carry their mark and full length.
    marked = lines.select(pl.col("text").str.contains(_CUT_MARK_PATTERN)).to_series()
    long = long & ~marked
    cut = pl.format("{}" + CUT_MARK.replace("{}", "{}", 1), pl.col("text").str.head(MAX_LINE_BYTES), size)
    return lines.with_columns(text=pl.when(long).then(cut).otherwise(pl.col("text")))


def line_count(data: bytes) -> int:
    """Physical lines as loglens counts them: only `\\n` ends a line; a last line may lack it."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


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
    return line_count(data)


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
