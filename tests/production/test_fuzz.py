"""Hostile and random input on every public endpoint: never a 5xx, nothing invalid stored,
no response filed under the wrong survey or service point.

Property-based (hypothesis) against the citizen form, schema-driven (schemathesis) against
the OpenAPI document of the JSON API. Both run in-process on every backend, bounded in
examples so that the folder stays fast.
"""
from __future__ import annotations

import string
import uuid
from datetime import date

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.extensions import db
from surveyapp.models import (
    Answer, Option, Organisation, Question, Response, ServicePoint, Survey, survey_service_point,
)

HOSTILE_TEXT = [
    "<script>alert(1)</script>", "' OR 1=1 --", "'; DROP TABLE response; --", "\x00", "a\x00b", "\ud800".encode(
        "utf-8", "surrogatepass").decode("utf-8", "replace"), "𝕳𝖊𝖑𝖑𝖔 🙂", "\u202e", "%00", "../../etc/passwd",
    "{{ 7*7 }}", "${jndi:ldap://x}", "9" * 40, "-1", "1e309", "NaN", " ", "\r\n",
]


def setup_surveys(standard) -> dict:
    """Two organisations side by side, each with its own survey on its own service point, so
    that a response landing in the other survey or point would be visible."""
    out = {}
    for code, family in (("FUZZ-A", "sipas-admin"), ("FUZZ-B", "health-outpatient")):
        org = Organisation(code=code, name=f"Đơn vị {code}", sector="administrative")
        sp = ServicePoint(organisation=org, name="Quầy")
        survey = Survey(questionnaire=standard[family], organisation=org, name=code, starts_on=date(2026, 1, 1),
                        status="open", channel_qr=True, channel_kiosk=False, service_points=[sp])
        db.session.add_all([org, sp, survey])
        db.session.commit()
        out[code] = (sp.code, survey.id, sp.id)
    return out


def field_values(question: Question):
    """Valid answers, near misses and garbage for one question."""
    valid = [o.code for o in question.options]
    if question.type == "number":
        valid += [str(question.min_value or 0), str(question.max_value or 100), str((question.max_value or 100) + 1),
                  "-5", "12.5", "1" * 12]
    if question.type == "text":
        valid += ["Tốt", "x" * (question.max_length or 1000), "x" * ((question.max_length or 1000) + 1)]
    single = st.one_of(st.sampled_from(valid or ["v1"]), st.sampled_from(HOSTILE_TEXT),
                       st.text(max_size=30), st.sampled_from(["v9", "na", "", "V1", "v1 ", "true"]))
    return st.one_of(single, st.lists(single, min_size=2, max_size=3))


def check_stored_data_is_valid() -> None:
    """The invariants a report relies on, checked over every stored row."""
    responses = db.session.scalars(sa.select(Response)).all()
    for r in responses:
        # The survey is deployed at the response's service point.
        assert db.session.execute(sa.select(survey_service_point).where(
            survey_service_point.c.survey_id == r.survey_id,
            survey_service_point.c.service_point_id == r.service_point_id)).first() is not None
        for a in r.answers:
            q = a.question
            assert q.questionnaire_id == r.survey.questionnaire_id, "answer to a question of another survey"
            assert a.service_point_id == r.service_point_id and a.submitted_at == r.submitted_at
            if q.type in ("rating", "choice", "yesno"):
                option = db.session.get(Option, a.option_id)
                assert option is not None and option.question_id == q.id
                assert a.value == option.value
            elif q.type == "number":
                assert a.option_id is None and a.value is not None
                assert (q.min_value is None or a.value >= q.min_value) and (q.max_value is None or a.value <= q.max_value)
            else:
                assert a.text is not None and 0 < len(a.text) <= (q.max_length or 1000)
                assert "\x00" not in a.text
        codes = [a.question.code for a in r.answers]
        assert len(codes) == len(set(codes))
        # Required questions were answered (follow-ups aside).
        required = {q.code for q in r.survey.questionnaire.questions if q.required and not q.follows_code}
        assert required <= set(codes)


