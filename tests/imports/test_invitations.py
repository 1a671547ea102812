"""Imported officials get no password: an e-mailed, single-use, expiring link to set one where
password sign-in is allowed, and nothing where single sign-on is the way in."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from surveyapp import imports
from surveyapp.clock import now_utc
from surveyapp.extensions import db
from surveyapp.models import OutboxItem, User

from .conftest import csv_bytes

USERS = ["Tên đăng nhập,Họ và tên,Thư điện tử,Vai trò,Mã đơn vị",
         "nguyenvana,Nguyễn Văn A,a@tanlap.gov.vn,người xem,26734", "tranthib,Trần Thị B,,người xem,26734"]
ORGS = ["Mã đơn vị,Tên đơn vị,Tên tiếng Anh,Lĩnh vực,Mã đơn vị cấp trên", "26734,UBND xã Tân Lập,,hành chính,"]


def _import(app, lines):
    with app.test_request_context():
        return imports.run_import("users" if lines is USERS else "organisations", "f.csv", csv_bytes(*lines))


def invitations(app) -> list[OutboxItem]:
    """The invitations in the outbox, read in an app context of their own (detached, loaded)."""
    with app.app_context():
        items = list(db.session.scalars(sa.select(OutboxItem).where(OutboxItem.kind == "invitation")))
        db.session.expunge_all()
        return items


def test_an_imported_official_sets_a_password_once_from_the_invitation(app, client):
    _import(app, ORGS)
    result = _import(app, USERS)
    assert result.counts["created"] == 2 and result.counts["invited"] == 1
    [mail] = invitations(app)
    assert mail.recipient == "a@tanlap.gov.vn" and "nguyenvana" in mail.payload["text"]
    path = re.search(r"https://khaosat\.example\.gov\.vn(/invitation/\S+)", mail.payload["text"]).group(1)
    assert client.post("/login", data={"username": "nguyenvana", "password": ""}).status_code != 302
    page = client.get(path)
    assert page.status_code == 200 and "nguyenvana" in page.get_data(as_text=True)
    mismatch = client.post(path, data={"password": "mat-khau-moi-1", "confirm": "mat-khau-khac"})
    assert mismatch.status_code == 422 and "Hai mật khẩu không khớp." in mismatch.get_data(as_text=True)
    done = client.post(path, data={"password": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"})
    assert done.status_code == 302 and done.location.endswith("/login")
    assert client.post("/login", data={"username": "nguyenvana", "password": "mat-khau-moi-1"}).status_code == 302
    # Used once: the link is dead, and the password stays.
    other = app.test_client()
    assert other.get(path).status_code == 404
    assert other.post(path, data={"password": "chiem-quyen-123", "confirm": "chiem-quyen-123"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "nguyenvana")).check_password("mat-khau-moi-1")
    # Importing the same file again invites nobody.
    assert _import(app, USERS).counts["invited"] == 0 and len(invitations(app)) == 1


def test_an_invitation_expires(app, client):
    _import(app, ORGS)
    _import(app, USERS)
    path = re.search(r"(/invitation/\S+)", invitations(app)[0].payload["text"]).group(1)
    with time_machine.travel(now_utc() + timedelta(days=8), tick=False):
        assert client.get(path).status_code == 404
    assert client.get(path[:-3] + "xyz").status_code == 404  # a forged signature


def test_no_invitation_where_single_sign_on_is_the_way_in(make_app):
    app = make_app(OIDC_ISSUER="https://dangnhap.example.gov.vn", OIDC_CLIENT_ID="khaosat",
                   OIDC_CLIENT_SECRET="bi-mat")
    _import(app, ORGS)
    result = _import(app, USERS)
    assert result.counts["created"] == 2 and result.counts["invited"] == 0 and invitations(app) == []
