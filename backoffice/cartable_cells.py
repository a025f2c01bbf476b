"""The cartables' cells (issue 23): the formatters Flask-Admin's list calls with a model
instance, and their lean twins that read a narrow row (backoffice/lean_list.py).

Written with f-strings and ``escape``: Markup.format goes through string.Formatter in
Python, most of a lean list's time. The lean cells keep the words of a page (a state's
label, "overdue", a Jalali date) once per page in its context (``page_word``).
"""

from __future__ import annotations

from flask_babel import gettext
from markupsafe import Markup, escape

import models
import persian
from web.labels import local_digits, status_label

from .base import status_badge
from .export import as_datetime
from .lean_list import page_word


def status_cell_html(status: str, label: str, resubmitted: bool, resubmitted_word: str) -> Markup:
    badge = status_badge(status, label)
    if resubmitted:
        # A request back after the applicant fixed it: not the same as a new one.
        badge += Markup(f' <span class="resubmitted-badge" data-resubmitted="1">{escape(resubmitted_word)}</span>')
    return badge


def status_cell(view, context, model, name):
    resubmitted = models.cartable.is_resubmitted(model)
    return status_cell_html(
        model.status, status_label(model.status), resubmitted, gettext("resubmitted") if resubmitted else ""
    )


def review_link_cell(view, context, model, name):
    """The request number, linking to the review in the current tab (the whole row opens it)."""
    href = escape(view.get_url(".review_view", id=model.id, tab=view.current_tab()))
    return Markup(f'<a class="review-link" href="{href}">{escape(model.id)}</a>')


def sortable_columns(model, *names):
    """A cartable's sortable columns: its own, plus the two a deadline is read from
    (days waiting sorts by the last submission, oldest first when ascending)."""
    return (*names, ("waiting", model.last_submitted_at), "due_on")


def code_html(value):
    return Markup(f'<span class="ltr nowrap">{escape(value)}</span>')


def due_cell_html(due_on, late: bool, overdue_word: str) -> Markup:
    """A decision's due date in Jalali, marked when it has passed."""
    flag = f" <strong>{escape(overdue_word)}</strong>" if late else ""
    return Markup(
        f'<span class="due{" due-late" if late else ""}" data-overdue="{"1" if late else "0"}">'
        f"{escape(persian.format_jalali_date(due_on))}{flag}</span>"
    )


def is_late(model, today) -> bool:
    return model.status in model.FLOW.waiting_states and model.due_on < today


def due_cell(view, context, model, name):
    if not model.due_on:
        return ""
    late = is_late(model, models.utcnow().date())
    return due_cell_html(model.due_on, late, gettext("overdue") if late else "")


def waiting_cell_html(days: int, digits: str) -> Markup:
    level = "old" if days > 14 else ("aging" if days > 7 else "fresh")
    return Markup(f'<span class="aging aging-{level}" data-days="{days}">{escape(digits)}</span>')


def waiting_cell(view, context, model, name):
    if model.status not in model.FLOW.waiting_states or not model.last_submitted_at:
        return ""
    days = (models.utcnow() - (model.last_submitted_at or model.submitted_at)).days
    return waiting_cell_html(days, local_digits(days))


def lean_status(view, row, context):
    """``status_cell`` for a lean row, its label and word kept once per page."""
    resubmitted = models.cartable.is_resubmitted(row)
    return page_word(
        context,
        ("status", row.status, resubmitted),
        lambda: status_cell_html(
            row.status, status_label(row.status), resubmitted, gettext("resubmitted") if resubmitted else ""
        ),
    )


def lean_due(view, row, context):
    """``due_cell`` for a lean row (one Jalali conversion per date and page)."""
    if not row.due_on:
        return ""
    late = is_late(row, context["today"])
    return page_word(
        context,
        ("due", row.due_on, late),
        lambda: due_cell_html(row.due_on, late, gettext("overdue") if late else ""),
    )


def lean_waiting(view, row, context):
    """``waiting_cell`` for a lean row."""
    if row.status not in row.FLOW.waiting_states or not row.last_submitted_at:
        return ""
    days = (context["now"] - (row.last_submitted_at or row.submitted_at)).days
    return page_word(context, ("waiting", days), lambda: waiting_cell_html(days, local_digits(days)))


def waiting_days(status, last_submitted_at):
    """Whole days a request has waited on the university since it was last submitted."""
    if status not in models.WAITING_STATES or not last_submitted_at:
        return ""
    return (models.utcnow() - as_datetime(last_submitted_at)).days
