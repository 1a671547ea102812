"""Administration: what officials create, change and deactivate, and the audit trail of each change."""
from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa

from admin_helpers import add_response, audit_count, last_audit
from surveyapp.extensions import db
from surveyapp.models import (
    AuditEvent,
    KioskDevice,
    Organisation,
    Questionnaire,
    ServicePoint,
    ServiceVolume,
    Survey,
    Target,
    User,
)


def text(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Organisations and service points


def test_manager_creates_a_unit_in_its_subtree_and_it_is_audited(world, auth):
    client = auth.client_for(world.a.manager)
    response = client.post("/admin/organisations/new", data={
        "code": "XA-AN-VP", "name": "Văn phòng xã An Bình", "sector": "administrative", "parent_id": world.a.org.id})
    assert response.status_code == 302
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == "XA-AN-VP"))
    assert org.parent_id == world.a.org.id and org.path.startswith(world.a.org.path)
    event = last_audit()
    assert (event.action, event.object_type, event.object_id) == ("organisation.create", "Organisation", str(org.id))
    assert event.user_id == world.a.manager.id and event.before is None and event.after["code"] == "XA-AN-VP"


def test_manager_cannot_put_a_unit_under_another_commune(world, auth):
    client = auth.client_for(world.a.manager)
    events = audit_count()
    response = client.post("/admin/organisations/new", data={
        "code": "LAN", "name": "Đơn vị lấn", "sector": "administrative", "parent_id": world.b.org.id})
    assert response.status_code == 422
    assert "Lựa chọn không hợp lệ." in text(response)  # WTForms' message, in Vietnamese
    response = client.post("/admin/organisations/new", data={
        "code": "LAN", "name": "Đơn vị lấn", "sector": "administrative", "parent_id": 0})  # top level: admins only
    assert response.status_code == 422
    assert db.session.scalar(sa.select(Organisation).where(Organisation.code == "LAN")) is None
    assert audit_count() == events


def test_validation_messages_are_vietnamese_and_tied_to_fields(world, auth):
    client = auth.client_for(world.admin)
    response = client.post("/admin/organisations/new", data={"code": "có dấu", "name": "", "sector": "administrative",
                                                             "parent_id": 0})
    assert response.status_code == 422
    page = text(response)
    assert 'id="name-error"' in page and 'aria-describedby="name-error"' in page
    assert "Vui lòng điền mục này." in page
    assert "Chỉ dùng chữ không dấu, số, dấu chấm, gạch ngang." in page
    response = client.post("/admin/organisations/new", data={"code": "XA-AN", "name": "Trùng mã",
                                                             "sector": "administrative", "parent_id": 0})
    assert response.status_code == 422 and "Mã đơn vị đã được dùng." in text(response)


def test_english_labels_when_english_is_chosen(world, auth):
    client = auth.client_for(world.admin)
    page = text(client.get("/admin/organisations/new?lang=en"))
    assert "Add unit" in page and "Unit name" in page and "Sign out" in page
    response = client.post("/admin/organisations/new?lang=en", data={"code": "", "name": "", "sector": "administrative",
                                                                     "parent_id": 0})
    assert "This field is required." in text(response) or "Please fill in this field." in text(response)


def test_edit_unit_records_before_and_after(world, auth):
    client = auth.client_for(world.admin)
    org = world.a.child
    response = client.post(f"/admin/organisations/{org.id}/edit", data={
        "code": org.code, "name": "Tổ một cửa An Bình", "sector": "administrative", "parent_id": world.a.org.id})
    assert response.status_code == 302
    event = last_audit()
    assert event.action == "organisation.update"
    assert event.before["name"] == "Tổ tiếp nhận xã An Bình" and event.after["name"] == "Tổ một cửa An Bình"


