"""Which files are one VM, and what that VM is called: the one grouping `analyze` and `fleet` share.

`parsers.collect` (what `analyze` reads) and `loglens.fleets.units` (what `fleet` runs) both walk
with `walk` and group with `vm_roots`, so a tree is the same VMs, with the same names, to both.

Under one source (a path named on the command line, or a fleet source), a VM is:

- a tree: the directory holding `var/log`, `var/lib`, `etc/waagent.conf` or an `azure/` log
  directory (`collection_of`), at any depth; with everything below it;
- an archive that no directory VM holds (a log-collector zip, a `.tar.gz` bundle);
- a directory of loose files downloaded one by one: the shallowest directory with a loose file
  straight in it that holds no tree (the source itself, when it has loose files at its top and
  no tree); with its subdirectories;
- a loose file straight in a directory that holds trees: a VM by itself.

Hidden files and documents at the top of a source (a README) make no VM of their own. VMs never
nest: a directory VM owns what is under it, archives included, so analysing a fleet unit gives
exactly one VM. A VM's `vm` name is its path relative to its source, or the source's last
component when the source is the VM, as `loglens fleet` names it.

Only `analyze` takes files named one by one: those join the VM whose root is their folder, else
the only VM loaded; with no VM at all they are one VM together (`assign_collections`).

The walk's link policy: links are named in a warning and never followed (a link can loop or lead
out of the collection); FIFOs, sockets and devices are skipped with a warning (opening one could
block forever); directories deeper than `MAX_TREE_DEPTH` below the root are named, not read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

from parsers.sniff import NOT_LOGS
from parsers.waagent_format import FILE_NAME as WAAGENT_FILE_NAME

#: Archives read in place; sosreport (`.tar.xz`) and SUSE supportconfig (`scc_*.txz`) bundles included.
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.xz", ".txz", ".tar.bz2", ".tbz2")
#: Directory levels below a tree's root that are walked; deeper ones are named in a warning.
MAX_TREE_DEPTH = 64


def is_archive(path: Path) -> bool:
    # A file saved by `wget` keeps its URL's query (`logs.zip?sv=...&sig=...`): the name before it counts.
    name = path.name.split("?", 1)[0]
    return name.lower().endswith(ARCHIVE_SUFFIXES) and not WAAGENT_FILE_NAME.match(name)


def archive_of(source_path: str) -> str | None:
    """The archive a member's name (`archive!member`) names, else None. A `!` counts only after an
    archive's name: a directory may be called `case!1` (`case!1/var/log/waagent.log` is no member)."""
    at = source_path.find("!")
    while at != -1:
        if is_archive(Path(source_path[:at])):
            return source_path[:at]
        at = source_path.find("!", at + 1)
    return None


def collection_of(source_path: str) -> str | None:
    """The collection a source's own path places it in; None for a loose file.

    An archive is one collection; in a tree, it is the directory holding `var/` (or the `azure/`
    log directory, or `waagent.conf`'s `etc/`). A file outside such a layout is loose: which
    collection it joins depends on the other files (`vm_roots`, `assign_collections`).
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


# ---------------------------------------------------------------------------------------------
# The walk


def is_special(path: Path, warnings: list[str]) -> bool:
    """True (with a warning) for a FIFO, socket or device: opening one could block forever."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # missing or unreadable: the reader says so
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return False
    warnings.append(f"{path}: not a regular file (a FIFO, socket or device); skipped")
    return True


def walk(
    root: Path, warnings: list[str], prune: Callable[[Path], str | None] | None = None
) -> Iterator[tuple[Path, os.stat_result]]:
    """Every regular file under ``root`` with its `lstat`, in sorted order (a directory's files,
    then its subdirectories), without following links.

    Iterative, so a tree a thousand levels deep costs a warning, not the run. ``prune`` may name
    a directory not to read: it returns the warning to give (`""`: none), or None to read it.
    """
    stack = [(root, 0)]
    while stack:
        directory, depth = stack.pop()
        why = prune(directory) if prune is not None else None
        if why is not None:
            warnings.extend([why] if why else [])
            continue
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            warnings.append(f"{exc.filename or directory}: cannot list directory: {exc.strerror}")
            continue
        subdirectories = []
        for entry in entries:
            path = Path(directory, entry.name)
            found = _regular(entry, path, warnings)
            if found == "directory":
                subdirectories.append(path)
            elif found is not None:
                yield path, found
        if subdirectories and depth >= MAX_TREE_DEPTH:
            warnings.append(
                f"{directory}: more than {MAX_TREE_DEPTH} directory levels below {root}; the {len(subdirectories)} "
                "directories deeper were not read"
            )
            continue
        stack.extend((path, depth + 1) for path in reversed(subdirectories))


def _regular(entry: os.DirEntry, path: Path, warnings: list[str]) -> os.stat_result | str | None:
    """A directory entry's `lstat` when it is a regular file, `directory`, or None (warned when not plain)."""
    if entry.is_symlink():
        what = "symbolic link to a directory not followed" if path.is_dir() else "symbolic link skipped"
        warnings.append(f"{path}: {what}")
        return None
    try:
        status = entry.stat(follow_symlinks=False)
    except OSError as exc:
        warnings.append(f"{path}: cannot read its size: {exc.strerror}")
        return None
    if stat.S_ISDIR(status.st_mode):
        return "directory"
    if not stat.S_ISREG(status.st_mode):
        warnings.append(f"{path}: not a regular file (a FIFO, socket or device); skipped")
        return None
    return status


# ---------------------------------------------------------------------------------------------
# The grouping


