"""Reading waagent.log sources: chunks cut, parsed in parallel threads, records yielded in order.

`iter_waagent` is the stream (`parse --out` and `analyze` consume it chunk by chunk);
`read_waagent` gathers it into one frame. Each chunk is parsed by `parsers.waagent`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import polars as pl

from parsers import schema
from parsers.chunks import DEFAULT_CHUNK_BYTES, RawChunk, iter_raw_chunks, map_in_order
from parsers.lines import Damage
from parsers.reader import ParseResult, Source, SourceAccount
from parsers.selection import SelectedRecords, Selection
from parsers.timezones import VmTimezone
from parsers.waagent import parse_raw_chunk
from parsers.waagent_format import KIND, RECORD_START


def read_waagent(
    sources: Iterable[Source | Path | str],
    *,
    tz: VmTimezone | str | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    kind: str = KIND,
) -> ParseResult:
    """Parse waagent.log files (plain or .gz, on disk or in an archive) into one record frame.

    Args:
        sources: log files; they are read in the order given (use ``rotation_sort_key`` to sort).
        tz: the VM's UTC offset or zone, applied to local-time lines (default UTC).
        chunk_bytes: decompressed bytes per processing chunk; bounds peak memory.
        kind: the accounting kind; `CommandExecution.log` files use this grammar too.

    Returns:
        A ParseResult; bad inputs become warnings on their account, never exceptions.

    Example:
        >>> result = read_waagent(["sample_logs/vm-legacy/var/log/waagent.log"])  # doctest: +SKIP
        >>> result.frame.select("timestamp", "level", "message").head()  # doctest: +SKIP
    """
    accounts: list[SourceAccount] = []
    frames = list(iter_waagent(sources, accounts, tz=tz, chunk_bytes=chunk_bytes, kind=kind))
    frame = pl.concat(frames, how="vertical") if frames else schema.empty_frame(schema.WAAGENT_COLUMNS)
    return ParseResult(frame=frame, accounts=accounts)


def iter_waagent(
    sources: Iterable[Source | Path | str],
    accounts: list[SourceAccount],
    *,
    tz: VmTimezone | str | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    kind: str = KIND,
    transform: Callable[[pl.DataFrame | SelectedRecords], pl.DataFrame] | None = None,
    index=None,
    selection: Selection | None = None,
) -> Iterator[pl.DataFrame]:
    """`read_waagent` as a stream: each chunk's records as they are parsed, in file and line order.

    Nothing proportional to the input is held: a consumer that writes each frame away (`parse
    --out`) reads any size in bounded memory. ``accounts`` receives each source's account; they are
    complete once the iterator is exhausted. ``transform`` (e.g. redaction) is applied to each
    chunk's records in the worker thread that parsed them, in parallel like the parsing.
    ``index`` (a `parsers.chunk_index.ChunkIndex`) records where each chunk came from; with it, a
    `row` column the transform adds (numbered from 0 in the chunk) is shifted to row numbers of
    the whole stream, as `line_first` and `line_last` are shifted to file lines. With a
    ``selection`` (`parsers.selection`), chunks past its `after_bytes` reach ``transform`` as
    `SelectedRecords` (only the chosen records in full; a chunk the parse took whole, and every
    chunk before, as a frame), so ``transform`` is then required.
    """
    if selection is not None and transform is None:
        raise ValueError("a selection needs a transform: the chunks it parses are not record frames")
    zone = tz if isinstance(tz, VmTimezone) else VmTimezone.parse(tz)
    mine: list[SourceAccount] = []
    damages: dict[int, Damage] = {}

    def parse(job: tuple[SourceAccount, tuple]) -> tuple[SourceAccount, tuple, tuple]:
        source, ordinal, raw, offset = job[1]
        on_disk = raw.data is None
        marks = [] if index is not None and on_disk else None
        chosen = selection if selection is not None and offset >= selection.after_bytes else None
        records, counts, damage = parse_raw_chunk(raw, job[0].path, zone, marks=marks, selection=chosen)
        # The span is taken here, so that only the transformed records wait in flight.
        stamps, rows = _times_and_rows(records)
        # Only a byte range is handed on: a streamed chunk's bytes are let go once parsed.
        place = (source, ordinal, raw if on_disk else None, tuple(marks or ()))
        return job[0], place, (transform(records) if transform else records, stamps, rows, counts, damage)

    # One pipeline over every file's chunks: many small files keep the workers as busy as one big one.
    for account, (source, ordinal, raw, marks), (output, stamps, rows, counts, chunk_damage) in map_in_order(
        parse, _source_chunks(sources, kind, chunk_bytes, mine, damages)
    ):
        account.saw_times(stamps)
        # Chunks number their lines from 1; shift them to file line numbers.
        shifted = output.with_columns(pl.col("line_first", "line_last") + account.lines)
        if index is not None:
            first_row = index.add(source, ordinal, account.lines, counts[0], rows, raw, marks)
            if "row" in shifted.columns:
                shifted = shifted.with_columns(pl.col("row") + first_row)
        _tally(account, counts)
        damages[id(account)].add(chunk_damage)
        yield shifted
    accounts += mine
    for account in mine:
        damages[id(account)].report(account)


def _times_and_rows(records: pl.DataFrame | SelectedRecords) -> tuple[pl.Series, int]:
    """Every record's time, and how many records a chunk has (chosen or not)."""
    if isinstance(records, SelectedRecords):
        return records.timestamps(), records.rows
    return records["timestamp"], records.height


def _source_chunks(
    sources: Iterable[Source | Path | str],
    kind: str,
    chunk_bytes: int,
    accounts: list[SourceAccount],
    damages: dict[int, Damage],
) -> Iterator[tuple[SourceAccount, tuple[Source, int, RawChunk, int]]]:
    """Every source's chunks in order, each with its account (made here) and (source, ordinal,
    chunk, the bytes of the stream before it)."""
    offset = 0
    for item in sources:
        source = item if isinstance(item, Source) else Source.file(item)
        account = SourceAccount(path=source.name, kind=kind)
        accounts.append(account)
        damages[id(account)] = Damage()
        raws = iter_raw_chunks(source, account, record_start=RECORD_START, chunk_bytes=chunk_bytes)
        for ordinal, raw in enumerate(raws):
            yield account, (source, ordinal, raw, offset)
            offset += raw.length


def _tally(account: SourceAccount, counts: tuple[int, int, int, int]) -> None:
    """Add a chunk's counts (lines, records, continuations, unparsed) to its source's account."""
    account.lines += counts[0]
    account.records += counts[1]
    account.continuations += counts[2]
    account.unparsed += counts[3]
