"""The agent's text logs and other text, declared by reference to the waagent grammar.

The grammar and its chunk engine live in `parsers/waagent_format.py`, `waagent.py` and
`waagent_stream.py`; this module only declares the three source kinds that take that grammar:
the agent's `waagent.log` and its rotations, any other text in which the message catalogue
recognises a line (syslog copies, pastes, command output), and `CommandExecution.log`, the agent's
log of each extension command it runs. `parsers.load` streams the first two chunk by chunk; the
`read` functions here read whole files (samples, command logs).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

import polars as pl
import regex

from parsers import schema, sniff
from parsers.formats.declaration import Clue, Format, ReadOptions
from parsers.formats.extension_logs import in_extension_log_folder
from parsers.reader import Source, SourceAccount
from parsers.waagent_format import FILE_NAME as WAAGENT_FILE_NAME
from parsers.waagent_stream import read_waagent

_COMMAND_EXECUTION_FILE = regex.compile(r"^CommandExecution(?:_.+)?\.log(?:\.\d+)?(?:\.gz)?$")


def _reader(kind: str):
    def read(sources: Sequence[Source], options: ReadOptions) -> tuple[pl.DataFrame, list[SourceAccount]]:
        result = read_waagent(sources, tz=options.zone, chunk_bytes=options.chunk_bytes, kind=kind)
        return result.frame, result.accounts

    return read


def _is_command_execution(path: PurePosixPath) -> bool:
    return in_extension_log_folder(path) and bool(_COMMAND_EXECUTION_FILE.match(path.name))


WAAGENT = Format(
    name="waagent",
    summary="The agent's log, `/var/log/waagent.log`, its rotations and `.gz` copies.",
    frames=(("waagent", schema.WAAGENT_COLUMNS),),
    read=_reader("waagent"),
    paths=(Clue(10, lambda path: bool(WAAGENT_FILE_NAME.match(path.name)), "`waagent.log*`"),),
    record_kind="waagent",
    samples=("sample_logs/vm-modern/var/log/waagent.log",),
    streamed=True,
)
TEXT = Format(
    name="text",
    summary="Any other text in which the message catalogue recognises a line (syslog, pastes, command output).",
    frames=(("waagent", schema.WAAGENT_COLUMNS),),
    read=_reader("text"),
    sniffs=(Clue(100, sniff.has_catalogue_lines, "a line the message catalogue recognises"),),
    record_kind="waagent",
    samples=("tests/corpus/cases/001-blacklisted-agent-crash-missing-logdir.log",),
    streamed=True,
)
COMMAND_EXECUTION = Format(
    name="command_execution",
    summary="The agent's log of the commands it runs for an extension.",
    frames=(("command_execution", schema.WAAGENT_COLUMNS),),
    read=_reader("command_execution"),
    paths=(Clue(70, _is_command_execution, "`/var/log/azure/<extension>/CommandExecution*.log`"),),
    record_kind="command_execution",
    samples=("sample_logs/vm-modern/var/log/azure/Microsoft.Azure.Extensions.CustomScript/CommandExecution.log",),
)
