"""The known-benign list (catalogue entries of category `benign`, read by loglens/benign.py): every
entry's own example, built into one waagent.log, raises nothing above info; the same lines repeated
past the corroboration count do."""

from __future__ import annotations

import re

import pytest

import catalogue
from loglens import api
from loglens.benign import BENIGN, CORROBORATION


def _log(tmp_path, repeat: int = 1):
    lines = [
        f"2025-05-20T04:{i // 60:02d}:{i % 60:02d}.000000Z ERROR ExtHandler ExtHandler {entry.example}"
        for i, entry in enumerate(e for e in BENIGN for _ in range(repeat))
    ]
    path = tmp_path / "var/log/waagent.log"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    return path.parent.parent.parent


def test_every_known_benign_example_stays_quiet(tmp_path):
    findings = api.analyze([_log(tmp_path)]).findings
    loud = [(f.rule, f.severity, f.summary) for f in findings if f.severity != "info"]
    assert loud == []


@pytest.mark.parametrize("entry", BENIGN, ids=lambda e: e.name)
def test_each_entry_matches_its_own_example(entry):
    import polars as pl

    assert pl.Series([entry.example]).str.contains(entry.pattern).all(), entry.name
    # A public thread, or the code (or the agent's own log checker) pinned to a tag or commit.
    assert re.match(r"https://|[\w.-]+/[\w.-]+@\S+:\S+:\d+", entry.source), entry.source


def test_benign_list_is_the_catalogues_benign_entries_with_the_corroboration_count():
    entries = [e for e in catalogue.load().entries if e.category == "benign"]
    assert [b.name for b in BENIGN] == [e.id.removeprefix("benign.") for e in entries]
    # The agent's own list (benign.toml) uses the count loglens.findings applies to every entry.
    assert {e.benign_unless for e in entries if e.file == "benign"} == {CORROBORATION}
    assert [b.benign_unless for b in BENIGN] == [e.benign_unless or CORROBORATION for e in entries]


def test_a_benign_looking_condition_that_persists_is_not_capped(tmp_path):
    goal_state = next(e for e in BENIGN if e.name == "goal-state-blip")
    path = tmp_path / "var/log/waagent.log"
    path.parent.mkdir(parents=True)
    path.write_text(
        "".join(
            f"2025-05-20T04:{i:02d}:00.000000Z ERROR ExtHandler ExtHandler Error fetching the goal state: {goal_state.example}\n"
            for i in range(CORROBORATION)
        )
    )
    findings = api.analyze([tmp_path]).findings
    assert any(f.rule == "wireserver-unreachable" and f.severity == "error" for f in findings)
