"""An extension was upgraded (or downgraded) from one handler version to another.

What it detects:
    The agent's upgrade sequence for one handler with two versions: `[Name-OLD] Disable
    extension`, `[Name-NEW] Update extension`, `[Name-OLD] Uninstall extension`, then `[Name-NEW]
    Install`/`Enable extension` (reference 3.3), in every agent generation's wording (the
    catalogue's `ext.command-start`, `ext.copy-status-files`, ...). The new version is the one
    being set up around it (`[Enable] current handler state is: notinstalled`, `Initialize
    extension directory`, status files copied to it), the old one the version disabled or
    uninstalled, or another version of the handler seen at the time. loglens reports from -> to,
    and whether the change is a hotfix, a minor or a major one. An upgrade whose disable,
    update, uninstall or install step failed (a non-zero exit or timeout for that step, also
    when the log lacks the step's start line; `; ContinueOnUpdate:`; the handler state
    `failedupgrade`) is an error; the agent then removes the new version's directory and tries
    again on the next goal state. The same upgrade attempted three times or more is a loop. A
    handler's own log switching versions (CustomScript's handler.log `version=v2.0.2` then
    `v2.0.3`) is reported too when waagent.log does not show the change, as a warning when the
    new version logged an error right after.

Why it matters:
    Hotfixes are applied automatically, and minor upgrades when `autoUpgradeMinorVersion` is
    true. An upgrade is a common reason an extension starts to behave differently. A failed
    upgrade leaves the new version in `FailedUpgrade`, and the agent retries it on every goal
    state and agent restart.

Example:
    2025-03-03T06:40:15.011230Z INFO ExtHandler [Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.32.5] Disable extension: [./shim.sh -disable]
    2025-03-03T06:40:19.553101Z INFO ExtHandler [Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2] Update extension [./shim.sh -update]

Known benign causes:
    A clean upgrade is informational.

Remediation:
    For a failed or looping upgrade, read the failing step's output in the event and in the
    extension's log, fix the cause (often a failing disable or uninstall of the old version), then
    remove the extension and set it again at the wanted version (`az vm extension set --version`).
    Pin the version with `autoUpgradeMinorVersion: false` if a minor upgrade breaks you.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/features-linux#how-agents-and-extensions-are-updated
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, at_minute, span_text, upgrade_kind, stated_field

#: The agent starting a handler command (`[Name-Ver] Update extension [cmd]`, `Disable extension: [cmd]`, ...).
COMMAND = "ext.command-start"
#: The 2.0 agent's `Update complete<Name>-<Ver>` (it names no command start).
LEGACY_UPDATE = "ext.legacy-update-complete"
#: Lines that mark the version being set up: the goal state's version in `notinstalled` or
#: `failedupgrade` state, its directory initialised, status files copied to it, install skipped.
SETUP = (
    "ext.handler-state-setup",
    "ext.initialize-directory",
    "ext.copy-status-files",
    "ext.update-with-install-not-set",
)
#: Failure signs: a command's non-zero exit or timeout, the old version's failure reported with
#: `; ContinueOnUpdate:`, the handler state `failedupgrade`, the 2.0 agent's own wording.
FAILURES = (
    "ext.nonzero-exit-code",
    "ext.command-timeout",
    "ext.continue-on-update",
    "ext.handler-state-failedupgrade",
    "ext.legacy-disable-old-failed",
    "ext.legacy-operation-failed",
)
#: The agent deleting a version's directory (after an uninstall, or rolling back a failed upgrade).
REMOVED = "ext.remove-handler-directory"
#: How far around an upgrade step its other steps are looked for.
WINDOW = timedelta(minutes=30)
#: A failure this soon after an attempt's disable or update belongs to it (the agent's longest command limit).
STEP_LIMIT = timedelta(minutes=15)
#: Attempts of the same upgrade that make a loop.
LOOP = 3
#: Steps that belong to an upgrade (a failed enable is the extension's own problem).
_UPGRADE_STEPS = ("disable", "update", "uninstall", "install")

RULE = Rule(
    id="extension-upgrade",
    category="upgrade",
    severity="info",
    title="Extension handler version changed",
    severity_note="error when a step failed, warning when it loops",
    messages=(COMMAND, LEGACY_UPDATE, *SETUP, *FAILURES, REMOVED, "gohandler.event-lifecycle"),
    reads=("records", "spans"),
)


@dataclass
class _Attempt:
    """One run of the agent's upgrade sequence for one handler."""

    extension: str
    started: datetime
    rows: list[dict] = field(default_factory=list)


