"""The alert rules: what each kind looks for in what was stored.

Rules belong to an organisation and cover its subtree; for each service point the rule of a
kind that belongs to its nearest organisation governs it (a commune's rule overrides the
province's; an inactive one switches the kind off there). The rules read stored rows only,
from the worker: a citizen's submission pays nothing for them.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import ALERT_KINDS, Alert, AlertRule, Answer, Organisation, Question, Questionnaire, Response, ServicePoint

N_ = str  # marks a msgid for extraction; translated where shown

KIND_LABELS = {
    "dissatisfied_burst": N_("Nhiều ý kiến không hài lòng trong thời gian ngắn"),
    "below_target": N_("Điểm phục vụ dưới chỉ tiêu"),
    "harassment": N_("Góp ý phản ánh nhũng nhiễu, đòi tiền"),
    "silent_kiosk": N_("Máy đánh giá không liên lạc"),
}
# Managers of the organisation and of its ancestors receive these unless they opt out.
DEFAULT_IN_KINDS = ("dissatisfied_burst", "below_target", "harassment")


def default_in(kind: str, user) -> bool:
    """Whether a user related to the rule's organisations (their own or an ancestor's
    manager) receives its alerts without opting in."""
    return kind in DEFAULT_IN_KINDS and user.role == "manager"

# Terms that signal harassment or a demand for money (Decree 61/2018's "nhũng nhiễu",
# the SIPAS item "không gây nhũng nhiễu, không đòi tiền"); officials edit the list per rule.
DEFAULT_TERMS = (
    "nhũng nhiễu", "vòi vĩnh", "bồi dưỡng", "tiền cà phê", "tiền cafe", "tiền trà nước", "tiền bồi dưỡng",
    "phí bôi trơn", "bôi trơn", "lót tay", "phong bì", "hối lộ", "đòi tiền", "xin tiền", "đưa tiền",
    "gây khó dễ", "làm khó", "hạch sách", "tiền ngoài", "chạy hồ sơ", "cò hồ sơ",
)

DEFAULT_PARAMS = {
    "dissatisfied_burst": {"threshold": 3, "window_minutes": 60},
    "below_target": {"days": 30},
    "harassment": {"terms": list(DEFAULT_TERMS)},
    "silent_kiosk": {"hours": 2, "opens": "07:30", "closes": "17:00", "weekdays": [0, 1, 2, 3, 4]},
}


def params_of(rule: AlertRule) -> dict:
    """The rule's parameters, with the kind's defaults for anything not set."""
    return DEFAULT_PARAMS[rule.kind] | (rule.params or {})


def ensure_default_rules() -> None:
    """Rule 1 is on by default: every top-level organisation without one gets it (3 dissatisfied
    answers within 60 minutes). A rule that was switched off stays off."""
    roots = db.session.scalars(sa.select(Organisation).where(Organisation.parent_id.is_(None)))
    have = set(db.session.scalars(sa.select(AlertRule.organisation_id).where(AlertRule.kind == "dissatisfied_burst")))
    for org in roots:
        if org.id not in have:
            db.session.add(AlertRule(organisation_id=org.id, kind="dissatisfied_burst",
                                     params=dict(DEFAULT_PARAMS["dissatisfied_burst"])))
    db.session.flush()


def governing_rules(kind: str) -> dict[int, AlertRule]:
    """Service point id -> the active rule of ``kind`` that governs it."""
    rules = {r.organisation_id: r for r in db.session.scalars(sa.select(AlertRule).where(AlertRule.kind == kind))}
    if not rules:
        return {}
    paths = dict(db.session.execute(sa.select(Organisation.id, Organisation.path)).all())
    out = {}
    for sp_id, org_id in db.session.execute(sa.select(ServicePoint.id, ServicePoint.organisation_id)
                                            .where(ServicePoint.active)):
        chain = [int(p) for p in paths.get(org_id, "").strip("/").split("/") if p]
        for oid in reversed(chain):  # the nearest organisation first
            rule = rules.get(oid)
            if rule is not None:
                if rule.active:
                    out[sp_id] = rule
                break
    return out


def rule_for_org(kind: str, org: Organisation) -> AlertRule | None:
    """The rule of ``kind`` governing an organisation (the nearest one), if active."""
    rules = {r.organisation_id: r for r in db.session.scalars(
        sa.select(AlertRule).where(AlertRule.kind == kind, AlertRule.organisation_id.in_(org.ancestor_ids())))}
    for oid in reversed(org.ancestor_ids()):
        if oid in rules:
            return rules[oid] if rules[oid].active else None
    return None


def still_open(rule: AlertRule, subject: str) -> bool:
    """An alert of this rule about this subject that is not closed yet."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Alert).where(
        Alert.rule_id == rule.id, Alert.subject == subject, Alert.state != "closed")) > 0


