"""Finding I5 in a real Chromium. Chromium gives a framed PDF the site's own origin even
under a ``sandbox`` CSP, and will not render one in an ``<iframe sandbox>``; so the review
page shows each PDF as pictures of its pages drawn on the server, and the browser's PDF
viewer never opens: no PDF reaches the page, no frame is the viewer, every picture loads."""

from __future__ import annotations

import io

import pytest

import models
import storage
from browser import make_staff, staff_login
from helpers import JPEG_BYTES

pytestmark = pytest.mark.e2e

# Chromium's built-in PDF viewer (an extension of the browser itself).
PDF_VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"

TEXT_PDF = b"""%PDF-1.4
1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj
4 0 obj<</Length 46>>stream
BT /F1 24 Tf 40 100 Td (DEGREE 1402) Tj ET
endstream endobj
5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj
trailer<</Root 1 0 R>>
%%EOF
"""


def submitted_request(app, officer):
    from models import qualification as quals

    store = storage.DocumentStore(app.config["UPLOAD_DIR"])
    with models.db.connection_context():
        owner = officer.as_actor()
        request = quals.start_request(officer, owner)
        for kind in ("degree", "national_card", "id_booklet", "photo"):
            data, name = (JPEG_BYTES, "photo.jpg") if kind == "photo" else (TEXT_PDF, f"{kind}.pdf")
            quals.attach_document(request, owner, kind, store.save(io.BytesIO(data), name))
        return request.apply("submit", owner)


def test_i5_the_review_page_shows_pdfs_as_page_pictures_and_never_opens_the_pdf_viewer(
    app, page, live_server, make_officer, shot
):
    request = submitted_request(app, make_officer())
    make_staff("rev", "university", full_name="بازبین تهران")
    staff_login(page, live_server, "rev")
    loaded = []
    page.on("response", lambda response: loaded.append(response))
    page.goto(f"{live_server}/admin/qualification/review/?id={request.id}")
    pictures = page.locator(".document-pages img")
    assert pictures.count() == 3
    page.wait_for_function(
        "() => [...document.querySelectorAll('.document-pages img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.locator("iframe").count() == 0
    assert not [f.url for f in page.frames if f.url.startswith(PDF_VIEWER)]
    previews = [r for r in loaded if "inline=1" in r.url]
    assert sorted(r.all_headers()["content-type"] for r in previews) == ["image/jpeg"] + ["image/png"] * 3
    for response in previews:
        policy = [part.strip() for part in response.all_headers()["content-security-policy"].split(";")]
        assert "sandbox" in policy, policy
    assert not [r.url for r in loaded if r.all_headers().get("content-type") == "application/pdf"]
    # The page text is on the picture (PDFium drew it): the picture is not blank.
    width = page.evaluate("() => document.querySelector('.document-pages img').naturalWidth")
    assert width == 1240
    shot(page, "review")
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    shot(page, "review-phone")
