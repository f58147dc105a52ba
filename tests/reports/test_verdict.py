"""The verdict calls a VM healthy only when nothing went unexplained."""

from __future__ import annotations

from loglens import api
from loglens.reports import document, model

#: ERROR lines in the agent's grammar with a wording no rule knows (made up for the test, on purpose:
#: no agent writes it), beside an ordinary start: text loglens reads but cannot diagnose.
UNEXPLAINED = """\
2019/07/24 08:04:25.130170 INFO Daemon Azure Linux Agent Version: 2.9.1.1
2019/07/24 08:04:25.229386 ERROR ExtHandler Unexpected frobnication in the widget table: 7
2019/07/24 08:09:25.229386 ERROR ExtHandler Unexpected frobnication in the widget table: 8
"""
HEALTHY = """\
2019/07/24 08:04:25.130170 INFO Daemon Azure Linux Agent Version: 2.9.1.1
2019/07/24 08:04:26.130170 INFO ExtHandler Agent WALinuxAgent-2.9.1.1 is running as the goal state agent
"""


def _report(tmp_path, text):
    log = tmp_path / "var/log/waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text(text)
    return model.build(api.analyze([tmp_path]), neighbours=False, facts=False)


def test_unexplained_errors_are_not_a_clean_bill_of_health(tmp_path):
    report = _report(tmp_path, UNEXPLAINED)
    assert "working normally" not in report.verdict
    assert "2 error record(s) no rule explained" in report.verdict
    assert document.build(report)["unexplained"]["error_records"] == 2


def test_healthy_log_is_working_normally(tmp_path):
    report = _report(tmp_path, HEALTHY)
    assert "working normally" in report.verdict
    assert document.build(report)["unexplained"] == {
        "error_records": 0,
        "warning_records": 0,
        "known_benign_records": 0,
        "inputs_not_read": [],
    }


def test_documentation_code_spans_render_as_code_and_stay_escaped():
    """Remediation texts are written with `code` spans: the HTML shows them as code, never as raw
    backticks, and anything else in them stays escaped."""
    from loglens.reports.html import code_spans

    html = str(code_spans("run it from `/var/lib/waagent/run-command/download/<seq>/` <b>now</b>"))
    assert html == (
        "run it from <code>/var/lib/waagent/run-command/download/&lt;seq&gt;/</code> &lt;b&gt;now&lt;/b&gt;"
    )
