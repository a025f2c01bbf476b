"""The certificate (checked as an image), the public verification and the dashboard."""

import pytest
from playwright.sync_api import expect

from browser import assert_accessible, make_staff, officer_login, staff_login

pytestmark = pytest.mark.e2e


def test_certificate_verify_and_dashboard(page, second_page, live_server, make_officer, shot):
    base = live_server
    officer = make_officer(qualified=True)
    make_staff("director", "directorate", university=None, full_name="کارشناس اداره کل")

    officer_login(page, base, officer.user_code)
    page.goto(base + "/officer/certificate")
    expect(page.locator("#qualification-number")).to_have_text(officer.qualification_number)
    expect(page.locator(".certificate .qr svg")).to_have_count(1)
    assert page.evaluate("""async () => { await document.fonts.ready;
        return [...document.fonts].some(f => f.family.includes('Vazirmatn') && f.status === 'loaded'); }""")
    shot(page, "01-certificate")
    page.emulate_media(media="print")
    shot(page, "02-certificate-print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")
    assert_accessible(page, "certificate")

    # The QR's target: the public verification page.
    page.goto(base + f"/verify?q={officer.qualification_number}")
    expect(page.locator("#verify-result[data-status=approved]")).to_have_count(1)
    expect(page.locator("#verify-name")).to_have_text(officer.full_name)
    shot(page, "03-verify")
    assert_accessible(page, "verify")

    director = second_page
    staff_login(director, base, "director")
    director.goto(base + "/admin/")
    expect(director.locator("#decisions-chart")).to_have_count(1)
    shot(director, "04-dashboard")
    assert_accessible(director, "dashboard")
