"""The kiosk JSON API (``/api/v1/kiosk/...``) and its part of the OpenAPI document.

Tablets authenticate with ``Authorization: Bearer <device token>``; there is no cookie, so
the endpoints are exempt from CSRF. Rate limits are keyed by the token's hash, not by the
address: several tablets of one office share an address, and one tablet coming back after a
week offline must be able to send its whole queue.
"""
from __future__ import annotations

import hashlib
from functools import wraps

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _

from .. import openapi
from ..extensions import csrf, db, limiter
from ..models import utcnow
from . import bp
from .devices import device_for_token, device_status, enrol, note_heartbeat
from .ratings import kiosk_survey, store_batch

APP_VERSION_MAX = 32
QUEUE_MAX = 10_000_000  # far beyond any tablet's storage; keeps the value inside the column


def _token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def device_key() -> str:
    """Rate-limit key: a hash of the bearer token (never the token itself)."""
    token = _token()
    return "kiosk:" + hashlib.sha256(token.encode()).hexdigest()[:32] if token else "kiosk:none"


def error(status: int, code: str, message: str, **extra):
    body = jsonify(error=code, message=message, **extra)
    body.status_code = status
    if status == 401:
        body.headers["WWW-Authenticate"] = 'Bearer realm="kiosk"'
    return body


