"""What the logs say about a VM: agent versions, distro, auto-update, extensions, time span.

The `facts` derived frame: one row per VM collection. A value is null when no source states it,
so several VMs loaded at once are never blended into one.
"""

from __future__ import annotations

import polars as pl
import regex

from loglens.knowledge import BANNER, DISTRO, daemon_version, first_group, goal_state_agent_version, version_key
from loglens.schema import FACT_COLUMNS, conform

#: What the report says when waagent.conf does not set a switch.
DEFAULT_ON = "not configured (default: on)"


def vm_facts(
    collection: str, frames: dict[str, pl.DataFrame], spans: pl.DataFrame, banners: pl.DataFrame
) -> pl.DataFrame:
    """The facts of one collection (`FACT_COLUMNS`).

    Args:
        spans: its `loglens.summaries` spans (extension names and versions, time span).
        banners: records holding at least every line `knowledge.BANNER` matches (a narrowed view).
    """
    banners = banners.filter((pl.col("kind") == "waagent") & pl.col("message").str.contains(BANNER))
    version_file = frames["agent_version"]
    config = dict(frames["config"].filter(pl.col("key").is_not_null()).select("key", "value").iter_rows())
    row = {
        "collection": collection,
        "agent_package": _last(banners, daemon_version(pl.col("message"))) or _first(version_file, "package_version"),
        "goal_state_agent": _last(banners, goal_state_agent_version(pl.col("message")))
        or _first(version_file, "goal_state_agent"),
        "distro": _distro(_last(banners, first_group(pl.col("message"), DISTRO, 3)) or _first(version_file, "distro")),
        "auto_update": config.get("AutoUpdate.Enabled", DEFAULT_ON),
        "extensions_enabled": config.get("Extensions.Enabled", DEFAULT_ON),
        "extensions": _extensions(spans, frames["status"], frames["goal_state"]),
        "first_seen": spans.get_column("first_seen").min(),
        "last_seen": spans.get_column("last_seen").max(),
    }
    schema = {c.name: c.dtype for c in FACT_COLUMNS}
    return conform(pl.DataFrame([row], schema=schema), FACT_COLUMNS)


def _distro(name: str | None) -> str | None:
    """One spelling across agent generations: 2.9+ banners write `ubuntu-22.04`, older `ubuntu 22.04`."""
    return regex.sub(r"^([A-Za-z]+)[-_](?=\d)", r"\1 ", name) if name else name


def _last(frame: pl.DataFrame, value: pl.Expr) -> str | None:
    found = frame.select(value).to_series().drop_nulls()
    return found[-1] if found.len() else None


def _first(frame: pl.DataFrame, column: str) -> str | None:
    values = frame[column].drop_nulls() if frame.height else pl.Series([])
    return values[0] if values.len() else None


def _extensions(spans: pl.DataFrame, status: pl.DataFrame, goal_state: pl.DataFrame) -> list[dict]:
    """Each extension with the newest version seen, its last reported status, and the version the
    goal-state files request (the last read, in path order; a goal state names extensions the logs
    may never mention)."""
    seen = (
        spans.filter(pl.col("extension").is_not_null() & (pl.col("extension") != "WALinuxAgent"))
        .group_by("extension")
        .agg(pl.col("extension_version").drop_nulls().unique())
    )
    last_status = (
        status.sort("timestamp", nulls_last=True, maintain_order=True)
        .group_by("extension")
        .agg(pl.col("status").last().cast(pl.String))
    )
    statuses = dict(last_status.iter_rows())
    requested = dict(goal_state.select("extension", "extension_version").drop_nulls("extension").iter_rows())
    out = {
        name: {
            "name": name,
            "version": max(versions, key=version_key) if versions else None,
            "status": statuses.get(name),
            "requested": requested.get(name),
        }
        for name, versions in seen.iter_rows()
    }
    for name, version in requested.items():
        out.setdefault(name, {"name": name, "version": None, "status": None, "requested": version})
    return sorted(out.values(), key=lambda e: e["name"])
