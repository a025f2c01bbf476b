"""The officer's dashboard says the next step (issue 20, finding 5): a company waiting for
an answer, the branch the officer is responsible for and since when, and what a reviewer
asked them to fix (the note and the kind of deficiency); the menu counts unread notices
and marks the current page."""

import models
from helpers import PASSWORD, login
from models import qualification as quals
from storage import StoredFile

TEHRAN = "دانشگاه علوم پزشکی تهران"


def officer_client(app, officer):
    client = app.test_client()
    assert login(client, "/officer/login", officer.user_code).status_code == 302
    return client


def branch_of(distributor):
    city = models.City.get(models.City.name == "تهران")
    return models.cooperation.create_branch(distributor.as_actor(), "شعبه ونک", city.province, city, "تهران، ونک")


def test_a_nomination_then_the_active_cooperation(app, make_officer, make_staff, dbc):
    officer = make_officer(qualified=True)
    distributor = models.create_distributor(
        "pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000", manager_name="رضا"
    )
    cooperation = models.cooperation.nominate(branch_of(distributor), distributor.as_actor(), officer.national_code)
    client = officer_client(app, officer)
    page = client.get("/officer/").get_data(as_text=True)
    card = page.split(f'id="next-step-nomination-{cooperation.id}"')[1].split("</section>")[0]
    assert "شرکت پخش سلامت" in card and "شعبه ونک" in card
    assert f"/officer/cooperation/{cooperation.id}" in card
    assert 'id="active-cooperation"' not in page

    cooperation.apply("officer_approve", officer.as_actor())
    cooperation.apply("approve", make_staff("university", TEHRAN).as_actor())
    page = client.get("/officer/").get_data(as_text=True)
    assert "next-step-nomination" not in page
    card = page.split('id="active-cooperation"')[1].split("</section>")[0]
    assert "شعبه ونک" in card and "شرکت پخش سلامت" in card
    assert models.Cooperation.get_by_id(cooperation.id).started_at is not None
    assert '<span class="nowrap">' in card  # since when (its Jalali date)


def test_a_deficiency_shows_the_note_and_its_kind(app, make_officer, make_staff, dbc):
    officer = make_officer()
    owner = officer.as_actor()
    request = quals.start_request(officer, owner)
    for i, kind in enumerate(("degree", "national_card", "id_booklet", "photo")):
        quals.attach_document(
            request,
            owner,
            kind,
            StoredFile(f"dd/{(request.id * 10 + i):032x}.pdf", f"{kind}.pdf", "application/pdf", 10, "0" * 64),
        )
    request = request.apply("submit", owner)
    request.apply(
        "deficiency",
        make_staff("university", TEHRAN).as_actor(),
        note="کارت ملی ناخواناست",
        reason="illegible_document",
    )
    page = officer_client(app, officer).get("/officer/").get_data(as_text=True)
    card = page.split('id="next-step-deficient"')[1].split("</div>")[0]
    assert "کارت ملی ناخواناست" in card
    assert 'data-reason="illegible_document"' in card
    # The menu: the unread notice of the deficiency, and the current page.
    assert 'id="menu-unread" data-count="1"' in page
    assert 'href="/officer/" aria-current="page"' in page


def test_a_decision_notice_links_to_its_request(app, make_officer, make_staff, dbc):
    officer = make_officer()
    owner = officer.as_actor()
    request = quals.start_request(officer, owner)
    for i, kind in enumerate(("degree", "national_card", "id_booklet", "photo")):
        quals.attach_document(
            request,
            owner,
            kind,
            StoredFile(f"dn/{(request.id * 10 + i):032x}.pdf", f"{kind}.pdf", "application/pdf", 10, "0" * 64),
        )
    request = request.apply("submit", owner)
    request.apply("deficiency", make_staff("university", TEHRAN).as_actor(), note="عکس تار است", reason="photo")
    notice = models.Notice.select().where(models.Notice.officer == officer.id).get()
    assert (notice.request_type, notice.request_id) == ("qualification", request.id)
    page = officer_client(app, officer).get(f"/officer/messages/{notice.id}").get_data(as_text=True)
    assert f'id="notice-about" href="/officer/qualification/{request.id}"' in page


def test_a_note_ending_with_a_full_stop_gives_no_double_stop(app, make_officer, make_staff, dbc):
    officer = make_officer()
    owner = officer.as_actor()
    request = quals.start_request(officer, owner)
    for i, kind in enumerate(("degree", "national_card", "id_booklet", "photo")):
        quals.attach_document(
            request,
            owner,
            kind,
            StoredFile(f"ds/{(request.id * 10 + i):032x}.pdf", f"{kind}.pdf", "application/pdf", 10, "0" * 64),
        )
    request = request.apply("submit", owner)
    request.apply("deficiency", make_staff("university", TEHRAN).as_actor(), note="عکس را دوباره بارگذاری کنید.")
    notice = models.Notice.select().where(models.Notice.officer == officer.id).get()
    assert "بارگذاری کنید" in notice.body and ".." not in notice.body
    sms = models.SmsOutbox.select().where(models.SmsOutbox.to == officer.mobile).order_by(models.SmsOutbox.id.desc())
    assert ".." not in sms.first().text


def test_the_first_submission_is_not_sent_back(app, make_officer, dbc):
    officer = make_officer()
    request = quals.start_request(officer, officer.as_actor())
    for i, kind in enumerate(("degree", "national_card", "id_booklet", "photo")):
        quals.attach_document(
            request,
            officer.as_actor(),
            kind,
            StoredFile(f"df/{(request.id * 10 + i):032x}.pdf", f"{kind}.pdf", "application/pdf", 10, "0" * 64),
        )
    client = officer_client(app, officer)
    response = client.post(f"/officer/qualification/{request.id}", data={"action": "submit"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert (
        "برای بررسی به دانشگاه ارسال شد" in page and "دوباره" not in page.split('role="status"')[1].split("</div>")[0]
    )


def test_no_message_says_branch_twice():
    """A branch's name usually starts with «شعبه»: the messages quote it instead of
    prefixing the word again («شعبه شعبه مرکزی»)."""
    from helpers import ROOT

    catalogue = (ROOT / "translations" / "fa" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    assert "شعبه %(branch)s" not in catalogue


def test_the_reviewing_university_does_not_repeat_a_city_named_as_its_province(app, make_officer, dbc):
    officer = make_officer(city="تهران")
    page = officer_client(app, officer).get("/officer/qualification/new").get_data(as_text=True)
    sentence = page.split('id="reviewing-university">')[1].split("</p>")[0]
    assert "تهران (تهران)" not in sentence and "تهران" in sentence


def test_a_hint_sits_between_the_label_and_the_input(client):
    """GOV.UK: the hint is read before typing (finding 6)."""
    page = client.get("/officer/register").get_data(as_text=True)
    label = page.index('for="national_code"')
    hint = page.index('id="national_code-help"')
    field = page.index("<input", hint)
    assert label < hint < field and page.index('id="national_code"', hint) > field


def test_a_password_change_reports_every_mistake_at_once(app, make_officer, dbc):
    """A wrong current password, a short new one and a different confirmation: all three
    in one round (finding 6), not one per attempt."""
    officer = make_officer()
    response = officer_client(app, officer).post(
        "/officer/password",
        data={"current_password": "wrong-one", "new_password": "abc12", "new_password_confirm": "abc13"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("current_password", "new_password", "new_password_confirm"):
        assert f'id="{field}-error"' in page, field
