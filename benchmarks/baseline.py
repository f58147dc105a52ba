"""The plain-Python baseline: read line by line, try the four header regexes, fold continuations.

It builds each record as a tuple (like a naive parser would) but keeps only a count, so its
memory stays flat; only its throughput is compared.
"""

from __future__ import annotations

import re
import sys

# The reference grammar's four header forms, tried in order (ISO, legacy, extension, fraction-no-level).
ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z) (VERBOSE|INFO|WARNING|ERROR) "
    r"(?:(Daemon|ExtHandler|EnvHandler|MonitorHandler|SendTelemetryHandler|TelemetryEventsCollector|"
    r"CollectLogsHandler|LogCollectorMonitorHandler|MainThread|Firewall|Thread-\d+(?: \([^)]*\))?) )?"
    r"(?:(Daemon|ExtHandler|LogCollector|Firewall|\[([^\]\s]+)-(\d+(?:\.\d+)*)\]) )?(.*)$"
)
LEGACY = re.compile(
    r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\.\d+) (VERBOSE|INFO|WARNING|ERROR) "
    r"(?:(Daemon|ExtHandler|\[([^\]\s]+)-(\d+(?:\.\d+)*)\]) )?(.*)$"
)
EXTENSION = re.compile(r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) (?:(ERROR|WARNING):)?(?:\[([^\]\s]+)-(\d+(?:\.\d+)*)\] )?(.*)$")
FRACTION = re.compile(r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\.\d+) (.*)$")


def parse(path: str) -> int:
    records = 0
    current: list[str] | None = None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            match = ISO.match(line) or LEGACY.match(line) or EXTENSION.match(line) or FRACTION.match(line)
            if match:
                if current is not None:
                    records += 1
                current = [match.groups(), line]
            elif current is not None:
                current.append(line)
    return records + (current is not None)


if __name__ == "__main__":
    print(parse(sys.argv[1]))
