"""Scheduled filed reports against the real things: the worker job on a travelling clock, the
outbox delivering to a real SMTP server (aiosmtpd), the attachments read back with python-docx
and pypdf and compared with ``report --format json``; once per subscription and period however
often the job runs, also when two sessions race on PostgreSQL or a run dies half-way."""
from __future__ import annotations

import io
import json
import threading
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from alert_helpers import rate
from docx import Document
from pypdf import PdfReader

from surveyapp import outbox
from surveyapp.documents import subscriptions as subs
from surveyapp.documents.report import pct
from surveyapp.extensions import db
from surveyapp.jobs import run_job
from surveyapp.models import OutboxItem, ReportDelivery, ReportSubscription
from surveyapp.workdays import Calendar
from tests.conftest import reloaded

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Q4 = (date(2026, 10, 1), date(2026, 12, 31))


def local(y, m, d, h=9, minute=0) -> datetime:
    """A local wall-clock time as the naive UTC the database stores."""
    return datetime(y, m, d, h, minute, tzinfo=VN).astimezone(timezone.utc).replace(tzinfo=None)


def travel(y, m, d, h=7, minute=30):
    return time_machine.travel(datetime(y, m, d, h, minute, tzinfo=VN))


def seed_ratings(p) -> None:
    """Quick ratings at the commune's counter: the third and fourth quarters of 2026 (the previous
    period and the reported one), and three in January 2027 that no Q4 report may count."""
    for i, v in enumerate([4, 4, 3, 4, 2, 1, 4, 3, 3, 4, 4, 2, 4, 3, 4, 1, 4, 4]):
        rate(p.survey, p.point, v, local(2026, 10 + i % 3, 5 + i))
    for i, v in enumerate([4, 3, 2, 4, 1, 4, 3, 2]):
        rate(p.survey, p.point, v, local(2026, 7 + i % 3, 3 + i))
    for _ in range(3):
        rate(p.survey, p.point, 1, local(2027, 1, 2))


def subscribe(p, *, org=None, recipients=None, today=date(2026, 10, 15), **extra):
    data = subs.SubscriptionInput(
        period_kind=extra.pop("period_kind", "quarter"), formats=extra.pop("formats", ("docx", "pdf")),
        language="vi", signer_title="Chủ tịch", signer_name="Nguyễn Văn Ký", signer_prefix="TM.",
        signer_authority="Ủy ban nhân dân", filed_recipients=("UBND tỉnh (để b/c)", "Lưu: VT"),
        recipients=recipients if recipients is not None else [p.manager, p.province_manager], **extra)
    sub = subs.subscribe(org or p.commune, data, scope_root=p.province, created_by=p.province_manager, today=today)
    db.session.commit()
    return sub


def run(job: str) -> None:
    assert run_job(job, force=True)


def queued() -> list[OutboxItem]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxItem).where(OutboxItem.kind == subs.KIND).order_by(OutboxItem.id)))


