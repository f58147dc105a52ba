"""Known-benign agent messages: lines that look alarming but that the agent recovers from.

A declared list, one entry per condition, each with where the knowledge comes from and a real
example line. Seeded from the agent's own end-to-end tests, which keep the errors they accept
as harmless (WALinuxAgent `tests_e2e/tests/lib/agent_log.py`), from maintainers' explanations
in public issues (sources below) and from loglens's reference notes.

How it is used (`loglens.findings`): a finding whose every evidence line matches an entry is
at most `info` and says why, unless the lines number `CORROBORATION` or more (a condition that
persists is no longer a blip: the agent's tests stop ignoring them at about that count too).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Matching lines at least this many make a benign-looking condition worth a warning again.
CORROBORATION = 6

_AGENT_TESTS = "https://github.com/Azure/WALinuxAgent/blob/develop/tests_e2e/tests/lib/agent_log.py"


@dataclass(frozen=True)
class Benign:
    """One known-benign condition.

    Attributes:
        name: short id.
        pattern: Rust regex over a record's message.
        why: why it is harmless, as the finding will say it.
        example: a real line that matches.
        source: where the knowledge comes from.
        condition: where it applies when not everywhere (a distro, an agent version), for the
            reader; loglens does not check it.
    """

    name: str
    pattern: str
    why: str
    example: str
    source: str
    condition: str | None = None


BENIGN: tuple[Benign, ...] = (
    Benign(
        "vmsettings-transient",
        r"GET vmSettings \[[^\]]*\]: (?:Timeout|.*(?:VMArtifactsProfileBlobContentNotFound|Please retry the request|\[403: Forbidden\].*AccessDenied))",
        "the HostGAPlugin was still computing the VM settings; the agent retries and falls back to the WireServer",
        "Error fetching the goal state: [ProtocolError] GET vmSettings [correlation ID: e162f7c3-8d0c-4a9b-a987-8f9ec0699dae eTag: 9757461589808963322]: Timeout",
        _AGENT_TESTS,
    ),
    Benign(
        "goal-state-gone",
        r"(?s)(?:Fetching the goal state failed|Error fetching goal state|Error fetching the goal state).*(?:\[ResourceGoneError\]|\[410: Gone\]|Resource is gone)",
        "a newer goal state arrived while the agent was fetching the previous one",
        "Error fetching the goal state: [ProtocolError] Error fetching goal state Inner error: [ResourceGoneError] Resource is gone",
        _AGENT_TESTS,
    ),
    Benign(
        "goal-state-blip",
        r"\[HTTP Failed\] GET http://168\.63\.129\.16/machine/ -- IOError (?:\[Errno 104\] Connection reset by peer|timed out)",
        "an occasional goal-state request that timed out or was reset; the next poll succeeds",
        "Error fetching the goal state: [ProtocolError] [Wireserver Exception] [HttpError] [HTTP Failed] GET http://168.63.129.16/machine/ -- IOError [Errno 104] Connection reset by peer -- 6 attempts made",
        _AGENT_TESTS,
    ),
    Benign(
        "artifact-fetch-fallback",
        r"extensionArtifact\]?: \[HTTP Failed\] \[400: Bad Request\]|Fetch failed: \[HttpError\] .+ GET .+ -- \d+ attempts made|Download failed, switching to host plugin"
        r"|extensionArtifact -- Status Code 502",
        "a download through one channel failed and the agent switched to the other",
        "Fetch failed from [http://168.63.129.16:32526/extensionArtifact]: [HTTP Failed] [400: Bad Request] b''",
        _AGENT_TESTS,
    ),
    Benign(
        "hostplugin-heartbeat",
        r"SendHostPluginHeartbeat:.*(?:168\.63\.129\.16:32526/health.*timed out|168\.63\.129\.16/machine.*timed out|ResourceGoneError.*410)",
        "the HostGAPlugin health probe timed out; it is monitored by the platform and retried",
        "Error in SendHostPluginHeartbeat: [HttpError] [HTTP Failed] GET http://168.63.129.16:32526/health -- IOError timed out -- 1 attempts made",
        _AGENT_TESTS,
    ),
    Benign(
        "telemetry-dropped",
        r"(?s)DroppedEventsCount.*(?:comp=telemetrydata.*Status Code 400|Failed to send events.*\[410: Gone\]|POST http://168\.63\.129\.16/machine.*timed out)"
        r"|comp=telemetrydata\s+\[HTTP Failed\] Status Code 400",
        "telemetry events were dropped; this does not affect extensions",
        "Event: name=WALinuxAgent, op=ReportEventErrors, message=DroppedEventsCount: 1 Reasons (first 5 errors): "
        "[ProtocolError] [Wireserver Exception] [ProtocolError] [Wireserver Failed] URI "
        "http://168.63.129.16/machine?comp=telemetrydata  [HTTP Failed] Status Code 400",
        _AGENT_TESTS,
    ),
    Benign(
        "goal-state-without-role-instance",
        r"\[ProtocolError\] Fetched goal state without a RoleInstance",
        "the WireServer sent an incomplete goal state; the agent fetches it again",
        "[ProtocolError] Fetched goal state without a RoleInstance",
        _AGENT_TESTS,
    ),
    Benign(
        "persistent-firewall-read-only",
        r"Unable to setup the persistent firewall rules.*Read-only file system|HTTPS is unavailable and required",
        "the persistent copy of the firewall rules cannot be written on a read-only /lib (Flatcar); the rules themselves are set",
        "Unable to setup the persistent firewall rules: [Errno 30] Read-only file system: '/lib/systemd/system/waagent-network-setup.service'",
        "https://github.com/flatcar/Flatcar/issues/1253",
        "Flatcar and other read-only /usr images",
    ),
    Benign(
        "no-resource-disk",
        r"Failed to mount resource disk|unable to detect disk topology",
        "the VM size has no temporary disk",
        "Failed to mount resource disk [ResourceDiskError] unable to detect disk topology",
        "https://github.com/flatcar/Flatcar/issues/1253",
        "VM sizes without a temporary disk",
    ),
    Benign(
        "dns-firewall-rule",
        r"rules are missing: \['ACCEPT DNS'\]",
        "older agents do not add the DNS rule; the environment thread resets the firewall",
        "The firewall is not configured correctly. The following rules are missing: ['ACCEPT DNS']. Will reset it.",
        _AGENT_TESTS,
    ),
    Benign(
        "dhcp-client-pid",
        r"Dhcp client is not running|Failed to get the PID of the DHCP client",
        "the agent only uses the DHCP client's PID to watch for restarts",
        "Failed to get the PID of the DHCP client: invalid literal for int() with base 10: 'MainPID=1234'",
        "https://github.com/flatcar/Flatcar/issues/1253",
    ),
    Benign(
        "persistent-net-rules",
        r"Move rules file (?:70|75)-persistent.*\.rules to /var/lib/waagent/",
        "the environment thread moves the udev rules file periodically",
        "Move rules file 75-persistent-net-generator.rules to /var/lib/waagent/75-persistent-net-generator.rules",
        _AGENT_TESTS,
    ),
)

#: Every entry's pattern as one alternation (each entry in its own group).
PATTERN = "|".join(f"(?:{b.pattern})" for b in BENIGN)
