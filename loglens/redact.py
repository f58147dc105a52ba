"""Secret redaction applied to every text that leaves loglens.

Logs can carry SAS tokens, storage keys, passwords, bearer tokens and protected settings. One
declared list of secret forms, each with a real-shaped example that a test checks, keeps the key
name and replaces the value with ``«REDACTED»`` so the evidence stays readable. The patterns are
Rust-regex syntax so they run inside Polars over whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

MARKER = "«REDACTED»"


@dataclass(frozen=True)
class SecretForm:
    """One way a secret appears in text: pattern, replacement, and an example holding `S3CR3T`."""

    name: str
    pattern: str
    replacement: str
    example: str


#: Key words whose value is secret in `key=value`, `key: value`, `--key value` and JSON forms.
_SECRET_KEYS = (
    r"password|passwd|pwd|secret|token|api[_-]?key|accountkey|sharedaccesskey|runAsPassword|commandToExecute"
    r"|protectedSettings|storageAccountKey|accessKey|client[_-]?secret"
)

#: In order: whole blocks and URLs first, then keyed values.
FORMS: tuple[SecretForm, ...] = (
    SecretForm(
        "private-key",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)-----END [A-Z ]*PRIVATE KEY-----",
        MARKER,
        "-----BEGIN RSA PRIVATE KEY-----\nS3CR3TMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    ),
    # A key block split into one row per line: each base64 line on its own.
    SecretForm("key-material-line", r"(?m)^[A-Za-z0-9+/]{60,}={0,2}$", MARKER, "S3CR3T" + "A" * 60),
    SecretForm(
        "sas-signature",
        r"(?i)\b(sig=)[^&\s\"']+",
        "${1}" + MARKER,
        "https://a.blob.core.windows.net/c/x?sv=2020&sig=S3CR3T%3D",
    ),
    SecretForm(
        "url-credentials",
        r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@\"']+:)[^\s@/\"']+@",
        "${1}" + MARKER + "@",
        "HttpProxy.Host=http://proxyuser:S3CR3T@proxy:3128",
    ),
    SecretForm(
        "bearer",
        r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*",
        "${1}" + MARKER,
        "curl -H 'Authorization: Bearer S3CR3T.abc'",
    ),
    SecretForm(
        "authorization",
        r"(?i)\b(Authorization\"?\s*[:=]\s*\"?)(?:Basic|SharedKey)?\s*[^\s\"]+",
        "${1}" + MARKER,
        "Authorization: Basic S3CR3T",
    ),
    SecretForm(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
        MARKER,
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTM0NSM1QifQ.S3CR3Tsig",
    ),
    SecretForm(
        "json-secret",
        r'(?i)("[\w.-]*(?:' + _SECRET_KEYS + r')[\w.-]*"\s*:\s*)"(?:[^"\\]|\\.)*"',
        '${1}"' + MARKER + '"',
        '{"runAsPassword": "S3CR3T", "Authorization": "x"}',
    ),
    # A command line holds its secrets anywhere in it: the whole value goes.
    SecretForm(
        "command-to-execute",
        r"(?i)\b(commandToExecute\s*[=:]\s*)[^\n\"]+",
        "${1}" + MARKER,
        "commandToExecute=bash -c 'curl -u u:S3CR3T x'",
    ),
    SecretForm(
        "quoted-secret",
        r"(?i)\b([\w.-]*(?:" + _SECRET_KEYS + r")[\w.-]*\s*[=:]\s*)(?:\"[^\"]*\"|'[^']*')",
        "${1}" + MARKER,
        'password="S3CR3T with spaces"',
    ),
    SecretForm(
        "kv-secret",
        r"(?i)\b([\w.-]*(?:" + _SECRET_KEYS + r")[\w.-]*\s*[=:]\s*)[^\s,;&\"']+",
        "${1}" + MARKER,
        "AZURE_CLIENT_SECRET=S3CR3T",
    ),
    SecretForm(
        "option-secret",
        r"(?i)(--?(?:password|passwd|pwd|client-secret|secret|token|api-key)[= ]\s*)[^\s\"']+",
        "${1}" + MARKER,
        "useradd admin --password S3CR3T",
    ),
    SecretForm("sshpass", r"(\bsshpass\s+-p\s*)\S+", "${1}" + MARKER, "sshpass -p S3CR3T ssh root@10.0.0.4"),
    SecretForm(
        "chpasswd",
        r"([\w.-]+:)[^\s'\":|]+(['\"]?\s*\|\s*(?:sudo\s+)?chpasswd)",
        "${1}" + MARKER + "${2}",
        "echo 'root:S3CR3T' | chpasswd",
    ),
)
#: waagent.conf keys whose value is secret wherever it is shown (`Provisioning.Password`, proxy credentials).
SECRET_CONFIG_KEY = r"(?i)password|passwd|secret|token|key\b|HttpProxy\.(?:User|Password)"


def redact_expr(expr: pl.Expr) -> pl.Expr:
    """Apply every redaction pattern to a String expression."""
    for form in FORMS:
        expr = expr.str.replace_all(form.pattern, form.replacement)
    return expr


def redact_text(text: str) -> str:
    """Redact one string (for terminal output of single lines)."""
    return pl.select(redact_expr(pl.lit(text, pl.String))).item()


def redact_texts(texts: list[str]) -> list[str]:
    """Redact many strings in one pass (prefiltered like frames)."""
    return _redacted_column(pl.Series(texts, dtype=pl.String)).to_list() if texts else []


#: Every form's match contains one of these (ASCII case-insensitive), or is a long unbroken line:
#: a cheap first pass, so the patterns run only on the few rows that may hold a secret.
_LITERALS = [
    "sig=",
    "://",
    "bearer",
    "authorization",
    "eyj",
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "key",
    "commandtoexecute",
    "protectedsettings",
    "private key",
    "chpasswd",
    "sshpass",
    "-p",
]


def _redacted_column(column: pl.Series) -> pl.Series:
    candidates = column.str.contains_any(_LITERALS, ascii_case_insensitive=True) | (
        (column.str.len_bytes() >= 60) & ~column.str.contains(" ", literal=True)
    )
    rows = candidates.fill_null(False).arg_true()
    if rows.len() == 0:
        return column
    fixed = pl.select(redact_expr(pl.lit(column.gather(rows)))).to_series()
    return column.scatter(rows, fixed)


def redact_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Redact every text column of a frame (messages, errors, config values, output sections).

    A config frame (`key`, `value`) also hides the value of every secret-looking key outright.
    """
    frame = frame.with_columns(
        _redacted_column(frame.get_column(name).clone()).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )
    if {"key", "value"} <= set(frame.columns):
        secret = pl.col("key").str.contains(SECRET_CONFIG_KEY).fill_null(False)
        frame = frame.with_columns(
            value=pl.when(secret & pl.col("value").is_not_null()).then(pl.lit(MARKER)).otherwise("value")
        )
    return frame
