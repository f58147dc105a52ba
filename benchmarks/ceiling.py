"""Calibration: how fast a grammar-free, fixed-width Polars parse of the same file runs here.

It reads, chunks and threads exactly as `parsers.waagent` does, then only slices: the first
26 characters parsed as a stamp of either generation, the next word as the level, the rest of
the line as the message, other lines appended to the record before them. It checks no thread,
process or extension prefix, no extension-written form, no output block, no `Event:` fields,
no escapes and no damage, so it is not a parser: it shows what the machine and Polars allow
before the grammar is applied, which puts the 300 MB/s target in context.

Usage (from the repository root): python -m benchmarks.ceiling [FILE]
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import polars as pl

from parsers.chunks import RawChunk, iter_raw_chunks, map_in_order
from parsers.reader import Source, SourceAccount
from parsers.waagent_format import RECORD_START

DEFAULT_FILE = Path("benchmarks/data/waagent-500mb.log")


def slice_chunk(raw: RawChunk) -> pl.DataFrame:
    """Records of one chunk by fixed-width slicing only."""
    text = pl.col("text")
    stamp = text.str.slice(0, 26)
    lines = (
        pl.read_lines(raw.load(), name="text")
        .lazy()
        .with_row_index("line_no", offset=1)
        .with_columns(
            timestamp=pl.when(text.str.slice(4, 1) == "-")
            .then(stamp.str.to_datetime("%Y-%m-%dT%H:%M:%S.%6f", strict=False, cache=False))
            .otherwise(stamp.str.to_datetime("%Y/%m/%d %H:%M:%S.%6f", strict=False, cache=False))
        )
        .with_columns(owner=pl.col("timestamp").is_not_null().cum_sum())
        .collect()
    )
    starts = lines.filter(pl.col("timestamp").is_not_null())
    tails = (
        lines.filter(pl.col("timestamp").is_null() & (pl.col("owner") > 0))
        .group_by("owner", maintain_order=True)
        .agg(tail=text)
    )
    rest = text.str.slice(28)
    return starts.join(tails, on="owner", how="left").select(
        "line_no",
        "timestamp",
        level=rest.str.split_exact(" ", 1).struct.field("field_0"),
        message=pl.concat_str([rest, pl.col("tail").list.join("\n")], separator="\n", ignore_nulls=True),
    )


def run(path: Path) -> dict:
    """Slice ``path`` as the parser would chunk it; seconds, records and this process's peak RSS."""
    start = time.perf_counter()
    chunks = iter_raw_chunks(
        Source.file(path), SourceAccount(path=str(path), kind="waagent"), record_start=RECORD_START
    )
    frames = list(map_in_order(slice_chunk, chunks))
    records = pl.concat(frames).height
    return {
        "seconds": time.perf_counter() - start,
        "rows": records,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FILE
    if not path.exists():
        print(f"{path}: no such file; run `python -m benchmarks.run` first to generate it", file=sys.stderr)
        return 2
    result, size = run(path), path.stat().st_size
    print(
        f"fixed-width slicing, no grammar: {size / 1e6 / result['seconds']:,.0f} MB/s ({result['seconds']:.2f} s), "
        f"{result['rows']:,} records, peak RSS {result['peak_rss'] / 1e6:,.0f} MB = {result['peak_rss'] / size:.2f}x input"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
