"""Find the waagent.log files (and rotated copies) among the paths a user gives."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from parsers.waagent import FILE_NAME, rotation_sort_key


@dataclass
class Discovery:
    """Files to read, oldest first per directory, and one-line warnings about the paths given."""

    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def find_waagent_logs(paths: Iterable[Path | str]) -> Discovery:
    """Expand files and directories into waagent.log files.

    A file is taken as given, whatever its name. A directory is searched recursively for
    ``waagent.log``, ``waagent.log.N[.gz]`` and ``waagent.log-DATE[-EPOCH][.gz]``; symbolic links to
    directories are not followed (a collected tree may link back into itself).

    Example:
        >>> find_waagent_logs(["sample_logs"]).files  # doctest: +SKIP
    """
    found = Discovery()
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            hits = sorted(_walk(path, found), key=rotation_sort_key)
            if not hits:
                found.warnings.append(f"{path}: no waagent.log files found in this directory")
            candidates = hits
        elif path.exists() or path.is_symlink():
            candidates = [path]
        else:
            # Let the reader report it, so the message sits with the file's accounting.
            candidates = [path]
        for candidate in candidates:
            key = candidate.resolve() if candidate.exists() else candidate
            if key not in seen:
                seen.add(key)
                found.files.append(candidate)
    return found


def _walk(root: Path, found: Discovery) -> list[Path]:
    hits = []

    def on_error(exc: OSError) -> None:
        found.warnings.append(f"{exc.filename}: cannot list directory: {exc.strerror}")

    for dirpath, _dirs, files in os.walk(root, onerror=on_error):
        hits += [Path(dirpath, name) for name in files if FILE_NAME.match(name)]
    return hits
