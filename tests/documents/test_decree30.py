"""The Decree 30 layout: read back with python-docx, rendered by LibreOffice, looked at as images."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
from docx import Document
from pypdf import PdfReader

from surveyapp.documents import decree30 as d30


def sample(rows: int = 3) -> d30.FiledDocument:
    return d30.FiledDocument(
        managing_agency="UBND tỉnh Khánh An", issuing_agency="Sở Nội vụ", number="Số: 12/BC-SNV",
        place="Khánh An", issued_on=date(2026, 12, 2),
        subject="Kết quả đo lường sự hài lòng của người dân, tổ chức quý IV năm 2026",
        body=[d30.Heading("I. KẾT QUẢ CHUNG"),
              d30.Paragraph("Chỉ số hài lòng chung đạt 89,1%, chưa đủ căn cứ để kết luận đạt chỉ tiêu 90%."),
              d30.Table(["Đơn vị", "Chỉ số", "Số phiếu"], [["Xã An Bình", "91,2%", "412"]] * rows,
                        caption="Bảng 1. Chỉ số theo đơn vị", numeric={1, 2})],
        recipients=["UBND tỉnh (để b/c)", "Lưu: VT, CCHC"],
        signature=d30.Signature(prefix="KT.", authority="Giám đốc", title="Phó Giám đốc", name="Nguyễn Văn A"),
    )


@pytest.mark.parametrize("day, expected", [
    (date(2026, 2, 5), "Khánh An, ngày 05 tháng 02 năm 2026"),
    (date(2026, 3, 15), "Khánh An, ngày 15 tháng 3 năm 2026"),
    (date(2026, 1, 9), "Khánh An, ngày 09 tháng 01 năm 2026"),
    (date(2026, 12, 2), "Khánh An, ngày 02 tháng 12 năm 2026"),
])
def test_date_line_leading_zeros_as_appendix_i_says(day, expected):
    assert d30.date_line("Khánh An", day) == expected


def test_docx_page_margins_fonts_and_header():
    doc = Document(io.BytesIO(d30.to_docx(sample())))
    s = doc.sections[0]
    assert round(s.page_width.mm) == 210 and round(s.page_height.mm) == 297
    mm = {k: round(getattr(s, k).mm, 1) for k in ("top_margin", "bottom_margin", "left_margin", "right_margin")}
    assert 20 <= mm["top_margin"] <= 25 and 20 <= mm["bottom_margin"] <= 25
    assert 30 <= mm["left_margin"] <= 35 and 15 <= mm["right_margin"] <= 20
    header = doc.tables[0].rows[0].cells
    left = [p.text for p in header[0].paragraphs if p.text]
    right = [p for p in header[1].paragraphs if p.text]
    assert left == ["UBND TỈNH KHÁNH AN", "SỞ NỘI VỤ", "Số: 12/BC-SNV"]
    assert right[0].text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and right[0].runs[0].bold
    assert right[1].text == "Độc lập - Tự do - Hạnh phúc" and right[1].runs[0].bold
    assert right[2].text == "Khánh An, ngày 02 tháng 12 năm 2026" and right[2].runs[0].italic
    runs = [r for p in doc.paragraphs for r in p.runs] + [
        r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert runs and {r.font.name for r in runs} == {"Times New Roman"}
    body = [p for p in doc.paragraphs if p.text.startswith("Chỉ số hài lòng")][0]
    assert body.paragraph_format.first_line_indent == d30.FIRST_LINE_INDENT
    assert body.runs[0].font.size.pt in (13, 14)
    closing = doc.tables[-1].rows[0].cells
    assert closing[0].paragraphs[0].text == "Nơi nhận:"
    assert closing[0].paragraphs[0].runs[0].bold and closing[0].paragraphs[0].runs[0].italic
    assert [p.text for p in closing[1].paragraphs if p.text] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A"]
    # Page numbers in the header from page 2 only.
    assert s.different_first_page_header_footer
    assert "PAGE" in s.header._element.xml and not s.first_page_header.paragraphs[0].text


def test_pdf_renders_on_a4_with_page_numbers_from_page_two(tmp_path):
    if not d30.soffice() or not shutil.which("pdftoppm"):
        pytest.fail("LibreOffice or pdftoppm missing: `make test` installs libreoffice-writer-nogui and poppler-utils")
    pdf = d30.docx_to_pdf(d30.to_docx(sample(rows=60)))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(w - 595.3) < 2 and abs(h - 841.9) < 2  # A4 in points
    first, second = reader.pages[0].extract_text(), reader.pages[1].extract_text()
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first
    assert second.strip().splitlines()[0].strip() == "2"
    assert "Nơi nhận" in reader.pages[-1].extract_text()
    # Rendered to images: nothing is drawn in the right margin (no overflow).
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", str(tmp_path / "r.pdf"), str(tmp_path / "p")], check=True)
    from PIL import Image

    for png in sorted(tmp_path.glob("p-*.png")):
        img = Image.open(png).convert("L")
        margin = int(img.width * 12 / 210)  # the outer 12 mm of the 15 mm right margin
        strip = img.crop((img.width - margin, 0, img.width, img.height))
        assert strip.getextrema()[0] > 200, f"{png.name}: ink in the right margin"
