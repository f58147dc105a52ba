"""Secret redaction applied to every text that leaves loglens.

Logs carry SAS tokens, storage keys, passwords, bearer tokens and protected settings, written in
whatever syntax the tool that logged them uses. A secret is found by structure, not by a list of
spellings:

- by its **name**: a key, flag or variable whose name holds a word of the secret vocabulary
  (`_STRONG` anywhere in the name, `_WEAK` as a whole part of it: `AZURE_STORAGE_KEY`, `x-auth`,
  `storageKey`), in every syntax: `k=v`, `k: v`, quoted values, `"k": "v"` in plain, escaped and
  doubly escaped JSON, XML elements, `--flag v` / `--flag=v`, `export K=v`;
- by its **place**: URL user-info (`scheme://user:X@host`, `user:X@proxy`), SAS `sig=` after any
  separator (`?`, `&`, `&amp;`, `\\u0026`, `%26`; `=` or `%3D`), `Authorization:` and `Bearer`
  values, the password argument of the tools that take one (`mysql -pX`, `az login -p X`,
  `sshpass -p X`, `curl -u user:X`, `.netrc`, `Enter password for u: X`);
- by its **shape**: private-key blocks (PEM, PGP, cut or whole), PuTTY key lines, base64 key
  material on lines of its own, 88-character storage keys, JWTs, GitHub and AWS tokens.

Each form keeps the name and replaces the value with ``«REDACTED»``, so the evidence stays
readable; each has a real-shaped example a test checks, and a generated test plants secrets in
every syntax and wrapper. The patterns are Rust-regex syntax so they run inside Polars over whole
columns. Texts are redacted whole, before anything cuts or joins them (`findings`, the rules'
summaries), so a form is never split.
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


#: Words that make a name secret wherever they stand in it (`runAsPassword`, `client_secret`).
_STRONG = (
    r"password|passwd|passphrase|secret|token|credential|apikey|accountkey|sharedaccesskey|privatekey"
    r"|connectionstring|protectedsettings|commandtoexecute|sastoken|storagekey"
)
#: Words that make a name secret when they are a whole part of it, between `_`, `.`, `-` or the
#: ends of the name (`AZURE_DEVOPS_EXT_PAT`, `sig`, `db_pwd`); `key` only after another part
#: (`AZURE_STORAGE_KEY`, `api-key`).
_WEAK = r"pwd|pass|sig|signature|pat|auth|creds?|sas"
#: The same words ending a camelCase name (`storageKey`, `adminPwd`): case-sensitive on purpose.
_CAMEL = r"(?-i:Key|Pwd|Pass|Sig|Pat|Auth|Creds?|Sas)"
#: A secret name (case-insensitive where it is used).
NAME = (
    r"\b(?:[\w.-]*(?:" + _STRONG + r")[\w.-]*"
    r"|(?:[\w.-]*[_.-])?(?:" + _WEAK + r")(?:[_.-][\w.-]*)?\b"
    # `key` alone names a key (`"Key": "ExtensionTelemetryPipeline"`); with a prefix it is one.
    r"|[\w.-]*[_.-]key(?:[_.-][\w.-]*)?\b"
    r"|[\w.-]*[a-z0-9]" + _CAMEL + r"(?:[_.-][\w.-]*)?\b)"
)
#: A quote as JSON writes it inside zero, one or two levels of string escaping (`"`, `\"`, `\\\"`).
_Q = r'\\*"'

#: In order: whole blocks first, then places, then named values, then shapes. (`_ascii` is applied
#: to each pattern below.)
_FORMS: tuple[SecretForm, ...] = (
    SecretForm(
        "private-key",
        # Whole or cut: a block with no END line (cut at a length, or at the end of a paste) goes to the end.
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        MARKER,
        "-----BEGIN RSA PRIVATE KEY-----\nS3CR3TMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    ),
    SecretForm(
        "putty-key",
        r"(?i)(Private-Lines:\s*\d+)(?:\s*\n\s*[A-Za-z0-9+/=]+)+",
        "${1} " + MARKER,
        "PuTTY-User-Key-File-3: ssh-rsa\nPrivate-Lines: 2\nS3CR3TAAAAgQCv\nAAAAQQDx",
    ),
    # A key block split into one row per line: each base64 line on its own.
    SecretForm("key-material-line", r"(?m)^\s*[A-Za-z0-9+/]{60,}={0,2}\s*$", MARKER, "S3CR3T" + "A" * 60),
    SecretForm(
        "sas-signature",
        # After `?`, `&`, `&amp;`, `\u0026` or `%26` (none of which leaves a word boundary before `sig`).
        # (`!` ends it too: a signature never holds one, and `archive!member` names do.)
        r"(?i)((?:^|[^a-z])sig(?:=|%3D))[^&\s\"'\\<>!]+",
        "${1}" + MARKER,
        "https://a.blob.core.windows.net/c/x?sv=2021-08-06\\u0026sig=S3CR3T%3D",
    ),
    SecretForm(
        "url-credentials",
        # Greedy to the last `@` before the host: a password may hold `@` itself.
        r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@\"'\\]+:)[^\s/\"'\\]+@",
        "${1}" + MARKER + "@",
        "HttpProxy.Host=http://proxyuser:p@ssS3CR3T@proxy:3128",
    ),
    SecretForm(
        "url-token",
        # A token as the whole user-info (`https://ghp_x@github.com`, `https://x-access-token@...`).
        r"(?i)\b([a-z][a-z0-9+.-]*://)[A-Za-z0-9_-]{20,}@",
        "${1}" + MARKER + "@",
        "git clone https://S3CR3Tghp0123456789abcdef@github.com/o/r",
    ),
    SecretForm(
        "proxy-credentials",
        # Proxy settings written without a scheme: `HttpProxy.Host=user:X@proxy`, `https_proxy=u:X@h`.
        r"(?i)\b([\w.-]*proxy[\w.-]*\s*[=:]\s*[\"']?[^\s:/@\"']+:)[^\s/\"']+@",
        "${1}" + MARKER + "@",
        "HttpProxy.Host=user:S3CR3T@proxy.corp:3128",
    ),
    SecretForm(
        "bearer",
        # `|` too: a header and its token on two lines that a report joined.
        r"(?i)\b(bearer[\s|]+)[A-Za-z0-9\-._~+/]+=*",
        "${1}" + MARKER,
        "curl -H 'Authorization: Bearer S3CR3T.abc'",
    ),
    SecretForm(
        "authorization",
        r"(?i)\b(Authorization\\*\"?\s*[:=]\s*\\*\"?)(?:Basic|SharedKey|SharedAccessSignature)?\s*[^\s\"\\]+",
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
        # `"k": "v"` as written, escaped once (`\"k\": \"v\"`) or twice: the value ends at the
        # first quote with the same escaping.
        r"(?i)(" + _Q + NAME + _Q + r"\s*:\s*" + _Q + r")(?:[^\"\\]|\\[^\"\\]|\\\\+[^\"\\])*?(" + _Q + r")",
        "${1}" + MARKER + "${2}",
        '{"settings": "{\\"commandToExecute\\": \\"curl -u u:S3CR3T x\\", \\"adminPassword\\": \\"S3CR3T\\"}"}',
    ),
    SecretForm(
        "json-secret-bare",
        r"(?i)(" + _Q + NAME + _Q + r"\s*:\s*)[^\s\"\\,}\]]+",
        "${1}" + MARKER,
        '{"pin_password": 73S3CR3T}',
    ),
    SecretForm(
        "xml-secret",
        r"(?i)(<(?:[\w.-]+:)?" + NAME + r"(?:\s[^>]*)?>)[^<]*",
        "${1}" + MARKER,
        "<UserPassword>S3CR3T</UserPassword>",
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
        r"(?i)(" + NAME + r"\s*[=:]\s*)(?:\"[^\"]*\"|'[^']*')",
        "${1}" + MARKER,
        'password="S3CR3T with spaces"',
    ),
    SecretForm(
        "kv-secret",
        r"(?i)(" + NAME + r"\s*[=:]\s*)[^\s,;&\"'<>|]+",
        "${1}" + MARKER,
        "export AZURE_STORAGE_KEY=S3CR3T",
    ),
    SecretForm(
        "option-secret",
        # `--account-key X`, `--sas-token=X`, `-passin pass:X`; a value never starts with `-` (the next flag).
        r"(?i)(\s--?(?:[\w-]*(?:" + _STRONG + r")[\w-]*|(?:[a-z0-9]+[-_])*(?:" + _WEAK + r"|passin|passout)(?:[-_][\w-]*)?|(?:[a-z0-9]+[-_])+key)"
        r"(?:=|\s+))[^\s\"'-][^\s\"']*",
        "${1}" + MARKER,
        "az storage blob upload --account-key S3CR3T -f x",
    ),
    SecretForm(
        "tool-password",
        # The tools whose `-p` is a password (`mysql -pX`, `az login -u u -p X`, `sshpass -p X`).
        r"(?i)(\b(?:mysql\w*|mariadb\w*|sshpass|az|docker|sqlcmd|smbclient)\b[^\n|;&]*?\s(?-i:-p)\s?)[^\s\"'-][^\s\"']*",
        "${1}" + MARKER,
        "mysql -uroot -pS3CR3T mydb",
    ),
    SecretForm(
        "curl-user",
        r"(?i)(\b(?:curl|wget)\b[^\n|;&]*?\s(?:-u|--user|--http-password)[\s=]*(?:[^\s:\"']+:)?)[^\s\"']+",
        "${1}" + MARKER,
        "curl -u admin:S3CR3T https://x",
    ),
    SecretForm(
        "netrc",
        r"(?i)(\bmachine\s+\S+(?:\s+login\s+\S+)?\s+password\s+)\S+",
        "${1}" + MARKER,
        "machine github.com login u password S3CR3T",
    ),
    SecretForm(
        "password-prompt",
        # `Enter password for u: X`, `Password for 'https://u@dev.azure.com': X`.
        r"(?i)(\bpass(?:word|phrase)\b[^:=\n]{0,60}?:\s+)[^\s\"']+",
        "${1}" + MARKER,
        "Enter password for admin: S3CR3T",
    ),
    SecretForm("sshpass", r"(\bsshpass\s+-p\s*)\S+", "${1}" + MARKER, "sshpass -p S3CR3T ssh root@10.0.0.4"),
    SecretForm(
        "chpasswd",
        r"([\w.-]+:)[^\s'\":|]+(['\"]?\s*\|\s*(?:sudo\s+)?chpasswd)",
        "${1}" + MARKER + "${2}",
        "echo 'root:S3CR3T' | chpasswd",
    ),
    SecretForm("storage-key", r"\b[A-Za-z0-9+/]{86}==", MARKER, "key S3CR3T" + "a1B2" * 20 + "=="),
    SecretForm(
        "token-shape",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,})",
        MARKER,
        "token ghp_S3CR3T0123456789abcdefABCDEF",
    ),
)


def _ascii(pattern: str) -> str:
    """``pattern`` with ASCII word classes and boundaries. A Unicode `\\b` sends Rust's regex off
    its DFA as soon as a text holds a non-ASCII character (such as the `«REDACTED»` an earlier
    form wrote): 17,000 candidate lines then took 5 s instead of 0.3 s."""
    return pattern.replace("[\\w", "[A-Za-z0-9_").replace("\\w", "[A-Za-z0-9_]").replace("\\b", "(?-u:\\b)")


FORMS: tuple[SecretForm, ...] = tuple(
    SecretForm(f.name, _ascii(f.pattern), f.replacement, f.example) for f in _FORMS
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


#: Every form's match contains one of these (ASCII case-insensitive), or a long run of token
#: characters: a cheap first pass, so the patterns run only on the few rows that may hold a secret.
_LITERALS = [
    "sig",
    "://",
    "@",
    "bearer",
    "authorization",
    "eyj",
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "cred",
    "auth",
    "pat",
    "sas",
    "commandtoexecute",
    "protectedsettings",
    "private",
    "chpasswd",
    "-p",
    "gh",
    "akia",
    "asia",
    "xox",
]
#: The shapes with no word in them: key material and storage keys.
_LONG_RUN = r"[A-Za-z0-9+/]{40}"


def _redacted_column(column: pl.Series) -> pl.Series:
    candidates = column.str.contains_any(_LITERALS, ascii_case_insensitive=True) | column.str.contains(_LONG_RUN)
    rows = candidates.fill_null(False).arg_true()
    if rows.len() == 0:
        return column
    fixed = pl.select(redact_expr(pl.lit(column.gather(rows)))).to_series()
    return column.scatter(rows, fixed)


def redact_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Redact every text column of a frame (messages, errors, config values, output sections, paths).

    A config frame (`key`, `value`) also hides the value of every secret-looking key outright.
    """
    frame = frame.with_columns(
        _redacted_column(frame.get_column(name).clone()).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )
    if {"key", "value"} <= set(frame.columns):
        secret = pl.col("key").str.contains(SECRET_CONFIG_KEY).fill_null(False)
        # A value is redacted as the line it came from (`HttpProxy.Host=user:X@proxy` holds a
        # password only with its key in front).
        as_written = redact_expr(pl.concat_str([pl.col("key"), pl.lit("="), pl.col("value")]))
        frame = frame.with_columns(
            value=pl.when(secret & pl.col("value").is_not_null())
            .then(pl.lit(MARKER))
            .when(pl.col("value").is_not_null() & pl.col("key").is_not_null())
            .then(as_written.str.splitn("=", 2).struct.field("field_1"))
            .otherwise("value")
        )
    return frame
