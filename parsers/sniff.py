"""What a file is by its first bytes: people save logs under any name.

Names only hint (`parsers.collect.kind_of_path` reads the path first); when the path does not
tell, the first few KiB decide, by the content clues each source format declares
(`parsers.formats`). This module holds what those clues share: whether the bytes are JSON or
text, and which catalogue messages (`catalogue/`) their lines carry, the same knowledge the rules
read, so a file is read the same way named alone or found in a directory. It also says which
files are never read (documents, code, credentials) and what an unrecognised file looked like.
"""

from __future__ import annotations

import functools

import regex

import catalogue
from catalogue.match import ids_of
from parsers.stamped_lines import LINE_START as STAMPED_LINE_START

#: Files in a tree that are documents or code, never logs, however they mention the agent.
NOT_LOGS = (
    ".md",
    ".rst",
    ".py",
    ".html",
    ".htm",
    ".css",
    ".js",
    ".ipynb",
    ".j2",
    ".toml",
    ".yaml",
    ".yml",
    ".parquet",
    # Key material and provisioning data the agent keeps beside its logs: never read, whatever they mention.
    ".prv",
    ".crt",
    ".pem",
    ".p7m",
    ".pfx",
    ".key",
    "ovf-env.xml",
    "certificates.xml",
    "certificates.json",
)
#: Files that hold credentials by nature, by name: provisioning data (`ovf-env.xml` and its copies
#: `ovf-env.xml.bak`, ...) and custom data (`/var/lib/waagent/CustomData`, cloud-config with passwords).
CREDENTIAL_NAMES = ("ovf-env.xml", "customdata", "user-data")
#: ... and by content, whatever the name: an OVF provisioning document, a cloud-config, a PKCS#12 bag.
_CREDENTIAL_CONTENT = regex.compile(
    rb"<(?:\w+:)?(?:UserPassword|LinuxProvisioningConfigurationSet|ProvisioningSection)\b|\A\s*#cloud-config\b"
    rb"|\A\s*-----BEGIN [A-Z0-9 ]*PRIVATE KEY"
)


def holds_credentials(name: str, head: bytes) -> bool:
    """True for a file that holds credentials by nature (`CREDENTIAL_NAMES`, or content that says
    so): loglens never reads one, whatever else it mentions."""
    lowered = name.lower()
    named = any(lowered == word or lowered.startswith(word + ".") for word in CREDENTIAL_NAMES)
    return named or bool(_CREDENTIAL_CONTENT.search(head))


#: Catalogue messages that are Azure's own status vocabulary (portal, CLI, instance view) rather
#: than a log's: with no log line in the head, such text is control-plane text.
_STATUS_MENTIONS = {"mention.portal-status", "mention.extension-error-marker"}
#: A timestamped log line (the agent's, an extension's, or syslog's, or pasted text stamped with a
#: time of day or `date`'s output, `parsers.stamped_lines`): then the file is a log.
_LOG_LINE = regex.compile(
    rb"(?m)^\s*(?:[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    rb"|[A-Z][a-z]{2} [ 0-9]?[0-9] [0-9]{2}:[0-9]{2}|"
    + STAMPED_LINE_START.encode()
    + rb")"
)


def is_json(head: bytes) -> bool:
    """True when the first bytes open a JSON document."""
    return head.lstrip()[:1] in (b"{", b"[")


def is_text(head: bytes) -> bool:
    """True unless a NUL byte says the data is binary (then no text clue applies)."""
    return b"\x00" not in head


def has_catalogue_lines(head: bytes) -> bool:
    """True when any line carries a message of the catalogue (inside any wrapper): a text log."""
    return is_text(head) and bool(messages_in(head))


def is_status_text(head: bytes) -> bool:
    """True for portal, CLI or instance-view text: catalogue messages of Azure's own status
    vocabulary, and no log line among them."""
    found = messages_in(head) if is_text(head) else set()
    return bool(found) and not _LOG_LINE.search(head) and _is_status_text(found)


@functools.lru_cache(maxsize=4)
def messages_in(head: bytes) -> frozenset[str]:
    """Catalogue ids any line of ``head`` carries (the same pass rules read; `catalogue.match`)."""
    lines = head.decode("utf-8", errors="replace").splitlines()
    return frozenset().union(*ids_of(lines)) if lines else frozenset()


def _is_status_text(found: set[str]) -> bool:
    entries = catalogue.load().by_id
    return any(i in _STATUS_MENTIONS or entries[i].file == "control_plane" for i in found)


def looks_like(head: bytes) -> str:
    """What an unrecognised file looks like, in a few words, for telling the user what was seen."""
    if not head:
        return "empty"
    if head.startswith(b"\x1f\x8b"):
        return "gzip data that is not a known log"
    if b"\x00" in head or sum(byte < 9 or 13 < byte < 32 for byte in head) > len(head) // 10:
        return "binary data"
    text = head.lstrip()
    if text[:1] in (b"{", b"["):
        return "JSON, not a shape loglens reads (instance view, vm show, status, ARM error)"
    if text[:1] == b"<":
        return "XML or HTML, not an ExtensionsConfig"
    lines = head.count(b"\n")
    return f"text with no agent, extension or Azure lines in its first {lines or 1} line(s)"
