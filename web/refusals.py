"""How a domain refusal reads and which HTTP status it carries, for every door (the
error pages and forms in ``errors``, the problem documents in ``problems``)."""

from __future__ import annotations

from flask_babel import gettext

import models


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
