"""One catalogue entry, read from the TOML files in `catalogue/entries/`, and its checks.

An entry is what one message of the agent, an extension, a package tool or the control plane
means: its id, a pattern with named fields, one or more anchors (literal words that every match
contains, for the one multi-pattern pass), its category and default severity, what raises or
lowers that severity, the generations that say it, verbatim examples, its source, its meaning
and the fix.
"""

from __future__ import annotations

import re

import polars as pl
import regex
import tomllib
from dataclasses import dataclass
from pathlib import Path

from catalogue.fields import FIELDS

#: Categories an entry may belong to: the finding categories, plus `benign` (known harmless,
#: recognised so that it is not reported as unexplained) and `context` (states a fact: a
#: version, an operation, a start; no problem by itself).
CATEGORIES = (
    "upgrade",
    "timeout",
    "unsupported-os",
    "wireserver",
    "lock-contention",
    "command-failure",
    "disk-space",
    "agent-health",
    "provisioning",
    "benign",
    "context",
)
SEVERITIES = ("error", "warning", "info")
_REQUIRED = ("id", "pattern", "anchors", "category", "severity", "examples", "source", "meaning")
_OPTIONAL = ("raises", "lowers", "generations", "remediation", "benign_unless", "no_match")
_ID = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
#: A named group as the catalogue writes them (`check_pattern` makes sure no other form is used).
_GROUP_NAME = re.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>")


class CatalogueError(ValueError):
    """A catalogue file that breaks the entry contract (a loglens bug, found by the tests)."""


@dataclass(frozen=True)
class Entry:
    """One message the catalogue knows.

    Attributes:
        id: `<subsystem>.<message>`, stable: rules and reports refer to it.
        pattern: Rust-regex (Polars) pattern, unanchored: the message may sit anywhere in a line.
        anchors: lower-case ASCII literals; every match of ``pattern`` contains one of them.
        category: a finding category, `benign` or `context` (`CATEGORIES`).
        severity: default severity when this message is the evidence.
        examples: verbatim lines (from the source or a public thread) that must produce this id.
        source: `owner/repo@commit:path:line` of the code that emits it, or a thread URL.
        meaning: what it means, in a sentence or two.
        remediation: what to do about it ("" for benign and context entries).
        raises / lowers: what makes it more or less serious (read by people and by rules).
        generations: the agent or extension versions that log it.
        benign_unless: for a benign-looking message, how many occurrences make it worth a warning.
        no_match: lines that look close but must NOT produce this id (tested too).
        file: the catalogue file it came from (its subsystem).
    """

    id: str
    pattern: str
    anchors: tuple[str, ...]
    category: str
    severity: str
    examples: tuple[str, ...]
    source: str
    meaning: str
    remediation: str = ""
    raises: str = ""
    lowers: str = ""
    generations: tuple[str, ...] = ()
    benign_unless: int | None = None
    no_match: tuple[str, ...] = ()
    file: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        """The named fields its pattern captures (read off the pattern's text: no compile)."""
        return tuple(dict.fromkeys(_GROUP_NAME.findall(self.pattern)))


def read_file(path: Path) -> list[Entry]:
    """The entries of one catalogue file, each checked for the cheap parts of the contract
    (`CatalogueError` if not); `check` compiles the patterns (the tests run it)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"{path.name}: {error}") from None
    entries = []
    for number, raw in enumerate(document.get("entry", []), 1):
        where = f"{path.name} entry {number} ({raw.get('id', '?')})"
        missing = [key for key in _REQUIRED if not raw.get(key)]
        unknown = set(raw) - set(_REQUIRED) - set(_OPTIONAL)
        if missing or unknown:
            raise CatalogueError(f"{where}: missing {missing}, unknown {sorted(unknown)}")
        entry = Entry(
            **{key: tuple(value) if isinstance(value, list) else value for key, value in raw.items()},
            file=path.stem,
        )
        _check_words(entry, where)
        entries.append(entry)
    return entries


def _check_words(entry: Entry, where: str) -> None:
    """What can be checked without compiling a pattern (every load: it costs nothing)."""
    problems = []
    if not _ID.match(entry.id):
        problems.append(f"id {entry.id!r} is not lower-case dotted words")
    if entry.category not in CATEGORIES:
        problems.append(f"category {entry.category!r} is not one of {CATEGORIES}")
    if entry.severity not in SEVERITIES:
        problems.append(f"severity {entry.severity!r} is not one of {SEVERITIES}")
    if any(not a.isascii() or a != a.lower() or not a.strip() for a in entry.anchors):
        problems.append("anchors must be non-blank lower-case ASCII (the pass is ASCII case-insensitive)")
    for example in entry.examples:
        if not any(anchor in example.lower() for anchor in entry.anchors):
            problems.append(f"example has none of the anchors: {example[:80]!r}")
    if problems:
        raise CatalogueError(f"{where}: " + "; ".join(problems))


def check_pattern(entry: Entry) -> None:
    """The pattern compiles as a Rust regex and names only `FIELDS` (`CatalogueError` if not).

    Compiling 500-odd patterns twice takes most of a second, so a run does not: `catalogue.check`
    does, in the tests, which every change passes.
    """
    problems = []
    try:
        compiled = regex.compile(entry.pattern)
        # The pass runs patterns in Polars (Rust regex): no look-around, backreferences or repeated names.
        pl.Series([""], dtype=pl.String).str.contains(entry.pattern)
    except (regex.error, pl.exceptions.ComputeError) as error:
        problems.append(f"pattern does not compile as a Rust regex: {str(error).splitlines()[-1]}")
    else:
        stray = set(compiled.groupindex) - set(FIELDS)
        if stray:
            problems.append(f"fields {sorted(stray)} are not in catalogue.fields.FIELDS")
        if set(compiled.groupindex) != set(entry.fields):
            problems.append("named groups are not all written (?P<name>...): `Entry.fields` would miss some")
    if problems:
        raise CatalogueError(f"{entry.file} entry {entry.id}: " + "; ".join(problems))
