"""Which surveys take responses: one rule for the QR path, the kiosk and the POST fast path.

A survey takes responses on a channel at a service point on a local date when it is open,
has that channel, is deployed there, and the date lies within its first and last day. The
date is the one where the service is (``clock.today``), never the server's own: a QR survey
and its kiosk twin open and close at the same instant.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..clock import today
from ..extensions import db
from ..models import Survey, survey_service_point

CHANNEL_COLUMNS = {"qr": "channel_qr", "kiosk": "channel_kiosk"}


def open_on(survey: sa.Table, channel: str, on) -> sa.ColumnElement[bool]:
    """The SQL condition: a row of ``survey`` (the table or an alias) takes responses on
    ``channel`` on local date ``on`` (a date or a bind parameter)."""
    return sa.and_(
        survey.c.status == "open",
        survey.c[CHANNEL_COLUMNS[channel]].is_(True),
        survey.c.starts_on <= on,
        sa.or_(survey.c.ends_on.is_(None), survey.c.ends_on >= on),
    )


def open_surveys(service_point_id: int, channel: str, on: date | None = None) -> list[Survey]:
    """The surveys taking responses at a service point on ``channel`` on ``on`` (default:
    today, locally), each with its questionnaire and organisation loaded in the same statement."""
    stmt = (
        sa.select(Survey)
        .options(joinedload(Survey.questionnaire), joinedload(Survey.organisation))
        .join(survey_service_point, survey_service_point.c.survey_id == Survey.id)
        .where(survey_service_point.c.service_point_id == service_point_id,
               open_on(Survey.__table__, channel, on or today()))
    )
    return list(db.session.scalars(stmt))


__all__ = ["open_on", "open_surveys", "CHANNEL_COLUMNS"]
