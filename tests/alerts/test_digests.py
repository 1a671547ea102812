"""Digests: content from the dashboard's numbers, HTML and plain text, the user's language, once
per period, and ``digest send``."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from alert_helpers import rate

from surveyapp import outbox
from surveyapp.alerts.digests import digest_cases_section, last_complete_period, send_due_digests
from surveyapp.extensions import db
from surveyapp.models import OutboxItem, utcnow


def test_periods_are_the_last_complete_day_week_and_month():
    wednesday = date(2026, 12, 2)
    assert last_complete_period("day", wednesday) == (date(2026, 12, 1), date(2026, 12, 1))
    assert last_complete_period("week", wednesday) == (date(2026, 11, 23), date(2026, 11, 29))
    assert last_complete_period("month", wednesday) == (date(2026, 11, 1), date(2026, 11, 30))


def test_weekly_digest_in_english_with_indices_verdicts_and_a_text_part(app, province, smtp):
    start, _ = last_complete_period("week", date.today())
    for i in range(30):
        rate(province.survey, province.point, 1 if i % 3 == 0 else 4,
             utcnow() - timedelta(days=(date.today() - start).days - 2, minutes=i))
    manager = province.province_manager
    manager.digest_frequency, manager.language = "week", "en"
    db.session.commit()

    assert send_due_digests() == 1
    assert send_due_digests() == 0  # once per period
    outbox.deliver_due()
    [msg] = smtp.messages
    assert msg["To"] == "tinh@example.gov.vn"
    assert str(msg["Subject"]).startswith("Weekly digest")
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "UBND tỉnh Thử" in text and "95% confidence interval" in text and "Verdict" in text
    assert 'name="viewport"' in html and "Units below target" in html
    assert "@example" not in text.replace("tinh@example.gov.vn", "")


def test_digest_send_command_sends_one_now(app, province_rows, smtp):
    runner = app.test_cli_runner()
    res = runner.invoke(args=["digest", "send", "--user", "xamot", "--period", "month"])
    assert res.exit_code == 0, res.output
    assert "queued" in res.output
    with app.app_context():
        outbox.deliver_due()
    assert [m["To"] for m in smtp.messages] == ["xamot@example.gov.vn"]
    assert str(smtp.messages[0]["Subject"]).startswith("Bản tin tháng")
    missing = runner.invoke(args=["digest", "send", "--user", "nobody"])
    assert missing.exit_code != 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) == 1


def test_the_cases_section_is_an_empty_hook_until_cases_exist(app, province):
    section = digest_cases_section(province.manager, date(2026, 11, 1), date(2026, 11, 30))
    assert section.lines == []
