"""Filed documents laid out as Decree 30/2020/NĐ-CP, Appendix I says.

A :class:`FiledDocument` holds what a báo cáo says (header fields, body blocks, recipients,
signature); :func:`to_docx` lays it out with python-docx, and :func:`docx_to_pdf` turns that
DOCX into a PDF with LibreOffice headless, so the two formats never disagree. Nothing here
knows Flask or the models: the report module fills the document, this one only lays it out.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Mm, Pt

FONT = "Times New Roman"

# Appendix I: A4; top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(20), Mm(20), Mm(30), Mm(15)
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

BODY_PT = 14
HEADER_PT = 13
NATION_PT = 12  # 12–13 pt allowed; at 12 the national title fits one line beside the agency
MOTTO_PT = 14
RECIPIENTS_TITLE_PT = 12
RECIPIENTS_PT = 11
FIRST_LINE_INDENT = Cm(1.27)


@dataclass
class Paragraph:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass
class Heading:
    """A numbered section title of the body ("I. KẾT QUẢ CHUNG"), bold, flush left."""
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str | None = None
    # Relative column widths; equal when omitted.
    widths: list[float] | None = None
    # Columns aligned right (numbers).
    numeric: set[int] = field(default_factory=set)


@dataclass
class Figure:
    png: bytes
    caption: str
    width_mm: float = 150


Block = Paragraph | Heading | Table | Figure


@dataclass
class Signature:
    """The signature block: ``prefix`` is TM., KT., Q., TL. or TUQ. (or empty when the head
    signs in their own name), ``authority`` the body signed for, ``title`` the signer's post."""
    title: str
    name: str = ""
    prefix: str = ""
    authority: str = ""
    deputy_title: str = ""  # with KT.: the title of the head the deputy signs for


@dataclass
class FiledDocument:
    issuing_agency: str
    number: str  # "Số: 12/BC-UBND": the whole line, number and symbol
    place: str
    issued_on: date
    subject: str
    body: list[Block]
    recipients: list[str]
    signature: Signature
    managing_agency: str = ""
    title: str = "BÁO CÁO"
    language: str = "vi"


def date_line(place: str, day: date, language: str = "vi") -> str:
    """"Khánh An, ngày 05 tháng 02 năm 2026": days below 10 and the months 1 and 2 take a
    leading zero (Appendix I), other months do not."""
    if language == "en":
        return f"{place}, {day.strftime('%d %B %Y')}"
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


# ---------------------------------------------------------------------------------------------
# DOCX


def _font(run, size: float, *, bold: bool = False, italic: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    # East-Asian and complex-script slots too, so Word never substitutes another face.
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)


def _para(container, text: str = "", size: float = BODY_PT, *, bold=False, italic=False,
          align=WD_ALIGN_PARAGRAPH.CENTER, space_after: float = 0, indent=None, upper=False):
    p = container.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(space_after)
    fmt.line_spacing = 1.0
    if indent is not None:
        fmt.first_line_indent = indent
    if text:
        _font(p.add_run(text.upper() if upper else text), size, bold=bold, italic=italic)
    return p


def _rule(cell, width) -> None:
    """A short horizontal rule beneath a header line: an empty paragraph whose bottom border
    spans ``width``, centred by equal indents (Word and LibreOffice both draw it)."""
    p = cell.add_paragraph()
    fmt = p.paragraph_format
    side = Emu(max(int((cell.width - width) / 2), 0))
    fmt.left_indent = side
    fmt.right_indent = side
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(2)
    ppr = p._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), "6")
    bottom.set(qn("w:space"), "1")
    bottom.set(qn("w:color"), "000000")
    border.append(bottom)
    ppr.append(border)


def _no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _set_widths(table, widths) -> None:
    """Column widths on the grid and on every cell: LibreOffice reads the grid, Word the cells."""
    for column, width in zip(table.columns, widths):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width


def _layout_table(doc, widths) -> object:
    table = doc.add_table(rows=1, cols=len(widths))
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(table)
    _set_widths(table, widths)
    for cell in table.rows[0].cells:
        # python-docx adds one empty paragraph per cell; start from none.
        cell._tc.remove(cell.paragraphs[0]._p)
    return table