def attachments(msg) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def report_json(app, code: str, first: date, last: date) -> dict:
    result = app.test_cli_runner().invoke(args=["report", "--org", code, "--from", first.isoformat(),
                                                "--to", last.isoformat(), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# ---------------------------------------------------------------------------------------------
# When a period is due


@pytest.mark.parametrize("kind, today, expected", [
    # Q4 2026 closes on a Thursday; 1/1 is Tết Dương lịch, then a weekend: sent on Monday 4/1.
    ("quarter", date(2027, 1, 1), (date(2026, 7, 1), date(2026, 9, 30))),
    ("quarter", date(2027, 1, 4), Q4),
    # August closes before Quốc khánh (1-2/9 in 2026): September's third is the first working day.
    ("month", date(2026, 9, 2), (date(2026, 7, 1), date(2026, 7, 31))),
    ("month", date(2026, 9, 3), (date(2026, 8, 1), date(2026, 8, 31))),
    ("half", date(2026, 7, 1), (date(2026, 1, 1), date(2026, 6, 30))),
    ("year", date(2027, 1, 4), (date(2026, 1, 1), date(2026, 12, 31))),
])
def test_latest_due_period_is_the_one_whose_first_working_day_has_come(kind, today, expected):
    assert subs.latest_due_period(kind, today, Calendar()) == expected


def test_an_official_day_off_moves_the_sending_day():
    cal = Calendar(overrides={date(2027, 1, 4): "off"})
    assert subs.latest_due_period("quarter", date(2027, 1, 4), cal)[0] == date(2026, 7, 1)
    assert subs.latest_due_period("quarter", date(2027, 1, 5), cal) == Q4


# ---------------------------------------------------------------------------------------------
# The job, the outbox and a real SMTP server


def test_report_is_sent_once_after_the_period_closes_with_the_numbers_of_report_json(auth, app, province, smtp):
    with app.app_context():
        p = reloaded(province)
        seed_ratings(p)
        subscribe(p)
        for day, hour in ((date(2026, 12, 31), 22), (date(2027, 1, 1), 9), (date(2027, 1, 3), 9)):
            with travel(day.year, day.month, day.day, hour):
                run("report-subscriptions")  # Q4 not closed, or closed but no working day yet
                assert not queued()

    with travel(2027, 1, 4, 7, 0):
        result = app.test_cli_runner().invoke(args=["jobs", "run-once", "--job", "report-subscriptions"])
        assert result.exit_code == 0 and "report-subscriptions" in result.output
        with app.app_context():
            assert {i.recipient for i in queued()} == {"xamot@example.gov.vn", "tinh@example.gov.vn"}
            run("report-subscriptions")
            run("report-subscriptions")
            assert outbox.deliver_due() == 2
        data = report_json(app, "P-C", *Q4)
    with travel(2027, 1, 5, 7, 0), app.app_context():
        run("report-subscriptions")
        run("outbox")
    with app.app_context():
        assert len(queued()) == 2 and len(smtp.messages) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportDelivery)) == 1

    sections = [s for s in data["sections"] if s["headline"]["estimate"] is not None]
    assert sections and data["respondents"] == 18  # the quarter only: not July, not January
    for msg in smtp.messages:
        files = attachments(msg)
        assert sorted(files) == ["bao-cao-P-C-2026-10-01-2026-12-31.docx", "bao-cao-P-C-2026-10-01-2026-12-31.pdf"]
        doc = Document(io.BytesIO(files["bao-cao-P-C-2026-10-01-2026-12-31.docx"]))
        text = "\n".join(p.text for p in doc.paragraphs)
        assert "quý IV năm 2026" in text and f"{data['respondents']} lượt người dân" in text
        pdf = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(
            files["bao-cao-P-C-2026-10-01-2026-12-31.pdf"])).pages)
        pdf = " ".join(pdf.split())
        for s in sections:
            h = s["headline"]
            sentence = (f"đạt {pct(h['estimate'])}; với số phiếu thu được, giá trị thực nằm trong khoảng từ "
                        f"{pct(h['low'])} đến {pct(h['high'])}")
            assert sentence in text
            assert sentence in pdf
        # The header and closing come from the subscription; the number is left for the clerk.
        left = [p.text for p in doc.tables[0].rows[0].cells[0].paragraphs if p.text]
        assert left == ["UBND TỈNH THỬ", "UBND XÃ MỘT", "Số: …/BC-UBND"]
        assert "Nguyễn Văn Ký" in pdf and "Lưu: VT" in pdf
        assert "ngày 04 tháng 01 năm 2027" in pdf


def test_e_mail_body_names_only_its_recipient(auth, app, province, smtp):
    with app.app_context():
        p = reloaded(province)
        seed_ratings(p)
        subscribe(p, formats=("docx",))
        with travel(2027, 1, 4):
            run("report-subscriptions")
            run("outbox")
    by_to = {str(m["To"]): m for m in smtp.messages}
    assert set(by_to) == {"xamot@example.gov.vn", "tinh@example.gov.vn"}
    body = by_to["xamot@example.gov.vn"].get_body(("plain",)).get_content()
    assert body.startswith("Kính gửi Trần Thị Một,")
    assert "UBND xã Một quý IV năm 2026" in body
    for other in ("Lê Văn Tỉnh", "tinh", "xamot@", "Nguyễn Văn Ký", "%"):
        assert other not in body
    assert str(by_to["xamot@example.gov.vn"]["Subject"]) == "Báo cáo định kỳ quý IV năm 2026: UBND xã Một"
    # The recipient finds it under the deliveries, with its attachment named.
    client = auth.client_for("xamot")
    with app.app_context():
        mine = [i.id for i in queued() if i.user_id == province.manager.id]
    assert len(mine) == 1
    page = client.get(f"/admin/deliveries/{mine[0]}").get_data(as_text=True)
    assert "Tệp đính kèm" in page and "bao-cao-P-C-2026-10-01-2026-12-31.docx" in page


