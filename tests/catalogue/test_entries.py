"""Every catalogue entry keeps its contract: each example produces its id, each no_match does
not, and each pattern runs in Polars (the Rust regex dialect the pass uses)."""

from __future__ import annotations

import polars as pl
import pytest

import catalogue
from catalogue.match import ids_of, tag

ENTRIES = catalogue.load().entries


def test_catalogue_loads_with_unique_ids():
    assert len({e.id for e in ENTRIES}) == len(ENTRIES) > 0


def test_every_pattern_compiles_with_known_fields():
    """A run loads the catalogue without compiling its patterns; this is where they are checked."""
    catalogue.check()


def test_check_names_a_pattern_that_does_not_compile():
    broken = catalogue.Entry(
        id="x.broken", pattern="(?<=a)b", anchors=("b",), category="context", severity="info",
        examples=("ab",), source="-", meaning="-", file="test",
    )
    with pytest.raises(catalogue.CatalogueError, match=r"test entry x\.broken: pattern does not compile"):
        catalogue.check(catalogue.Catalogue((broken,)))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_examples_produce_their_id(entry):
    pl.Series([""]).str.contains(entry.pattern)  # compiles as Rust regex
    found = ids_of(list(entry.examples))
    missing = [example for example, ids in zip(entry.examples, found, strict=True) if entry.id not in ids]
    assert not missing, f"{entry.id} does not match its examples: {missing}"
    if entry.no_match:
        wrong = [text for text, ids in zip(entry.no_match, ids_of(list(entry.no_match)), strict=True) if entry.id in ids]
        assert not wrong, f"{entry.id} matches lines it must not: {wrong}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_examples_are_found_inside_wrappers(entry):
    """A message is recognised whatever wraps it: a journald prefix, a grep file name, quotes."""
    example = entry.examples[0]
    wrapped = [
        f"May 03 14:07:06 vm-1 waagent[2401]: {example}",
        f"/var/log/waagent.log.1:{example}",
        f'  "message": "{example}"',
    ]
    assert all(entry.id in ids for ids in ids_of(wrapped))


def test_tag_keeps_row_columns_and_fields():
    frame = pl.DataFrame({"message": ["x", "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1519 (dpkg)"], "n": [1, 2]})
    hits = tag(frame)
    assert hits.select("n", "message_id", "pid", "holder", "lock_file").rows() == [
        (2, "pkg.apt-could-not-get-lock", "1519", "dpkg", "/var/lib/dpkg/lock-frontend")
    ]
    assert set(catalogue.FIELDS) <= set(hits.columns)


def test_the_parsed_catalogue_is_kept_between_runs_and_refreshed_when_a_file_changes(tmp_path, monkeypatch):
    """A run reads the catalogue back as JSON; an edited entry file is parsed (and checked) again."""
    import shutil

    entries = tmp_path / "entries"
    shutil.copytree(catalogue.ENTRIES_DIR, entries)
    monkeypatch.setattr(catalogue, "ENTRIES_DIR", entries)
    monkeypatch.setattr(catalogue, "CACHE_DIR", tmp_path / "cache")
    catalogue.load.cache_clear()
    try:
        first = catalogue.load()
        assert len(list((tmp_path / "cache").glob("catalogue-*.json"))) == 1
        catalogue.load.cache_clear()
        again = catalogue.load()
        assert [e.id for e in again.entries] == [e.id for e in first.entries]
        assert again.by_id["pkg.apt-could-not-get-lock"] == first.by_id["pkg.apt-could-not-get-lock"]
        benign = entries / "benign.toml"
        benign.write_text(benign.read_text() + '\n[[entry]]\nid = "x.added"\npattern = "zzq"\nanchors = ["zzq"]\n'
                          'category = "context"\nseverity = "info"\nexamples = ["zzq"]\nsource = "-"\nmeaning = "-"\n')
        catalogue.load.cache_clear()
        assert "x.added" in catalogue.load().by_id
    finally:
        catalogue.load.cache_clear()
