"""The agent killed an extension command that ran past its time limit.

What it detects:
    The agent's own command limits being hit. `Timeout(N): <cmd>` (and, from agent 2.9 with
    cgroups, `Timeout(N);CPUThrottledTime(Xsecs): <cmd>`) in an `Event:` error or an `[ExtensionError]`
    warning: the agent gives enable and uninstall 300 s, and install, update and disable 900 s,
    and then kills the command's process group. The 2.0 agent's `Process exceeded timeout of 300
    seconds` too. Also the 90-minute wait for dependent extensions: `[Dependent] Extension X did
    not reach a terminal state within the allowed timeout` and `[An|Dependent] extension X failed
    or timed out, will skip processing the rest of the extensions`. The wordings are catalogue
    entries (`ext.command-timeout`, `ext.dependency-timeout`, ...).

Why it matters:
    A killed command leaves the extension half-installed or half-configured, and the handler
    status turns to error code 1011. When extensions are sequenced, the agent skips every
    extension after the one that timed out.

Example:
    2019/03/14 11:07:11.603772 ERROR ExtHandler Event: name=Microsoft.Azure.Extensions.CustomScript, op=Enable, message=[ExtensionError] Timeout(300): bin/custom-script-shim enable

Known benign causes:
    None: the agent only kills commands that ran out of time. Downloads that time out (`Timeout
    downloading`) are network problems and are not counted here.

Remediation:
    Find what the command was waiting for in the extension's own log (`/var/log/azure/<extension>/`)
    and the `[stdout]`/`[stderr]` of the event. Usual causes are a package-manager lock, a slow or
    blocked download, or too few CPU/memory resources (see `CPUThrottledTime`). Fix the cause, then
    remove the extension and set it again.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/features-linux#troubleshoot-vm-extensions
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.knowledge import COMMAND_LIMITS
from loglens.rules._common import HIT_COLUMNS, span_text, version_of, stated_field

#: The agent killing a command at its limit: `Timeout(N): <cmd>` (2.1+, with `;CPUThrottledTime(Xsecs)`
#: from 2.9 with cgroups) and the 2.0 agent's `Process exceeded timeout of 300 seconds`.
KILLED = ("ext.command-timeout", "ext.legacy-command-timeout")
#: The 90-minute wait for an extension others depend on, and the skip that follows it.
DEPENDENCY = ("ext.dependency-timeout", "ext.dependency-failed-skip")
#: Download timeouts are network problems, not a command's time limit.
DOWNLOAD_TIMEOUT = "ext.download-timeout"
#: Only the agent's own lines and its captured command output say this.
_KINDS = ("waagent", "command_execution")

RULE = Rule(
    id="extension-command-timeout",
    category="timeout",
    severity="error",
    title="Extension command killed at the agent's time limit",
    messages=(*KILLED, *DEPENDENCY, DOWNLOAD_TIMEOUT),
)


def detect(context: Context) -> list[Hit]:
    downloads = context.tagged((DOWNLOAD_TIMEOUT,))["record"].implode()
    killed = context.tagged(KILLED, kinds=_KINDS).filter(~pl.col("record").is_in(downloads))
    hits = []
    for (extension,), rows in killed.group_by(["extension"], maintain_order=True):
        first = rows.row(0, named=True)
        limit, throttled = first["seconds"], first["throttled_seconds"]
        operation = _operation(context, rows.head(1))
        expected = COMMAND_LIMITS.get((operation or "").lower())
        version = version_of(rows)
        what = f"{operation or 'A command'} of {extension or 'an extension'}{' ' + version if version else ''}"
        limit_text = f"{limit} s" + (f" (the agent's {operation.lower()} limit)" if expected == int(limit) else "")
        cpu = f"; CPU throttled {throttled} s" if throttled and float(throttled) > 0 else ""
        times = f", {rows.height} times" if rows.height > 1 else ""
        summary = f"{what} was killed by the agent after {limit_text}{cpu} {span_text(rows)}{times}"
        hits.append(Hit(summary, rows.select(HIT_COLUMNS), extension=extension, version=version))
    waited = context.tagged(DEPENDENCY, kinds=_KINDS)
    for (extension,), rows in waited.group_by(["extension"], maintain_order=True):
        # The dependency's name as the agent states it (`Dependent extension X failed or timed out`).
        named = rows[stated_field(rows, "extension")][0]
        who = named or extension or "a dependent extension"
        summary = f"The agent gave up waiting for {who} (90-minute dependency limit) and skipped the extensions sequenced after it {span_text(rows)}"
        hits.append(Hit(summary, rows.select(HIT_COLUMNS), extension=extension or named))
    return hits



#: The handler commands; an event's `op=` can also be `Download` (2.2 agents report an old
#: version's failed disable that way), then the command line names the step.
_COMMANDS = ("install", "enable", "update", "disable", "uninstall")


def _operation(context: Context, rows: pl.DataFrame) -> str | None:
    """`Install`, `Enable`...: the parser's (`op=`), else the one the command line names (catalogue field)."""
    stated = next((o for o in rows["operation"].to_list() if o and o.lower() in _COMMANDS), None)
    stated = stated or context.field_of(rows["record"], stated_field(context.messages, "operation"))
    return stated.capitalize() if stated else None
