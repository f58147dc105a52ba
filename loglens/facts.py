"""What the logs say about a VM: agent versions, distro, auto-update, extensions, time span.

The `facts` derived frame: one row per VM collection. A value is null when no source states it,
so several VMs loaded at once are never blended into one.
"""

from __future__ import annotations

import polars as pl

from loglens.knowledge import BANNER, DISTRO, daemon_version, first_group, goal_state_agent_version, version_key
from loglens.schema import FACT_COLUMNS, conform

#: What the report says when waagent.conf does not set a switch.
DEFAULT_ON = "not configured (default: on)"


def vm_facts(collection: str, frames: dict[str, pl.DataFrame], records: pl.DataFrame) -> pl.DataFrame:
    """The facts of one collection (`FACT_COLUMNS`), from its frames and its whole record view."""
    banners = records.filter((pl.col("kind") == "waagent") & pl.col("message").str.contains(BANNER))
    version_file = frames["agent_version"]
    config = dict(frames["config"].filter(pl.col("key").is_not_null()).select("key", "value").iter_rows())
    stamps = records["timestamp"].drop_nulls()
    row = {
        "collection": collection,
        "agent_package": _last(banners, daemon_version(pl.col("message"))) or _first(version_file, "package_version"),
        "goal_state_agent": _last(banners, goal_state_agent_version(pl.col("message")))
        or _first(version_file, "goal_state_agent"),
        "distro": _last(banners, first_group(pl.col("message"), DISTRO, 3)) or _first(version_file, "distro"),
        "auto_update": config.get("AutoUpdate.Enabled", DEFAULT_ON),
        "extensions_enabled": config.get("Extensions.Enabled", DEFAULT_ON),
        "extensions": _extensions(records, frames["status"]),
        "first_seen": stamps.min() if stamps.len() else None,
        "last_seen": stamps.max() if stamps.len() else None,
    }
    schema = {c.name: c.dtype for c in FACT_COLUMNS}
    return conform(pl.DataFrame([row], schema=schema), FACT_COLUMNS)


def _last(frame: pl.DataFrame, value: pl.Expr) -> str | None:
    found = frame.select(value).to_series().drop_nulls()
    return found[-1] if found.len() else None


def _first(frame: pl.DataFrame, column: str) -> str | None:
    values = frame[column].drop_nulls() if frame.height else pl.Series([])
    return values[0] if values.len() else None


def _extensions(records: pl.DataFrame, status: pl.DataFrame) -> list[dict]:
    """Each extension with the newest version seen and its last reported status."""
    seen = records.filter(pl.col("extension").is_not_null() & (pl.col("extension") != "WALinuxAgent"))
    status = status.sort("timestamp", nulls_last=True)
    out = []
    for (name,), rows in seen.group_by(["extension"], maintain_order=True):
        versions = rows["extension_version"].drop_nulls().unique().to_list()
        last = status.filter(pl.col("extension") == name).tail(1)
        out.append(
            {
                "name": name,
                "version": max(versions, key=version_key) if versions else None,
                "status": str(last["status"][0]) if last.height and last["status"][0] is not None else None,
            }
        )
    return sorted(out, key=lambda e: e["name"])
