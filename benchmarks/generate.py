"""Generate large, realistic waagent.log files for benchmarks.

The file mixes agent generations the way real VMs do (a legacy-format daemon next to an
ISO-format extension handler, extension-written lines, multi-line command output, tracebacks,
firewall dumps) and injects known counts of each incident kind. The counts are written next to
the log as ``<name>.manifest.json`` so benchmarks can check that every incident is found.

Usage:
    python -m benchmarks.generate --size-mb 500 --out benchmarks/data/waagent-500mb.log
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

CSE = "Microsoft.Azure.Extensions.CustomScript"
AMA = "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent"
VMACCESS = "Microsoft.OSTCExtensions.VMAccessForLinux"
ENV_JSON = (
    '{{"AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE": "NOT_RUN", "AZURE_GUEST_AGENT_EXTENSION_PATH": '
    '"/var/lib/waagent/{ext}-{ver}", "AZURE_GUEST_AGENT_EXTENSION_VERSION": "{ver}", '
    '"AZURE_GUEST_AGENT_WIRE_PROTOCOL_ADDRESS": "168.63.129.16", "ConfigSequenceNumber": "{seq}", '
    '"AZURE_GUEST_AGENT_EXTENSION_SUPPORTED_FEATURES": "[{{\\"Key\\": \\"ExtensionTelemetryPipeline\\", '
    '\\"Value\\": \\"1.0\\"}}]"}}'
)
FIREWALL_DUMP = """Chain OUTPUT (policy ACCEPT 104 packets, 43628 bytes)
    pkts      bytes target     prot opt in     out     source               destination
       0        0 ACCEPT     tcp  --  *      *       0.0.0.0/0            168.63.129.16        tcp dpt:53
      41     7520 ACCEPT     tcp  --  *      *       0.0.0.0/0            168.63.129.16        owner UID match 0
       0        0 DROP       tcp  --  *      *       0.0.0.0/0            168.63.129.16        ctstate INVALID,NEW"""
TRACEBACK = """Traceback (most recent call last):
  File "bin/WALinuxAgent-2.15.0.1-py3.12.egg/azurelinuxagent/common/protocol/wire.py", line 563, in call_wireserver
azurelinuxagent.common.exception.HttpError: [HttpError] [HTTP Failed] GET http://168.63.129.16/machine/ -- IOError timed out -- 6 attempts made"""

INCIDENT_KINDS = ("timeout", "unsupported-os", "wireserver", "lock-contention", "agent-upgrade", "extension-upgrade")
#: How each kind shows in the findings: (rule id, `occurrences` sums their counts, `episodes`
#: counts their episodes: a finding is one, a recurring incident as many as it lists).
INCIDENT_CHECKS = {
    "timeout": ("extension-command-timeout", "occurrences"),
    "unsupported-os": ("unsupported-os", "occurrences"),
    "wireserver": ("wireserver-unreachable", "episodes"),
    "lock-contention": ("package-manager-lock", "occurrences"),
    "agent-upgrade": ("agent-update", "occurrences"),
    "extension-upgrade": ("extension-upgrade", "occurrences"),
}
#: The noisy profile's own kinds, counted by the same rules as two of the kinds above (so a check
#: compares each rule's total with what was injected for it).
NOISY_CHECKS = {
    "wireserver-blip": ("wireserver-unreachable", "episodes"),
    "lock-wait": ("package-manager-lock", "occurrences"),
}


class LogWriter:
    """Accumulates lines with a moving clock; legacy lines are written in a local time zone."""

    def __init__(self, start: datetime, local_offset_hours: int, rng: random.Random) -> None:
        self.now = start
        self.local = timedelta(hours=local_offset_hours)
        self.rng = rng
        self.parts: list[str] = []
        self.size = 0
        self.counts = dict.fromkeys(INCIDENT_KINDS, 0)

    def tick(self, seconds: float = 0.5) -> None:
        self.now += timedelta(seconds=self.rng.uniform(0.01, seconds))

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text) + 1

    def iso(self, level: str, who: str, msg: str) -> None:
        self.tick()
        self.emit(f"{self.now:%Y-%m-%dT%H:%M:%S.%f}Z {level} {who} {msg}")

    def legacy(self, level: str, msg: str) -> None:
        self.tick()
        self.emit(f"{self.now + self.local:%Y/%m/%d %H:%M:%S.%f} {level} {msg}")

    def ext_line(self, msg: str) -> None:
        self.emit(f"{self.now + self.local:%Y/%m/%d %H:%M:%S} {msg}")

    def drain(self) -> str:
        text = "\n".join(self.parts) + "\n"
        self.parts = []
        return text


