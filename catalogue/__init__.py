"""The message catalogue: what the agent, the extensions, the package tools and the control plane
say, as data (`catalogue/entries/*.toml`, one file per subsystem), and the one pass that tags text
with the ids of the messages it carries (`catalogue.match`).

It sits below both `parsers` (which asks it whether a file holds anything it knows) and `loglens`
(whose rules read the tags); it imports neither. `docs/catalogue.md` is rendered from it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
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
    """The catalogue, read once per process from `catalogue/entries/` (through `_cached`)."""
    files = sorted(ENTRIES_DIR.glob("*.toml"))
    entries = _cached(files)
    if entries is None:
        entries = [entry for path in files for entry in read_file(path)]
        _keep(files, entries)
    return Catalogue(tuple(entries))


#: Where the parsed catalogue is kept between runs: parsing 500-odd TOML entries takes ~0.2 s of
#: every run's start, reading them back as JSON ~0.02 s. Keyed by the files' names, sizes and
#: times, so an edited entry is parsed (and checked) again; any failure just means parsing.
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loglens"


def _cache_file(files: list[Path]) -> Path:
    stamp = hashlib.sha256()
    for path in files:
        status = path.stat()
        stamp.update(f"{path.name}:{status.st_size}:{status.st_mtime_ns};".encode())
    return CACHE_DIR / f"catalogue-{stamp.hexdigest()[:24]}.json"


def _cached(files: list[Path]) -> list[Entry] | None:
    try:
        rows = json.loads(_cache_file(files).read_text(encoding="utf-8"))
        return [Entry(**{k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}) for row in rows]
    except (OSError, ValueError, TypeError):
        return None


def _keep(files: list[Path], entries: list[Entry]) -> None:
    try:
        target = _cache_file(files)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps([asdict(e) for e in entries]), encoding="utf-8")
        os.replace(temporary, target)
    except OSError:
        pass  # a read-only home: the next run parses again


def check(catalogue: Catalogue | None = None) -> None:
    """Every entry's pattern compiles as a Rust regex with known fields (`CatalogueError` if not).

    `load` checks only what is free; the tests call this, so no broken pattern reaches a run.
    """
    for entry in (catalogue or load()).entries:
        check_pattern(entry)
