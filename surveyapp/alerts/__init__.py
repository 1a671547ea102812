"""Alerts: rules of an organisation evaluated by the worker on what was stored.

- :func:`evaluate_frequent` (every minute): dissatisfied answers piling up, harassment or a
  demand for money in a comment, silent kiosks;
- :func:`evaluate_daily` (once a day): service points below their target.

Each raised alert is recorded once (its dedupe key is unique) with its notifications, e-mails
and webhook calls in the same transaction (surveyapp/alerts/notify.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..clock import now_utc, to_local, today
from ..extensions import db
from ..models import Alert, JobState, KioskDevice, ServicePoint
from ..privacy import mask_personal_data
from ..reports.model import scope_report
from ..themes import mentions_harassment
from . import rules
from .notify import raise_alert

COMMENT_OVERLAP = timedelta(minutes=5)  # a comment committed late is still seen (alerts dedupe)
COMMENT_EXCERPT = 300


def _fmt(at: datetime) -> str:
    return f"{to_local(at):%H:%M %d/%m/%Y}"


def _cursor(name: str) -> JobState:
    state = db.session.get(JobState, name)
    if state is None:
        state = JobState(name=name)
        db.session.add(state)
        db.session.flush()
    return state


def evaluate_frequent(now: datetime | None = None) -> int:
    """Rules 1, 3 and 4; returns how many alerts were raised."""
    now = now or now_utc()
    rules.ensure_default_rules()
    raised = check_bursts(now) + check_comments(now) + check_kiosks(now)
    db.session.commit()
    return raised


def evaluate_daily(now: datetime | None = None) -> int:
    """Rule 2; returns how many alerts were raised."""
    now = now or now_utc()
    raised = check_targets(now)
    db.session.commit()
    return raised


def _by_rule(governed: dict) -> dict:
    out: dict = {}
    for sp_id, rule in governed.items():
        out.setdefault(rule, []).append(sp_id)
    return out


def check_bursts(now: datetime) -> int:
    raised = 0
    for rule, sp_ids in _by_rule(rules.governing_rules("dissatisfied_burst")).items():
        # The answers of the last alert at a point count once: the next alert needs N new ones.
        since = {}
        for alert in db.session.scalars(sa.select(Alert).where(
                Alert.rule_id == rule.id, Alert.service_point_id.in_(sp_ids),
                Alert.opened_at > now - timedelta(days=1))):
            until = datetime.fromisoformat(alert.details["until"])
            since[alert.service_point_id] = max(since.get(alert.service_point_id, until), until)
        p = rules.params_of(rule)
        for sp_id, (count, first, last) in rules.dissatisfied_bursts(rule, sp_ids, now, since).items():
            sp = db.session.get(ServicePoint, sp_id)
            details = {"count": count, "window_minutes": int(p["window_minutes"]), "threshold": int(p["threshold"]),
                       "first_local": _fmt(first), "last_local": _fmt(last), "until": last.isoformat()}
            if raise_alert(rule, sp.organisation, f"sp:{sp_id}", f"burst:{rule.id}:{sp_id}:{last.isoformat()}",
                           details, service_point=sp, now=now):
                raised += 1
    return raised


HARASSMENT_THEME = "nhũng nhiễu, vòi vĩnh (nhận diện tự động)"


def check_comments(now: datetime) -> int:
    governed = rules.governing_rules("harassment")
    cursor = _cursor("cursor:harassment")
    since = (cursor.cursor_at - COMMENT_OVERLAP if cursor.cursor_at
             else now - timedelta(hours=current_app.config["ALERTS_FIRST_LOOKBACK_HOURS"]))
    raised = 0
    if governed:
        for answer_id, sp_id, text, at in rules.new_comments(since, now):
            rule = governed.get(sp_id)
            if rule is None:
                continue
            # The rule's own editable terms, and the harassment theme of the comment classifier
            # (surveyapp/themes), which also reads teencode and text typed without diacritics.
            terms = rules.matched_terms(text, list(rules.params_of(rule)["terms"]))
            if not terms and mentions_harassment(text):
                terms = [HARASSMENT_THEME]
            if not terms:
                continue
            sp = db.session.get(ServicePoint, sp_id)
            masked = mask_personal_data(text)
            excerpt = masked if len(masked) <= COMMENT_EXCERPT else masked[:COMMENT_EXCERPT] + "…"
            details = {"terms": terms, "comment": excerpt, "answer_id": answer_id, "at_local": _fmt(at)}
            if raise_alert(rule, sp.organisation, f"answer:{answer_id}", f"harassment:{rule.id}:{answer_id}",
                           details, service_point=sp, now=now):
                raised += 1
    cursor.cursor_at = now
    return raised


def check_kiosks(now: datetime) -> int:
    governed = rules.governing_rules("silent_kiosk")
    if not governed:
        return 0
    raised = 0
    devices = db.session.scalars(sa.select(KioskDevice).where(
        KioskDevice.token_hash.is_not(None), KioskDevice.revoked_at.is_(None),
        KioskDevice.service_point_id.in_(list(governed))))
    for device in devices:
        rule = governed[device.service_point_id]
        p = rules.params_of(rule)
        last = device.last_seen_at or device.enrolled_at
        if last is None:
            continue
        hours = rules.opening_hours_between(to_local(last), to_local(now), p)
        if hours < float(p["hours"]):
            continue
        sp = device.service_point
        details = {"device": device.name, "device_id": device.id, "last_local": _fmt(last),
                   "hours": round(hours, 1), "threshold_hours": p["hours"]}
        # One alert per silence: the kiosk's last contact names it.
        if raise_alert(rule, sp.organisation, f"kiosk:{device.id}", f"silent:{rule.id}:{device.id}:{last.isoformat()}",
                       details, service_point=sp, now=now):
            raised += 1
    return raised


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def check_targets(now: datetime) -> int:
    """Rule 2: each governed point's headline indices over the last D days, as the dashboard
    computes and judges them; an alert where the statistical verdict is "không đạt"."""
    raised = 0
    day = to_local(now).date() if now else today()
    for rule, sp_ids in _by_rule(rules.governing_rules("below_target")).items():
        days = int(rules.params_of(rule)["days"])
        for sp in db.session.scalars(sa.select(ServicePoint).where(ServicePoint.id.in_(sp_ids))):
            report = scope_report(None, day - timedelta(days=days - 1), day, service_point=sp)
            for section in report.sections:
                if section.verdict.status != "not_met":
                    continue
                subject = f"sp:{sp.id}:q:{section.questionnaire_id}"
                if rules.still_open(rule, subject):
                    continue
                e, t = section.headline, section.target
                details = {"survey": section.title, "indicator": section.indicator, "days": days, "n": e.n,
                           "index": e.estimate, "low": e.low, "high": e.high, "index_label": _pct(e.estimate),
                           "low_label": _pct(e.low), "high_label": _pct(e.high),
                           "target_label": t.label if t else "-", "questionnaire_id": section.questionnaire_id}
                if raise_alert(rule, sp.organisation, subject, f"below:{rule.id}:{subject}:{day.isoformat()}",
                               details, service_point=sp, now=now):
                    raised += 1
    return raised
