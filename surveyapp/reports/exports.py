"""The exports: anonymised answers as CSV, the report as XLSX and PDF.

Every value passes through :func:`inert` on its way out: a citizen's comment, a unit's or a
service point's name is data, and a spreadsheet must never run it as a formula.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Iterator

from fpdf import FPDF
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from ..i18n import current_language
from .model import Report

# What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FONT_DIR = "/usr/share/fonts/truetype/dejavu"


def inert(value: Any, *, spreadsheet: bool = True) -> Any:
    """``value`` as inert data. Control characters that XML, hence XLSX, cannot hold become
    U+FFFD. For a spreadsheet, text starting like a formula gets a leading single quote, as
    OWASP's CSV-injection guidance says, so that it is shown as the text it is. Numbers,
    dates and None pass unchanged."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if spreadsheet and text.startswith(FORMULA_START):
        text = "'" + text
    return text


def csv_chunks(header: list[str], rows: Iterable[list], chunk: int = 65536) -> Iterator[str]:
    """A CSV document in pieces of about ``chunk`` characters, UTF-8 byte-order mark first so
    that Excel reads Vietnamese."""
    out = io.StringIO()
    writer = csv.writer(out)
    yield "\ufeff"
    writer.writerow([inert(v) for v in header])
    for row in rows:
        writer.writerow([inert(v) for v in row])
        if out.tell() > chunk:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def export_name(report: Report, ext: str) -> str:
    code = (report.scope_code or "all").replace("/", "-")
    return f"bao-cao-{code}-{report.filters.date_from}-{report.filters.date_to}.{ext}"


def _target_columns(target) -> list[str]:
    return [target.label if target else "", target.origin_label if target else ""]


def report_tables(report: Report) -> list[tuple[str, list[str], list[list]]]:
    """The report as (sheet title, header, rows): one source for the XLSX and the PDF."""
    pct = lambda v: None if v is None else round(v * 100, 1)  # noqa: E731
    summary, aspects, trend, units, channels = [], [], [], [], []
    for s in report.sections:
        h = s.headline
        summary.append([s.title, s.indicator_label, pct(h.estimate), pct(h.low), pct(h.high), h.n,
                        *_target_columns(s.target), s.verdict.label,
                        _("Có") if s.verdict.admin_met else (_("Không") if s.verdict.admin_met is False else "–"),
                        pct(s.change[0]) if s.change else None])
        for r in s.aspects:
            aspects.append([s.title, r.label, pct(r.estimate.estimate), pct(r.estimate.low), pct(r.estimate.high),
                            r.estimate.n])
        for r in s.trend:
            trend.append([s.title, r.label, pct(r.estimate.estimate), pct(r.estimate.low), pct(r.estimate.high),
                          r.estimate.n])
        for r in s.units:
            units.append([s.title, r.label, pct(r.estimate.estimate), pct(r.estimate.low), pct(r.estimate.high),
                          r.estimate.n, *_target_columns(r.target), r.verdict.label,
                          pct(r.change[0]) if r.change else None])
        for r in s.channels:
            channels.append([s.title, r.label, pct(r.estimate.estimate), pct(r.estimate.low), pct(r.estimate.high),
                             r.estimate.n])
    base = [_("Khảo sát"), _("Đối tượng"), _("Chỉ số (%)"), _("Cận dưới (%)"), _("Cận trên (%)"), _("Số phiếu")]
    target = [_("Chỉ tiêu"), _("Nguồn chỉ tiêu")]
    return [
        (_("Tổng hợp"), [_("Khảo sát"), _("Chỉ số"), _("Chỉ số (%)"), _("Cận dưới (%)"), _("Cận trên (%)"),
                         _("Số phiếu"), *target, _("Đánh giá"), _("Đạt theo số điểm"),
                         _("Thay đổi so với kỳ trước (điểm %)")], summary),
        (_("Khía cạnh"), base, aspects),
        (_("Theo tháng"), base, trend),
        (_("Đơn vị"), base + [*target, _("Đánh giá"), _("Thay đổi so với kỳ trước (điểm %)")], units),
        (_("Theo kênh"), base, channels),
    ]


