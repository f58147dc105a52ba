"""Message templates: variable parts masked so that messages which differ only in values group.

One ordered list of (name, pattern, placeholder); order matters (GUIDs before hex, URLs before
paths, versions before plain numbers). Patterns use the Rust regex syntax Polars runs.
"""

from __future__ import annotations

import polars as pl

MASKS: tuple[tuple[str, str, str], ...] = (
    ("guid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<guid>"),
    ("timestamp", r"\b\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?Z?", "<time>"),
    ("url", r"\bhttps?://[^\s'\"\]\)]+", "<url>"),
    ("ipv4", r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<ip>"),
    ("extension", r"\[[A-Za-z][\w.]*-\d+(?:\.\d+)*\]", "[<extension>]"),
    ("path", r"(?:/[\w.@+-]+){2,}/?", "<path>"),
    ("version", r"\b\d+(?:\.\d+){1,3}\b", "<version>"),
    ("hex", r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{16,}\b", "<hex>"),
    ("number", r"\b\d+\b", "<n>"),
)


def template(expr: pl.Expr) -> pl.Expr:
    """The first line of a message with every variable part masked."""
    out = expr.str.split("\n").list.first().str.strip_chars()
    for _name, pattern, placeholder in MASKS:
        out = out.str.replace_all(pattern, placeholder)
    return out