# ---------------------------------------------------------------------------------------------
# 1. Dissatisfied answers pile up


def headline_condition():
    """The headline question of a questionnaire: its overall-satisfaction question, or the one
    question of the quick rating."""
    return sa.and_(Question.type == "rating", sa.or_(
        Question.code == "overall",
        sa.and_(Question.counts_in_index, Questionnaire.indicator == "quick"),
    ))


# Values 1 and 2: "rất không hài lòng"/"không hài lòng" on five points, "không hài lòng"/"chưa
# hài lòng" on the quick rating (shared/domain.md).
DISSATISFIED_MAX_VALUE = 2


def dissatisfied_bursts(rule: AlertRule, sp_ids: list[int], now: datetime, since: dict[int, datetime]):
    """Per service point: (count, first, last) of the dissatisfied headline answers after
    ``since[sp]`` (the end of the last alert's answers) within the rule's window."""
    p = params_of(rule)
    window_start = now - timedelta(minutes=int(p["window_minutes"]))
    rows = db.session.execute(
        sa.select(Answer.service_point_id, Answer.submitted_at)
        .join(Question, Question.id == Answer.question_id)
        .join(Questionnaire, Questionnaire.id == Question.questionnaire_id)
        .join(Response, Response.id == Answer.response_id)
        .where(Answer.service_point_id.in_(sp_ids), Answer.submitted_at > window_start, Answer.submitted_at <= now,
               Answer.value.is_not(None), Answer.value <= DISSATISFIED_MAX_VALUE, Response.flag.is_(None),
               headline_condition())
    ).all()
    found: dict[int, list[datetime]] = {}
    for sp_id, at in rows:
        if sp_id in since and at <= since[sp_id]:
            continue
        found.setdefault(sp_id, []).append(at)
    return {sp: (len(ts), min(ts), max(ts)) for sp, ts in found.items() if len(ts) >= int(p["threshold"])}


# ---------------------------------------------------------------------------------------------
# 3. Harassment or a demand for money


def fold(text: str) -> str:
    """Lower case without diacritics ("Nhũng nhiễu" -> "nhung nhieu", "đ" -> "d"), spaces
    collapsed: how a comment typed without diacritics is matched."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return re.sub(r"\s+", " ", stripped).strip().casefold()


def matched_terms(text: str, terms: list[str]) -> list[str]:
    """The terms that occur in ``text`` as whole words, compared without diacritics."""
    folded = fold(text)
    found = []
    for term in terms:
        t = fold(term)
        if t and re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", folded):
            found.append(term)
    return found


def new_comments(since: datetime, now: datetime):
    """Free-text answers stored in (since, now], with their service point."""
    return db.session.execute(
        sa.select(Answer.id, Answer.service_point_id, Answer.text, Answer.submitted_at)
        .join(Question, Question.id == Answer.question_id)
        .join(Response, Response.id == Answer.response_id)
        .where(Question.type == "text", Answer.text.is_not(None), Answer.submitted_at > since,
               Answer.submitted_at <= now, Response.flag.is_(None))
        .order_by(Answer.id)
    ).all()


# ---------------------------------------------------------------------------------------------
# 4. A silent kiosk


def _hm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def opening_hours_between(start: datetime, end: datetime, p: dict) -> float:
    """Hours of opening time (local) between two local instants, over at most 31 days."""
    opens, closes = _hm(p["opens"]), _hm(p["closes"])
    weekdays = {int(d) for d in p["weekdays"]}
    total = 0.0
    day = max(start.date(), (end - timedelta(days=31)).date())
    while day <= end.date():
        if day.weekday() in weekdays:
            lo = max(start, datetime.combine(day, opens))
            hi = min(end, datetime.combine(day, closes))
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
        day += timedelta(days=1)
    return total


__all__ = ["ALERT_KINDS", "KIND_LABELS", "DEFAULT_PARAMS", "DEFAULT_TERMS", "fold", "matched_terms"]
