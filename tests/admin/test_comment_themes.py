"""The comments page filters by theme and counts comments per theme (issue 18)."""
from __future__ import annotations

from surveyapp.themes.store import theme_pending


def test_comments_filtered_and_counted_by_theme(world, auth):
    assert theme_pending() == 2  # the world's two comments, classified by the worker's job
    client = auth.client_for(world.admin)
    page = client.get("/admin/reports/comments?state=all").get_data(as_text=True)
    assert "Cần thêm ghế ngồi chờ." in page and "Nhà vệ sinh xã Bắc Sơn" in page
    assert "Số góp ý theo chủ đề" in page
    only = client.get("/admin/reports/comments?state=all&theme=facilities").get_data(as_text=True)
    assert "Cần thêm ghế ngồi chờ." in only and "Nhà vệ sinh xã Bắc Sơn" in only
    none = client.get("/admin/reports/comments?state=all&theme=fees").get_data(as_text=True)
    assert "Cần thêm ghế ngồi chờ." not in none and "Không có góp ý nào." in none
    bad = client.get("/admin/reports/comments?theme=%3Cscript%3E")
    assert bad.status_code == 400 and "Chủ đề không hợp lệ." in bad.get_data(as_text=True)


def test_a_manager_counts_only_their_own_subtree(world, auth):
    theme_pending()
    page = auth.client_for(world.a.manager).get("/admin/reports/comments?state=all&theme=facilities").get_data(as_text=True)
    assert "Cần thêm ghế ngồi chờ." in page and "Nhà vệ sinh xã Bắc Sơn" not in page
