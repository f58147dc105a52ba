"""The extension-handling agent is very old.

What it detects:
    A goal-state agent version older than 2.2.53. loglens reads the version from `is running as
    the goal state agent` (2.1: `is running as the current agent`), `Goal State Agent version`,
    `waagent --version` output (also when pasted into other text: `Goal state agent: 2.2.34`),
    and the instance view's `vmAgentVersion`; with none of those, from the daemon's banner
    (`Azure Linux Agent Version:2.1.3`, 2.0's `Windows Azure Linux Agent Version:
    WALinuxAgent-2.0.16`). The newest version seen counts. Also Azure refusing an operation
    because `it requires features that are not supported by the version of the VM agent`.

Why it matters:
    2.2.53 shipped in early 2021. Older agents miss years of fixes to extension handling,
    WireServer retries and firewall set-up, and do not write the log fields newer diagnostics
    rely on. The threshold is loglens's choice, not an Azure support boundary.

Example:
    2019/06/18 09:14:11.104558 INFO ExtHandler Agent WALinuxAgent-2.2.38 is running as the goal state agent

Known benign causes:
    Logs that stop before the VM was updated: the newest version in the logs is what counts.

Remediation:
    Update the distro's agent package (`apt install --only-upgrade walinuxagent`, `yum update
    WALinuxAgent`, `zypper update python-azure-agent`), keep `AutoUpdate.Enabled=y`, and restart
    the agent.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/update-linux-agent
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.knowledge import version_key
from loglens.rules._agent import HANDLER_BANNERS, by_record
from loglens.rules._common import HIT_COLUMNS

#: Oldest goal-state agent loglens does not flag.
MINIMUM = "2.2.53"

#: The daemon's banner (the package version), including 2.0's `Windows Azure Linux Agent Version: WALinuxAgent-2.0.16`.
DAEMON_BANNER = "agent.banner-daemon"
#: `waagent --version` output pasted into other text (`Goal state agent: 2.2.34`).
VERSION_OUTPUT = "agent.version-output-goal-state"
#: The platform refusing an operation because the agent is too old.
TOO_OLD = "agent.platform-requires-newer-agent"


RULE = Rule(
    id="agent-version-outdated",
    category="agent-health",
    severity="warning",
    title="Very old guest agent",
    messages=(*HANDLER_BANNERS, VERSION_OUTPUT, DAEMON_BANNER, TOO_OLD),
    reads=("records", "agent_version", "instance_view"),
)


def detect(context: Context) -> list[Hit]:
    hits = _platform_says_too_old(context)
    seen = pl.concat(
        [by_record(context, HANDLER_BANNERS), by_record(context, (VERSION_OUTPUT,), kinds=None)], how="diagonal_relaxed"
    ).rename({"version": "agent"})
    which = "goal-state agent"
    if seen.height == 0 and context.frames["agent_version"].height == 0:
        which = "agent package (daemon)"
        # Without a goal-state banner the daemon's (package) version is all there is.
        seen = by_record(context, (DAEMON_BANNER,)).rename({"version": "agent"})
    # A banner per goal state: the distinct versions are few, the lines many.
    view = context.frames["instance_view"].filter(pl.col("scope") == "vm-agent")
    stated = pl.concat(
        [seen["agent"], context.frames["agent_version"]["goal_state_agent"], view["extension_version"]]
    ).drop_nulls()
    if stated.len() == 0:
        return hits
    newest = max(stated.unique().to_list(), key=version_key)
    if version_key(newest) >= version_key(MINIMUM):
        return hits
    rows = seen.filter(pl.col("agent") == newest).tail(1).select(HIT_COLUMNS)
    summary = f"The {which} is {newest}, older than {MINIMUM} (early 2021); update the agent package"
    return [*hits, Hit(summary, rows, extension="WALinuxAgent", version=newest)]


def _platform_says_too_old(context: Context) -> list[Hit]:
    rows = by_record(context, (TOO_OLD,), kinds=None)
    if rows.height == 0:
        return []
    summary = (
        "Azure refused an operation because the VM agent is too old for it (unsupported features); update the agent"
    )
    return [Hit(summary, rows.select(HIT_COLUMNS), extension="WALinuxAgent")]
