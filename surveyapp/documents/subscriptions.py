"""Subscriptions to the filed báo cáo: an organisation's report, built by the worker after each
period closes and e-mailed, with the document attached, to accounts that may read it.

The rules live here, once, for the workspace page, the command line, the worker job and the tests:

- **Who subscribes what.** An official subscribes an organisation of their subtree; the
  recipients are accounts, never typed addresses: active, with an e-mail, inside the
  subscriber's subtree, and allowed to read the organisation (its own accounts and those of its
  ancestors; an installation administrator reads everything). The same test runs again when
  the report is sent, so an account moved or switched off since receives nothing.
- **When.** A period (month, quarter, half-year, year) is due on the first working day after
  it ends (:mod:`surveyapp.workdays`, local dates from :mod:`surveyapp.clock`). The job sends
  the latest due period, if it ends on or after the subscription's ``starts_on``.
- **Once.** ``report_delivery`` has a unique key on (subscription, period start) and is
  inserted in the transaction that queues the e-mails; a second run, a second worker or a
  worker restarted after a crash finds it and sends nothing. The outbox then delivers each
  e-mail exactly once in effect.
- **What the e-mail says.** The recipient's name, the organisation and the period; numbers and
  everything else are in the attached document.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import clock
from ..alerts.notify import absolute_url
from ..extensions import db, dialect_insert
from ..outbox import enqueue_email, store_attachment
from ..reports.filters import Filters
from ..reports.layout import upward_report
from ..models import (
    SUBSCRIPTION_PERIODS, Organisation, ReportDelivery, ReportSubscription, User, subtree_filter,
)
from ..workdays import Calendar, load_calendar
from .decree30 import docx_to_pdf
from .report import filed_bytes, filed_filename, header_from, period_label

PERIOD_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
FORMATS = ("docx", "pdf")
CONTENT_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "pdf": "application/pdf"}
SIGNER_PREFIXES = ("", "TM.", "KT.", "Q.", "TL.", "TUQ.")
KIND = "report_subscription"


class SubscriptionError(ValueError):
    """A subscription that cannot be made; the message is for the official (in their language)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------------
# Periods


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The month, quarter, half-year or year that contains ``day``."""
    months = PERIOD_MONTHS[kind]
    first_month = (day.month - 1) // months * months + 1
    last_month = first_month + months - 1
    return date(day.year, first_month, 1), date(day.year, last_month, calendar.monthrange(day.year, last_month)[1])


def previous_period(kind: str, first: date) -> tuple[date, date]:
    return period_of(kind, first - timedelta(days=1))


def due_on(last: date, cal: Calendar) -> date:
    """The day a period ending on ``last`` is sent: the first working day after it."""
    return cal.add_working_days(last, 1)


def latest_due_period(kind: str, today: date, cal: Calendar) -> tuple[date, date]:
    """The latest period of ``kind`` whose first working day after its end is ``today`` or before."""
    first, _last = period_of(kind, today)
    prev = previous_period(kind, first)
    if due_on(prev[1], cal) <= today:
        return prev
    return previous_period(kind, prev[0])


def due_period(sub: ReportSubscription, today: date, cal: Calendar) -> tuple[date, date] | None:
    """The period the job sends for ``sub`` today (already sent or not), or None."""
    first, last = latest_due_period(sub.period_kind, today, cal)
    return (first, last) if last >= sub.starts_on else None


# ---------------------------------------------------------------------------------------------
# Recipients


def may_read(user: User, org: Organisation) -> bool:
    """The account may read ``org``'s reports (the rule of :mod:`surveyapp.auth.scope`)."""
    if user.organisation_id is None:
        return user.role == "admin"
    return user.organisation is not None and org.is_within(user.organisation)


def eligible_recipients(org: Organisation, scope_root: Organisation | None) -> list[User]:
    """Accounts that may receive ``org``'s report when chosen by someone whose subtree is
    ``scope_root`` (None: the installation): active, with an e-mail, inside that subtree, and
    allowed to read ``org``."""
    reads = sa.or_(sa.and_(User.organisation_id.is_(None), User.role == "admin"),
                   User.organisation_id.in_(org.ancestor_ids()))
    stmt = sa.select(User).where(User.active, User.email.is_not(None), User.email != "", reads)
    if scope_root is not None:
        stmt = stmt.where(subtree_filter(User.organisation_id, scope_root))
    return list(db.session.scalars(stmt.order_by(User.username)))


def current_recipients(sub: ReportSubscription) -> list[User]:
    """Who receives the report now: the chosen accounts that are still eligible (switched off,
    without an e-mail, or moved out of the organisation's line since: left out)."""
    return [u for u in sub.recipients if u.active and u.email and may_read(u, sub.organisation)]


# ---------------------------------------------------------------------------------------------
# Subscribing


