"""Helpers of the workspace tests: two communes side by side and users of each role (they sign in
with the ``auth`` fixture)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from auth_actions import PASSWORD
from surveyapp.extensions import db
from surveyapp.models import (
    Alert,
    AlertRule,
    Answer,
    ApiKey,
    AuditEvent,
    Case,
    KioskDevice,
    Organisation,
    Question,
    Questionnaire,
    ReportSubscription,
    Response,
    ServicePoint,
    Survey,
    OutboxItem,
    Target,
    User,
    Webhook,
)

_CHEAP_HASH: list[str] = []


def cheap_hash() -> str:
    """The test password hashed once with few rounds: the app's scrypt costs 0.3 s a user,
    which would dominate the suite (the app's own hashing is tested through the user form)."""
    if not _CHEAP_HASH:
        from werkzeug.security import generate_password_hash

        _CHEAP_HASH.append(generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
    return _CHEAP_HASH[0]


@dataclass
class Side:
    org: Organisation
    child: Organisation
    sp: ServicePoint
    survey: Survey
    questionnaire: Questionnaire
    device: KioskDevice
    target: Target
    manager: User
    viewer: User
    admin: User  # an administrator with an organisation: the commune's, acting inside it only
    response: Response | None = None
    comment: Answer | None = None
    case: Case | None = None
    alert_rule: AlertRule | None = None
    alert: Alert | None = None
    webhook: Webhook | None = None
    outbox_item: OutboxItem | None = None
    report_subscription: ReportSubscription | None = None
    api_key: ApiKey | None = None


@dataclass
class World:
    province: Organisation
    admin: User  # the installation's administrator (no organisation)
    province_admin: User  # the province's own administrator
    a: Side
    b: Side


def make_user(username: str, role: str, org: Organisation | None) -> User:
    user = User(username=username, full_name=f"Cán bộ {username}", role=role, organisation=org)
    user.password_hash = cheap_hash()
    db.session.add(user)
    return user


def make_side(province: Organisation, code: str, name: str, standard) -> Side:
    from surveyapp.questionnaires import copy_questionnaire

    org = Organisation(code=code, name=name, sector="administrative", parent=province)
    db.session.add(org)
    db.session.flush()
    child = Organisation(code=code + "-TP", name=f"Tổ tiếp nhận {name}", sector="administrative", parent=org)
    sp = ServicePoint(organisation=org, name=f"Bộ phận Một cửa {name}")
    db.session.add_all([child, sp])
    db.session.flush()
    q = copy_questionnaire(standard["quick-rating"], family=f"quick-{code.lower()}", version=1,
                           organisation_id=org.id, title_vi=f"Phiếu riêng {name}", title_en=f"Own form {name}")
    q.questions.append(Question(position=3, code="comment", type="text", text_vi="Góp ý của Ông/Bà",
                                text_en="Your comments", max_length=1000))
    survey = Survey(questionnaire=q, organisation=org, name=f"Khảo sát {name}", starts_on=date(2026, 1, 1),
                    status="open", channel_qr=True, channel_kiosk=True, service_points=[sp])
    device = KioskDevice(name=f"Máy tính bảng {name}", service_point=sp)
    target = Target(indicator="quick", organisation=org, value=0.9, operator=">=", valid_from=date(2026, 1, 1))
    db.session.add_all([survey, device, target])
    side = Side(org=org, child=child, sp=sp, survey=survey, questionnaire=q, device=device, target=target,
                manager=make_user(f"ql-{code.lower()}", "manager", org), viewer=make_user(f"xem-{code.lower()}", "viewer", org),
                admin=make_user(f"qt-{code.lower()}", "admin", org))
    # An alert rule, an alert at the service point, a webhook and one delivery to it.
    side.alert_rule = AlertRule(organisation_id=org.id, kind="harassment", params={"terms": ["phong bì"]})
    side.alert = Alert(rule=side.alert_rule, kind="harassment", organisation_id=org.id, service_point=sp,
                       subject=f"answer:{code}", dedupe_key=f"test:{code}",
                       details={"terms": ["phong bì"], "comment": f"Phong bì ở {name}"})
    side.webhook = Webhook(organisation_id=org.id, url=f"https://hook.example/{code}", secret="s" * 20)
    side.outbox_item = OutboxItem(channel="webhook", kind="alert.opened", recipient=side.webhook.url,
                                  subject="alert.opened", payload={"place": name}, event_id=f"ev-{code}",
                                  dedupe_key=f"test:{code}", webhook=side.webhook, organisation_id=org.id)
    side.report_subscription = ReportSubscription(organisation=org, period_kind="month", signer_title="Chủ tịch",
                                                  starts_on=date(2026, 1, 1), recipients=[side.manager])
    # A report key of the commune (its secret is of no use here: only its row is looked at).
    side.api_key = ApiKey(organisation=org, scope="reports", name=f"Cổng dữ liệu {name}", prefix=code.lower()[:16],
                          key_hash="0" * 64)
    db.session.add_all([side.alert_rule, side.alert, side.webhook, side.outbox_item, side.report_subscription,
                        side.api_key])
    return side


def add_response(side: Side, text: str = "Cần thêm ghế ngồi chờ.") -> Response:
    """One answered response (a rating and a comment) in ``side``'s survey, which freezes its questionnaire."""
    q = side.survey.questionnaire
    rating = next(x for x in q.questions if x.type == "rating")
    response = Response(survey=side.survey, service_point=side.sp, channel="qr",
                        idempotency_key=f"k-{side.org.code}-{text[:8]}", submitted_at=datetime(2026, 3, 2, 9))
    db.session.add(response)
    db.session.flush()
    option = rating.options[0]
    db.session.add(Answer(response=response, question_id=rating.id, option_id=option.id, value=option.value,
                          satisfied=int(option.is_satisfied), service_point_id=side.sp.id,
                          submitted_at=response.submitted_at))
    text_q = next((x for x in q.questions if x.type == "text"), None)
    comment = None
    if text_q is not None:
        comment = Answer(response=response, question_id=text_q.id, text=text, service_point_id=side.sp.id,
                         submitted_at=response.submitted_at)
        db.session.add(comment)
    db.session.commit()
    side.response, side.comment = response, comment
    if comment is not None:
        from surveyapp.cases.service import open_case_for_comment

        side.case = open_case_for_comment(comment, side.manager)[0]
        db.session.commit()
    return response


def audit_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def last_audit() -> AuditEvent:
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