def _page_number_header(section) -> None:
    """Page numbers centred at the top, none on the first page (Appendix I)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    _font(run, HEADER_PT)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _header_block(doc, d: FiledDocument) -> None:
    left_w, right_w = Mm(58), TEXT_WIDTH - Mm(58)
    table = _layout_table(doc, (left_w, right_w))
    left, right = table.rows[0].cells
    if d.managing_agency:
        _para(left, d.managing_agency, HEADER_PT, upper=True)
    _para(left, d.issuing_agency, HEADER_PT, bold=True, upper=True)
    _rule(left, left_w / 3)
    _para(left, "", HEADER_PT)
    _para(left, d.number, HEADER_PT)

    _para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", NATION_PT, bold=True)
    _para(right, "Độc lập - Tự do - Hạnh phúc", MOTTO_PT, bold=True)
    _rule(right, Mm(60))
    _para(right, "", HEADER_PT)
    _para(right, date_line(d.place, d.issued_on, d.language), MOTTO_PT, italic=True)

    _para(doc, "", BODY_PT)
    _para(doc, d.title, BODY_PT, bold=True, upper=True)
    _para(doc, d.subject, BODY_PT, bold=True, space_after=12)


def _body_paragraph(doc, block: Paragraph) -> None:
    p = _para(doc, block.text, BODY_PT, bold=block.bold, italic=block.italic,
              align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=6, indent=FIRST_LINE_INDENT)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.MULTIPLE
    p.paragraph_format.line_spacing = 1.15


def _heading(doc, block: Heading) -> None:
    p = _para(doc, block.text, BODY_PT, bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, space_after=6,
              indent=FIRST_LINE_INDENT)
    p.paragraph_format.space_before = Pt(6)
    p.paragraph_format.keep_with_next = True


def _data_table(doc, block: Table) -> None:
    if block.caption:
        cap = _para(doc, block.caption, BODY_PT - 1, italic=True, space_after=3)
        cap.paragraph_format.keep_with_next = True
    weights = block.widths or [1.0] * len(block.header)
    total = sum(weights)
    widths = [int(TEXT_WIDTH * w / total) for w in weights]
    table = doc.add_table(rows=1 + len(block.rows), cols=len(block.header))
    table.style = "Table Grid"
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _set_widths(table, widths)
    size = 12 if len(block.header) <= 5 else 11
    for r, values in enumerate([block.header] + block.rows):
        row = table.rows[r]
        if r == 0:
            # Repeat the header row on every page the table spans.
            tr_pr = row._tr.get_or_add_trPr()
            el = OxmlElement("w:tblHeader")
            el.set(qn("w:val"), "true")
            tr_pr.append(el)
        for c, value in enumerate(values):
            cell = row.cells[c]
            p = cell.paragraphs[0]
            p.alignment = (WD_ALIGN_PARAGRAPH.CENTER if r == 0 else
                           WD_ALIGN_PARAGRAPH.RIGHT if c in block.numeric else WD_ALIGN_PARAGRAPH.LEFT)
            p.paragraph_format.space_after = Pt(0)
            _font(p.add_run(str(value)), size, bold=(r == 0))
    _para(doc, "", 6)


def _figure(doc, block: Figure) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.keep_with_next = True
    width = min(Mm(block.width_mm), TEXT_WIDTH)
    run = p.add_run()
    _font(run, BODY_PT)  # every run of the document is in Times New Roman, the picture's too
    run.add_picture(io.BytesIO(block.png), width=width)
    _para(doc, block.caption, BODY_PT - 1, italic=True, space_after=6)


def _closing(doc, d: FiledDocument) -> None:
    left_w, right_w = Mm(75), TEXT_WIDTH - Mm(75)
    table = _layout_table(doc, (left_w, right_w))
    # The recipients and the signature stay together on one page.
    cant_split = OxmlElement("w:cantSplit")
    cant_split.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(cant_split)
    left, right = table.rows[0].cells
    _para(left, "Nơi nhận:" if d.language == "vi" else "Recipients:", RECIPIENTS_TITLE_PT, bold=True,
          italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    for recipient in d.recipients:
        _para(left, f"- {recipient};", RECIPIENTS_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    s = d.signature
    if s.prefix:
        _para(right, f"{s.prefix} {s.authority}".strip(), HEADER_PT + 1, bold=True, upper=True)
    if s.deputy_title:
        _para(right, s.deputy_title, HEADER_PT + 1, bold=True, upper=True)
    _para(right, s.title, HEADER_PT + 1, bold=True, upper=True)
    for _ in range(4):  # room for the signature and the seal
        _para(right, "", BODY_PT)
    _para(right, s.name, HEADER_PT + 1, bold=True)


def to_docx(d: FiledDocument) -> bytes:
    """The document as DOCX bytes, laid out as Appendix I of Decree 30 says."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(BODY_PT)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance = Mm(10)
    _page_number_header(section)

    _header_block(doc, d)
    for block in d.body:
        if isinstance(block, Heading):
            _heading(doc, block)
        elif isinstance(block, Paragraph):
            _body_paragraph(doc, block)
        elif isinstance(block, Table):
            _data_table(doc, block)
        elif isinstance(block, Figure):
            _figure(doc, block)
    _para(doc, "", BODY_PT)
    _closing(doc, d)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# PDF


class ConversionError(RuntimeError):
    pass


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: bytes, timeout: float = 120) -> bytes:
    """Render DOCX bytes to PDF with LibreOffice headless (Debian's libreoffice-writer-nogui).
    Each conversion gets a profile directory of its own, so concurrent conversions on one
    server never share LibreOffice's user profile lock."""
    binary = soffice()
    if binary is None:
        raise ConversionError("LibreOffice (soffice) is not installed: install libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory(prefix="surveyapp-pdf-") as tmp:
        src = Path(tmp) / "report.docx"
        src.write_bytes(docx)
        profile = Path(tmp) / "profile"
        cmd = [binary, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", tmp, str(src)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise ConversionError(f"LibreOffice could not convert the report: {exc}") from exc
        pdf = Path(tmp) / "report.pdf"
        if not pdf.exists():
            raise ConversionError("LibreOffice produced no PDF")
        return pdf.read_bytes()
