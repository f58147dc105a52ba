"""The guest agent updated itself to a new version.

What it detects:
    Agent 2.7 and later first announce the update (`Self-update discovered new Regular upgrade
    WALinuxAgent-2.15.0.1; Will upgrade on or after ...`), and an update announced but not applied
    in the logs is reported too. Then the extension-handling agent exits to hand over:
    `Agent WALinuxAgent-2.2.38 discovered update WALinuxAgent-2.2.40 -- exiting` (2.2.x),
    `Agent WALinuxAgent-2.1.5.3 discovered agent update and will exit` (2.1, no version named),
    `Agent upgrade discovered, updating to ...` (2.7-2.9), `Current Agent 2.14.0.1 completed all
    update checks, exiting current process to upgrade to the new Agent version 2.15.0.1`
    (2.10+). Then the new version starts (`is running as the goal state agent`, `Goal State Agent
    version 2.15.0.1`, `launched with command ... is successfully running`).

Why it matters:
    Only the extension-handling part of the agent updates itself; the daemon stays at the
    distro package version. A self-update changes how extensions are run and logged, so it is a
    landmark on the timeline. Failed updates and rollbacks are a separate finding.

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
from loglens.knowledge import GOAL_STATE_AGENT, first_group
from loglens.rules._common import HIT_COLUMNS, at_minute

#: `(current, target)` from the hand-over messages of each agent generation.
HANDOVER = (
    r"Agent WALinuxAgent-(?P<a_from>\S+) discovered update WALinuxAgent-(?P<a_to>\S+) -- exiting"
    r"|Agent WALinuxAgent-(?P<b_from>\S+) discovered WALinuxAgent-(?P<b_to>\S+) as an update and will exit"
    r"|Agent upgrade discovered, updating to WALinuxAgent-(?P<c_to>\S+) -- exiting"
    r"|Current Agent (?P<d_from>\S+) completed all update checks, exiting current process to (?:upgrade|downgrade) to the new Agent version (?P<d_to>\S+)"
    r"|Exiting current process to (?:upgrade|downgrade) to the request Agent version (?P<e_to>\S+)"
    r"|Agent WALinuxAgent-(?P<f_from>\S+) discovered agent update and will exit"
    r"|Agent update found, exiting current process to (?:upgrade|downgrade) to the new Agent version (?P<g_to>\S+)"
)
#: An update found but scheduled for later (2.7+): `... upgrade WALinuxAgent-2.15.0.1; Will upgrade on or after <time>`.
DISCOVERED = r"[Dd]iscovered new (?:Hotfix |Normal |Regular )?upgrade (?:WALinuxAgent-)?(?P<version>\d+(?:\.\d+)+); Will upgrade on or after (?P<when>\S+)"
#: The new version running: its start banners (`[HEARTBEAT]` repeats are not needed), or the
#: daemon saying it launched it.
RUNNING = GOAL_STATE_AGENT + r"|Agent WALinuxAgent-(\S+) launched with command .* is successfully running"


RULE = Rule(
    id="agent-update",
    category="upgrade",
    severity="info",
    title="Guest agent updated itself",
    triggers="|".join((HANDOVER, RUNNING, DISCOVERED)),
)


def detect(context: Context) -> list[Hit]:
    agent = context.records.filter(pl.col("kind") == "waagent")
    handovers = (
        agent.filter(pl.col("message").str.contains(HANDOVER))
        .with_columns(h=pl.col("message").str.extract_groups(HANDOVER))
        .unnest("h")
        .with_columns(
            current=pl.coalesce("a_from", "b_from", "d_from", "f_from"),
            target=pl.coalesce("a_to", "b_to", "c_to", "d_to", "e_to", "g_to"),
        )
    )
    running = agent.filter(pl.col("message").str.contains(RUNNING)).with_columns(
        version=first_group(pl.col("message"), RUNNING, 3)
    )
    hits = _unnamed_handovers(handovers.filter(pl.col("target").is_null()))
    for (target,), group in handovers.filter(pl.col("target").is_not_null()).group_by(["target"], maintain_order=True):
        row = group.row(0, named=True)
        # Pasted text may have no times: then the order of the lines decides.
        later = pl.col("timestamp") >= row["timestamp"] if row["timestamp"] else pl.col("record") >= row["record"]
        started = running.filter((pl.col("version") == target) & later).head(1)
        if started.height == 0:
            continue  # an update that never ran is reported by agent-update-failed
        rows = pl.concat([group.select(HIT_COLUMNS), started.select(HIT_COLUMNS)])
        source = f" from {row['current']}" if row["current"] else ""
        times = f"; the hand-over to {target} was logged {group.height} times" if group.height > 1 else ""
        summary = f"Agent self-updated{source} to {target}{at_minute(started['timestamp'][0])}{times}"
        hits.append(Hit(summary, rows, extension="WALinuxAgent", version=target, count=group.height))
    # Updates announced but not applied before the logs end: the agent waits for its update window.
    applied = set(handovers["target"].drop_nulls().to_list())
    discovered = (
        agent.filter(pl.col("message").str.contains(DISCOVERED))
        .with_columns(d=pl.col("message").str.extract_groups(DISCOVERED))
        .unnest("d")
    )
    for (version,), group in discovered.group_by(["version"], maintain_order=True):
        if version in applied:
            continue
        when = group["when"][-1]
        summary = f"Agent discovered update {version}, scheduled on or after {when}; not applied in these logs"
        hits.append(Hit(summary, group.select(HIT_COLUMNS), extension="WALinuxAgent", version=version))
    return hits


def _unnamed_handovers(handovers: pl.DataFrame) -> list[Hit]:
    """2.1 agents announce an update and exit without naming the new version."""
    hits = []
    for (current,), group in handovers.group_by(["current"], maintain_order=True):
        exits = group.filter(~pl.col("message").str.starts_with("Event: "))
        times = (exits.height or group.height) if current else group.height
        who = f"Agent {current}" if current else "The agent"
        again = f" ({times} times)" if times > 1 else ""
        summary = (
            f"{who} discovered an update and exited to apply it{again}; agents before 2.2 do not name the new version"
        )
        hits.append(Hit(summary, group.select(HIT_COLUMNS), extension="WALinuxAgent", version=current, count=times))
    return hits
