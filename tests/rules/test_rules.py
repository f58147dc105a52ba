"""Every rule against its fixtures (tests/rules/fixtures/<rule-id>/fires|quiet/<case>/), plus the registry."""

from __future__ import annotations

import json
import pkgutil
from pathlib import Path

import pytest

import loglens.rules
from loglens.pipeline import analyze_loaded as analyze
from loglens.findings import DOC_SECTIONS, doc_sections
from loglens.rules import REGISTRY
from parsers import load_sources

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def _cases(kind: str) -> list[tuple[str, Path]]:
    return [
        (module.RULE.id, case)
        for module in REGISTRY
        for case in sorted((FIXTURES / module.RULE.id / kind).glob("*"))
        if case.is_dir()
    ]


def _module(rule_id: str):
    return next(m for m in REGISTRY if m.RULE.id == rule_id)


def _findings(rule_id: str, case: Path):
    return analyze(load_sources([case]), rules=(_module(rule_id),)).findings


@pytest.mark.parametrize(("rule_id", "case"), _cases("fires"), ids=lambda v: v if isinstance(v, str) else v.name)
def test_rule_fires_on_its_positive_fixture(rule_id, case):
    expected = json.loads((FIXTURES / rule_id / "expected.json").read_text())["fires"][case.name]
    findings = _findings(rule_id, case)
    matching = [
        f for f in findings if f.severity == expected["severity"] and all(s in f.summary for s in expected["summary"])
    ]
    assert matching, [(f.severity, f.summary) for f in findings]
    finding = matching[0]
    assert finding.evidence and all(e.path.startswith(str(case)) for e in finding.evidence)
    assert finding.explanation and finding.remediation and finding.docs and finding.docs.startswith("https://")


@pytest.mark.parametrize(("rule_id", "case"), _cases("quiet"), ids=lambda v: v if isinstance(v, str) else v.name)
def test_rule_stays_quiet_on_its_negative_fixture(rule_id, case):
    assert list(_findings(rule_id, case)) == []


def test_registry_lists_every_rule_module_sorted_documented_and_with_fixtures():
    modules = sorted(m.name for m in pkgutil.iter_modules(loglens.rules.__path__) if not m.name.startswith("_"))
    registered = [m.__name__.rsplit(".", 1)[-1] for m in REGISTRY]
    assert registered == modules, "add the module to loglens/rules/__init__.py RULE_MODULES (sorted)"
    ids = [m.RULE.id for m in REGISTRY]
    assert len(set(ids)) == len(ids)
    for module in REGISTRY:
        sections = doc_sections(module)
        assert list(sections) == list(DOC_SECTIONS), module.__name__
        assert all(sections.values()), module.__name__
        assert "https://" in sections["References"]
        expected = json.loads((FIXTURES / module.RULE.id / "expected.json").read_text())["fires"]
        assert sorted(expected) == sorted(p.name for p in (FIXTURES / module.RULE.id / "fires").iterdir())
        assert any((FIXTURES / module.RULE.id / "quiet").iterdir()), f"{module.RULE.id} has no negative fixture"


def test_required_categories_are_covered():
    categories = {m.RULE.category for m in REGISTRY}
    assert {
        "upgrade",
        "timeout",
        "unsupported-os",
        "wireserver",
        "lock-contention",
        "command-failure",
        "disk-space",
        "agent-health",
    } <= categories


def test_healthy_vm_yields_no_error_or_warning_and_nothing_unexplained():
    analysis = analyze(load_sources([REPO / "sample_logs" / "vm-healthy"]))
    assert [f for f in analysis.findings if f.severity in ("error", "warning")] == []
    assert analysis.other_errors.height == 0


def test_related_findings_are_linked():
    analysis = analyze(load_sources([REPO / "sample_logs" / "vm-modern"]))
    lock = next(f for f in analysis.findings if f.rule == "package-manager-lock")
    assert {"extension-command-failed", "extension-provisioning-timeout"} <= set(lock.related)


def test_unexplained_errors_are_grouped_by_template(tmp_path):
    log = tmp_path / "var/log/waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text(
        "2025-01-01T00:00:01.000000Z ERROR ExtHandler ExtHandler Something odd happened to slot 3 at /var/lib/x/y\n"
        "2025-01-01T00:00:02.000000Z ERROR ExtHandler ExtHandler Something odd happened to slot 17 at /var/lib/z/w\n"
        "2025-01-01T00:00:03.000000Z WARNING ExtHandler ExtHandler Another thing 4f1c2a3b-1d2e-4f5a-9b8c-7d6e5f4a3b2c\n"
    )
    others = analyze(load_sources([tmp_path])).other_errors
    assert others.select("template", "count").rows() == [
        ("Something odd happened to slot <n> at <path>", 2),
        ("Another thing <guid>", 1),
    ]
    assert others["line"][0] == 1


def test_readme_rules_table_is_generated_from_the_registry():
    from loglens.reports.rules_table import README, with_table

    readme = README.read_text()
    assert readme == with_table(readme), "run: python -m loglens.reports.rules_table"


def test_each_rule_declares_exactly_the_benign_entries_that_carry_its_messages():
    """A benign entry whose example lines produce one of a rule's messages is a known false
    positive of that rule (`Rule.false_positives`): the declaration is complete and not stale."""
    import polars as pl

    import catalogue
    from catalogue.match import hits
    from loglens.findings import covers

    entries = [e for e in catalogue.load().entries if e.category == "benign"]
    examples = pl.DataFrame(
        [(e.id, example) for e in entries for example in e.examples], schema=["benign", "message"], orient="row"
    ).with_row_index("record")
    carried = hits(examples, "record").join(examples, on="record").select("benign", "message_id").rows()
    for module in REGISTRY:
        rule = module.RULE
        expected = sorted({b for b, message in carried if any(covers(m, message) for m in rule.messages)})
        assert sorted(rule.false_positives) == expected, rule.id


def test_symptoms_name_rules_that_exist():
    ids = {m.RULE.id for m in REGISTRY}
    for module in REGISTRY:
        assert set(module.RULE.symptom_of) <= ids - {module.RULE.id}, module.RULE.id


def test_a_rule_reading_what_it_did_not_declare_fails_plainly():
    from types import SimpleNamespace

    from loglens.findings import Rule

    def detect(context):
        return context.frames["status"], context.operations

    sneaky = SimpleNamespace(RULE=Rule(id="sneaky", category="timeout", severity="error", title="t"), detect=detect)
    analysis = analyze(load_sources([REPO / "sample_logs" / "vm-modern"]), rules=(sneaky,))
    (failure,) = analysis.rule_failures
    assert "rule sneaky failed" in failure and "reads frame 'status' without declaring it in Rule.reads" in failure