def test_admin_moves_a_unit_and_its_subtree_follows(world, auth):
    client = auth.client_for(world.admin)
    response = client.post(f"/admin/organisations/{world.a.child.id}/edit", data={
        "code": world.a.child.code, "name": world.a.child.name, "sector": "administrative", "parent_id": world.b.org.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert world.a.child.path.startswith(world.b.org.path)
    # Now out of manager A's reach.
    assert auth.client_for(world.a.manager).get(f"/admin/organisations/{world.a.child.id}/edit").status_code == 404


def test_manager_cannot_move_or_switch_off_its_own_root(world, auth):
    client = auth.client_for(world.a.manager)
    page = text(client.get(f"/admin/organisations/{world.a.org.id}/edit"))
    assert 'name="parent_id"' not in page
    assert client.post(f"/admin/organisations/{world.a.org.id}/toggle").status_code == 403


def test_deactivation_asks_for_confirmation_first(world, auth):
    client = auth.client_for(world.a.manager)
    url = f"/admin/service-points/{world.a.sp.id}/toggle"
    page = text(client.get(url))
    assert "Ngừng hoạt động điểm phục vụ" in page and "<form method=\"post\"" in page
    db.session.expire_all()
    assert world.a.sp.active  # looking at the confirmation changed nothing
    assert client.post(url).status_code == 302
    db.session.expire_all()
    assert not world.a.sp.active
    assert db.session.get(ServicePoint, world.a.sp.id) is not None  # deactivated, never deleted
    event = last_audit()
    assert event.action == "service_point.deactivate" and event.before["active"] is True and event.after["active"] is False


def test_create_and_edit_service_point(world, auth):
    client = auth.client_for(world.a.manager)
    response = client.post("/admin/service-points/new", data={"organisation_id": world.a.child.id, "name": "Quầy 2"})
    assert response.status_code == 302
    sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.name == "Quầy 2"))
    assert sp.organisation_id == world.a.child.id and len(sp.code) == 10
    assert last_audit().action == "service_point.create"
    response = client.post(f"/admin/service-points/{sp.id}/edit", data={"organisation_id": world.b.org.id, "name": "X"})
    assert response.status_code == 422  # not a choice for this manager
    response = client.post(f"/admin/service-points/{sp.id}/edit", data={"organisation_id": world.a.org.id, "name": "Quầy 2A"})
    assert response.status_code == 302
    assert last_audit().before["name"] == "Quầy 2" and last_audit().after["name"] == "Quầy 2A"
    # The move to another unit is in the record too, not only the new name.
    assert last_audit().before["organisation_id"] == world.a.child.id
    assert last_audit().after["organisation_id"] == world.a.org.id


def test_posters_of_a_service_point_and_of_a_whole_unit(world, auth):
    client = auth.client_for(world.a.manager)
    second = ServicePoint(organisation=world.a.child, name="Quầy phụ")
    closed = ServicePoint(organisation=world.a.child, name="Quầy đã đóng", active=False)
    db.session.add_all([second, closed])
    db.session.commit()
    page = text(client.get(f"/admin/service-points/{world.a.sp.id}/poster"))
    assert f"/s/{world.a.sp.code}" in page and "<svg" in page
    page = text(client.get(f"/admin/organisations/{world.a.org.id}/posters?paper=A5"))
    assert f"/s/{world.a.sp.code}" in page and f"/s/{second.code}" in page
    assert f"/s/{closed.code}" not in page and f"/s/{world.b.sp.code}" not in page
    assert client.get(f"/admin/service-points/{closed.id}/poster").status_code == 404


def test_service_volumes_by_form_and_csv(world, auth):
    client = auth.client_for(world.a.manager)
    url = f"/admin/service-points/{world.a.sp.id}/volumes"
    assert client.post(url, data={"one-month": "2026-05", "one-volume": "420"}).status_code == 302
    csv_file = (io.BytesIO(b"month,volume\n2026-05,450\n2026-06,380\n"), "volumes.csv")
    assert client.post(url, data={"which": "csv", "csv-file": csv_file}, content_type="multipart/form-data").status_code == 302
    rows = dict(db.session.execute(sa.select(ServiceVolume.month, ServiceVolume.volume)
                                   .where(ServiceVolume.service_point_id == world.a.sp.id)).all())
    assert rows == {date(2026, 5, 1): 450, date(2026, 6, 1): 380}
    assert last_audit().action == "service_volume.set"
    # A bad line refuses the whole file.
    bad = (io.BytesIO(b"month,volume\n2026-07,100\n2026-13,5\n"), "bad.csv")
    response = client.post(url, data={"which": "csv", "csv-file": bad}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Dòng 3: tháng không hợp lệ" in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceVolume)
                             .where(ServiceVolume.month == date(2026, 7, 1))) == 0


