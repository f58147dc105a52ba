"""`parse --out FILE` streams the records chunk by chunk: the same rows as the in-memory export."""

from __future__ import annotations

import polars as pl
import pytest

from benchmarks.generate import generate
from loglens import api
from loglens.errors import InputError
from loglens.redact import redact_frame


@pytest.fixture(scope="module")
def big_log(tmp_path_factory):
    """A generated 30 MB log: three chunks of the default 12 MiB, with incidents and secrets' shapes."""
    path = tmp_path_factory.mktemp("big") / "waagent.log"
    generate(path, 30, seed=3, incident_every=20)
    return path


def test_streamed_parquet_equals_the_in_memory_export(big_log, tmp_path):
    result, rows = api.stream_records([big_log], tmp_path / "records.parquet")
    whole = api.read([big_log])
    expected = redact_frame(whole.frames["waagent"])
    assert rows == expected.height > 100_000
    assert pl.read_parquet(tmp_path / "records.parquet").equals(expected)
    # Every account is complete although the records never sat in memory together.
    assert [vars(a) for a in result.accounts] == [vars(a) for a in whole.accounts]
    assert result.frames["waagent"].is_empty()


@pytest.mark.parametrize("suffix", [".csv", ".ndjson"])
def test_streamed_text_formats_hold_every_row(big_log, tmp_path, suffix):
    out = tmp_path / f"records{suffix}"
    _result, rows = api.stream_records([big_log], out)
    read = pl.read_csv(out, infer_schema=False) if suffix == ".csv" else pl.read_ndjson(out, infer_schema_length=None)
    assert read.height == rows
    assert read["line_first"].cast(pl.Int64).is_sorted()


def test_nothing_readable_writes_no_file(tmp_path):
    (tmp_path / "waagent.log").write_bytes(b"")
    with pytest.raises(InputError, match="no log lines could be read"):
        api.stream_records([tmp_path / "waagent.log"], tmp_path / "out.parquet")
    assert not list(tmp_path.glob("*.parquet")) and not list(tmp_path.glob(".*.part"))


def test_the_cli_streams_and_counts_the_rows(big_log, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "records.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "loglens", "parse", str(big_log), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"{pl.scan_parquet(out).select(pl.len()).collect().item()} rows written to {out}" in done.stdout