def device_required(view):
    """Resolve the device from its token: 401 unknown, 403 revoked; record the contact."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        device = device_for_token(_token())
        if device is None:
            return error(401, "invalid_token", _("Thiết bị chưa được đăng ký hoặc mã thiết bị không đúng."))
        if device.revoked_at is not None:
            return error(403, "device_revoked", _("Thiết bị này đã bị vô hiệu hóa."))
        g.kiosk_device = device
        return view(device, *args, **kwargs)

    return wrapper


def json_body() -> dict | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _sp_name(sp, lang: str) -> str:
    return (sp.name_en or sp.name) if lang == "en" else sp.name


@bp.post("/api/v1/kiosk/enroll")
@csrf.exempt
@limiter.limit(lambda: current_app.config["KIOSK_ENROL_RATE_LIMIT"])
def api_enroll():
    data = json_body()
    if data is None or not isinstance(data.get("code"), str):
        return error(400, "invalid_request", _("Nội dung yêu cầu phải là JSON có trường \"code\"."))
    result = enrol(data["code"])
    if result is None:
        return error(400, "invalid_code", _("Mã đăng ký không đúng, đã hết hạn hoặc đã được sử dụng."))
    device, token = result
    # The configuration comes along so the tablet shows its place at once, even offline.
    return jsonify(token=token, device={"id": device.id, "name": device.name}, config=config_for(device)), 201


@bp.post("/api/v1/kiosk/ratings")
@csrf.exempt
@limiter.limit(lambda: current_app.config["KIOSK_RATE_LIMIT"], key_func=device_key)
@device_required
def api_ratings(device):
    data = json_body()
    if data is None or not isinstance(data.get("ratings"), list):
        return error(400, "invalid_request", _("Nội dung yêu cầu phải là JSON có danh sách \"ratings\"."))
    limit = current_app.config["KIOSK_BATCH_LIMIT"]
    if len(data["ratings"]) > limit:
        return error(413, "batch_too_large", _("Mỗi lần gửi tối đa %(limit)s đánh giá.", limit=limit), limit=limit)
    return jsonify(store_batch(device, data["ratings"]))


@bp.post("/api/v1/kiosk/heartbeat")
@csrf.exempt
@limiter.limit(lambda: current_app.config["KIOSK_RATE_LIMIT"], key_func=device_key)
@device_required
def api_heartbeat(device):
    data = json_body()
    if data is None:
        return error(400, "invalid_request", _("Nội dung yêu cầu phải là một đối tượng JSON."))
    queue = data.get("queue_length", 0)
    version = data.get("app_version")
    if isinstance(queue, bool) or not isinstance(queue, int) or not 0 <= queue <= QUEUE_MAX:
        return error(400, "invalid_queue_length", _("\"queue_length\" phải là số nguyên không âm."))
    if version is not None and (not isinstance(version, str) or len(version) > APP_VERSION_MAX):
        return error(400, "invalid_app_version", _("\"app_version\" phải là chuỗi ngắn."))
    note_heartbeat(device, queue, version)
    db.session.commit()
    return jsonify(config_for(device))


@bp.get("/api/v1/kiosk/config")
@limiter.limit(lambda: current_app.config["KIOSK_RATE_LIMIT"], key_func=device_key)
@device_required
def api_config(device):
    device.last_seen_at = utcnow()
    db.session.commit()
    return jsonify(config_for(device))


def config_for(device) -> dict:
    """What the kiosk screen needs: where it stands, and whether ratings can be stored there."""
    sp = device.service_point
    survey = kiosk_survey(sp.id)
    return {
        "status": device_status(device),
        "device": {"id": device.id, "name": device.name},
        "service_point": {"code": sp.code, "name": {"vi": _sp_name(sp, "vi"), "en": _sp_name(sp, "en")}},
        "survey_open": survey is not None,
        "server_time": utcnow().isoformat(timespec="seconds") + "Z",
        "batch_limit": current_app.config["KIOSK_BATCH_LIMIT"],
    }


# ---------------------------------------------------------------------------------------------
# OpenAPI 3.1


RATING_EXAMPLE = {
    "ratings": [
        {"id": "0b6f7a7e-3d0e-4a53-9a43-5d2c3a1f9e01", "value": 4, "created_at": "2026-11-20T08:15:00Z"},
        {"id": "6a1e2b3c-4d5e-4f60-8a71-92b3c4d5e6f7", "value": 1, "created_at": "2026-11-20T08:21:30+07:00",
         "reason": "waiting_time"},
    ]
}


def _error_schema() -> dict:
    return {"$ref": "#/components/schemas/Error"}


def _json(schema: dict, example=None) -> dict:
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"content": {"application/json": content}}


def kiosk_paths() -> dict:
    auth_errors = {
        "401": {"description": "Unknown or missing device token", **_json(_error_schema())},
        "403": {"description": "Device revoked (`error` = `device_revoked`)", **_json(_error_schema())},
        "429": {"description": "Rate limit", **_json(_error_schema())},
    }
    bearer = [{"deviceToken": []}]
    return {
        "/api/v1/kiosk/enroll": {
            "post": {
                "operationId": "kioskEnroll",
                "summary": "Exchange a one-time enrolment code for a device token",
                "requestBody": {"required": True, **_json({
                    "type": "object", "required": ["code"],
                    "properties": {"code": {"type": "string", "description": "Enrolment code; case, spaces and dashes ignored"}},
                }, {"code": "ABCDE-FGHJK"})},
                "responses": {
                    "201": {"description": "Enrolled", **_json({
                        "type": "object", "required": ["token"],
                        "properties": {"token": {"type": "string"}, "device": {"$ref": "#/components/schemas/Device"},
                                       "config": {"$ref": "#/components/schemas/KioskConfig"}},
                    })},
                    "400": {"description": "Malformed body, or a code that is wrong, expired or already used",
                            **_json(_error_schema())},
                    "429": {"description": "Rate limit", **_json(_error_schema())},
                },
            }
        },
        "/api/v1/kiosk/ratings": {
            "post": {
                "operationId": "kioskRatings",
                "summary": "Send a batch of queued ratings (idempotent per rating id)",
                "description": (
                    "Each rating is stored once per survey whatever the number of deliveries: a rating whose id "
                    "was already stored is answered `duplicate`. Ratings are checked one by one; a refused rating "
                    "does not stop the others. Tablet times more than 10 minutes ahead of the server or older than "
                    "the offline horizon (30 days) are stored with flag `clock_skew`; more ratings from one device "
                    "within a minute or an hour than a tablet can take are stored with flag `burst`; ratings "
                    "claimed before the device was enrolled, before it last reported an empty queue, or beyond "
                    "what it can have collected since, are stored with flag `implausible`. Flagged ratings "
                    "count in no index."
                ),
                "security": bearer,
                "requestBody": {"required": True, **_json({
                    "type": "object", "required": ["ratings"],
                    "properties": {"ratings": {"type": "array", "maxItems": 1000,
                                               "items": {"$ref": "#/components/schemas/Rating"}}},
                }, RATING_EXAMPLE)},
                "responses": {
                    "200": {"description": "Batch processed; see each rating's status", **_json({
                        "type": "object",
                        "properties": {
                            "results": {"type": "array", "items": {"$ref": "#/components/schemas/RatingResult"}},
                            "stored": {"type": "integer"}, "duplicates": {"type": "integer"}, "refused": {"type": "integer"},
                        },
                    })},
                    "400": {"description": "Body is not JSON or has no `ratings` list", **_json(_error_schema())},
                    "413": {"description": "More ratings than the batch limit", **_json(_error_schema())},
                    **auth_errors,
                },
            }
        },
        "/api/v1/kiosk/heartbeat": {
            "post": {
                "operationId": "kioskHeartbeat",
                "summary": "Tell the server the device is alive and how many ratings wait in its queue",
                "security": bearer,
                "requestBody": {"required": True, **_json({
                    "type": "object",
                    "properties": {"queue_length": {"type": "integer", "minimum": 0, "maximum": QUEUE_MAX},
                                   "app_version": {"type": "string", "maxLength": APP_VERSION_MAX}},
                }, {"queue_length": 3, "app_version": "1.0.0"})},
                "responses": {
                    "200": {"description": "Device configuration", **_json({"$ref": "#/components/schemas/KioskConfig"})},
                    "400": {"description": "Malformed body", **_json(_error_schema())},
                    **auth_errors,
                },
            }
        },
        "/api/v1/kiosk/config": {
            "get": {
                "operationId": "kioskConfig",
                "summary": "The device's service point and whether ratings can be stored there",
                "security": bearer,
                "responses": {
                    "200": {"description": "Device configuration", **_json({"$ref": "#/components/schemas/KioskConfig"})},
                    **auth_errors,
                },
            }
        },
    }


KIOSK_COMPONENTS = {
    "securitySchemes": {"deviceToken": {"type": "http", "scheme": "bearer",
                                        "description": "Device token from /api/v1/kiosk/enroll"}},
    "schemas": {
        "Error": {"type": "object", "required": ["error"],
                  "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
        "Device": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "Rating": {
            "type": "object", "required": ["id", "value", "created_at"],
            "properties": {
                "id": {"type": "string", "format": "uuid", "description": "Client UUID: the idempotency key"},
                "value": {"type": "integer", "minimum": 1, "maximum": 4,
                          "description": "4 Rất hài lòng, 3 Hài lòng, 2 Chưa hài lòng, 1 Không hài lòng"},
                "created_at": {"type": "string", "format": "date-time", "description": "The tablet's time of the tap"},
                "reason": {"type": "string", "enum": ["waiting_time", "attitude", "procedure", "facilities", "other"],
                           "description": "Only with values 1 and 2"},
                "language": {"type": "string", "enum": ["vi", "en"]},
            },
        },
        "RatingResult": {
            "type": "object", "required": ["status"],
            "properties": {
                "id": {"type": ["string", "null"]},
                "status": {"type": "string", "enum": ["stored", "duplicate", "refused"]},
                "reason": {"type": "string", "enum": ["invalid_rating", "invalid_id", "invalid_value",
                                                      "invalid_created_at", "invalid_reason", "no_open_survey"]},
                "flag": {"type": "string", "enum": ["burst", "clock_skew", "implausible"]},
            },
        },
        "KioskConfig": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["active", "revoked", "pending"]},
                "device": {"$ref": "#/components/schemas/Device"},
                "service_point": {"type": "object"},
                "survey_open": {"type": "boolean"},
                "server_time": {"type": "string", "format": "date-time"},
                "batch_limit": {"type": "integer"},
            },
        },
    },
}

openapi.register(kiosk_paths(), KIOSK_COMPONENTS)
