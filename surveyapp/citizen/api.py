"""``POST /api/v1/dossier-tokens``: the one-stop software asks for receipt QR links.

Authentication: header ``X-API-Key``, a key of purpose ``dossiers`` (:mod:`surveyapp.auth.apikeys`:
hashed, constant time, rate limited, wrong keys throttled per address). A key scoped to an
organisation issues tokens only for the service points of its subtree.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify, request

from .. import openapi
from ..auth.apikeys import OPENAPI_COMPONENTS as KEY_COMPONENTS
from ..auth.apikeys import api_error as _error
from ..auth.apikeys import api_key_required, current_caller
from ..extensions import db
from ..models import ServicePoint
from ..qr import issue_dossier_token, public_url
from . import bp

DOSSIER_MAX_LENGTH = 64

OPENAPI_PATHS = {
    "/api/v1/dossier-tokens": {
        "post": {
            "summary": "Issue single-use receipt QR links for dossiers",
            "description": (
                "Returns, for each dossier number, the survey URL to print as a QR code on the receipt. "
                "The token carries a keyed hash of the dossier number, never the number; a dossier can be "
                "rated once. Tokens expire after DOSSIER_TOKEN_MAX_AGE_DAYS days (default 90)."
            ),
            "operationId": "issueDossierTokens",
            "tags": ["citizen"],
            "security": [{"DossierApiKey": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["service_point", "dossiers"],
                    "additionalProperties": False,
                    "properties": {
                        "service_point": {"type": "string", "minLength": 1, "maxLength": 16,
                                          "description": "Public code of the service point"},
                        "dossiers": {"type": "array", "minItems": 1, "maxItems": 500, "items": {"oneOf": [
                            {"type": "string", "minLength": 1, "maxLength": DOSSIER_MAX_LENGTH},
                            {"type": "object", "required": ["code"], "additionalProperties": False,
                             "description": "A dossier with its procedure (MaTTHC) and field (MaLinhVuc), "
                                            "carried by the token so ratings can be reported per procedure and field",
                             "properties": {"code": {"type": "string", "minLength": 1, "maxLength": DOSSIER_MAX_LENGTH},
                                            "procedure": {"type": "string", "maxLength": 64},
                                            "field": {"type": "string", "maxLength": 64}}}]}},
                    },
                }}},
            },
            "responses": {
                "200": {"description": "One URL per dossier, in the order given",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["tokens"],
                            "properties": {"tokens": {"type": "array", "items": {
                                "type": "object", "required": ["dossier", "url"],
                                "properties": {"dossier": {"type": "string"},
                                               "url": {"type": "string", "format": "uri"}}}}}}}}},
                "400": {"description": "Malformed body", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CitizenApiError"}}}},
                "401": {"description": "Missing or wrong X-API-Key", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CitizenApiError"}}}},
                "404": {"description": "Unknown service point", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CitizenApiError"}}}},
                "410": {"description": "Service point deactivated", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CitizenApiError"}}}},
                "429": {"description": "Too many requests"},
            },
        }
    }
}
# Components the fragment refers to; merge into the document's "components".
OPENAPI_COMPONENTS = {
    "securitySchemes": KEY_COMPONENTS["securitySchemes"],
    "schemas": {"CitizenApiError": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}},
}
openapi.register(OPENAPI_PATHS, OPENAPI_COMPONENTS)


@bp.route("/api/v1/dossier-tokens", methods=["POST"])
@api_key_required("dossiers")
def dossier_tokens():
    """Issue receipt QR links for a list of dossiers at one service point."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) - {"service_point", "dossiers"}:
        return _error(400, "bad_request", "expected a JSON object with service_point and dossiers")
    code, dossiers = body.get("service_point"), body.get("dossiers")
    limit = int(current_app.config["DOSSIER_API_MAX_ITEMS"])
    if not isinstance(code, str) or not code:
        return _error(400, "bad_request", "service_point must be a service point code")
    if not isinstance(dossiers, list) or not dossiers:
        return _error(400, "bad_request", "dossiers must be a non-empty list")
    if len(dossiers) > limit:
        return _error(400, "too_many_dossiers", f"at most {limit} dossiers per request")
    items = [_dossier_item(d) for d in dossiers]
    if None in items:
        return _error(400, "bad_dossier", f"each dossier must be a non-empty string of at most {DOSSIER_MAX_LENGTH} "
                                          "characters, or an object {code, procedure, field}")
    sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.code == code))
    if sp is None or not current_caller().may_see(sp.organisation):
        return _error(404, "unknown_service_point", "no service point with this code")
    if not sp.active:
        return _error(410, "inactive_service_point", "this service point is deactivated")
    return jsonify(tokens=[{"dossier": code, "url": public_url(sp, issue_dossier_token(sp, code, procedure=proc, field=fld))}
                           for code, proc, fld in items])


def _dossier_item(d) -> tuple[str, str | None, str | None] | None:
    """(code, procedure, field) of a plain dossier number or an object; None when malformed."""
    if isinstance(d, str):
        d = {"code": d}
    if not isinstance(d, dict) or set(d) - {"code", "procedure", "field"}:
        return None
    code, proc, fld = d.get("code"), d.get("procedure"), d.get("field")
    if not isinstance(code, str) or not code.strip() or len(code) > DOSSIER_MAX_LENGTH:
        return None
    for extra in (proc, fld):
        if extra is not None and (not isinstance(extra, str) or len(extra.encode()) > 64):
            return None
    return code, proc or None, fld or None
