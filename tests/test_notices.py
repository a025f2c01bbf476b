"""Directorate notices and the officers' inbox."""

import re

import pytest

import models
from helpers import staff_client_for


def send(client, **data):
    return client.post("/admin/message/new/", data=data)


def test_notice_to_all_is_one_row_and_reaches_everyone(app, make_staff, make_officer, dbc):
    officers = [make_officer(), make_officer(city="اصفهان")]
    director = staff_client_for(app, make_staff("directorate"))
    response = send(director, subject="اطلاعیه مهم", body="متن اطلاعیه", audience="all")
    assert response.status_code == 302
    assert models.Notice.select().count() == 1
    assert models.NoticeRead.select().count() == 0
    for officer in officers:
        assert models.unread_count(officer) == 1


def test_notice_to_a_province_and_to_one_officer(app, make_staff, make_officer, dbc):
    tehran, isfahan = make_officer(), make_officer(city="اصفهان")
    director = staff_client_for(app, make_staff("directorate"))
    send(director, subject="استانی", body="فقط اصفهان", audience="province", province=str(isfahan.province_id))
    send(
        director,
        subject="شخصی",
        body="فقط شما",
        audience="officer",
        officer_national_code=tehran.national_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
    )
    assert [n.subject for n in models.inbox(isfahan)] == ["استانی"]
    assert [n.subject for n in models.inbox(tehran)] == ["شخصی"]


def test_unknown_national_code_is_refused(app, make_staff, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    response = send(director, subject="x", body="y", audience="officer", officer_national_code="0499370899")
    assert response.status_code == 200
    assert models.Notice.select().count() == 0


def test_opening_a_notice_marks_it_read_and_the_directorate_sees_the_count(app, make_staff, officer_client, dbc):
    director = staff_client_for(app, make_staff("directorate"))
    send(director, subject="اطلاعیه", body="<script>alert(1)</script> متن", audience="all")
    notice = models.Notice.get()
    dashboard = officer_client.get("/officer/").get_data(as_text=True)
    assert 'data-count="1"' in dashboard
    page = officer_client.get(f"/officer/messages/{notice.id}").get_data(as_text=True)
    assert "&lt;script&gt;" in page and "<script>alert(1)" not in page
    assert 'data-count="0"' in officer_client.get("/officer/").get_data(as_text=True)
    listing = director.get("/admin/message/").get_data(as_text=True)
    assert "اطلاعیه" in listing
    # The directorate's list counts the readers (one, whatever the audience's size).
    assert re.search(r'<td class="col-read">\s*1\s*</td>', listing), listing


def test_officer_cannot_open_someone_elses_notice(app, make_staff, make_officer, officer_client, dbc):
    other = make_officer()
    director = staff_client_for(app, make_staff("directorate"))
    send(director, subject="شخصی", body="محرمانه", audience="officer", officer_national_code=other.national_code)
    notice = models.Notice.get()
    assert officer_client.get(f"/officer/messages/{notice.id}").status_code == 404


def test_reviewer_cannot_send_notices(app, make_staff, dbc):
    reviewer = staff_client_for(app, make_staff("university"))
    assert send(reviewer, subject="x", body="y", audience="all").status_code == 403
    assert models.Notice.select().count() == 0


def test_only_the_directorate_may_send_a_notice_whatever_the_door(make_staff, make_officer, dbc):
    officer = make_officer()
    for actor in (make_staff("university").as_actor(), officer.as_actor(), models.SYSTEM):
        with pytest.raises(models.PermissionDenied):
            models.send_notice(actor, "اطلاعیه", "متن", "all")
    assert models.Notice.select().count() == 0
