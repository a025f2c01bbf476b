"""Identity checks behind one adapter: the civil registry (national code + birth date ->
found, names, alive) and Shahkar (national code + mobile -> is this the holder's line).

The real services sit behind the government's service bus; an integrator bridges them to
the small JSON API of the contract (CONTRACT.md, "Registration with a verified mobile and
identity"), which :class:`HttpIdentity` speaks. :class:`NoIdentityCheck` checks nothing
(development; production refuses it unless acknowledged, see ``app.py``).

Every failure to get a clear answer (a time-out, a refused connection, a 5xx, a body that is
not the contract's JSON) raises :class:`IdentityUnavailable`: the caller stores nothing and
lets nothing through unchecked. Imports no Flask.
"""

from __future__ import annotations

import datetime as _dt
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException

from persian import normalize_text

from .base import N_, DomainError

CIVIL_REGISTRY_PATH = "/civil-registry/v1/inquiry"
SHAHKAR_PATH = "/shahkar/v1/match"
DEFAULT_TIMEOUT = 5.0
BACKENDS = ("none", "http")


class IdentityUnavailable(DomainError):
    """The identity service gave no usable answer: try again later."""

    def __init__(self):
        super().__init__(
            N_("The identity check is not available right now. Nothing was saved; please try again later."),
            code="identity_unavailable",
        )


class IdentityRefused(DomainError):
    """The identity service answered, and the answer refuses the person or the mobile."""


@dataclass(frozen=True)
class PersonRecord:
    """The civil registry's answer about one national code and birth date."""

    found: bool
    first_name: str = ""
    last_name: str = ""
    alive: bool = True


def comparable_name(name) -> str:
    """A name as compared with the civil registry's: Persian letters (ي/ی, ك/ک), no ZWNJ,
    no spaces, so «محمد علی», «محمدعلی» and «محمد‌علي» are one name."""
    return normalize_text(name).replace("\u200c", "").replace(" ", "")


def names_match(typed_first, typed_last, record: PersonRecord) -> bool:
    return comparable_name(typed_first) == comparable_name(record.first_name) and comparable_name(
        typed_last
    ) == comparable_name(record.last_name)


class IdentityAdapter:
    """The interface every identity backend implements: two questions, two answers."""

    name = ""
    checks_identity = True

    def inquire_person(self, national_code: str, birth_date: _dt.date) -> PersonRecord:
        """The civil registry's record, or raise IdentityUnavailable."""
        raise IdentityUnavailable()

    def mobile_belongs_to(self, national_code: str, mobile: str) -> bool:
        """Shahkar: is ``mobile`` registered to the holder of ``national_code``?"""
        raise IdentityUnavailable()

    def check_person(self, national_code, birth_date, first_name, last_name) -> None:
        """Refuse (IdentityRefused with the field to mark) unless the civil registry knows
        a living person with these names; IdentityUnavailable when it cannot tell."""
        record = self.inquire_person(national_code, birth_date)
        if not record.found:
            raise IdentityRefused(
                N_("The civil registry has no person with this national code and birth date."),
                field="national_code",
                code="identity_not_found",
            )
        if not record.alive:
            raise IdentityRefused(
                N_("The civil registry records this person as deceased."),
                field="national_code",
                code="identity_not_alive",
            )
        if not names_match(first_name, last_name, record):
            raise IdentityRefused(
                N_("The first and last name do not match the civil registry's record for this national code."),
                field="last_name"
                if comparable_name(first_name) == comparable_name(record.first_name)
                else "first_name",
                code="identity_names_differ",
            )

    def check_mobile(self, national_code, mobile) -> None:
        """Refuse unless Shahkar says the mobile line is the national code holder's."""
        if not self.mobile_belongs_to(national_code, mobile):
            raise IdentityRefused(
                N_("This mobile number is not registered to the holder of this national code (Shahkar)."),
                field="mobile",
                code="mobile_not_holders",
            )


class NoIdentityCheck(IdentityAdapter):
    """``IDENTITY_BACKEND=none``: no check at all (development and tests of other rules)."""

    name = "none"
    checks_identity = False

    def inquire_person(self, national_code, birth_date) -> PersonRecord:
        return PersonRecord(found=True)

    def mobile_belongs_to(self, national_code, mobile) -> bool:
        return True

    def check_person(self, national_code, birth_date, first_name, last_name) -> None:
        return None


class HttpIdentity(IdentityAdapter):
    """``IDENTITY_BACKEND=http``: the contract's JSON over HTTP(S), with a bearer token."""

    name = "http"

    def __init__(self, base_url: str, token: str = "", timeout: float = DEFAULT_TIMEOUT):
        if not base_url:
            raise ValueError("IDENTITY_URL must be set when IDENTITY_BACKEND=http")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _post(self, path: str, payload: dict) -> dict:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(payload).encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(64 * 1024)
        except urllib.error.HTTPError as error:
            # A 4xx or 5xx: its body is not read, and its connection is closed here.
            error.close()
            raise IdentityUnavailable() from None
        except (urllib.error.URLError, HTTPException, OSError, ValueError):
            # A refused connection, a time-out (an OSError), a broken answer.
            raise IdentityUnavailable() from None
        try:
            answer = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise IdentityUnavailable() from None
        if not isinstance(answer, dict):
            raise IdentityUnavailable()
        return answer

    def inquire_person(self, national_code, birth_date) -> PersonRecord:
        answer = self._post(CIVIL_REGISTRY_PATH, {"national_code": national_code, "birth_date": birth_date.isoformat()})
        found = answer.get("found")
        if found is False:
            return PersonRecord(found=False)
        first, last, alive = answer.get("first_name"), answer.get("last_name"), answer.get("alive")
        if found is not True or not isinstance(alive, bool) or not isinstance(first, str) or not isinstance(last, str):
            raise IdentityUnavailable()
        return PersonRecord(found=True, first_name=first, last_name=last, alive=alive)

    def mobile_belongs_to(self, national_code, mobile) -> bool:
        answer = self._post(SHAHKAR_PATH, {"national_code": national_code, "mobile": mobile})
        match = answer.get("match")
        if not isinstance(match, bool):
            raise IdentityUnavailable()
        return match


def identity_from_settings(backend: str, url: str = "", token: str = "", timeout: float = DEFAULT_TIMEOUT):
    """The adapter the settings name (``IDENTITY_BACKEND``, ``IDENTITY_URL``, ``IDENTITY_TOKEN``)."""
    if backend == "none":
        return NoIdentityCheck()
    if backend == "http":
        return HttpIdentity(url, token, timeout)
    raise ValueError(f"IDENTITY_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")


def check_identity(adapter: IdentityAdapter, national_code, birth_date, first_name, last_name, mobile) -> None:
    """Both checks of a registration: the person (civil registry), then the mobile (Shahkar)."""
    adapter.check_person(national_code, birth_date, first_name, last_name)
    adapter.check_mobile(national_code, mobile)