# ---------------------------------------------------------------------------------------------
# Questionnaires: clone, edit in place while unanswered, new version once frozen


def test_clone_edit_and_version_a_questionnaire(world, standard, auth):
    client = auth.client_for(world.a.manager)
    src = standard["quick-rating"]
    response = client.post(f"/admin/questionnaires/{src.id}/clone", data={
        "organisation_id": world.a.org.id, "title_vi": "Đánh giá nhanh xã An Bình", "title_en": "An Binh quick rating"})
    assert response.status_code == 302
    clone = db.session.scalar(sa.select(Questionnaire).where(Questionnaire.title_vi == "Đánh giá nhanh xã An Bình"))
    assert clone.version == 1 and clone.family != src.family and not clone.is_standard
    assert clone.organisation_id == world.a.org.id and len(clone.questions) == len(src.questions)
    assert last_audit().action == "questionnaire.clone"

    # Not answered yet: edited in place.
    rating = clone.questions[0]
    response = client.post(f"/admin/questionnaires/{clone.id}/questions/{rating.id}/edit",
                           data={"text_vi": "Ông/Bà hài lòng không?", "text_en": "Are you satisfied?"})
    assert response.status_code == 302 and response.location.endswith(f"/admin/questionnaires/{clone.id}")
    db.session.expire_all()
    assert clone.questions[0].text_vi == "Ông/Bà hài lòng không?"

    # A survey uses it and gets a response: frozen.
    survey = Survey(questionnaire=clone, organisation=world.a.org, name="Đánh giá nhanh", starts_on=date(2026, 1, 1),
                    status="open", service_points=[world.a.sp])
    db.session.add(survey)
    db.session.commit()
    world.a.survey = survey
    add_response(world.a, "Tốt")
    assert clone.is_frozen()

    response = client.post(f"/admin/questionnaires/{clone.id}/questions/{rating.id}/edit",
                           data={"text_vi": "Câu hỏi mới?", "text_en": "New question?"})
    assert response.status_code == 302
    v2 = db.session.scalar(sa.select(Questionnaire).where(Questionnaire.family == clone.family, Questionnaire.version == 2))
    assert v2 is not None and v2.questions[0].text_vi == "Câu hỏi mới?"
    db.session.expire_all()
    assert clone.questions[0].text_vi == "Ông/Bà hài lòng không?"  # the answered version is untouched
    assert db.session.get(Survey, survey.id).questionnaire_id == clone.id
    actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(2)))
    assert actions == ["question.update", "questionnaire.new_version"]

    # Adding a question to the frozen version also makes a new version (3), with the question.
    response = client.post(f"/admin/questionnaires/{clone.id}/questions/new", data={
        "code": "wait", "type": "choice", "aspect_id": 0, "text_vi": "Ông/Bà chờ bao lâu?", "text_en": "How long did you wait?",
        "options": "Dưới 15 phút | Under 15 minutes\nTừ 15 phút trở lên | 15 minutes or more"})
    assert response.status_code == 302
    v3 = db.session.scalar(sa.select(Questionnaire).where(Questionnaire.family == clone.family, Questionnaire.version == 3))
    added = v3.questions[-1]
    assert added.code == "wait" and [o.label_en for o in added.options] == ["Under 15 minutes", "15 minutes or more"]
    assert "wait" not in [q.code for q in clone.questions]


def test_standard_questionnaires_are_read_only_for_managers(world, standard, auth):
    client = auth.client_for(world.a.manager)
    q = standard["sipas-admin"]
    assert client.get(f"/admin/questionnaires/{q.id}").status_code == 200
    assert client.post(f"/admin/questionnaires/{q.id}/edit", data={"title_vi": "X", "title_en": "X"}).status_code == 403
    # Another commune's own questionnaire is not even visible.
    assert client.get(f"/admin/questionnaires/{world.b.questionnaire.id}").status_code == 404


def test_new_question_validation(world, auth):
    client = auth.client_for(world.a.manager)
    q = world.a.questionnaire
    response = client.post(f"/admin/questionnaires/{q.id}/questions/new", data={
        "code": "comment", "type": "choice", "aspect_id": 0, "text_vi": "Câu?", "text_en": "Q?", "options": "Một"})
    assert response.status_code == 422
    assert "Câu hỏi chọn một cần ít nhất hai lựa chọn." in text(response)


