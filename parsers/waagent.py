"""The waagent.log chunk engine: one chunk's bytes in, schema-conforming records out.

Reading whole sources chunk by chunk, in parallel and in order, is `parsers.waagent_stream`.

The format itself (grammar, header fields, sample lines, file names) is data in
`parsers.waagent_format`. Here each chunk's lines are matched against its header pattern in one
pass, each distinct header tail is parsed once, records are marked and folded, and the finishing
columns (timestamps, event fields, escapes) are computed on the rows that need them. Any line
without a header continues the record before it; lines before a file's first record and damaged
lines outside an output block are kept as ``unparsed`` rows. Polars tricks used on this hot path
each carry a one-line why.
"""

from __future__ import annotations

import polars as pl

from parsers import schema
from parsers.bare_lines import STRIPPED, parse_bare
from parsers.chunks import RawChunk
from parsers.event_fields import event_columns
from parsers.folding import ELISIONS, fold
from parsers.lines import Damage, LineChunk, decode_chunk
from parsers.payloads import decode_payloads
from parsers.selection import SelectedRecords, Selection, chosen, summary_of
from parsers.stamped_lines import parse_stamped
from parsers.timezones import VmTimezone
from parsers.waagent_format import (
    AGENT_ESCAPE,
    DURATION_TAIL,
    FORMS,
    HEADER_PATTERN,
    header_table,
    unescape_agent_text,
)
from parsers.waagent_stamps import stamp, utc
from parsers.wrappers import unwrap, with_wrapper_fields

#: Header form numbers (`waagent_format.FORMS`).
_ISO, _LEGACY, _EXTENSION = (FORMS.index(f) for f in ("agent-iso", "agent-legacy", "extension"))
_DIGITS = tuple("0123456789")


def parse_raw_chunk(
    raw: RawChunk,
    source_path: str,
    zone: VmTimezone,
    marks: list[int] | None = None,
    selection: Selection | None = None,
) -> tuple[pl.DataFrame | SelectedRecords, tuple[int, int, int, int], Damage]:
    """Read, decode and parse one chunk (in a worker thread).

    Args:
        marks: given, receives the byte offsets in the chunk of lines 1, 1 + `LINE_MARK_EVERY`,
            ... when its lines are its bytes as they are (nothing repaired), so that a line can be
            read back without reading the whole chunk (`parsers.chunk_index`).
        selection: given, only the records it chooses are parsed in full (`parsers.selection`).

    Returns:
        Records numbered from line 1 of the chunk (`SelectedRecords` when a ``selection`` was
        applied); counts (lines, records, continuations, unparsed); repairs and read problems.
    """
    try:
        data = raw.load()
    except OSError as exc:
        return schema.empty_frame(schema.WAAGENT_COLUMNS), (0, 0, 0, 0), Damage(read_errors=[str(exc)])
    chunk = decode_chunk(data)
    del data  # the lines hold the text now: the chunk's bytes need not wait for the parse
    if marks is not None and not (chunk.damaged or chunk.damage.crlf or chunk.damage.long_lines):
        widths = chunk.lines.get_column("text").str.len_bytes().cast(pl.Int64) + 1
        marks += (widths.cum_sum() - widths).gather_every(LINE_MARK_EVERY).to_list()
    line_count, damage = chunk.lines.height, chunk.damage
    # Handed over, not lent: the parse lets the chunk's text go once the messages are cut from it.
    held = [chunk]
    del chunk
    records, counts = parse_chunk(held, source_path, zone, selection)
    return records, (line_count, *counts), damage


#: Lines between two byte offsets `parse_raw_chunk` marks.
LINE_MARK_EVERY = 1024