def test_citizen_form_fuzz(app, client, standard):
    surveys = setup_surveys(standard)
    questionnaires = {code: db.session.get(Survey, sid).questionnaire for code, (_c, sid, _p) in surveys.items()}
    from surveyapp.citizen.forms import sign_start

    statuses: dict[int, int] = {}

    @settings(max_examples=50, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def submit(data):
        target = data.draw(st.sampled_from(sorted(surveys)))
        sp_code, survey_id, _sp_id = surveys[target]
        # Sometimes the start token of the *other* survey: must never file the answer there.
        token_for = data.draw(st.sampled_from([survey_id, *[s[1] for s in surveys.values()]]))
        key = data.draw(st.one_of(st.just(uuid.uuid4().hex), st.text(string.printable, max_size=70)))
        form = {"key": key, "started": data.draw(st.one_of(st.just(sign_start(key, token_for, 1)), st.text(max_size=50)))}
        for q in questionnaires[target].questions:
            # Answered unless drawn otherwise: hypothesis's simplest form is then a complete,
            # valid one (an empty form is refused, never stored).
            if not data.draw(st.booleans()):
                form[f"q_{q.code}"] = data.draw(field_values(q))
        if data.draw(st.booleans()):
            form["website"] = data.draw(st.sampled_from(["", "http://spam.example"]))
        if data.draw(st.booleans()):
            form["contact"] = data.draw(st.sampled_from(HOSTILE_TEXT + ["0912345678", "x" * 300]))
            form["contact_consent"] = data.draw(st.sampled_from(["y", "", "on"]))
        for extra in data.draw(st.lists(st.sampled_from(["q_nope", "survey_id", "service_point", "csrf_token"]), max_size=2)):
            form[extra] = data.draw(st.sampled_from(HOSTILE_TEXT))
        path = data.draw(st.sampled_from([f"/s/{sp_code}", f"/s/{sp_code}?d=forged", "/s/nope' OR 1=1",
                                          f"/s/{sp_code}%00", f"/s/{sp_code}?d=%00"]))
        r = client.post(path, data=form)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (form, r.status_code, r.get_data(as_text=True)[:300])
        assert r.status_code in (303, 400, 404, 409, 410, 422), r.status_code

    submit()
    db.session.remove()
    check_stored_data_is_valid()
    # The fuzzer reached both refusal and storage, or it proved nothing.
    assert statuses.get(303, 0) > 0 and sum(v for k, v in statuses.items() if k != 303) > 0, statuses
    # Responses were filed under the survey whose page was posted to, never the other one.
    for code, (_c, survey_id, sp_id) in surveys.items():
        other = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
            Response.service_point_id == sp_id, Response.survey_id != survey_id))
        assert other == 0


# ---------------------------------------------------------------------------------------------
# The JSON API, driven by its own OpenAPI document.


@pytest.fixture
def api_setup(app, standard):
    """A kiosk enrolled at a service point with an open kiosk survey, and a dossier API key."""
    from surveyapp.kiosk.devices import create_device, enrol

    org = Organisation(code="API", name="Xã API", sector="administrative")
    sp = ServicePoint(organisation=org, name="Quầy")
    other_sp = ServicePoint(organisation=org, name="Quầy khác")
    survey = Survey(questionnaire=standard["quick-rating"], organisation=org, name="API", starts_on=date(2026, 1, 1),
                    status="open", channel_qr=True, channel_kiosk=True, service_points=[sp, other_sp])
    db.session.add_all([org, sp, other_sp, survey])
    db.session.commit()
    _device, code = create_device(sp, "Máy 1")
    db.session.commit()
    _device, token = enrol(code)
    app.config["DOSSIER_API_KEYS"] = "fuzz-dossier-key"
    return {"token": token, "sp_id": sp.id, "survey_id": survey.id}


def api_operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_api_fuzz(app, api_setup, mode):
    """Every operation of the OpenAPI document, with valid credentials so that the fuzzer gets
    past authentication into the validation of bodies: schema-valid and schema-violating data."""
    from schemathesis.checks import not_a_server_error

    operations = api_operations(app)
    assert {op.path for op in operations} >= {"/api/v1/kiosk/ratings", "/api/v1/kiosk/enroll"}
    headers = {"Authorization": f"Bearer {api_setup['token']}", "X-API-Key": "fuzz-dossier-key"}
    seen: dict[str, set[int]] = {}

    for operation in operations:
        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                         HealthCheck.filter_too_much])
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            assert response.status_code < 500, (case.body, response.text[:300])
            assert response.headers.get("content-type", [""])[0].startswith("application/json")
            seen.setdefault(operation.label, set()).add(response.status_code)

        call()
        db.session.remove()

    # Whatever was accepted was filed under the device's own service point and survey, with
    # values on the quick scale only.
    wrong = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        Response.channel == "kiosk",
        sa.or_(Response.service_point_id != api_setup["sp_id"], Response.survey_id != api_setup["survey_id"])))
    assert wrong == 0
    rating_values = db.session.scalars(sa.select(Answer.value).join(Response).where(
        Response.channel == "kiosk", Answer.value.is_not(None))).all()
    assert all(1 <= v <= 4 for v in rating_values)
    check_stored_data_is_valid()
    assert len(seen) == len(operations), seen
