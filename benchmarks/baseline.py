"""The plain-Python baseline: the same parse, written the obvious way, one line at a time.

It produces what loglens produces per record (UTC timestamp, level, thread, process, extension
and version, `Event:` fields, message with continuation lines folded, first and last line) with
the reference grammar's regexes and the standard library, and keeps the records in lists, as a
straightforward parser would. It does not apply the `[stdout]` block rule or damage repairs, so
it does slightly less work than loglens.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime

_LEVEL = r"VERBOSE|INFO|WARNING|ERROR"
_THREAD = (
    r"Daemon|ExtHandler|EnvHandler|MonitorHandler|SendTelemetryHandler|TelemetryEventsCollector|"
    r"CollectLogsHandler|LogCollectorMonitorHandler|MainThread|Firewall|Thread-\d+(?: \([^)]*\))?|Dummy-\d+"
)
_EXT = r"\[(?P<ext>[^\]\s]+)-(?P<ver>\d+(?:\.\d+)*)\]"
# The reference grammar's header forms, tried in order (section 1.9).
ISO = re.compile(
    rf"^(?P<ts>\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}(?:\.\d+)?)Z (?P<level>{_LEVEL}) "
    rf"(?:(?P<thread>{_THREAD}) )?(?:(?:(?P<process>Daemon|ExtHandler|LogCollector|Firewall)|{_EXT}) )?(?P<msg>.*)$"
)
LEGACY = re.compile(
    rf"^(?P<ts>\d{{4}}/\d{{2}}/\d{{2}} \d{{2}}:\d{{2}}:\d{{2}}\.\d+) (?P<level>{_LEVEL}) "
    rf"(?:(?:(?P<process>Daemon|ExtHandler)|{_EXT}) )?(?P<msg>.*)$"
)
EXTENSION = re.compile(
    rf"^(?P<ts>\d{{4}}/\d{{2}}/\d{{2}} \d{{2}}:\d{{2}}:\d{{2}}(?:\.\d+)?) (?:(?P<level>ERROR|WARNING):)?(?:{_EXT} )?(?P<msg>.*)$"
)
EVENT = re.compile(
    r"^Event: name=(?P<name>[^,]*), op=(?P<op>[^,]*), message=(?P<message>.*?)\n?(?:, duration=(?P<ms>\d+))?$",
    re.DOTALL,
)


def _timestamp(text: str) -> datetime:
    # fromisoformat (Python 3.11) reads both forms once the date separators are dashes.
    return datetime.fromisoformat(text.replace("/", "-")).replace(tzinfo=UTC)


def parse(path: str) -> dict[str, list]:
    """Parse ``path`` into column lists."""
    columns: dict[str, list] = {
        name: []
        for name in (
            "line_first",
            "line_last",
            "timestamp",
            "level",
            "thread",
            "process",
            "extension",
            "extension_version",
            "event_name",
            "operation",
            "event_message",
            "event_duration_ms",
            "message",
        )
    }
    current: dict | None = None
    tail: list[str] = []

    def close(last_line: int) -> None:
        message = "\n".join([current["message"], *tail]) if tail else current["message"]
        event = EVENT.match(message) if message.startswith("Event: ") else None
        current.update(
            message=message,
            line_last=last_line,
            event_name=event and event["name"],
            operation=event and event["op"],
            event_message=event and event["message"],
            event_duration_ms=event and event["ms"] and int(event["ms"]),
        )
        for name, values in columns.items():
            values.append(current[name])

    line_no = 0
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line_no, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            match = ISO.match(line) or LEGACY.match(line) or EXTENSION.match(line)
            if match is None:
                tail.append(line)
                continue
            if current is not None:
                close(line_no - 1)
            fields = match.groupdict()
            current = {
                "line_first": line_no,
                "timestamp": _timestamp(fields["ts"]),
                "level": fields["level"] or "INFO",
                "thread": fields.get("thread"),
                "process": fields.get("process")
                or (fields.get("thread") if fields.get("thread") in ("Daemon", "ExtHandler") else None),
                "extension": fields["ext"],
                "extension_version": fields["ver"],
                "message": fields["msg"],
            }
            tail = []
    if current is not None:
        close(line_no)
    return columns


if __name__ == "__main__":
    print(len(parse(sys.argv[1])["line_first"]))
