"""Error pages in the user's language, JSON for the API, and 503 while the database is down."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, TimeoutError

from .extensions import db

# Seconds a client (kiosk, browser, load balancer) is asked to wait before retrying.
RETRY_AFTER_DB = "5"


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _render(status: int, title: str, message: str):
    """The themed error page; a bare page when even rendering fails (e.g. a template that
    needs the database while the database is down), so that the status code survives."""
    try:
        return render_template("error.html", title=title, message=message, status=status)
    except Exception:  # noqa: BLE001 - the status matters more than the styling here
        return (
            f'<!doctype html><html lang="vi"><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<h1>{escape(title)}</h1><p>{escape(message)}</p></html>"
        )


def _page(status: int, title: str, message: str, headers: dict | None = None):
    if _wants_json():
        response = jsonify(error=title, message=message)
    else:
        response = current_app.response_class(_render(status, title, message), mimetype="text/html")
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


def is_database_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the database cannot answer right now" (restart, network,
    pool exhausted, SQLite lock), as opposed to a bug such as a constraint violation."""
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, TimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def init_app(app: Flask) -> None:
    @app.errorhandler(400)
    def bad_request(e):
        return _page(400, _("Yêu cầu không hợp lệ"), _("Dữ liệu gửi lên không hợp lệ. Vui lòng thử lại."))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return _page(
            400,
            _("Phiên làm việc đã hết hạn"),
            _("Trang này đã mở quá lâu hoặc bị gửi lại. Vui lòng tải lại trang và thử lại."),
        )

    @app.errorhandler(403)
    def forbidden(e):
        return _page(403, _("Không có quyền truy cập"), _("Bạn không có quyền xem trang này."))

    @app.errorhandler(404)
    def not_found(e):
        return _page(404, _("Không tìm thấy trang"), _("Địa chỉ này không tồn tại. Vui lòng kiểm tra lại đường dẫn."))

    @app.errorhandler(405)
    def method_not_allowed(e):
        response = _page(405, _("Yêu cầu không hợp lệ"), _("Phương thức này không được hỗ trợ."))
        if getattr(e, "valid_methods", None):
            response.headers["Allow"] = ", ".join(e.valid_methods)
        return response

    @app.errorhandler(413)
    def too_large(e):
        return _page(413, _("Dữ liệu quá lớn"), _("Nội dung gửi lên vượt quá giới hạn cho phép."))

    @app.errorhandler(429)
    def too_many(e):
        return _page(
            429,
            _("Quá nhiều yêu cầu"),
            _("Bạn đã gửi quá nhiều lần trong thời gian ngắn. Vui lòng chờ một lát rồi thử lại."),
            {"Retry-After": str(getattr(e, "retry_after", None) or 60)},
        )

    @app.errorhandler(DBAPIError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(TimeoutError)
    def database_error(e):
        # Whatever the transaction did is gone: roll back so that the pool gets a clean
        # connection (or discards a dead one; pool_pre_ping replaces it on next checkout).
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be dead; the pool handles that
            app.logger.debug("rollback after database error failed", exc_info=True)
        if not is_database_unavailable(e):
            # A bug (constraint violation, bad SQL): a plain 500, never "retry later" forever.
            app.logger.error("database error", exc_info=e)
            return server_error(e)
        app.logger.warning("database unavailable: %s", e.__class__.__name__)
        return _page(
            503,
            _("Hệ thống tạm thời gián đoạn"),
            _("Hệ thống đang bận hoặc bảo trì. Câu trả lời của bạn chưa được lưu, vui lòng thử lại sau ít phút."),
            {"Retry-After": RETRY_AFTER_DB},
        )

    @app.errorhandler(500)
    def server_error(e):
        # A half-done transaction must not leak into whatever this session serves next.
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - already failing; the pool discards a broken connection
            app.logger.debug("rollback after server error failed", exc_info=True)
        return _page(500, _("Đã xảy ra lỗi"), _("Đã xảy ra lỗi không mong muốn. Vui lòng thử lại sau."))
