"""Error pages."""
from __future__ import annotations


def test_unknown_page_is_vietnamese_404(client):
    r = client.get("/khong-co-trang-nay")
    assert r.status_code == 404
    assert "Không tìm thấy trang" in r.get_data(as_text=True)
