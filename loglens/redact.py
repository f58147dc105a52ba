"""Secret redaction applied to every text column before it leaves loglens.

Logs can carry SAS tokens, storage keys, passwords and protected settings. Each pattern keeps
the key name and replaces the value with ``REDACTED`` so the evidence stays readable.
"""

from __future__ import annotations

import polars as pl

MARKER = "«REDACTED»"

#: Ordered (name, pattern, replacement); Rust-regex syntax so they run inside Polars.
PATTERNS: tuple[tuple[str, str, str], ...] = (
    # PEM private key blocks (whole block, possibly across folded lines).
    ("private-key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)-----END [A-Z ]*PRIVATE KEY-----", MARKER),
    # SAS token signature in a URL or connection string: keep `sig=`.
    ("sas-signature", r"(?i)\b(sig=)[^&\s\"']+", "${1}" + MARKER),
    # Storage account keys in connection strings.
    ("account-key", r"(?i)\b(AccountKey=)[^;\s\"']+", "${1}" + MARKER),
    # HTTP Authorization headers (Bearer/Basic/SharedKey ...).
    ("authorization", r"(?i)\b(Authorization:\s*)[^\r\n]+", "${1}" + MARKER),
    # JSON-ish secrets: "password": "..." and friends (protected settings leaked into logs).
    (
        "json-secret",
        r'(?i)("(?:password|pwd|secret|token|storageAccountKey|commandToExecute|protectedSettings|accessKey|clientSecret)"\s*:\s*)"(?:[^"\\]|\\.)*"',
        '${1}"' + MARKER + '"',
    ),
    # key=value secrets on command lines and in logfmt.
    ("kv-secret", r"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s,;&\"']+", "${1}" + MARKER),
)


def redact_expr(expr: pl.Expr) -> pl.Expr:
    """Apply every redaction pattern to a String expression."""
    for _name, pattern, replacement in PATTERNS:
        expr = expr.str.replace_all(pattern, replacement)
    return expr


def redact_text(text: str) -> str:
    """Redact one string (for terminal output of single lines)."""
    return pl.select(redact_expr(pl.lit(text, pl.String))).item()


def redact_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Redact every text column of a frame (messages, errors, config values, output sections)."""
    return frame.with_columns(redact_expr(pl.col(name)) for name, dtype in frame.schema.items() if dtype == pl.String)