# ---------------------------------------------------------------------------------------------
# Surveys


def survey_form(world, **overrides):
    data = {"name": "Khảo sát quý 3", "organisation_id": world.a.org.id, "questionnaire_id": world.a.questionnaire.id,
            "service_point_ids": [world.a.sp.id], "channel_qr": "y", "starts_on": "2026-07-01", "ends_on": "2026-09-30",
            "status": "open"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_survey_and_close_it(world, auth):
    client = auth.client_for(world.a.manager)
    assert client.post("/admin/surveys/new", data=survey_form(world)).status_code == 302
    survey = db.session.scalar(sa.select(Survey).where(Survey.name == "Khảo sát quý 3"))
    assert [sp.id for sp in survey.service_points] == [world.a.sp.id] and survey.channel_qr and not survey.channel_kiosk
    event = last_audit()
    assert event.action == "survey.create" and event.after["service_point_ids"] == [world.a.sp.id]
    url = f"/admin/surveys/{survey.id}/close"
    assert "Đóng đợt khảo sát" in text(client.get(url))
    assert client.post(url).status_code == 302
    db.session.expire_all()
    assert survey.status == "closed"
    assert last_audit().before["status"] == "open" and last_audit().after["status"] == "closed"


def test_survey_validation(world, auth):
    client = auth.client_for(world.a.manager)
    response = client.post("/admin/surveys/new", data=survey_form(world, channel_qr=None, ends_on="2026-06-01"))
    assert response.status_code == 422
    assert "Chọn ít nhất một kênh khảo sát." in text(response) and "Ngày kết thúc phải sau ngày bắt đầu." in text(response)
    response = client.post("/admin/surveys/new", data=survey_form(world, service_point_ids=[world.b.sp.id]))
    assert response.status_code == 422
    response = client.post("/admin/surveys/new", data=survey_form(world, starts_on="ngày mai"))
    assert response.status_code == 422 and "Ngày không hợp lệ" in text(response)
    assert db.session.scalar(sa.select(Survey).where(Survey.name == "Khảo sát quý 3")) is None


def test_answered_survey_keeps_its_questionnaire_and_service_points(world, standard, auth):
    client = auth.client_for(world.a.manager)
    survey = world.a.survey  # has a response at world.a.sp
    other = ServicePoint(organisation=world.a.org, name="Quầy mới")
    db.session.add(other)
    db.session.commit()
    base = survey_form(world, name=survey.name, starts_on="2026-01-01", ends_on=None)
    response = client.post(f"/admin/surveys/{survey.id}/edit", data=dict(base, service_point_ids=[other.id]))
    assert response.status_code == 422 and "Không thể bỏ điểm phục vụ đã có câu trả lời" in text(response)
    response = client.post(f"/admin/surveys/{survey.id}/edit",
                           data=dict(base, questionnaire_id=standard["quick-rating"].id))
    assert response.status_code == 422 and "không thể đổi phiếu" in text(response)
    response = client.post(f"/admin/surveys/{survey.id}/edit", data=dict(base, service_point_ids=[world.a.sp.id, other.id],
                                                                         channel_kiosk="y"))
    assert response.status_code == 302
    db.session.expire_all()
    assert {sp.id for sp in survey.service_points} == {world.a.sp.id, other.id}
    assert last_audit().before["service_point_ids"] == [world.a.sp.id]


# ---------------------------------------------------------------------------------------------
# Kiosk devices


def test_kiosk_enrolment_code_shown_once_and_device_managed(world, auth):
    client = auth.client_for(world.a.manager)
    response = client.post("/admin/kiosks/new", data={"name": "Máy quầy 2", "service_point_id": world.a.sp.id})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    device = db.session.scalar(sa.select(KioskDevice).where(KioskDevice.name == "Máy quầy 2"))
    page = text(response)
    import re

    code = re.search(r'<p class="enrol-code"><code>([^<]+)</code>', page).group(1)
    assert "/kiosk/enroll?code=" in page and "<svg" in page
    assert code.replace("-", "") not in (device.enrol_code_hash or "")  # only a hash is stored
    assert code not in text(client.get("/admin/kiosks"))  # never shown again
    assert last_audit().action == "kiosk.create"

    assert client.post(f"/admin/kiosks/{device.id}/rename", data={"name": "Máy quầy hai"}).status_code == 302
    assert last_audit().before["name"] == "Máy quầy 2" and last_audit().after["name"] == "Máy quầy hai"
    second = ServicePoint(organisation=world.a.child, name="Quầy phụ")
    db.session.add(second)
    db.session.commit()
    assert client.post(f"/admin/kiosks/{device.id}/move", data={"service_point_id": world.b.sp.id}).status_code == 422
    assert client.post(f"/admin/kiosks/{device.id}/move", data={"service_point_id": second.id}).status_code == 302
    assert last_audit().action == "kiosk.move" and last_audit().after["service_point_id"] == second.id

    assert "Thu hồi thiết bị" in text(client.get(f"/admin/kiosks/{device.id}/revoke"))
    assert client.post(f"/admin/kiosks/{device.id}/revoke").status_code == 302
    db.session.expire_all()
    assert device.revoked_at is not None and last_audit().action == "kiosk.revoke"
    # A revoked device gets no new code.
    assert client.post(f"/admin/kiosks/{device.id}/code").status_code == 302
    db.session.expire_all()
    assert device.enrol_code_hash is None


def test_kiosk_list_shows_health(world, auth):
    from surveyapp.models import utcnow

    world.a.device.last_seen_at, world.a.device.app_version, world.a.device.queue_length = utcnow(), "1.4.2", 7
    db.session.commit()
    page = text(auth.client_for(world.a.viewer).get("/admin/kiosks"))
    assert "Máy tính bảng xã An Bình" in page and "1.4.2" in page and ">7<" in page
    assert "Bắc Sơn" not in page


# ---------------------------------------------------------------------------------------------
# Users


def test_manager_creates_users_no_more_powerful_than_itself(world, auth):
    client = auth.client_for(world.a.manager)
    base = {"username": "canbo2", "role": "viewer", "organisation_id": world.a.child.id, "password": "12345678ab",
            "active": "y"}
    assert client.post("/admin/users/new", data=dict(base, role="admin")).status_code == 422
    assert client.post("/admin/users/new", data=dict(base, organisation_id=world.b.org.id)).status_code == 422
    assert client.post("/admin/users/new", data=dict(base, organisation_id=0)).status_code == 422
    assert db.session.scalar(sa.select(User).where(User.username == "canbo2")) is None
    assert client.post("/admin/users/new", data=base).status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "canbo2"))
    assert user.role == "viewer" and user.organisation_id == world.a.child.id
    event = last_audit()
    assert event.action == "user.create" and "password_hash" not in event.after
    # Administrators and other communes' users are out of reach.
    assert client.get(f"/admin/users/{world.admin.id}/edit").status_code == 404
    assert client.get(f"/admin/users/{world.b.manager.id}/edit").status_code == 404
    page = text(client.get("/admin/users"))
    assert "canbo2" in page and "quantri" not in page and "ql-xa-bac" not in page


