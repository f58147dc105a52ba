"""The agent's own configuration: `/etc/waagent.conf` and saved `waagent --version` output."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
import regex

from parsers import schema
from parsers.documents import read_document, rows_to_frame
from parsers.formats.declaration import Clue, Format
from parsers.reader import Source, SourceAccount

#: `Key=Value`, spaces allowed around `=`; keys are dotted words (AutoUpdate.Enabled, HttpProxy.Host).
SETTING = r"^\s*(?P<key>[A-Za-z][\w.]*)\s*=\s*(?P<value>.*?)\s*$"
#: `WALinuxAgent-2.2.17 running on ubuntu 16.04` / `Python: 3.5.2` / `Goal state agent: 2.2.18`.
_VERSION_LINE = regex.compile(r"^WALinuxAgent-(?P<package>\S+) running on (?P<distro>.+?)\s*$", regex.M)
_PYTHON_LINE = regex.compile(r"^Python: (?P<python>\S+)", regex.M)
_GOAL_STATE_LINE = regex.compile(r"^Goal state agent: (?P<goal>\S+)", regex.M)


def read_waagent_conf(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Settings of waagent.conf files (schema ``CONFIG_COLUMNS``); comments and blanks are skipped lines."""
    frames, accounts = [], []
    for source in sources:
        document = read_document(source, "waagent_conf")
        accounts.append(document.account)
        if not document.text:
            if not document.account.warnings:
                document.account.warn("file is empty")
            continue
        # Physical lines are `\n`-separated (what the agent splits on, and what the account counts).
        text_lines = document.text.split("\n")
        if document.text.endswith("\n"):
            text_lines.pop()
        lines = pl.DataFrame({"text": text_lines}, schema={"text": pl.String}).with_row_index("line", offset=1)
        text = pl.col("text")
        lines = lines.with_columns(
            setting=text.str.extract_groups(SETTING),
            ignorable=text.str.strip_chars().str.starts_with("#") | (text.str.strip_chars() == ""),
        ).unnest("setting")
        # The agent's reading of a value: cut at the first `#` (a trailing comment), then blanks
        # and double quotes stripped.
        lines = lines.with_columns(
            value=pl.col("value").str.split("#").list.first().str.strip_chars().str.strip_chars('"').str.strip_chars()
        )
        settings = lines.filter(pl.col("key").is_not_null() & ~pl.col("ignorable"))
        skipped = lines.filter(pl.col("ignorable")).height
        account = document.account
        account.records, account.skipped = settings.height, skipped
        account.unparsed = lines.height - settings.height - skipped
        if account.unparsed:
            first = lines.filter(pl.col("key").is_null() & ~pl.col("ignorable"))["line"][0]
            account.warn(f"{account.unparsed} line(s) are not `Key=Value` settings (first at line {first})")
        # Lines that are not settings stay visible: key null, the raw text as the value.
        kept = lines.filter(~pl.col("ignorable")).with_columns(value=pl.coalesce("value", "text"))
        frames.append(
            kept.select(source_path=pl.lit(source.name), line=pl.col("line").cast(pl.UInt32), key="key", value="value")
        )
    frame = pl.concat(frames) if frames else schema.empty_frame(schema.CONFIG_COLUMNS)
    return schema.conform(frame, schema.CONFIG_COLUMNS), accounts


def read_agent_versions(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """`waagent --version` outputs (schema ``AGENT_VERSION_COLUMNS``)."""
    rows, accounts = [], []
    for source in sources:
        document = read_document(source, "waagent_version")
        accounts.append(document.account)
        version, python, goal = (p.search(document.text) for p in (_VERSION_LINE, _PYTHON_LINE, _GOAL_STATE_LINE))
        found = [m for m in (version, python, goal) if m]
        if not found:
            document.account.unparsed = document.lines
            document.account.warn("no `WALinuxAgent-<version> running on <distro>` line found")
            continue
        document.account.records = len(found)
        document.account.skipped = document.lines - len(found)
        rows.append(
            {
                "source_path": source.name,
                "package_version": version["package"] if version else None,
                "distro": version["distro"] if version else None,
                "python_version": python["python"] if python else None,
                "goal_state_agent": goal["goal"] if goal else None,
            }
        )
    return rows_to_frame(rows, schema.AGENT_VERSION_COLUMNS), accounts


def _is_version_output(head: bytes) -> bool:
    return head.lstrip().startswith(b"WALinuxAgent-") and b"Goal state agent" in head


FORMATS = (
    Format(
        name="waagent_conf",
        summary="The agent's configuration, `/etc/waagent.conf`.",
        frames=(("config", schema.CONFIG_COLUMNS),),
        read=lambda sources, options: read_waagent_conf(sources),
        paths=(Clue(20, lambda path: path.name == "waagent.conf", "`/etc/waagent.conf`"),),
        samples=("sample_logs/vm-modern/etc/waagent.conf",),
    ),
    Format(
        name="waagent_version",
        summary="Saved `waagent --version` output.",
        frames=(("agent_version", schema.AGENT_VERSION_COLUMNS),),
        read=lambda sources, options: read_agent_versions(sources),
        sniffs=(Clue(10, _is_version_output, "text opening `WALinuxAgent-` with a `Goal state agent` line"),),
        samples=("tests/fixtures/vm-rhel-bundle/waagent-version.txt",),
    ),
)