def xlsx_bytes(report: Report) -> bytes:
    """The report's tables, one sheet each; every text cell a string, never a formula."""
    f = report.filters
    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in report_tables(report):
        ws = wb.create_sheet(title[:31])
        ws.append([inert(v) for v in (_("Phạm vi"), report.scope_label, _("Kỳ báo cáo"),
                                      f"{f.date_from} – {f.date_to}")])
        ws.append([inert(v) for v in header])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([inert(v) for v in row])
        for col in ws.columns:
            ws.column_dimensions[col[0].column_letter].width = min(max(len(str(c.value or "")) for c in col) + 2, 60)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def method_paragraph(report: Report) -> str:
    f = report.filters
    return _(
        "Báo cáo này mô tả %(scope)s từ %(start)s đến %(end)s. Mỗi chỉ số là tỷ lệ câu trả lời hài lòng "
        "(mức 4–5, hoặc “hài lòng” trở lên với đánh giá nhanh), không tính câu trả lời “không ý kiến”; "
        "chỉ số tổng hợp là trung bình các khía cạnh, mỗi khía cạnh là trung bình tỷ lệ hài lòng của các câu hỏi. "
        "Các đơn vị được gộp theo số lượt phục vụ (hồ sơ, người bệnh, học sinh) khi có số liệu đó. "
        "Khoảng tin cậy 95%% tính theo phương pháp Wilson trên cỡ mẫu hiệu dụng, coi mỗi người trả lời là một cụm "
        "(tuyến tính hóa), nên phản ánh việc các câu trả lời của cùng một người có tương quan. "
        "Đánh giá “Đạt” khi kiểm định chính xác một phía ở mức ý nghĩa 5%% cho thấy chỉ số cao hơn chỉ tiêu "
        "(cận dưới một phía 95%% đạt chỉ tiêu), “Không đạt” khi cho thấy chỉ số thấp hơn chỉ tiêu, còn lại là "
        "“Chưa đủ căn cứ”; đây cũng là kiểm định dùng để tính cỡ mẫu cần thiết. Phiếu bị gắn cờ nghi ngờ %(flagged)s.",
        scope=report.scope_label, start=f.date_from.strftime("%d/%m/%Y"), end=f.date_to.strftime("%d/%m/%Y"),
        flagged=_("được tính") if f.include_flagged else _("không được tính"),
    )


def _pdf_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and current_language() == "vi":
        return f"{v:.1f}".replace(".", ",")
    return inert(str(v), spreadsheet=False)


def pdf_bytes(report: Report) -> bytes:
    """The report on A4 landscape: the method in words, then each table."""
    f = report.filters
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", f"{FONT_DIR}/DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", f"{FONT_DIR}/DejaVuSans-Bold.ttf")
    pdf.set_title(_("Báo cáo sự hài lòng"))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, _("Báo cáo sự hài lòng") + " – " + inert(report.scope_label, spreadsheet=False),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 6, _("Kỳ báo cáo: %(start)s – %(end)s", start=f.date_from.strftime("%d/%m/%Y"),
                            end=f.date_to.strftime("%d/%m/%Y")))
    pdf.ln(2)
    pdf.multi_cell(0, 5, inert(method_paragraph(report), spreadsheet=False), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for title, header, rows in report_tables(report):
        if not rows:
            continue
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        widths = [3 if i < 2 else 1.3 for i in range(len(header))]
        with pdf.table(first_row_as_headings=True, line_height=4, col_widths=widths) as table:
            table.row([str(h) for h in header])
            for row in rows:
                table.row([_pdf_cell(v) for v in row])
        pdf.ln(3)
    return bytes(pdf.output())