def detect(context: Context) -> list[Hit]:
    every_step = _steps(context)
    steps = every_step.filter(pl.col("timestamp").is_not_null())
    hits: list[Hit] = []
    found: set[tuple[str, str, str]] = set()
    if steps.height:
        by_handler = _near_starts(steps).group_by(["extension"], maintain_order=True)
        attempts = [attempt for (ext,), rows in by_handler for attempt in _attempts(ext, rows)]
        hits += _attempt_hits(context, steps, attempts, found)
    hits += _untimed_hits(context, every_step.filter(pl.col("timestamp").is_null()), found)
    hits += _handler_log_changes(context, found)
    return hits



def _steps(context: Context) -> pl.DataFrame:
    """The agent's upgrade-relevant lines, one row per (record, message): which handler and version
    they are about, and what step they are (`update`, `disable`, ..., `setup`, `failed`, `removed`)."""
    messages = context.messages
    ids = [COMMAND, LEGACY_UPDATE, *SETUP, *FAILURES, REMOVED]
    rows = messages.filter(pl.col("message_id").is_in(ids) & pl.col("kind").is_in(["waagent", "command_execution"]))
    said_op = pl.col(stated_field(messages, "operation")).str.to_lowercase()
    record_op = pl.col("operation").str.to_lowercase()
    failing = pl.col("message_id").is_in(["ext.nonzero-exit-code", "ext.command-timeout"])
    step = (
        pl.when(pl.col("message_id") == COMMAND)
        .then(said_op)
        .when(pl.col("message_id") == LEGACY_UPDATE)
        .then(pl.lit("update"))
        .when(pl.col("message_id").is_in(SETUP))
        .then(pl.lit("setup"))
        .when(pl.col("message_id") == REMOVED)
        .then(pl.lit("removed"))
        # A command's exit or timeout is a failure sign when the agent logged it as a problem.
        .when(failing)
        .then(pl.when(pl.col("level").cast(pl.String).is_in(["ERROR", "WARNING"])).then(pl.lit("failed")))
        .otherwise(pl.lit("failed"))
    )
    # The step that failed: the command's own word (`omsagent.py -disable`), else the event's `op=`
    # (the 2.2 agents sometimes report an old version's disable as `op=Download`).
    failed_step = (
        pl.when(pl.col("message_id") == "ext.handler-state-failedupgrade")
        .then(pl.lit("failedupgrade"))
        .when(pl.col("message_id") == "ext.legacy-disable-old-failed")
        .then(pl.lit("disable"))
        .otherwise(pl.coalesce(said_op, record_op))
    )
    return (
        rows.with_columns(
            extension=pl.coalesce(pl.col("extension"), pl.col(stated_field(messages, "extension"))),
            version=pl.coalesce(pl.col("extension_version"), pl.col("version"), pl.col("from_version")),
            old_named=pl.col("from_version"),
            step=step,
            failed_step=failed_step,
        )
        .filter(pl.col("extension").is_not_null() & pl.col("step").is_not_null())
        .sort("timestamp", "record", nulls_last=True)
    )


def _near_starts(steps: pl.DataFrame) -> pl.DataFrame:
    """The steps within `WINDOW` after a step that may start an attempt (of the same handler): the
    only rows `_attempts` can use. A healthy log's thousands of enables are left out at once."""
    starts = steps.filter(pl.col("step").is_in(["disable", "update", "failed"])).select(
        "extension", start=pl.col("timestamp")
    )
    near = steps.join_asof(
        starts.sort("start"), left_on="timestamp", right_on="start", by="extension", strategy="backward",
        tolerance=WINDOW, check_sortedness=False,  # both sorted by time (`_steps`, above)
    )
    return near.filter(pl.col("start").is_not_null()).drop("start")


def _attempts(extension: str, rows: pl.DataFrame) -> list[_Attempt]:
    """Split one handler's steps into upgrade attempts: each disable starts one, an update starts
    one unless a disable just did, and a failure of an upgrade step starts one when no attempt is
    under way (its command start may be cut from the log)."""
    attempts: list[_Attempt] = []
    current: _Attempt | None = None
    for row in rows.iter_rows(named=True):
        step, when = row["step"], row["timestamp"]
        recent = current is not None and when - current.started <= WINDOW
        fresh = current is not None and when - current.started <= STEP_LIMIT
        starts = (
            step == "disable"
            or (step == "update" and not (recent and any(r["step"] in ("disable", "update") for r in current.rows)))
            or (step == "failed" and row["failed_step"] in (*_UPGRADE_STEPS, "failedupgrade") and not fresh)
        )
        if starts:
            current = _Attempt(extension, when)
            attempts.append(current)
        if current is not None and when - current.started <= WINDOW:
            current.rows.append(row)
    return attempts


