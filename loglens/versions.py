"""Which agent and extension versions ran when: the `versions` derived frame.

Extension versions come from the `[Name-Version]` prefixes and handler paths the parsers read;
agent versions from the daemon's and the extension handler's start banners
(`loglens.knowledge`). One row per component, version and file, with the first and last time
it was seen; the versions chart and the facts read this frame.
"""

from __future__ import annotations

import polars as pl

from loglens.knowledge import BANNER, DAEMON_AGENT, daemon_version, goal_state_agent_version
from loglens.schema import VERSION_COLUMNS, conform

DAEMON = "WALinuxAgent (daemon)"
EXTENSION_HANDLER = "WALinuxAgent (extension handler)"


def versions(records: pl.DataFrame) -> pl.DataFrame:
    """Version spans of one collection's records (`VERSION_COLUMNS`, without `collection`).

    Args:
        records: the collection's whole record view (timestamped rows are used).
    """
    records = records.filter(pl.col("timestamp").is_not_null())
    extensions = records.filter(pl.col("extension_version").is_not_null() & pl.col("extension").is_not_null()).select(
        component="extension", version="extension_version", timestamp="timestamp", source_path="source_path"
    )
    banners = records.filter((pl.col("kind") == "waagent") & pl.col("message").str.contains(BANNER))
    agent = (
        banners.select(
            component=pl.when(pl.col("message").str.contains(DAEMON_AGENT))
            .then(pl.lit(DAEMON))
            .otherwise(pl.lit(EXTENSION_HANDLER)),
            version=pl.coalesce(goal_state_agent_version(pl.col("message")), daemon_version(pl.col("message"))),
            timestamp="timestamp",
            source_path="source_path",
        )
    ).filter(pl.col("version").is_not_null())
    spans = (
        pl.concat([agent, extensions])
        .group_by("component", "version", "source_path", maintain_order=True)
        .agg(first_seen=pl.col("timestamp").min(), last_seen=pl.col("timestamp").max())
        .sort("component", "first_seen")
    )
    return conform(spans, VERSION_COLUMNS).drop("collection")
