"""``POST /api/v1/dossiers``: the one-stop software sends dossier records in batches.

A key of purpose ``dossiers`` (:mod:`surveyapp.auth.apikeys`, as ``/api/v1/dossier-tokens``); a
key scoped to an organisation stores records of its subtree's agencies only. A batch
is stored whole or not at all: any bad record gives 422 with every error (index, field,
message in Vietnamese). Re-sending a dossier updates it in place (by agency and MaHoSo).
"""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import force_locale

from .. import openapi
from ..auth.apikeys import OPENAPI_COMPONENTS as KEY_COMPONENTS
from ..auth.apikeys import api_error as _error
from ..auth.apikeys import api_key_required, current_caller
from ..extensions import db
from . import bp
from .records import FIELDS, Resolver, parse_batch, write

MAX_BATCH = 1000

_RECORD_SCHEMA = {
    "type": "object",
    "required": [k for k, (_, req) in FIELDS.items() if req],
    "additionalProperties": False,
    "properties": {
        **{k: {"type": "string", "maxLength": 64, "description": label} for k, (label, _) in FIELDS.items()},
        **{k: {"type": "string", "pattern": "^[0-9]{14}$",
               "description": f"{FIELDS[k][0]}: yyyyMMddHHmmss, Asia/Ho_Chi_Minh time"}
           for k in ("received", "due", "returned")},
        "channel": {"type": "string", "enum": ["online", "counter"], "description": "KenhNop"},
    },
}

OPENAPI_PATHS = {
    "/api/v1/dossiers": {
        "post": {
            "summary": "Send dossier records from the one-stop software",
            "description": (
                "Upserts up to 1000 dossiers by agency code and dossier code (MaHoSo): sending the same "
                "dossier again updates it, never duplicates it. The batch is stored whole or not at all."
            ),
            "operationId": "putDossiers",
            "tags": ["dossiers"],
            "security": [{"DossierApiKey": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["dossiers"], "additionalProperties": False,
                "properties": {"dossiers": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                                            "items": _RECORD_SCHEMA}}}}}},
            "responses": {
                "200": {"description": "Stored", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["created", "updated", "unchanged"],
                    "properties": {k: {"type": "integer"} for k in ("created", "updated", "unchanged")}}}}},
                "400": {"description": "Malformed body", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CitizenApiError"}}}},
                "401": {"description": "Missing or wrong X-API-Key", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CitizenApiError"}}}},
                "422": {"description": "Some records are invalid; nothing was stored",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DossierErrors"}}}},
                "429": {"description": "Too many requests"},
            },
        }
    }
}
OPENAPI_COMPONENTS = {
    "securitySchemes": KEY_COMPONENTS["securitySchemes"],
    "schemas": {"DossierErrors": {"type": "object", "required": ["error", "errors"], "properties": {
        "error": {"type": "string"}, "message": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["index", "field", "message"],
                                              "properties": {"index": {"type": "integer"},
                                                             "field": {"type": "string"},
                                                             "message": {"type": "string"}}}}}}},
}
openapi.register(OPENAPI_PATHS, OPENAPI_COMPONENTS)


@bp.route("/api/v1/dossiers", methods=["POST"])
@api_key_required("dossiers")
def put_dossiers():
    """Store a batch of dossier records, all or nothing."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"dossiers"} or not isinstance(body["dossiers"], list) \
            or not body["dossiers"]:
        return _error(400, "bad_request", "expected a JSON object with a non-empty list 'dossiers'")
    if len(body["dossiers"]) > MAX_BATCH:
        return _error(400, "too_many_dossiers", f"at most {MAX_BATCH} dossiers per request")
    # The messages are for the one-stop software's operators: Vietnamese, whatever the browser.
    with force_locale("vi"):
        rows, errors = parse_batch(body["dossiers"], Resolver(current_caller().organisation))
        if errors:
            response = jsonify(error="invalid_records", message="Có hồ sơ không hợp lệ; không hồ sơ nào được lưu.",
                               errors=[e.as_dict() for e in errors])
            response.status_code = 422
            return response
    counts = write(rows)
    db.session.commit()
    return jsonify(**counts)
