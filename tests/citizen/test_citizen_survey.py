"""The survey page over HTTP: which survey, every refusal, storing once, flags and privacy."""
from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import sqlalchemy as sa

from surveyapp.citizen.responses import choose_survey
from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.qr import issue_dossier_token

from .conftest import answers_by_code, count, form_start, responses

SIPAS_ANSWERS = {"q_access_a1": "v5", "q_access_a2": "v2", "q_access_a3": "na", "q_overall": "v4",
                 "q_comment": "Cán bộ nhiệt tình. Gọi tôi 0912 345 678 hoặc a.b@mail.vn, CCCD 001099012345."}


def post(client, place, data, survey=None, seconds_ago=60, key="k" * 32, code=None, query="", headers=None):
    survey = survey or place.sipas
    fields = form_start(client.application, survey.id, key=key, seconds_ago=seconds_ago) | data
    return client.post(f"/s/{code or place.counter.code}{query}", data=fields, headers=headers or {})


def test_full_questionnaire_preferred_over_quick_rating_and_quick_for_dossiers(app, place):
    assert choose_survey(place.counter) == place.sipas
    assert choose_survey(place.counter, for_dossier=True) == place.quick
    assert choose_survey(place.desk) == place.quick
    place.sipas.ends_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert choose_survey(place.counter) == place.quick


def test_survey_page_in_vietnamese_by_default_and_english_on_request(client, place):
    page = client.get(f"/s/{place.counter.code}").get_data(as_text=True)
    assert "Khảo sát sự hài lòng về dịch vụ hành chính công" in page and "Quầy 1 – Tư pháp" in page
    assert 'lang="vi"' in page and "Rất hài lòng" in page and "<fieldset" in page and "<legend>" in page
    en = client.get(f"/s/{place.counter.code}", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "Satisfaction with administrative services" in en and "Very satisfied" in en and "Send" in en
    switched = client.get(f"/s/{place.counter.code}?lang=en").get_data(as_text=True)
    assert "Counter 1 – Justice" in switched


UNAVAILABLE = [
    ("unknown", 404, "Không tìm thấy khảo sát"),
    ("sp_inactive", 410, "Điểm phục vụ đã ngừng khảo sát"),
    ("org_inactive", 410, "Điểm phục vụ đã ngừng khảo sát"),
    ("closed", 410, "Khảo sát đã kết thúc"),
    ("not_started", 410, "Khảo sát đã kết thúc"),
    ("ended", 410, "Khảo sát đã kết thúc"),
    ("kiosk_only", 410, "Khảo sát đã kết thúc"),
]


def test_unavailable_survey_pages(client, place):
    """Each case on its own, the others restored: its own page, status and no response stored."""
    for change, status, text in UNAVAILABLE:
        place.desk.active = place.province.active = True
        place.quick.status, place.quick.channel_qr = "open", True
        place.quick.starts_on, place.quick.ends_on = date(2026, 1, 1), None
        code = place.desk.code
        if change == "unknown":
            code = "khongcoma9"
        elif change == "sp_inactive":
            place.desk.active = False
        elif change == "org_inactive":
            place.province.active = False
        elif change == "closed":
            place.quick.status = "closed"
        elif change == "not_started":
            place.quick.starts_on = date.today() + timedelta(days=3)
        elif change == "ended":
            place.quick.ends_on = date.today() - timedelta(days=1)
        elif change == "kiosk_only":
            place.quick.channel_qr = False
        db.session.commit()
        for method in (client.get, client.post):
            r = method(f"/s/{code}")
            assert r.status_code == status, change
            assert text in r.get_data(as_text=True), change
    assert count(Response) == 0


def test_valid_response_stored_once_with_answers(client, place):
    r = post(client, place, SIPAS_ANSWERS)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/s/{place.counter.code}/cam-on")
    assert "Cảm ơn Ông/Bà!" in client.get(r.headers["Location"]).get_data(as_text=True)
    [resp] = responses()
    assert (resp.survey_id, resp.service_point_id, resp.channel, resp.language) == (
        place.sipas.id, place.counter.id, "qr", "vi")
    assert resp.flag is None and resp.duration_ms >= 59_000 and resp.contact is None
    a = answers_by_code(resp)
    assert set(a) == {"access_a1", "access_a2", "access_a3", "overall", "comment"}
    assert (a["access_a1"].value, a["access_a1"].satisfied) == (5, 1)
    assert (a["access_a2"].value, a["access_a2"].satisfied) == (2, 0)
    assert (a["access_a3"].value, a["access_a3"].satisfied, a["access_a3"].option.code) == (None, None, "na")
    assert (a["overall"].value, a["overall"].satisfied) == (4, None)  # overall does not count in the index
    assert all(x.service_point_id == place.counter.id and x.submitted_at == resp.submitted_at for x in a.values())
    # Privacy: the comment is masked, no raw address or agent stored.
    assert a["comment"].text == "Cán bộ nhiệt tình. Gọi tôi [số điện thoại] hoặc [email], CCCD [số định danh]."
    assert resp.client_hash and len(resp.client_hash) == 32 and "127.0.0.1" not in resp.client_hash

    # Reposting the same form (reload, double tap) shows the thank-you again and stores nothing;
    # neither does reloading the thank-you page.
    again = post(client, place, SIPAS_ANSWERS)
    assert again.status_code == 303
    for _ in range(3):
        assert client.get(f"/s/{place.counter.code}/cam-on").status_code == 200
    assert count(Response) == 1


def test_two_concurrent_identical_submits_store_one_response(app, place):
    barrier = threading.Barrier(2)
    statuses = []
    fields = form_start(app, place.sipas.id, key="race" * 8) | SIPAS_ANSWERS
    url = f"/s/{place.counter.code}"

    def submit():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(url, data=fields).status_code)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [303, 303]
    assert count(Response) == 1


