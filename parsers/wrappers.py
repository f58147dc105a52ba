"""Wrappers around agent lines: syslog and journald prefixes, CI timestamps, paste indentation.

Agent lines reach support engineers inside other logs: `journalctl` and `/var/log/syslog` or
`messages` copies (`May 03 14:07:06 host waagent[2401]: 2024-05-03T14:07:06.006518Z INFO ...`,
RFC 3339 stamps with `journalctl -o short-iso`), `systemctl status` blocks, Packer/CI output
(`2020-10-22T04:51:14.3545151Z     azure-arm: ...`), supervisord headers, and pasted text indented
by the poster. Each of those is declared here as data with real sample lines (a test checks them);
any other prefix before an agent timestamp (a `grep` file name, a shell prompt, a bullet, a quote)
is taken as a wrapper too (`EMBEDDED`), without a list of them.

`unwrap` strips a wrapper from every line that has one, so the agent grammar reads the inner line
as if it had been written plainly (its own timestamp wins over the wrapper's). Which wrapped lines
belong to the agent is decided by content: an ident whose lines carry agent headers in the chunk
is the agent's (`python3[1654075]`, `waagent[2401]`), and its other lines are the agent's
continuation lines (tracebacks). Lines of other idents (`systemd-resolved[1538]: ...`) are marked
foreign, so they stay unparsed rows instead of being folded into an agent record.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import regex

#: Each wrapper: (name, pattern of the prefix with named groups, a real sample line). The
#: patterns are anchored prefixes; a line matches at most one (they are tried in this order).
WRAPPERS: tuple[tuple[str, str, str], ...] = (
    (
        "syslog",
        # `Nov  2 02:00:2 python: ` as posted (seconds cut, no host) and `May 03 14:07:06 host waagent[2401]: `.
        r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9]?[0-9] [0-9]{2}:[0-9]{2}:[0-9]{1,2}"
        r" (?:(?P<host>[^\s\[\]:]+) )?(?P<ident>[^\s\[\]:]+)(?:\[(?P<pid>[0-9]+)\])?: ",
        "May 03 14:07:06 newname waagent[2401]: 2024-05-03T14:07:06.006518Z INFO EnvHandler ExtHandler Examine /proc/net/route for primary interface",
    ),
    (
        "rfc3339",
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[+-][0-9]{2}:?[0-9]{2})"
        r" (?:(?P<host>[^\s\[\]:]+) )?(?P<ident>[^\s\[\]:]+)(?:\[(?P<pid>[0-9]+)\])?: ",
        "2024-05-03T14:07:06+0000 newname waagent[2401]: 2024-05-03T14:07:06.006518Z INFO ExtHandler ExtHandler Goal state completed",
    ),
    (
        "ci",
        # Packer and Azure Pipelines: a 7-digit UTC stamp, then the builder's name.
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{7}Z\s+(?P<ident>[\w-]+): ",
        "2020-10-22T04:51:14.3545151Z     azure-arm: E: Could not get lock /var/lib/dpkg/lock-frontend - open (11: Resource temporarily unavailable)",
    ),
    (
        "indent",
        # A poster's leading blanks before a timestamped line.
        r"^[ \t]+(?:[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[T ])",
        " 2018/07/06 14:01:46.761953 ERROR ExtHandler Command: [iptables -w -t security -L], return code: [1]",
    ),
)
#: Any other prefix before an agent line: a `grep` file name (`/var/log/waagent.log.1:`), a shell
#: prompt, a quote or a bullet. Not a list of wrappers: whatever precedes an agent timestamp that
#: starts after a separator is the wrapper (the agent header then decides whether it is the agent's).
#: Group 1 is the prefix alone (Polars' regex has no look-ahead to leave the stamp out of the match).
EMBEDDED = r"^(.{0,199}?[\s:>$#\"'(\[|*-])[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
EMBEDDED_SAMPLE = (
    "/var/log/waagent.log.1:2023-06-05T16:19:18.931679Z INFO ExtHandler WireServer is not responding. Reporting error"
)
#: Every wrapper prefix, capture-free, as one pattern (Polars runs it as one DFA pass).
_ANY = "|".join("(?:" + regex.sub(r"\?P<\w+>", "?:", pattern) + ")" for _, pattern, _ in WRAPPERS)
#: Lines of the chunk looked at to decide whether it is wrapped at all (the fast path's cost).
_PROBE_LINES = 64
#: supervisord's header before each block of a program's output: a wrapper line on its own.
SUPERVISORD = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} [A-Z]{4} '[^']+' std(?:out|err) output:$"
)


@dataclass(frozen=True)
class Unwrapped:
    """A chunk's lines with wrappers stripped.

    Attributes:
        text: every line, its wrapper removed where it had one.
        foreign: lines that belong to another program (or are wrapper headers), to keep unparsed.
        fields: per wrapped line (`line_no`): `wrapper`, `wrapper_host`, `wrapper_ident`, `wrapper_pid`.
    """

    text: pl.Series
    foreign: pl.Series
    fields: pl.DataFrame


def unwrap(lines: pl.DataFrame, agent_header: str) -> Unwrapped | None:
    """Strip wrappers from ``lines`` (columns `line_no`, `text`); None when the chunk has none.

    Args:
        agent_header: the agent grammar's header pattern, to tell the agent's wrapped lines.
    """
    text = lines.get_column("text")
    probe = text.head(_PROBE_LINES)
    embedded = probe.str.contains(EMBEDDED) & ~probe.str.contains(agent_header)
    if not (probe.str.contains(_ANY).any() or probe.str.contains(SUPERVISORD).any() or embedded.any()):
        return None
    declared = text.str.extract(f"({_ANY})", 1)
    # A line that is an agent line as it stands has no wrapper, whatever its message quotes.
    other = pl.select(
        pl.when(declared.is_null() & ~text.str.contains(agent_header)).then(text.str.extract(EMBEDDED, 1))
    ).to_series()
    # Only an agent line is unwrapped this way (`since Tue 2017-01-10 07:42:24 UTC` is not one).
    agent_inside = pl.select(text.str.slice(other.str.len_chars()).str.contains(agent_header)).to_series()
    other = pl.select(pl.when(agent_inside).then(other)).to_series()
    prefix = pl.select(pl.coalesce(declared, other)).to_series()
    wrapped = prefix.is_not_null()
    inner = pl.select(pl.when(wrapped).then(text.str.slice(prefix.str.len_chars())).otherwise(text)).to_series()
    # `indent` keeps the timestamp in its match (a look-ahead Polars' regex lacks): put it back.
    indent = prefix.str.contains(r"^[ \t]+[0-9]").fill_null(False)
    inner = pl.select(pl.when(indent).then(text.str.strip_chars_start(" \t")).otherwise(inner)).to_series()
    fields = _fields(lines.get_column("line_no").filter(wrapped), prefix.filter(wrapped))
    ident = pl.Series([None] * text.len(), dtype=pl.String).scatter(wrapped.arg_true(), fields["wrapper_ident"])
    has_header = inner.str.contains(agent_header)
    agent_idents = ident.filter(wrapped & has_header).unique().drop_nulls()
    foreign = (wrapped & ~has_header & ~ident.is_in(agent_idents.implode()).fill_null(False)) | text.str.contains(
        SUPERVISORD
    )
    return Unwrapped(text=inner.alias("text"), foreign=foreign.fill_null(False).alias("foreign"), fields=fields)


def _fields(line_no: pl.Series, prefix: pl.Series) -> pl.DataFrame:
    """Which wrapper each wrapped line had, and its host, ident and pid."""
    frame = pl.DataFrame({"line_no": line_no, "prefix": prefix})
    columns = []
    # An embedded wrapper's prefix is matched alone (the stamp after it is not part of it).
    for name, pattern, _ in (*WRAPPERS, ("embedded", EMBEDDED.split("[0-9]{4}")[0] + "$", EMBEDDED_SAMPLE)):
        groups = [g for g in ("host", "ident", "pid") if f"?P<{g}>" in pattern]
        matched = pl.col("prefix").str.contains(pattern)
        found = pl.col("prefix").str.extract_groups(pattern)
        columns.append(
            pl.when(matched).then(
                pl.struct(
                    wrapper=pl.lit(name),
                    wrapper_host=found.struct.field("host") if "host" in groups else pl.lit(None, pl.String),
                    wrapper_ident=found.struct.field("ident") if "ident" in groups else pl.lit(None, pl.String),
                    wrapper_pid=found.struct.field("pid") if "pid" in groups else pl.lit(None, pl.String),
                )
            )
        )
    return (
        frame.select("line_no", w=pl.coalesce(columns))
        .unnest("w")
        .with_columns(pl.col("wrapper_pid").cast(pl.Int64, strict=False))
    )


def with_wrapper_fields(records: pl.DataFrame, unwrapped: Unwrapped) -> pl.DataFrame:
    """``records`` with the wrapper columns of the line each starts on."""
    fields = unwrapped.fields.rename({"line_no": "line_first"}).with_columns(pl.col("line_first").cast(pl.UInt32))
    return records.drop(fields.columns[1:], strict=False).join(fields, on="line_first", how="left")
