"""Encoded `Event:` payloads: the agent may send an event's `message=` as base64 of zlib-compressed
text (`message=eJytkU1LxDAQhu/5FY...=`), so the error it carries is invisible to a reader.

Such a payload is decoded; the record keeps the raw text and gains the decoded one after it
(`[decoded message=] ...`), so rules read the real error and evidence shows both. `event_message`
holds the decoded text. Only rows whose payload starts like a zlib stream are tried, and a payload
that does not decode is left as it is.
"""

from __future__ import annotations

import base64
import binascii
import zlib

import polars as pl

#: base64 of a zlib stream with default compression starts `eJ` (bytes 0x78 0x9c).
ENCODED = r"^eJ[A-Za-z0-9+/]+={0,2}$"
#: What separates the raw payload from its decoded text in `message`.
MARKER = "\n[decoded message=] "
#: Decoded payloads are cut here (an event message is at most a few KiB).
MAX_DECODED = 64 * 1024


def decode_payloads(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` with base64+zlib `event_message` payloads decoded (see the module docstring)."""
    encoded = records.get_column("event_message").str.contains(ENCODED).fill_null(False)
    if not encoded.any():
        return records
    rows = encoded.arg_true()
    decoded = pl.Series(
        [_decode(t) for t in records.get_column("event_message").gather(rows).to_list()], dtype=pl.String
    )
    ok = decoded.is_not_null()
    rows, decoded = rows.filter(ok), decoded.filter(ok)
    messages = records.get_column("message").gather(rows) + MARKER + decoded
    return records.with_columns(
        records.get_column("message").scatter(rows, messages),
        records.get_column("event_message").scatter(rows, decoded),
    )


def _decode(payload: str) -> str | None:
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(base64.b64decode(payload, validate=True), MAX_DECODED)
    except (binascii.Error, ValueError, zlib.error):
        return None
    return data.decode("utf-8", errors="replace")
