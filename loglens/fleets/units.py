"""Split fleet sources into units: one VM collection each, the way `analyze` groups a VM's files.

A source is a directory, a file, a glob, or an `az://container/prefix` URL. Under it, the units
are the VMs of `parsers.vm_groups` (the grouping and the walk `analyze` uses): trees, archives,
directories of loose files downloaded one by one, and loose files beside VM trees. A unit's `vm`
is its path relative to the source (`vm-042`, `eu/vm-042.zip`); a source that is itself one VM is
named by its last component: `loglens analyze` gives each VM the same name (its JSON `vms`).
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from loglens.fleets import storage
from loglens.fleets.dataset import COLUMNS_FILE
from parsers.vm_groups import members, vm_roots, walk


@dataclass(frozen=True)
class Unit:
    """One VM collection to analyse: where it is, and what it held when listed."""

    vm: str
    source: str
    location: str
    is_directory: bool
    files: int
    bytes: int
    #: Newest modification time (local) or a digest of the blobs' ETags (Azure).
    modified: str
    #: For an Azure directory: its blobs, relative to `location` (downloaded before analysis).
    members: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """Equal for a rerun over unchanged input: what resuming compares."""
        return f"{self.files}:{self.bytes}:{self.modified}"

    @property
    def stem(self) -> str:
        """A file name for this VM's parts of the dataset: readable, and unique by a digest."""
        digest = hashlib.sha1(self.vm.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        readable = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.vm)[:80].strip(".")
        return f"{readable or 'vm'}-{digest}"


@dataclass
class Discovery:
    """The units found under the sources, and what could not be listed."""

    units: list[Unit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def discover(sources: Iterable[str], *, connection_string: str | None = None, exclude: Path | None = None) -> Discovery:
    """Every unit under ``sources``, in source order then path order; a VM id is unique per run.

    Args:
        connection_string: for `az://` sources (else the usual `AZURE_STORAGE_*` variables).
        exclude: a directory never listed (the output dataset, when it lies under a source).
    """
    found = Discovery()
    for source in sources:
        if storage.is_blob_url(source):
            _add_blob_source(source, connection_string, found)
        else:
            _add_local_source(source, exclude, found)
    seen: dict[str, str] = {}
    for unit in found.units:
        if unit.vm in seen and seen[unit.vm] != unit.location:
            found.warnings.append(
                f"{unit.location}: VM id {unit.vm!r} is also {seen[unit.vm]}; give the sources one parent directory"
            )
        seen.setdefault(unit.vm, unit.location)
    return found


def group_files(paths: Iterable[str]) -> dict[str, bool]:
    """Unit roots of a tree of files given by relative POSIX path: root -> is it a directory.

    The one VM grouping `analyze` uses too (`parsers.vm_groups.vm_roots`); a root of `.` means
    the whole tree is one VM.
    """
    return vm_roots(paths)


def _add_local_source(source: str, exclude: Path | None, found: Discovery) -> None:
    path = Path(source)
    if not path.exists() and glob.has_magic(source):
        matches = sorted(glob.glob(source))
        if not matches:
            found.warnings.append(f"{source}: no file matches this pattern")
        base = Path(_fixed_prefix(source))
        for match in matches:
            _add_local_path(source, Path(match), base, exclude, found)
        return
    if not path.exists():
        found.warnings.append(f"{source}: no such file or directory")
        return
    _add_local_path(source, path, path if path.is_dir() else path.parent, exclude, found)


def _add_local_path(source: str, path: Path, base: Path, exclude: Path | None, found: Discovery) -> None:
    if path.is_file():
        stat = path.stat()
        found.units.append(_local_unit(source, path, base, False, [(stat.st_size, stat.st_mtime_ns)]))
        return
    files = _walk(path, exclude, found)
    roots = group_files(files)
    for root, inside in members(files, roots).items():
        where = path / root if root != "." else path
        found.units.append(_local_unit(source, where, base, roots[root], [files[rel] for rel in inside]))


def _local_unit(source: str, where: Path, base: Path, is_directory: bool, stats: list[tuple[int, int]]) -> Unit:
    relative = os.path.relpath(where, base)
    vm = where.resolve().name if relative == "." else PurePosixPath(*Path(relative).parts).as_posix()
    return Unit(
        vm=vm,
        source=source,
        location=str(where.resolve()),
        is_directory=is_directory,
        files=len(stats),
        bytes=sum(size for size, _ in stats),
        modified=str(max((mtime for _, mtime in stats), default=0)),
    )


def _walk(root: Path, exclude: Path | None, found: Discovery) -> dict[str, tuple[int, int]]:
    """Regular files under ``root`` by relative POSIX path: (size, mtime in ns), by the walk and
    link policy `analyze` uses (`parsers.vm_groups.walk`); output datasets are not read."""
    excluded = exclude.resolve() if exclude is not None else None

    def prune(directory: Path) -> str | None:
        if excluded is not None and directory.resolve() == excluded:
            return None if directory == root else ""  # the output dataset, under its own source
        if (directory / "vms" / COLUMNS_FILE).is_file():
            # loglens's own output is never input: an earlier run's dataset would become phantom VMs.
            return f"{directory}: a loglens fleet dataset (an earlier run's output); not read"
        return None

    return {
        path.relative_to(root).as_posix(): (status.st_size, status.st_mtime_ns)
        for path, status in walk(root, found.warnings, prune)
    }


def _fixed_prefix(pattern: str) -> str:
    """The directory part of a glob before its first wildcard: what VM ids are relative to."""
    parts = []
    for part in Path(pattern).parts:
        if glob.has_magic(part):
            break
        parts.append(part)
    return str(Path(*parts)) if parts else "."


def _add_blob_source(source: str, connection_string: str | None, found: Discovery) -> None:
    try:
        listing = storage.list_blobs(source, connection_string)
    except storage.StorageError as exc:
        found.warnings.append(f"{source}: {exc}")
        return
    if not listing:
        found.warnings.append(f"{source}: no blobs under this prefix")
        return
    base = source.rstrip("/")
    roots = group_files(listing)
    for root, paths in members(listing, roots).items():
        is_directory = roots[root]
        inside = {rel: listing[rel] for rel in paths}
        prefix = "" if root == "." else root + "/"
        blobs = tuple(rel[len(prefix) :] for rel in inside) if is_directory else ()
        digest = hashlib.sha1("".join(f"{rel}={etag};" for rel, (_, etag) in sorted(inside.items())).encode())
        found.units.append(
            Unit(
                vm=PurePosixPath(base).name if root == "." else root,
                source=source,
                location=base if root == "." else f"{base}/{root}",
                is_directory=is_directory,
                files=len(inside),
                bytes=sum(size for size, _ in inside.values()),
                modified=digest.hexdigest()[:16],
                members=blobs,
            )
        )
