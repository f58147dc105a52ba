"""The one analysis pipeline: the agent's records pass chunk by chunk and only what analysis needs stays.

Every surface analyses this way: the CLI and fleet tasks over files (`analyze_paths`), the notebook
over what it loaded (`analyze_loaded`, the same digest fed from the loaded frame). What differs
is only what is retained (`RecordDigest`'s policy): a stream from files keeps, per chunk and in
the threads that parse it, the records some rule may read (`loglens.keep.Keep`) and the chunk's
summaries (`loglens.summaries`), and lets every other record go; a loaded frame is held already,
so all of it is retained. Past the first `WHOLE_BYTES` of a stream the parse itself folds and
finishes only the records `Keep` may keep (`parsers.selection`, a superset chosen line by line):
the others give only the summaries' columns, read off their headers. The small sources
(extension logs, status files, documents) are read whole. After the rules ran, the records
around each evidence line (`nearby`) come from the retained rows, or are read back from their
chunks (`parsers.chunk_index`) while the sources are still open. Both give the same findings,
versions, facts, charts and evidence context (a test compares them).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType

import polars as pl

from loglens import engine, operations, routine, summaries
from loglens.context import Streamed
from loglens.engine import Analysis
from loglens.findings import Rule, neighbour_lines
from loglens.keep import keep_for
from loglens.knowledge import PROBLEM_LEVELS
from loglens.packed import PackedFrame
from loglens.pairing import Pairing, collection_of
from loglens.records import COMMON
from loglens.rules import REGISTRY
from parsers import LoadResult, VmTimezone
from parsers.chunk_index import ChunkIndex
from parsers.load import open_sources
from parsers.schema import WAAGENT_COLUMNS, empty_frame
from parsers.selection import SelectedRecords, Selection

#: Chunks' summary parts combined into a run every this many, runs into one every this many
#: (`summaries.Piled`). The timeline's runs are small (8 chunks of a noisy log: 150,000 rows, a
#: +15 MB transient) and spans are a few rows a chunk.
TIMELINE_FANOUTS = (8, 64)
SPANS_FANOUTS = (64, 64)
#: Streamed rows held whole besides the kept ones while there are no more than this many: the
#: evidence context of a small input is taken from them rather than parsed again (a tiny VM's
#: read-back cost ~15 ms, a fleet's fixed cost per VM); past it they are let go.
WHOLE_ROWS_HELD = 50_000
#: Chunk size of an analysis stream. Each chunk pays fixed costs (the keep pattern, with the
#: catalogue's ~900 anchors, is compiled per call: ~30 ms), so fewer, bigger chunks are faster:
#: on a 525 MB log, 12 MiB chunks took 4.8 s, 24 MiB 4.5 s, 32 MiB 4.3-4.6 s, with no higher peak
#: (the rules over the kept records peak above the reading). 6 MiB, `parse --out`'s, took 6.4 s.
ANALYZE_CHUNK_BYTES = 32 * 1024 * 1024
#: Bytes of a stream parsed whole before its chunks are parsed through the digest's `selection`
#: (only the records the rules may read in full): an input this small is held whole
#: (`WHOLE_ROWS_HELD` rows are some 7 MB of agent log), and its chunks cost little either way.
WHOLE_BYTES = 16 * 1024 * 1024
#: The columns the reports show of a record around an evidence line (`reports.model`).
READ_BACK_COLUMNS = ["source_path", "line_first", "line_last", "timestamp", "level", "message"]


class RecordDigest:
    """What a stream of `waagent` records leaves: kept rows, their row numbers, the summaries, and
    (while the stream is small) every row, for the evidence context.

    `transform` runs in the parsing threads, `consume` (the load's sink) in the reading one.
    Without an ``index`` (records already loaded) every row is retained.
    """

    def __init__(
        self,
        rules: list[Rule],
        index: ChunkIndex | None,
        advance: Callable[[float], None] | None = None,
        whole_bytes: int = WHOLE_BYTES,
        collections: dict[str, str] | None = None,
    ) -> None:
        self._keep = keep_for(rules)
        self._connection = routine.ConnectionLines(self._keep.ids)
        # The parse folds and finishes only the records `transform` may keep (a superset of them).
        self.selection = Selection(self._keep.pattern, tuple(PROBLEM_LEVELS), after_bytes=whole_bytes)
        self._index = index
        self._advance = advance
        self._lock = threading.Lock()
        # A stream without a chunk still gives typed (empty) frames.
        empty = empty_frame(WAAGENT_COLUMNS)
        self._spans = summaries.Piled(summaries.combine_spans, summaries.spans(empty), SPANS_FANOUTS)
        self._timeline = summaries.Piled(summaries.combine_timeline, summaries.timeline(empty), TIMELINE_FANOUTS)
        # Held compressed past a few thousand a chunk (a noisy VM's hourly blips), so that the
        # kept rows neither weigh as a frame nor sit between the chunks' transient allocations.
        self._kept = PackedFrame(empty_frame(WAAGENT_COLUMNS).with_row_index("row").select("row", *COMMON).schema)
        # Paired as they pass (`loglens.pairing`), each VM's apart: a 2 GB log's 2.3 million
        # operation lines were 29 MB packed, held to the end; now only the lines a finding may cite are.
        self._pairing = Pairing()
        self._collections = collections
        self._whole: list[pl.DataFrame] | None = []
        self._rows_seen = 0

    def transform(self, chunk: pl.DataFrame | SelectedRecords) -> pl.DataFrame:
        """One chunk's rows for `consume`: `row` (numbered from 0 in the chunk; the stream shifts
        it), the record view's columns (the only ones rules and reports read), the operation
        markers (`loglens.operations.with_markers`) and `kept`; past `WHOLE_ROWS_HELD` rows, or when
        the parse left records out (`selection`), only the kept rows and the operation lines, and
        `kept` leaves out the routine lines inside a healthy run (`loglens.routine`): `consume`
        gathers every operation line apart."""
        if isinstance(chunk, pl.DataFrame):
            chunk = SelectedRecords.whole(chunk)
        every = chunk.summary_rows()
        spans, timeline = summaries.spans(every), summaries.timeline(every)
        del every
        self._spans.add(spans)
        self._timeline.add(timeline)
        with self._lock:
            self._rows_seen += chunk.rows
            small = chunk.complete and (self._index is None or self._rows_seen <= WHOLE_ROWS_HELD)
        rows = chunk.records.select("row", *COMMON, kept=self._keep.expression)
        if small:
            # Held whole anyway: thinning would cost more than it saves (the notable pattern's fixed
            # ~20 ms per call is 10% of a small VM's analysis), and it changes no result.
            return operations.with_markers(rows)
        rows = operations.with_markers(rows.filter(pl.col("kept")))
        # Lazily, so that `connection` reuses `notable` (an eager `with_columns` computes it twice:
        # 53 against 32 ms a 38,000-row chunk).
        rows = (
            rows.lazy()
            .with_columns(routine=routine.routine(), notable=self._keep.notable, connection=self._keep.connection)
            .collect()
        )
        rows = rows.with_columns(self._connection(rows))
        rows = rows.with_columns(kept=routine.thin_routine()).drop("routine", "notable", "connection")
        return rows.filter(pl.col("kept") | operations.MARKED)

    def consume(self, chunks: Iterator[pl.DataFrame]) -> None:
        """Hold each chunk's kept rows and operation lines (and the whole chunk while the stream is
        small); merge the summaries now and then."""
        for rows in chunks:
            if self._whole is not None:
                # Whole only if it has every row of the chunk just indexed.
                if self._index is None or rows.height == self._index.places[-1].rows:
                    self._whole.append(rows.select(READ_BACK_COLUMNS))
                else:
                    self._whole = None
            self._kept.add(rows.filter(pl.col("kept")).select("row", *COMMON))
            # Agent rows are the first records of a load: a row's number is its record (`loglens.records`).
            agent_rows = rows.rename({"row": "record"}).with_columns(kind=pl.lit("waagent"))
            self._pairing.add(operations.lines(agent_rows).with_columns(group=collection_of(self._placed())))
            self._spans.settle()
            self._timeline.settle()
            if self._advance is not None and self._index and (fraction := self._index.read_fraction()) is not None:
                self._advance(fraction)

    def _placed(self) -> dict[str, str]:
        """Per source, its VM collection (given, or as the sources' opener placed them)."""
        if self._collections is not None:
            return self._collections
        return self._index.collections if self._index is not None else {}

    @property
    def retains_everything(self) -> bool:
        """True when every row stays (records already loaded), not only what rules read."""
        return self._index is None

    def kept(self) -> pl.DataFrame:
        """Every kept row (`row` and the record view's columns), in stream order."""
        return self._kept.read()

    def whole(self) -> pl.DataFrame | None:
        """Every streamed row (`READ_BACK_COLUMNS`) when the stream was small enough to hold, else None."""
        if not self._whole:
            return None
        return pl.concat(self._whole)

    def streamed(self, rows: int) -> Streamed:
        """What the engine needs besides the frames, once the stream (of ``rows`` rows) is over."""
        return Streamed(
            rows=rows, spans=self._spans.combined(), timeline=self._timeline.combined(), pairing=self._pairing
        )


def analyze_paths(
    paths: Iterable[Path | str],
    *,
    tz: VmTimezone,
    progress: Callable[[str], None] | None,
    check_lines: Callable[[LoadResult], None],
    chunk_bytes: int = ANALYZE_CHUNK_BYTES,
    whole_bytes: int = WHOLE_BYTES,
) -> Analysis:
    """Read ``paths`` streaming the text logs, run every rule, and fetch the evidence's neighbours.

    ``check_lines`` is called on the load before the rules run (it raises when nothing was read).
    Past ``whole_bytes`` of a stream, only the records the rules may read are parsed in full.
    """
    rules = [module.RULE for module in REGISTRY]  # the rules the engine will run
    index = ChunkIndex(zone=tz, chunk_bytes=chunk_bytes)
    # A progress callback with `advance(fraction)` (`loglens.feedback.Progress`) also gets the bytes read.
    digest = RecordDigest(rules, index, getattr(progress, "advance", None), whole_bytes)
    with open_sources(
        paths,
        tz=tz,
        chunk_bytes=chunk_bytes,
        progress=progress,
        waagent_sink=digest.consume,
        waagent_transform=digest.transform,
        waagent_index=index,
        waagent_selection=digest.selection,
    ) as load:
        check_lines(load)
        if progress:
            progress(f"running {len(rules)} rules on {len(set(load.collections().values())) or 1} VM collection(s)")
        analysis = _analysed(load, digest, index.rows)
        if analysis.nearby is None:
            analysis = dataclasses.replace(analysis, nearby=index.records_at(_around_evidence(analysis)))
            load.notes.extend(index.warnings)
    return analysis


#: Rows of a loaded `waagent` frame fed to the digest at a time (as a stream's chunk would be).
LOADED_SLICE_ROWS = 200_000


def analyze_loaded(result: LoadResult, rules: tuple[ModuleType, ...] = REGISTRY) -> Analysis:
    """Run ``rules`` over what was read already (a notebook's load): the same digest as a stream,
    fed from the loaded `waagent` frame, retaining every row. ``result`` itself is left whole."""
    digest = RecordDigest([module.RULE for module in rules], None, collections=result.collections())
    frame = result.frames["waagent"]

    def slices() -> Iterator[pl.DataFrame]:
        for offset in range(0, frame.height, LOADED_SLICE_ROWS):
            rows = digest.transform(frame.slice(offset, LOADED_SLICE_ROWS))
            yield rows.with_columns(pl.col("row") + offset)

    digest.consume(slices())
    load = dataclasses.replace(result, frames=dict(result.frames))
    return _analysed(load, digest, frame.height, rules)


def _analysed(load: LoadResult, digest: RecordDigest, rows: int, rules: tuple[ModuleType, ...] = REGISTRY) -> Analysis:
    """The rules run over a load whose agent records went through ``digest`` (``rows`` of them);
    `nearby` taken from the retained rows, or left None when they were let go (read them back)."""
    # One chunk: every select of the record view (made from it) would otherwise copy it whole to
    # join its chunks, in every rule (the kept parts were 33 chunks on a noisy 2 GB log).
    load.frames["waagent"] = digest.kept().rechunk()
    analysis = engine.run_rules(load, rules, digest.streamed(rows))
    whole = digest.whole()
    if whole is None:
        return analysis
    return dataclasses.replace(
        analysis, nearby=whole.join(_around_evidence(analysis), on=["source_path", "line_first"], how="semi")
    )


def _around_evidence(analysis: Analysis) -> pl.DataFrame:
    """`source_path` and `line_first` of the records the reports show around each evidence line:
    `CONTEXT_LINES` before its first line, and after its record's last line."""
    evidence = analysis.findings.evidence.filter(pl.col("line").is_not_null()).select(
        source_path="path", line_first=pl.col("line").cast(pl.UInt32)
    )
    kept = analysis.load.frames["waagent"].select("source_path", "line_first", "line_last")
    ends = evidence.unique().join(kept, on=["source_path", "line_first"], how="left")
    # A few lines per evidence line, and evidence is capped per finding: a short loop.
    wanted = []
    for path, first, last in ends.iter_rows():
        last = first if last is None else last
        wanted += [(path, n) for n in neighbour_lines(first, last)]
    return pl.DataFrame(wanted, schema={"source_path": pl.String, "line_first": pl.UInt32}, orient="row")