def test_user_edit_deactivate_and_duplicate_name(world, auth):
    client = auth.client_for(world.admin)
    viewer = world.a.viewer
    data = {"username": viewer.username, "full_name": "Người xem An Bình", "role": "viewer",
            "organisation_id": world.a.org.id, "active": "y"}
    assert client.post(f"/admin/users/{viewer.id}/edit", data=dict(data, username="QL-XA-AN")).status_code == 422
    assert client.post(f"/admin/users/{viewer.id}/edit", data=dict(data, password="mat-khau-moi-1")).status_code == 302
    event = last_audit()
    assert event.after["password_changed"] is True and event.after["full_name"] == "Người xem An Bình"
    assert client.post(f"/admin/users/{viewer.id}/toggle").status_code == 302
    db.session.expire_all()
    assert not viewer.active and last_audit().action == "user.deactivate"
    assert client.post(f"/admin/users/{world.admin.id}/toggle").status_code == 403  # not oneself


# ---------------------------------------------------------------------------------------------
# Targets


def test_targets_in_percent_and_scope(world, auth):
    province = auth.client_for(world.province_admin)
    data = {"indicator": "quick", "sector": "", "organisation_id": world.a.org.id, "value": "96.5", "operator": ">=",
            "valid_from": "2026-01-01", "valid_to": "2026-12-31", "source": "Kế hoạch cải cách hành chính tỉnh"}
    assert province.post("/admin/targets/new", data=data).status_code == 302
    target = db.session.scalar(sa.select(Target).where(Target.source == "Kế hoạch cải cách hành chính tỉnh"))
    assert abs(target.value - 0.965) < 1e-9 and target.organisation_id == world.a.org.id
    assert last_audit().action == "target.create"
    # Sector targets are national policy: only the installation's administrator sets them.
    manager = auth.client_for(world.a.manager)
    assert manager.post("/admin/targets/new", data=dict(data, sector="administrative", organisation_id=0)).status_code == 422
    sector_target = db.session.scalar(sa.select(Target).where(Target.sector == "administrative").limit(1))
    assert manager.get(f"/admin/targets/{sector_target.id}/edit").status_code == 403
    response = province.post("/admin/targets/new", data=dict(data, value="120"))
    assert response.status_code == 422 and "Chỉ tiêu phải lớn hơn 0 và không quá 100." in text(response)

    admin = auth.client_for(world.admin)
    assert admin.post(f"/admin/targets/{target.id}/edit", data=dict(data, value="97")).status_code == 302
    assert last_audit().before["value"] == 0.965 and last_audit().after["value"] == 0.97
    assert "Xóa chỉ tiêu này?" in text(admin.get(f"/admin/targets/{target.id}/delete"))
    assert admin.post(f"/admin/targets/{target.id}/delete").status_code == 302
    assert db.session.get(Target, target.id) is None
    assert last_audit().action == "target.delete" and last_audit().before["value"] == 0.97