@dataclass
class SubscriptionInput:
    """What the form and the command line ask; empty header fields default from the organisation."""

    period_kind: str
    formats: tuple[str, ...]
    language: str
    signer_title: str
    recipients: list[User]
    managing_agency: str = ""
    agency: str = ""
    symbol: str = ""
    place: str = ""
    signer_prefix: str = ""
    signer_authority: str = ""
    signer_name: str = ""
    filed_recipients: tuple[str, ...] = ()
    send_last: bool = False  # also send the latest period already closed


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def subscribe(org: Organisation, data: SubscriptionInput, *, scope_root: Organisation | None,
              created_by: User | None = None, today: date | None = None) -> ReportSubscription:
    """A new subscription in the current transaction (the caller audits and commits); raises
    :class:`SubscriptionError` and stores nothing when a rule is broken."""
    if data.period_kind not in SUBSCRIPTION_PERIODS:
        raise SubscriptionError(_("Kỳ báo cáo không hợp lệ."), "period_kind")
    formats = set(data.formats)
    if not formats or not formats <= set(FORMATS):
        raise SubscriptionError(_("Chọn ít nhất một định dạng: DOCX hoặc PDF."), "formats")
    if data.language not in ("vi", "en"):
        raise SubscriptionError(_("Ngôn ngữ không hợp lệ."), "language")
    if not (data.signer_title or "").strip():
        raise SubscriptionError(_("Vui lòng điền chức vụ người ký."), "signer_title")
    if data.signer_prefix not in SIGNER_PREFIXES:
        raise SubscriptionError(_("Thẩm quyền ký không hợp lệ."), "signer_prefix")
    if not data.recipients:
        raise SubscriptionError(_("Chọn ít nhất một người nhận."), "recipients")
    allowed = {u.id for u in eligible_recipients(org, scope_root)}
    refused = [u for u in data.recipients if u.id not in allowed]
    if refused:
        raise SubscriptionError(_("Không thể gửi báo cáo của %(org)s cho tài khoản %(names)s: tài khoản phải "
                                  "đang hoạt động, có địa chỉ thư điện tử và được xem số liệu của đơn vị.",
                                  org=org.name, names=", ".join(u.username for u in refused)), "recipients")
    today = today or clock.today()
    starts_on = today
    if data.send_last:
        starts_on = latest_due_period(data.period_kind, today, load_calendar())[0]
    sub = ReportSubscription(
        organisation=org, period_kind=data.period_kind, want_docx="docx" in formats, want_pdf="pdf" in formats,
        language=data.language,
        managing_agency=_clean(data.managing_agency) or (org.parent.name if org.parent else None),
        agency=_clean(data.agency) or org.name, symbol=_clean(data.symbol), place=_clean(data.place),
        signer_prefix=_clean(data.signer_prefix), signer_authority=_clean(data.signer_authority),
        signer_title=data.signer_title.strip(), signer_name=_clean(data.signer_name),
        filed_recipients="\n".join(r.strip() for r in data.filed_recipients if r.strip()) or None,
        starts_on=starts_on, created_by_id=created_by.id if created_by is not None else None,
        recipients=list({u.id: u for u in data.recipients}.values()))
    db.session.add(sub)
    db.session.flush()
    return sub


def unsubscribe(sub: ReportSubscription) -> None:
    """Delete the subscription, its recipients and its record of periods sent (not committed);
    e-mails already queued still go out."""
    db.session.execute(sa.delete(ReportDelivery).where(ReportDelivery.subscription_id == sub.id))
    db.session.delete(sub)
    db.session.flush()


def visible_subscriptions(scope_root: Organisation | None) -> list[ReportSubscription]:
    """The subscriptions of the organisations in the subtree (all for the installation)."""
    stmt = sa.select(ReportSubscription)
    if scope_root is not None:
        stmt = stmt.where(subtree_filter(ReportSubscription.organisation_id, scope_root))
    return list(db.session.scalars(stmt.order_by(ReportSubscription.organisation_id, ReportSubscription.id)))


def formats_of(sub: ReportSubscription) -> list[str]:
    return [f for f, on in (("docx", sub.want_docx), ("pdf", sub.want_pdf)) if on]


def last_delivery(sub: ReportSubscription) -> ReportDelivery | None:
    return db.session.scalar(sa.select(ReportDelivery).where(ReportDelivery.subscription_id == sub.id)
                             .order_by(ReportDelivery.period_start.desc()).limit(1))


# ---------------------------------------------------------------------------------------------
# Sending


