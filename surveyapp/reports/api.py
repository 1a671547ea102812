"""``GET /api/v1/reports``: report results for other systems, read-only.

A key of purpose ``reports`` (:mod:`surveyapp.auth.apikeys`) reads its organisation's subtree
only: another unit is 404, as in the workspace. The body is the upward layout
(:mod:`.layout`, docs/REPORTING.md): the very dictionary ``report --format json`` prints, from
the one computation (:func:`.layout.upward_report`).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import openapi
from ..auth.apikeys import OPENAPI_COMPONENTS as KEY_COMPONENTS
from ..auth.apikeys import SECURITY_SCHEME, api_error, api_key_required, current_caller
from ..extensions import db
from ..models import Organisation
from .filters import FilterError, parse_filters
from .layout import LAYOUT_VERSION, report_json, schema, upward_report

bp = Blueprint("reports_api", __name__)


def _openapi_schemas() -> dict:
    """The shipped JSON Schema as OpenAPI components: its ``$defs`` become ``Report<Name>``."""
    doc = schema()

    def rewrite(node):
        if isinstance(node, dict):
            return {k: ("#/components/schemas/Report" + v.rsplit("/", 1)[1]
                        if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/") else rewrite(v))
                    for k, v in node.items() if k not in ("$schema", "$id", "$defs")}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    out = {"ReportResult": rewrite(doc)}
    out.update({"Report" + name: rewrite(d) for name, d in doc.get("$defs", {}).items()})
    return out


def _error_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}


_DATE = {"type": "string", "format": "date"}
OPENAPI_PATHS = {
    "/api/v1/reports": {
        "get": {
            "summary": "Report results of an organisation's subtree",
            "description": (
                "The indices, intervals, verdicts, targets, weighting and Decision 766 indicator of an "
                "organisation and its units for a period: the numbers of the dashboard, the filed report "
                f"and `flask report --format json` (layout {LAYOUT_VERSION}, docs/REPORTING.md). "
                "A key reads its organisation's subtree only."
            ),
            "operationId": "getReport",
            "tags": ["reports"],
            "security": [{SECURITY_SCHEME["reports"]: []}],
            "parameters": [
                {"name": "org", "in": "query", "description": "Organisation code (default: the key's organisation)",
                 "schema": {"type": "string", "maxLength": 32}},
                {"name": "from", "in": "query", "description": "First day, YYYY-MM-DD (default: twelve months back)",
                 "schema": _DATE},
                {"name": "to", "in": "query", "description": "Last day, YYYY-MM-DD (default: today)", "schema": _DATE},
                {"name": "questionnaire", "in": "query", "description": "Only this questionnaire's section (its id)",
                 "schema": {"type": "integer", "minimum": 1}},
                {"name": "sector", "in": "query", "schema": {"type": "string",
                                                             "enum": ["administrative", "health", "education"]}},
                {"name": "channel", "in": "query", "schema": {"type": "string", "enum": ["qr", "kiosk"]}},
                {"name": "survey", "in": "query", "description": "Only this survey's responses (its id)",
                 "schema": {"type": "integer", "minimum": 1}},
                {"name": "include_flagged", "in": "query", "description": "1: count flagged responses too",
                 "schema": {"type": "string", "enum": ["0", "1"]}},
                {"name": "lang", "in": "query", "description": "Language of labels and messages (default vi)",
                 "schema": {"type": "string", "enum": ["vi", "en"]}},
            ],
            "responses": {
                "200": {"description": "The report", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/ReportResult"}}}},
                "400": _error_response("A bad date or filter; the message says which"),
                "401": _error_response("Missing or wrong X-API-Key"),
                "403": _error_response("A key of another purpose"),
                "404": _error_response("No such organisation in the key's subtree"),
                "429": {"description": "Too many requests"},
            },
        }
    }
}
openapi.register(OPENAPI_PATHS, {"securitySchemes": KEY_COMPONENTS["securitySchemes"],
                                 "schemas": {**KEY_COMPONENTS["schemas"], **_openapi_schemas()}})


@bp.get("/api/v1/reports")
@api_key_required("reports")
def report():
    """The report of ``?org=`` (default: the key's organisation) for ``?from=``–``?to=``."""
    lang = "en" if request.args.get("lang") == "en" else "vi"
    caller = current_caller()
    with force_locale(lang):
        code = request.args.get("org")
        org = caller.organisation if not code else db.session.scalar(
            sa.select(Organisation).where(Organisation.code == code))
        if org is None or not caller.may_see(org):
            return api_error(404, "not_found", _("Không có đơn vị mã “%(code)s” trong phạm vi của khóa API.",
                                                 code=code or ""))
        questionnaire = request.args.get("questionnaire")
        if questionnaire is not None and not (questionnaire.isascii() and questionnaire.isdigit()):
            return api_error(400, "bad_filter", _("Mã phiếu khảo sát (questionnaire) phải là một số."))
        try:
            f = parse_filters(request.args)
        except FilterError as exc:
            return api_error(400, "bad_filter", str(exc))
        data = report_json(upward_report(org, f, lang))
    if questionnaire is not None:
        data["sections"] = [s for s in data["sections"] if s["questionnaire_id"] == int(questionnaire)]
    return jsonify(data)
