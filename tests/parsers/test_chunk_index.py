"""Reading records back by line (`parsers.chunk_index`): any line of a streamed log gives the record
that starts there, exactly as the whole parse gave it, whether the chunk is read in part from its
line marks, whole (lines repaired on reading: no marks), or by splitting a gzip stream again."""

from __future__ import annotations

import gzip
import random
import shutil

import polars as pl
import pytest

from benchmarks.generate import generate
from parsers import read_waagent
from parsers.chunk_index import ChunkIndex
from parsers.chunks import STREAM_CHUNK_BYTES
from parsers.reader import Source
from parsers.timezones import VmTimezone
from parsers.waagent_stream import iter_waagent


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("chunk_index")
    plain = root / "waagent.log"
    generate(plain, 14, incident_every=40)
    crlf = root / "crlf" / "waagent.log"
    crlf.parent.mkdir()
    crlf.write_bytes(plain.read_bytes()[: 8 * 1024 * 1024].replace(b"\n", b"\r\n"))
    packed = root / "waagent.log.1.gz"
    with plain.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    return {"plain": plain, "crlf": crlf, "gzip": packed}


def _streamed_index(path, chunk_bytes):
    index = ChunkIndex(zone=VmTimezone.parse(None), chunk_bytes=chunk_bytes)
    for _ in iter_waagent([Source.file(path)], [], chunk_bytes=chunk_bytes, index=index, transform=lambda r: r.head(0)):
        pass
    return index


@pytest.mark.parametrize("shape", ["plain", "crlf", "gzip"])
@pytest.mark.parametrize("chunk_bytes", [STREAM_CHUNK_BYTES, 256 * 1024])
def test_any_line_reads_back_as_the_whole_parse_gave_it(logs, shape, chunk_bytes):
    path = logs[shape]
    whole = read_waagent([path]).frame
    index = _streamed_index(path, chunk_bytes)
    assert len(index.places) > 1
    if shape == "plain":
        assert all(place.marks for place in index.places)  # read back in part, from the marks
    if shape == "crlf":
        assert not any(place.marks for place in index.places)  # repaired lines: read whole
    lines = whole["line_last"].max()
    chosen = random.Random(5).sample(range(1, lines + 1), 400) + [1, lines]
    # Continuation lines are asked for too: they start no record, so they give nothing.
    starts = set(whole["line_first"].to_list())
    continuations = [n for n in range(1, lines + 1) if n not in starts]
    chosen += random.Random(6).sample(continuations, min(50, len(continuations)))
    assert continuations
    wanted = pl.DataFrame({"source_path": [str(path)] * len(chosen), "line_first": chosen})
    got = index.records_at(wanted).sort("line_first")
    expected = whole.filter(pl.col("line_first").is_in(chosen)).sort("line_first")
    assert got.equals(expected)


def test_lines_of_other_sources_are_ignored(logs):
    index = _streamed_index(logs["plain"], STREAM_CHUNK_BYTES)
    wanted = pl.DataFrame({"source_path": ["elsewhere.log"], "line_first": [3]})
    assert index.records_at(wanted).height == 0
