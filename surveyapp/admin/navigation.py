"""The frame of every workspace page: the navigation, the language switch and the user's rights
(templates/admin/layout.html)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.forms import LogoutForm
from ..auth.scope import READ_ROLES, WRITE_ROLES, can_write, is_installation_admin
from . import bp
from .helpers import N_

# (endpoint, label, roles): the workspace navigation; roles None: the installation
# administrator only. Links to views that do not exist (yet) are left out.
NAV = (
    ("admin.dashboard", N_("Tổng quan"), READ_ROLES),
    ("admin.organisations", N_("Đơn vị"), READ_ROLES),
    ("admin.service_points", N_("Điểm phục vụ"), READ_ROLES),
    ("admin.questionnaires", N_("Phiếu khảo sát"), READ_ROLES),
    ("admin.surveys", N_("Đợt khảo sát"), READ_ROLES),
    ("admin.comments", N_("Góp ý"), READ_ROLES),
    ("admin.cases", N_("Phản ánh"), READ_ROLES),
    ("admin.alerts", N_("Cảnh báo"), READ_ROLES),
    ("admin.deliveries", N_("Thư và webhook đã gửi"), READ_ROLES),
    ("admin.kiosks", N_("Máy đánh giá"), READ_ROLES),
    ("admin.users", N_("Người dùng"), WRITE_ROLES),
    ("admin.targets", N_("Chỉ tiêu"), READ_ROLES),
    ("admin.imports_index", N_("Nhập dữ liệu"), WRITE_ROLES),
    ("admin.dossier_import", N_("Hồ sơ TTHC"), WRITE_ROLES),
    ("admin.api_keys", N_("Khóa API"), WRITE_ROLES),
    ("admin.rankings_page", N_("Xếp loại"), READ_ROLES),
    ("admin.filed_report", N_("Báo cáo Nghị định 30"), READ_ROLES),
    ("admin.report_subscriptions", N_("Báo cáo định kỳ"), READ_ROLES),
    ("admin.privacy", N_("Dữ liệu cá nhân"), WRITE_ROLES),
    ("admin.holidays", N_("Ngày nghỉ"), None),
    ("admin.audit_log", N_("Nhật ký thay đổi"), None),
)


@bp.context_processor
def workspace_context():
    """Navigation, the language switch and the user's rights, for templates/admin/layout.html."""
    nav = []
    if current_user.is_authenticated:
        for endpoint, label, roles in NAV:
            allowed = is_installation_admin() if roles is None else current_user.role in roles
            if endpoint in current_app.view_functions and allowed:
                nav.append((endpoint, _(label), request.endpoint == endpoint))

    def lang_url(code: str) -> str:
        """This page in another language, keeping its filters."""
        args = request.args.to_dict()
        args["lang"] = code
        return request.path + "?" + urlencode(args)

    # The sign-out button's CSRF token; only on workspace pages, so that citizens' pages set no cookie.
    return {"workspace_nav": nav, "lang_url": lang_url, "can_write": can_write(),
            "installation_admin": is_installation_admin(), "logout_form": LogoutForm()}