def parse_chunk(
    held: list[LineChunk], source_path: str, zone: VmTimezone, selection: Selection | None = None
) -> tuple[pl.DataFrame | SelectedRecords, tuple[int, int, int]]:
    """Turn one chunk of lines into schema-conforming records.

    Args:
        held: the chunk, alone in a list the parse takes it out of: once the messages are cut
            from the lines nothing holds the chunk's text (a 32 MiB chunk's live peak: 190 -> 151 MB).
        selection: given, and the chunk has only record lines, only the records it chooses are
            folded and finished (`SelectedRecords`); the rest give their summary columns.

    Returns:
        The records and the counts (records, continuation lines, unparsed lines).
    """
    chunk = held.pop()
    lines, damaged, has_backslash = chunk.lines.with_row_index("line_no", offset=1), chunk.damaged, chunk.has_backslash
    del chunk
    # A poster's elision line (`...`) stands for lines left out: its own unparsed row, not part of a record.
    elided = lines["text"].is_in(ELISIONS)
    if elided.any():
        marked = (elided | lines["damaged"]) if damaged else elided
        lines, damaged = lines.with_columns(marked.alias("damaged")), True
    unwrapped = unwrap(lines, HEADER_PATTERN)
    if unwrapped is not None:
        # Other programs' lines around wrapped agent lines stay unparsed rows, like damaged ones.
        foreign = unwrapped.foreign | lines["damaged"] if damaged else unwrapped.foreign
        lines, damaged = lines.with_columns(unwrapped.text, foreign.alias("damaged")), True
    lines, table = _recognise_headers(lines)
    if table.height == 0:
        # No agent header at all: pasted text stamped some other way, or the 2.0 agent's bare lines.
        other = parse_stamped(lines, source_path, zone) or parse_bare(lines, source_path)
        if other is not None:
            return other
    lines = _mark_records(lines, damaged)
    if selection is not None and unwrapped is None and not lines["is_unparsed"].any():
        held.append(lines)
        del lines  # handed over, so that the chunk's text goes once the chosen messages are cut
        return _parse_chosen(held, table, source_path, zone, selection, has_backslash)
    # Series filters: a frame-level filter costs a query plan per call, too much per chunk.
    is_start, is_unparsed = lines["is_start"], lines["is_unparsed"]
    starts = _rows(lines, is_start, ("line_no", "text", "ts_len", "header", "head_len"))
    # The row of `starts` each continuation belongs to: starts counted so far, less one.
    owner = (is_start.cum_sum() - 1).cast(pl.UInt32).alias("owner")
    follows = ~is_start & ~is_unparsed
    continuations = pl.DataFrame(
        [lines["line_no"].filter(follows), lines["text"].filter(follows), owner.filter(follows)]
    )
    unparsed = _rows(lines, is_unparsed, ("line_no", "text")) if is_unparsed.any() else None
    counts = (starts.height, continuations.height, 0 if unparsed is None else unparsed.height)
    first_start = starts["line_no"].min() if starts.height else None
    held += [_stamped(starts, table), continuations]
    del lines, starts, continuations, is_start, is_unparsed, owner, follows
    records = _records_of(held, table, source_path, zone, has_backslash)
    if unparsed is not None:
        records = _with_unparsed(records, unparsed, source_path)
        if (head := _stripped_head(unparsed, first_start, source_path)) is not None:
            records, counts = _with_head(records, counts, *head)
    if unwrapped is not None:
        records = schema.conform(with_wrapper_fields(records, unwrapped), schema.WAAGENT_COLUMNS)
    return records, counts


