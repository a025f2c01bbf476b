"""Issue 14 in the browser: the officer tries to change the city of a submitted request,
sees why not, withdraws the request, changes the city and files anew at the right
university."""

import re

import pytest
from playwright.sync_api import expect

import models
from browser import assert_accessible, assert_no_dialogs, officer_login
from helpers import JPEG_BYTES, MINIMAL_PDF

pytestmark = pytest.mark.e2e

KINDS = ("degree", "national_card", "id_booklet", "photo")


@pytest.fixture
def documents(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    paths = {}
    for kind in KINDS:
        path = folder / (f"{kind}.jpg" if kind == "photo" else f"{kind}.pdf")
        path.write_bytes(JPEG_BYTES if kind == "photo" else MINIMAL_PDF)
        paths[kind] = path
    return paths


def file_request(page, base, documents) -> int:
    page.goto(base + "/officer/qualification/new")
    for kind in KINDS:
        page.set_input_files(f"input[name=doc_{kind}]", str(documents[kind]))
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    match = re.search(r"/officer/qualification/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


@pytest.mark.parametrize("width", [1280, 360])
def test_withdraw_change_the_city_and_file_anew(page, live_server, make_officer, documents, shot, dialogs, width):
    base = live_server
    page.set_viewport_size({"width": width, "height": 900})
    officer = make_officer()  # Tehran
    officer_login(page, base, officer.user_code)
    first = file_request(page, base, documents)
    expect(page.locator("h1 [data-status=submitted]")).to_have_count(1)

    # --- the officer wants to move to Isfahan: the city cannot change, and the page says why
    page.goto(base + "/officer/profile/edit")
    expect(page.locator("#reviewed-frozen")).to_contain_text("پس بگیرید")
    expect(page.locator("select[name=city]")).to_have_count(0)
    shot(page, f"01-frozen-{width}")
    assert_accessible(page, "profile edit (frozen)")

    # --- withdraw from the request's page
    with page.expect_navigation():
        page.click("#reviewed-frozen a")
    expect(page.locator("#withdraw")).to_be_visible()
    shot(page, f"02-request-{width}")
    with page.expect_navigation():
        page.click("#withdraw")
    expect(page.locator("h1 [data-status=withdrawn]")).to_have_count(1)
    expect(page.locator("[role=status]")).to_contain_text("پس گرفته شد")
    shot(page, f"03-withdrawn-{width}")
    assert_accessible(page, "request detail (withdrawn)")

    # --- the city is free again
    page.goto(base + "/officer/profile/edit")
    expect(page.locator("#reviewed-frozen")).to_have_count(0)
    with models.db.connection_context():
        isfahan = models.City.get(models.City.name == "اصفهان")
    page.select_option("select[name=province]", str(isfahan.province_id))
    page.select_option("select[name=city]", str(isfahan.id))
    with page.expect_navigation():
        page.click("main form button.btn-primary[type=submit]")
    shot(page, f"035-saved-{width}")
    with models.db.connection_context():
        assert models.Officer.get_by_id(officer.id).city_id == isfahan.id

    # --- and a new request goes to Isfahan's university
    page.goto(base + "/officer/qualification/new")
    expect(page.locator("#reviewing-university")).to_contain_text("دانشگاه علوم پزشکی اصفهان")
    second = file_request(page, base, documents)
    assert second != first
    expect(page.locator("h1 [data-status=submitted]")).to_have_count(1)
    shot(page, f"04-filed-anew-{width}")
    with models.db.connection_context():
        assert models.QualificationRequest.get_by_id(second).university.name == "دانشگاه علوم پزشکی اصفهان"
        assert models.QualificationRequest.get_by_id(first).status == "withdrawn"
    assert_no_dialogs(dialogs)
