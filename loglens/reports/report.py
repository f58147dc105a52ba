"""The typed report: what every output of one run shows, as immutable objects.

`loglens.reports.model.build` makes one `Report` per run from an `Analysis`, with every string in
it redacted; the JSON document (`document.py`), the terminal (`terminal.py`), HTML (`html.py`)
and Markdown (`markdown.py`) are renderers of it and read nothing else. Sequences are tuples and
every class is a frozen dataclass, so no renderer can change what the next one shows. Times stay
`datetime`; each renderer formats them with `loglens.timefmt`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar


@dataclass(frozen=True)
class Counts:
    """Findings per severity."""

    error: int
    warning: int
    info: int


@dataclass(frozen=True)
class VmEntry:
    """One VM the run analysed, healthy ones too (`loglens.reports.vms`): the name `loglens fleet`
    gives it, the collection its findings name, its inputs, its own verdict and finding counts."""

    vm: str
    collection: str
    inputs: tuple[str, ...]
    verdict: str
    summary: Counts


@dataclass(frozen=True)
class Evidence:
    """One kept evidence line of a finding (`line` is None for a text that is no file's line)."""

    path: str
    line: int | None
    text: str


@dataclass(frozen=True)
class Episode:
    """One episode of a recurring incident."""

    first_seen: datetime | None
    last_seen: datetime | None
    count: int | None


@dataclass(frozen=True)
class Part:
    """Lines of an evidence record shown open or folded; `at`: the first one's offset in the record."""

    at: int
    lines: tuple[str, ...]
    open: bool


@dataclass(frozen=True)
class BlockRecord:
    """A record in an evidence block (`loglens.reports.evidence`): an evidence record whole, a
    neighbour by its first line; `hidden`: its lines past those shown."""

    line: int | None
    is_evidence: bool
    lines: tuple[str, ...]
    hidden: int
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class EvidenceBlock:
    """The log around a finding's evidence in one source window; `lines`: the evidence lines in it."""

    path: str
    lines: tuple[int, ...]
    records: tuple[BlockRecord, ...]


@dataclass(frozen=True)
class Finding:
    """One finding (the findings frame's row), its evidence, and where the reports link it."""

    finding: int
    collection: str | None
    rule: str
    category: str
    severity: str
    title: str
    summary: str
    extension: str | None
    version: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    count: int
    explanation: str | None
    remediation: str | None
    docs: str | None
    related: tuple[str, ...]
    episodes: tuple[Episode, ...]
    evidence: tuple[Evidence, ...]
    #: Its VM collection when several are loaded, else None.
    vm: str | None
    #: The HTML anchor, stable per severity and category.
    anchor: str
    #: The evidence blocks the HTML and Markdown reports show (empty when not built).
    blocks: tuple[EvidenceBlock, ...] = ()


@dataclass(frozen=True)
class CategoryGroup:
    category: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class SeverityGroup:
    """The findings of one severity, by category (the reports' order)."""

    severity: str
    categories: tuple[CategoryGroup, ...]


@dataclass(frozen=True)
class Extension:
    name: str
    version: str | None
    status: str | None
    requested: str | None


@dataclass(frozen=True)
class VmFacts:
    """What the logs say about one VM collection (`loglens.facts`)."""

    collection: str
    agent_package: str | None
    goal_state_agent: str | None
    distro: str | None
    auto_update: str | None
    extensions_enabled: str | None
    extensions: tuple[Extension, ...]
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class OtherError:
    """An error or warning template no rule explains, with its first example."""

    template: str | None
    count: int
    path: str
    line: int | None
    text: str | None


@dataclass(frozen=True)
class InputAccount:
    """One input file's line accounting (`parsers` `SourceAccount.row`)."""

    path: str
    kind: str
    recognised_by: str | None
    kind_shown: str
    lines: int
    records: int
    continuations: int
    unparsed: int
    skipped: int
    balanced: bool


@dataclass(frozen=True)
class Unexplained:
    """What no finding accounts for."""

    error_records: int
    warning_records: int
    known_benign_records: int
    inputs_not_read: tuple[str, ...]


@dataclass(frozen=True)
class Chart:
    """One chart as data: its figure's JSON (safe inside a script element), or, with nothing
    to draw, the sentence said instead (`note`)."""

    id: str
    note: str | None
    json: str | None


@dataclass(frozen=True)
class Report:
    """Everything one run's outputs show."""

    version: str
    generated_at: datetime
    counts: Counts
    #: One paragraph in plain words (`loglens.reports.model.verdict`).
    verdict: str
    #: Every VM analysed, healthy ones included.
    vms: tuple[VmEntry, ...]
    #: Per VM collection; empty unless built with facts.
    facts: tuple[VmFacts, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    several_vms: bool
    #: In report order (the findings frame's).
    findings: tuple[Finding, ...]
    #: The same findings by severity, then category.
    severities: tuple[SeverityGroup, ...]
    other_errors: tuple[OtherError, ...]
    inputs: tuple[InputAccount, ...]
    #: Every input warning; `warnings_shown` is what a reader is shown (the rest summarised).
    warnings: tuple[str, ...]
    warnings_shown: tuple[str, ...]
    rule_failures: tuple[str, ...]
    ignored: tuple[str, ...]
    unexplained: Unexplained
    #: Empty unless built with charts (the HTML report draws them).
    charts: tuple[Chart, ...] = ()


T = TypeVar("T")


def typed(cls: type[T], data: Any) -> T:
    """``data`` (plain dicts, lists and values, as built and redacted) as ``cls``, recursively:
    nested dataclasses from dicts, tuples from lists. Keys ``cls`` does not declare are dropped."""
    return _convert(cls, data)


def _convert(kind: Any, value: Any) -> Any:
    return _converter(kind)(value)


@cache
def _converter(kind: Any) -> Callable[[Any], Any]:
    """The conversion of a value to ``kind``, worked out once per type: a noisy VM's report holds
    tens of thousands of typed parts (its episodes), and asking `typing` about each cost 0.3 s."""
    if dataclasses.is_dataclass(kind):
        fields = [(name, _converter(hint)) for name, hint in _hints(kind).items()]

        def make(value: Any) -> Any:
            return kind(**{name: convert(value[name]) for name, convert in fields if name in value})

    elif typing.get_origin(kind) is tuple:
        inner = _converter(typing.get_args(kind)[0])

        def make(value: Any) -> Any:
            return tuple(inner(item) for item in value)

    elif typing.get_origin(kind) in (types.UnionType, typing.Union):
        make = _converter(next(arg for arg in typing.get_args(kind) if arg is not type(None)))
    else:
        return _same

    return lambda value: None if value is None else make(value)


def _same(value: Any) -> Any:
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)