# ---------------------------------------------------------------------------------------------
# Audit log


def test_audit_log_lists_and_filters_changes(world, auth):
    manager = auth.client_for(world.a.manager)
    manager.post(f"/admin/service-points/{world.a.sp.id}/edit", data={"organisation_id": world.a.org.id, "name": "Quầy mới"})
    admin = auth.client_for(world.admin)
    admin.post(f"/admin/targets/{world.b.target.id}/edit", data={
        "indicator": "quick", "sector": "", "organisation_id": world.b.org.id, "value": "96", "operator": ">=",
        "valid_from": "2026-01-01"})  # above the sector's 95%, as an organisation's own target must be
    page = text(admin.get("/admin/audit"))
    assert "service_point.update" in page and "target.update" in page and "Quầy mới" in page
    page = text(admin.get(f"/admin/audit?user_id={world.a.manager.id}"))
    assert "service_point.update" in page and "target.update" not in page
    page = text(admin.get("/admin/audit?object_type=Target"))
    assert "target.update" in page and "service_point.update" not in page


# ---------------------------------------------------------------------------------------------
# The workspace layout


def test_navigation_follows_the_role_and_language_switch_keeps_filters(world, auth):
    viewer_page = text(auth.client_for(world.a.viewer).get(f"/admin/service-points?org={world.a.org.id}"))
    assert 'href="/admin/organisations"' in viewer_page and 'href="/admin/users"' not in viewer_page
    assert 'href="/admin/audit"' not in viewer_page and "Thêm điểm phục vụ" not in viewer_page
    assert f"?org={world.a.org.id}&amp;lang=en" in viewer_page
    admin_page = text(auth.client_for(world.admin).get("/admin/service-points?lang=en"))
    assert 'href="/admin/audit"' in admin_page and "Add service point" in admin_page and 'lang="en"' in admin_page


def test_kiosk_enrolment_for_a_whole_unit_offers_its_service_points_only(world, auth):
    page = text(auth.client_for(world.a.manager).get(f"/admin/kiosks/new?org={world.a.child.id}"))
    assert world.a.sp.name not in page  # the point belongs to the commune, not to this sub-unit
    page = text(auth.client_for(world.a.manager).get(f"/admin/kiosks/new?org={world.a.org.id}"))
    assert world.a.sp.name in page and world.b.sp.name not in page
