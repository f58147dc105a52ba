"""Frames held for long in little memory: compressed (`PackedFrame`), or with their own strings (`owned`).

A 2 GB agent log has 2.3 million operation lines (`loglens.operations.lines`): 100 MB as a frame,
held from the first chunk of the stream to the end of the analysis, yet read only a few times
and mostly a few columns at a time. Held as zstd-compressed Parquet parts in memory they take a
quarter of that, and each reader decompresses one part at a time, keeping only what it selects.

A few rows filtered out of a big frame hold all of its strings: a Polars string column is views
into shared buffers, and neither filtering, rechunking nor `shrink_to_fit` copies them out.
What outlives its source (the kept rows of a chunk, the rows a finding cites) is `owned` first.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cached_property

import polars as pl

#: Parts with fewer rows stay plain frames: a small VM's few lines would pay the (de)compression
#: on every read and save nothing worth having.
PACKED_FROM_ROWS = 5_000


class PackedFrame:
    """Parts of one frame (all of one schema), compressed, optionally seen through a row filter.

    Example:
        >>> packed = PackedFrame(pl.DataFrame({"a": [1, 2, 3]}).schema)
        >>> packed.add(pl.DataFrame({"a": [1, 2, 3]}))
        >>> packed.filtered(pl.col("a") > 1).read()["a"].to_list()
        [2, 3]
    """

    def __init__(
        self, schema: pl.Schema, parts: tuple[tuple[int, bytes | pl.DataFrame], ...] = (), where: pl.Expr | None = None
    ):
        self.schema = schema
        self._parts = list(parts)  # (rows, the part)
        self._where = where

    def add(self, frame: pl.DataFrame) -> None:
        """Append ``frame`` (of this schema), compressed unless it is small (then `owned`); small
        parts at the end are compressed together once they make `PACKED_FROM_ROWS` rows (a noisy
        VM's kept records come a few thousand a chunk: 20 MB plain on a 2 GB log, 3 MB packed)."""
        if frame.schema != self.schema:
            raise ValueError(f"a part of schema {dict(frame.schema)} added to {dict(self.schema)}")
        self.__dict__.pop("height", None)
        if frame.height == 0:
            return
        # A few rows of a bigger frame would hold all its strings (the module's docstring).
        self._parts.append((frame.height, owned(frame) if frame.height < PACKED_FROM_ROWS else frame))
        plain = 0
        while plain < len(self._parts) and isinstance(self._parts[-1 - plain][1], pl.DataFrame):
            plain += 1
        rows = sum(rows for rows, _ in self._parts[-plain:])
        if rows >= PACKED_FROM_ROWS:
            tail = pl.concat([part for _, part in self._parts[-plain:]])
            del self._parts[-plain:]
            buffer = io.BytesIO()
            # Parquet: as small as zstd-compressed Arrow IPC here, and written in half the time.
            tail.write_parquet(buffer, compression="zstd", statistics=False)
            self._parts.append((rows, buffer.getvalue()))

    def plus(self, frame: pl.DataFrame) -> PackedFrame:
        """A new packed frame: these parts (shared, not copied) and ``frame``."""
        more = PackedFrame(self.schema, tuple(self._parts), self._where)
        more.add(frame)
        return more

    def filtered(self, where: pl.Expr) -> PackedFrame:
        """The same parts seen through ``where`` as well (nothing is read or copied now)."""
        both = where if self._where is None else self._where & where
        return PackedFrame(self.schema, tuple(self._parts), both)

    def parts(self, columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
        """Each part in turn, filtered, with ``columns`` (all by default): one decompressed at a time."""
        names = list(self.schema) if columns is None else columns
        for _, part in self._parts:
            frame = (
                part
                if isinstance(part, pl.DataFrame)
                else pl.read_parquet(io.BytesIO(part), columns=self._needed(names))
            )
            if self._where is not None:
                frame = frame.filter(self._where)
            yield frame.select(names)

    @property
    def part_count(self) -> int:
        """How many parts there are."""
        return len(self._parts)

    def read(self, columns: list[str] | None = None, where: pl.Expr | None = None) -> pl.DataFrame:
        """The rows (``where`` too, if given) and columns asked for, as one frame."""
        names = list(self.schema) if columns is None else columns
        pieces = [part if where is None else part.filter(where) for part in self.parts(self._needed(names, where))]
        return (
            pl.concat([p.select(names) for p in pieces]) if pieces else pl.DataFrame(schema=self.schema).select(names)
        )

    @cached_property
    def height(self) -> int:
        """Rows seen through the filter."""
        if self._where is None:
            return sum(rows for rows, _ in self._parts)
        return sum(part.height for part in self.parts(self._needed([])))

    @property
    def nbytes(self) -> int:
        """Bytes held: the packed parts' size, and the plain ones' estimated size."""
        return sum(p.estimated_size() if isinstance(p, pl.DataFrame) else len(p) for _, p in self._parts)

    def _needed(self, names: list[str], where: pl.Expr | None = None) -> list[str]:
        """``names`` and the columns the filters read, in schema order."""
        wanted = set(names)
        for expr in (self._where, where):
            if expr is not None:
                wanted |= set(expr.meta.root_names())
        return [name for name in self.schema if name in wanted] or list(self.schema)[:1]


def owned(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each String column copied into buffers of its own (the other columns are
    left as they are).

    Example:
        >>> big = pl.DataFrame({"message": ["x" * 100] * 10_000})
        >>> owned(big.head(2))["message"].to_list() == big.head(2)["message"].to_list()
        True
    """
    strings = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    # Concatenating with an empty literal writes new strings; a cast or rechunk keeps the views.
    return frame.with_columns(pl.concat_str(pl.col(name), pl.lit("")).alias(name) for name in strings)
