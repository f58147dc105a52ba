"""Every real excerpt of tests/corpus/ against its labels: categories found, none falsely alarmed.

The cases are public posts (source URLs in labels.json). A category in `categories` must be
reported at any severity; one in `must_not` must not be reported at warning or error; every case
must give a result. Known misses are listed in KNOWN_MISSES with why; they are strict expected
failures, so fixing one makes the suite say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loglens import api
from loglens.errors import InputError

CORPUS = Path(__file__).parent / "corpus"
LABELS = json.loads((CORPUS / "labels.json").read_text())

#: (case prefix, category) -> why loglens still misses it.
KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("231", "upgrade"): "the old OmsAgentForLinux version never appears in the excerpt: the new version's "
    "download, install and enable read exactly like a fresh install",
    ("267", "upgrade"): "only the old version's `--remove` command is in the filtered extension.log excerpt; "
    "the update to 1.13.40 is known from the thread's title, not from any line",
    ("310", "command-failure"): "Packer's `sh: 1: waagent: not found` is a shell's message outside any extension "
    "or agent command; matching bare `not found` lines generally would raise false alarms",
    ("314", "command-failure"): "a bare `exit 51` with no reason is reported as unsupported-os by convention "
    "(extension exit code 51); the thread shows it was an install failure of another cause",
}
#: (case prefix, category) -> why loglens still raises it falsely.
KNOWN_ALARMS: dict[tuple[str, str], str] = {}
#: Case prefixes loglens still cannot read at all.
KNOWN_FAILURES: dict[str, str] = {}


def _found(case: str) -> dict[str, set[str]]:
    try:
        analysis = api.analyze([CORPUS / "cases" / case])
    except InputError as exc:
        pytest.fail(f"{case}: no result: {exc}")
    found: dict[str, set[str]] = {}
    for category, severity in analysis.findings.table.select("category", "severity").iter_rows():
        found.setdefault(category, set()).add(severity)
    return found


def _checks() -> list:
    params = []
    for label in LABELS:
        prefix = label["case"][:3]
        for category in label["categories"]:
            why = KNOWN_MISSES.get((prefix, category)) or KNOWN_FAILURES.get(prefix)
            marks = [pytest.mark.xfail(reason=why, strict=True)] if why else []
            params.append(pytest.param(label["case"], category, "found", marks=marks, id=f"{prefix}-finds-{category}"))
        for category in label["must_not"]:
            why = KNOWN_ALARMS.get((prefix, category))
            marks = [pytest.mark.xfail(reason=why, strict=True)] if why else []
            params.append(pytest.param(label["case"], category, "quiet", marks=marks, id=f"{prefix}-quiet-{category}"))
    return params


_CACHE: dict[str, dict[str, set[str]]] = {}


@pytest.mark.parametrize(("case", "category", "expect"), _checks())
def test_corpus_label(case: str, category: str, expect: str):
    if case not in _CACHE:
        _CACHE[case] = _found(case)
    found = _CACHE[case]
    if expect == "found":
        assert category in found, f"{case}: {category} not reported (found {sorted(found)})"
    else:
        assert not found.get(category, set()) & {"warning", "error"}, f"{case}: {category} raised falsely"
