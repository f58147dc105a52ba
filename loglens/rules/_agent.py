"""What the agent rules share: the catalogue ids of the agent's own messages, grouped by what
they say (`catalogue/entries/agent_update.toml`, `agent_lifecycle.toml`), and one view of the
records carrying them.

Used by agent-update, agent-update-failed, agent-not-processing, agent-version-outdated,
auto-update-disabled and agent-command-failed, so that no rule imports another.
"""

from __future__ import annotations

import polars as pl

from catalogue import FIELDS
from catalogue.match import ID
from loglens.context import Context

#: The extension handler exiting so that the daemon starts another version (every generation).
HANDOVER = (
    "agent-update.exit-discovered-agent-update",
    "agent-update.exit-discovered-as-update",
    "agent-update.exit-discovered-update",
    "agent-update.exit-upgrade-discovered",
    "agent-update.exit-to-requested-version",
    "agent-update.exit-update-found",
    "agent-update.exit-completed-update-checks",
)
#: An update found but waiting for its update window (2.7+).
SCHEDULED = ("agent-update.scheduled-discovered-new-upgrade", "agent-update.scheduled-self-update")
#: The extension handler's start banners (a version processing goal states).
HANDLER_BANNERS = (
    "agent.banner-goal-state-agent",
    "agent.banner-current-agent",
    "agent.banner-goal-state-agent-version",
)
#: A version seen running: its banners, its heartbeat, or the daemon saying it stayed up.
RUNNING = (*HANDLER_BANNERS, "agent.heartbeat", "agent-update.launch-succeeded")
#: The daemon choosing the agent to launch (a downloaded one, or the installed one).
CHOSEN = ("agent-update.daemon-determined-latest", "agent-update.daemon-installed-most-current")
#: Messages stating the daemon's own version: the distro package's (the daemon never self-updates).
DAEMON_VERSION = (
    "agent.banner-daemon",
    "agent-update.daemon-installed-most-current",
    "agent-update.daemon-forwarding-signal",
)
#: The daemon's launch of an extension handler failing (the `command` field says which agent).
LAUNCH_FAILED = (
    "agent-update.launch-failed-return-code",
    "agent-update.launch-returned-code",
    "agent-update.launch-failed-exception",
    "agent-update.launch-failed-exception-legacy",
    "agent-update.launch-failed-code-legacy",
)
#: A version restarting too often: the daemon stops relaunching it.
RESTARTED_TOO_OFTEN = "agent-update.blocked-restarted-too-often"
#: A version skipped because it was blocked before (the failure may predate the log).
SKIPPED = ("agent-update.blocked-skipping-download", "agent-update.blocked-error-state-fatal")
#: A version refused: blacklisted, disabled, marked bad.
BLOCKED = (
    "agent-update.blocked-permanently-blacklisted",
    "agent-update.blocked-permenantly-blacklisted",
    "agent-update.blocked-permanently-disabled",
    "agent-update.blocked-blacklisted-legacy",
    "agent-update.blocked-bad-version-downgrade",
    "agent-update.blocked-blacklisting-downgrade",
    *SKIPPED,
)
ROLLBACK = ("agent-update.rollback-reverting-to-installed",)
#: Fetching, checking or unpacking the new agent failing.
DOWNLOAD_FAILED = (
    "agent-update.download-failed-any-uri",
    "agent-update.download-failed-exception",
    "agent-update.download-failed-unable",
    "agent-update.download-no-matching-package",
    "agent-update.download-package-missing-manifest",
    "agent-update.download-missing-uris",
    "agent-update.download-manifest-invalid",
    "agent-update.download-install-failed",
    "agent-update.download-unpack-failed",
    "agent-update.download-bad-state",
)
#: The agent giving up on an update.
GAVE_UP = ("agent-update.retries-attempted-enough", "agent-update.retries-unable-to-update")
#: Every message of a failed, blocked or rolled-back update.
UPDATE_FAILED = (*LAUNCH_FAILED, RESTARTED_TOO_OFTEN, *BLOCKED, *ROLLBACK, *DOWNLOAD_FAILED, *GAVE_UP)

#: Crashes and restarts of the agent itself (agent-not-processing adds the installed agent's
#: launch failures from `LAUNCH_FAILED`).
CRASHED = (
    "agent.daemon-restart",
    "agent.unhandled-error-event",
    "agent.handler-process-exited",
    "agent.unclean-exit",
    "agent.unclean-exit-legacy",
    "agent.orphan-exit",
    "agent.orphan-exit-legacy",
    "agent.handler-failed-exception",
    "agent.memory-limit-exit",
    "agent.legacy-traceback",
    RESTARTED_TOO_OFTEN,
)

#: The AutoUpdate settings as the agent reports them.
AUTO_UPDATE_OFF = (
    "agent-update.config-autoupdate-enabled-false",
    "agent-update.config-update-to-latest-false",
    "agent-update.config-auto-update-disabled",
)
#: 2.10+: both settings present, so `AutoUpdate.UpdateToLatestVersion` decides, not `AutoUpdate.Enabled`.
LEGACY_SETTING_IGNORED = ("agent-update.config-legacy-ignored", "agent-update.config-deprecated-conflict")

#: The agent's telemetry echo (`Event: name=WALinuxAgent, op=..., message=<a line logged just before>`).
EVENT_ECHO = "agent.telemetry-event"

#: What the launch command of the distro-installed agent runs: the `waagent` script
#: (`/usr/sbin/waagent -run-exthandlers`, or the distro's path); a downloaded agent runs its egg
#: (`bin/WALinuxAgent-2.2.40-py2.7.egg`) instead.
INSTALLED_AGENT = "waagent"


def by_record(context: Context, ids: tuple[str, ...], kinds: tuple[str, ...] | None = ("waagent",)) -> pl.DataFrame:
    """The records carrying any of ``ids``, one row each in record order.

    Returns:
        The record columns, `ids` (the list of those ids the record carries) and one column per
        `catalogue.FIELDS` name that is not a record column: the first value any of those
        messages states.
    """
    rows = context.messages.filter(pl.col(ID).is_in(list(ids)))
    if kinds is not None:
        rows = rows.filter(pl.col("kind").is_in(list(kinds)))
    record_columns = [c for c in context.records.columns if c != "record"]
    # A field named like a record column (`extension`, `operation`) keeps the record's value.
    fields = [f for f in FIELDS if f not in record_columns and f in rows.columns]
    return (
        rows.group_by("record", maintain_order=True)
        .agg(
            *[pl.col(c).first() for c in record_columns],
            pl.col(ID).alias("ids"),
            *[pl.col(f).drop_nulls().first() for f in fields],
        )
        .sort("record")
    )


def carries(ids: tuple[str, ...] | str) -> pl.Expr:
    """True for `by_record` rows that carry any of ``ids``."""
    wanted = [ids] if isinstance(ids, str) else list(ids)
    return pl.col("ids").list.eval(pl.element().is_in(wanted)).list.any()


def installed_launch() -> pl.Expr:
    """True for rows whose launch `command` runs the distro-installed agent, not a downloaded one."""
    return pl.col("command").str.contains(INSTALLED_AGENT, literal=True).fill_null(False)


def echoed(context: Context) -> pl.Expr:
    """True for records that are the agent's telemetry echo of a line logged just before (`EVENT_ECHO`)."""
    records = context.messages.filter(pl.col(ID) == EVENT_ECHO).get_column("record")
    return pl.col("record").is_in(records.implode())
