"""Nothing gets stuck, from the distributor's side in a real browser: a nomination is
withdrawn from the dashboard, the next one expires unanswered (``flask tick``), and the
branch shows its countdown and can name an officer again. Pages at 1280 and 360 px."""

import datetime as dt

import pytest
from playwright.sync_api import expect

import models
from browser import assert_accessible
from helpers import PASSWORD

pytestmark = pytest.mark.e2e


def distributor_login(page, base, username):
    page.goto(base + "/distributor/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.rstrip("/").endswith("/distributor"), page.url


def nominate(page, base, branch_id, national_code):
    page.goto(f"{base}/distributor/branches/{branch_id}/nominate")
    page.fill("#national_code", national_code)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_withdraw_then_expire_from_the_distributors_side(new_context, live_server, make_officer, shot, app):
    base = live_server
    first, second = make_officer(qualified=True), make_officer(qualified=True)
    with models.db.connection_context():
        distributor = models.create_distributor("pakhsh", PASSWORD, "شرکت پخش سلامت", "company", "09121110000")
        city = models.City.get(models.City.name == "تهران")
        branch = models.Branch.create(
            distributor=distributor, name="شعبه ونک", province=city.province_id, city=city, address="تهران، میدان ونک"
        )
    page = new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the withdraw button asks first
    distributor_login(page, base, "pakhsh")

    # --- a nomination, withdrawn from the dashboard
    nominate(page, base, branch.id, first.national_code)
    row = page.locator("tr[data-status=pending_officer]")
    expect(row).to_have_count(1)
    shot(page, "01-pending")
    assert_accessible(page, "distributor dashboard with a pending nomination")
    with page.expect_navigation():
        row.locator("[data-action=withdraw]").click()
    expect(page.locator("tr[data-status=withdrawn]")).to_have_count(1)
    expect(page.locator("[data-action=withdraw]")).to_have_count(0)
    shot(page, "02-withdrawn")

    # --- the next one is never answered: 15 days later tick expires it
    nominate(page, base, branch.id, second.national_code)
    expect(page.locator("tr[data-status=pending_officer]")).to_have_count(1)
    with models.db.connection_context():
        models.Cooperation.update(submitted_at=models.utcnow() - dt.timedelta(days=15)).where(
            models.Cooperation.status == "pending_officer"
        ).execute()
        assert models.tick.run_due(only={"expire_nominations"}) == {"expire_nominations": 1}
    page.goto(base + "/distributor/")
    expect(page.locator("tr[data-status=expired]")).to_have_count(1)
    # The branch never had an officer: its countdown shows.
    expect(page.locator(f"tr[data-branch='{branch.id}'] [data-vacancy=grace]")).to_have_count(1)
    shot(page, "03-expired")
    assert_accessible(page, "distributor dashboard after an expiry")
    page.set_viewport_size({"width": 360, "height": 800})
    shot(page, "04-expired-360")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1

    # --- and the branch can name an officer again
    page.set_viewport_size({"width": 1280, "height": 900})
    nominate(page, base, branch.id, first.national_code)
    expect(page.locator("tr[data-status=pending_officer]")).to_have_count(1)
