"""An extension operation ran close to or past the platform's provisioning time limit.

What it detects:
    How long each extension operation took, measured from the agent's lifecycle lines
    (`Enable extension: [...]`, `Install extension [...]`, ... up to the `Command:` line or the
    error `Event:`). For CustomScript, RunCommand and ApplicationHealth, the agent starts enable
    in the background and reports it at once, so loglens looks further: to the end of the
    handler log (`event=end`, `failed to handle`) or a final status file, and counts a still
    `transitioning` operation up to the end of the collected logs. The time is compared with the
    platform limits in the public docs: 20 minutes per extension, 90 for CustomScript, Chef and
    DSC. Also the platform's own verdict in the instance view, ARM errors and portal text
    (`VMExtensionProvisioningTimeout`, `Provisioning of VM extension X has timed out`) and the
    agent noting a new goal state while extensions were still `transitioning` (catalogue entries
    `arm.extension-provisioning-*` and `ext.goal-state-not-converged`).

Why it matters:
    Past the limit, the deployment or the portal shows the extension as timed out, even if the
    script finishes later. The usual causes are too few resources on the VM, other start-up work
    competing with the extension (package updates, cloud-init), or a script that waits on
    something that never comes.

Example:
    2025-04-03T11:40:02.004518Z INFO ExtHandler [Microsoft.Azure.Extensions.CustomScript-2.1.10] Enable extension: [bin/custom-script-shim enable]
    2025-04-03T13:12:40.775390Z WARNING ExtHandler ExtHandler A new goal state was received, but not all the extensions in the previous goal state have completed: [('Microsoft.Azure.Extensions.CustomScript', 'transitioning')]

Known benign causes:
    An operation that deliberately runs long (a big software install in CustomScript) and ends
    before 90 minutes is reported as a warning once it passes 75% of the limit. For an operation
    still running at the end of the logs, loglens only knows a lower bound of its duration.

Remediation:
    Look at what the operation waited on in the extension's log and output (CustomScript
    `/var/lib/waagent/custom-script/download/<seq>/stdout`, RunCommand
    `/var/lib/waagent/run-command/download/<seq>/stdout`). Make scripts fail fast instead of
    waiting indefinitely, and give the VM enough CPU and memory. Move long work out of the
    provisioning path, for example into a systemd unit the script starts. Then remove the
    extension and set it again.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/features-linux#common-reasons-for-extension-failures
"""

from __future__ import annotations

import polars as pl
import polars.selectors as cs

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.knowledge import WARN_SHARE
from loglens.rules._common import HIT_COLUMNS, duration_text, stated_field
from parsers.schema import Level

#: Azure's verdict on a slow extension: the `VMExtensionProvisioningTimeout` code and its message
#: `Provisioning of VM extension <name> has timed out`, a template deployment that timed out
#: waiting for extensions, and the VM's own provisioning not reported in time (`OSProvisioningTimedOut`).
PLATFORM_TIMEOUT = (
    "arm.extension-provisioning-timed-out",
    "arm.extension-provisioning-timeout-code",
    "arm.template-deployment-timed-out",
    "arm.os-provisioning-timed-out",
    "arm.os-provisioning-timed-out-code",
)
#: The verdict on the VM as a whole, not one extension.
_OS_PROVISIONING = ("arm.os-provisioning-timed-out", "arm.os-provisioning-timed-out-code")
#: The agent's sign of a goal state that did not converge (an extension still `transitioning`).
NOT_CONVERGED = "ext.goal-state-not-converged"

RULE = Rule(
    id="extension-provisioning-timeout",
    category="timeout",
    severity="error",
    title="Extension provisioning time limit reached",
    severity_note="warning at 75% of the limit",
    # The durations are measured from every operation line (`context.operations`); a slow one's
    # evidence is its own start and end lines (`context.operation_lines`).
    messages=(*PLATFORM_TIMEOUT, NOT_CONVERGED),
    reads=("operation_lines", "operations", "instance_view"),
)


def detect(context: Context) -> list[Hit]:
    lines = context.operation_lines
    converging = context.tagged((NOT_CONVERGED,)).filter(pl.col("timestamp").is_not_null()).select(HIT_COLUMNS)
    # Only the slow ones are read back (a 2 GB log has 600,000 operations, held compressed).
    long = context.operations_where(pl.col("took") >= pl.col("limit") * WARN_SHARE)
    hits = []
    if long.height:
        # One finding per extension and operation, described by its longest run.
        groups = [group for _, group in long.group_by(["extension", "operation"], maintain_order=True)]
        longest = [group.sort("took", descending=True).row(0, named=True) for group in groups]
        # The lines each longest run cites, read in one pass over the (packed) operation lines.
        if groups:
            ids = [_cited(row) for row in longest]
            cited = lines.read(list(HIT_COLUMNS), where=pl.col("record").is_in([i for own in ids for i in own]))
            hits += [
                _hit(row, group, cited.filter(pl.col("record").is_in(own)), converging)
                for row, group, own in zip(longest, groups, ids, strict=True)
            ]
    platform = context.tagged(PLATFORM_TIMEOUT, kinds=_PLATFORM_KINDS)
    if platform.height:
        hits += _platform_hits(context, platform)
    return hits


