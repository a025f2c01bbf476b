"""A migrated officer logs in through the browser with the old system's password, and
their contract shows on the migrated distributor's page."""

import pytest
from playwright.sync_api import expect

import models
from models import legacy
from test_legacy_import import DISTRIBUTOR_PASSWORD, VECTOR_PASSWORD, write_dataset

pytestmark = pytest.mark.e2e


def test_migrated_officer_and_distributor_log_in_with_their_old_passwords(
    page, second_page, live_server, tmp_path, shot
):
    base = live_server
    folder = tmp_path / "legacy"
    folder.mkdir()
    files = write_dataset(folder)
    with models.db.connection_context():
        legacy.import_legacy(folder, processes=1)
    migrated = files.officers["aspnet"]  # ASP.NET Membership hash of "12345678"

    page.goto(base + "/officer/login")
    page.fill("input[name=username]", migrated["user_code"])
    page.fill("input[name=password]", VECTOR_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.rstrip("/").endswith("/officer"), page.url
    expect(page.locator("[data-status=approved]")).to_have_count(1)  # arrived qualified
    shot(page, "01-migrated-officer")
    with models.db.connection_context():
        stored = models.Officer.get(models.Officer.user_code == migrated["user_code"]).password_hash
    assert stored.startswith("$argon2id$") and not stored.startswith(models.accounts.LEGACY_PREFIX)

    distributor = second_page
    distributor.goto(base + "/distributor/login")
    distributor.fill("input[name=username]", "dist-two")
    distributor.fill("input[name=password]", VECTOR_PASSWORD)
    with distributor.expect_navigation():
        distributor.click("main form button[type=submit]")
    expect(distributor.locator("[data-branch] [data-status=active]")).to_contain_text(migrated["last_name"])
    shot(distributor, "02-migrated-distributor")
    assert DISTRIBUTOR_PASSWORD  # the other distributor's clear password is covered by the unit tests
