"""Every declared secret form (loglens/redact.py) is redacted in its own example, and the forms
the hardening audit found leaking are each caught."""

from __future__ import annotations

import polars as pl
import pytest

from loglens.redact import FORMS, MARKER, redact_frame, redact_text

#: Forms the audit planted (issue "Hardening"), each with the secret S3CR3T in it.
LEAKED_BEFORE = (
    "commandToExecute=bash -c S3CR3T",
    "adduser --password S3CR3T admin",
    'password="S3CR3T"',
    "password: S3CR3T",
    "echo 'root:S3CR3T' | chpasswd",
    "sshpass -p S3CR3T ssh root@host",
    "runAsPassword=S3CR3T",
    '{"runAsPassword": "S3CR3T"}',
    "runAsPassword: S3CR3T",
    '{"Authorization": "Bearer S3CR3T"}',
    "Bearer S3CR3T",
    "client_secret=S3CR3T",
    '{"client_secret": "S3CR3T"}',
    "az login --client-secret S3CR3T",
    "AZURE_CLIENT_SECRET=S3CR3T",
    "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=S3CR3T",
    "https://user:S3CR3T@example.com/x",
    "access_token=S3CR3T",
    '"refresh_token": "S3CR3T"',
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTM0NSM1QifQ.S3CR3T",
    "AWS_SECRET_ACCESS_KEY=S3CR3T",
    "MIIEpAIBAAKCAQEAS3CR3T" + "Q" * 50,
    "HttpProxy.Host=http://proxyuser:S3CR3T@proxy:3128",
)


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_each_form_redacts_its_example(form):
    redacted = redact_text(form.example)
    assert "S3CR3T" not in redacted and MARKER in redacted, redacted


@pytest.mark.parametrize("text", LEAKED_BEFORE)
def test_forms_that_leaked_are_caught(text):
    assert "S3CR3T" not in redact_text(text), redact_text(text)


def test_plain_text_is_left_alone():
    for text in (
        "Password expired for user admin",
        "token bucket refilled",
        "Enable extension [bin/custom-script-shim enable]",
    ):
        assert redact_text(text) == text


def test_secret_config_values_are_hidden_by_key():
    config = pl.DataFrame({"key": ["Provisioning.Password", "HttpProxy.Port"], "value": ["S3CR3T", "3128"]})
    assert redact_frame(config)["value"].to_list() == [MARKER, "3128"]


# -- secrets found by structure: generated ------------------------------------------------------
# Key vocabulary x syntax x wrapper x value: every combination must come out with no trace of the
# value. Names are the ones real tools and people write; values start with S3CR3T and carry the
# characters that used to end a match early (`@`, `%`, `+`, `/`, `=`, `:`).

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NAMES = (
    "password",
    "adminPassword",
    "Provisioning.Password",
    "AZURE_STORAGE_KEY",
    "AZURE_DEVOPS_EXT_PAT",
    "client_secret",
    "access_token",
    "storageAccountKey",
    "sig",
    "api-key",
    "db_pwd",
    "x-auth",
    "credentials",
    "sas_token",
    "passphrase",
    "commandToExecute",
)
#: name, value -> text. JSON escaping levels are what settings look like inside a log line.
SYNTAXES = {
    "equals": "{n}={v}",
    "spaced-equals": "{n} = {v}",
    "colon": "{n}: {v}",
    "double-quoted": '{n}="{v}"',
    "single-quoted": "{n}='{v}'",
    "json": '{{"{n}": "{v}", "other": 1}}',
    "json-escaped": '"settings": "{{\\"{n}\\": \\"{v}\\", \\"x\\": 1}}"',
    "json-escaped-twice": '"{{\\\\\\"{n}\\\\\\": \\\\\\"{v}\\\\\\"}}"',
    "export": "export {n}={v}",
    "xml": "<{n}>{v}</{n}>",
    "flag": "tool --{n} {v} --verbose",
    "flag-equals": "tool --{n}={v}",
}
WRAPPERS = {
    "plain": "{t}",
    "agent": "2024-05-03T14:07:06.006518Z ERROR ExtHandler ExtHandler {t}",
    "journald": "May 03 14:07:06 vm-1 waagent[2401]: {t}",
    "grep": "/var/log/azure/custom-script/handler.log:{t}",
    "indented": "    > {t}",
}
#: Characters a secret value holds in these syntaxes (quotes and backslashes end any value).
VALUE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+/=:._~!#^*"