def healthy_cycle(w: LogWriter, incarnation: int) -> None:
    """One goal state handled cleanly: the bulk of any real log."""
    w.iso("INFO", "ExtHandler", "")
    w.iso("INFO", "ExtHandler", f"Fetched a new incarnation for the WireServer goal state [incarnation {incarnation}]")
    w.iso(
        "INFO",
        "ExtHandler ExtHandler",
        f"ProcessExtensionsGoalState started [incarnation_{incarnation} channel: WireServer source: Fabric "
        f"activity: 3b1c2e44-58a1-4b7e-9d0f-{incarnation:012d} correlation 9e7d5c1a-0b2f-4c3d-8e6a-{incarnation:012d} "
        f"created: {w.now:%Y-%m-%dT%H:%M:%S}.118Z]",
    )
    ver = "2.1.10"
    pre = f"ExtHandler [{CSE}-{ver}]"
    w.iso("INFO", pre, f"Target handler state: enabled [incarnation_{incarnation}]")
    w.iso("INFO", pre, "[Enable] current handler state is: enabled")
    w.iso("INFO", pre, "Requested extension state: enabled")
    w.iso("INFO", pre, "Enable extension: [bin/custom-script-shim enable]")
    w.iso(
        "INFO",
        pre,
        f"Executing command: /var/lib/waagent/{CSE}-{ver}/bin/custom-script-shim enable with environment variables: "
        + ENV_JSON.format(ext=CSE, ver=ver, seq=incarnation % 7),
    )
    w.iso(
        "INFO",
        "ExtHandler ExtHandler",
        f"[CGI] Started extension in unit 'enable_{incarnation:08x}-7c4d-4e21-9b8a-5d6c7e8f9012.scope'",
    )
    w.iso("INFO", pre, "Command: bin/custom-script-shim enable")
    w.emit("[stdout]")
    w.emit(f"+ /var/lib/waagent/{CSE}-{ver}/bin/custom-script-extension enable")
    w.emit("[stderr]")
    for _ in range(w.rng.randint(2, 6)):
        w.tick(30)
        w.iso("INFO", "ExtHandler ExtHandler", f"Extension status: [('{CSE}', 'success')]")
        w.iso(
            "INFO",
            "MonitorHandler ExtHandler",
            "[CGW] Collecting cgroup metrics for extension slices: azure-vmextensions-"
            f"{CSE}_{ver}.slice cpu usage {w.rng.random():.4f}",
        )
    w.iso(
        "INFO",
        "ExtHandler ExtHandler",
        f"All extensions in the goal state have reached a terminal state: [('{CSE}', 'success')]",
    )
    w.iso(
        "INFO",
        "ExtHandler ExtHandler",
        f"ProcessExtensionsGoalState completed [incarnation_{incarnation} {w.rng.randint(200, 9000)} ms]",
    )
    w.emit("")
    if incarnation % 5 == 0:
        w.iso(
            "INFO",
            "ExtHandler ExtHandler",
            f"[HEARTBEAT] Agent WALinuxAgent-2.15.0.1 is running as the goal state agent [DEBUG HeartbeatCounter: "
            f"{incarnation};HeartbeatId: 7d1f0c52-1b6e-4c88-9a0e-2a6f0c9d4e11;UpdateGSErrors: 0;AutoUpdate: 1;UpdateMode: SelfUpdate;]",
        )
    if incarnation % 17 == 0:
        w.iso("INFO", "EnvHandler ExtHandler", "Current Firewall rules:\n" + FIREWALL_DUMP)
    if incarnation % 11 == 0:
        w.legacy(
            "INFO",
            "Daemon Agent WALinuxAgent-2.15.0.1 launched with command '/usr/bin/python3 -u bin/WALinuxAgent-2.15.0.1-py3.12.egg -run-exthandlers' is successfully running",
        )
    if incarnation % 13 == 0:
        w.iso("INFO", f"ExtHandler [{AMA}-1.33.2]", "Enable extension: [./shim.sh -enable]")
        w.ext_line("Azure Monitoring Agent for Linux started to handle.")
        w.ext_line(f"[{AMA}-1.33.2] cwd is /var/lib/waagent/{AMA}-1.33.2")
        w.ext_line(f"[{AMA}-1.33.2] Change log file to /var/log/azure/{AMA}/extension.log")


