"""The named fields a catalogue pattern may capture: one vocabulary, so rules read typed columns.

Every `(?P<name>...)` group in a catalogue pattern must be one of these names; the tag frame
(`catalogue.match.tag`) has one String column per field, null where an entry does not capture it.
"""

from __future__ import annotations

#: field name -> what it holds.
FIELDS: dict[str, str] = {
    "extension": "an extension or handler name (`Microsoft.Azure.Extensions.CustomScript`, `OmsAgentForLinux`)",
    "version": "a version the message states (handler, agent or package)",
    "from_version": "the version an upgrade or downgrade leaves",
    "to_version": "the version an upgrade or downgrade goes to",
    "operation": "an extension command or operation (`Install`, `Enable`, `Update`, `Disable`, `Uninstall`)",
    "exit_code": "a process's exit code",
    "error_code": "an agent or control-plane error code (`1009`, `-2147024809`, `VMExtensionProvisioningError`)",
    "seconds": "a duration or limit in seconds",
    "throttled_seconds": "CPU time a cgroup throttled a command for, in seconds (`CPUThrottledTime`)",
    "pid": "a process id",
    "holder": "the process holding a lock",
    "lock_file": "the lock file a package tool could not take",
    "endpoint": "a host, address or URL the agent talked to",
    "status": "an HTTP status code",
    "error": "the error text the message carries",
    "distro": "an operating system name and version",
    "path": "a file or directory path",
    "command": "a command line",
    "unit": "a systemd unit",
    "when": "a time the message states (a schedule or a deadline), as written",
    "state": "a handler or extension state (`enabled`, `notinstalled`, `failedupgrade`, `transitioning`)",
}
