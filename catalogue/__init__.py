"""The message catalogue: what the agent, the extensions, the package tools and the control plane
say, as data (`catalogue/entries/*.toml`, one file per subsystem), and the one pass that tags text
with the ids of the messages it carries (`catalogue.match`).

It sits below both `parsers` (which asks it whether a file holds anything it knows) and `loglens`
(whose rules read the tags); it imports neither. `docs/catalogue.md` is rendered from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from catalogue.entry import CATEGORIES, CatalogueError, Entry, check_pattern, read_file
from catalogue.fields import FIELDS

ENTRIES_DIR = Path(__file__).with_name("entries")

__all__ = ["CATEGORIES", "FIELDS", "Catalogue", "CatalogueError", "Entry", "check", "load"]


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Every entry, by id and by anchor."""

    entries: tuple[Entry, ...]
    by_id: dict[str, Entry] = field(init=False, repr=False)
    anchors: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Entry] = {}
        for entry in self.entries:
            if entry.id in by_id:
                raise CatalogueError(f"id {entry.id} is declared in {by_id[entry.id].file} and {entry.file}")
            by_id[entry.id] = entry
        object.__setattr__(self, "by_id", by_id)
        object.__setattr__(self, "anchors", tuple(sorted({a for e in self.entries for a in e.anchors})))

    def ids(self, *, prefix: str | tuple[str, ...] = (), category: str | tuple[str, ...] = ()) -> list[str]:
        """Ids of the entries whose id starts with ``prefix`` or whose category is ``category``."""
        prefixes = (prefix,) if isinstance(prefix, str) else prefix
        categories = (category,) if isinstance(category, str) else category
        return [
            e.id for e in self.entries if (prefixes and e.id.startswith(prefixes)) or e.category in categories
        ]


@cache
def load() -> Catalogue:
    """The catalogue, read once per process from `catalogue/entries/`."""
    entries: list[Entry] = []
    for path in sorted(ENTRIES_DIR.glob("*.toml")):
        entries.extend(read_file(path))
    return Catalogue(tuple(entries))


def check(catalogue: Catalogue | None = None) -> None:
    """Every entry's pattern compiles as a Rust regex with known fields (`CatalogueError` if not).

    `load` checks only what is free; the tests call this, so no broken pattern reaches a run.
    """
    for entry in (catalogue or load()).entries:
        check_pattern(entry)
