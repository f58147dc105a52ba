"""Each rule's positive fixtures against their whole finding list, not a substring of one finding.

`snapshot.json` beside a rule's `expected.json` holds, per `fires` case, every finding the rule
gives alone on it: severity, title, summary, extension, version, count, time span and evidence
(`file:line` under the case). `test_rules.py` checks what each case is for (`expected.json`);
this checks that nothing else moved. After an intended change, rewrite the snapshots with
`LOGLENS_UPDATE_SNAPSHOTS=1 pytest tests/rules/test_snapshots.py` and read the diff.
"""

from __future__ import annotations

import json
import os

import pytest

from loglens.pipeline import analyze_loaded as analyze
from loglens.rules import REGISTRY
from parsers import load_sources
from tests.rules.test_rules import FIXTURES

UPDATE = os.environ.get("LOGLENS_UPDATE_SNAPSHOTS") == "1"


def _seen(module, case) -> list[dict]:
    """What the rule alone finds on ``case``, with the case's own path written `<case>`."""
    analysis = analyze(load_sources([case]), rules=(module,))
    assert analysis.rule_failures == []
    shown = []
    for finding in analysis.findings:
        shown.append(
            {
                "severity": finding.severity,
                "title": finding.title,
                "summary": finding.summary,
                "extension": finding.extension,
                "version": finding.version,
                "count": finding.count,
                "first_seen": finding.first_seen.isoformat() if finding.first_seen else None,
                "last_seen": finding.last_seen.isoformat() if finding.last_seen else None,
                "evidence": [f"{e.path}:{e.line}" for e in finding.evidence],
            }
        )
    return json.loads(json.dumps(shown).replace(json.dumps(str(case))[1:-1], "<case>"))


@pytest.mark.parametrize("module", REGISTRY, ids=lambda m: m.RULE.id)
def test_every_positive_fixture_gives_exactly_its_snapshot(module):
    folder = FIXTURES / module.RULE.id
    cases = sorted(p for p in (folder / "fires").iterdir() if p.is_dir())
    seen = {case.name: _seen(module, case) for case in cases}
    path = folder / "snapshot.json"
    if UPDATE:
        path.write_text(json.dumps(seen, indent=1, ensure_ascii=False) + "\n")
    assert path.exists(), f"no {path}: run with LOGLENS_UPDATE_SNAPSHOTS=1 and read what it wrote"
    assert seen == json.loads(path.read_text())