def vm_roots(paths: Iterable[str]) -> dict[str, bool]:
    """The VMs among files given by POSIX path relative to their source: VM root -> is it a directory.

    A root of `.` means the whole source is one VM. An archive member (`a.zip!m`) counts as its
    archive. Example: `vm-1/var/log/waagent.log`, `vm-1/iv.json`, `eu/vm-2.zip`, `notes.log` give
    `{"vm-1": True, "eu/vm-2.zip": False, "notes.log": False}`.
    """
    files = sorted({archive_of(p) or p for p in paths})
    files = [p for p in files if not any(part.startswith(".") and part != "." for part in PurePosixPath(p).parts)]
    # Documents beside the VMs (a README, a ticket note) are not VMs of their own.
    files = [p for p in files if "/" in p or not p.lower().endswith(NOT_LOGS)]
    trees = {collection_of(p) for p in files if not is_archive(Path(p))} - {None}
    roots: dict[str, bool] = {}
    for tree in sorted(trees, key=lambda t: (t.count("/") if t != "." else -1, t)):
        if owner(tree, roots) is None:  # a tree inside another VM's tree is part of it
            roots[tree] = True
    # Every directory that holds a tree (the tree's root and its ancestors): one set, not a scan per file.
    holding_trees = {str(d) for t in trees for d in (PurePosixPath(t), *PurePosixPath(t).parents)}
    # Loose files before archives, shallow first: a directory VM owns its subdirectories and archives.
    loose = sorted(files, key=lambda p: (is_archive(Path(p)), p.count("/"), p))
    for p in loose:
        if owner(p, roots) is not None:
            continue
        parent = str(PurePosixPath(p).parent)
        if not is_archive(Path(p)) and parent not in holding_trees:
            roots[parent] = True
        else:
            roots[p] = False
    return roots


def owner(path: str, roots: dict[str, bool]) -> str | None:
    """The VM root that holds ``path`` (a file or a directory; an archive member by its archive), or None."""
    if "." in roots:
        return "."
    parts = PurePosixPath(archive_of(path) or path).parts
    for depth in range(1, len(parts) + 1):
        candidate = str(PurePosixPath(*parts[:depth]))
        if candidate in roots:
            return candidate
    return None


def members(paths: Iterable[str], roots: dict[str, bool]) -> dict[str, list[str]]:
    """Each VM root's files (hidden ones included: they count in a fleet unit's fingerprint), one pass."""
    out: dict[str, list[str]] = {root: [] for root in roots}
    for path in paths:
        found = owner(path, roots)
        if found is not None:
            out[found].append(path)
    return out


# ---------------------------------------------------------------------------------------------
# What `analyze` read: its sources' VMs


def assign(read: Iterable[str], directories: Iterable[str] = (), unread: Iterable[str] = ()) -> dict[str, str]:
    """Per source path read, its collection: the VM's root as a path (`sample_logs/vm-modern`).

    Args:
        read: the paths of the sources read.
        directories: the directories named to load; under each, files group by `vm_roots`.
        unread: files found there but not read: they place loose files as `fleet` sees them.
    """
    wanted = list(dict.fromkeys(read))
    under: dict[str, list[tuple[str, str]]] = {}
    named = []
    places = sorted({str(Path(d)) for d in directories}, key=len, reverse=True)
    for path in [*wanted, *unread]:
        place = next(((d, rel) for d in places if (rel := _relative(path, d)) is not None), None)
        if place is not None:
            under.setdefault(place[0], []).append((path, place[1]))
        elif path in wanted:
            named.append(path)
    out: dict[str, str] = {}
    for directory, pairs in under.items():
        roots = vm_roots(rel for _, rel in pairs)
        for path, rel in pairs:
            root = owner(rel, roots)
            out[path] = path if root is None else directory if root == "." else _joined(directory, root)
    vms = set(out.values())
    out.update(assign_collections(named, vms))
    return {path: out[path] for path in wanted}


def assign_collections(source_paths: Iterable[str], vms: Iterable[str] = ()) -> dict[str, str]:
    """Per file named one by one, the collection it belongs to, among ``vms`` already placed.

    Files of one VM share a collection, and several VMs loaded at once stay apart. A loose file
    (e.g. an instance-view JSON beside the tree, or files downloaded one by one) joins the VM
    whose root is its directory; otherwise the only VM loaded; with no VM at all, the loose
    files are one VM's together, named by their common folder, and a single loose file by its own
    path (its folder may hold files that were never read); only among several VMs does it
    stand alone.
    """
    paths = list(dict.fromkeys(source_paths))
    roots = {p: collection_of(p) for p in paths}
    trees = {r for r in roots.values() if r is not None} | set(vms)
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


def vm_name(collection: str, directories: Iterable[str] = ()) -> str:
    """What `loglens fleet` calls the VM of ``collection``: its path relative to the directory
    named to load, or its own last component when it is that directory (or a file or archive)."""
    for directory in sorted({str(Path(d)) for d in directories}, key=len, reverse=True):
        if collection == directory:
            return Path(directory).resolve().name
        rel = _relative(collection, directory)
        if rel is not None:
            return rel
    return PurePosixPath(collection).name or collection


def _relative(path: str, directory: str) -> str | None:
    """``path`` relative to ``directory`` (POSIX, as source names are), or None when not under it."""
    prefix = "" if directory == "." else directory if directory.endswith("/") else directory + "/"
    if path.startswith(prefix) and path != prefix and not (not prefix and path.startswith("/")):
        return path[len(prefix) :]
    return None


def _joined(directory: str, root: str) -> str:
    return root if directory == "." else str(PurePosixPath(directory, root))
