"""Views of the kiosk area: the rating screen, the enrolment page, the service worker and the
web manifest.

The pages carry no per-device or per-language state: the device token lives in the
browser's localStorage, and both languages' labels are rendered into the page, so the one
copy the service worker caches serves any tablet in either language with no network.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app, jsonify, render_template, send_from_directory, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from . import bp

APP_VERSION = "1.0.0"
STATIC_FILES = ("kiosk/kiosk.css", "kiosk/kiosk.js", "kiosk/enroll.js", "kiosk/icon.svg", "kiosk/sw.js", "css/app.css")


def kiosk_strings() -> dict:
    """Every label of the kiosk screen, in the current locale."""
    return {
        "question": _("Ông/Bà có hài lòng với sự phục vụ hôm nay không?"),
        "v4": _("Rất hài lòng"),
        "v3": _("Hài lòng"),
        "v2": _("Chưa hài lòng"),
        "v1": _("Không hài lòng"),
        "reason_question": _("Ông/Bà chưa hài lòng về điều gì?"),
        "waiting_time": _("Thời gian chờ đợi"),
        "attitude": _("Thái độ phục vụ"),
        "procedure": _("Thủ tục"),
        "facilities": _("Cơ sở vật chất"),
        "other": _("Lý do khác"),
        "skip": _("Bỏ qua"),
        "thanks": _("Cảm ơn Ông/Bà đã đánh giá!"),
        "thanks_sub": _("Ý kiến của Ông/Bà giúp chúng tôi phục vụ tốt hơn."),
        # Autonyms, not translations: each language is offered in its own name.
        "switch_lang": "Tiếng Việt" if str(get_locale()) == "en" else "English",
        "disabled_title": _("Thiết bị đã bị vô hiệu hóa"),
        "disabled_text": _("Máy tính bảng này không còn được dùng để đánh giá. Vui lòng liên hệ cán bộ quản lý."),
        "unavailable": _("Hiện chưa có đợt khảo sát nào mở tại quầy này. Đánh giá sẽ được lưu và gửi khi có đợt khảo sát."),
        "not_enrolled": _("Máy tính bảng này chưa được đăng ký."),
        "enroll_link": _("Đăng ký thiết bị"),
        "queued": _("Đang chờ gửi: %(n)s", n="{n}"),
        "offline": _("Không có mạng – đánh giá vẫn được lưu trên máy"),
    }


@lru_cache(maxsize=1)
def _asset_digest(static_folder: str) -> str:
    """Changes whenever a kiosk asset changes, so the service worker replaces its cache."""
    digest = hashlib.sha256(APP_VERSION.encode())
    for name in STATIC_FILES:
        digest.update((Path(static_folder) / name).read_bytes())
    return digest.hexdigest()[:12]


def cache_version() -> str:
    return _asset_digest(current_app.static_folder)


def _both_languages() -> dict:
    strings = {}
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            strings[lang] = kiosk_strings()
    return strings


@bp.get("/kiosk/")
def kiosk():
    return _no_store_html(render_template("kiosk/kiosk.html", strings=_both_languages(), app_version=APP_VERSION,
                                          cache_version=cache_version()))


@bp.get("/kiosk/enroll")
def enroll():
    return _no_store_html(render_template("kiosk/enroll.html", cache_version=cache_version()))


def _no_store_html(html: str):
    # The service worker keeps the offline copy; HTTP caches must not keep a stale one.
    return html, 200, {"Cache-Control": "no-cache"}


@bp.get("/kiosk/sw.js")
def service_worker():
    """Served from /kiosk/ so that its scope covers the kiosk pages; the cache name carries the
    asset digest, so a new deployment replaces the cached page and assets."""
    response = send_from_directory(current_app.static_folder, "kiosk/sw.js", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/kiosk/manifest.webmanifest")
def manifest():
    with force_locale("vi"):
        name = _("Đánh giá sự hài lòng")
    response = jsonify(
        name=name,
        short_name="Kiosk",
        start_url=url_for("kiosk.kiosk"),
        scope=url_for("kiosk.kiosk"),
        display="fullscreen",
        orientation="any",
        background_color="#ffffff",
        theme_color="#0b5394",
        icons=[{"src": url_for("static", filename="kiosk/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    )
    response.mimetype = "application/manifest+json"
    return response