def build_documents(sub: ReportSubscription, first: date, last: date, issued_on: date) -> list[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of each format of the subscription's báo cáo."""

    org = sub.organisation
    f = Filters(first, last)
    with force_locale(sub.language):
        report = upward_report(org, f, sub.language)
        header = header_from(org, f, symbol=sub.symbol, agency=sub.agency,
                             managing_agency=sub.managing_agency or "", place=sub.place or "", issued=issued_on,
                             signer_prefix=sub.signer_prefix or "", signer_authority=sub.signer_authority or "",
                             signer_title=sub.signer_title, signer_name=sub.signer_name or "",
                             recipients=(sub.filed_recipients or "").splitlines())
        docx = filed_bytes(report, header, "docx", sub.language)
    out = []
    if sub.want_docx:
        out.append((filed_filename(org, first, last, "docx"), CONTENT_TYPES["docx"], docx))
    if sub.want_pdf:

        out.append((filed_filename(org, first, last, "pdf"), CONTENT_TYPES["pdf"], docx_to_pdf(docx)))
    return out


def email_for(user: User, sub: ReportSubscription, first: date, last: date) -> tuple[str, str]:
    """(subject, text) in the recipient's language: the name, the organisation, the period."""

    lang = user.language or "vi"
    with force_locale(lang):
        org = sub.organisation.name if lang == "vi" else (sub.organisation.name_en or sub.organisation.name)
        period = period_label(first, last, lang)
        subject = _("Báo cáo định kỳ %(period)s: %(org)s", period=period, org=org)
        text = "\n\n".join([
            _("Kính gửi %(name)s,", name=user.full_name or user.username),
            _("Đính kèm thư này là báo cáo kết quả đo lường sự hài lòng của người dân, tổ chức đối với "
              "%(org)s %(period)s, theo thể thức Nghị định 30/2020/NĐ-CP.", org=org, period=period),
            _("Bạn nhận thư này vì có tên trong danh sách nhận báo cáo định kỳ của đơn vị. Danh sách được "
              "quản lý tại: %(url)s", url=absolute_url("/admin/report-subscriptions")),
        ]) + "\n"
    return subject, text


def send_period(sub: ReportSubscription, first: date, last: date, *, today: date | None = None) -> int:
    """Build the report of [first, last] and queue one e-mail per current recipient, once per
    subscription and period; commits. Returns how many e-mails were queued (0 when the period
    was sent before, by this run or another worker)."""

    sent_before = sa.select(ReportDelivery.id).where(ReportDelivery.subscription_id == sub.id,
                                                     ReportDelivery.period_start == first)
    if db.session.scalar(sent_before) is not None:
        return 0
    recipients = current_recipients(sub)
    if not recipients:
        current_app.logger.warning("report subscription %s: no recipient can receive it", sub.id)
        return 0
    # Built before the period is claimed: building may commit report rollups.
    files = build_documents(sub, first, last, today or clock.today())
    recipient_ids = [u.id for u in recipients]
    # The claim and the e-mails in one transaction: a concurrent worker's insert waits for this
    # one on PostgreSQL, then finds the key taken; SQLite serialises writers.
    claimed = db.session.execute(
        dialect_insert(ReportDelivery).values(subscription_id=sub.id, period_start=first, period_end=last,
                                              recipients=len(recipient_ids), created_at=clock.now_utc())
        .on_conflict_do_nothing(index_elements=["subscription_id", "period_start"]).returning(ReportDelivery.id)
    ).scalar()
    if claimed is None:
        db.session.rollback()
        return 0
    attachments = [store_attachment(name, kind, data) for name, kind, data in files]
    queued = 0
    for user in db.session.scalars(sa.select(User).where(User.id.in_(recipient_ids)).order_by(User.id)):
        subject, text = email_for(user, sub, first, last)
        item = enqueue_email(user.email, subject, text, None, kind=KIND, user_id=user.id,
                             organisation_id=sub.organisation_id, attachments=attachments,
                             dedupe_key=f"report-subscription:{sub.id}:{first.isoformat()}:{user.id}")
        queued += item is not None
    db.session.commit()
    return queued


def send_due_reports(today: date | None = None) -> int:
    """The worker job: each active subscription's latest due period, if not sent yet. A
    subscription that fails is logged and tried again at the next run; the others go on."""
    today = today or clock.today()
    cal = load_calendar()
    queued, failed = 0, []
    ids = list(db.session.scalars(sa.select(ReportSubscription.id).where(ReportSubscription.active)
                                  .order_by(ReportSubscription.id)))
    for sub_id in ids:
        sub = db.session.get(ReportSubscription, sub_id)
        period = due_period(sub, today, cal)
        if period is None:
            continue
        try:
            queued += send_period(sub, *period, today=today)
        except Exception:  # noqa: BLE001 - one subscription's failure must not stop the others
            db.session.rollback()
            current_app.logger.exception("report subscription %s failed", sub_id)
            failed.append(sub_id)
    if failed:  # recorded on the job's row; the next run tries these again
        raise RuntimeError(f"report subscriptions failed: {failed}")
    return queued


def seed_demo_subscription() -> ReportSubscription | None:
    """What ``seed-demo`` adds: the province's monthly report to the administrator, the month
    just closed included, so that the worker's first run puts one in the mail folder."""
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == "KA"))
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    if org is None or admin is None or not admin.email:
        return None
    sub = subscribe(org, SubscriptionInput(period_kind="month", formats=("docx", "pdf"), language="vi",
                                           signer_title="Chủ tịch", signer_prefix="TM.",
                                           signer_authority="Ủy ban nhân dân", place="Khánh An", recipients=[admin],
                                           filed_recipients=("Văn phòng UBND tỉnh", "Lưu: VT"), send_last=True),
                    scope_root=None, created_by=admin)
    db.session.commit()
    return sub
