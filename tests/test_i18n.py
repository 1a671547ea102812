"""Vietnamese first, English from the catalogue, nothing left untranslated."""
from __future__ import annotations

from babel.messages.mofile import read_mo

from surveyapp.i18n import TRANSLATIONS, extracted_msgids, merged_catalogue


def test_every_user_facing_string_has_an_english_translation():
    catalogue = merged_catalogue()
    missing = sorted(m for m in extracted_msgids() if m not in catalogue)
    assert not missing, f"{len(missing)} strings without English: {missing[:20]}"


def test_compiled_catalogue_is_up_to_date():
    """The shipped .mo equals what the parts compile to (run `make translations`)."""
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        shipped = {m.id: m.string for m in read_mo(fh) if m.id}
    expected = {m.id: m.string for m in merged_catalogue() if m.id}
    assert shipped == expected


def test_language_chosen_by_switch_cookie_and_browser(client):
    assert "Không tìm thấy trang" in client.get("/x").get_data(as_text=True)
    assert "Page not found" in client.get("/x", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    r = client.get("/x?lang=en")
    assert "Page not found" in r.get_data(as_text=True)
    assert "lang=en" in r.headers["Set-Cookie"]
    # The cookie now wins over a Vietnamese browser until switched back.
    assert "Page not found" in client.get("/x", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "Không tìm thấy trang" in client.get("/x?lang=vi").get_data(as_text=True)
