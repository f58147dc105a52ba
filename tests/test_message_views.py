"""Each rule reads the catalogue messages of its own ids (`Context.messages_of`): a slice of one
whole frame for a small VM, or built from those messages alone past `SHARED_MESSAGES_UNDER` (a
noisy VM's whole frame is hundreds of MB). Both ways give the same analysis."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from benchmarks.generate import generate
from loglens import api, context

from tests.test_streamed_analysis import SAMPLES, _differences


def _both(paths: list[Path], monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(context, "SHARED_MESSAGES_UNDER", 10**9)
        shared = api.analyze(paths)
    with monkeypatch.context() as patch:
        patch.setattr(context, "SHARED_MESSAGES_UNDER", 0)
        own = api.analyze(paths)
    return shared, own


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_own_message_views_give_the_same_analysis_on_each_sample(sample, monkeypatch):
    shared, own = _both([sample], monkeypatch)
    assert _differences(shared, own) == []


def test_own_message_views_give_the_same_analysis_on_a_noisy_log(tmp_path, monkeypatch):
    log = tmp_path / "waagent.log"
    generate(log, 2, incident_every=60, profile="noisy")
    shared, own = _both([log], monkeypatch)
    assert shared.findings.table.height >= 6
    assert _differences(shared, own) == []


def test_messages_by_record_are_the_same_either_way(monkeypatch):
    """`Context.messages_by_record` groups the small VM's shared frame, or builds from the messages alone."""
    ids, fields = ("wire.", "net.", "ext.", "agent."), ("endpoint", "status", "extension", "exit_code")
    analysis = api.analyze([SAMPLES[0].parent])
    seen = 0
    for vm in analysis.contexts:
        ways = []
        for under in (10**9, 0):
            with monkeypatch.context() as patch:
                patch.setattr(context, "SHARED_MESSAGES_UNDER", under)
                vm.__dict__.pop("messages", None)
                ways.append(vm.messages_by_record(ids, fields))
        shared, own = ways
        assert shared.equals(own), vm.collection
        assert {"ids", "endpoint", "status", "stated_extension", "exit_code"} <= set(own.columns)
        assert own["record"].is_sorted() and own["record"].n_unique() == own.height
        seen += own.filter(pl.col("exit_code").is_not_null() | pl.col("endpoint").is_not_null()).height
    assert seen > 0


def test_messages_by_record_carries_only_the_columns_asked_for():
    """Asked for a few record columns, the same rows as with all of them, and only those columns."""
    ids, fields = ("wire.", "net.", "ext."), ("endpoint", "status")
    analysis = api.analyze([SAMPLES[0].parent])
    for vm in analysis.contexts:
        whole = vm.messages_by_record(ids, fields)
        narrow = vm.messages_by_record(ids, fields, ("message", "kind"))
        assert narrow.columns == ["record", "message", "kind", "ids", "endpoint", "status"]
        assert narrow.equals(whole.select(narrow.columns)), vm.collection


def test_records_carrying_are_the_records_of_those_messages():
    """`Context.records_carrying` reads the found pairs alone: the same records, in the same order,
    as the message frame of those ids."""
    analysis = api.analyze([SAMPLES[0].parent])
    seen = 0
    for vm in analysis.contexts:
        for ids in (("wire.", "net."), ("ext.",), ("no-such-id",)):
            carrying = vm.records_carrying(ids)
            assert carrying.to_list() == vm.messages_of(ids)["record"].unique(maintain_order=True).to_list()
            seen += carrying.len()
    assert seen > 0
