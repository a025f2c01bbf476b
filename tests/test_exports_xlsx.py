"""The XLSX export (issue 20, finding 9): the cartable's rows as an Excel workbook whose
national codes are text (leading zeros survive), right to left, streamed like the CSV."""

import io
import xml.etree.ElementTree as ET
import zipfile

import models
from backoffice import xlsx
from helpers import staff_client_for

NS = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def sheet_rows(data: bytes) -> list[list[tuple[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= names
        root = ET.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    assert root.find("s:sheetViews/s:sheetView", NS).get("rightToLeft") == "1"
    rows = []
    for row in root.iter(f"{{{NS['s']}}}row"):
        cells = []
        for cell in row:
            kind = cell.get("t", "n")
            text = cell.find("s:is/s:t", NS).text if kind == "inlineStr" else cell.find("s:v", NS).text
            cells.append((kind, text))
        rows.append(cells)
    return rows


def test_column_letters():
    assert [xlsx.column_letters(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_the_writer_keeps_text_as_text_and_escapes_xml():
    data = b"".join(xlsx.xlsx_chunks(["کد ملی", "id"], [[["0012345679", 7], ["<b>&\x01", None]]], sheet_name="a/b"))
    rows = sheet_rows(data)
    assert rows[0] == [("inlineStr", "کد ملی"), ("inlineStr", "id")]
    assert rows[1] == [("inlineStr", "0012345679"), ("n", "7")]
    assert rows[2] == [("inlineStr", "<b>&")]


def test_the_writer_streams_one_chunk_per_batch():
    batches = ([[str(i).zfill(10)] for i in range(n, n + 100)] for n in range(0, 1000, 100))
    chunks = list(xlsx.xlsx_chunks(["code"], batches))
    assert len(chunks) == 12  # the header, ten batches, the end of the archive
    rows = sheet_rows(b"".join(chunks))
    assert len(rows) == 1001 and rows[1] == [("inlineStr", "0000000000")]


def test_the_cartable_exports_xlsx_with_leading_zeros(app, make_officer, make_staff, dbc):
    officer = make_officer()
    models.Officer.update(national_code="0012345679").where(models.Officer.id == officer.id).execute()
    request = models.qualification.start_request(officer, officer.as_actor())
    models.QualificationRequest.update(status="submitted", university=officer.reviewing_university().id).where(
        models.QualificationRequest.id == request.id
    ).execute()
    client = staff_client_for(app, make_staff("directorate"))
    response = client.get("/admin/qualification/export/xlsx/?tab=all")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == xlsx.CONTENT_TYPE
    assert ".xlsx" in response.headers["Content-Disposition"] and "14" in response.headers["Content-Disposition"]
    rows = sheet_rows(response.get_data())
    assert ("inlineStr", "0012345679") in rows[1]
    listing = client.get("/admin/qualification/?tab=all").get_data(as_text=True)
    assert "export/xlsx" in listing
