"""Report windows and the periods inside them, in the contact centre's time zone.

A window is ``[from, to)`` in whole local days; ``--to`` names the first day *not* reported, so
``--from 2026-11-01 --to 2026-12-01`` is November. Periods are local hours, days, or ISO weeks
starting on Monday. Labels are local ISO strings ("2026-11-02T09:00", "2026-11-02", "2026-W45").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BY = ("hour", "day", "week")
_SLOT = 900  # seconds; every time zone's offset is a whole number of quarter hours


@dataclass(frozen=True)
class Place:
    """Where one instant falls: its period labels, its weekday (0 = Monday) and its local hour."""
    hour: str
    day: str
    week: str
    weekday: int
    hour_of_day: int


class Calendar:
    """Maps instants to periods; instants in the same quarter hour share one cached ``Place``."""

    def __init__(self, tz: str = "UTC"):
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r} (an IANA name such as Europe/London)") from None
        self.tz = tz
        self._cache: dict[int, Place] = {}

    def place(self, ts: float) -> Place:
        slot = int(ts // _SLOT)
        found = self._cache.get(slot)
        if found is None:
            local = datetime.fromtimestamp(slot * _SLOT, self.zone)
            year, week, _ = local.isocalendar()
            found = Place(local.strftime("%Y-%m-%dT%H:00"), local.strftime("%Y-%m-%d"), f"{year}-W{week:02d}",
                          local.weekday(), local.hour)
            self._cache[slot] = found
        return found

    def label(self, ts: float, by: str) -> str:
        return getattr(self.place(ts), by)

    def day_start(self, day: date) -> float:
        """Epoch seconds of local midnight at the start of ``day``."""
        return datetime(day.year, day.month, day.day, tzinfo=self.zone).timestamp()

    def window(self, first: date, end: date) -> tuple[float, float]:
        if end <= first:
            raise ValueError(f"the window is empty: --to {end} is not after --from {first}")
        return self.day_start(first), self.day_start(end)


def days_by_weekday(first: date, end: date) -> list[int]:
    """How many Mondays, Tuesdays, ... the days ``[first, end)`` hold: averages per day divide by these."""
    counts = [0] * 7
    day = first
    while day < end:
        counts[day.weekday()] += 1
        day += timedelta(days=1)
    return counts


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-11-01") from None
