"""Record times of agent lines: each line's stamp parsed with its own fixed format, then made UTC.

Used by the waagent chunk engine (`parsers.waagent`) on record start lines.
"""

from __future__ import annotations

import polars as pl

from parsers.timezones import VmTimezone
from parsers.waagent_format import STAMP_FORMATS


def stamp(records: pl.DataFrame, iso: pl.Series) -> pl.Series:
    """Naive datetimes (`wall_clock`) from each line's date and time (``ts_len`` characters of `text`).

    Each kind of stamp (form and length) is parsed with its own fixed format: the commonest on
    every row, each other kind only on its own rows, overwriting. Fractions other than six
    digits are parsed to the second and their digits right-padded or cut to microseconds.
    """
    kinds = iso.cast(pl.Int32) * 100 + records["ts_len"]
    counts = kinds.drop_nulls().value_counts(sort=True)
    if counts.height == 0:
        return pl.repeat(None, records.height, dtype=pl.Datetime("us"), eager=True).alias("wall_clock")
    text = records["text"]
    kind_list = counts[kinds.name].to_list()
    stamps = parse_stamps(text, *divmod(kind_list[0], 100))
    for kind in kind_list[1:]:
        rows = kinds == kind
        stamps = stamps.scatter(rows.arg_true(), parse_stamps(text.filter(rows), *divmod(kind, 100)))
    return stamps.alias("wall_clock")


def parse_stamps(text: pl.Series, iso: int, ts_len: int) -> pl.Series:
    """Parse one kind of stamp from the start of each text."""
    fmt = STAMP_FORMATS.get((bool(iso), ts_len))
    if fmt is not None:
        return text.str.slice(0, ts_len).str.to_datetime(fmt, time_unit="us", strict=False, cache=False)
    seconds = text.str.slice(0, 19).str.to_datetime(
        STAMP_FORMATS[(bool(iso), 19)], time_unit="us", strict=False, cache=False
    )
    digits = text.str.slice(20, ts_len - 20).str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64, strict=False)
    # Adding on the integer representation avoids a duration column.
    return (seconds.cast(pl.Int64) + digits.fill_null(0)).cast(pl.Datetime("us"))


def utc(wall_clock: pl.Series, iso: pl.Series, zone: VmTimezone) -> pl.Series:
    """UTC times: ISO stamps are UTC already, the others are the VM's wall clock."""
    utc = wall_clock.dt.replace_time_zone("UTC")
    if not iso.all():
        utc = pl.select(pl.when(iso).then(utc).otherwise(zone.to_utc(pl.lit(wall_clock)))).to_series()
    return utc
