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

import os
import stat
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from parsers import archives, formats
from parsers.reader import READ_ERRORS, Source
from parsers.sniff import NOT_LOGS, holds_credentials, looks_like
from parsers.waagent_format import FILE_NAME as WAAGENT_FILE_NAME

#: Upper bounds for one archive (the agent's own collector caps its zip at 150 MiB uncompressed).
#: How much of a file is read to sniff what it is.
_SNIFF_BYTES = 65536

#: Archives read in place; sosreport (`.tar.xz`) and SUSE supportconfig (`scc_*.txz`) bundles included.
_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.xz", ".txz", ".tar.bz2", ".tbz2")
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
        elif _is_special(path, found):
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


#: Directory levels below a tree's root that are walked; deeper ones are named in a warning.
MAX_TREE_DEPTH = 64


def _walk_tree(root: Path, found: Collection) -> None:
    """Every file under ``root``, in sorted order (a directory's files, then its subdirectories),
    without following links. Iterative, so a tree a thousand levels deep costs a warning, not the run."""
    stack = [(root, 0)]
    while stack:
        directory, depth = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            found.warnings.append(f"{exc.filename or directory}: cannot list directory: {exc.strerror}")
            continue
        subdirectories = []
        for entry in entries:
            path = Path(directory, entry.name)
            if entry.is_symlink():
                # Not followed: a link can loop or lead out of the collection.
                what = "symbolic link to a directory not followed" if path.is_dir() else "symbolic link skipped"
                found.warnings.append(f"{path}: {what}")
            elif entry.is_dir(follow_symlinks=False):
                subdirectories.append(path)
            elif _is_special(path, found):
                continue
            elif is_archive(path):
                _add_archive(path, found)
            else:
                _add(Source.file(path), found)
        if subdirectories and depth >= MAX_TREE_DEPTH:
            found.warnings.append(
                f"{directory}: more than {MAX_TREE_DEPTH} directory levels below {root}; the {len(subdirectories)} "
                "directories deeper were not read"
            )
            continue
        stack.extend((path, depth + 1) for path in reversed(subdirectories))


def _is_special(path: Path, found: Collection) -> bool:
    """True (with a warning) for a FIFO, socket or device: opening one could block forever."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # missing or unreadable: the reader says so
    if stat.S_ISREG(mode):
        return False
    found.warnings.append(f"{path}: not a regular file (a FIFO, socket or device); skipped")
    return True


def is_archive(path: Path) -> bool:
    # A file saved by `wget` keeps its URL's query (`logs.zip?sv=...&sig=...`): the name before it counts.
    name = path.name.split("?", 1)[0]
    return name.lower().endswith(_ARCHIVE_SUFFIXES) and not WAAGENT_FILE_NAME.match(name)


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


def collection_of(source_path: str) -> str | None:
    """The collection a source's own path places it in; None for a loose file.

    An archive is one collection; in a tree, it is the directory holding `var/` (or the `azure/`
    log directory, or `waagent.conf`'s `etc/`). A file outside such a layout is loose: which
    collection it joins depends on the other sources (`assign_collections`).
    """
    archive = archive_of(source_path)
    if archive is not None:
        return archive
    path = PurePosixPath(source_path)
    parts = path.parts[:-1]
    for i, part in enumerate(parts):
        below = parts[i + 1] if i + 1 < len(parts) else None
        if (
            (part == "var" and below in ("log", "lib"))
            or (part == "etc" and path.name == "waagent.conf")
            or part == "azure"
        ):
            return str(PurePosixPath(*parts[:i])) if i else "."
    return None


def archive_of(source_path: str) -> str | None:
    """The archive a member's name (`archive!member`) names, else None. A `!` counts only after an
    archive's name: a directory may be called `case!1` (`case!1/var/log/waagent.log` is no member)."""
    at = source_path.find("!")
    while at != -1:
        if is_archive(Path(source_path[:at])):
            return source_path[:at]
        at = source_path.find("!", at + 1)
    return None


def assign_collections(source_paths: Iterable[str]) -> dict[str, str]:
    """Per source path, the collection (one VM's files) it belongs to.

    Files of one VM share a collection, and several VMs loaded at once stay apart. A loose file
    (e.g. an instance-view JSON beside the tree, or files downloaded one by one) joins the tree
    whose root is its directory; otherwise the only tree loaded; with no tree at all, the loose
    files are one VM's together, named by their common folder, and a single loose file by its own
    path (its folder may hold files that were never read); only among several trees does it
    stand alone.
    """
    paths = list(dict.fromkeys(source_paths))
    roots = {p: collection_of(p) for p in paths}
    trees = {r for r in roots.values() if r is not None}
    loose = [p for p in paths if roots[p] is None]
    parents = {p: str(PurePosixPath(p).parent) for p in loose}
    if not trees and len(loose) == 1:
        return {loose[0]: loose[0]}
    if not trees and loose:
        try:
            shared = os.path.commonpath(list(parents.values())) or "."
        except ValueError:  # absolute and relative paths mixed
            shared = "."
        return dict.fromkeys(paths, shared)
    for p in loose:
        parent = parents[p]
        roots[p] = parent if parent in trees or len(trees) != 1 else next(iter(trees))
    return roots


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