def incident(w: LogWriter, kind: str, n: int) -> None:
    """Inject one incident of ``kind`` (the n-th)."""
    w.counts[kind] += 1
    if kind == "timeout":
        ext, ver = "Contoso.Ops.LinuxBootstrap", "1.4.0"
        w.iso("INFO", f"ExtHandler [{ext}-{ver}]", "Install extension [bin/setup.sh install]")
        w.now += timedelta(seconds=900)
        w.iso(
            "ERROR",
            "ExtHandler ExtHandler",
            f"Event: name={ext}, op=Install, message=[ExtensionError] Timeout(900);CPUThrottledTime(0.0secs): "
            f"/var/lib/waagent/{ext}-{ver}/bin/setup.sh install\n[stdout]\ninstalling prerequisites...\n\n[stderr]\n, duration=0",
        )
    elif kind == "unsupported-os":
        w.iso("INFO", f"ExtHandler [{AMA}-1.33.2]", "Enable extension: [./shim.sh -enable]")
        stamp = f"{w.now + w.local:%Y/%m/%d %H:%M:%S}"
        w.iso(
            "ERROR",
            "ExtHandler ExtHandler",
            f"Event: name={AMA}, op=Enable, message=[ExtensionOperationError] Non-zero exit code: 51, "
            f"/var/lib/waagent/{AMA}-1.33.2/./shim.sh -enable\n[stdout]\n"
            f"{stamp} Azure Monitoring Agent for Linux started to handle.\n"
            f"{stamp} ERROR:Unsupported operating system: flatcar 4152.2.0\n\n[stderr]\n, duration=0",
        )
    elif kind == "wireserver":
        w.iso(
            "ERROR",
            "ExtHandler ExtHandler",
            "Error fetching the goal state: [ProtocolError] [Wireserver Exception] [HttpError] [HTTP Failed] "
            "GET http://168.63.129.16/machine/ -- IOError timed out -- 6 attempts made\n" + TRACEBACK,
        )
        w.iso(
            "WARNING",
            "MonitorHandler ExtHandler",
            "Error in SendHostPluginHeartbeat: [HttpError] [HTTP Failed] GET http://168.63.129.16:32526/health -- "
            "IOError timed out -- 1 attempts made --- [NOTE: Will not log the same error for the next hour]",
        )
    elif kind == "lock-contention":
        ext, ver = "Microsoft.Azure.ActiveDirectory.AADSSHLoginForLinux", "1.0.2731.1"
        w.iso("INFO", f"ExtHandler [{ext}-{ver}]", "Install extension [./installer.sh install]")
        w.iso(
            "ERROR",
            "ExtHandler ExtHandler",
            f"Event: name={ext}, op=Install, message=[ExtensionOperationError] Non-zero exit code: 100, "
            f"/var/lib/waagent/{ext}-{ver}/./installer.sh install\n[stdout]\ninstaller: dpkg is busy, waiting "
            "(attempt 30 of 30)\n\n[stderr]\nE: Could not get lock /var/lib/dpkg/lock-frontend. It is held by "
            f"process {3000 + n} (unattended-upgr)\nE: Unable to acquire the dpkg frontend lock "
            "(/var/lib/dpkg/lock-frontend), is another process using it?\n, duration=0",
        )
    elif kind == "agent-upgrade":
        w.iso(
            "INFO",
            "ExtHandler ExtHandler",
            "Self-update is ready to upgrade the new agent: 2.15.0.1 now before processing the goal state: incarnation_4",
        )
        w.iso(
            "INFO",
            "ExtHandler ExtHandler",
            "Current Agent 2.14.0.1 completed all update checks, exiting current process to upgrade to the new Agent version 2.15.0.1",
        )
        w.legacy("INFO", "Daemon Determined Agent WALinuxAgent-2.15.0.1 to be the latest agent")
        w.iso("INFO", "ExtHandler ExtHandler", "Azure Linux Agent (Goal State Agent version 2.15.0.1)")
    elif kind == "extension-upgrade":
        old, new = "1.5.1", "1.5.2"
        w.iso("INFO", f"ExtHandler [{VMACCESS}-{old}]", "Disable extension: [vmaccess.py -disable]")
        w.iso("INFO", f"ExtHandler [{VMACCESS}-{new}]", "Update extension [vmaccess.py -update]")
        w.iso("INFO", f"ExtHandler [{VMACCESS}-{old}]", "Uninstall extension [vmaccess.py -uninstall]")
        w.iso("INFO", f"ExtHandler [{VMACCESS}-{new}]", "UpdateWithInstall not set. Skip install during upgrade.")
        w.iso("INFO", f"ExtHandler [{VMACCESS}-{new}]", "Enable extension: [vmaccess.py -enable]")


