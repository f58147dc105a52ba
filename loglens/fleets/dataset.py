"""The fleet dataset on disk: one Parquet file per VM and part, each written atomically.

Layout (`docs/schema.md`, "Fleet dataset"): `DIR/vms/<stem>.parquet` (one row), and
`DIR/findings/`, `DIR/evidence/`, `DIR/other_errors/` with a file per VM that has rows. One task
writes only its own VM's files, so workers never contend; the `vms` row is written last, so a VM
counts as done only when all its parts are on disk. `DIR/reports/<stem>.html` holds per-VM
reports when asked for. Each part also holds `columns.parquet`, no rows, its declared columns.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from loglens import atomic
from loglens.schema import FLEET_SCHEMAS, conform, empty_frame

PARTS = tuple(FLEET_SCHEMAS)
#: The parts besides `vms`, written before it.
ROW_PARTS = tuple(p for p in PARTS if p != "vms")
REPORTS = "reports"


#: A zero-row file in every part, so that a part no VM has rows for still reads as a table.
COLUMNS_FILE = "columns.parquet"


def prepare(out: Path) -> None:
    """Create the part directories, each with its zero-row `columns.parquet` (VM stems never clash with it)."""
    for part, columns in FLEET_SCHEMAS.items():
        target = out / part / COLUMNS_FILE
        if not target.exists():
            _write(empty_frame(columns), target)


def part_file(out: Path, part: str, stem: str) -> Path:
    return out / part / f"{stem}.parquet"


def write_vm(out: Path, stem: str, frames: dict[str, pl.DataFrame], row: dict) -> None:
    """Write one VM's parts, then its `vms` row; a part without rows leaves no file (and removes
    an earlier run's)."""
    for part in ROW_PARTS:
        frame = frames.get(part)
        target = part_file(out, part, stem)
        if frame is None or frame.is_empty():
            target.unlink(missing_ok=True)
            continue
        _write(conform(frame, FLEET_SCHEMAS[part]), target)
    _write(vm_frame([row]), part_file(out, "vms", stem))


def vm_frame(rows: list[dict]) -> pl.DataFrame:
    """`vms` rows as a frame of the declared schema."""
    columns = FLEET_SCHEMAS["vms"]
    schema = {c.name: c.dtype for c in columns}
    return conform(pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema), columns)


def _write(frame: pl.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(target) as temporary:
        frame.write_parquet(temporary)


def scan(out: Path, part: str) -> pl.LazyFrame:
    """One part of the dataset as a lazy frame (empty, with its columns, when no file exists)."""
    directory = Path(out) / part
    if not any(directory.glob("*.parquet")):
        return empty_frame(FLEET_SCHEMAS[part]).lazy()
    return pl.scan_parquet(directory / "*.parquet", schema={c.name: c.dtype for c in FLEET_SCHEMAS[part]})


def done(out: Path) -> dict[str, tuple[str, str, str | None]]:
    """Per VM already in the dataset: (fingerprint, loglens version, failure)."""
    rows = scan(out, "vms").select("vm", "fingerprint", "loglens_version", "failure").collect()
    return {vm: (fingerprint, version, failure) for vm, fingerprint, version, failure in rows.iter_rows()}
