"""What a source format declares: the one shape every format module fills in (`Format`).

Like an lnav format file, a declaration says everything loglens needs to know about one kind of
file a support engineer sends: which paths it has (`paths`), how its first bytes give it away when
it is saved under any name (`sniffs`), which frames it fills and with which columns (`frames`),
the function that reads it (`read`), the record kind its rows take in the record view
(`record_kind`), and real files that a test parses with every line accounted (`samples`). The
registry (`parsers.formats`) lists the declarations; discovery, sniffing, loading, the record
view and docs/schema.md all read it, so adding a format is one module plus its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import polars as pl

from parsers.chunks import DEFAULT_CHUNK_BYTES
from parsers.reader import Source, SourceAccount
from parsers.schema import Column
from parsers.timezones import VmTimezone


@dataclass(frozen=True)
class ReadOptions:
    """What a reader may need beyond its sources: the VM's zone and the chunk size of big text."""

    zone: VmTimezone = VmTimezone.parse(None)
    chunk_bytes: int = DEFAULT_CHUNK_BYTES


#: A reader: the format's sources -> one frame per declared frame (in order), then the accounts.
Reader = Callable[[Sequence[Source], ReadOptions], tuple[pl.DataFrame | list[SourceAccount], ...]]


@dataclass(frozen=True)
class Clue:
    """One way a format is recognised. Where two formats could claim the same file, the lower
    `rank` is tried first (the ranks keep the order loglens has always decided in)."""

    rank: int
    test: Callable[[PurePosixPath], bool] | Callable[[bytes], bool]
    #: How docs/schema.md describes it (`/var/lib/waagent/events/*.tld`, `JSON with "providerId"`).
    shown: str


@dataclass(frozen=True)
class Format:
    """One source format (see the module docstring)."""

    #: The source kind: how accounts, progress lines and `inputs` name these files.
    name: str
    #: One line for docs/schema.md: what these files are.
    summary: str
    #: (frame name, its columns) for each frame the reader fills; several formats may fill one
    #: frame, whose rows are then concatenated in registry order.
    frames: tuple[tuple[str, tuple[Column, ...]], ...]
    read: Reader
    #: Path clues (tested on the path inside the tree, any root, any depth).
    paths: tuple[Clue, ...] = ()
    #: Content clues (tested on the first 64 KiB when the path does not tell).
    sniffs: tuple[Clue, ...] = ()
    #: Kind of the first frame's rows in the record view (`loglens.records`); None: not records.
    record_kind: str | None = None
    #: Repository paths of real files of this format; a test reads each with `read`.
    samples: tuple[str, ...] = ()
    #: True for the agent's text logs, which `parsers.load` streams chunk by chunk instead of
    #: calling `read` (which reads them whole, for samples and small inputs).
    streamed: bool = False
