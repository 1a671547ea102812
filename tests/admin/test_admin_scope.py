"""Authority over every route of the workspace, enumerated from the URL map (the reports
views included), for every method: anonymous users are sent to sign in; a manager, or an
administrator, of one commune gets nothing of another by URL guessing, reading or writing;
an administrator with an organisation touches nothing of the installation's (accounts
outside its subtree, sector targets, standard questionnaires, the audit log); viewers
change nothing. A new route without a scope check fails here."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from admin_helpers import Side, World, audit_count
from surveyapp.extensions import db
from surveyapp.models import Questionnaire, ReportSubscription, Target

# URL argument name -> how to find the object of a side.
ARGUMENTS = {
    "alert_id": lambda s: s.alert.id,
    "rule_id": lambda s: s.alert_rule.id,
    "webhook_id": lambda s: s.webhook.id,
    "item_id": lambda s: s.outbox_item.id,
    "org_id": lambda s: s.org.id,
    "organisation_id": lambda s: s.org.id,
    "sp_id": lambda s: s.sp.id,
    "service_point_id": lambda s: s.sp.id,
    "survey_id": lambda s: s.survey.id,
    "questionnaire_id": lambda s: s.questionnaire.id,
    "question_id": lambda s: s.questionnaire.questions[0].id,
    "device_id": lambda s: s.device.id,
    "kiosk_id": lambda s: s.device.id,
    "user_id": lambda s: s.manager.id,
    "target_id": lambda s: s.target.id,
    "response_id": lambda s: s.response.id,
    "answer_id": lambda s: s.comment.id,
    "comment_id": lambda s: s.comment.id,
    "case_id": lambda s: s.case.id,
    "subscription_id": lambda s: s.report_subscription.id,
    "key_id": lambda s: s.api_key.id,
}
# Text that only side B's pages contain.
FOREIGN = ("Bắc Sơn", "XA-BAC", "ql-xa-bac", "xem-xa-bac", "qt-xa-bac")


def hostile_forms(world: World, into: Side | None = None) -> list[dict]:
    """Form data that every workspace form would accept from someone entitled to it: each field
    filled, pointing into ``into`` (by default the attacker's own commune A: move the victim
    there, give it a new password, make it an administrator) or at the sector (a sector-wide
    target of 10%)."""
    a = into or world.a
    common = {
        "name": "Chiếm quyền", "code": "CHIEM", "name_en": "Taken", "parent_id": a.org.id,
        "service_point_id": a.sp.id, "service_point_ids": a.sp.id, "questionnaire_id": a.questionnaire.id,
        "title_vi": "Phiếu bị chiếm", "title_en": "Taken form", "text_vi": "Câu bị sửa", "text_en": "Changed",
        "username": "chiem-quyen", "full_name": "Kẻ chiếm quyền", "role": "admin", "password": "chiem-quyen-123",
        "active": "y", "indicator": "quick", "value": "10", "operator": ">=", "valid_from": "2026-01-01",
        "starts_on": "2026-01-01", "status": "closed", "channel_qr": "y", "month": "2026-01", "volume": "5",
        "type": "text", "aspect_id": "0", "note": "x",
    }
    return [{**common, "organisation_id": a.org.id, "sector": ""},
            {**common, "organisation_id": 0, "sector": "administrative"}]


def foreign_query(side: Side) -> dict:
    """Filters a report or list view may take from the query string, all pointing at ``side``."""
    org, sp, survey = side.org.id, side.sp.id, side.survey.id
    return {"org": org, "org_id": org, "organisation": org, "organisation_id": org, "sp": sp, "sp_id": sp,
            "service_point": sp, "service_point_id": sp, "survey": survey, "survey_id": survey}


def body_text(response) -> str:
    """What a person would read in the response: spreadsheets unzipped, PDFs extracted."""
    data = response.get_data()
    kind = response.headers.get("Content-Type", "")
    if "spreadsheetml" in kind or data[:2] == b"PK":
        import zipfile
        from io import BytesIO

        with zipfile.ZipFile(BytesIO(data)) as archive:
            return " ".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    if data[:5] == b"%PDF-":
        from io import BytesIO

        from pypdf import PdfReader

        return " ".join(page.extract_text() or "" for page in PdfReader(BytesIO(data)).pages)
    return data.decode("utf-8", "replace")


def admin_rules(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    assert len(rules) > 30  # the enumeration itself works
    return rules


def build(app, rule, side, arguments=ARGUMENTS) -> str:
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        if name in arguments:
            values[name] = arguments[name](side)
        elif converter == "IntegerConverter":
            values[name] = side.org.id  # an unknown id argument: at least an id of the other side
        else:
            values[name] = "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def methods(rule) -> list[str]:
    return sorted(m for m in rule.methods if m in ("GET", "POST", "PUT", "PATCH", "DELETE"))


def test_every_admin_view_declares_its_roles(app):
    undeclared = [r.endpoint for r in admin_rules(app) if not hasattr(app.view_functions[r.endpoint], "required_roles")]
    assert not undeclared, f"views without login_required_role: {undeclared}"


def test_anonymous_is_sent_to_sign_in_everywhere(app, world):
    client = app.test_client()
    for rule in admin_rules(app):
        url = build(app, rule, world.b)
        for method in methods(rule):
            response = client.open(url, method=method)
            assert response.status_code in (302, 401), (method, url, response.status_code)
            if response.status_code == 302:
                assert response.location.startswith("/login"), (method, url, response.location)


def _state(world):
    """Everything an attacker from commune A might want to change outside its subtree."""
    db.session.expire_all()
    b = world.b
    sector = db.session.scalars(sa.select(Target).where(Target.organisation_id.is_(None)).order_by(Target.id))
    standard = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.is_standard).order_by(Questionnaire.id))
    accounts = [(u.active, u.role, u.organisation_id, u.password_hash, u.username)
                for u in (b.manager, b.viewer, b.admin, world.province_admin, world.admin)]
    subscriptions = db.session.execute(sa.select(ReportSubscription.id, ReportSubscription.active)
                                       .where(ReportSubscription.organisation_id == b.org.id)).all()
    return (subscriptions, b.org.active, b.org.name, world.province.active, b.sp.active, b.sp.name, b.survey.status, b.device.revoked_at,
            b.device.name, b.target.value, b.questionnaire.title_vi, b.comment.handled_at, b.case.state, b.case.assignee_id, b.api_key.revoked_at, accounts,
            [(t.value, t.operator) for t in sector], [(q.title_vi, len(q.questions)) for q in standard])


def _refused_everywhere(app, world, client):
    """Every route, every method, side B's objects, with and without filters pointing at B and
    with forms that would succeed for someone entitled: refused, nothing of B shown or changed."""
    events, state = audit_count(), _state(world)
    for rule in admin_rules(app):
        url = build(app, rule, world.b)
        # B's objects moved into A; or, on a creation form, new objects put into B.
        forms = hostile_forms(world, world.a if rule.arguments else world.b)
        for method in methods(rule):
            for query in ({}, foreign_query(world.b)):
                for data in forms if method != "GET" else [None]:
                    response = client.open(url, method=method, query_string=query, data=data)
                    if rule.arguments:
                        assert response.status_code in (403, 404), (method, url, response.status_code)
                    else:
                        assert response.status_code < 500, (method, url, query)
                    leaked = [text for text in FOREIGN if text in body_text(response)]
                    assert not leaked, (method, url, query, leaked)
    assert _state(world) == state
    assert audit_count() == events


def test_manager_of_one_commune_gets_nothing_of_another(app, world, standard, auth):
    _refused_everywhere(app, world, auth.client_for(world.a.manager))


def test_administrator_of_one_commune_gets_nothing_of_another(app, world, standard, auth):
    _refused_everywhere(app, world, auth.client_for(world.a.admin))


# What belongs to the installation, not to commune A: the province above it, the accounts of the
# province's and the installation's administrators, sector targets, standard questionnaires.
def installation_arguments(world: World, standard) -> list[dict]:
    std = standard["quick-rating"]
    sector_target = db.session.scalars(sa.select(Target).where(Target.organisation_id.is_(None))).first()
    base = {**ARGUMENTS, "org_id": lambda s: world.province.id, "organisation_id": lambda s: world.province.id,
            "target_id": lambda s: sector_target.id, "questionnaire_id": lambda s: std.id,
            "question_id": lambda s: std.questions[0].id}
    return [{**base, "user_id": lambda s: world.province_admin.id},
            {**base, "user_id": lambda s: world.admin.id}]


# Standard questionnaires are read by every official and cloned into one's own unit.
READ_BY_ALL = {"admin.questionnaire", "admin.questionnaire_clone"}


def test_administrator_with_an_organisation_touches_nothing_of_the_installation(app, world, standard, auth):
    client = auth.client_for(world.a.admin)
    events, state = audit_count(), _state(world)
    for arguments in installation_arguments(world, standard):
        for rule in admin_rules(app):
            if not rule.arguments or rule.endpoint in READ_BY_ALL:
                continue
            url = build(app, rule, world.b, arguments)
            for method in methods(rule):
                for data in hostile_forms(world) if method != "GET" else [None]:
                    response = client.open(url, method=method, data=data)
                    assert response.status_code in (403, 404), (method, url, response.status_code)
    for url in ("/admin/targets/new", "/admin/users/new", "/admin/organisations/new"):
        for data in hostile_forms(world):
            # The sector, no organisation, the installation's top level: none of them A's to give.
            client.post(url, data={**data, "organisation_id": 0, "parent_id": 0, "code": "TOP"})
    assert client.get("/admin/audit").status_code == 403
    assert _state(world) == state
    assert audit_count() == events


def test_manager_sees_its_own_side(app, world, auth):
    """The same enumeration in scope answers (the refusals above are not refusals of everything)."""
    client = auth.client_for(world.a.manager)
    ok = 0
    for rule in admin_rules(app):
        if "GET" not in rule.methods or rule.endpoint == "admin.audit_log":
            continue
        if any(type(c).__name__ != "IntegerConverter" for c in rule._converters.values()):
            continue  # e.g. a chart kind: "x" is rightly unknown
        response = client.get(build(app, rule, world.a))
        assert response.status_code in (200, 302, 403), (rule.endpoint, response.status_code)
        ok += response.status_code == 200
    assert ok > 25


# Each user's own preferences and notification list: every role changes its own.
SELF_SERVICE = {"admin.profile", "admin.notifications_read"}
# A POST that only renders a document from numbers the viewer may read (the filed report form):
# answered, never refused as a change, and it changes nothing (the audit count below).
READS_BY_POST = {"admin.filed_report"}


def test_viewer_changes_nothing(app, world, auth):
    client = auth.client_for(world.a.viewer)
    events = audit_count()
    for rule in admin_rules(app):
        if not set(rule.methods) & {"POST", "PUT", "PATCH", "DELETE"} or rule.endpoint in SELF_SERVICE:
            continue
        url = build(app, rule, world.a)
        for method in set(methods(rule)) - {"GET"}:
            for data in hostile_forms(world):
                response = client.open(url, method=method, data=data)
                if rule.endpoint in READS_BY_POST:
                    assert response.status_code in (200, 404, 422), (method, url, response.status_code)
                    continue
                assert response.status_code == 403, (method, url, response.status_code)
    assert audit_count() == events


def test_user_pages_and_audit_log_refuse_viewers_and_audit_log_refuses_managers(app, world, auth):
    viewer = auth.client_for(world.a.viewer)
    for url in ("/admin/audit", "/admin/users", "/admin/users/new"):
        assert viewer.get(url).status_code == 403, url
    assert auth.client_for(world.a.manager).get("/admin/audit").status_code == 403
    assert auth.client_for(world.province_admin).get("/admin/audit").status_code == 403
    assert auth.client_for(world.admin).get("/admin/audit").status_code == 200


# ---------------------------------------------------------------------------------------------
# An administrator with an organisation acts inside it: the three attacks, and what stays allowed.


def _sector_target(indicator="quick", sector="administrative", year=2026) -> Target:
    from datetime import date

    return db.session.scalars(sa.select(Target).where(
        Target.organisation_id.is_(None), Target.indicator == indicator, Target.sector == sector,
        Target.valid_from <= date(year, 6, 1), Target.valid_to >= date(year, 6, 1))).one()


def test_commune_administrator_cannot_deactivate_the_province_administrator(app, world, auth):
    client = auth.client_for(world.a.admin)
    assert client.get(f"/admin/users/{world.province_admin.id}/toggle").status_code == 404
    assert client.post(f"/admin/users/{world.province_admin.id}/toggle").status_code == 404
    db.session.expire_all()
    assert world.province_admin.active
    assert auth.login("qt-tinh", client=app.test_client()).status_code == 302
    # The installation's administrator still may.
    assert auth.client_for(world.admin).post(f"/admin/users/{world.province_admin.id}/toggle").status_code == 302
    db.session.expire_all()
    assert not world.province_admin.active


def test_commune_administrator_cannot_take_over_a_manager_of_another_branch(app, world, auth):
    client = auth.client_for(world.a.admin)
    victim = world.b.manager
    response = client.post(f"/admin/users/{victim.id}/edit", data={
        "username": victim.username, "role": "manager", "organisation_id": world.a.org.id,
        "password": "chiem-quyen-123", "active": "y"})
    assert response.status_code == 404
    db.session.expire_all()
    assert victim.organisation_id == world.b.org.id
    assert auth.login(victim.username, "chiem-quyen-123", client=app.test_client()).status_code != 302
    assert auth.login(victim.username, client=app.test_client()).status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert victim.username not in page and "qt-tinh" not in page and "quantri" not in page


def test_commune_administrator_cannot_lower_a_sector_target(app, world, standard, auth):
    client = auth.client_for(world.a.admin)
    target = _sector_target()
    assert target.value == 0.95
    data = {"indicator": "quick", "sector": "administrative", "organisation_id": 0, "value": "10",
            "operator": ">=", "valid_from": "2026-01-01", "valid_to": "2030-12-31", "source": "tự đặt"}
    assert client.post(f"/admin/targets/{target.id}/edit", data=data).status_code == 403
    client.post("/admin/targets/new", data=data)
    db.session.expire_all()
    assert target.value == 0.95
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Target).where(Target.source == "tự đặt")) == 0
    page = client.get("/admin/targets").get_data(as_text=True)
    assert f"/admin/targets/{target.id}/edit" not in page


def test_commune_administrator_administers_accounts_inside_its_commune(app, world, auth):
    """Inside its subtree it may create, edit and switch off accounts, administrators included,
    but never give an organisation outside it or none at all."""
    from surveyapp.models import User

    client = auth.client_for(world.a.admin)
    new = {"username": "qt-to-tiep-nhan", "role": "admin", "organisation_id": world.a.child.id,
           "password": "mat-khau-dai-1", "active": "y"}
    assert client.post("/admin/users/new", data=new).status_code == 302
    created = db.session.scalar(sa.select(User).where(User.username == "qt-to-tiep-nhan"))
    assert created.role == "admin" and created.organisation_id == world.a.child.id
    assert client.post(f"/admin/users/{world.a.manager.id}/toggle").status_code == 302
    for org in (world.b.org.id, world.province.id, 0):
        response = client.post("/admin/users/new", data={**new, "username": f"ngoai-{org}", "organisation_id": org})
        assert response.status_code in (403, 422), org
        response = client.post(f"/admin/users/{world.a.viewer.id}/edit",
                               data={**new, "username": world.a.viewer.username, "role": "viewer", "organisation_id": org})
        assert response.status_code in (403, 422), org
    db.session.expire_all()
    assert world.a.viewer.organisation_id == world.a.org.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.username.like("ngoai-%"))) == 0
    page = client.get("/admin/users").get_data(as_text=True)
    assert "ql-xa-an" in page and "qt-to-tiep-nhan" in page and "ql-xa-bac" not in page


def test_manager_does_not_manage_the_administrator_of_its_own_commune(app, world, auth):
    client = auth.client_for(world.a.manager)
    assert client.post(f"/admin/users/{world.a.admin.id}/toggle").status_code == 404
    assert "qt-xa-an" not in client.get("/admin/users").get_data(as_text=True)
    db.session.expire_all()
    assert world.a.admin.active


def test_commune_administrator_cannot_edit_standard_questionnaires(app, world, standard, auth):
    client = auth.client_for(world.a.admin)
    std = standard["quick-rating"]
    assert client.post(f"/admin/questionnaires/{std.id}/edit",
                       data={"title_vi": "Phiếu chuẩn bị sửa", "title_en": "x"}).status_code == 403
    page = client.get(f"/admin/questionnaires/{std.id}").get_data(as_text=True)
    assert f"/admin/questionnaires/{std.id}/edit" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Questionnaire)
                             .where(Questionnaire.title_vi == "Phiếu chuẩn bị sửa")) == 0