#: The noisy profile: a year of log whose WireServer connection blips once an hour and recovers
#: within minutes, with a daily package-lock wait that resolves and the usual incidents besides.
NOISY_CYCLE_GAP = timedelta(minutes=3, seconds=40)


def noisy_blip(w: LogWriter, *, outage_open: bool = False) -> None:
    """One hourly WireServer blip: a failed goal-state fetch, recovered within minutes.

    ``outage_open``: it comes right after an injected WireServer outage, before any fetch
    succeeded, so it is part of that outage's episode, not one of its own (not counted).
    """
    if not outage_open:
        w.counts["wireserver-blip"] = w.counts.get("wireserver-blip", 0) + 1
    w.iso(
        "WARNING",
        "ExtHandler ExtHandler",
        "Fetch goal state failed: [ProtocolError] [Wireserver Exception] [HttpError] [HTTP Failed] "
        "GET http://168.63.129.16/machine/?comp=goalstate -- IOError timed out -- 6 attempts made",
    )
    w.now += timedelta(seconds=w.rng.uniform(60, 240))
    w.iso("INFO", "ExtHandler ExtHandler", "Fetch goal state completed")


def noisy_lock_wait(w: LogWriter) -> None:
    """The daily apt run holding the dpkg lock while an extension waits, then succeeds."""
    w.counts["lock-wait"] = w.counts.get("lock-wait", 0) + 1
    ext, ver = "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent", "1.33.2"
    w.iso("INFO", f"ExtHandler [{ext}-{ver}]", "Enable extension: [./shim.sh -enable]")
    w.iso(
        "INFO",
        "ExtHandler ExtHandler",
        f"Event: name={ext}, op=Enable, message=Command: ./shim.sh -enable\n[stdout]\nWaiting for cache lock: "
        "Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2317 (unattended-upgr)\n"
        "Enable succeeded\n\n[stderr]\n, duration=41210",
    )


def generate(
    out: Path, size_mb: float, *, seed: int = 7, incident_every: int = 400, profile: str = "quiet"
) -> dict:
    """Write a log of about ``size_mb`` MB to ``out`` and its manifest; return the manifest.

    ``profile``: `quiet` (hours of goal states, ~58 incidents of each kind at 500 MB) or `noisy`
    (the same incidents, spread over a year, plus an hourly WireServer blip that recovers and a
    daily lock wait that resolves).
    """
    rng = random.Random(seed)
    writer = LogWriter(datetime(2025, 3, 1, 0, 0, 0), local_offset_hours=0, rng=rng)
    noisy = profile == "noisy"
    last_hour = last_day = last_kind = None
    target = int(size_mb * 1024 * 1024)
    written = 0
    incarnation = 1
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="ascii", newline="\n") as fh:
        writer.legacy("INFO", "Azure Linux Agent Version:2.2.45")
        writer.legacy("INFO", "Daemon OS: ubuntu 20.04")
        while written < target:
            if noisy:
                writer.now += NOISY_CYCLE_GAP
                hour = writer.now.replace(minute=0, second=0, microsecond=0)
                if last_hour is not None and hour != last_hour:
                    noisy_blip(writer, outage_open=last_kind == "wireserver")
                    if hour.date() != last_day:
                        noisy_lock_wait(writer)
                last_hour, last_day = hour, hour.date()
            healthy_cycle(writer, incarnation)
            last_kind = None
            if incarnation % incident_every == 0:
                last_kind = INCIDENT_KINDS[(incarnation // incident_every) % len(INCIDENT_KINDS)]
                incident(writer, last_kind, incarnation)
            incarnation += 1
            if writer.size > 4 * 1024 * 1024:
                written += writer.size
                writer.size = 0
                fh.write(writer.drain())
        fh.write(writer.drain())
    manifest = {"path": out.name, "bytes": out.stat().st_size, "profile": profile, "incidents": writer.counts}
    Path(str(out) + ".manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=500.0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data/waagent-500mb.log"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", choices=("quiet", "noisy"), default="quiet")
    args = parser.parse_args()
    manifest = generate(args.out, args.size_mb, seed=args.seed, profile=args.profile)
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
