"""The filed báo cáo: a :class:`~surveyapp.reports.model.Report` written out in plain sentences
(Vietnamese, or English on request), then the dashboard's tables, then a short annex on method,
in the Decree 30 layout of :mod:`.decree30`.

The body says what a reader must know without statistical terms; the names of the tests and
intervals go to the annex only. Every number comes from the report, so the document, the
dashboard and ``report --format json`` agree.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import charts, clock
from ..cases.service import on_time_share
from ..i18n import percent
from ..reports.model import Report, Row, Section
from ..themes.labels import THEME_LABELS
from .decree30 import Figure, FiledDocument, Heading, Paragraph, Signature, Table, docx_to_pdf, to_docx

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
FIGURE_MM = 155  # inside the Decree 30 text width (210 − 30 − 15 mm)


@dataclass
class FiledHeader:
    """What the form or the command line asks for the header and the closing."""

    organisation: str  # the issuing agency's name
    first: date
    last: date
    place: str
    issued_on: date
    managing_agency: str = ""
    number: str = ""  # "12"; empty leaves "Số: …/BC-UBND" for the clerk
    symbol: str | None = None  # default: the REPORT_NUMBER_SYMBOL setting
    signer_prefix: str = ""  # TM., KT., Q. or empty
    signer_authority: str = ""
    signer_title: str = ""
    signer_name: str = ""
    recipients: list[str] = field(default_factory=list)

    def number_line(self) -> str:
        symbol = self.symbol or current_app.config["REPORT_NUMBER_SYMBOL"]
        return f"Số: {self.number or '…'}/{symbol}"


pct = percent


def points(v: float, language: str = "vi") -> str:
    text = f"{abs(v) * 100:.1f}"
    return text.replace(".", ",") if language == "vi" else text


def period_label(first: date, last: date, language: str = "vi") -> str:
    """"tháng 3 năm 2026", "quý IV năm 2026", "6 tháng đầu năm 2026", "năm 2026", or
    "từ ngày 01/03/2026 đến ngày 15/03/2026" when the period is none of those."""
    whole_months = first.day == 1 and last.day == calendar.monthrange(last.year, last.month)[1]
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if whole_months and first.year == last.year:
        y = first.year
        if months == 12:
            return f"năm {y}" if language == "vi" else f"the year {y}"
        if months == 6 and first.month in (1, 7):
            half = first.month == 1
            if language == "vi":
                return f"6 tháng {'đầu' if half else 'cuối'} năm {y}"
            return f"the {'first' if half else 'second'} half of {y}"
        if months == 3 and first.month in (1, 4, 7, 10):
            q = (first.month - 1) // 3 + 1
            return f"quý {ROMAN[q]} năm {y}" if language == "vi" else f"Q{q} {y}"
        if months == 1:
            return f"tháng {first.month} năm {y}" if language == "vi" else first.strftime("%B %Y")
    if language == "vi":
        return f"từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}"
    return f"from {first:%d/%m/%Y} to {last:%d/%m/%Y}"


def _verdict_sentence(s: Section, lang: str) -> str:
    if s.target is None:
        return _("Chưa có chỉ tiêu để so sánh.")
    bar = pct(s.target.value, lang, digits=0)
    target = (_("chỉ tiêu trên %(bar)s (%(origin)s)", bar=bar, origin=s.target.origin_label) if s.target.strict else
              _("chỉ tiêu từ %(bar)s trở lên (%(origin)s)", bar=bar, origin=s.target.origin_label))
    status = s.verdict.status
    if status == "met":
        return _("Kết quả này đạt %(target)s.", target=target)
    if status == "not_met":
        return _("Kết quả này không đạt %(target)s.", target=target)
    text = _("Số phiếu chưa đủ để kết luận kết quả này có đạt %(target)s hay không.", target=target)
    if s.verdict.more_needed:
        text += " " + _("Cần thêm khoảng %(n)s phiếu nữa để kết luận.", n=s.verdict.more_needed)
    return text


def _change_sentence(s: Section, lang: str) -> str | None:
    if s.change is None or s.previous is None:
        return None
    d, lo, hi = s.change
    before = pct(s.previous.estimate, lang)
    if lo > 0:
        return _("So với kỳ trước (%(before)s), chỉ số tăng %(p)s điểm phần trăm; mức tăng này là thực chất, "
                 "không phải do ngẫu nhiên.", before=before, p=points(d, lang))
    if hi < 0:
        return _("So với kỳ trước (%(before)s), chỉ số giảm %(p)s điểm phần trăm; mức giảm này là thực chất, "
                 "không phải do ngẫu nhiên.", before=before, p=points(d, lang))
    return _("So với kỳ trước (%(before)s), chỉ số thay đổi %(p)s điểm phần trăm, nhưng mức thay đổi này "
             "có thể chỉ do ngẫu nhiên, chưa thể coi là thay đổi thực sự.", before=before, p=points(d, lang))


def chart_figure(kind: str, s: Section, lang: str, number: int) -> Figure:
    """A chart of the dashboard, drawn by the same module from the same section, as a numbered figure."""
    chart = charts.build(kind, s, lang)
    return Figure(chart.png(), _("Hình %(n)s. %(title)s", n=number, title=chart.title), width_mm=FIGURE_MM)


def _section_paragraphs(s: Section, lang: str) -> list:
    e = s.headline
    out = [Heading(s.title)]
    if not e.defined:
        out.append(Paragraph(_("Trong kỳ chưa có phiếu đánh giá nào.")))
        return out
    out.append(Paragraph(_("%(label)s đạt %(value)s; với số phiếu thu được, giá trị thực nằm trong khoảng "
                           "từ %(low)s đến %(high)s.", label=s.indicator_label, value=pct(e.estimate, lang),
                           low=pct(e.low, lang), high=pct(e.high, lang)) + " " + _verdict_sentence(s, lang)))
    change = _change_sentence(s, lang)
    if change:
        out.append(Paragraph(change))
    below = [u for u in s.units if u.estimate.defined and (u.verdict.status == "not_met" or u.verdict.admin_met is False)]
    barred = [u for u in s.units if u.estimate.defined and u.verdict.barred]
    if s.units:
        if below:
            out.append(Paragraph(_("Các đơn vị dưới chỉ tiêu: %(units)s.", units="; ".join(
                f"{u.label} ({pct(u.estimate.estimate, lang)})" for u in below))))
        else:
            out.append(Paragraph(_("Không có đơn vị nào dưới chỉ tiêu.")))
        if barred:
            out.append(Paragraph(_("Các đơn vị có kết quả từ 80%% trở xuống (theo quy định của tỉnh Khánh Hòa, "
                                   "không được xếp loại tốt): %(units)s.", units="; ".join(
                                       f"{u.label} ({pct(u.estimate.estimate, lang)})" for u in barred))))
    for u in s.units:
        if u.complaint_themes:
            out.append(Paragraph(_complaint_sentence(u)))
    weakest = sorted([a for a in s.aspects if a.estimate.defined], key=lambda a: a.estimate.estimate)[:2]
    if weakest:
        out.append(Paragraph(_("Các nội dung người dân, tổ chức hài lòng thấp nhất: %(aspects)s.", aspects="; ".join(
            f"{a.label} ({pct(a.estimate.estimate, lang)})" for a in weakest))))
    how = (_("Kết quả được tính có trọng số theo số lượt phục vụ của từng điểm phục vụ.") if s.weighted else
           _("Các phiếu được tính như nhau (chưa có số lượt phục vụ để tính trọng số)."))
    out.append(Paragraph(_("Có %(n)s lượt người dân, tổ chức trả lời phiếu này.", n=e.n) + " " + how))
    with_766 = [u for u in s.units if u.indicator_766]
    if with_766:
        out.append(Paragraph(_("Theo Quyết định 766/QĐ-TTg, mức độ hài lòng trong tiếp nhận, giải quyết thủ tục "
                               "hành chính của từng đơn vị: %(units)s.", units="; ".join(
                                   f"{u.label} {pct(u.indicator_766['value'], lang)}" for u in with_766))))
        out.append(Paragraph(_("Chỉ số theo Quyết định 766 khác kết quả khảo sát vì coi mọi hồ sơ không được "
                               "đánh giá là hài lòng, còn khảo sát chỉ tính những người đã trả lời.")))
    return out


def _complaint_sentence(u: Row) -> str:
    """The top reasons for dissatisfaction of a unit below target, labelled in the document's
    language (the report's labels are in the language it was built in)."""
    reasons = "; ".join(f"{THEME_LABELS[t['code']]} ({t['count']})" for t in u.complaint_themes)
    return _("Tại %(unit)s, các lý do chưa hài lòng được nêu nhiều nhất (số ý kiến phàn nàn): %(reasons)s.",
             unit=u.label, reasons=reasons)


def unit_table(s: Section, lang: str, number: int = 1) -> Table:
    """The dashboard's unit table: index, interval, responses, verdict (and Decision 766)."""
    rows = [[u.label, pct(u.estimate.estimate, lang), f"{pct(u.estimate.low, lang)} – {pct(u.estimate.high, lang)}",
             str(u.estimate.n), u.verdict.label,
             pct(u.indicator_766["value"], lang) if u.indicator_766 else "–"] for u in s.units]
    rows.append([_("Toàn bộ"), pct(s.headline.estimate, lang),
                 f"{pct(s.headline.low, lang)} – {pct(s.headline.high, lang)}", str(s.headline.n), s.verdict.label, ""])
    return Table([_("Đơn vị"), _("Chỉ số"), _("Khoảng"), _("Số phiếu"), _("Đánh giá"), _("QĐ 766")], rows,
                 caption=_("Bảng %(n)s. %(title)s theo đơn vị", n=number, title=s.title),
                 widths=[2.9, 1.2, 2.3, 1.6, 1.8, 1.3], numeric={1, 2, 3, 5})


def filed_report(report: Report, header: FiledHeader, language: str = "vi",
                 cases: tuple[int, int] | None = None) -> FiledDocument:
    """The báo cáo of ``report`` with ``header``'s fields. ``cases``: (resolved on time, due)
    from cases.service.on_time_share, left out when None or nothing was due."""
    with force_locale(language):
        return _filed_report(report, header, language, cases)


def _filed_report(report: Report, h: FiledHeader, lang: str, cases) -> FiledDocument:
    period = period_label(h.first, h.last, lang)
    body: list = [Heading(_("I. KẾT QUẢ CHUNG"))]
    body.append(Paragraph(_("Trong kỳ báo cáo (%(period)s), %(n)s lượt người dân, tổ chức đã đánh giá các dịch vụ của "
                            "%(scope)s.", period=period, n=report.respondents, scope=report.scope_label)))
    if cases and cases[1]:
        body.append(Paragraph(_("Trong kỳ có %(due)s phản ánh, kiến nghị đến hạn xử lý; %(ok)s phản ánh được "
                                "xử lý đúng hạn (%(share)s).", due=cases[1], ok=cases[0],
                                share=pct(cases[0] / cases[1], lang))))
    figures = 0
    for s in report.sections:
        body.extend(_section_paragraphs(s, lang))
        if len(s.trend) > 1:
            figures += 1
            body.append(chart_figure("trend", s, lang, figures))
    body.append(Heading(_("II. SỐ LIỆU CHI TIẾT")))
    n = 0
    for s in report.sections:
        if s.units:
            n += 1
            figures += 1
            body.append(chart_figure("units", s, lang, figures))
            body.append(unit_table(s, lang, n))
    body.append(Heading(_("III. PHỤ LỤC: PHƯƠNG PHÁP")))
    body.append(Paragraph(_("Khoảng giá trị của mỗi chỉ số là khoảng tin cậy 95% (khoảng Wilson cho tỷ lệ, "
                            "có tính hiệu ứng thiết kế khi một người trả lời nhiều câu). Kết luận đạt hay "
                            "không đạt chỉ tiêu dùng kiểm định một phía mức 5%; khi khoảng chứa chỉ tiêu, "
                            "kết luận là chưa đủ căn cứ.")))
    body.append(Paragraph(_("Thay đổi so với kỳ trước được đánh giá bằng khoảng Newcombe cho hiệu hai tỷ lệ: "
                            "thay đổi là thực chất khi khoảng này không chứa 0.")))
    body.append(Paragraph(_("Trọng số theo số lượt phục vụ của từng điểm phục vụ trong từng tháng, khi có số "
                            "liệu; nếu không, các phiếu được tính như nhau.")))
    body.extend(_weight_sources(report))
    subject = _("Kết quả đo lường sự hài lòng của người dân, tổ chức đối với sự phục vụ của %(scope)s %(period)s",
                scope=report.scope_label, period=period)
    return FiledDocument(
        issuing_agency=h.organisation, number=h.number_line(), place=h.place, issued_on=h.issued_on,
        subject=subject, body=body, recipients=h.recipients or [_("Lưu: VT")],
        signature=Signature(title=h.signer_title, name=h.signer_name, prefix=h.signer_prefix,
                            authority=h.signer_authority),
        managing_agency=h.managing_agency, title=_("BÁO CÁO"), language=lang)


def _weight_sources(report: Report) -> list:
    """The annex's lines on where each unit's weights came from: the one-stop software's dossier
    counts where they exist, else the volumes officials entered (reports.volumes)."""
    out = [Paragraph(_("Số lượt phục vụ của một điểm phục vụ trong một tháng là số hồ sơ tiếp nhận ghi trong phần "
                       "mềm một cửa khi có hồ sơ; nếu không, là số lượt phục vụ do đơn vị nhập."))]
    for s in report.sections:
        if s.units:
            out.append(Paragraph(_("Nguồn trọng số, %(title)s: %(units)s.", title=s.title, units="; ".join(
                f"{u.label}: {u.weight_source_label}" for u in s.units))))
    return out


def header_from(org, f, *, number: str = "", symbol: str | None = None, agency: str | None = None,
                managing_agency: str = "", place: str = "", issued: str | date | None = None,
                signer_prefix: str = "", signer_authority: str = "", signer_title: str = "",
                signer_name: str = "", recipients=()) -> FiledHeader:
    """The header of ``org``'s báo cáo for the period of filters ``f``, from the options the
    command line and the workspace form share; unset fields take the organisation's name and today."""
    if isinstance(issued, str) and issued:
        try:
            issued = date.fromisoformat(issued)
        except ValueError:
            raise ValueError(_("Ngày ban hành không hợp lệ: %(v)s (định dạng YYYY-MM-DD).", v=issued)) from None
    return FiledHeader(
        organisation=agency or org.name, first=f.date_from, last=f.date_to, place=place or org.name,
        issued_on=issued or clock.today(), managing_agency=managing_agency, number=number or "",
        symbol=symbol or None, signer_prefix=signer_prefix, signer_authority=signer_authority,
        signer_title=signer_title, signer_name=signer_name, recipients=[r for r in recipients if r])


def cases_on_time(report: Report) -> tuple[int, int] | None:
    """(resolved on time, due) for the report's organisation in its period, from the cases."""
    if report.organisation_id is None:
        return None
    return on_time_share(report.filters.date_from, report.filters.date_to, org_ids=[report.organisation_id])


def filed_filename(org, first: date, last: date, fmt: str) -> str:
    return f"bao-cao-{org.code}-{first.isoformat()}-{last.isoformat()}.{fmt}"


def filed_bytes(report: Report, header: FiledHeader, fmt: str, language: str = "vi") -> bytes:
    """The báo cáo as DOCX or PDF bytes (the PDF is LibreOffice's rendering of the DOCX)."""
    docx = to_docx(filed_report(report, header, language, cases=cases_on_time(report)))
    return docx_to_pdf(docx) if fmt == "pdf" else docx


PERIOD_KINDS = ("month", "quarter", "half", "year", "custom")


def period_dates(kind: str, year: int, number: int = 1) -> tuple[date, date]:
    """First and last day of month ``number``, quarter ``number``, half ``number`` or the year."""
    if kind == "year":
        return date(year, 1, 1), date(year, 12, 31)
    months = {"month": 1, "quarter": 3, "half": 6}[kind]
    if not 1 <= number <= 12 // months:
        raise ValueError(_("Số kỳ không hợp lệ: %(n)s.", n=number))
    first_month = (number - 1) * months + 1
    last_month = first_month + months - 1
    return date(year, first_month, 1), date(year, last_month, calendar.monthrange(year, last_month)[1])