def _versions(attempt: _Attempt, setups: pl.DataFrame, spans: pl.DataFrame) -> tuple[str | None, str | None]:
    """(old, new) of an attempt. New: the version set up around it (``setups``: `notinstalled`,
    initialised, status copied), else its update's. Old: its disable's or uninstall's version,
    else the one a message names as old, else another version of the handler seen around it."""
    t0 = attempt.started
    # Times compared as integers: a time zone-aware Python datetime costs ~0.2 ms to turn into a
    # Polars literal, and a healthy log has hundreds of attempts.
    low, high = _micros(t0 - WINDOW), _micros(t0 + WINDOW)
    setup = setups.filter(
        (pl.col("extension") == attempt.extension) & pl.col("timestamp").dt.epoch("us").is_between(low, high)
    )
    new = None
    if setup.height:
        nearest = setup.with_columns(gap=(pl.col("timestamp") - t0).abs()).sort("gap")
        new = nearest["version"][0]
    mine = attempt.rows
    new = new or next((r["version"] for r in mine if r["step"] == "update" and r["version"]), None)
    candidates = [r["version"] for r in mine if r["step"] in ("disable", "uninstall") and r["version"]]
    candidates += [r["old_named"] for r in mine if r["old_named"]]
    old = next((v for v in candidates if v != new), None)
    if old is None:
        seen = spans.filter(
            (pl.col("extension") == attempt.extension)
            & pl.col("extension_version").is_not_null()
            & (pl.col("extension_version") != (new or ""))
            & (pl.col("first_seen").dt.epoch("us") <= high)
            & (pl.col("last_seen").dt.epoch("us") >= low)
        ).sort("last_seen", descending=True)
        old = seen["extension_version"][0] if seen.height else None
    return old, new


