"""An extension command exited non-zero (with what the exit code usually means), or failed.

What it detects:
    `Non-zero exit code: N, <command>` in the agent's error events (all agent generations; also in
    portal, CLI and ARM error text), the 2.0 agent's `Process N returned non-zero exit code(126)`,
    HandlerUtil's `CalledProcessError.  Error Code is 1` (OMS, LAD), and `command terminated with
    exit status=N` in CustomScript and RunCommand handler logs, status files and the instance view,
    with the tail of the command's `[stderr]`; also the portal's localized form of the agent's
    text, the HandlerUtil extensions' `Enable,failed,53,...` and `Enable failed with exit code 31`,
    and RunCommand v2's `executionState` Failed/TimedOut. Failures stated without an exit code are
    reported too: Azure's `VM has reported a failure when processing extension 'X'. Error
    message: ...` and `Handler 'X' has reported failure ... with terminal error code '1007'`, a
    handler's `Enable failed: <reason>` or `Install,error,0,<reason>`, CustomScript v1's `Command
    returned an error.`, an old extension that cannot load the agent's waagent 2.0 library. The
    wordings are catalogue entries (`ext.nonzero-exit-code` and neighbours). Exit code 51
    (unsupported OS) has its own finding
    and is left out here, unless its output shows a failed download (an HTTP 404, a missing
    package) rather than an OS check. `CalledProcessError` lines outside an extension's log are
    the 2.0 agent's own commands (the agent-command-failed finding).

Why it matters:
    The exit code and stderr usually name the problem. An extension handler's own code is read
    with that extension's table when loglens knows it (`loglens/knowledge.py`: AMA's 56 and OMS's
    55 are a locked package manager, OMS's 52 includes a lock, the Go handlers' 3 is a failed
    step); otherwise the shell's meanings (127 command not found, 126 not executable, 100 apt,
    128+N a signal) or the common convention (52 missing dependency, 53 configuration error),
    said as such. The docs link is the extension's own troubleshooting page when known.

Example:
    Enable failed: failed to execute command: command terminated with exit status=127
    [stderr]
    /bin/sh: 1: ech: not found

Known benign causes:
    None in itself. A script may return non-zero on purpose to signal a handled condition, but
    the extension still reports the deployment as failed.

Remediation:
    Read the stderr tail and the extension's own log. Run the same command on the VM as root from
    the folder the handler downloaded it to: CustomScript `/var/lib/waagent/custom-script/download/<seq>/`,
    RunCommand `/var/lib/waagent/run-command/download/<seq>/` (v2:
    `/var/lib/waagent/run-command-handler/download/<name>/<seq>/`); `stdout` and `stderr` are
    there too. Fix the script or settings, then remove the extension and set it again (a re-run of
    the same settings is skipped by design).

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/custom-script-linux#troubleshooting
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.knowledge import exit_code_meaning, extension_docs
from loglens.rules._common import HIT_COLUMNS, stderr_tail, version_of, stated_field

#: The agent's own report of a handler command's exit (`Non-zero exit code: N` in every generation,
#: the portal's localized form, the 2.0 agent's `returned non-zero exit code(N)`) and the HandlerUtil
#: extensions' report of the code they exit with (`Enable,failed,53,...`, `Enable failed with exit
#: code 31`): the code is the extension handler's, read with that extension's table.
HANDLER_EXIT = (
    "ext.nonzero-exit-code",
    "ext.nonzero-exit-code-localized",
    "ext.legacy-nonzero-exit-code",
    "hutil.operation-failed-exit-code",
    "hutil.status-failed",
)
#: Messages that carry a script's or an inner command's exit code: HandlerUtil's
#: `CalledProcessError.  Error Code is N`, the Go handlers' `command terminated with exit status=N`,
#: RunCommand v2's JSON instance view.
INNER_EXIT = (
    "hutil.calledprocesserror",
    "gohandler.command-exit-status",
    "runcommand.execution-failed",
    "runcommand.execution-timed-out",
)
#: A failure reported with no exit code: Azure's `VM has reported a failure when processing
#: extension` (VMExtensionProvisioningError, VMExtensionHandlerNonTransientError; the bare codes also
#: come with other causes, an agent too old for a feature among them), a handler's status
#: `<Op> failed: <reason>` or `Install,error,0,<reason>`, CustomScript v1's `Command returned an error.`,
#: an old extension that cannot load the agent's waagent 2.0 library.
REPORTED = (
    "arm.extension-provisioning-error",
    "arm.handler-non-transient-error",
    "hutil.status-failed",
    "gohandler.operation-failed",
    "cse1.command-returned-error",
    "ext.waagent20-unavailable",
)
#: An exit 51 is the unsupported-os finding's ...
EXIT_51 = "exitcode.51-unsupported-os"
#: ... unless the output shows a failed download (an HTTP 404, a package apt cannot find).
DOWNLOAD_FAILED = ("ext.download-404-not-found", "apt.unable-to-locate-package")
#: `CalledProcessError` outside an extension's log is the 2.0 agent's own shell helper (`pidof
#: dhclient`...): the agent-command-failed finding's, not an extension command.
_AGENT_SHELL = "hutil.calledprocesserror"

RULE = Rule(
    id="extension-command-failed",
    category="command-failure",
    severity="error",
    title="Extension command failed",
    severity_note="info when its cause is found too (one incident, one finding)",
    messages=(*HANDLER_EXIT, *INNER_EXIT, *REPORTED, EXIT_51, *DOWNLOAD_FAILED),
    symptom_of=("package-manager-lock", "unsupported-os", "disk-full"),
)


def detect(context: Context) -> list[Hit]:
    messages = context.messages
    carried = messages.group_by("record").agg(ids=pl.col("message_id"))
    coded = messages.filter(
        pl.col("message_id").is_in([*HANDLER_EXIT, *INNER_EXIT])
        # A status `Install,error,0,...` states no exit code.
        & ~((pl.col("message_id") == "hutil.status-failed") & (pl.col("exit_code") == "0"))
        & ((pl.col("message_id") != _AGENT_SHELL) | pl.col("extension").is_not_null())
    ).unique("record", keep="first", maintain_order=True)
    failed = (
        coded.join(carried, on="record", how="left")
        .filter(
            # An exit 51 is unsupported-os's, unless its output shows a failed download instead.
            ~pl.col("ids").list.contains(EXIT_51)
            | pl.col("ids").list.set_intersection(list(DOWNLOAD_FAILED)).list.len().gt(0)
        )
        .with_columns(code=pl.col("exit_code").cast(pl.Int64, strict=False))
    )
    hits = []
    for (extension, code), rows in failed.group_by(["extension", "code"], maintain_order=True):
        text = next((m for m in rows["message"].to_list() if m and "[stderr]" in m), rows["message"][0])
        tail = stderr_tail(text)
        op = _operation(context, rows) or "A command"
        version = version_of(rows)
        # With no handler in the record, the name the message gives (an ARM resource name) is shown.
        shown = extension or context.field_of(rows["record"], stated_field(context.messages, "extension"))
        who = f"{shown}{' ' + version if version else ''}" if shown else "an extension"
        meaning = exit_code_meaning(code, extension, handler_exit=rows["message_id"][0] in HANDLER_EXIT)
        if code == 51:
            meaning = "by convention an unsupported OS, but the output shows a failed download (HTTP 404 or a missing package), not an OS check"
        summary = f"{op} of {who} exited {code}: {meaning}" + (f"; stderr: {tail[:240]}" if tail else "")
        hits.append(
            Hit(summary, rows.select(HIT_COLUMNS), extension=extension, version=version, docs=extension_docs(extension))
        )
    return hits + _reported(context, carried, coded)


def _reported(context: Context, carried: pl.DataFrame, coded: pl.DataFrame) -> list[Hit]:
    """Failures stated without an exit code (Azure's verdict, a handler's status), one finding per
    extension they name; records that also carry an exit code are reported above."""
    messages = context.messages
    named = pl.col(stated_field(messages, "extension"))
    said = (
        messages.filter(pl.col("message_id").is_in(REPORTED) & ~pl.col("record").is_in(coded["record"].implode()))
        .join(carried, on="record", how="left")
        .filter(~pl.col("ids").list.contains(EXIT_51))
        .with_columns(who=pl.coalesce(pl.col("extension"), named), reason=pl.col("error").str.strip_chars(" \\\"'"))
        # A record's most telling message first: one that states a reason, then one that names the extension.
        .sort("record", pl.col("reason").is_null(), pl.col("who").is_null())
        .unique("record", keep="first", maintain_order=True)
    )
    hits = []
    for (who,), rows in said.group_by(["who"], maintain_order=True):
        op = _operation(context, rows)
        version = version_of(rows)
        extension = rows["extension"].drop_nulls()
        extension = extension[0] if extension.len() else None
        name = f"{who}{' ' + version if version else ''}" if who else "an extension"
        reason = next((r for r in rows["reason"].to_list() if r), None) or rows["message"][0].splitlines()[0]
        azure = "Azure reports: " if rows["message_id"][0].startswith("arm.") else ""
        summary = f"{azure}{op + ' of ' if op else ''}{name} failed: {reason[:240]}"
        hits.append(
            Hit(summary, rows.select(HIT_COLUMNS), extension=extension, version=version, docs=extension_docs(extension))
        )
    return hits



#: The handler commands; an event's `op=` can also be `Download` (2.2 agents report an old
#: version's failed disable that way), then the command line names the step.
_COMMANDS = ("install", "enable", "update", "disable", "uninstall")


def _operation(context: Context, rows: pl.DataFrame) -> str | None:
    """`Install`, `Enable`...: the parser's (`op=`, a status's operation), else the one a message states."""
    stated = next((o for o in rows["operation"].to_list() if o and o.lower() in _COMMANDS), None)
    stated = stated or context.field_of(rows["record"], stated_field(context.messages, "operation"))
    return stated.capitalize() if stated else None
