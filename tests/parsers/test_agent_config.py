"""waagent.conf read the way the agent reads it (a value is cut at `#`, quotes stripped; only y/n switch)."""

from __future__ import annotations

from loglens import api
from parsers import load_sources


def _tree(tmp_path, text: str):
    conf = tmp_path / "etc" / "waagent.conf"
    conf.parent.mkdir(parents=True)
    conf.write_bytes(text.encode())
    return tmp_path


def test_values_lose_trailing_comments_and_quotes(tmp_path):
    result = load_sources([_tree(tmp_path, 'AutoUpdate.Enabled="n"  # pinned by ops\nHttpProxy.Port=3128#x\n')])
    assert dict(result.frames["config"].select("key", "value").iter_rows()) == {
        "AutoUpdate.Enabled": "n",
        "HttpProxy.Port": "3128",
    }


def test_carriage_returns_and_other_separators_keep_the_accounting(tmp_path):
    # \r, form feed and U+2028 are not line breaks for the agent (it splits on \n).
    result = load_sources([_tree(tmp_path, "AutoUpdate.Enabled=y\r\nExtensions.Enabled=y\x0c\nLogs.Verbose=n\u2028\n")])
    (account,) = result.accounts
    assert (account.lines, account.records) == (3, 3) and account.balanced
    assert result.frames["config"]["value"].to_list() == ["y", "y", "n"]  # the agent strips them as blanks


def test_only_n_turns_a_switch_off(tmp_path):
    findings = api.analyze([_tree(tmp_path, "AutoUpdate.Enabled=false\nExtensions.Enabled=no\n")]).findings
    assert len(findings) == 0


def test_update_to_latest_version_decides_over_auto_update_enabled(tmp_path):
    on = api.analyze([_tree(tmp_path / "a", "AutoUpdate.Enabled=n\nAutoUpdate.UpdateToLatestVersion=y\n")]).findings
    off = api.analyze([_tree(tmp_path / "b", "AutoUpdate.Enabled=y\nAutoUpdate.UpdateToLatestVersion=n\n")]).findings
    assert [f.rule for f in on] == []
    assert [(f.rule, "AutoUpdate.UpdateToLatestVersion=n" in f.summary) for f in off] == [
        ("auto-update-disabled", True)
    ]