def test_response_and_its_answers_are_stored_all_or_nothing(app, place):
    """On PostgreSQL the response and its answers are one statement run as its own
    transaction (no BEGIN/COMMIT round trips); on SQLite two statements in one transaction.
    Either way an answer the database refuses leaves no response behind, and the next
    submission on the same worker is stored normally."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from surveyapp.citizen.responses import store_response
    from surveyapp.submissions.answers import CleanAnswer

    questions = {q.code: q for q in place.sipas.questionnaire.questions}
    overall = CleanAnswer(questions["overall"], questions["overall"].options[0])
    wrong = CleanAnswer(questions["access_a1"], questions["access_a2"].options[0])  # another question's option
    for a in (overall, wrong):
        (a.question.id, a.question.counts_in_index, a.option.id, a.satisfied)  # loaded before detaching
    survey_id, point_id = place.sipas.id, place.counter.id
    # As in a request: the session has not begun a transaction when the submission is stored.
    db.session.expunge_all()
    db.session.close()
    with pytest.raises(IntegrityError):
        store_response(survey_id, point_id, [overall, wrong], idempotency_key="bad" * 10)
    db.session.rollback()
    assert count(Response) == 0
    db.session.close()
    response_id, created = store_response(survey_id, point_id, [overall], idempotency_key="good" * 8)
    assert created and count(Response) == 1
    assert [len(r.answers) for r in responses()] == [1]


def test_stored_response_reads_back_through_the_orm_exactly(app, place):
    """``store_response`` hands statements compiled once straight to the driver: every value
    must read back through the ORM as given (and on SQLite, datetimes must be text in
    SQLAlchemy's own format, or they would sort and compare wrongly in reports), including a
    response without answers."""
    from datetime import datetime

    from surveyapp.citizen.responses import store_response
    from surveyapp.submissions.answers import CleanAnswer
    from surveyapp.models import utcnow

    questions = {q.code: q for q in place.sipas.questionnaire.questions}
    overall, comment = questions["overall"], questions["comment"]
    given = [CleanAnswer(overall, overall.options[1], value=overall.options[1].value),
             CleanAnswer(comment, text="Tốt. Gọi 0912 345 678")]
    expected_answers = {overall.id: (overall.options[1].id, overall.options[1].value, None, given[0].satisfied),
                        comment.id: (None, None, "Tốt. Gọi [số điện thoại]", None)}
    survey_id, point_id = place.sipas.id, place.counter.id
    db.session.close()
    before = utcnow()
    first, created = store_response(survey_id, point_id, given, idempotency_key="readback" * 4, channel="qr",
                                    language="en", dossier_hash="d" * 64, client_hash="c" * 32, duration_ms=61_000,
                                    flag="too_fast", contact="a@b.vn", contact_consent=True)
    empty, _ = store_response(survey_id, point_id, [], idempotency_key="empty" * 8)
    after = utcnow()
    assert created and first != empty

    r = db.session.get(Response, first)
    assert (r.survey_id, r.service_point_id, r.channel, r.language, r.idempotency_key, r.dossier_hash, r.client_hash,
            r.duration_ms, r.flag, r.contact, r.contact_consent, r.kiosk_device_id, r.client_created_at) == (
        survey_id, point_id, "qr", "en", "readback" * 4, "d" * 64, "c" * 32, 61_000, "too_fast", "a@b.vn", True,
        None, None)
    assert isinstance(r.submitted_at, datetime) and before <= r.submitted_at <= after
    assert {a.question_id: (a.option_id, a.value, a.text, a.satisfied) for a in r.answers} == expected_answers
    assert all(a.service_point_id == point_id and a.submitted_at == r.submitted_at for a in r.answers)
    assert db.session.get(Response, empty).answers == [] and count(Response) == 2
    # Ordered by time as the reports order them (text on SQLite, timestamps on PostgreSQL).
    assert db.session.scalars(sa.select(Response.id).order_by(Response.submitted_at)).all() == [first, empty]
    if db.engine.dialect.name == "sqlite":
        stored = db.session.scalar(sa.text("SELECT submitted_at FROM response WHERE id = :id"), {"id": first})
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", stored), stored


def test_invalid_quick_rating_refused_in_users_language(client, place):
    cases = [
        ({}, "Vui lòng trả lời câu hỏi này.", "Please answer this question."),
        ({"q_rating": "v9"}, "Lựa chọn không hợp lệ", "Invalid choice"),
        ({"q_rating": ["v4", "v1"]}, "Câu trả lời không hợp lệ.", "Invalid answer."),
    ]
    for data, message_vi, message_en in cases:
        for lang, message in (("vi", message_vi), ("en", message_en)):
            r = post(client, place, data, survey=place.quick, code=place.desk.code, query=f"?lang={lang}")
            page = r.get_data(as_text=True)
            assert r.status_code == 422
            assert message in page
            assert 'aria-describedby="err-rating"' in page and 'aria-invalid="true"' in page
    assert count(Response) == 0


def test_invalid_full_questionnaire_keeps_answers_and_stores_nothing(client, place):
    cases = [
        ({"q_comment": "x" * 1001}, "comment", "Tối đa 1000 ký tự (bạn đã nhập 1001 ký tự)."),
        ({"q_access_a1": "v7"}, "access_a1", "Lựa chọn không hợp lệ"),
        ({"q_overall": "na"}, "overall", "Lựa chọn không hợp lệ"),  # overall has no "no opinion"
    ]
    for data, field, message in cases:
        r = post(client, place, {"q_access_a2": "v4", "q_comment": "Góp ý của tôi"} | data)
        page = r.get_data(as_text=True)
        assert r.status_code == 422 and message in page and f'id="err-{field}"' in page
        assert 'name="q_access_a2" value="v4" data-value="4" checked' in page  # answers stay filled in
        if field != "comment":
            assert ">Góp ý của tôi</textarea>" in page
    assert count(Response) == 0


def test_empty_survey_is_refused_in_the_citizens_language_and_not_counted(client, place):
    """A form sent with no question answered (blank fields, a comment of spaces, a follow-up
    reason that does not apply) is no respondent: 422 with the reason, nothing stored."""
    empties = [{}, {"q_comment": "   ", "q_access_a1": ""}]
    for data in empties:
        for lang, message in (("vi", "Ông/Bà chưa trả lời câu hỏi nào."),
                              ("en", "You have not answered any question.")):
            r = post(client, place, data, query=f"?lang={lang}")
            assert r.status_code == 422, (data, lang)
            assert message in r.get_data(as_text=True)
    assert count(Response) == 0
    # One answer is enough.
    assert post(client, place, {"q_comment": "Tốt"}).status_code == 303
    assert count(Response) == 1


def test_number_out_of_range_and_not_a_number(client, app, standard, place):
    from surveyapp.models import Survey

    health = Survey(questionnaire=standard["health-outpatient"], organisation=place.province, name="BV",
                    starts_on=date(2026, 1, 1), status="open", channel_qr=True, service_points=[place.desk])
    place.quick.status = "closed"
    db.session.add(health)
    db.session.commit()
    for raw, message in (("101", "Vui lòng nhập một số từ 0 đến 100."), ("abc", "Vui lòng nhập một số nguyên.")):
        r = post(client, place, {"q_expectation": raw}, survey=health, code=place.desk.code)
        assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert count(Response) == 0
    assert post(client, place, {"q_expectation": "85"}, survey=health, code=place.desk.code).status_code == 303
    assert answers_by_code(responses()[0])["expectation"].value == 85


def test_malformed_submission_refused(client, place):
    for fields in ({"key": "short"}, {"started": "forged.token"}, {"key": "other" * 8}, {"started": None}):
        data = form_start(client.application, place.sipas.id) | SIPAS_ANSWERS | fields
        data = {k: v for k, v in data.items() if v is not None}
        r = client.post(f"/s/{place.counter.code}", data=data)
        assert r.status_code == 400 and "Yêu cầu không hợp lệ" in r.get_data(as_text=True), fields
    assert count(Response) == 0
    # A genuine form served while the survey was open, sent after it closed.
    place.sipas.status = "closed"
    db.session.commit()
    r = post(client, place, SIPAS_ANSWERS)  # form served while it was open
    assert r.status_code == 410 and count(Response) == 0


def test_csrf_required(make_app):
    from .conftest import build_place

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        place = build_place(standard_for(app))
        client = app.test_client()
        r = post(client, place, SIPAS_ANSWERS)
        assert r.status_code == 400 and "Phiên làm việc đã hết hạn" in r.get_data(as_text=True)
        assert count(Response) == 0
        # With the token from the page the same form is accepted.
        page = client.get(f"/s/{place.counter.code}").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        assert post(client, place, SIPAS_ANSWERS | {"csrf_token": token}).status_code == 303
        assert count(Response) == 1


def standard_for(app):
    from surveyapp.seed import seed_standard

    families = seed_standard()
    db.session.commit()
    return families


def test_honeypot_and_too_fast_are_stored_flagged(client, place):
    assert post(client, place, SIPAS_ANSWERS | {"website": "http://spam"}, key="a" * 32).status_code == 303
    assert post(client, place, SIPAS_ANSWERS, seconds_ago=2, key="b" * 32).status_code == 303
    assert post(client, place, {"q_rating": "v4"}, survey=place.quick, code=place.desk.code, seconds_ago=4,
                key="c" * 32).status_code == 303
    assert post(client, place, {"q_rating": "v4"}, survey=place.quick, code=place.desk.code, seconds_ago=1,
                key="d" * 32).status_code == 303
    flags = {r.idempotency_key[0]: r.flag for r in responses()}
    # 15 s minimum for the full questionnaire, 3 s for the quick rating.
    assert flags == {"a": "honeypot", "b": "too_fast", "c": None, "d": "too_fast"}


def test_contact_needs_explicit_consent(client, place):
    r = post(client, place, SIPAS_ANSWERS | {"contact": "0912345678"})
    assert r.status_code == 422 and "Vui lòng đánh dấu ô đồng ý" in r.get_data(as_text=True)
    assert count(Response) == 0
    assert post(client, place, SIPAS_ANSWERS | {"contact": "0912345678", "contact_consent": "y"}).status_code == 303
    [resp] = responses()
    assert resp.contact == "0912345678" and resp.contact_consent


def test_follow_up_reason_only_after_low_rating(client, place):
    for rating, key in (("v2", "l" * 32), ("v4", "h" * 32)):
        r = post(client, place, {"q_rating": rating, "q_reason": "waiting_time"}, survey=place.quick,
                 code=place.desk.code, key=key)
        assert r.status_code == 303
    low, high = (answers_by_code(r) for r in responses())
    assert low["reason"].option.code == "waiting_time" and low["reason"].satisfied is None
    assert low["rating"].satisfied == 0
    assert "reason" not in high and high["rating"].satisfied == 1


def dossier_url(app, place, dossier="000.00.12.H33-261121-0001"):
    with app.test_request_context():
        return f"/s/{place.counter.code}?d={issue_dossier_token(place.counter, dossier)}"


def test_dossier_rated_once(client, app, place):
    url = dossier_url(app, place)
    page = client.get(url).get_data(as_text=True)
    assert "Ông/Bà có hài lòng với sự phục vụ hôm nay không?" in page  # the quick rating on receipts
    fields = form_start(app, place.quick.id, key="e" * 32) | {"q_rating": "v3"}
    assert client.post(url, data=fields).status_code == 303
    [resp] = responses()
    assert resp.dossier_hash and len(resp.dossier_hash) == 64 and "H33" not in resp.dossier_hash
    again = client.get(url)
    assert again.status_code == 409 and "Hồ sơ này đã được đánh giá" in again.get_data(as_text=True)
    # A second form opened before the first was sent: refused, still one response.
    r = client.post(url, data=form_start(app, place.quick.id, key="f" * 32) | {"q_rating": "v1"})
    assert r.status_code == 409 and count(Response) == 1
    # The dossier number is normalised: spacing and case do not give a second vote.
    other = dossier_url(app, place, " 000.00.12.h33-261121-0001 ")
    assert client.get(other).status_code == 409

    # A tampered token, or one issued for another service point, is refused.
    fresh = dossier_url(app, place, "HS-khac")
    tampered = fresh[:-3] + ("AAA" if not fresh.endswith("AAA") else "BBB")
    r = client.get(tampered)
    assert r.status_code == 404 and "Mã đánh giá hồ sơ không hợp lệ" in r.get_data(as_text=True)
    foreign = fresh.replace(place.counter.code, place.desk.code, 1)
    assert client.get(foreign).status_code == 404
    assert count(Response) == 1


def test_rate_limit_per_client(make_app):
    from .conftest import build_place

    app = make_app(RATELIMIT_ENABLED=True, SUBMIT_RATE_LIMIT_CLIENT="2 per hour")
    with app.app_context():
        place = build_place(standard_for(app))
        client = app.test_client()
        # Refused (invalid) submissions do not use up the quota.
        assert post(client, place, {"q_comment": "x" * 2000}).status_code == 422
        assert post(client, place, SIPAS_ANSWERS, key="1" * 32).status_code == 303
        assert post(client, place, SIPAS_ANSWERS, key="2" * 32).status_code == 303
        r = post(client, place, SIPAS_ANSWERS, key="3" * 32)
        assert r.status_code == 429 and "Quá nhiều yêu cầu" in r.get_data(as_text=True)
        assert "Traceback" not in r.get_data(as_text=True)
        assert 3500 <= int(r.headers["Retry-After"]) <= 3600  # when the hour's window ends
        # Another phone is not affected; reading the page is never limited.
        other = post(client, place, SIPAS_ANSWERS, key="4" * 32, headers={"User-Agent": "another phone"})
        assert other.status_code == 303
        assert client.get(f"/s/{place.counter.code}").status_code == 200
        assert count(Response) == 3


def test_app_wide_flask_limiter_ceiling_leaves_the_survey_to_its_own_quotas(make_app):
    """A deployment may set an app-wide Flask-Limiter ceiling (RATELIMIT_APPLICATION). The
    survey page is counted by its own quotas (only stored submissions count) and reading it is
    never limited, so that ceiling must not apply there, while it still applies elsewhere."""
    from surveyapp.extensions import limiter

    from .conftest import build_place

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_APPLICATION="2 per hour")
    try:
        with app.app_context():
            place = build_place(standard_for(app))
            client = app.test_client()
            code = place.counter.code
            assert [client.get(f"/s/{code}").status_code for _ in range(3)] == [200] * 3
            assert [post(client, place, SIPAS_ANSWERS, key=str(i) * 32).status_code for i in range(3)] == [303] * 3
            assert count(Response) == 3
            # The thank-you page has no quota of its own: the app-wide ceiling holds there.
            assert [client.get(f"/s/{code}/cam-on").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        limiter.limit_manager._application_limits = []  # one limiter per process: do not leak


def test_phones_behind_one_address_with_the_same_browser_each_have_their_own_quota(make_app):
    """A centre's Wi-Fi: one address, and Chrome's reduced user agent is the same on every phone.
    Each browser (its session) gets its own per-phone quota; the address as a whole has a larger one."""
    from .conftest import build_place

    app = make_app(RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=True, SUBMIT_RATE_LIMIT_CLIENT="1 per hour",
                   SUBMIT_RATE_LIMIT_ADDRESS="3 per hour")
    agent = {"User-Agent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
                           "Chrome/131.0.0.0 Mobile Safari/537.36"}
    with app.app_context():
        place = build_place(standard_for(app))
        code = place.desk.code

        def submit(phone, key):
            page = phone.get(f"/s/{code}", headers=agent).get_data(as_text=True)
            fields = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)
                      for name in ("csrf_token", "started")}
            fields.update(key=re.search(r'name="key"[^>]*value="([^"]*)"', page).group(1), q_rating="v4")
            return phone.post(f"/s/{code}", data=fields, headers=agent)

        phones = [app.test_client() for _ in range(4)]
        assert submit(phones[0], 1).status_code == 303
        assert submit(phones[0], 2).status_code == 429  # the same phone again: its own quota is used
        assert submit(phones[1], 3).status_code == 303  # the next phone in the waiting room is not
        assert submit(phones[2], 4).status_code == 303
        refused = submit(phones[3], 5)  # the address's quota (3) is used up
        assert refused.status_code == 429 and "Quá nhiều yêu cầu" in refused.get_data(as_text=True)
        assert count(Response) == 3


def test_rate_limit_per_service_point(make_app):
    from .conftest import build_place

    app = make_app(RATELIMIT_ENABLED=True, SUBMIT_RATE_LIMIT_POINT="2 per hour")
    with app.app_context():
        place = build_place(standard_for(app))
        client = app.test_client()
        for i in range(2):
            assert post(client, place, SIPAS_ANSWERS, key=f"{i}" * 32, headers={"User-Agent": f"p{i}"}).status_code == 303
        assert post(client, place, SIPAS_ANSWERS, key="9" * 32, headers={"User-Agent": "p9"}).status_code == 429
        # The other service point keeps its own counter.
        quick = post(client, place, {"q_rating": "v4"}, survey=place.quick, code=place.desk.code, key="8" * 32,
                     headers={"User-Agent": "p8"})
        assert quick.status_code == 303


def test_rate_limits_shared_through_redis(make_app, redis_url):
    """Two app servers on one Redis: the second sees the first one's count."""
    import redis

    from .conftest import build_place

    settings = dict(RATELIMIT_ENABLED=True, REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url, SECRET_KEY="shared",
                    SUBMIT_RATE_LIMIT_CLIENT="1 per hour")
    a, b = make_app(**settings), make_app(**settings)
    with a.app_context():
        place = build_place(standard_for(a))
        survey_id, code = place.sipas.id, place.counter.code
        first = a.test_client().post(f"/s/{code}", data=form_start(a, survey_id, key="1" * 32) | SIPAS_ANSWERS)
        assert first.status_code == 303
    assert any(b"submit-client" in k for k in redis.Redis.from_url(redis_url).keys("*"))
    with b.app_context():
        second = b.test_client().post(f"/s/{code}", data=form_start(b, survey_id, key="2" * 32) | SIPAS_ANSWERS)
        assert second.status_code == 429
        assert count(Response) == 1


def test_redis_counts_stay_in_step_through_refusals_and_errors(make_app, redis_url):
    """On Redis the count is sent when the request starts and read before storing. Requests
    that store nothing (invalid, refused) read their answer too and give the count back, so
    the next request on the same connection reads its own answer: exactly the stored
    submissions use the quota, and the third is refused."""
    import redis

    from .conftest import build_place

    app = make_app(RATELIMIT_ENABLED=True, REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url,
                   SUBMIT_RATE_LIMIT_CLIENT="2 per hour")
    with app.app_context():
        place = build_place(standard_for(app))
        client = app.test_client()
        statuses = [post(client, place, {"q_comment": "x" * 2000}).status_code,  # invalid: 422
                    post(client, place, SIPAS_ANSWERS, key="1" * 32).status_code,
                    post(client, place, {"q_comment": "x" * 2000}).status_code,
                    post(client, place, SIPAS_ANSWERS, key="2" * 32).status_code,
                    post(client, place, SIPAS_ANSWERS, key="3" * 32).status_code,  # over the limit
                    post(client, place, {"q_comment": "x" * 2000}).status_code]  # over: refused first
        assert statuses == [422, 303, 422, 303, 429, 429]
        assert count(Response) == 2
        counter = next(k for k in redis.Redis.from_url(redis_url).keys("*submit-client*"))
        assert int(redis.Redis.from_url(redis_url).get(counter)) == 2
