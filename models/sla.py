"""The service-level clock: a university has a number of working days (the weekend,
``weekend_days``, Friday by default, and official holidays excluded) to decide a request.
The clock runs while a request waits on the university, pauses while it waits on the
applicant, and stops at the decision.

Which states are "waiting on the university" is each request type's business (its
flow's ``waiting_states``); this module only counts days, in Tehran's calendar (a
request submitted at 01:00 Tehran time on Saturday was submitted on Saturday, although
the UTC date is still Friday).

It also holds the directorate's settings (:data:`SETTINGS`), each with its bounds: a
value out of bounds is refused when typed and, should one reach the database anyway, is
read as the nearest bound, so that no setting can turn every submission into an error
(a target of 5,000,000 working days once did, in ``add_working_days``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from peewee import CharField, DateField

from persian import parse_jalali_date, to_ascii_digits

from .base import N_, BaseModel, DomainError, tehran_today

DEFAULT_TARGET_DAYS = 10
FRIDAY = 4  # date.weekday(): Monday 0 ... Friday 4
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Setting(BaseModel):
    """Settings the directorate edits in the back office."""

    key = CharField(max_length=60, unique=True)
    value = CharField(max_length=200)

    def __str__(self):
        return self.key


class Holiday(BaseModel):
    """An official holiday: no working day for the service-level clock."""

    date = DateField(unique=True)
    name = CharField(max_length=120, default="")

    def __str__(self):
        return self.name or self.date.isoformat()


@dataclass(frozen=True)
class IntegerSetting:
    """A whole number of days the directorate sets, between ``low`` and ``high``."""

    key: str
    default: int
    low: int
    high: int
    description: str

    def parse(self, text: str) -> int:
        """The typed value as a number within bounds, or a DomainError saying why not."""
        try:
            value = int(to_ascii_digits(str(text)).strip())
        except ValueError:
            raise DomainError(N_("Type a whole number."), field="value") from None
        if not self.low <= value <= self.high:
            raise DomainError(
                N_("Choose a number from %(low)s to %(high)s."), field="value", low=self.low, high=self.high
            )
        return value


SETTINGS = {
    setting.key: setting
    for setting in (
        IntegerSetting(
            "sla_working_days", DEFAULT_TARGET_DAYS, 1, 60, N_("Working days a university has to decide a request.")
        ),
        IntegerSetting(
            "nomination_expiry_days",
            14,
            1,
            90,
            N_("Days a nominated officer has to answer before the request expires."),
        ),
        IntegerSetting(
            "escalation_working_days",
            3,
            1,
            30,
            N_("Working days past the due date before an overdue request is escalated to the directorate."),
        ),
        IntegerSetting("branch_grace_days", 30, 1, 180, N_("Days a branch may stay without a technical officer.")),
    )
}
WEEKEND_SETTING = "weekend_days"
# A Jalali date: by when migrated working officers must file a qualification request (issue 18).
LEGACY_DEADLINE_SETTING = "legacy_qualification_deadline"


def setting_days(key: str) -> int:
    """The value of one of :data:`SETTINGS`, its default when unset or unreadable, and
    never outside its bounds."""
    setting = SETTINGS[key]
    row = Setting.get_or_none(Setting.key == key)
    if row is None:
        return setting.default
    try:
        value = int(to_ascii_digits(row.value).strip())
    except ValueError:
        return setting.default
    return min(max(value, setting.low), setting.high)


def parse_weekend(text: str) -> tuple[int, ...]:
    """``"thursday, friday"`` as weekday numbers; a DomainError for an unknown day, or a
    week with no working day left."""
    names = [name.strip().lower() for name in (text or "").replace("،", ",").split(",") if name.strip()]
    unknown = [name for name in names if name not in WEEKDAYS]
    if unknown or len(set(names)) >= 7:
        raise DomainError(N_("Name the weekend's days in English, separated by commas (e.g. thursday, friday)."))
    return tuple(sorted({WEEKDAYS.index(name) for name in names}))


def weekend_days() -> tuple[int, ...]:
    """The weekdays no one works (``date.weekday()`` numbers); Friday unless set."""
    row = Setting.get_or_none(Setting.key == WEEKEND_SETTING)
    if row is None:
        return (FRIDAY,)
    try:
        return parse_weekend(row.value)
    except DomainError:
        return (FRIDAY,)


def validate_setting(key: str, value: str) -> str:
    """The value to store for a setting typed in the back office (normalised), or a
    DomainError; unknown keys are refused, since nothing would read them."""
    key = (key or "").strip()
    if key == WEEKEND_SETTING:
        return ", ".join(WEEKDAYS[day] for day in parse_weekend(value))
    if key == LEGACY_DEADLINE_SETTING:
        value = to_ascii_digits(value or "").strip()
        if parse_jalali_date(value) is None:
            raise DomainError(N_("Write a Jalali date, like 1405/06/31."), field="value")
        return value
    if key not in SETTINGS:
        raise DomainError(
            N_("Unknown setting; the known ones are %(keys)s."),
            field="key",
            keys=", ".join([*SETTINGS, WEEKEND_SETTING, LEGACY_DEADLINE_SETTING]),
        )
    return str(SETTINGS[key].parse(value))


def target_working_days() -> int:
    return setting_days("sla_working_days")


def holidays_between(start: _dt.date, end: _dt.date) -> set:
    return {h.date for h in Holiday.select(Holiday.date).where(Holiday.date.between(start, end))}


def is_working_day(day: _dt.date, holidays: set, weekend: tuple = (FRIDAY,)) -> bool:
    return day.weekday() not in weekend and day not in holidays


def add_working_days(start: _dt.date, days: int, holidays: set | None = None, weekend: tuple = (FRIDAY,)) -> _dt.date:
    """The date on which ``days`` working days after ``start`` have passed (``weekend``:
    the weekdays off; callers pass :func:`weekend_days`)."""
    if holidays is None:
        holidays = holidays_between(start, start + _dt.timedelta(days=days * 3 + 60))
    current, remaining = start, max(0, days)
    while remaining > 0:
        current += _dt.timedelta(days=1)
        if is_working_day(current, holidays, weekend):
            remaining -= 1
    return current


def working_days_between(
    start: _dt.date, end: _dt.date, holidays: set | None = None, weekend: tuple = (FRIDAY,)
) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    if holidays is None:
        holidays = holidays_between(start, end)
    return sum(
        1 for i in range(1, (end - start).days + 1) if is_working_day(start + _dt.timedelta(days=i), holidays, weekend)
    )


def clock_changes(request, source: str, target: str, now: _dt.datetime, waiting_states) -> dict:
    """How a transition from ``source`` to ``target`` moves the clock of ``request``: it
    runs in ``waiting_states`` (waiting on the university), pauses while the request
    waits on the applicant (deficient), and stops at the decision. Days are Tehran's."""
    model = type(request)
    today = tehran_today(now)
    if target in waiting_states and source not in waiting_states:
        remaining = target_working_days() - (request.clock_used_days or 0)
        return {model.due_on: add_working_days(today, remaining, weekend=weekend_days())}
    if source in waiting_states and target not in waiting_states:
        waited_since = tehran_today(request.last_submitted_at or request.submitted_at or now)
        used = (request.clock_used_days or 0) + working_days_between(waited_since, today, weekend=weekend_days())
        return {model.clock_used_days: used, model.due_on: None}
    return {}


def overdue(model, today: _dt.date | None = None):
    """The requests of a reviewed type still waiting on a university after their due date."""
    today = today or tehran_today()
    return model.select().where(model.status.in_(model.FLOW.waiting_states) & (model.due_on < today))
