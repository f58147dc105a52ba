"""Load everything under some paths into named frames, with per-source accounting."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from parsers import formats, schema
from parsers.chunk_index import ChunkIndex
from parsers.chunks import DEFAULT_CHUNK_BYTES
from parsers.collect import collect
from parsers.formats import ReadOptions
from parsers.reader import Source, SourceAccount
from parsers.selection import SelectedRecords, Selection
from parsers.timezones import VmTimezone
from parsers.vm_groups import assign, vm_name
from parsers.waagent_stream import iter_waagent


@dataclass
class LoadResult:
    """Named frames (every name in ``parsers.formats.FRAME_SCHEMAS``, empty when nothing fed it).

    Attributes:
        frames: frame name -> Polars DataFrame conforming to ``parsers.formats.FRAME_SCHEMAS[name]``.
        accounts: per-source line accounting and warnings, in reading order.
        notes: warnings not tied to one source (archive safety, unreadable directories, ...).
        ignored: files that were found but are not a source loglens reads (reported, not warned).
        looked_like: per ignored file, what its first bytes looked like (`binary data`, ...).
        directories: the directories named to load: under each, files group into VMs as
            `loglens fleet` groups them (`parsers.vm_groups`).
        placed: per source path, its collection when already decided (a part of a load keeps
            the whole load's; a file alone would group differently).
    """

    frames: dict[str, pl.DataFrame]
    accounts: list[SourceAccount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    looked_like: dict[str, str] = field(default_factory=dict)
    directories: list[str] = field(default_factory=list)
    placed: dict[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        """Every warning: notes first, then per source in reading order."""
        return self.notes + [w for a in self.accounts for w in a.warnings]

    def collections(self) -> dict[str, str]:
        """Per source path, the collection (one VM's files) it belongs to (`parsers.vm_groups.assign`)."""
        if self.placed:
            return {a.path: self.placed[a.path] for a in self.accounts if a.path in self.placed}
        return assign((a.path for a in self.accounts), self.directories, self.ignored)

    def vm_names(self) -> dict[str, str]:
        """Per collection, the VM's name as `loglens fleet` gives it (`parsers.vm_groups.vm_name`)."""
        return {c: vm_name(c, self.directories) for c in dict.fromkeys(self.collections().values())}

    def by_collection(self) -> dict[str, LoadResult]:
        """The load split by collection (`collections`), in reading order.

        Each part has only its sources' rows and accounts; the notes and ignored files stay with
        every part. One collection gives this load itself.
        """
        members: dict[str, list[str]] = {}
        placed = self.collections()
        for path, name in placed.items():
            members.setdefault(name, []).append(path)
        if len(members) <= 1:
            return {name: self for name in members} or {".": self}
        parts = {}
        for name, paths in members.items():
            mine, wanted = pl.col("source_path").is_in(paths), set(paths)
            frames = {key: f.filter(mine) if "source_path" in f.columns else f for key, f in self.frames.items()}
            accounts = [a for a in self.accounts if a.path in wanted]
            parts[name] = LoadResult(
                frames=frames,
                accounts=accounts,
                notes=self.notes,
                ignored=self.ignored,
                directories=self.directories,
                placed={path: name for path in paths},
            )
        return parts


def load_sources(
    paths: Iterable[Path | str],
    *,
    tz: VmTimezone | str | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: Callable[[str], None] | None = None,
    waagent_sink: Callable[[Iterator[pl.DataFrame]], None] | None = None,
    waagent_transform: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> LoadResult:
    """Read files, directory trees and archives under ``paths`` into frames.

    Args:
        paths: files, trees mirroring the VM (any root, any depth), log-collector zips, or
            `.zip` / `.tar.gz` / `.tgz` bundles.
        tz: the VM's UTC offset or zone, for sources written in local time (default UTC).
        chunk_bytes: bytes per processing chunk of the big text logs.
        progress: called with a short line saying what is being read (for a progress display).
        waagent_sink: given, the agent's and other text logs' records stream to it chunk by chunk
            (it must consume them all, e.g. write them away) and the `waagent` frame stays empty;
            their accounts are complete all the same.
        waagent_transform: applied to those records chunk by chunk in the parsing threads (the
            sink's redaction, say).

    Returns:
        A LoadResult; bad input becomes warnings, never exceptions.

    Example:
        >>> result = load_sources(["sample_logs/vm-modern"])  # doctest: +SKIP
        >>> result.frames["status"].select("extension", "status", "code", "message")  # doctest: +SKIP
    """
    with open_sources(
        paths,
        tz=tz,
        chunk_bytes=chunk_bytes,
        progress=progress,
        waagent_sink=waagent_sink,
        waagent_transform=waagent_transform,
    ) as result:
        return result


@contextmanager
def open_sources(
    paths: Iterable[Path | str],
    *,
    tz: VmTimezone | str | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: Callable[[str], None] | None = None,
    waagent_sink: Callable[[Iterator[pl.DataFrame]], None] | None = None,
    waagent_transform: Callable[[pl.DataFrame | SelectedRecords], pl.DataFrame] | None = None,
    waagent_index: ChunkIndex | None = None,
    waagent_selection: Selection | None = None,
) -> Iterator[LoadResult]:
    """`load_sources` with the sources still open inside the block (archives are closed after it).

    ``waagent_index`` records where each streamed chunk came from, so that records can be read
    back by line while the block lasts (`ChunkIndex.records_at`); ``waagent_selection`` has only
    the records it chooses parsed in full (`parsers.selection`; the transform then receives
    `SelectedRecords`); the other arguments are `load_sources`'.
    """
    zone = tz if isinstance(tz, VmTimezone) else VmTimezone.parse(tz)
    paths = list(paths)
    frames: dict[str, pl.DataFrame] = {}
    accounts: list[SourceAccount] = []
    say = progress or (lambda _: None)
    with collect(paths) as found:
        sources = found.sources
        say(_found_line(sources))
        directories = [str(Path(p)) for p in paths if Path(p).is_dir()]
        if waagent_index is not None:
            streamed = [*sources["waagent"], *sources["text"]]
            waagent_index.expected_bytes = sum(_size_on_disk(s) for s in streamed)
            every = [s.name for found_of_kind in sources.values() for s in found_of_kind]
            waagent_index.collections = assign(every, directories, found.ignored)
        stream = _Stream(waagent_sink, waagent_transform, waagent_index, waagent_selection)
        frames["waagent"] = _agent_logs(sources, accounts, zone, chunk_bytes, stream)
        say("reading extension logs, status files and documents")
        _read_formats(sources, frames, accounts, ReadOptions(zone, chunk_bytes))
        for account in accounts:
            account.recognised_by = found.recognised_by.get(account.path)
        for name, columns in formats.frame_schemas().items():
            frames.setdefault(name, schema.empty_frame(columns))
        yield LoadResult(
            frames=frames,
            accounts=accounts,
            notes=list(found.warnings),
            ignored=list(found.ignored),
            looked_like=dict(found.looked_like),
            directories=directories,
        )


def _read_formats(
    sources: dict[str, list[Source]],
    frames: dict[str, pl.DataFrame],
    accounts: list[SourceAccount],
    options: ReadOptions,
) -> None:
    """Each source format's reader over its sources, in registry order. A frame several formats
    fill (extension logs and both kinds of telemetry event) gets their rows one after another."""
    filled: dict[str, list[pl.DataFrame]] = {}
    for source_format in formats.FORMATS:
        if source_format.streamed:
            continue
        *parts, read = source_format.read(sources[source_format.name], options)
        for (name, _), part in zip(source_format.frames, parts, strict=True):
            filled.setdefault(name, []).append(part)
        accounts += read
    frames.update({name: pl.concat(parts) if len(parts) > 1 else parts[0] for name, parts in filled.items()})


@dataclass(frozen=True)
class _Stream:
    """Where the agent's records go when they stream (`open_sources`' waagent arguments)."""

    sink: Callable[[Iterator[pl.DataFrame]], None] | None
    transform: Callable[[pl.DataFrame | SelectedRecords], pl.DataFrame] | None
    index: ChunkIndex | None
    selection: Selection | None = None


def _agent_logs(
    sources: dict[str, list[Source]], accounts: list[SourceAccount], zone: VmTimezone, chunk_bytes: int, stream: _Stream
) -> pl.DataFrame:
    """The `waagent` frame: agent logs, then other text; empty when the records went to a sink."""
    # Other text worth reading (syslog copies, pastes, command output) takes the agent grammar
    # too: its agent lines become records, the rest stays searchable as unparsed lines.
    options = {
        "tz": zone,
        "chunk_bytes": chunk_bytes,
        "transform": stream.transform,
        "index": stream.index,
        "selection": stream.selection,
    }
    streams = (
        iter_waagent(sources["waagent"], accounts, **options),
        iter_waagent(sources["text"], accounts, kind="text", **options),
    )
    if stream.sink is not None:
        stream.sink(itertools.chain(*streams))
        return schema.empty_frame(schema.WAAGENT_COLUMNS)
    parts = [frame for part in streams for frame in part]
    return pl.concat(parts) if parts else schema.empty_frame(schema.WAAGENT_COLUMNS)


def _size_on_disk(source: Source) -> int:
    try:
        return source.path.stat().st_size if source.path is not None and source.path.is_file() else 0
    except OSError:
        return 0


def _found_line(sources: dict[str, list[Source]]) -> str:
    """`reading 27 file(s), 14.2 MB: 12 extension_log, 3 waagent, ...` (the size counts plain files)."""
    counts = {kind: len(found) for kind, found in sources.items() if found}
    files = sum(counts.values())
    size = sum(_size_on_disk(s) for found in sources.values() for s in found)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda item: -item[1]))
    shown = f", {size / 1e6:,.1f} MB" if size >= 1e6 else f", {size / 1e3:,.0f} KB" if size else ""
    return f"reading {files} file(s){shown}: {kinds}"
