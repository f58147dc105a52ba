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


def versions(spans: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """Version spans of one collection (`VERSION_COLUMNS`, without `collection`).

    Args:
        spans: its `loglens.summaries` spans (extension versions, from every record).
        records: records holding at least every line `knowledge.BANNER` matches (a narrowed view).
    """
    extensions = spans.filter(
        pl.col("extension_version").is_not_null()
        & pl.col("extension").is_not_null()
        & pl.col("first_seen").is_not_null()
    ).select("source_path", "first_seen", "last_seen", component="extension", version="extension_version")
    banners = records.filter(
        pl.col("timestamp").is_not_null() & (pl.col("kind") == "waagent") & pl.col("message").str.contains(BANNER)
    )
    agent = (
        banners.select(
            component=pl.when(pl.col("message").str.contains(DAEMON_AGENT))
            .then(pl.lit(DAEMON))
            .otherwise(pl.lit(EXTENSION_HANDLER)),
            version=pl.coalesce(goal_state_agent_version(pl.col("message")), daemon_version(pl.col("message"))),
            first_seen="timestamp",
            last_seen="timestamp",
            source_path="source_path",
        )
    ).filter(pl.col("version").is_not_null())
    found = (
        pl.concat([agent, extensions.select(agent.columns)])
        .group_by("component", "version", "source_path")
        .agg(pl.col("first_seen").min(), pl.col("last_seen").max())
        .sort("component", "first_seen", "version", "source_path")
    )
    return conform(found, VERSION_COLUMNS).drop("collection")
