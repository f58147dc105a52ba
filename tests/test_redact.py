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
