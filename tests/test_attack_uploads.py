"""The attack report's upload findings, second part (issue 17): L13's images are written
again from their pixels (no EXIF position, no bytes after the picture, nothing that does
not decode), and I5's inline PDF previews for staff keep the sandbox. The first part of
L13 (markup anywhere in the file, header-declared bombs) is in test_attack_register.py;
the browser half of I5 is tests/e2e/test_document_preview.py."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

import models
import pdf_previews
import storage
import storage_images
from helpers import documents_payload, staff_client_for

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo_with_gps(orientation: int = 1, size=(40, 20)) -> bytes:
    """A JPEG with an EXIF GPS position (Tehran), a camera's comment and bytes after its
    end marker, as a phone writes them (and as a polyglot hides a second file)."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (35.0, 41.0, 21.0), 3: "E", 4: (51.0, 23.0, 22.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"owner: Ali Rezaei")
    return out.getvalue() + b"PK\x03\x04 a second file after the picture"


def png_with_text() -> bytes:
    image = Image.new("RGBA", (8, 8), (0, 120, 0, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Ali Rezaei, 0012345678")
    info.add_text("GPS", "35.689,51.389")
    exif = Image.Exif()
    exif[0x013B] = "Ali Rezaei"  # Artist
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def store(tmp_path):
    return storage.DocumentStore(tmp_path / "documents")


def kept(store, content, name="photo.jpg") -> bytes:
    stored = store.save(io.BytesIO(content), name)
    return store.path_for(stored.storage_name).read_bytes()


def test_l13_a_photo_loses_its_exif_position_comment_and_trailing_bytes(store):
    original = photo_with_gps()
    assert b"PhoneMaker" in original and b"Ali Rezaei" in original
    data = kept(store, original)
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG" and picture.size == (40, 20)
    assert dict(picture.getexif()) == {} and "comment" not in picture.info
    for trace in (b"Exif", b"PhoneMaker", b"Ali Rezaei", b"PK\x03\x04"):
        assert trace not in data, trace
    # The picture itself is kept (same pixels within JPEG's rounding).
    red, green, blue = picture.convert("RGB").getpixel((20, 10))
    assert red > 180 and green < 60 and blue < 60


def test_l13_a_rotated_photo_still_stands_upright_without_its_exif(store):
    data = kept(store, photo_with_gps(orientation=6, size=(40, 20)))  # 6: turn 90 degrees clockwise
    picture = Image.open(io.BytesIO(data))
    assert picture.size == (20, 40)
    assert dict(picture.getexif()) == {}


def test_l13_a_png_loses_its_text_and_exif_chunks_and_keeps_its_transparency(store):
    data = kept(store, png_with_text(), "scan.png")
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "PNG" and picture.mode == "RGBA"
    assert picture.getpixel((3, 3)) == (0, 120, 0, 128)
    for trace in (b"tEXt", b"eXIf", b"Ali Rezaei", b"0012345678", b"35.689"):
        assert trace not in data, trace


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


@pytest.mark.parametrize(
    "content",
    [
        # The signature of a JPEG, and then nothing a decoder can read.
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x13\x37" * 200,
        # A PNG header for 4000x4000 pixels (within the budget) with a corrupt data chunk.
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4000, 4000, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", b"not zlib at all")
        + png_chunk(b"IEND", b""),
        # A valid PNG whose pixels, once inflated, are far fewer than the header declares.
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 3000, 3000, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + png_chunk(b"IEND", b""),
    ],
    ids=["jpeg-signature-only", "png-corrupt-data", "png-truncated-pixels"],
)
def test_l13_an_image_that_does_not_decode_is_refused_and_nothing_is_left(store, content):
    with pytest.raises(storage.UploadRejected):
        store.save(io.BytesIO(content), "photo")
    assert list(store.iter_files()) == [] and list(store.tmp.iterdir()) == []


def test_l13_a_bomb_within_the_header_check_is_still_refused_by_the_decoder(store, monkeypatch):
    # Pillow's own reading of the size holds the budget too (a header the walk above misses).
    monkeypatch.setattr(storage_images, "MAX_IMAGE_PIXELS", 40 * 20 - 1)
    with pytest.raises(storage_images.NotAnImage):
        storage_images.reencoded(photo_with_gps(), "image/jpeg")
    with pytest.raises(storage.UploadRejected):
        store.save(io.BytesIO(photo_with_gps()), "photo.jpg")


def test_l13_through_the_officer_form_the_reviewer_downloads_a_photo_without_its_position(
    app, officer_client, make_staff, dbc
):
    payload = documents_payload()
    payload["doc_photo"] = (io.BytesIO(photo_with_gps()), "photo.jpg")
    response = officer_client.post(
        "/officer/qualification/new", content_type="multipart/form-data", data={"action": "submit", **payload}
    )
    assert response.status_code == 302
    photo = models.Document.get(models.Document.content_type == "image/jpeg")
    reviewer = staff_client_for(app, make_staff("university"))
    response = reviewer.get(f"/admin/qualification/document/?doc={photo.id}&inline=1")
    assert response.status_code == 200
    assert b"Exif" not in response.data and b"PhoneMaker" not in response.data
    assert photo.size == len(response.data)


def csp_directives(response) -> dict:
    return dict(
        (part.split() + [""])[:2] for part in response.headers["Content-Security-Policy"].split(";") if part.strip()
    )


def test_i5_a_pdf_preview_for_staff_is_a_picture_of_its_page_drawn_on_the_server(app, officer_client, make_staff, dbc):
    officer_client.post(
        "/officer/qualification/new",
        content_type="multipart/form-data",
        data={"action": "submit", **documents_payload()},
    )
    pdf = models.Document.get(models.Document.content_type == "application/pdf")
    reviewer = staff_client_for(app, make_staff("university"))
    url = f"/admin/qualification/document/?doc={pdf.id}&inline=1"
    for preview in (reviewer.get(url), reviewer.get(url + "&page=1")):
        assert preview.status_code == 200
        # Never the PDF itself: the browser's viewer would run it outside any sandbox.
        assert preview.headers["Content-Type"] == "image/png" and not preview.data.startswith(b"%PDF")
        assert Image.open(io.BytesIO(preview.data)).size[0] == pdf_previews.PREVIEW_WIDTH
        assert preview.headers["Content-Disposition"].startswith("inline")
        assert preview.headers["X-Content-Type-Options"] == "nosniff"
        # A bare sandbox: an opaque origin (no allow-same-origin), no scripts, forms or popups.
        directives = csp_directives(preview)
        assert directives["sandbox"] == "" and directives["default-src"] == "'none'"
        assert directives["frame-ancestors"] == "'self'"
    for page in ("2", "0", "21", "²", "9223372036854775808", "x"):
        assert reviewer.get(f"{url}&page={page}").status_code == 404, page
    # The download is still the file as the officer sent it.
    download = reviewer.get(f"/admin/qualification/document/?doc={pdf.id}")
    assert download.data.startswith(b"%PDF") and download.headers["Content-Disposition"].startswith("attachment")
    # The review page shows pictures, and frames nothing.
    page = reviewer.get(f"/admin/qualification/review/?id={pdf.request_id}").get_data(as_text=True)
    assert "<iframe" not in page and f"doc={pdf.id}&amp;inline=1&amp;page=1" in page


def test_i5_a_pdf_that_does_not_open_has_no_preview_and_no_error(app, tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n this is not a PDF body\n")
    with pytest.raises(pdf_previews.NoPreview):
        pdf_previews.page_count(broken)
    with pytest.raises(pdf_previews.NoPreview):
        pdf_previews.render_page(broken, 1)


def test_i5_a_page_of_absurd_proportions_stays_within_the_pixel_budget(tmp_path):
    ribbon = tmp_path / "ribbon.pdf"
    ribbon.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 14400]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    picture = Image.open(io.BytesIO(pdf_previews.render_page(ribbon, 1)))
    assert picture.size[0] * picture.size[1] <= pdf_previews.MAX_PAGE_PIXELS
