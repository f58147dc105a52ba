"""What the logs say about the VM: agent versions, distro, auto-update, extensions, time span."""

from __future__ import annotations

from typing import Any

import polars as pl

from loglens.engine import Analysis, collections
from loglens.rules._common import version_key

_DAEMON = r"^Azure Linux Agent Version: ?(\d+(?:\.\d+)+)"
_GOAL_STATE = r"^Agent WALinuxAgent-(\d+(?:\.\d+)+) is running as the|^Azure Linux Agent \(Goal State Agent version (\d+(?:\.\d+)+)"
#: `OS: ubuntu 22.04` (banners), `Distro info: redhat 8.8, ...` (2.2.44-2.2.52), `Distro: ubuntu-22.04; ...` (2.2.53+).
_OS = r"^OS: (\S+ [^\s,;]+)|^Distro info: ([^,]+),|^Distro: ([^;]+);"


def vm_facts(analysis: Analysis) -> list[dict[str, Any]]:
    """Facts for the report header, one entry per collection (VM) loaded.

    A value is None when no source states it; `collection` names the VM's files (its directory
    or archive), so several VMs loaded at once are never blended into one.
    """
    return [_facts(c.name, c.frames, c.records) for c in collections(analysis.load)]


def _facts(name: str, frames: dict[str, pl.DataFrame], records: pl.DataFrame) -> dict[str, Any]:
    # Only banner lines can state versions and the distro: narrow before running the patterns.
    banner = pl.col("message").str.contains(r"^(?:Azure Linux Agent|Agent WALinuxAgent-|OS: |Distro)")
    agent_lines = records.filter((pl.col("kind") == "waagent") & banner)
    version_file = frames["agent_version"]
    daemon = _last(agent_lines, _DAEMON) or _first_value(version_file, "package_version")
    goal = _last_of_groups(agent_lines, _GOAL_STATE) or _first_value(version_file, "goal_state_agent")
    distro = _last_of_groups(agent_lines, _OS, groups=3) or _first_value(version_file, "distro")
    config = dict(frames["config"].filter(pl.col("key").is_not_null()).select("key", "value").iter_rows())
    stamps = records["timestamp"].drop_nulls()
    return {
        "collection": name,
        "agent_package": daemon,
        "goal_state_agent": goal,
        "distro": distro,
        "auto_update": config.get("AutoUpdate.Enabled", "not configured (default: on)"),
        "extensions_enabled": config.get("Extensions.Enabled", "not configured (default: on)"),
        "extensions": _extensions(records, frames),
        "first_seen": stamps.min().strftime("%Y-%m-%d %H:%M:%S UTC") if stamps.len() else None,
        "last_seen": stamps.max().strftime("%Y-%m-%d %H:%M:%S UTC") if stamps.len() else None,
    }


def _last(frame: pl.DataFrame, pattern: str) -> str | None:
    found = frame.select(pl.col("message").str.extract(pattern, 1)).to_series().drop_nulls()
    return found[-1] if found.len() else None


def _last_of_groups(frame: pl.DataFrame, pattern: str, groups: int = 2) -> str | None:
    extracted = [pl.col("message").str.extract(pattern, g) for g in range(1, groups + 1)]
    found = frame.select(pl.coalesce(extracted)).to_series().drop_nulls()
    return found[-1] if found.len() else None


def _first_value(frame: pl.DataFrame, column: str) -> str | None:
    values = frame[column].drop_nulls() if frame.height else pl.Series([])
    return values[0] if values.len() else None


def _extensions(records: pl.DataFrame, frames: dict[str, pl.DataFrame]) -> list[dict[str, Any]]:
    """Each extension with the newest version seen and its last reported status."""
    seen = records.filter(pl.col("extension").is_not_null() & (pl.col("extension") != "WALinuxAgent"))
    status = frames["status"].sort("timestamp", nulls_last=True)
    out = []
    for (name,), rows in seen.group_by(["extension"], maintain_order=True):
        versions = [v for v in rows["extension_version"].drop_nulls().unique().to_list()]
        last = status.filter(pl.col("extension") == name).tail(1)
        out.append(
            {
                "name": name,
                "version": max(versions, key=version_key) if versions else None,
                "status": str(last["status"][0]) if last.height and last["status"][0] is not None else None,
            }
        )
    return sorted(out, key=lambda e: e["name"])