def _micros(when: datetime) -> int:
    """Microseconds since the epoch (what `dt.epoch("us")` gives for the same time)."""
    if when.tzinfo is None:  # record times are UTC (`parsers.schema`)
        when = when.replace(tzinfo=timezone.utc)
    return (when - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _attempt_hits(
    context: Context, steps: pl.DataFrame, attempts: list[_Attempt], found: set[tuple[str, str, str]]
) -> list[Hit]:
    paired: dict[tuple[str, str, str], list[_Attempt]] = {}
    unpaired: dict[str, list[_Attempt]] = {}
    # Only the setup steps name a new version: the handler's every enable is left out once.
    setups = steps.filter((pl.col("step") == "setup") & pl.col("version").is_not_null())
    for attempt in attempts:
        old, new = _versions(attempt, setups, context.spans)
        if old and new and old != new:
            paired.setdefault((attempt.extension, old, new), []).append(attempt)
        elif any(r["step"] == "update" for r in attempt.rows):
            # The agent runs `update` only when it replaces a handler, so an upgrade happened even
            # when the log shows one version (2.1/2.2 agents sometimes prefix every step with the new one).
            unpaired.setdefault(attempt.extension, []).append(attempt)
    hits = []
    for (extension, old, new), group in paired.items():
        found.add((extension, old, new))
        rows = _rows(context, [r for a in group for r in a.rows])
        failures = [r for a in group for r in a.rows if r["step"] == "failed"]
        kind, name, tries = upgrade_kind(old, new), extension.rsplit(".", 1)[-1], len(group)
        what = f"{name} {kind if kind == 'downgrade' else kind + ' upgrade'} {old} -> {new}"
        if failures:
            summary = f"{what} failed at {_failed_step(failures)}" + (f"; attempted {tries} times" if tries > 1 else "")
            severity = "error"
        elif tries >= LOOP:
            summary = f"{what} repeats: attempted {tries} times"
            severity = "warning"
        else:
            summary = f"{what}{at_minute(group[0].started)}"
            severity = None
        hits.append(Hit(summary, rows, severity=severity, extension=extension, version=new, count=tries))
    for extension, group in unpaired.items():
        updates = [r for a in group for r in a.rows if r["step"] == "update"]
        rows = _rows(context, updates)
        version = updates[-1]["version"]
        name = extension.rsplit(".", 1)[-1]
        summary = f"{name} ran the handler update sequence ({version} in the log; the old version is not shown) {span_text(rows)}"
        hits.append(Hit(summary, rows, extension=extension, version=version, count=len(updates)))
    return hits


def _untimed_hits(context: Context, steps: pl.DataFrame, found: set[tuple[str, str, str]]) -> list[Hit]:
    """Pasted text without times (stamps cut off): no attempts to time, but a handler's `update`
    beside an old version's `disable` or `uninstall` in one text is still its upgrade, one per
    text and handler, in line order."""
    hits = []
    for (_path, extension), rows in steps.sort("record").group_by(["source_path", "extension"], maintain_order=True):
        mine = rows.to_dicts()
        updates = [r for r in mine if r["step"] == "update"]
        if not updates:
            continue
        setup = [r["version"] for r in mine if r["step"] == "setup" and r["version"]]
        new = setup[-1] if setup else updates[-1]["version"]
        olds = [r["version"] for r in mine if r["step"] in ("disable", "uninstall") and r["version"]]
        old = next((v for v in [*olds, *(r["old_named"] for r in mine if r["old_named"])] if v != new), None)
        if not (old and new) or (extension, old, new) in found:
            continue
        found.add((extension, old, new))
        kind, name = upgrade_kind(old, new), extension.rsplit(".", 1)[-1]
        what = f"{name} {kind if kind == 'downgrade' else kind + ' upgrade'} {old} -> {new}"
        failures = [r for r in mine if r["step"] == "failed" and r["failed_step"] in (*_UPGRADE_STEPS, "failedupgrade")]
        summary = f"{what} failed at {_failed_step(failures)}" if failures else what
        summary += " (the text gives no times)"
        hits.append(
            Hit(summary, _rows(context, mine), severity="error" if failures else None, extension=extension, version=new)
        )
    return hits


def _rows(context: Context, rows: list[dict]) -> pl.DataFrame:
    """The records of some steps, as hit rows, in log order."""
    ids = pl.Series([r["record"] for r in rows], dtype=pl.UInt32).unique()
    return context.records.filter(pl.col("record").is_in(ids.implode())).sort("record").select(HIT_COLUMNS)


def _failed_step(failures: list[dict]) -> str:
    steps = [r["failed_step"] for r in failures]
    for step in ("disable", "update", "uninstall", "install"):
        if step in steps:
            return f"the {step} step"
    return "an upgrade step (handler state failedupgrade)"


def _handler_log_changes(context: Context, found: set[tuple[str, str, str]]) -> list[Hit]:
    """A handler's own log switching from one version to another (CustomScript's handler.log
    `version=v2.0.2` then `version=v2.0.3`): the handler was upgraded even when waagent.log is
    missing. Reported when the agent's log did not already show the same change; a warning when
    the new version logged an error right after."""
    logs = context.records.filter(pl.col("kind") == "extension_log")["source_path"].unique().implode()
    spans = context.spans.filter(
        pl.col("source_path").is_in(logs)
        & pl.col("extension").is_not_null()
        & pl.col("extension_version").is_not_null()
        & pl.col("first_seen").is_not_null()
    ).sort("first_seen")
    hits = []
    for (path, extension), versions in spans.group_by(["source_path", "extension"], maintain_order=True):
        ordered = list(versions.iter_rows(named=True))
        for before, after in zip(ordered, ordered[1:], strict=False):
            old, new = before["extension_version"], after["extension_version"]
            if old == new or before["last_seen"] > after["last_seen"] or (extension, old, new) in found:
                continue
            found.add((extension, old, new))
            mine = context.records.filter((pl.col("source_path") == path) & (pl.col("extension") == extension))
            last_old = mine.filter(pl.col("extension_version") == old).tail(1)
            after_change = mine.filter(
                (pl.col("extension_version") == new)
                & pl.col("timestamp").is_between(after["first_seen"], after["first_seen"] + WINDOW)
            )
            errors = after_change.filter(pl.col("level").cast(pl.String) == "ERROR")
            rows = pl.concat([last_old, after_change.head(1), errors.head(3)]).unique("record").sort("record")
            if rows.is_empty():
                continue
            name, kind = extension.rsplit(".", 1)[-1], upgrade_kind(old, new)
            what = f"{name} {kind if kind == 'downgrade' else kind + ' upgrade'} {old} -> {new} (its own log)"
            if errors.height:
                first = errors["message"][0].splitlines()[0][:160]
                summary = f"{what}; the new version failed right after: {first}"
                severity = "warning"
            else:
                summary = f"{what}{at_minute(after['first_seen'])}"
                severity = None
            hits.append(Hit(summary, rows.select(HIT_COLUMNS), severity=severity, extension=extension, version=new))
    return hits
