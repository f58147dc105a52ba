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

from loglens.engine import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, upgrade_kind

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
    updates = agent.filter(pl.col("message").str.contains(UPDATE) & pl.col("extension_version").is_not_null())
    disables = agent.filter(pl.col("message").str.contains(DISABLE) & pl.col("extension_version").is_not_null())
    attempts = []
    for update in updates.iter_rows(named=True):
        before = disables.filter(
            (pl.col("extension") == update["extension"])
            & (pl.col("extension_version") != update["extension_version"])
            & pl.col("timestamp").is_between(update["timestamp"] - WINDOW, update["timestamp"])
        ).tail(1)
        if before.height == 0:
            continue  # an update command without a version change (reinstall) is not an upgrade
        old, new = before["extension_version"][0], update["extension_version"]
        window = agent.filter(
            (pl.col("extension") == update["extension"])
            & pl.col("timestamp").is_between(before["timestamp"][0], update["timestamp"] + WINDOW)
        )
        failed = window.filter(
            pl.col("message").str.contains(FAILED_STEP)
            & (
                pl.col("level").cast(pl.String).is_in(["ERROR", "WARNING"])
                | pl.col("message").str.contains("failedupgrade")
            )
        )
        attempts.append((update["extension"], old, new, before, update, failed))
    # The same from -> to pair seen again is the same upgrade retried (a loop when it keeps coming).
    by_upgrade: dict[tuple[str, str, str], list[tuple]] = {}
    for attempt in attempts:
        by_upgrade.setdefault(attempt[:3], []).append(attempt)
    hits = []
    for (extension, old, new), same in by_upgrade.items():
        rows = pl.concat(
            [
                pl.concat([before.select(HIT_COLUMNS), _row(agent, update), failed.select(HIT_COLUMNS)])
                for *_, before, update, failed in same
            ]
        ).unique("record", maintain_order=True)
        kind, name, tries = upgrade_kind(old, new), extension.rsplit(".", 1)[-1], len(same)
        failures = [failed for *_, failed in same if failed.height]
        if failures:
            step = _failed_step(pl.concat(failures))
            summary = f"{name} {kind} upgrade {old} -> {new} failed at {step}" + (
                f"; attempted {tries} times" if tries > 1 else ""
            )
            severity = "error"
        elif tries >= LOOP:
            summary = f"{name} {kind} upgrade {old} -> {new} repeats: attempted {tries} times"
            severity = "warning"
        else:
            summary = f"{name} {kind} upgrade {old} -> {new} at {same[0][4]['timestamp']:%Y-%m-%d %H:%M} UTC"
            severity = None
        hits.append(Hit(summary, rows, severity=severity, extension=extension, version=new, count=tries))
    return hits


def _row(agent: pl.DataFrame, row: dict) -> pl.DataFrame:
    return agent.filter(pl.col("record") == row["record"]).select(HIT_COLUMNS)


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