def _stamped(starts: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """``starts`` with `wall_clock`: the stamps are read off a record's first line, before it is folded."""
    return starts.with_columns(stamp(starts, table["form"].gather(starts["header"]) == _ISO))


def _records_of(
    held: list[pl.DataFrame], table: pl.DataFrame, source_path: str, zone: VmTimezone, has_backslash: bool
) -> pl.DataFrame:
    """Records from their (stamped) start lines and continuation lines, handed over in ``held``."""
    starts, continuations = held
    held.clear()
    # Fold whole lines and cut the headers off after: one copy of each message, none left over.
    records = fold(starts, continuations, "text").with_columns(message=pl.col("text").str.slice(pl.col("head_len")))
    # The messages are copies: with the lines, their text goes (an unparsed row's text stays).
    records = records.drop("text")
    del starts, continuations
    if has_backslash:
        records = _decode_agent_escapes(records, table)
    return _finish_records(records, table, source_path, zone)


def _parse_chosen(
    held: list[pl.DataFrame],
    table: pl.DataFrame,
    source_path: str,
    zone: VmTimezone,
    selection: Selection,
    has_backslash: bool,
) -> tuple[SelectedRecords, tuple[int, int, int]]:
    """`parse_chunk` of a chunk whose every line starts or continues a record (its lines, handed
    over in ``held``), through ``selection``: the chosen records folded and finished, the others'
    summary columns read off their headers."""
    lines = held.pop()
    is_start = lines["is_start"]
    # Each line's record: starts counted so far, less one (every line has one: none is unparsed).
    owner = (is_start.cum_sum() - 1).cast(pl.UInt32)
    pick = chosen(lines, owner, table["level"].gather(lines["header"]), selection)
    starts = _stamped(_rows(lines, is_start, ("line_no", "text", "ts_len", "header", "head_len")), table)
    counts = (starts.height, lines.height - starts.height, 0)
    # Continuations of chosen records, each pointing at its record's place among the chosen.
    wanted = ~is_start & pick.gather(owner)
    place = (pick.cum_sum() - 1).cast(pl.UInt32)
    continuations = pl.DataFrame(
        [
            lines["line_no"].filter(wanted),
            lines["text"].filter(wanted),
            place.gather(owner.filter(wanted)).alias("owner"),
        ]
    )
    others = summary_of(starts.filter(~pick), table, source_path, zone)
    held += [starts.filter(pick), continuations]
    del lines, starts, continuations, is_start, owner, wanted
    records = _records_of(held, table, source_path, zone, has_backslash)
    records = records.insert_column(0, pick.arg_true().alias("row"))
    return SelectedRecords(records, others, counts[0]), counts


def _with_unparsed(records: pl.DataFrame, unparsed: pl.DataFrame, source_path: str) -> pl.DataFrame:
    """``records`` with the ``unparsed`` lines among them as rows of their own, in line order."""
    rows = unparsed.select(
        source_path=pl.lit(source_path),
        line_first=pl.col("line_no"),
        line_last=pl.col("line_no"),
        timestamp_local_assumed=pl.lit(False),
        message=pl.col("text"),
        line_format=pl.lit("unparsed"),
    )
    return pl.concat([records, schema.conform(rows, schema.WAAGENT_COLUMNS)]).sort("line_first")


def _stripped_head(unparsed: pl.DataFrame, first: int | None, source_path: str):
    """The unparsed lines before a chunk's first header (line ``first``; None: no header), as
    records when the poster cut the stamps off agent lines there (`parsers.bare_lines`): (their
    line numbers, records, counts) or None."""
    head = unparsed.filter(~pl.col("text").is_in(ELISIONS))
    if first is not None:
        head = head.filter(pl.col("line_no") < first)
    if head.height == 0 or not head["text"].str.contains(STRIPPED).any():
        return None
    parsed = parse_bare(head.select("line_no", "text"), source_path)
    return None if parsed is None else (head["line_no"], *parsed)


def _with_head(records: pl.DataFrame, counts: tuple[int, int, int], lines: pl.Series, head: pl.DataFrame, head_counts):
    """``records`` with the unparsed rows of ``lines`` replaced by ``head``, and the counts moved."""
    kept = records.filter(~pl.col("line_first").is_in(lines.implode()))
    merged = pl.concat([kept, schema.conform(head, schema.WAAGENT_COLUMNS)]).sort("line_first")
    now_parsed = head_counts[0] + head_counts[1]
    return merged, (counts[0] + head_counts[0], counts[1] + head_counts[1], counts[2] - now_parsed)


def _rows(frame: pl.DataFrame, mask: pl.Series, columns: tuple[str, ...]) -> pl.DataFrame:
    """Some columns of ``frame`` on the rows ``mask`` marks."""
    return pl.DataFrame([frame.get_column(name).filter(mask) for name in columns])


def _recognise_headers(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Find each line's header with one capture-free pass and describe it via its distinct tails.

    ``HEADER_PATTERN`` matched from the line start gives the header (null when the line has
    none); the message is the rest of the line. What follows the timestamp (level, thread,
    prefix) takes few distinct values in a log, so each distinct tail ("key") is parsed once
    (``header_table``) and referenced by row index (``header``); ``ts_len`` is the length of the
    date and time (without an ISO "Z") and ``head_len`` the header's.
    """
    head = lines.select(pl.col("text").str.extract(HEADER_PATTERN, 0)).to_series()
    # Most stamps carry a six-digit fraction, so the key follows character 26. Whether a
    # line's does is read off its "probe", the header from character 25 on: the fraction's
    # last digit, then the end, a space or an ISO "Z" (the pattern allows nothing else there
    # after a six-digit fraction, and no shorter or longer fraction, nor a stamp without one,
    # leaves a probe of that shape). Probes take few distinct values too, and a slice at one
    # offset for all rows is a view where a per-row offset would copy every key. The
    # pattern's digits are [0-9], so offsets up to 26 count bytes and characters alike.
    probe = head.str.slice(25)
    probes = probe.drop_nulls().unique().to_list()
    probe_index = probe.cast(pl.Enum(probes)).to_physical()
    six_digit = {i: p[1:] for i, p in enumerate(probes) if p[:1] in _DIGITS and p[1:2] in ("", " ", "Z")}
    keys = set(six_digit.values())
    key_of_probe = [six_digit.get(i) for i in range(len(probes))]  # None: not six digits
    has_others = len(six_digit) < len(probes)
    ts_len = pl.repeat(26, head.len(), dtype=pl.Int32, eager=True)
    if has_others:
        # Other stamps: cut after the seconds and strip the fraction, whatever its width.
        is_other = pl.Series([key is None for key in key_of_probe], dtype=pl.Boolean)
        other_rows = is_other.gather(probe_index).arg_true()
        other_head = head.gather(other_rows)
        other_key = other_head.str.slice(19).str.strip_chars_start(".0123456789")
        ts_len = ts_len.scatter(other_rows, other_head.str.len_bytes() - other_key.str.len_bytes())
        keys |= set(other_key.unique().to_list())
    table = header_table(pl.Series(sorted(keys), dtype=pl.String))
    row_of = {key: row for row, key in enumerate(table["key"].to_list())}
    header = pl.Series([row_of.get(key) for key in key_of_probe], dtype=pl.UInt32).gather(probe_index)
    if has_others:
        header = header.scatter(other_rows, other_key.cast(pl.Enum(table["key"])).to_physical())
    lines = lines.with_columns(
        head_len=head.str.len_bytes(), ts_len=ts_len, header=header, form=table["form"].gather(header)
    )
    return lines, table


def _mark_records(lines: pl.DataFrame, damaged: bool) -> pl.DataFrame:
    """Decide per line: starts a record, continues the one before, or is unparsed."""
    form = lines["form"]
    is_agent = ((form == _ISO) | (form == _LEGACY)).fill_null(False)
    is_extension = (form == _EXTENSION).fill_null(False)
    bad = lines["damaged"] if damaged else None
    in_block = _in_output_block(lines["text"], is_agent, is_extension, bad)
    is_start = is_agent | (is_extension & ~in_block)
    orphan = is_start.cum_sum() == 0
    lost = orphan if bad is None else orphan | (bad & ~in_block)
    return lines.with_columns(is_start=is_start, is_unparsed=~is_start & lost)


def _in_output_block(text: pl.Series, is_agent: pl.Series, is_extension: pl.Series, bad: pl.Series | None) -> pl.Series:
    """Whether each line sits inside an agent record's command output block.

    A block opens at an exact "[stdout]" line and closes at a ", duration=N" tail or the next
    agent header; extension-shaped (and damaged) lines inside it are output, not records or
    unparsed lines. Only those lines need the answer, and they are few, so it is found for
    them alone by binary search over the agent header, "[stdout]" and tail positions.
    """
    in_block = pl.repeat(False, text.len(), eager=True)
    need = is_extension if bad is None else is_extension | bad
    marks = (text == "[stdout]").arg_true()
    if marks.len() == 0 or not need.any():
        return in_block
    at = need.arg_true().cast(pl.Int64)
    others = (~is_agent).arg_true()
    tails = others.filter(text.filter(~is_agent).str.contains(DURATION_TAIL))
    agent = _last_before(is_agent.arg_true(), at, inclusive=False)
    mark = _last_before(marks, at, inclusive=True)
    tail = _last_before(tails, at, inclusive=False)
    inside = (agent >= 0) & (mark > agent) & (tail <= agent)
    return in_block.scatter(at, inside)


def _last_before(points: pl.Series, at: pl.Series, *, inclusive: bool) -> pl.Series:
    """For each position in ``at``, the last of the sorted ``points`` before it (or at it), or -1."""
    index = points.search_sorted(at.cast(points.dtype), side="right" if inclusive else "left")
    return pl.concat([pl.Series([-1], dtype=pl.Int64), points.cast(pl.Int64)]).gather(index)


def _finish_records(records: pl.DataFrame, table: pl.DataFrame, source_path: str, zone: VmTimezone) -> pl.DataFrame:
    """Derive the schema columns from the header table and the folded message."""
    records = records.with_columns(table.drop("key").select(pl.all().gather(records["header"])))
    records = _own_daemon_word(records, table)
    iso = records["form"] == _ISO
    records = records.with_columns(
        source_path=pl.lit(source_path),
        timestamp=utc(records["wall_clock"], iso, zone),
        timestamp_local_assumed=~iso,
        **event_columns(records),
    )
    return schema.conform(decode_payloads(records), schema.WAAGENT_COLUMNS)


#: The agent forces each line to ASCII with Python's `backslashreplace` (reference 1.1): a
#: character above U+007F becomes `\xNN` (to U+00FF), `\uNNNN` or `\UNNNNNNNN`, in lower-case hex.
def _decode_agent_escapes(records: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """Decode the agent's escapes in agent records; extension-written lines are left as written.

    Escaped records are rare, so only they are decoded (in Python) and put back; a plain
    search for a backslash first narrows the rows the escape pattern runs on.
    """
    rows = records.select(pl.col("message").str.contains("\\", literal=True)).to_series().arg_true()
    candidates = records.select("header", "message")[rows]
    escaped = candidates.select(
        pl.col("header").is_in(_header_ids(table, (_ISO, _LEGACY))) & pl.col("message").str.contains(AGENT_ESCAPE)
    ).to_series()
    if not escaped.any():
        return records
    decoded = [unescape_agent_text(t) for t in candidates["message"].filter(escaped).to_list()]
    return records.with_columns(
        records["message"].clone().scatter(rows.filter(escaped), pl.Series(decoded, dtype=pl.String))
    )


def _header_ids(table: pl.DataFrame, forms: tuple[int, ...], process: str | None = None) -> list[int]:
    """Rows of the header table (the `header` values) of the given forms, and process if given."""
    rows = zip(table["form"].to_list(), table["process"].to_list(), strict=True)
    return [i for i, (form, prefix) in enumerate(rows) if form in forms and (process is None or prefix == process)]


def _own_daemon_word(records: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """Give a G1 message back the `Daemon` its header parse took as a process prefix.

    G1 agents had no process prefix, so `Daemon ended with exception` or `Daemon is already
    running` reads like a G2 `Daemon` prefix. A G2 message starts with a capital; a lower-case
    word after `Daemon` means the word was the message's own first word.
    """
    daemon_keys = _header_ids(table, (_LEGACY,), process="Daemon")
    if not daemon_keys:
        return records
    candidates = pl.col("header").is_in(daemon_keys)
    if not records.select(pl.col("message").filter(candidates).str.contains(r"^[a-z]").any()).item():
        return records
    own_word = candidates & pl.col("message").str.contains(r"^[a-z]")
    return records.with_columns(
        message=pl.when(own_word).then(pl.concat_str([pl.lit("Daemon "), pl.col("message")])).otherwise("message"),
        process=pl.when(own_word).then(None).otherwise("process"),
    )