def test_folder_channel_writes_the_attachment_too(app, province, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "folder")
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path))
    with app.app_context():
        p = reloaded(province)
        seed_ratings(p)
        subscribe(p, recipients=[p.manager], formats=("docx",))
        with travel(2027, 1, 4):
            run("report-subscriptions")
            run("outbox")
    import email
    import email.policy

    emls = list(tmp_path.glob("*.eml"))
    assert len(emls) == 1
    msg = email.message_from_bytes(emls[0].read_bytes(), policy=email.policy.default)
    files = attachments(msg)
    assert list(files) == ["bao-cao-P-C-2026-10-01-2026-12-31.docx"]
    assert "quý IV năm 2026" in "\n".join(p.text for p in Document(io.BytesIO(files[list(files)[0]])).paragraphs)


def test_paused_subscription_sends_nothing_until_resumed(auth, app, province, smtp):
    with app.app_context():
        p = reloaded(province)
        seed_ratings(p)
        sub_id = subscribe(p, formats=("docx",)).id
    client = auth.client_for("tinh")
    assert client.post(f"/admin/report-subscriptions/{sub_id}/toggle").status_code == 302
    with app.app_context():
        assert db.session.get(ReportSubscription, sub_id).active is False
        with travel(2027, 1, 4):
            run("report-subscriptions")
            run("outbox")
        assert not queued() and not smtp.messages
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportDelivery)) == 0
    assert client.post(f"/admin/report-subscriptions/{sub_id}/toggle").status_code == 302
    with travel(2027, 1, 5), app.app_context():
        run("report-subscriptions")
        run("outbox")
    assert len(smtp.messages) == 2


def test_account_switched_off_or_moved_away_receives_nothing(app, province, smtp):
    with app.app_context():
        p = reloaded(province)
        seed_ratings(p)
        subscribe(p, formats=("docx",))
        p.manager.organisation = p.other  # moved to the other commune: may not read P-C
        db.session.commit()
        with travel(2027, 1, 4):
            run("report-subscriptions")
            run("outbox")
    assert [str(m["To"]) for m in smtp.messages] == ["tinh@example.gov.vn"]


def test_a_run_that_dies_half_way_leaves_nothing_and_the_next_run_sends_all(app_context, province, smtp, monkeypatch):
    """No request nor command: one app context (``app_context``) for the whole test."""
    p = reloaded(province)
    seed_ratings(p)
    subscribe(p, formats=("docx",))
    real = outbox.enqueue_email
    calls = []

    def dies_after_the_first(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise OSError("worker killed")
        return real(*args, **kwargs)

    # The job's own reference to the outbox's enqueue (it imports the function).
    monkeypatch.setattr("surveyapp.documents.subscriptions.enqueue_email", dies_after_the_first)
    with travel(2027, 1, 4):
        run("report-subscriptions")
    assert not queued()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportDelivery)) == 0
    monkeypatch.setattr("surveyapp.documents.subscriptions.enqueue_email", real)
    with travel(2027, 1, 4, 8):
        run("report-subscriptions")
        run("outbox")
    assert len(queued()) == 2 and len(smtp.messages) == 2


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_sessions_racing_for_one_period_send_it_once(app, province, smtp):
    """Past the job's lease (as if it had run out): two workers build the same report at once;
    the unique key on (subscription, period) lets one of them queue it."""
    with app.app_context():
        p = reloaded(province)
        seed_ratings(p)
        sub_id = subscribe(p, formats=("docx",)).id
    barrier = threading.Barrier(2)
    results, errors = [], []
    real_build = subs.build_documents

    def build_then_wait(*args, **kwargs):
        files = real_build(*args, **kwargs)
        barrier.wait(60)  # both have built and checked "not sent yet" before either claims
        return files

    def worker():
        try:
            with app.app_context():
                sub = db.session.get(ReportSubscription, sub_id)
                results.append(subs.send_period(sub, *Q4, today=date(2027, 1, 4)))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    subs.build_documents = build_then_wait
    try:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        subs.build_documents = real_build
    assert not errors
    assert sorted(results) == [0, 2]
    with app.app_context():
        assert len(queued()) == 2
