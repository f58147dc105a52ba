"""Azure Blob Storage sources (`az://container/prefix`), read through fsspec and adlfs.

Credentials come from ``--connection-string`` or, as adlfs reads them, the environment
(`AZURE_STORAGE_CONNECTION_STRING`, or `AZURE_STORAGE_ACCOUNT_NAME` with `AZURE_STORAGE_ACCOUNT_KEY`
or `AZURE_STORAGE_SAS_TOKEN`, or a service principal). No message here carries a credential:
errors are reduced to their type and first line, then redacted.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from loglens.errors import LoglensError, first_line

SCHEMES = ("az://", "abfs://", "abfss://")


class StorageError(LoglensError):
    """A blob source cannot be listed or read."""


def is_blob_url(source: str) -> bool:
    return source.lower().startswith(SCHEMES)


def _path_of(url: str) -> str:
    """`az://container/prefix` -> `container/prefix` (fsspec's path form)."""
    return url.split("://", 1)[1].strip("/")


def filesystem(connection_string: str | None):
    """An adlfs file system; raises StorageError when the fleet extra is not installed."""
    try:
        from adlfs import AzureBlobFileSystem
    except ImportError as exc:
        raise StorageError("reading az:// sources needs the fleet extra: pip install 'loglens[fleet]'") from exc
    try:
        if connection_string:
            return AzureBlobFileSystem(connection_string=connection_string)
        return AzureBlobFileSystem()
    except Exception as exc:  # adlfs raises ValueError and azure errors alike for bad credentials
        raise StorageError(f"cannot open the storage account: {_reason(exc)}") from exc


def list_blobs(url: str, connection_string: str | None) -> dict[str, tuple[int, str]]:
    """Blobs under ``url`` by path relative to it: (size, ETag)."""
    fs = filesystem(connection_string)
    prefix = _path_of(url)
    try:
        listing = fs.find(prefix, detail=True)
    except Exception as exc:
        raise StorageError(f"cannot list blobs: {_reason(exc)}") from exc
    out = {}
    for path, info in listing.items():
        if info.get("type") == "directory":
            continue
        relative = PurePosixPath(path).relative_to(prefix).as_posix() if path != prefix else PurePosixPath(path).name
        if not _is_plain(relative):
            continue  # `..`, `.` or empty segments: a name that could write outside the scratch directory
        out[relative] = (int(info.get("size") or 0), str(info.get("etag") or info.get("last_modified") or ""))
    return out


def _is_plain(relative: str) -> bool:
    """True for a relative blob path made of plain names only."""
    parts = relative.split("/")
    return bool(relative) and not relative.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def confined(base: Path, relative: str) -> Path:
    """``base / relative``, refusing (StorageError) a path that would land outside ``base``."""
    target = (base / relative).resolve()
    if not _is_plain(relative) or not target.is_relative_to(base.resolve()):
        raise StorageError(f"blob name {relative!r} would be written outside the scratch directory; refused")
    return target


def download(
    location: str, members: tuple[str, ...], is_directory: bool, into: Path, connection_string: str | None
) -> Path:
    """Copy one unit's blobs under ``into`` (its name kept); returns the local file or directory."""
    fs = filesystem(connection_string)
    remote = _path_of(location)
    local = confined(into, PurePosixPath(remote).name)
    try:
        if not is_directory:
            fs.get_file(remote, str(local))
            return local
        for member in members:
            target = confined(local, member)
            target.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(f"{remote}/{member}", str(target))
    except Exception as exc:
        raise StorageError(f"cannot download {location}: {_reason(exc)}") from exc
    return local


def _reason(exc: BaseException) -> str:
    from loglens.redact import redact_texts

    text = f"{type(exc).__name__}: {first_line(exc)}"
    return redact_texts([text])[0]
