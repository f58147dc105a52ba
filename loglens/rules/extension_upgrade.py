"""An extension was upgraded (or downgraded) from one handler version to another.

What it detects:
    The agent's upgrade sequence for one handler with two versions: `[Name-OLD] Disable
    extension`, `[Name-NEW] Update extension`, `[Name-OLD] Uninstall extension`, then `[Name-NEW]
    Install`/`Enable extension` (reference 3.3). loglens reports from -> to, and whether the
    change is a hotfix, a minor or a major one. An upgrade whose disable, update, uninstall or
    install step failed (an error `Event:` for that step, `; ContinueOnUpdate:`, the handler
    state `failedupgrade`) is an error. The same upgrade attempted three times or more is a loop.

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

from datetime import timedelta

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, at_minute, span_text, upgrade_kind

UPDATE = r"^Update extension:? \[|^Update extension\.$"
DISABLE = r"^Disable extension:? \[|^Disable extension\.$"
#: Failure signs inside an upgrade window.
FAILED_STEP = (
    r"op=(?:Disable|Update|UnInstall|Install), message=|; ContinueOnUpdate: |current handler state is: failedupgrade"
)
#: How far around the update command an upgrade's other steps are looked for.
WINDOW = timedelta(minutes=30)
#: Attempts of the same upgrade that make a loop.
LOOP = 3


RULE = Rule(
    id="extension-upgrade",
    category="upgrade",
    severity="info",
    title="Extension handler version changed",
    triggers="|".join((UPDATE, DISABLE, FAILED_STEP)),
)


def detect(context: Context) -> list[Hit]:
    agent = context.records.filter(
        pl.col("kind").is_in(["waagent", "command_execution"]) & pl.col("extension").is_not_null()
    )
    versioned = agent.filter(pl.col("extension_version").is_not_null())
    updates = versioned.filter(pl.col("message").str.contains(UPDATE)).sort("timestamp")
    disables = versioned.filter(pl.col("message").str.contains(DISABLE)).sort("timestamp")
    if updates.height == 0:
        return []
    # Each update command pairs with the last disable of the same extension before it; a version
    # change makes it an upgrade (the same version is a reinstall).
    attempts = (
        updates.select("extension", "timestamp", new="extension_version", update_record="record")
        .join_asof(
            disables.select(
                "extension", "timestamp", old="extension_version", disable_record="record", started="timestamp"
            ),
            on="timestamp",
            by="extension",
            strategy="backward",
            tolerance=WINDOW,
            check_sortedness=False,
        )
        .filter(pl.col("old").is_not_null() & (pl.col("old") != pl.col("new")))
        .with_row_index("attempt")
    )
    hits = _unpaired_updates(updates, attempts)
    if attempts.height == 0:
        return hits
    # A failure sign belongs to the latest attempt of its extension started before it, within the window.
    failed = agent.filter(
        pl.col("message").str.contains(FAILED_STEP)
        & (
            pl.col("level").cast(pl.String).is_in(["ERROR", "WARNING"])
            | pl.col("message").str.contains("failedupgrade")
        )
    ).sort("timestamp")
    failed = _assign_failures(failed, attempts)
    # The disable and update lines of every attempt, picked out of the agent lines once.
    steps = pl.concat([attempts["disable_record"], attempts["update_record"]]).implode()
    step_rows = agent.filter(pl.col("record").is_in(steps)).select(HIT_COLUMNS)
    for (extension, old, new), group in attempts.group_by(["extension", "old", "new"], maintain_order=True):
        ids = group["attempt"]
        mine = failed.filter(pl.col("attempt").is_in(ids.implode()))
        keep = pl.col("record").is_in(pl.concat([group["disable_record"], group["update_record"]]).implode())
        rows = pl.concat([step_rows.filter(keep), mine.select(HIT_COLUMNS)]).unique("record", maintain_order=True)
        kind, name, tries = upgrade_kind(old, new), extension.rsplit(".", 1)[-1], group.height
        if mine.height:
            summary = f"{name} {kind} upgrade {old} -> {new} failed at {_failed_step(mine)}" + (
                f"; attempted {tries} times" if tries > 1 else ""
            )
            severity = "error"
        elif tries >= LOOP:
            summary = f"{name} {kind} upgrade {old} -> {new} repeats: attempted {tries} times"
            severity = "warning"
        else:
            summary = f"{name} {kind} upgrade {old} -> {new}{at_minute(group['timestamp'][0])}"
            severity = None
        hits.append(Hit(summary, rows, severity=severity, extension=extension, version=new, count=tries))
    return hits


def _unpaired_updates(updates: pl.DataFrame, attempts: pl.DataFrame) -> list[Hit]:
    """Update commands with no version change in sight: the agent runs `update` only when it
    replaces a handler, so an upgrade happened even when the log shows one version (2.1/2.2
    agents sometimes prefix every step with the same version)."""
    paired = attempts["update_record"].implode() if attempts.height else pl.Series([], dtype=pl.UInt32).implode()
    unpaired = updates.filter(~pl.col("record").is_in(paired))
    hits = []
    for (extension,), group in unpaired.group_by(["extension"], maintain_order=True):
        version = group["extension_version"][-1]
        name = extension.rsplit(".", 1)[-1]
        summary = f"{name} ran the handler update sequence ({version} in the log; the old version is not shown) {span_text(group)}"
        hits.append(Hit(summary, group.select(HIT_COLUMNS), extension=extension, version=version, count=group.height))
    return hits


def _assign_failures(failed: pl.DataFrame, attempts: pl.DataFrame) -> pl.DataFrame:
    """Each failure sign with the attempt (disable .. update + WINDOW) of its extension it falls in."""
    spans = attempts.select("extension", "attempt", "started", until=pl.col("timestamp") + WINDOW).sort("started")
    joined = failed.join_asof(
        spans, left_on="timestamp", right_on="started", by="extension", strategy="backward", check_sortedness=False
    )
    return joined.filter(pl.col("attempt").is_not_null() & (pl.col("timestamp") <= pl.col("until")))


def _failed_step(failed: pl.DataFrame) -> str:
    text = "\n".join(failed["message"].to_list())
    for step, token in (
        ("disable", "op=Disable"),
        ("update", "op=Update"),
        ("uninstall", "op=UnInstall"),
        ("install", "op=Install"),
    ):
        if token in text:
            return f"the {step} step"
    return "an upgrade step (handler state failedupgrade)"
