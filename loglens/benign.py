"""Known-benign agent messages: lines that look alarming but that the agent recovers from.

They are catalogue entries of category `benign` (`catalogue/entries/benign.toml`), each with its
source and a real example line. Seeded from the agent's own end-to-end tests, which keep the
errors they accept as harmless (WALinuxAgent `tests_e2e/tests/lib/agent_log.py`), from
maintainers' explanations in public issues and from loglens's reference notes.

How it is used (`loglens.findings`): a finding whose every evidence line matches an entry is
at most `info` and says why, unless the lines number `CORROBORATION` or more (a condition that
persists is no longer a blip: the agent's tests stop ignoring them at about that count too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import catalogue

#: A named group of a catalogue pattern: made plain here, so that the alternation of every
#: entry (`PATTERN`) does not declare one name twice.
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")

#: Matching lines at least this many make a benign-looking condition worth a warning again
#: (each benign entry's `benign_unless`; the catalogue tests check they agree).
CORROBORATION = 6


@dataclass(frozen=True)
class Benign:
    """One known-benign condition, as `loglens.findings` reads it.

    Attributes:
        id: the catalogue id.
        name: short id (the catalogue id without its `benign.` prefix).
        pattern: Rust regex over a record's message (the entry's pattern).
        why: why it is harmless, as the finding will say it (the entry's meaning).
        example: a real line that matches (the entry's first example).
        source: where the knowledge comes from (the entry's source).
        condition: where it applies when not everywhere (a distro, an agent version), for the
            reader; loglens does not check it (the entry's `lowers`).
        benign_unless: how many matching lines make it worth a warning again, as the entry states
            it (`CORROBORATION` when it states none; `loglens.findings` applies `CORROBORATION`).
    """

    id: str
    name: str
    pattern: str
    why: str
    example: str
    source: str
    condition: str | None = None
    benign_unless: int = CORROBORATION


def _from_catalogue() -> tuple[Benign, ...]:
    return tuple(
        Benign(
            id=entry.id,
            name=entry.id.removeprefix("benign."),
            pattern=_NAMED_GROUP.sub("(?:", entry.pattern),
            why=entry.meaning,
            example=entry.examples[0],
            source=entry.source,
            condition=entry.lowers or None,
            benign_unless=entry.benign_unless or CORROBORATION,
        )
        for entry in catalogue.load().entries
        if entry.category == "benign"
    )


#: Every catalogue entry of category `benign`, in catalogue order.
BENIGN: tuple[Benign, ...] = _from_catalogue()

#: The same, by catalogue id (`Rule.false_positives` names them so).
BY_ID: dict[str, Benign] = {b.id: b for b in BENIGN}

#: Every entry's pattern as one alternation (each entry in its own group).
PATTERN = "|".join(f"(?:{b.pattern})" for b in BENIGN)
