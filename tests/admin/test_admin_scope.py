"""Authority over every route of the workspace, enumerated from the URL map (the reports
views included): anonymous users are sent to sign in, a manager of one commune gets nothing
of another by URL guessing, and viewers change nothing."""
from __future__ import annotations

from flask import url_for

from admin_helpers import Side, audit_count
from surveyapp.extensions import db

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
}
# Text that only side B's pages contain.
FOREIGN = ("Bắc Sơn", "XA-BAC", "ql-xa-bac", "xem-xa-bac")


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


def build(app, rule, side: Side) -> str:
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        if name in ARGUMENTS:
            values[name] = ARGUMENTS[name](side)
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


def _b_state(world):
    db.session.expire_all()
    b = world.b
    return (b.org.active, b.sp.active, b.survey.status, b.device.revoked_at, b.device.name, b.manager.active,
            b.manager.role, b.target.value, b.questionnaire.title_vi, b.comment.handled_at)


def test_manager_of_one_commune_gets_nothing_of_another(app, world, as_user):
    client = as_user(world.a.manager)
    events, state = audit_count(), _b_state(world)
    for rule in admin_rules(app):
        url = build(app, rule, world.b)
        for method in methods(rule):
            for query in ({}, foreign_query(world.b)):
                response = client.open(url, method=method, query_string=query)
                if rule.arguments:
                    assert response.status_code in (403, 404), (method, url, response.status_code)
                else:
                    assert response.status_code < 500, (method, url, query)
                leaked = [text for text in FOREIGN if text in body_text(response)]
                assert not leaked, (method, url, query, leaked)
    assert audit_count() == events
    assert _b_state(world) == state


def test_manager_sees_its_own_side(app, world, as_user):
    """The same enumeration in scope answers (the refusals above are not refusals of everything)."""
    client = as_user(world.a.manager)
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


def test_viewer_changes_nothing(app, world, as_user):
    client = as_user(world.a.viewer)
    events = audit_count()
    for rule in admin_rules(app):
        if not set(rule.methods) & {"POST", "PUT", "PATCH", "DELETE"} or rule.endpoint in SELF_SERVICE:
            continue
        url = build(app, rule, world.a)
        for method in set(methods(rule)) - {"GET"}:
            response = client.open(url, method=method, data={"name": "x"})
            assert response.status_code == 403, (method, url, response.status_code)
    assert audit_count() == events


def test_user_pages_and_audit_log_refuse_viewers_and_audit_log_refuses_managers(app, world, as_user):
    viewer = as_user(world.a.viewer)
    for url in ("/admin/audit", "/admin/users", "/admin/users/new"):
        assert viewer.get(url).status_code == 403, url
    assert as_user(world.a.manager).get("/admin/audit").status_code == 403
    assert as_user(world.admin).get("/admin/audit").status_code == 200
