"""The import workspace with the test client: templates, dry run as a table of errors, the real
run on confirmation, CSRF, the user's subtree, the audit log; the posters of a subtree as one
PDF whose every page's QR code reads back as its service point's survey URL."""
from __future__ import annotations

import io
import re
import subprocess

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Organisation, ServicePoint


KINDS = ("organisations", "service-points", "users", "volumes", "targets")


def upload(client, kind, text, name="tep.csv"):
    return client.post(f"/admin/imports/{kind}", data={"up-file": (io.BytesIO(text.encode("utf-8-sig")), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("kind", KINDS)
def test_each_template_has_vietnamese_headers_and_an_example_row(world, auth, kind):
    client = auth.client_for(world.a.manager)
    xlsx = client.get(f"/admin/imports/{kind}/template.xlsx")
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[0][0].startswith(("Mã", "Tên", "Chỉ")) and any(rows[1])
    csv = client.get(f"/admin/imports/{kind}/template.csv").data.decode("utf-8-sig").splitlines()
    assert csv[0].split(",") == list(rows[0]) and len(csv) == 2


def test_dry_run_shows_the_errors_then_confirmation_stores_inside_the_subtree(world, auth):
    a, b = world.a, world.b
    client = auth.client_for(a.manager)
    page = client.get("/admin/imports")
    assert page.status_code == 200 and "Cây đơn vị" in page.get_data(as_text=True)
    text = ("Mã đơn vị,Tên đơn vị,Tên tiếng Anh,Lĩnh vực,Mã đơn vị cấp trên\n"
            f"{a.org.code}-T1,Tổ một cửa,,hành chính,{a.org.code}\n"
            f"{b.org.code}-T9,Tổ của xã khác,,hành chính,{b.org.code}\n"
            f"{a.org.code}-T2,,,hành chính,{a.org.code}\n")
    bad = upload(client, "organisations", text)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "2 lỗi trong 3 dòng; chưa lưu gì." in html
    assert re.search(r'<td class="num">3</td><td>Mã đơn vị cấp trên</td><td>Không có đơn vị mã “XA-BAC” trong phạm vi', html)
    assert '<td class="num">4</td><td>Tên đơn vị</td><td>Thiếu giá trị bắt buộc.</td>' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
        Organisation.code.in_([f"{a.org.code}-T1", f"{b.org.code}-T9"]))) == 0
    good_text = text.splitlines()[0] + "\n" + text.splitlines()[1] + "\n"
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    good = upload(client, "organisations", good_text)
    assert good.status_code == 200 and "1 dòng hợp lệ." in good.get_data(as_text=True)
    assert db.session.scalar(sa.select(Organisation).where(Organisation.code == f"{a.org.code}-T1")) is None
    payload = re.search(r'name="ok-payload" type="hidden" value="([^"]+)"', good.get_data(as_text=True)).group(1)
    done = client.post("/admin/imports/organisations", data={"ok-filename": "tep.csv", "ok-payload": payload})
    assert done.status_code == 302
    made = db.session.scalar(sa.select(Organisation).where(Organisation.code == f"{a.org.code}-T1"))
    assert made is not None and made.parent_id == a.org.id
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before + 1
    assert event.action == "import" and event.user_id == a.manager.id and event.after["created"] == 1
    # The export holds the subtree only, and what it holds imports back unchanged.
    exported = client.get("/admin/imports/organisations/export.csv").data.decode("utf-8-sig")
    assert f"{a.org.code}-T1" in exported and b.org.code not in exported
    again = upload(client, "organisations", exported)
    assert again.status_code == 200, again.get_data(as_text=True)
    # A manager's users export never lists an administrator, which it could not import back.
    users = client.get("/admin/imports/users/export.csv").data.decode("utf-8-sig")
    assert a.viewer.username in users and a.admin.username not in users and b.viewer.username not in users


def test_roles_csrf_and_unknown_kinds(world, auth, make_app):
    a = world.a
    viewer = auth.client_for(a.viewer)
    assert viewer.get("/admin/imports").status_code == 403
    assert upload(viewer, "users", "Tên đăng nhập\nx\n").status_code == 403
    assert auth.client_for(a.manager).get("/admin/imports/questionnaires").status_code == 404
    # With CSRF on, an upload without the token is refused and nothing is read.
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    auth.login(a.manager, client=client, data={"csrf_token": token})
    refused = upload(client, "organisations", "Mã đơn vị,Tên đơn vị,Lĩnh vực,Mã đơn vị cấp trên\n"
                                              f"{a.org.code}-Z,Z,hành chính,{a.org.code}\n")
    assert refused.status_code == 400


def _decode_pages(pdf: bytes, tmp_path) -> list[str]:
    (tmp_path / "p.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(tmp_path / "p.pdf"), str(tmp_path / "page")], check=True)
    urls = []
    for png in sorted(tmp_path.glob("page-*.png")):
        out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
        urls.append(out.stdout.strip())
    return urls


def test_posters_of_a_subtree_print_as_one_pdf_one_page_per_point(world, auth, tmp_path):
    a = world.a
    extra = [ServicePoint(organisation=a.child, name=f"Quầy số {i} – tiếp nhận hồ sơ đất đai") for i in range(1, 4)]
    db.session.add_all(extra)
    db.session.commit()
    client = auth.client_for(a.viewer)
    response = client.get(f"/admin/imports/posters.pdf?org={a.org.id}", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    reader = PdfReader(io.BytesIO(pdf))
    points = [a.sp] + extra
    assert len(reader.pages) == len(points)
    assert all(abs(float(p.mediabox.width) - 595.28) < 1 and abs(float(p.mediabox.height) - 841.89) < 1
               for p in reader.pages)
    by_url = {f"https://khaosat.example.gov.vn/s/{sp.code}": sp for sp in points}
    urls = _decode_pages(pdf, tmp_path)
    assert sorted(urls) == sorted(by_url)
    for page, url in zip(reader.pages, urls):
        assert by_url[url].name in page.extract_text()
    # The other commune's organisation is out of this viewer's scope.
    assert client.get(f"/admin/organisations/{world.b.org.id}/posters.pdf").status_code == 404


def test_posters_command_writes_the_same_pdf(world, runner, tmp_path):
    out = tmp_path / "ap-phich.pdf"
    result = runner.invoke(args=["posters", "--org", "P", "--out", str(out)])
    assert result.exit_code == 0, result.output
    urls = _decode_pages(out.read_bytes(), tmp_path)
    codes = db.session.scalars(sa.select(ServicePoint.code).where(ServicePoint.active)).all()
    assert sorted(urls) == sorted(f"https://khaosat.example.gov.vn/s/{c}" for c in codes)


def test_the_service_point_form_sets_the_official_code_an_import_matches(world, auth):
    a = world.a
    client = auth.client_for(a.manager)
    form = {"organisation_id": a.org.id, "name": a.sp.name, "official_code": "XA-AN-MC"}
    assert client.post(f"/admin/service-points/{a.sp.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert a.sp.official_code == "XA-AN-MC"
    other = {"organisation_id": a.org.id, "name": "Quầy mới", "official_code": "XA-AN-MC"}
    taken = client.post("/admin/service-points/new", data=other)
    assert taken.status_code == 422 and "Mã điểm phục vụ đã được dùng." in taken.get_data(as_text=True)
    text = "Mã điểm phục vụ,Tên điểm phục vụ,Tên tiếng Anh,Mã đơn vị,Mã QR\nXA-AN-MC,Một cửa xã An Bình,,XA-AN,\n"
    result = upload(client, "service-points", text)
    assert result.status_code == 200 and "1 dòng hợp lệ." in result.get_data(as_text=True)
