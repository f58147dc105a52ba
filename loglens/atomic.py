"""Outputs written atomically: to a temporary file beside the target, then renamed over it.

A full disk, a killed process or two writers racing for one path never leave a truncated or
interleaved report: readers see the old file or the whole new one. The temporary file is
removed when the write fails.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _current_umask() -> int:
    # Read once at import: setting and restoring it later would race with other threads.
    umask = os.umask(0)
    os.umask(umask)
    return umask


_UMASK = _current_umask()


@contextmanager
def replacing(out: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; on success it replaces ``out``, on error it is removed."""
    out = Path(out)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        # mkstemp makes the file 0600; an output gets the permissions a plain open would give.
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(out: Path | str, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``out`` atomically."""
    with replacing(out) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(out)
