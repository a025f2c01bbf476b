"""Branches change, in a real browser: the distributor moves a Tehran branch to another
district, then closes it (its officer released), at 1280 and 360 px."""

import pytest
from playwright.sync_api import expect

import models
from browser import assert_accessible
from helpers import PASSWORD

pytestmark = pytest.mark.e2e


def test_the_distributor_changes_then_closes_a_branch(new_context, live_server, make_officer, make_staff, shot, app):
    base = live_server
    officer = make_officer(qualified=True)
    with models.db.connection_context():
        distributor = models.create_distributor("pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000")
        city = models.City.get(models.City.name == "تهران")
        branch = models.cooperation.create_branch(
            distributor.as_actor(), "شعبه ونک", city.province, city, "تهران، میدان ونک، پلاک ۵", district="17"
        )
        cooperation = models.cooperation.nominate(branch, distributor.as_actor(), officer.national_code)
        cooperation.apply("officer_approve", officer.as_actor())
        cooperation.apply("approve", make_staff("university", "دانشگاه علوم پزشکی تهران").as_actor())
    page = new_context().new_page()
    page.goto(base + "/distributor/login")
    page.fill("input[name=username]", "pakhsh")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")

    # --- change: another district, a new name
    with page.expect_navigation():
        page.click(f"tr[data-branch='{branch.id}'] [data-action=edit-branch]")
    expect(page.locator("#district")).to_have_value("17")
    page.fill("#name", "شعبه ونک شمالی")
    page.select_option("#district", "2")
    shot(page, "01-edit")
    assert_accessible(page, "branch edit page")
    with page.expect_navigation():
        page.click("#branch-edit-form button[type=submit]")
    expect(page.locator("tr[data-branch] td").first).to_contain_text("شعبه ونک شمالی")
    with models.db.connection_context():
        assert models.Branch.get_by_id(branch.id).district == 2

    # --- close: the officer is released
    with page.expect_navigation():
        page.click(f"tr[data-branch='{branch.id}'] [data-action=close-branch]")
    expect(page.locator("[data-closes=active]")).to_have_count(1)
    with page.expect_navigation():  # without a reason: refused, in Persian, on the page
        page.click("#branch-close-form button[type=submit]")
    expect(page.locator("[role=alert]").first).to_be_visible()
    page.fill("#reason", "پایان اجاره مغازه")
    page.set_viewport_size({"width": 360, "height": 800})
    shot(page, "02-close-360")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_navigation():
        page.click("#branch-close-form button[type=submit]")
    expect(page.locator("tr[data-closed='1']")).to_have_count(1)
    expect(page.locator("[data-action=close-branch]")).to_have_count(0)
    shot(page, "03-closed")
    page.set_viewport_size({"width": 360, "height": 800})
    shot(page, "04-closed-360")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1
    with models.db.connection_context():
        assert models.Cooperation.get_by_id(cooperation.id).end_reason == "closed"
