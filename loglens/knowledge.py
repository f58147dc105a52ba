"""What loglens knows about Azure, in one place: categories, agent version banners, platform and
agent time limits, extension handler kinds and exit-code meanings.

Rules, derived frames and reports read these; none of them keeps its own copy. Sources are the
reference notes in ``shared/reference/`` (agent log grammar, extension formats, the primer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import polars as pl

import regex

# -- findings -------------------------------------------------------------------------------

SEVERITIES = ("error", "warning", "info")
#: Record levels that mark a problem: every rule and the "other errors" list may read such a record.
PROBLEM_LEVELS = ["ERROR", "WARNING", "CRITICAL"]


@dataclass(frozen=True)
class Category:
    """A kind of problem: its id and the marker symbol charts draw its findings with."""

    name: str
    symbol: str


#: Every finding category, in report order. A category is declared with its chart symbol, so a
#: new one cannot silently lose its marker.
CATEGORIES: tuple[Category, ...] = (
    Category("upgrade", "triangle-up"),
    Category("timeout", "hourglass"),
    Category("unsupported-os", "square-x"),
    Category("wireserver", "diamond"),
    Category("lock-contention", "star"),
    Category("command-failure", "x"),
    Category("disk-space", "pentagon"),
    Category("agent-health", "cross"),
)
CATEGORY_NAMES = tuple(c.name for c in CATEGORIES)

# -- agent versions -------------------------------------------------------------------------

#: The extension handler's start banners, one group each: `Agent WALinuxAgent-2.2.38 is running
#: as the goal state agent` (2.2.x) and `Azure Linux Agent (Goal State Agent version 2.15.0.1)` (2.3+).
#: Unnamed groups, so the pattern can be part of the engine's one trigger pass.
GOAL_STATE_AGENT = (
    r"^Agent WALinuxAgent-(\d+(?:\.\d+)+) is running as the (?:goal state|current) agent"
    r"|^Azure Linux Agent \(Goal State Agent version (\d+(?:\.\d+)+)"
)
#: The daemon's banner: the distro package's version (it never self-updates).
DAEMON_AGENT = r"^Azure Linux Agent Version: ?(\d+(?:\.\d+)+)"
#: `OS: ubuntu 22.04` (banners), `Distro info: redhat 8.8, ...` (2.2.44-2.2.52), `Distro: ubuntu-22.04; ...` (2.2.53+).
DISTRO = r"^OS: (\S+ [^\s,;]+)|^Distro info: ([^,]+),|^Distro: ([^;]+);"
#: Only banner lines can state versions or the distro: a cheap prefilter before the patterns.
BANNER = r"^(?:Azure Linux Agent|Agent WALinuxAgent-|OS: |Distro)"


def first_group(message: pl.Expr, pattern: str, groups: int) -> pl.Expr:
    """The first non-null capture group of ``pattern`` (groups 1..``groups``) in ``message``."""
    return pl.coalesce([message.str.extract(pattern, g) for g in range(1, groups + 1)])


def goal_state_agent_version(message: pl.Expr) -> pl.Expr:
    """The goal-state agent version a start banner states, else null."""
    return first_group(message, GOAL_STATE_AGENT, 2)


def daemon_version(message: pl.Expr) -> pl.Expr:
    """The daemon (package) version its banner states, else null."""
    return message.str.extract(DAEMON_AGENT, 1)


@lru_cache(maxsize=4096)
def version_key(version: str | None) -> tuple[int, ...]:
    """`2.2.53` -> (2, 2, 53); anything unparsable sorts first. (Cached: rules compare the same
    few versions many times.)"""
    if not version:
        return ()
    return tuple(int(p) for p in _DIGITS.findall(version))


_DIGITS = regex.compile(r"\d+")


# -- time limits ----------------------------------------------------------------------------

#: Public-docs provisioning limits: 20 minutes, 90 for CustomScript, Chef and DSC.
DEFAULT_LIMIT = timedelta(minutes=20)
LONG_LIMIT = timedelta(minutes=90)
LONG_LIMIT_EXTENSIONS = (
    "Microsoft.Azure.Extensions.CustomScript",
    "Microsoft.OSTCExtensions.CustomScriptForLinux",
    "Chef.Bootstrap.WindowsAzure.LinuxChefClient",
    "Microsoft.OSTCExtensions.DSCForLinux",
)
#: How the charts name the limits.
LIMITS_LABEL = "platform limit (20 min; 90 for CustomScript, Chef, DSC)"
#: Operations above this share of their limit are a warning. (The platform's verdict on a slow
#: extension and the agent's non-converged goal state are catalogue messages:
#: `arm.extension-provisioning-timed-out`, `ext.goal-state-not-converged`.)
WARN_SHARE = 0.75
#: The agent's own per-command limits in seconds (it kills the command at these).
COMMAND_LIMITS = {"enable": 300, "uninstall": 300, "install": 900, "update": 900, "disable": 900}

# -- extension handlers ---------------------------------------------------------------------

#: Multi-config handlers: the agent names each of their extensions `Handler.Name` in its prefix.
MULTI_CONFIG_HANDLERS = ("Microsoft.CPlat.Core.RunCommandHandlerLinux",)
#: Extensions whose shim starts enable in the background (the agent sees it end at once).
BACKGROUND_ENABLE = (
    "Microsoft.Azure.Extensions.CustomScript",
    "Microsoft.CPlat.Core.RunCommandLinux",
    "Microsoft.CPlat.Core.RunCommandHandlerLinux",
    "Microsoft.ManagedServices.ApplicationHealthLinux",
)


def handler_of(extension: pl.Expr) -> pl.Expr:
    """The handler of an extension name: `Handler.Name` of a multi-config handler becomes `Handler`."""
    handlers = "|".join(h.replace(".", r"\.") for h in MULTI_CONFIG_HANDLERS)
    return extension.str.replace(rf"^({handlers})\.[^.]+$", "$1")


def platform_limit(extension: pl.Expr) -> pl.Expr:
    """The provisioning time limit of an extension (a Duration expression)."""
    long = handler_of(extension).is_in(LONG_LIMIT_EXTENSIONS)
    return pl.when(long).then(pl.lit(LONG_LIMIT)).otherwise(pl.lit(DEFAULT_LIMIT))


# -- exit codes -----------------------------------------------------------------------------
#
# Recognising an exit code in text is the catalogue's job: `exitcode.*` entries (51, 52, 53, 100,
# 126, 127, 137, -1, OMS's 55), `pkg.ama-exit-56`, the Go handlers' `gohandler.exit-*` and the
# agent's `Non-zero exit code` family (`catalogue/entries/extension_handling.toml` and
# neighbours). These tables stay here as the *lookup* by (extension, code) that summaries need:
# the extension is often known only from the record (a 2.2 event names a relative command, not
# the handler), and the code's meaning depends on it. Keep the two in step when a code is added.

#: Shell and package-tool meanings, true for any command.
SHELL_EXIT_CODES = {
    1: "general failure",
    2: "misuse of a shell builtin or bad arguments",
    100: "apt/dpkg error",
    126: "command found but not executable (permissions or a noexec mount)",
    127: "command not found",
    -1: "killed by a signal (for RunCommand: its timeoutInSeconds)",
}
#: The marketplace convention most Python extensions follow (reference extension-logs.md 4.1).
CONVENTION_EXIT_CODES = {
    51: "unsupported operating system",
    52: "missing dependency",
    53: "configuration error",
}
_GO_HANDLER = {
    2: "bad command-line usage of the handler",
    3: "the handler failed an enable, update, disable or uninstall step (its handler.log says why)",
    52: "the handler's install step failed",
}
#: Each extension's own exit codes (reference extension-logs.md 4.2), by handler (`Publisher.Type`).
EXTENSION_EXIT_CODES: dict[str, dict[int, str]] = {
    "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent": {
        1: "generic failure",
        51: "unsupported operating system (or one with neither rpm nor dpkg)",
        52: "missing dependency: no Python, too little disk space, or a broken rpm database",
        53: "invalid or missing setting",
        56: "the package manager was still locked after 15 retries",
    },
    "Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux": {
        11: "bad parameter",
        51: "unsupported operating system",
        52: "missing dependency, a permission problem, or the package manager dpkg/rpm in lock state",
        53: "wrong workspace ID or key, or onboarding failed",
        55: "package manager locked after retries, curl missing, unsupported openssl/gpg, or the service unreachable",
    },
    "Microsoft.OSTCExtensions.DSCForLinux": {
        1: "generic failure",
        51: "unsupported distro, the dpkg lock held, or an invalid argument (DSC uses 51 for all three)",
    },
    "Microsoft.OSTCExtensions.VMAccessForLinux": {51: "no Python interpreter on the VM", 1: "enable failed"},
    "Microsoft.OSTCExtensions.CustomScriptForLinux": {51: "no Python interpreter on the VM"},
    "Microsoft.Azure.Security.AzureDiskEncryptionForLinux": {
        51: "unsupported OS or Python version",
        52: "missing dependency",
        53: "configuration error",
    },
    "Microsoft.Azure.Diagnostics.LinuxDiagnostic": {52: "no Python 2 on the VM", 119: "a local import failed"},
    "Microsoft.Azure.Extensions.CustomScript": _GO_HANDLER,
    "Microsoft.CPlat.Core.RunCommandLinux": _GO_HANDLER,
    "Microsoft.CPlat.Core.RunCommandHandlerLinux": _GO_HANDLER,
    "Microsoft.ManagedServices.ApplicationHealthLinux": _GO_HANDLER,
}
#: Each extension's own troubleshooting page; others get the general one.
EXTENSION_DOCS = {
    "Microsoft.Azure.Extensions.CustomScript": "https://learn.microsoft.com/azure/virtual-machines/extensions/custom-script-linux#troubleshooting",
    "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent": "https://learn.microsoft.com/azure/azure-monitor/agents/azure-monitor-agent-troubleshoot-linux-vm",
    "Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux": "https://learn.microsoft.com/azure/azure-monitor/agents/agent-linux-troubleshoot",
    "Microsoft.Azure.Diagnostics.LinuxDiagnostic": "https://learn.microsoft.com/azure/virtual-machines/extensions/diagnostics-linux",
    "Microsoft.CPlat.Core.RunCommandHandlerLinux": "https://learn.microsoft.com/azure/virtual-machines/linux/run-command-managed",
}
GENERAL_EXTENSION_DOCS = (
    "https://learn.microsoft.com/azure/virtual-machines/extensions/features-linux#troubleshoot-vm-extensions"
)


def handler_name(extension: str | None) -> str | None:
    """`handler_of` for one name: `Handler.Name` of a multi-config handler becomes `Handler`."""
    return next((h for h in MULTI_CONFIG_HANDLERS if (extension or "").startswith(h + ".")), extension)


def extension_docs(extension: str | None) -> str:
    """The troubleshooting page for an extension (its own when known)."""
    return EXTENSION_DOCS.get(handler_name(extension) or "", GENERAL_EXTENSION_DOCS)


#: Codes some extensions give a lock, for extensions whose own table is not known.
_LOCK_CODES = {55: "OmsAgent", 56: "Azure Monitor Agent"}


def exit_code_meaning(code: int, extension: str | None = None, *, handler_exit: bool = True) -> str:
    """What an exit code means, for this extension when its own codes are known.

    Args:
        extension: the extension (`Publisher.Type`, or a multi-config `Handler.Name`).
        handler_exit: the code is the extension handler's own exit (`Non-zero exit code: N`), not
            a script's or an inner command's (`command terminated with exit status=N`).
    """
    own = EXTENSION_EXIT_CODES.get(handler_name(extension) or "", {}) if handler_exit else {}
    if code in own:
        return own[code]
    if code in SHELL_EXIT_CODES:
        return SHELL_EXIT_CODES[code]
    if 128 < code < 160:
        return f"killed by signal {code - 128}" + (
            " (SIGKILL: out of memory or killed by a timeout)" if code == 137 else ""
        )
    if handler_exit and code in CONVENTION_EXIT_CODES:
        return f"{CONVENTION_EXIT_CODES[code]} (the extensions' common convention; this extension's own meaning is not known)"
    if handler_exit and code in _LOCK_CODES:
        return (
            f"package manager locked if this extension follows {_LOCK_CODES[code]}'s code; its own meaning is not known"
        )
    return "extension-specific failure"
