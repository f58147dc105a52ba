"""The context of one VM collection: its parser frames plus every derived frame, each built once.

Rules read a `Context` (and the types in `loglens.findings`), never the engine; reports read the
same contexts through `loglens.engine.Analysis`. Derived frames are cached properties, so a frame
no rule or report asks for is never computed, and one that several ask for is computed once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property

import polars as pl

import catalogue
from catalogue.match import ID, Found, attach, found_in
from loglens import facts, operations, summaries, versions
from loglens.findings import DERIVED_PARTS, Rule, covers
from loglens.keep import keep_for, kept_messages, narrow, tag_kept
from loglens.packed import PackedFrame
from loglens.pairing import Pairing, collection_of
from loglens.records import empty_view, record_parts
from loglens.schema import OPERATION_LINE_COLUMNS, empty_frame
from parsers import LoadResult, SourceAccount

#: Catalogue messages below which every rule's view is a slice of one whole frame (`Context.messages_of`).
SHARED_MESSAGES_UNDER = 20_000


@dataclass
class Context:
    """What a rule's `detect` sees, for one VM collection.

    Attributes:
        collection: the collection's name (`LoadResult.collections`).
        frames: its parser frames (a streamed load's `waagent` frame holds only the kept rows).
        records: its record view (`loglens.records`) narrowed to the records some rule
            may read (`loglens.keep.Keep`), errors and warnings, and every status and instance-view row.
        spans: its `loglens.summaries` spans (every record's source, extension, version and time).
        timeline: its `loglens.summaries` timeline (records per minute and level).
        pairing: the load's operations, paired as the lines streamed (`loglens.pairing`), and
            the operation lines a finding may cite (`operation_lines`).
        mine: the rows of ``pairing`` that are this collection's (None: all of them).
        accounts: its sources' line accounting.
        declared: the catalogue messages the rules that run declare (`Rule.messages`).
        hits: the catalogue messages of the narrowed records (`catalogue.match.Found`, keyed by
            `record`; it may hold other collections' records too: `messages` joins).
    """

    collection: str
    frames: dict[str, pl.DataFrame]
    records: pl.DataFrame
    spans: pl.DataFrame
    timeline: pl.DataFrame
    pairing: Pairing
    accounts: list[SourceAccount] = field(default_factory=list)
    #: The catalogue ids (or prefixes) the rules of this run declare they read (`Rule.messages`).
    declared: tuple[str, ...] = ()
    hits: Found | None = None
    mine: pl.Expr | None = None

    @property
    def operation_lines(self) -> PackedFrame:
        """The operation lines (`loglens.operations.lines`) a finding may cite: those of every
        operation that was slow or still open as its lines were paired (`Pairing.citable`)."""
        lines = self.pairing.citable
        if lines is None:
            return PackedFrame(empty_frame(OPERATION_LINE_COLUMNS).schema)
        return lines if self.mine is None else lines.filtered(self.mine)

    @cached_property
    def log_ends(self) -> pl.DataFrame:
        """Per source path, its last record time, from the parsers' accounting (no pass over records)."""
        return pl.DataFrame(
            [(a.path, a.last_time) for a in self.accounts if a.last_time is not None],
            schema={"source_path": pl.String, "log_end": pl.Datetime("us", "UTC")},
            orient="row",
        )

    @cached_property
    def measured(self) -> PackedFrame:
        """This collection's operations (`loglens.operations.measure`), held compressed."""
        return operations.measure(self.pairing.parts(self.mine), self.frames, self.log_ends)

    @property
    def operations(self) -> pl.DataFrame:
        """The `operations` derived frame of this collection (read from `measured` on each call)."""
        return self.operations_where(None)

    def operations_where(self, where: pl.Expr | None) -> pl.DataFrame:
        """The rows of `operations` that ``where`` keeps (all: None), read a part at a time."""
        return self._named(operations.in_order(self.measured.read(where=where)))

    def operation_parts(self) -> Iterator[pl.DataFrame]:
        """`operations` a compressed part at a time, in reading order (not sorted across parts)."""
        return (self._named(part) for part in self.measured.parts())

    def _named(self, measured: pl.DataFrame) -> pl.DataFrame:
        """Operations with this collection's name as their first column."""
        return measured.select(pl.lit(self.collection, pl.Categorical).alias("collection"), pl.all())

    @cached_property
    def versions(self) -> pl.DataFrame:
        """The `versions` derived frame of this collection."""
        found = versions.versions(self.spans, self.records)
        return found.select(pl.lit(self.collection, pl.String).alias("collection"), pl.all())

    @cached_property
    def facts(self) -> pl.DataFrame:
        """The `facts` derived frame of this collection (one row)."""
        return facts.vm_facts(self.collection, self.frames, self.spans, self.records)

    @cached_property
    def found(self) -> Found:
        """The catalogue messages of the view's records (`catalogue.match.Found`, keyed by `record`),
        found when the records were narrowed."""
        if self.hits is not None:
            return self.hits
        return found_in(self.records, "record", ids=kept_messages(self.declared))

    @cached_property
    def messages(self) -> pl.DataFrame:
        """The view's records that carry catalogue messages: one row per (record, message id),
        with the entry's named fields as columns (`catalogue.match.attach`)."""
        return attach(self.records, self.found.wide(), "record")

    def messages_of(self, ids: tuple[str, ...]) -> pl.DataFrame:
        """`messages` of the catalogue ids ``ids`` (ids, or prefixes ending in `.`) alone: what one
        rule reads. Past `SHARED_MESSAGES_UNDER` messages it is built from their own messages only
        (the whole frame holds a String column per catalogue field for every message: 475 MB on a
        noisy 2 GB log); below, it is a slice of the whole frame, built once (one join, where one
        per rule cost a small VM 5% more time). Both give the same rows in the same order."""
        if self.found.height < SHARED_MESSAGES_UNDER:
            return self.messages.filter(_covered(tuple(ids)))
        return attach(self.records, self.found.filter(_covered(tuple(ids))).wide(), "record")

    def records_carrying(self, ids: tuple[str, ...]) -> pl.Series:
        """The `record`s carrying any of the catalogue messages ``ids`` (ids, or prefixes ending in
        `.`), each once, in record order: read from the found pairs, no message frame built."""
        carrying = self.found.pairs.filter(_covered(ids)).select(pl.col("record").unique(maintain_order=True))
        # The found pairs may hold other collections' records too.
        return carrying.join(self.records.select("record"), on="record", how="semi", maintain_order="left")["record"]

    def messages_by_record(
        self, ids: tuple[str, ...], fields: tuple[str, ...], columns: tuple[str, ...] | None = None
    ) -> pl.DataFrame:
        """Records carrying any of the catalogue messages ``ids`` (ids, or prefixes ending in `.`),
        in record order: the record's ``columns`` (all by default), `ids` (its messages of ``ids``, sorted) and per field
        of ``fields`` the first value its messages state (in id order). The same as grouping
        `messages_of(ids)` by record (a field the record has too is `stated_<field>`), without
        building it past `SHARED_MESSAGES_UNDER`: a noisy 2 GB log's WireServer messages were 282,000
        rows of every record column and catalogue field (+93 MB live at their peak)."""
        names = {f: f"stated_{f}" if f in self.records.columns else f for f in fields}
        # Only the columns asked for are joined: every column of 141,000 WireServer records was +50 MB.
        records = (
            self.records if columns is None else self.records.select("record", *(c for c in columns if c != "record"))
        )
        if self.found.height < SHARED_MESSAGES_UNDER:
            # A small VM's whole frame is built once anyway: grouped, as a rule would (a fleet's cost per VM).
            listed = self.messages_of(ids).group_by("record", maintain_order=True)
            listed = listed.agg(pl.col(ID).alias("ids"), *(pl.col(n).drop_nulls().first() for n in names.values()))
            return records.join(listed, on="record", maintain_order="right")
        found = self.found.filter(_covered(ids))
        listed = found.pairs.group_by("record", maintain_order=True).agg(pl.col(ID).alias("ids"))
        stated = found.fields.filter(pl.col("field").is_in(fields)).sort("record", ID)
        firsts = stated.group_by("record", "field", maintain_order=True).agg(pl.col("value").first())
        wide = firsts.pivot(on="field", index="record", values="value") if firsts.height else firsts.select("record")
        wide = wide.with_columns(pl.lit(None, pl.String).alias(f) for f in fields if f not in wide.columns)
        wide = wide.select("record", *(pl.col(f).alias(n) for f, n in names.items()))
        listed = listed.join(wide, on="record", how="left", maintain_order="left")
        return records.join(listed, on="record", maintain_order="right")

    def tagged(self, ids: tuple[str, ...] | list[str], *, kinds: tuple[str, ...] | None = None) -> pl.DataFrame:
        """Records carrying any of the catalogue messages ``ids`` (an id, or a prefix ending in `.`).

        One row per record (the first matching message's id and fields), in record order.
        """
        return _tagged(self.messages_of(tuple(ids)), ids, kinds)

    def field_of(self, records: pl.Series, field: str) -> str | None:
        """The first value of a catalogue field that any message of ``records`` states."""
        return _first_stated(self.messages, records, field)


def _tagged(messages: pl.DataFrame, ids: tuple[str, ...] | list[str], kinds: tuple[str, ...] | None) -> pl.DataFrame:
    """`Context.tagged` over ``messages`` (which hold at least the messages ``ids``)."""
    frame = messages.filter(_covered(tuple(ids)))
    if kinds is not None:
        frame = frame.filter(pl.col("kind").is_in(kinds))
    return frame.unique(subset="record", keep="first", maintain_order=True)


class UndeclaredRead(LookupError):
    """A rule read a part of the context its `Rule` does not declare (a bug in the rule)."""


class _Frames(dict):
    """A rule's parser frames: only those it declares; any other name is an `UndeclaredRead`."""

    def __init__(self, frames: dict[str, pl.DataFrame], rule: Rule) -> None:
        super().__init__({name: frames[name] for name in rule.reads if name in frames})
        self.rule = rule

    def __missing__(self, name: str) -> pl.DataFrame:
        raise UndeclaredRead(f"rule {self.rule.id} reads frame {name!r} without declaring it in Rule.reads")


class RuleView:
    """What one rule sees of a `Context`: its collection, the catalogue messages it declares
    (`Rule.messages`) and the frames and derived parts it declares (`Rule.reads`); nothing else.
    Derived parts are the context's own (built once for every rule that reads them)."""

    def __init__(self, context: Context, rule: Rule) -> None:
        self._context, self._rule = context, rule
        self.collection = context.collection
        self.frames = _Frames(context.frames, rule)

    def __getattr__(self, name: str):
        if name in DERIVED_PARTS or name == "declared":
            self._require(name)
            return getattr(self._context, name)
        raise AttributeError(f"a rule's context has no {name!r}")

    def _require(self, part: str) -> None:
        if part not in self._rule.reads:
            raise UndeclaredRead(f"rule {self._rule.id} reads {part!r} without declaring it in Rule.reads")

    @cached_property
    def messages(self) -> pl.DataFrame:
        """`Context.messages` of the rule's declared ids only (`Context.messages_of`); with
        `every-message`, of every id but the `context` ones (what the catch-all rule reports)."""
        if "every-message" in self._rule.reads:
            return self._context.messages_of(_reportable())
        return self._context.messages_of(self._rule.messages)

    def operations_where(self, where: pl.Expr | None) -> pl.DataFrame:
        """`Context.operations_where`, for a rule that declares `operations`."""
        self._require("operations")
        return self._context.operations_where(where)

    def tagged(self, ids: tuple[str, ...] | list[str], *, kinds: tuple[str, ...] | None = None) -> pl.DataFrame:
        """`Context.tagged`, for ids the rule declares (from the rule's own messages)."""
        if "every-message" in self._rule.reads:
            return self._context.tagged(ids, kinds=kinds)
        self._require_messages(ids)
        return _tagged(self.messages, ids, kinds)

    def messages_of(self, ids: tuple[str, ...]) -> pl.DataFrame:
        """`Context.messages_of`, for ids the rule declares (any, with `every-message`)."""
        if "every-message" not in self._rule.reads:
            self._require_messages(ids)
        return self._context.messages_of(ids)

    def records_carrying(self, ids: tuple[str, ...]) -> pl.Series:
        """`Context.records_carrying`, for ids the rule declares (any, with `every-message`)."""
        if "every-message" not in self._rule.reads:
            self._require_messages(ids)
        return self._context.records_carrying(ids)

    def messages_by_record(
        self, ids: tuple[str, ...], fields: tuple[str, ...], columns: tuple[str, ...] | None = None
    ) -> pl.DataFrame:
        """`Context.messages_by_record`, for ids the rule declares."""
        if "every-message" not in self._rule.reads:
            self._require_messages(ids)
        return self._context.messages_by_record(ids, fields, columns)

    def _require_messages(self, ids: tuple[str, ...] | list[str]) -> None:
        if stray := [i for i in ids if not any(covers(m, i) for m in self._rule.messages)]:
            raise UndeclaredRead(f"rule {self._rule.id} reads messages {stray} without declaring them in Rule.messages")

    def field_of(self, records: pl.Series, field: str) -> str | None:
        """`Context.field_of`, over the rule's own messages."""
        return _first_stated(self.messages, records, field)


@cache
def _reportable() -> tuple[str, ...]:
    """Every catalogue id that is not `context`: the messages a finding can be about."""
    return tuple(e.id for e in catalogue.load().entries if e.category != "context")


def _first_stated(messages: pl.DataFrame, records: pl.Series, field: str) -> str | None:
    """The first value of ``field`` that any of ``messages`` of ``records`` states."""
    values = messages.filter(pl.col("record").is_in(records.implode())).get_column(field).drop_nulls()
    return values[0] if values.len() else None


def _covered(declared: tuple[str, ...]) -> pl.Expr:
    """Rows whose catalogue id one of ``declared`` (ids, or prefixes ending in `.`) covers."""
    exact = [i for i in declared if not i.endswith(".")]
    wanted = pl.col(ID).is_in(exact)
    for prefix in (i for i in declared if i.endswith(".")):
        wanted = wanted | pl.col(ID).str.starts_with(prefix)
    return wanted


@dataclass(frozen=True)
class Streamed:
    """What a streamed load adds to its frames (`loglens.pipeline`): its `waagent` frame holds
    only the rows `loglens.keep.Keep` keeps, each with its `row`, out of ``rows``; the spans and timeline
    of every streamed row (combined: `loglens.summaries.combine_*`), and the operations paired
    from their operation lines (`loglens.pairing`)."""

    rows: int
    spans: pl.DataFrame
    timeline: pl.DataFrame
    pairing: Pairing


@dataclass(frozen=True)
class Whole:
    """What every collection's contexts come from: the narrowed view, its catalogue messages
    (keyed by `record`) and the summaries."""

    narrowed: pl.DataFrame
    hits: Found
    spans: pl.DataFrame
    timeline: pl.DataFrame


def build_contexts(load: LoadResult, rules: list[Rule], streamed: Streamed) -> tuple[Whole, list[Context]]:
    """The load's narrowed record view and summaries (built once) and one context per collection.

    Args:
        load: what the parsers read; its `waagent` frame holds the rows the pipeline kept.
        rules: the rules that will run (`loglens.keep.keep_for`).
        streamed: what the pipeline's digest left (`loglens.pipeline`).
    """
    declared = tuple(m for rule in rules for m in rule.messages)
    keep = keep_for(rules, always=pl.col("kind").is_in(["status", "instance_view"]))
    # The agent's rows were narrowed and summarised as they passed; the other sources are done here.
    parts = record_parts(load.frames, streamed.rows)
    kept = parts.pop("waagent", None)
    rest = empty_view() if not parts else pl.concat(list(parts.values()))
    narrowed = narrow(rest, keep) if kept is None else pl.concat([kept, narrow(rest, keep)])
    spans = summaries.combine_spans([streamed.spans, summaries.spans(rest)])
    # The streamed timeline is combined already: merged again with nothing, a 2 GB log's 600,000
    # minutes cost a +100 MB transient.
    rest_timeline = summaries.timeline(rest)
    timeline = (
        streamed.timeline
        if rest_timeline.is_empty()
        else summaries.combine_timeline([streamed.timeline, rest_timeline])
    )
    # The other agent logs (`CommandExecution.log`) are paired after the stream, a run per file.
    placed = load.collections()
    pairing = streamed.pairing.plus(operations.lines(rest).with_columns(group=collection_of(placed)))
    whole = Whole(narrowed, tag_kept(narrowed, keep.ids), spans, timeline)
    parts = load.by_collection()
    contexts = []
    for name, part in parts.items():
        paths = [a.path for a in part.accounts]
        # One VM: the whole of everything; several: each its own rows.
        mine = None if len(parts) == 1 else pl.col("source_path").cast(pl.String).is_in(paths)
        contexts.append(
            Context(
                name,
                part.frames,
                whole.narrowed if mine is None else whole.narrowed.filter(mine),
                whole.spans if mine is None else summaries.of_paths(whole.spans, paths),
                whole.timeline if mine is None else summaries.of_paths(whole.timeline, paths),
                pairing,
                list(part.accounts),
                declared,
                whole.hits,
                mine,
            )
        )
    return whole, contexts
