"""An lnav format for waagent.log, built from loglens's own grammar (`parsers.waagent_format`).

Engineers who browse raw logs in lnav get the fields loglens parses (level, thread, process,
extension and version) for every agent generation: 2.2.46+ ISO lines, 2.1-2.2.45 local-time lines,
and the lines extensions write themselves. Continuation lines (`[stdout]`/`[stderr]` output,
tracebacks) stay with their record, as in loglens. Every sample line of the grammar is in the
format, so lnav checks the patterns against them when it loads it.
"""

from __future__ import annotations

import json
from typing import Any

import regex

from parsers.waagent_format import EXTENSION_TAIL, ISO_STAMP, ISO_TAIL, LEGACY_TAIL, LEVELS, LOCAL_STAMP, SAMPLE_LINES

FORMAT_NAME = "azure_waagent_log"
#: Python's `(?P<name>` groups in PCRE2's spelling (lnav compiles the patterns with PCRE2).
_PYTHON_GROUP = regex.compile(r"\(\?P<(\w+)>")
_FIELDS = {
    "thread": "the agent thread (ExtHandler, MonitorHandler, ...; 2.2.47+)",
    "process": "the agent process (Daemon or ExtHandler)",
    "ext": "the extension named in the `[Name-Version]` prefix",
    "ver": "that extension's version",
}


def _pattern(stamp: str, tail: str) -> str:
    return _PYTHON_GROUP.sub(r"(?<\1>", rf"^(?<timestamp>{stamp}){tail}(?<body>.*)$")


def build() -> dict[str, Any]:
    """The lnav format document (one format, three patterns), ready for `json.dumps`."""
    samples = [{"line": line} for line, expected in SAMPLE_LINES if expected.get("line_format") != "unparsed"]
    return {
        "$schema": "https://lnav.org/schemas/format-v1.schema.json",
        FORMAT_NAME: {
            "title": "Azure Linux Agent (waagent) log",
            "description": "/var/log/waagent.log of the Azure Linux guest agent, every generation (made by loglens).",
            "url": "https://github.com/Azure/WALinuxAgent",
            "file-pattern": r"waagent\.log",
            "multiline": True,
            "regex": {
                "agent-iso": {"pattern": _pattern(ISO_STAMP, ISO_TAIL)},
                "agent-legacy": {"pattern": _pattern(rf"{LOCAL_STAMP}\.\d{{1,9}}", LEGACY_TAIL)},
                # lnav keeps trying the pattern that matched last: this one must refuse agent lines.
                "extension": {
                    "pattern": _pattern(rf"{LOCAL_STAMP}(?:\.\d{{1,9}})?(?! (?:{LEVELS})(?: |$))", EXTENSION_TAIL)
                },
            },
            "timestamp-format": [
                "%Y-%m-%dT%H:%M:%S.%fZ",
                "%Y-%m-%dT%H:%M:%SZ",
                "%Y/%m/%d %H:%M:%S.%f",
                "%Y/%m/%d %H:%M:%S",
            ],
            "level-field": "level",
            "level": {"error": "ERROR", "warning": "WARNING", "info": "INFO", "debug": "VERBOSE"},
            "value": {
                name: {"kind": "string", "identifier": True, "description": text} for name, text in _FIELDS.items()
            },
            "sample": samples,
        },
    }


def render() -> str:
    """The format as JSON text."""
    return json.dumps(build(), indent=2) + "\n"
