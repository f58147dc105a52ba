"""An extension command exited non-zero (with what the exit code usually means).

What it detects:
    `Non-zero exit code: N, <command>` in the agent's error events (all agent generations; also in
    portal, CLI and ARM error text), the 2.0 agent's `Process N returned non-zero exit code(126)`,
    HandlerUtil's `CalledProcessError.  Error Code is 1` (OMS, LAD), and `command terminated with
    exit status=N` in CustomScript and RunCommand handler logs, status files and the instance view,
    with the tail of the command's `[stderr]`. Exit code 51 (unsupported OS) has its own finding
    and is left out here, unless its output shows a failed download (an HTTP 404, a missing
    package) rather than an OS check.

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
    Read the stderr tail and the extension's own log. For CustomScript, run the same command on
    the VM as root from `/var/lib/waagent/custom-script/download/<seq>/`. Fix the script or
    settings, then remove the extension and set it again (a re-run of the same settings is
    skipped by design).

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/custom-script-linux#troubleshooting
"""

from __future__ import annotations

import polars as pl
import regex

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.knowledge import DOWNLOAD_TEXT, exit_code_meaning, extension_docs
from loglens.rules._common import HIT_COLUMNS, stderr_tail, version_of

#: Agent and Go-handler wording of a non-zero exit, and RunCommand v2's JSON instance view.
EXIT = (
    r"Non-zero exit code: (-?\d+),|command terminated with exit status=(-?\d+)"
    r'|"executionState":"(?:Failed|TimedOut)".*"exitCode":(-?\d+)'
    # 2.0 agents: `Process 32178 returned non-zero exit code(126)`; HandlerUtil (OMS, LAD):
    # `CalledProcessError.  Error Code is 1`.
    r"|returned non-zero exit code\((-?\d+)\)|CalledProcessError\.\s+Error Code is (-?\d+)"
)


#: Every EXIT match contains one of these (a cheap first pass).
EXIT_WORDS = ("exit code", "exit status=", "exitCode", "Error Code is")

RULE = Rule(
    id="extension-command-failed",
    category="command-failure",
    severity="error",
    title="Extension command failed",
    triggers=EXIT,
)


def detect(context: Context) -> list[Hit]:
    # An exit 51 is unsupported-os's, unless its output shows a failed download instead.
    failed = context.search(EXIT, words=EXIT_WORDS)
    failed = failed.filter(
        ~pl.col("message").str.contains(r"Non-zero exit code: 51,") | pl.col("message").str.contains(DOWNLOAD_TEXT)
    ).with_columns(
        code=pl.coalesce(*(pl.col("message").str.extract(EXIT, group) for group in range(1, 6))).cast(
            pl.Int64, strict=False
        )
    )
    hits = []
    for (extension, code), rows in failed.group_by(["extension", "code"], maintain_order=True):
        text = next((m for m in rows["message"].to_list() if m and "[stderr]" in m), rows["message"][0])
        tail = stderr_tail(text)
        operation = regex.search(r"op=(\w+)|\b(Install|Enable|Update|Disable|Uninstall)\b", text)
        op = (operation.group(1) or operation.group(2)) if operation else "A command"
        version = version_of(rows)
        who = f"{extension}{' ' + version if version else ''}" if extension else "an extension"
        # The agent's `Non-zero exit code` and the 2.0 agent's report are the handler's own exit;
        # the other wordings carry a script's or an inner command's code.
        handler_exit = bool(regex.search(r"Non-zero exit code: |returned non-zero exit code\(", text))
        meaning = exit_code_meaning(code, extension, handler_exit=handler_exit)
        if code == 51:
            meaning = "by convention an unsupported OS, but the output shows a failed download (HTTP 404 or a missing package), not an OS check"
        summary = f"{op} of {who} exited {code}: {meaning}" + (f"; stderr: {tail[:240]}" if tail else "")
        hits.append(
            Hit(summary, rows.select(HIT_COLUMNS), extension=extension, version=version, docs=extension_docs(extension))
        )
    return hits
