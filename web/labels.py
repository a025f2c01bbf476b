"""Labels both doors show, translated in the visitor's language: officer fields (from the
domain's field table, ``models.officer_rules.OFFICER_FIELDS``), states and history actions
(from ``models.review``), and the Jinja filters and globals the templates use."""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale, gettext, pgettext
from flask_babel import lazy_gettext as _l

import models
import persian
from models.officer_rules import CHOICE, DATE, FIELDS_BY_NAME, OFFICER_FIELDS, REFERENCE

FIELD_LABELS = {spec.name: _l(spec.label) for spec in OFFICER_FIELDS}


def field_label(name: str) -> str:
    """The label of an officer field (the name itself for anything else)."""
    return str(FIELD_LABELS.get(name, name))


def field_value(officer, name: str) -> str:
    """An officer's field as a page shows it: a Jalali date, a choice's label, a place's or
    a degree's name, «منطقه ۷» for a municipal district."""
    spec = FIELDS_BY_NAME[name]
    value = getattr(officer, name)
    if value in (None, ""):
        return ""
    if spec.kind == DATE:
        return jalali_date(value)
    if spec.kind == CHOICE:
        label = dict(spec.choices).get(value)
        return gettext(label) if label else value
    if spec.kind == REFERENCE:
        return value.name
    if name == "district":
        return gettext("District %(number)s", number=local_digits(value))
    return str(value)


def action_label(code: str) -> str:
    """The label of a history action (the code itself if it has none)."""
    return gettext(models.ACTION_LABELS[code]) if code in models.ACTION_LABELS else code


def status_label(code: str) -> str:
    """The short label of a state."""
    return pgettext("status", models.STATUS_LABELS.get(code, code)) if code else ""


def local_digits(value) -> str:
    """A number as the page's language writes it: Persian digits (۰-۹) in Persian, ASCII
    digits in English (ux finding 13)."""
    if value is None:
        return ""
    if str(get_locale() or "fa").startswith("fa"):
        return persian.to_persian_digits(value)
    return persian.to_ascii_digits(str(value))


def jalali_date(value) -> str:
    # A stored datetime is UTC: the day it falls on is Tehran's day.
    return persian.format_jalali_date(persian.to_tehran(value) if isinstance(value, datetime) else value)


def jalali_datetime(value) -> str:
    return persian.format_jalali_datetime(persian.to_tehran(value)) if value else ""


def init_app(app) -> None:
    """The filters and globals of every template, and the page's language and direction."""
    app.jinja_env.filters.update(
        jdate=jalali_date, jdatetime=jalali_datetime, fa_digits=local_digits, status_label=status_label
    )
    app.jinja_env.globals.update(
        status_label=status_label,
        action_label=action_label,
        field_label=field_label,
        field_value=field_value,
        officer_fields=OFFICER_FIELDS,
        has_endpoint=lambda name: name in app.view_functions,
    )

    @app.context_processor
    def _layout_values():
        locale = str(get_locale() or "fa")
        return {"current_locale": locale, "text_direction": "rtl" if locale == "fa" else "ltr"}