#: Where Azure's own verdict on a slow extension can appear.
_PLATFORM_KINDS = ("instance_view", "control_plane", "status", "extension_log", "waagent")


def _platform_hits(context: Context, platform: pl.DataFrame) -> list[Hit]:
    """Azure's verdict, one finding per extension it names, with every source that says so."""
    # The ARM resource name and the verdict's sentence, from any message of the record (a record
    # tagged by the code alone may also carry the sentence).
    stated = (
        context.messages.filter(pl.col("message_id").is_in(PLATFORM_TIMEOUT) & pl.col("error").is_not_null())
        .select("record", named=pl.col(stated_field(context.messages, "extension")), verdict=pl.col("error"))
        .unique("record", keep="first")
    )
    named = platform.join(stated, on="record", how="left")
    hits = []
    for (name,), rows in named.group_by(["named"], maintain_order=True):
        row = rows.sort(pl.col("verdict").is_not_null(), descending=True).row(0, named=True)
        extension = next((e for e in rows["extension"].to_list() if e), None) or _extension_named(context, name)
        who = f"{name} ({extension})" if name and extension else extension or name or "an extension"
        if not name and not extension and rows["message_id"].is_in(_OS_PROVISIONING).all():
            who = "the VM (OS provisioning, before any extension)"
        text = (row["verdict"] or row["message"][:160]).strip()
        sources = rows["source_path"].n_unique()
        also = f" ({sources} sources say so)" if sources > 1 else ""
        summary = f"Azure reports that provisioning of {who} timed out{also}: {text[:160]}"
        hits.append(Hit(summary, rows.select(HIT_COLUMNS), extension=extension))
    return hits


def _cited(row: dict) -> list[int]:
    """The records of the agent lines an operation's finding cites: its start, and the agent line
    that ended it, if one did (a background enable is ended by its handler's log or status, cited
    apart; the goal state after its start is not its end)."""
    closer = next((row[f"{k}_record"] for k in ("end", "goal") if row[f"{k}_time"] == row["finished"]), None)
    return [row["record"], closer] if not row["ongoing"] and closer is not None else [row["record"]]


def _hit(row: dict, group: pl.DataFrame, lines: pl.DataFrame, converging: pl.DataFrame) -> Hit:
    """The finding for one extension operation; ``lines``: the operation lines it cites (`_cited`),
    ``converging``: the NOT_CONVERGED records."""
    waiting = converging.filter(
        (pl.col("source_path") == row["source_path"])
        & (pl.col("timestamp") > row["started"])
        & pl.col("message").str.contains(row["extension"], literal=True)
    )
    evidence = (
        pl.concat([_as_strings(lines.select(HIT_COLUMNS)), waiting])
        .unique("record", keep="first")
        .sort("record")
        .select(HIT_COLUMNS)
    )
    if row["handler_source"] is not None and not row["ongoing"] and row["handler_time"] == row["finished"]:
        evidence = pl.concat([evidence, _handler_row(row)], how="vertical_relaxed")
    took, limit_minutes = row["took"].total_seconds(), int(row["limit"].total_seconds() // 60)
    version = f" {row['extension_version']}" if row["extension_version"] else ""
    what = f"{row['operation']} of {row['extension']}{version}"
    how_long = (
        f"has run at least {duration_text(took)} (still not finished at the end of the logs)"
        if row["ongoing"]
        else f"took {duration_text(took)}"
    )
    over = int((group["took"] >= group["limit"]).sum())
    times = f"; {group.height} runs took 75% of the limit or more, {over} past it" if group.height > 1 else ""
    severity = "error" if over else "warning"
    summary = f"{what} {how_long}; the platform allows {limit_minutes} min for this extension{times}"
    return Hit(
        summary,
        evidence,
        severity=severity,
        extension=row["extension"],
        version=row["extension_version"],
        count=group.height,
    )


def _as_strings(lines: pl.DataFrame) -> pl.DataFrame:
    """Operation lines with their categorical columns as the strings evidence holds."""
    return lines.with_columns(cs.categorical().cast(pl.String))


def _handler_row(row: dict) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record": [None],
            "source_path": [row["handler_source"]],
            "line_first": [row["handler_line"]],
            "timestamp": [row["handler_time"]],
            "message": [row["handler_message"]],
            "extension": [row["extension"]],
            "extension_version": [row["extension_version"]],
            "level": [None],
        },
        schema_overrides={
            "record": pl.UInt32,
            "line_first": pl.UInt32,
            "timestamp": pl.Datetime("us", "UTC"),
            "level": Level,
        },
    )


def _extension_named(context: Context, name: str | None) -> str | None:
    """The extension type of the instance-view entry with this ARM resource name."""
    if not name:
        return None
    view = context.frames["instance_view"].filter((pl.col("name") == name) & pl.col("extension").is_not_null())
    return view["extension"][0] if view.height else None
