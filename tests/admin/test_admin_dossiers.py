"""The workspace's dossier import (dry run, then confirm) and ranking page, held to the subtree."""
from __future__ import annotations

import io
import re

import sqlalchemy as sa

from admin_helpers import audit_count, last_audit
from surveyapp.extensions import db
from surveyapp.models import Dossier

HEADER = "MaHoSo,MaCoQuan,NgayTiepNhan,NgayHenTra,NgayTra\n"


def upload(client, text: str):
    return client.post("/admin/dossiers/import", data={"up-file": (io.BytesIO(text.encode()), "hoso.csv")},
                       content_type="multipart/form-data")


def test_dossier_import_dry_run_then_confirm_inside_the_subtree(world, auth):
    a, b = world.a, world.b
    manager = auth.client_for(a.manager)
    page = manager.get("/admin/dossiers/import")
    assert page.status_code == 200 and "MaHoSo" in page.get_data(as_text=True)
    assert manager.get("/admin/dossiers/template.xlsx").status_code == 200
    # A dossier of the other commune is out of this manager's scope: listed, nothing stored.
    mixed = upload(manager, HEADER + f"HS-1,{a.org.code},20261001080000,,\nHS-2,{b.org.code},20261001080000,,\n")
    assert mixed.status_code == 422
    html = mixed.get_data(as_text=True)
    assert "ngoài phạm vi" in html or "trong phạm vi của bạn" in html
    assert "<td class=\"num\">3</td>" in html and "<td class=\"num\">2</td>" not in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dossier)) == 0
    # A good file: checked first (nothing stored), stored on confirmation, audited.
    before = audit_count()
    good = upload(manager, HEADER + f"HS-1,{a.org.code},20261001080000,20261005170000,20261004080000\n")
    assert good.status_code == 200 and "1 dòng hợp lệ" in good.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dossier)) == 0
    data = re.search(r'name="ok-payload" type="hidden" value="([^"]+)"', good.get_data(as_text=True)).group(1)
    done = manager.post("/admin/dossiers/import", data={"ok-filename": "hoso.csv", "ok-payload": data})
    assert done.status_code == 302
    assert [d.code for d in db.session.scalars(sa.select(Dossier))] == ["HS-1"]
    assert audit_count() == before + 1 and last_audit().user_id == a.manager.id
    # Confirming is checked again: a forged payload for the other commune stores nothing.
    import base64
    import zlib
    forged = base64.b64encode(zlib.compress((HEADER + f"HS-9,{b.org.code},20261001080000,,\n").encode())).decode()
    assert manager.post("/admin/dossiers/import", data={"ok-filename": "x.csv", "ok-payload": forged}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dossier)) == 1
    assert manager.post("/admin/dossiers/import", data={"ok-filename": "x.csv", "ok-payload": "!!"}).status_code == 422
    # Viewers do not import.
    assert auth.client_for(a.viewer).post("/admin/dossiers/import").status_code == 403


def test_ranking_page_lists_units_with_the_deciding_rule(world, auth):
    page = auth.client_for(world.province_admin).get(f"/admin/rankings?org={world.province.id}&year=2026&rules=khanh-hoa")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert world.a.org.name in html and world.b.org.name in html and "Quy tắc quyết định" in html
    # Another province's organisation is not shown to a commune's manager.
    assert auth.client_for(world.a.manager).get(f"/admin/rankings?org={world.province.id}&year=2026").status_code == 404
