"""The guest agent updated itself to a new version, or its package was updated.

What it detects:
    Agent 2.7 and later first announce the update (`Self-update discovered new Regular upgrade
    WALinuxAgent-2.15.0.1; Will upgrade on or after ...`), and an update announced but not applied
    in the logs is reported too. Then the extension-handling agent exits to hand over:
    `Agent WALinuxAgent-2.2.38 discovered update WALinuxAgent-2.2.40 -- exiting` (2.2.x),
    `Agent WALinuxAgent-2.2.17 discovered WALinuxAgent-2.2.18 as an update and will exit` (2.2.0-2.2.18),
    `Agent WALinuxAgent-2.1.5.3 discovered agent update and will exit` (2.1, no version named),
    `Normal Agent upgrade discovered, updating to ...` (2.7-2.9), `Exiting current process to upgrade
    to the request Agent version ...` (2.8-2.9), `Current Agent 2.14.0.1 completed all update checks,
    exiting current process to upgrade to the new Agent version 2.15.0.1` (2.10+). Then the new
    version starts (`is running as the goal state agent`, `Goal State Agent version 2.15.0.1`,
    `launched with command ... is successfully running`). A hand-over whose new version is not
    seen starting (the log ends, or only the daemon's `Determined Agent ... to be the latest agent`
    follows) is reported as such. Also the distro package of the agent changing under the daemon:
    the daemon's own version (`Azure Linux Agent Version:`, `Installed Agent ... is the most current
    agent`, `Agent ... forwarding signal 15 to ...`) differing between two starts.

Why it matters:
    Only the extension-handling part of the agent updates itself; the daemon stays at the
    distro package version until the package is updated. A self-update changes how extensions
    are run and logged, so it is a landmark on the timeline; a package update restarts the agent
    (extension operations running at that moment are interrupted). Failed updates and rollbacks
    are a separate finding.

Example:
    2025-03-02T19:48:13.613071Z INFO ExtHandler ExtHandler Current Agent 2.14.0.1 completed all update checks, exiting current process to upgrade to the new Agent version 2.15.0.1
    2025-03-02T19:48:16.771650Z INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 2.15.0.1)

Known benign causes:
    This is the normal auto-update. It is informational.

Remediation:
    Nothing to do. Check `waagent --version` to see the package version next to the goal state agent.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/agent-linux
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.knowledge import version_key
from loglens.rules._agent import (
    BLOCKED,
    CHOSEN,
    DAEMON_VERSION,
    EVENT_ECHO,
    HANDOVER,
    LAUNCH_FAILED,
    RESTARTED_TOO_OFTEN,
    RUNNING,
    SCHEDULED,
    by_record,
    echoed,
)
from loglens.rules._common import HIT_COLUMNS, at_minute, span_text

#: A newer agent package downloaded (the step before a hand-over).
_DOWNLOADED = "agent-update.downloaded"
#: A hand-over whose new version then failed: agent-update-failed reports it.
_FAILED = (*LAUNCH_FAILED, RESTARTED_TOO_OFTEN, *BLOCKED)

RULE = Rule(
    id="agent-update",
    category="upgrade",
    severity="info",
    title="Guest agent updated itself",
    messages=tuple(dict.fromkeys((*HANDOVER, *SCHEDULED, *RUNNING, *CHOSEN, *DAEMON_VERSION, *_FAILED, EVENT_ECHO, _DOWNLOADED))),
    reads=("records",),
    false_positives=(
        "agent-update.autoupdate-event",
        "benign.telemetry-dropped",
        "telemetry.events-dropped",
    ),
)


def detect(context: Context) -> list[Hit]:
    handovers = by_record(context, HANDOVER).rename({"from_version": "current", "to_version": "target"})
    running = by_record(context, RUNNING)
    chosen = by_record(context, ("agent-update.daemon-determined-latest",))
    failed = by_record(context, _FAILED)
    echo = echoed(context)
    hits = _unnamed_handovers(handovers.filter(pl.col("target").is_null()).with_columns(echo=echo))
    for (target,), group in handovers.filter(pl.col("target").is_not_null()).group_by(["target"], maintain_order=True):
        row = group.row(0, named=True)
        started = _first_after(running, target, row)
        source = f" from {row['current']}" if row["current"] else ""
        times = f"; the hand-over to {target} was logged {group.height} times" if group.height > 1 else ""
        if started.height:
            rows = pl.concat([group.select(HIT_COLUMNS), started.select(HIT_COLUMNS)])
            summary = f"Agent self-updated{source} to {target}{at_minute(started['timestamp'][0])}{times}"
        elif _first_after(failed, target, row).height:
            continue  # the new version failed: agent-update-failed reports it
        else:
            picked = _first_after(chosen, target, row)
            rows = pl.concat([group.select(HIT_COLUMNS), picked.select(HIT_COLUMNS)])
            daemon = f"; the daemon chose it{at_minute(picked['timestamp'][0])}" if picked.height else ""
            summary = (
                f"Agent exited{source} to update to {target}{at_minute(row['timestamp'])}{daemon}{times}; "
                "the new version is not seen starting in these logs"
            )
        hits.append(Hit(summary, rows, extension="WALinuxAgent", version=target, count=group.height))
    # Updates announced but not applied before the logs end: the agent waits for its update window.
    applied = {version_key(v) for v in handovers["target"].drop_nulls().to_list()}
    discovered = by_record(context, SCHEDULED)
    for (version,), group in discovered.group_by(["to_version"], maintain_order=True):
        if version_key(version) in applied:
            continue
        when = group["when"][-1]
        summary = f"Agent discovered update {version}, scheduled on or after {when}; not applied in these logs"
        hits.append(Hit(summary, group.select(HIT_COLUMNS), extension="WALinuxAgent", version=version))
    downloads = _downloads(by_record(context, (_DOWNLOADED,)), applied)
    return hits + downloads + _package_changes(by_record(context, DAEMON_VERSION))


def _downloads(downloaded: pl.DataFrame, applied: set) -> list[Hit]:
    """Agent packages downloaded with no hand-over to them in these logs: one finding for all."""
    done = [v for v in downloaded["version"].drop_nulls().unique().to_list() if version_key(v) in applied]
    pending = downloaded.filter(pl.col("version").is_not_null() & ~pl.col("version").is_in(done))
    if pending.is_empty():
        return []
    versions = list(dict.fromkeys(pending["version"].to_list()))
    summary = (
        f"Agent downloaded update package(s) {', '.join(versions)} {span_text(pending)}".rstrip()
        + "; no hand-over to them is in these logs"
    )
    return [Hit(summary, pending.select(HIT_COLUMNS), extension="WALinuxAgent", version=versions[-1])]


def _first_after(rows: pl.DataFrame, version: str, handover: dict) -> pl.DataFrame:
    """The first of ``rows`` stating ``version`` (compared as numbers) at or after the hand-over."""
    # Pasted text may have no times: then the order of the lines decides.
    if handover["timestamp"]:
        later = pl.col("timestamp") >= handover["timestamp"]
    else:
        later = pl.col("record") >= handover["record"]
    if rows.is_empty():
        return rows
    key = version_key(version)
    # Thousands of banners, a handful of distinct versions: compare those.
    same = [v for v in rows["version"].drop_nulls().unique().to_list() if version_key(v) == key]
    return rows.filter(pl.col("version").is_in(same)).filter(later).head(1)


def _unnamed_handovers(handovers: pl.DataFrame) -> list[Hit]:
    """2.1 agents announce an update and exit without naming the new version."""
    hits = []
    for (current,), group in handovers.group_by(["current"], maintain_order=True):
        # The agent's telemetry echo (`Event: ... message=<the same text>`) repeats each exit.
        exits = group.filter(~pl.col("echo"))
        times = (exits.height or group.height) if current else group.height
        who = f"Agent {current}" if current else "The agent"
        again = f" ({times} times)" if times > 1 else ""
        summary = (
            f"{who} discovered an update and exited to apply it{again}; agents before 2.2 do not name the new version"
        )
        hits.append(Hit(summary, group.select(HIT_COLUMNS), extension="WALinuxAgent", version=current, count=times))
    return hits


def _package_changes(daemon: pl.DataFrame) -> list[Hit]:
    """The daemon's own version changing between its lines: the distro package was updated."""
    hits = []
    last = None
    for row in daemon.filter(pl.col("version").is_not_null()).iter_rows(named=True):
        if last is not None and version_key(row["version"]) != version_key(last["version"]):
            change = "updated" if version_key(row["version"]) > version_key(last["version"]) else "downgraded"
            rows = daemon.filter(pl.col("record").is_in([last["record"], row["record"]])).select(HIT_COLUMNS)
            summary = (
                f"Agent package {change} from {last['version']} to {row['version']}: the daemon restarted with "
                f"the new package{at_minute(row['timestamp'])}"
            )
            hits.append(Hit(summary, rows, extension="WALinuxAgent", version=row["version"]))
        last = row
    return hits
