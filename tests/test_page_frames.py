"""A cartable page kept whole around its rows (backoffice/page_frames.py, issue 23): the
kept page is the page drawn whole, its rows are read afresh, its nonce and CSRF token are
this request's, a message shown once is never kept, and one person's page never reaches
another."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import models
from backoffice import page_frames
from helpers import staff_client_for
from models import db
from web.kept import CSRF_HOLE, KeptValues

PATH = "/admin/qualification/?tab=all"


@pytest.fixture
def frames(app):
    """Frames kept a minute (the tests' own lifetime is the default one) and emptied."""
    kept = app.extensions["page_frames"]
    kept.seconds = 60.0
    kept.clear()
    return kept


@pytest.fixture
def submitted(app, make_officer):
    """``submitted()`` files one more request with Tehran's university, straight into the
    database, as another worker would: no write this process sees."""

    def make():
        officer = make_officer()
        now = models.utcnow()
        with db.connection_context():
            university = models.University.get(models.University.name == "دانشگاه علوم پزشکی تهران")
            return models.QualificationRequest.create(
                officer=officer,
                status="submitted",
                university=university,
                submitted_at=now,
                last_submitted_at=now,
                due_on=(now + dt.timedelta(days=3)).date(),
            ).id

    return make


def listed_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'class="cartable-row" data-id="(\d+)"', html)]


def nonces(html: str) -> set[str]:
    return set(re.findall(r'nonce="([^"]+)"', html))


def csrf_tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html))


def test_a_kept_page_is_the_page_drawn_whole(app, frames, make_staff, submitted):
    for _ in range(3):
        submitted()
    client = staff_client_for(app, make_staff(role="directorate", username="director"))
    drawn = client.get(PATH)
    assert len(frames._entries) == 1
    kept = client.get(PATH)
    assert len(frames._entries) == 1  # the same frame, filled again
    frames.seconds = 0.0
    whole = client.get(PATH)
    texts = [response.get_data(as_text=True) for response in (drawn, kept, whole)]
    assert len(listed_ids(texts[0])) == 3
    # Each response has its own nonce, the one its policy allows, at every script.
    for response, html in zip((drawn, kept, whole), texts, strict=True):
        (nonce,) = nonces(html)
        assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
        assert page_frames.NONCE_HOLE not in html and CSRF_HOLE not in html
        assert page_frames.ROWS_HOLE not in html
    assert len({next(iter(nonces(html))) for html in texts}) == 3

    def stable(html):
        # The CSRF token is signed with the second it is made: it may differ too.
        html = re.sub(r'nonce="[^"]+"', 'nonce=""', html)
        return re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]+"', 'name="csrf_token"', html)

    assert stable(texts[1]) == stable(texts[2])
    assert stable(texts[0]) == stable(texts[1])


def test_the_csrf_token_is_the_requests_own(app, frames, make_staff, submitted):
    submitted()
    client = staff_client_for(app, make_staff(role="directorate", username="director"))
    app.config["WTF_CSRF_ENABLED"] = True
    client.get(PATH)
    html = client.get(PATH).get_data(as_text=True)  # from the frame
    (token,) = csrf_tokens(html)
    assert frames._entries
    # The token of the kept page logs the person out: it is theirs and this session's.
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get(PATH).status_code == 302  # to the login page


def test_rows_are_read_afresh_from_a_kept_frame(app, frames, make_staff, submitted, monkeypatch):
    first = submitted()
    monkeypatch.setattr(app.extensions["list_counts"], "seconds", 60.0)  # the counts kept too
    client = staff_client_for(app, make_staff(role="directorate", username="director"))
    assert listed_ids(client.get(PATH).get_data(as_text=True)) == [first]
    second = submitted()  # by another worker: this process forgets nothing
    html = client.get(PATH).get_data(as_text=True)
    assert len(frames._entries) == 1
    assert sorted(listed_ids(html)) == sorted([first, second])


def test_an_empty_page_and_a_full_one_are_different_frames(app, frames, make_staff, submitted):
    client = staff_client_for(app, make_staff(role="directorate", username="director"))
    assert 'colspan="999"' in client.get(PATH).get_data(as_text=True)
    submitted()
    html = client.get(PATH).get_data(as_text=True)
    assert 'colspan="999"' not in html
    assert len(listed_ids(html)) == 1


def test_a_message_shown_once_is_never_kept(app, frames, make_staff, submitted):
    submitted()
    client = staff_client_for(app, make_staff(role="directorate", username="director"))
    client.get(PATH)
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "پیام یک‌باره")]
    shown = client.get(PATH).get_data(as_text=True)
    assert "پیام یک‌باره" in shown
    assert "پیام یک‌باره" not in client.get(PATH).get_data(as_text=True)
    assert all("پیام یک‌باره" not in frame for _expires, frame in frames._entries.values())


def test_one_persons_page_never_reaches_another(app, frames, make_staff, submitted):
    submitted()
    first = make_staff(username="reviewer-one")
    second = make_staff(username="reviewer-two")
    clients = {staff.id: staff_client_for(app, staff) for staff in (first, second)}  # logins are writes
    for _round in range(2):
        for staff, other in ((first, second), (second, first)):
            html = clients[staff.id].get(PATH).get_data(as_text=True)
            assert staff.username in html or staff.full_name in html
            assert other.full_name not in html and other.username not in html
    assert len(frames._entries) == 2


def test_a_write_forgets_the_frames(app, frames, make_staff, submitted):
    submitted()
    client = staff_client_for(app, make_staff(role="directorate", username="director"))
    client.get(PATH)
    assert frames._entries
    client.post("/admin/qualification/ajax/update/", data={})
    assert not frames._entries


def test_frames_are_bounded(app, frames, make_staff, submitted, monkeypatch):
    submitted()
    monkeypatch.setattr(frames, "max_entries", 3)
    client = staff_client_for(app, make_staff(role="directorate", username="director"))
    for page in range(1, 9):
        assert client.get(f"{PATH}&search=x{page}").status_code == 200
        assert len(frames._entries) <= 3


def test_no_lifetime_keeps_nothing():
    kept = KeptValues(0)
    kept.put("key", "value")
    assert kept.peek("key") is None and not kept._entries