def _flag_name(name: str) -> str:
    return name.replace("_", "-").replace(".", "-")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(NAMES),
    syntax=st.sampled_from(sorted(SYNTAXES)),
    wrapper=st.sampled_from(sorted(WRAPPERS)),
    tail=st.text(alphabet=VALUE_CHARS, min_size=0, max_size=24),
)
def test_generated_secrets_leave_no_trace(name, syntax, wrapper, tail):
    value = "S3CR3T" + tail
    used = _flag_name(name) if syntax.startswith("flag") else name
    text = WRAPPERS[wrapper].format(t=SYNTAXES[syntax].format(n=used, v=value))
    out = redact_text(text)
    assert "S3CR3T" not in out, (text, out)
    # Nothing of the value survives either (a match cut at `@`, `%` or `:` leaked the rest).
    if len(tail) >= 6:
        assert tail not in out, (text, out)
    assert MARKER in out


#: The audit's reproducers of forms the first list did not know, and known forms in real shapes.
AUDIT_FORMS = (
    "az storage account keys list --account-key S3CR3T -o tsv",
    "AZURE_STORAGE_KEY=S3CR3T",
    "az login -u admin@contoso.com -p S3CR3T",
    "mysql -uroot -pS3CR3T -h db",
    "curl -u user:S3CR3T https://example.com",
    "git clone https://ghp_S3CR3T0123456789abcdefghij@github.com/o/r.git",
    "AZURE_DEVOPS_EXT_PAT=S3CR3T",
    "machine example.com login u password S3CR3T",
    "key=" + "S3CR3T" + "A1b2" * 20 + "==",
    "found " + "S3CR3T" + "A1b2" * 20 + "== in the settings",
    "https://a.blob.core.windows.net/c/b?sv=2021-08-06&sig%3DS3CR3T%2Bx",
    'fetched {"sig":"S3CR3T","se":"2025-01-01"}',
    "HttpProxy.Host=http://user:p@ssS3CR3T@proxy:3128",
    "openssl pkcs12 -in x.pfx -passin pass:S3CR3T",
    'settings="{\\"commandToExecute\\":\\"echo hi && curl -H x S3CR3T\\"}"',
    '{\\"adminPassword\\": \\"S3CR3T\\"}',
    "https://a.blob.core.windows.net/c/b?sv=2021-08-06\\u0026sig=S3CR3T\\u0026se=2025",
    "HttpProxy.Host=user:S3CR3T@proxy",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmS3CR3T",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0S3CR3T\n-----END PGP PRIVATE KEY BLOCK-----",
    "PuTTY-User-Key-File-2: ssh-rsa\nPrivate-Lines: 1\nAAAAS3CR3T",
    "Enter password for u: S3CR3T",
    "Authorization: Bearer\nS3CR3T.abc.def",
    "Authorization: Bearer | S3CR3Tabcdef",
)


@pytest.mark.parametrize("text", AUDIT_FORMS)
def test_audit_forms_are_caught(text):
    out = redact_text(text)
    assert "S3CR3T" not in out, out


@pytest.mark.parametrize(
    "text",
    (
        "Password expired for user admin",
        "token bucket refilled",
        "Enable extension [bin/custom-script-shim enable]",
        "monkey=12 path=/var/lib/waagent keyboard=us",
        "tool --path /var/lib/waagent --verbose",
        "2024-05-03T14:07:06.006518Z INFO ExtHandler ExtHandler ProcessExtensionsGoalState completed [incarnation_2 120 ms]",
        "Event: name=Microsoft.Azure.Extensions.CustomScript, op=Enable, message=Launch command succeeded: bin/custom-script-shim enable, duration=0",
        "https://a.blob.core.windows.net/c/b?sv=2021-08-06&se=2025",
    ),
)
def test_ordinary_text_is_left_alone(text):
    assert redact_text(text) == text


def test_config_values_are_redacted_as_the_lines_they_came_from():
    """`HttpProxy.Host=user:X@proxy` (no scheme) holds a password only with its key in front."""
    config = pl.DataFrame(
        {"key": ["HttpProxy.Host", "HttpProxy.Port", "Logs.Verbose"], "value": ["user:S3CR3T@proxy", "3128", "y=z"]}
    )
    assert redact_frame(config)["value"].to_list() == [f"user:{MARKER}@proxy", "3128", "y=z"]
