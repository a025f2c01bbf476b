"""Pictures of a stored PDF's pages, rendered on the server for staff to review (finding I5).

The review pages used to frame the PDF itself, for the browser's viewer to render. A
``sandbox`` CSP does not reach that viewer: Chromium gives the PDF's frame the site's own
origin whatever the header says, and an ``<iframe sandbox>`` stops it from rendering at
all. So a PDF is never opened in the reviewer's browser: PDFium (pypdfium2, the engine of
Chromium's own viewer) draws each page here, without its JavaScript, forms or links, and
the page shows PNG pictures, served under the documents' sandboxing headers. The original
file stays one click away as a download. No Flask here.
"""

from __future__ import annotations

import io
import os
import threading

import pypdfium2 as pdfium

# A qualification's documents are a page or two; a preview shows the first pages and the
# reviewer downloads the file for the rest.
MAX_PREVIEW_PAGES = 20
PREVIEW_WIDTH = 1240  # pixels: an A4 page at 150 dpi
# A page of absurd proportions (a ribbon 200 m long) must not become a huge picture.
MAX_PAGE_PIXELS = 8_000_000

# PDFium is not thread-safe, and gunicorn's gthread workers serve several requests at once.
_PDFIUM = threading.Lock()


class NoPreview(Exception):
    """PDFium cannot open the file (damaged, encrypted) or the page does not exist."""


def page_count(path: str | os.PathLike) -> int:
    """How many pages of the PDF at ``path`` have a preview (at most MAX_PREVIEW_PAGES);
    raises ``NoPreview`` when the file does not open."""
    with _PDFIUM:
        document = _open(path)
        try:
            return min(len(document), MAX_PREVIEW_PAGES)
        finally:
            document.close()


def render_page(path: str | os.PathLike, number: int) -> bytes:
    """Page ``number`` (1-based, at most MAX_PREVIEW_PAGES) of the PDF at ``path`` as a
    PNG picture PREVIEW_WIDTH pixels wide (narrower if the page would pass
    MAX_PAGE_PIXELS); raises ``NoPreview``."""
    with _PDFIUM:
        document = _open(path)
        try:
            if not 1 <= number <= min(len(document), MAX_PREVIEW_PAGES):
                raise NoPreview(f"no page {number}")
            page = document[number - 1]
            try:
                width, height = page.get_size()
                if width <= 0 or height <= 0:
                    raise NoPreview("an empty page")
                scale = (PREVIEW_WIDTH - 0.5) / width  # PDFium rounds up
                if width * height * scale * scale > MAX_PAGE_PIXELS:
                    # PDFium rounds each side up: one percent under the budget keeps it.
                    scale = 0.99 * (MAX_PAGE_PIXELS / (width * height)) ** 0.5
                bitmap = page.render(scale=scale, may_draw_forms=False)
                picture = bitmap.to_pil()
            except pdfium.PdfiumError as error:
                raise NoPreview(str(error)) from error
            finally:
                page.close()
        finally:
            document.close()
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _open(path):
    try:
        return pdfium.PdfDocument(os.fspath(path))
    except pdfium.PdfiumError as error:
        raise NoPreview(str(error)) from error
