"""The consent text next to the contact field: what the details are for, how long they are kept
(the setting), how to withdraw; in Vietnamese and in English."""
from __future__ import annotations

from surveyapp.seed import seed_standard
from tests.citizen.conftest import build_place


def test_consent_text_quotes_the_retention_setting(app, client):
    with app.app_context():
        code = build_place(seed_standard()).counter.code
    app.config["RETENTION_CONTACT_DAYS"] = 45
    page = client.get(f"/s/{code}").get_data(as_text=True)
    assert 'id="consent-text"' in page
    assert "được lưu tối đa 45 ngày" in page and "rút lại sự đồng ý" in page
    en = client.get(f"/s/{code}?lang=en").get_data(as_text=True)
    assert "kept for at most 45 days" in en and "withdraw your consent" in en
