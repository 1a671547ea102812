"""Every import kind: a dry run lists every bad row and changes nothing, a real run is all or
nothing and audited, a second run changes nothing, and export -> import into an empty
database -> export gives the same file."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from surveyapp import imports
from surveyapp.extensions import db
from surveyapp.models import Organisation, ServicePoint, ServiceVolume, Target, User
from tests.conftest import empty_all_tables

from .conftest import audits, csv_bytes, xlsx_bytes

ORG_HEADER = "Mã đơn vị,Tên đơn vị,Tên tiếng Anh,Lĩnh vực,Mã đơn vị cấp trên"
# Children before their parents, four levels, national codes (25: a province, 26734: a commune).
ORGS = [
    ORG_HEADER,
    "BV-K1,Khoa Nội,Internal medicine,y tế,BV",
    "26734,UBND xã Tân Lập,,hành chính,25",
    "BV,Bệnh viện đa khoa tỉnh,,health,SYT",
    "SYT,Sở Y tế,,y tế,25",
    "25,UBND tỉnh Phú Thọ,Phu Tho,hành chính,",
]
SP_HEADER = "Mã điểm phục vụ,Tên điểm phục vụ,Tên tiếng Anh,Mã đơn vị,Mã QR"
SPS = [SP_HEADER, "26734-MC,Bộ phận Một cửa xã Tân Lập,,26734,", "BV-K1-Q,Quầy đón tiếp Khoa Nội,,BV-K1,quaynoi0001"]
USER_HEADER = "Tên đăng nhập,Họ và tên,Thư điện tử,Vai trò,Mã đơn vị"
USERS = [USER_HEADER, "nguyenvana,Nguyễn Văn A,a@tanlap.gov.vn,người xem,26734", "tranthib,Trần Thị B,,manager,SYT",
         "quantri-tinh,Quản trị tỉnh,,quản trị viên,25"]
VOL_HEADER = "Mã điểm phục vụ,Tháng,Số lượt phục vụ"
VOLS = [VOL_HEADER, "26734-MC,2026-05,1.250", "quaynoi0001,2026-05,310", "26734-MC,2026-06,990"]
TARGET_HEADER = "Chỉ số,Mã đơn vị,Lĩnh vực,Chỉ tiêu (%),Phép so sánh,Áp dụng từ ngày,Đến ngày,Căn cứ"
TARGETS = [TARGET_HEADER, "composite,26734,,96.5,≥,2026-01-01,2026-12-31,Kế hoạch xã",
           "composite,25,,96,≥,01/01/2026,,Kế hoạch tỉnh",
           "quick,,y tế,88,>,2031-01-01,,Quyết định của tỉnh"]
ALL = [("organisations", ORGS), ("service-points", SPS), ("users", USERS), ("volumes", VOLS), ("targets", TARGETS)]


def run(kind, lines, **kw):
    return imports.run_import(kind, f"{kind}.csv", csv_bytes(*lines), **kw)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def load_all():
    for kind, lines in ALL:
        result = run(kind, lines)
        assert result.ok, (kind, [e.as_dict() for e in result.errors])


def test_organisation_tree_of_any_depth_with_national_codes(ctx):
    assert run("organisations", ORGS, dry_run=True).ok and count(Organisation) == 0
    result = run("organisations", ORGS)
    assert result.counts == {"created": 5, "updated": 0, "unchanged": 0}
    ward = db.session.scalar(sa.select(Organisation).where(Organisation.code == "BV-K1"))
    assert [o.code for o in _ancestors(ward)] == ["25", "SYT", "BV", "BV-K1"] and ward.sector == "health"
    assert len(audits()) == 1 and audits()[0].after["created"] == 5
    again = run("organisations", ORGS)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 5} and len(audits()) == 1
    # Moving the hospital under the province directly, and renaming a ward, in one file.
    moved = run("organisations", [ORG_HEADER, "BV,Bệnh viện đa khoa tỉnh,,y tế,25", "BV-K1,Khoa Nội tổng hợp,,y tế,BV"])
    assert moved.counts == {"created": 0, "updated": 2, "unchanged": 0}
    db.session.expire_all()
    assert [o.code for o in _ancestors(db.session.get(Organisation, ward.id))] == ["25", "BV", "BV-K1"]


def _ancestors(org):
    return [db.session.get(Organisation, i) for i in org.ancestor_ids()]


def test_a_dry_run_lists_every_bad_row_in_vietnamese_and_a_real_run_stores_none(app, runner, tmp_path):
    bad = ORGS + [
        "7,Tỉnh mất số 0,,hành chính,",          # 07 saved by a spreadsheet as 7
        "X1,,,hành chính,25",                    # no name
        "X2,Xã Hai,,nông nghiệp,25",             # no such sector
        "X3,Xã Ba,,hành chính,KHONG-CO",         # unknown parent
        "C1,Vòng 1,,hành chính,C2", "C2,Vòng 2,,hành chính,C1",  # a cycle
        "26734,Trùng mã,,hành chính,25",         # the same code twice
        "X4 Sai,Mã có dấu cách,,hành chính,25",
    ]
    path = tmp_path / "donvi.csv"
    path.write_bytes(csv_bytes(*bad))
    result = runner.invoke(args=["import", "organisations", str(path), "--dry-run"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    expected = [
        "Dòng 7, cột Mã đơn vị: Mã toàn chữ số là mã đơn vị hành chính",
        "Dòng 8, cột Tên đơn vị: Thiếu giá trị bắt buộc.",
        "Dòng 9, cột Lĩnh vực: Giá trị không hợp lệ; dùng một trong: “hành chính”, “y tế”, “giáo dục”.",
        "Dòng 10, cột Mã đơn vị cấp trên: Không có đơn vị mã “KHONG-CO” trong phạm vi của bạn.",
        "Dòng 11, cột Mã đơn vị cấp trên: Quan hệ cấp trên tạo thành vòng lặp.",
        "Dòng 12, cột Mã đơn vị cấp trên: Quan hệ cấp trên tạo thành vòng lặp.",
        "Dòng 13, cột Mã đơn vị: Lặp lại giá trị đã có ở dòng 3.",
        "Dòng 14, cột Mã đơn vị: Mã chỉ dùng chữ không dấu, số, dấu chấm, gạch ngang.",
    ]
    for line in expected:
        assert any(out.startswith(line) for out in lines), (line, result.output)
    assert not any(out.startswith(("Dòng 2,", "Dòng 3,", "Dòng 6,")) for out in lines)
    assert "8 lỗi trong 13 dòng; không thay đổi gì." in lines
    assert runner.invoke(args=["import", "organisations", str(path)]).exit_code == 1
    with app.app_context():
        assert count(Organisation) == 0 and audits() == []


def test_service_points_and_volumes_match_by_official_code(ctx):
    run("organisations", ORGS)
    result = run("service-points", SPS)
    assert result.counts["created"] == 2
    desk = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.official_code == "26734-MC"))
    ward = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.official_code == "BV-K1-Q"))
    assert ward.code == "quaynoi0001" and len(desk.code) == 10  # a new unguessable QR code
    qr = desk.code
    renamed = run("service-points", [SP_HEADER, "26734-MC,Một cửa xã Tân Lập,,26734,"])
    assert renamed.counts == {"created": 0, "updated": 1, "unchanged": 0}
    db.session.expire_all()
    assert desk.name == "Một cửa xã Tân Lập" and desk.code == qr  # the posters on the wall still work
    refused = run("service-points", [SP_HEADER, "26734-MC,Một cửa,,26734,khacma0001", "MOI,Mới,,KHONG-CO,"])
    assert [(e.row, e.column) for e in refused.errors] == [(2, "Mã QR"), (3, "Mã đơn vị")]

    assert run("volumes", VOLS).counts["created"] == 3
    assert db.session.scalar(sa.select(ServiceVolume.volume).where(ServiceVolume.service_point_id == desk.id)
                             .order_by(ServiceVolume.month)) == 1250
    assert run("volumes", VOLS).counts == {"created": 0, "updated": 0, "unchanged": 3}
    bad = run("volumes", [VOL_HEADER, "26734-MC,2026-13,5", "26734-MC,2026-07,-3", "KHONG-CO,2026-07,5",
                          "26734-MC,2026-05,12.5"], dry_run=True)
    assert [(e.row, e.column) for e in bad.errors] == [(2, "Tháng"), (3, "Số lượt phục vụ"), (5, "Số lượt phục vụ"),
                                                       (4, "Mã điểm phục vụ")]


def test_users_never_carry_a_password_nor_more_authority_than_the_importer(ctx):
    run("organisations", ORGS)
    with pytest.raises(imports.FileProblem, match="Mật khẩu"):
        run("users", [USER_HEADER + ",Mật khẩu", "nguyenvana,A,,người xem,26734,matkhau123"])
    assert run("users", USERS).counts["created"] == 3
    user = db.session.scalar(sa.select(User).where(User.username == "nguyenvana"))
    assert user.email == "a@tanlap.gov.vn" and user.role == "viewer" and not user.has_usable_password
    for guess in ("", "!", user.password_hash):
        assert not user.check_password(guess)
    # A manager of the health department imports inside its subtree only, and never an administrator.
    manager = db.session.scalar(sa.select(User).where(User.username == "tranthib"))
    result = run("users", [USER_HEADER, "bacsi.an,Bác sĩ An,,người xem,BV-K1", "canbo.xa,Cán bộ xã,,người xem,26734",
                           "qt.bv,Quản trị BV,,quản trị viên,BV", "quantri-tinh,Đổi tên,,người xem,SYT",
                           "tranthib,Trần Thị B,,người xem,SYT"], actor=manager)
    assert [(e.row, e.column) for e in result.errors] == [
        (4, "Vai trò"), (3, "Mã đơn vị"), (5, "Tên đăng nhập"), (6, "Vai trò")]
    assert "phạm vi" in str(result.errors[1].message) and count(User) == 3
    ok = run("users", [USER_HEADER, "bacsi.an,Bác sĩ An,,người xem,BV-K1"], actor=manager)
    assert ok.ok and count(User) == 4
    # The audit names who imported: the manager; nobody for the shell's import.
    assert [e.user_id for e in audits()][-2:] == [None, manager.id]


def test_targets_are_never_laxer_than_inherited(ctx, standard):
    run("organisations", ORGS)
    # The sector's 2026 bar for administrative composite is > 95 % (Resolution 76).
    laxer = run("targets", [TARGET_HEADER, "composite,26734,,92,≥,2026-01-01,,Xã"])
    assert [(e.row, e.column) for e in laxer.errors] == [(2, "Chỉ tiêu (%)")]
    assert "> 95.0%" in str(laxer.errors[0].message) and count(Target) == 14
    # The province's own bar in the same file is inherited too, whatever the order of the rows.
    below_province = run("targets", [TARGET_HEADER, "composite,26734,,96.5,≥,2026-01-01,,Xã",
                                     "composite,25,,97,≥,2026-01-01,,Tỉnh"])
    assert [(e.row, e.column) for e in below_province.errors] == [(2, "Chỉ tiêu (%)")]
    assert "25" in str(below_province.errors[0].message)
    assert run("targets", TARGETS).counts == {"created": 3, "updated": 0, "unchanged": 0}
    assert run("targets", TARGETS).counts == {"created": 0, "updated": 0, "unchanged": 3}
    # Only the level above sets a unit's bar: the province's manager sets the commune's, not its own.
    manager = User(username="ql-tinh", role="manager", organisation=db.session.scalar(
        sa.select(Organisation).where(Organisation.code == "25")))
    manager.set_unusable_password()
    db.session.add(manager)
    db.session.commit()
    result = run("targets", [TARGET_HEADER, "composite,26734,,97,≥,2026-01-01,,Xã", "composite,25,,97,≥,2026-01-01,,Tỉnh",
                             "quick,,y tế,90,≥,2026-01-01,,"], actor=manager)
    assert [(e.row, e.column) for e in result.errors] == [(3, "Mã đơn vị"), (4, "Mã đơn vị")]


def test_xlsx_reads_like_csv_and_a_number_cell_code_is_refused(ctx):
    rows = [line.split(",") for line in ORGS]
    assert imports.run_import("organisations", "dv.xlsx", xlsx_bytes(*rows)).counts["created"] == 5
    bad = imports.run_import("organisations", "dv.xlsx", xlsx_bytes(rows[0], [26735, "Xã mới", "", "hành chính", "25"]))
    assert [(e.row, e.column) for e in bad.errors] == [(2, "Mã đơn vị")] and "Text" in str(bad.errors[0].message)


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_every_kind_round_trips_through_an_empty_database(ctx, ext):
    load_all()
    first = {kind: _export(kind, ext) for kind, _ in ALL}
    assert all(len(rows) > 1 for rows in first.values())
    empty_all_tables()
    for kind, _ in ALL:
        result = imports.run_import(kind, f"{kind}.{ext}", first[kind]["bytes"])
        assert result.ok, (kind, [e.as_dict() for e in result.errors])
        assert result.counts["created"] == len(first[kind]) - 1
    for kind, _ in ALL:
        again = _export(kind, ext)
        assert again["rows"] == first[kind]["rows"], kind
        assert imports.run_import(kind, f"{kind}.{ext}", again["bytes"]).counts["created"] == 0


class _Export(dict):
    def __len__(self):
        return len(self["rows"])


def _export(kind, ext):
    out = io.BytesIO()
    imports.write_export(kind, f"out.{ext}", out)
    data = out.getvalue()
    if ext == "csv":
        rows = data.decode("utf-8-sig").splitlines()
    else:
        rows = [tuple(r) for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]
    return _Export(bytes=data, rows=rows)
