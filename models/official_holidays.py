"""Iran's official holidays from the ``holidays`` package (country IR, Persian names), loaded
into the table the service-level clock reads (:class:`models.sla.Holiday`), one Jalali year
at a time (``flask load-holidays YEAR``; ``init-db`` loads the current and the next year).

Loading is idempotent: a holiday already loaded is left as it is (its name refreshed if the
package renamed it), one the package no longer lists for that year is removed (the dates of
the lunar holidays are estimates a newer package may correct), and a closure the directorate
entered by hand is never touched, even on a date the package also names. Imports no Flask.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import holidays
import jdatetime

from .base import N_, DomainError, db, tehran_today
from .sla import Holiday

SOURCE = "holidays"  # Holiday.source of a loaded row; "" is one entered by hand
FIRST_YEAR, LAST_YEAR = 1358, 1500  # the Islamic Republic's calendar; the package's reach


@dataclass(frozen=True)
class LoadResult:
    year: int
    added: int
    renamed: int
    removed: int
    kept_by_hand: int

    def summary(self) -> str:
        return (
            f"{self.year}: {self.added} added, {self.renamed} renamed, {self.removed} removed, "
            f"{self.kept_by_hand} entered by hand kept"
        )


def jalali_year_range(year: int) -> tuple[_dt.date, _dt.date]:
    """The first and last Gregorian dates of Jalali ``year`` (1 Farvardin to the last of Esfand)."""
    first = jdatetime.date(year, 1, 1).togregorian()
    last = jdatetime.date(year + 1, 1, 1).togregorian() - _dt.timedelta(days=1)
    return first, last


def official_holidays(year: int) -> dict[_dt.date, str]:
    """``{date: Persian name}`` of Jalali ``year``'s official holidays, as the package has them."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError(
            N_("Choose a Jalali year between %(low)s and %(high)s."), field="year", low=FIRST_YEAR, high=LAST_YEAR
        )
    first, last = jalali_year_range(year)
    calendar = holidays.country_holidays("IR", years=range(first.year, last.year + 1), language="fa_IR")
    max_length = Holiday.name.max_length
    return {day: name[:max_length] for day, name in sorted(calendar.items()) if first <= day <= last}


def load_official_holidays(year: int) -> LoadResult:
    """Load Jalali ``year``'s official holidays (see the module's docstring); safe to run again."""
    wanted = official_holidays(year)
    first, last = jalali_year_range(year)
    added = renamed = removed = 0
    with db.atomic():
        stored = {h.date: h for h in Holiday.select().where(Holiday.date.between(first, last))}
        by_hand = {day for day, h in stored.items() if h.source != SOURCE}
        for day, name in wanted.items():
            row = stored.get(day)
            if row is None:
                Holiday.create(date=day, name=name, source=SOURCE)
                added += 1
            elif row.source == SOURCE and row.name != name:
                Holiday.update(name=name).where(Holiday.id == row.id).execute()
                renamed += 1
        stale = [h.id for day, h in stored.items() if h.source == SOURCE and day not in wanted]
        if stale:
            removed = Holiday.delete().where(Holiday.id.in_(stale)).execute()
    return LoadResult(year, added, renamed, removed, len(by_hand))


def current_jalali_year(today: _dt.date | None = None) -> int:
    """The Jalali year of today in Tehran."""
    return jdatetime.date.fromgregorian(date=today or tehran_today()).year
