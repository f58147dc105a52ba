"""What loglens knows about Azure, in one place: categories, agent version banners, platform and
agent time limits, extension handler kinds and exit-code meanings.

Rules, derived frames and reports read these; none of them keeps its own copy. Sources are the
reference notes in ``shared/reference/`` (agent log grammar, extension formats, the primer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl
import regex

# -- findings -------------------------------------------------------------------------------

SEVERITIES = ("error", "warning", "info")


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


def version_key(version: str | None) -> tuple[int, ...]:
    """`2.2.53` -> (2, 2, 53); anything unparsable sorts first."""
    if not version:
        return ()
    return tuple(int(p) for p in regex.findall(r"\d+", version))


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
#: Operations above this share of their limit are a warning.
WARN_SHARE = 0.75
#: The platform's verdict on a slow extension, and the agent's sign of a non-converged goal state.
PLATFORM_TIMEOUT = r"VMExtensionProvisioningTimeout|[Pp]rovisioning of VM extension .* has timed out"
NOT_CONVERGED = r"not all the extensions in the previous goal state have completed: .*'transitioning'"
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

#: Shell, package-tool and extension conventions for an extension command's exit code.
EXIT_CODE_MEANINGS = {
    1: "general failure",
    2: "misuse of a shell builtin or bad arguments",
    51: "unsupported operating system (extension convention)",
    52: "missing dependency (extension convention)",
    53: "configuration error (extension convention)",
    55: "package manager locked (the code OmsAgent uses)",
    56: "package manager locked (the code Azure Monitor Agent uses)",
    100: "apt/dpkg error",
    126: "command found but not executable (permissions or a noexec mount)",
    127: "command not found",
    -1: "killed by a signal (for RunCommand: its timeoutInSeconds)",
}


def exit_code_meaning(code: int) -> str:
    """What an extension command's exit code usually means."""
    if code in EXIT_CODE_MEANINGS:
        return EXIT_CODE_MEANINGS[code]
    if 128 < code < 160:
        return f"killed by signal {code - 128}" + (
            " (SIGKILL: out of memory or killed by a timeout)" if code == 137 else ""
        )
    return "extension-specific failure"
