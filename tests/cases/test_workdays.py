"""Working days: weekends and Vietnam's public holidays (the lunar ones included) are left out,
the government's swapped days count, and officials' changes override the statutory calendar."""
from __future__ import annotations

from datetime import date

from surveyapp import workdays
from surveyapp.workdays import Calendar


def test_a_deadline_skips_the_weekend_and_the_30_4_and_1_5_holidays():
    # Wednesday 29/4/2026: Thursday 30/4 and Friday 1/5 are holidays, then the weekend.
    assert Calendar().add_working_days(date(2026, 4, 29), 3) == date(2026, 5, 6)
    assert Calendar().add_working_days(date(2026, 4, 29), 0) == date(2026, 4, 29)


def test_the_lunar_hung_kings_day_and_its_observed_day_are_left_out():
    # Giỗ Tổ Hùng Vương (10/3 lunar) falls on Sunday 26/4/2026; Monday 27/4 is the day off in lieu.
    assert not Calendar().is_working_day(date(2026, 4, 27))
    assert Calendar().add_working_days(date(2026, 4, 24), 1) == date(2026, 4, 28)
    # Tết Nguyên đán 2026 (from 16/2) is a week without working days.
    assert Calendar().add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)


def test_a_saturday_the_government_swapped_is_a_working_day():
    assert Calendar().is_working_day(date(2026, 8, 22))
    assert not Calendar().is_working_day(date(2026, 8, 31))


def test_officials_overrides_win_over_the_statutory_calendar():
    extra = Calendar(overrides={date(2026, 5, 4): "off", date(2026, 5, 2): "working"})
    # Saturday 2/5 worked, Monday 4/5 off: 2/5, 5/5, 6/5.
    assert extra.add_working_days(date(2026, 4, 29), 3) == date(2026, 5, 6)
    assert Calendar(overrides={date(2026, 5, 4): "off"}).add_working_days(date(2026, 4, 29), 3) == date(2026, 5, 7)
    assert Calendar(overrides={date(2026, 4, 30): "working"}).add_working_days(date(2026, 4, 29), 1) == date(2026, 4, 30)


def test_due_at_is_the_local_midnight_after_the_last_day(app_context):
    from case_helpers import local

    due = Calendar().due_at(local(2026, 4, 29, 23, 30), 3)
    assert due == local(2026, 5, 7, 0, 0)
    assert workdays.due_on(due) == date(2026, 5, 6)


def test_holidays_cli_lists_adds_and_removes_a_day(app, runner):
    out = runner.invoke(args=["holidays", "list", "--year", "2027"])
    assert out.exit_code == 0, out.output
    assert "2027-04-30" in out.output and "2027-02-05" in out.output  # Tết Nguyên đán 2027 (lunar)
    out = runner.invoke(args=["holidays", "add", "2027-02-12", "--year", "2027", "--note", "Nghỉ Tết bổ sung"])
    assert out.exit_code == 0, out.output
    with app.app_context():
        assert not workdays.load_calendar().is_working_day(date(2027, 2, 12))
    assert "2027-02-12  off      override   Nghỉ Tết bổ sung" in runner.invoke(
        args=["holidays", "list", "--year", "2027"]).output
    assert runner.invoke(args=["holidays", "add", "2027-02-12", "--year", "2026"]).exit_code != 0
    out = runner.invoke(args=["holidays", "remove", "2027-02-12", "--year", "2027"])
    assert out.exit_code == 0, out.output
    with app.app_context():
        assert workdays.load_calendar().is_working_day(date(2027, 2, 12))
    assert runner.invoke(args=["holidays", "remove", "2027-02-12"]).exit_code != 0
