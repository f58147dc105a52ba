"""The VM's UTC offset, for sources that write local time (old agents, extension lines)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import regex

#: A fixed offset: `+05:30`, `-0800`, `+2`, optionally after `UTC`/`GMT`.
_OFFSET_RE = regex.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$", regex.IGNORECASE)


class TimezoneError(ValueError):
    """The ``--tz`` value is neither a UTC offset nor a known IANA zone name."""


@dataclass(frozen=True)
class VmTimezone:
    """How to turn the VM's local wall-clock time into UTC.

    Exactly one of ``offset_minutes`` (a fixed offset east of UTC) and ``zone`` (an IANA name,
    DST-aware) is used.
    """

    spec: str
    offset_minutes: int = 0
    zone: str | None = None

    @classmethod
    def parse(cls, spec: str | None) -> VmTimezone:
        """Parse ``UTC``, ``+05:30``, ``-0800`` or an IANA name such as ``Europe/Berlin``.

        Raises:
            TimezoneError: for anything else.

        Example:
            >>> VmTimezone.parse("+05:30").offset_minutes
            330
        """
        text = (spec or "UTC").strip()
        if text.upper() in ("UTC", "GMT", "Z", "+00:00", "0"):
            return cls("UTC")
        if match := _OFFSET_RE.match(text):
            sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
            if hours > 14 or minutes >= 60:
                raise TimezoneError(f"UTC offset out of range: {spec!r}")
            total = hours * 60 + minutes
            return cls(text, offset_minutes=-total if sign == "-" else total)
        try:
            pl.select(pl.lit(0).cast(pl.Datetime("us")).dt.replace_time_zone(text))
        except Exception as exc:  # polars raises ComputeError for unknown zones
            raise TimezoneError(
                f"unknown time zone {spec!r}: give a UTC offset like +05:30 or an IANA name like Europe/Berlin"
            ) from exc
        return cls(text, zone=text)

    def to_utc(self, local: pl.Expr) -> pl.Expr:
        """Expression converting naive local datetimes to UTC-aware ones."""
        if self.zone is not None:
            # Ambiguous wall times (DST fall-back) resolve to the earlier instant; skipped ones become null.
            return local.dt.replace_time_zone(
                self.zone, ambiguous="earliest", non_existent="null"
            ).dt.convert_time_zone("UTC")
        shifted = local - pl.duration(minutes=self.offset_minutes) if self.offset_minutes else local
        return shifted.dt.replace_time_zone("UTC")
