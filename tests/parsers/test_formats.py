"""The source-format registry: every format is complete, its samples read with every line
accounted, and discovery, sniffing, loading and the record view all follow the registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import polars as pl
import pytest

from loglens.records import RECORD_FRAMES
from parsers import formats, load_sources
from parsers.collect import Collection, collect, kind_of_path
from parsers.documents import read_document, rows_to_frame
from parsers.formats import FORMATS, Clue, Format, ReadOptions
from parsers.reader import Source
from parsers.schema import COMMON_COLUMNS, Column, polars_schema

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("source_format", FORMATS, ids=lambda f: f.name)
def test_every_format_declares_how_it_is_found_its_frames_reader_and_samples(source_format):
    assert source_format.paths or source_format.sniffs, "no way to recognise it"
    assert source_format.frames and all(columns for _, columns in source_format.frames)
    assert callable(source_format.read) and source_format.summary
    assert source_format.samples, "no sample a test reads"
    assert all(isinstance(c, Clue) and c.shown for c in (*source_format.paths, *source_format.sniffs))


def test_names_and_ranks_are_unique_so_the_order_of_decisions_is_declared():
    assert len({f.name for f in FORMATS}) == len(FORMATS)
    for which in ("paths", "sniffs"):
        ranks = [c.rank for f in FORMATS for c in getattr(f, which)]
        assert len(set(ranks)) == len(ranks), which


def test_a_frame_filled_by_several_formats_has_one_declaration():
    seen: dict[str, tuple[Column, ...]] = {}
    for f in FORMATS:
        for name, columns in f.frames:
            assert seen.setdefault(name, columns) == columns, name


SAMPLES = [(f, sample) for f in FORMATS for sample in f.samples]


@pytest.mark.parametrize(("source_format", "sample"), SAMPLES, ids=[f"{f.name}:{s}" for f, s in SAMPLES])
def test_each_sample_is_recognised_as_its_format_and_read_with_every_line_accounted(source_format, sample):
    path = REPO / sample
    with collect([path]) as found:
        assert [s.name for s in found.sources[source_format.name]] == [str(path)], found.recognised_by
    *frames, accounts = source_format.read([Source.file(path)], ReadOptions())
    (account,) = accounts
    assert account.kind == source_format.name and account.balanced and account.lines > 0, account.row()
    assert account.warnings == []
    assert sum(frame.height for frame in frames) > 0
    for (name, columns), frame in zip(source_format.frames, frames, strict=True):
        assert frame.schema == polars_schema(columns), name


def test_the_old_tables_are_the_registry():
    assert Collection().sources.keys() == set(formats.KINDS)
    assert RECORD_FRAMES == formats.RECORD_FRAMES
    assert list(RECORD_FRAMES)[0] == "waagent"  # a streamed row number is its record number
    assert set(load_sources([]).frames) == set(formats.FRAME_SCHEMAS)


def test_path_clues_keep_their_precedence():
    # A goal-state copy under an extension's events folder is still a goal state (rank 30 < 60).
    assert kind_of_path(PurePosixPath("var/log/azure/X/events/VmSettings.json")) == "goal_state"
    assert kind_of_path(PurePosixPath("var/log/azure/X/CommandExecution.log")) == "command_execution"
    assert kind_of_path(PurePosixPath("var/log/azure/X/handler.log")) == "extension_log"
    assert kind_of_path(PurePosixPath("var/lib/waagent/events/1741947633123456.waagent.tld")) == "agent_event"


# A format declared only in the registry: found by its path, sniffed by its content, loaded into its frame.
_TOY_COLUMNS = (*COMMON_COLUMNS[:3], Column("word", pl.String(), "The file's first word."))


def _read_toys(sources: Sequence[Source], options: ReadOptions):
    rows, accounts = [], []
    for source in sources:
        document = read_document(source, "toy")
        accounts.append(document.account)
        document.account.records, document.account.continuations = 1, document.lines - 1
        row = {"source_path": source.name, "line_first": 1, "line_last": document.lines}
        rows.append({**row, "word": document.text.split()[1]})
    return rows_to_frame(rows, _TOY_COLUMNS), accounts


TOY = Format(
    name="toy",
    summary="A toy format.",
    frames=(("toys", _TOY_COLUMNS),),
    read=_read_toys,
    paths=(Clue(5, lambda path: path.name.endswith(".toy"), "`*.toy`"),),
    sniffs=(Clue(5, lambda head: head.startswith(b"TOY "), "text opening `TOY `"),),
    samples=("nowhere.toy",),
)


def test_a_format_added_only_to_the_registry_is_found_sniffed_and_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "FORMATS", (*FORMATS, TOY))
    (tmp_path / "a.toy").write_text("TOY alpha\nmore\n")
    (tmp_path / "saved-as.txt").write_text("TOY beta\n")
    (tmp_path / "other.txt").write_text("nothing here\n")
    result = load_sources([tmp_path])
    toys = [a for a in result.accounts if a.kind == "toy"]
    assert [(Path(a.path).name, a.recognised_by, a.balanced) for a in toys] == [
        ("a.toy", "name", True),
        ("saved-as.txt", "content", True),
    ]
    assert result.frames["toys"]["word"].to_list() == ["alpha", "beta"]
    assert result.ignored == [str(tmp_path / "other.txt")]
