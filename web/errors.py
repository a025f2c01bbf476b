"""How both doors show a refusal, and the error pages.

A domain operation that says no raises a ``DomainError`` (``models.base``). A view shows it
in one of two ways, and nowhere else does code place an error:

* on a form that is drawn again: ``show_error(form, error)`` puts each message on the field
  it names (``error.field``, or each field of a ``ValidationFailed``), else at the top of the
  form, where the error summary (``role="alert"``) lists it;
* after a POST that redirects: ``with refusals_flashed(): ...`` turns the refusal into a
  flashed message (category ``ERROR``, drawn with ``role="alert"``) on the page the browser
  lands on.

A refusal no view expected reaches the app's handlers: an error page with the message and
the refusal's status (``status_of``: 403, 409, 429 or 422), never a 500.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import current_app, flash, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

import models
import storage

from .security import audit_denial

# The one flash category of an error, on both doors (Flask-Admin flashes its own as "error").
ERROR = "error"


def domain_message(error) -> str:
    """Translate a domain or storage error's message id with its parameters.

    ``storage.UploadRejected`` and ``StorageUnavailable`` carry ``msgid`` and ``params``
    like a ``DomainError`` without being one (storage imports nothing of the domain)."""
    text = gettext(error.msgid)
    params = getattr(error, "params", None) or {}
    return text % params if params else text


def status_of(error) -> int:
    """The HTTP status of a refusal."""
    if isinstance(error, models.ConflictError):
        return 409
    if isinstance(error, models.PermissionDenied):
        return 403
    if isinstance(error, models.LoginThrottled):
        return 429
    return 422


def show_error(form, error, fallback=None) -> None:
    """Put a refusal on the form that is drawn again.

    A ``ValidationFailed`` puts each message on its field; another ``DomainError`` goes on
    the field it names, else on ``fallback`` (a field) if given, else at the top of the
    form (``form.form_errors``). When the identity service could not answer, the form's
    ``error_code`` says so and ``error_summary`` puts it on the alert (``data-code``)."""
    if isinstance(error, models.ValidationFailed):
        for name, (msgid, params) in error.errors.items():
            _place(form, getattr(form, name, None), gettext(msgid) % params if params else gettext(msgid))
        return
    if isinstance(error, models.IdentityUnavailable):
        # The contract's marker on the alert: the identity service did not answer.
        form.error_code = error.code
    _place(form, getattr(form, error.field or "", None) or fallback, domain_message(error))


def _place(form, field, message: str) -> None:
    if field is not None:
        field.errors = list(field.errors or []) + [message]
    else:
        form.form_errors.append(message)


def flash_error(error) -> None:
    """Flash a refusal for the next page (each message of a ``ValidationFailed``)."""
    if isinstance(error, models.ValidationFailed):
        for msgid, params in error.errors.values():
            flash(gettext(msgid) % params if params else gettext(msgid), ERROR)
    else:
        flash(domain_message(error), ERROR)


@contextmanager
def refusals_flashed():
    """Run the block; if the domain refuses, flash why and carry on after the block (the
    view then redirects as it would after success)."""
    try:
        yield
    except models.DomainError as error:
        flash_error(error)


ERROR_TITLES = {
    400: _l("The request was not valid. Reload the page and try again."),
    403: _l("You do not have access to this page."),
    404: _l("The page was not found."),
    405: _l("This action is not allowed here."),
    413: _l("The uploaded files are too large. Each document may be at most 5 MB."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. The error was recorded; please try again later."),
    503: _l("The service is busy right now; please try again in a moment."),
}
HTTP_ERRORS = tuple(ERROR_TITLES)


def error_page(error):
    """The page of an HTTP error (abort(404), a 413 upload...), in the visitor's language."""
    code = getattr(error, "code", 500) or 500
    if code == 500:
        current_app.logger.exception("unhandled error on %s", request.path)
    return render_template("error.html", code=code, message=str(ERROR_TITLES.get(code, ERROR_TITLES[500]))), code


def refusal_page(error):
    """A refusal no view caught: its message on an error page, with its status."""
    code = status_of(error)
    if code == 403:
        audit_denial("access_denied")
    return render_template("error.html", code=code, message=domain_message(error)), code


def storage_unavailable(error):
    """A full or failing disk: nothing was saved, and the user is told so plainly."""
    current_app.logger.error("document storage failed: %r", error.__cause__)
    return render_template("error.html", code=503, message=domain_message(error)), 503


def register_handlers(app) -> None:
    """The app's error pages and refusal handlers (both doors share them)."""
    for code in HTTP_ERRORS:
        app.register_error_handler(code, error_page)
    app.register_error_handler(models.DomainError, refusal_page)
    app.register_error_handler(storage.StorageUnavailable, storage_unavailable)
