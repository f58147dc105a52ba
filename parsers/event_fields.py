"""The `Event:` fields of agent records (`Event: name=..., op=..., message=..., duration=...`).

The agent reports each extension operation's outcome as one such line; its fields name the
extension and operation that a failure belongs to.
"""

from __future__ import annotations

import polars as pl

from parsers.waagent_format import EVENT_PATTERN


def event_columns(records: pl.DataFrame) -> dict[str, pl.Expr | pl.Series]:
    """The `Event:` fields of each record and what they name, derived on the event rows only.

    A chunk without events gets constant null columns, which Polars keeps unmaterialised;
    otherwise each column is filled by one scatter, as a per-row condition over every record
    costs far more on string columns.
    """
    is_event = records.select(pl.col("message").str.starts_with("Event: ")).to_series()
    if not is_event.any():
        return {
            "extension": pl.col("prefix_ext"),
            "operation": pl.lit(None, pl.String),
            "event_duration_ms": pl.lit(None, pl.Int64),
        } | {name: pl.lit(None, pl.String) for name in ("event_name", "event_message")}
    rows = is_event.arg_true()
    events = (
        records.lazy()
        .select("message", "prefix_ext")
        .filter(is_event)
        .select(pl.col("message").str.extract_groups(EVENT_PATTERN).struct.unnest(), pl.col("prefix_ext").alias("own"))
        .select(
            "event_name",
            "event_message",
            # An agent's own events (name WALinuxAgent) are about no extension.
            extension=pl.coalesce(
                "own",
                pl.when((pl.col("event_name") != "WALinuxAgent") & (pl.col("event_name") != "")).then("event_name"),
            ),
            operation=pl.when(pl.col("event_op") != "").then("event_op"),
            event_duration_ms=pl.col("event_duration_ms").cast(pl.Int64, strict=False),
        )
        .collect()
    )
    empty = pl.repeat(None, records.height, dtype=pl.String, eager=True)
    columns = {name: empty.clone().scatter(rows, events[name]) for name in ("event_name", "event_message", "operation")}
    return columns | {
        "extension": records["prefix_ext"].clone().scatter(rows, events["extension"]),
        "event_duration_ms": pl.repeat(None, records.height, dtype=pl.Int64, eager=True).scatter(
            rows, events["event_duration_ms"]
        ),
    }
