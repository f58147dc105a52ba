"""Find every source a support engineer collected: files, directory trees and archives.

A path may be a single file, a tree that mirrors the VM's `/var/log`, `/var/lib/waagent` and
`/etc` at any depth under any root, the agent's log-collector zip, or a `.zip`/`.tar.gz`/`.tgz`
of such a tree. Archives are read in place (member streams, nothing extracted to disk). What a
file is comes from its path inside the tree (`kind_of_path`) and, for JSON and text files that
could be anything, from sniffing their first bytes: both by the clues the source formats declare
(`parsers.formats`).

Archive safety: members with absolute names or `..` are not used, symbolic links, hard links
and device files are skipped, and the total uncompressed size and member count are capped
(zip bombs); each case is a one-line warning and the rest of the bundle is still read.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from parsers import archives, formats
from parsers.reader import READ_ERRORS, Source
from parsers.sniff import NOT_LOGS, holds_credentials, looks_like
# Which files are one VM is decided in `parsers.vm_groups`; its names stay importable from here.
from parsers.vm_groups import archive_of, assign_collections, collection_of, is_archive, is_special, walk  # noqa: F401
from parsers.waagent_format import FILE_NAME as WAAGENT_FILE_NAME

#: Upper bounds for one archive (the agent's own collector caps its zip at 150 MiB uncompressed).
#: How much of a file is read to sniff what it is.
_SNIFF_BYTES = 65536

#: Kinds of source, in the order they are reported (the source-format registry's order).
KINDS = formats.KINDS


@dataclass
class Collection:
    """Sources found, grouped by kind, plus what was skipped and why."""

    sources: dict[str, list[Source]] = field(default_factory=lambda: {k: [] for k in formats.kinds()})
    warnings: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    #: Per source name, how its kind was decided: `name` (its path), `content` (its first bytes),
    #: or `named file, not recognised` (read only because the user named it).
    recognised_by: dict[str, str] = field(default_factory=dict)
    #: Per ignored file, what its first bytes looked like (`sniff.looks_like`).
    looked_like: dict[str, str] = field(default_factory=dict)
    _stack: ExitStack = field(default_factory=ExitStack)

    def close(self) -> None:
        """Close the archives the member sources read from."""
        self._stack.close()

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def collect(paths: Iterable[Path | str]) -> Collection:
    """Find and classify every source under ``paths``; use the result as a context manager.

    Example:
        >>> with collect(["sample_logs/vm-modern"]) as found:  # doctest: +SKIP
        ...     [s.name for s in found.sources["status"]]
    """
    found = Collection()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _walk_tree(path, found)
        elif is_special(path, found.warnings):
            continue
        elif is_archive(path):
            _add_archive(path, found)
        else:
            # A file named on the command line is read even when nothing recognises it.
            _add(Source.file(path), found, explicit=True)
    for kind, sources in found.sources.items():
        key = _rotation_key if kind == "waagent" else (lambda s: str(s.logical_path))
        sources.sort(key=key)
    return found


def _rotation_key(source: Source) -> tuple:
    from parsers.waagent_format import rotation_sort_key

    return rotation_sort_key(Path(str(source.logical_path)))


def _walk_tree(root: Path, found: Collection) -> None:
    """Every file under ``root`` by the one walk and link policy (`parsers.vm_groups.walk`)."""
    for path, _ in walk(root, found.warnings):
        if is_archive(path):
            _add_archive(path, found)
        else:
            _add(Source.file(path), found)


def _add(source: Source, found: Collection, *, explicit: bool = False) -> None:
    kind, how = kind_of_path(source.logical_path), "name"
    if kind is None:
        kind, how = _sniff(source, found), "content"
    if kind is None and explicit:
        # A file the user named is read even when unrecognised: JSON as control-plane error text
        # (whose reader says what is wrong with it), anything else with the agent grammar.
        kind = "control_plane" if source.logical_path.name.lower().endswith(".json") else "waagent"
        how = "named file, not recognised"
    if kind is None:
        found.ignored.append(source.name)
    else:
        found.sources[kind].append(source)
        found.recognised_by[source.name] = how


def kind_of_path(path: PurePosixPath) -> str | None:
    """What a file is, judged by its path (any root, any depth); None when the path can't tell.
    The path clues are the source formats' (`parsers.formats`)."""
    return formats.kind_of_path(PurePosixPath(path))


def _sniff(source: Source, found: Collection) -> str | None:
    """What an unknown file is by its first bytes (any name: people save logs as anything)."""
    if source.logical_path.name.lower().endswith(NOT_LOGS):
        return None
    try:
        opened = source.opener() if source.opener is not None else open(source.path, "rb")  # noqa: SIM115
        with opened as handle:
            head = handle.read(_SNIFF_BYTES)
    except READ_ERRORS as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        found.warnings.append(f"{source.name}: cannot read it to tell what it is ({reason}); skipped")
        return None
    if holds_credentials(source.logical_path.name, head):
        found.warnings.append(f"{source.name}: holds credentials by nature (provisioning or custom data); never read")
        return None
    kind = None if head.startswith(b"\x1f\x8b") else formats.kind_of_content(head)
    if kind is None:
        found.looked_like[source.name] = looks_like(head)
    return kind


# ---------------------------------------------------------------------------------------------
# Archives


def _add_archive(path: Path, found: Collection) -> None:
    try:
        for source in archives.members(path, archives.Found(found.warnings, found._stack)):
            _add(source, found)
    except READ_ERRORS as exc:
        found.warnings.append(f"{path}: unreadable archive ({exc}); members listed before the damage were kept")
