"""``POST /api/v1/dossier-tokens``: the one-stop software asks for receipt QR links.

Authentication: header ``X-API-Key``. ``DOSSIER_API_KEYS`` is a comma-separated list; an
entry of 64 hex digits is the SHA-256 digest of a key (recommended: the configuration then
holds no usable secret), any other entry is a plain key. The presented key is hashed and
compared with every entry in constant time. The endpoint is CSRF-exempt (no cookies, the key
is the credential) and rate limited per key; requests with a wrong key also per address.
"""
from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from flask import current_app, jsonify, request

from .. import openapi
from ..extensions import csrf, db, limiter
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
    "securitySchemes": {"DossierApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
    "schemas": {"CitizenApiError": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}},
}
openapi.register(OPENAPI_PATHS, OPENAPI_COMPONENTS)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _configured_digests() -> list[str]:
    digests = []
    for entry in str(current_app.config["DOSSIER_API_KEYS"] or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        is_digest = len(entry) == 64 and all(c in "0123456789abcdefABCDEF" for c in entry)
        digests.append(entry.lower() if is_digest else _digest(entry))
    return digests


def key_is_valid(presented: str | None) -> bool:
    if not presented:
        return False
    digest = _digest(presented)
    ok = False
    for expected in _configured_digests():
        ok |= hmac.compare_digest(digest, expected)  # no early exit: same time for every entry
    return ok


def _api_key_bucket() -> str:
    return "api:" + _digest(request.headers.get("X-API-Key", ""))[:16]


def _error(status: int, error: str, message: str):
    body = jsonify(error=error, message=message)
    body.status_code = status
    return body


@bp.route("/api/v1/dossier-tokens", methods=["POST"])
@csrf.exempt
@limiter.limit(lambda: current_app.config["DOSSIER_API_RATE_LIMIT"], key_func=_api_key_bucket, scope="dossier-api")
# A wrong key gets a bucket of its own above, so wrong keys are also counted per address (a
# right key never is: a neighbour's guessing must not hold up the one-stop software).
@limiter.limit(lambda: current_app.config["DOSSIER_API_BAD_KEY_RATE_LIMIT"], scope="dossier-api-bad-key",
               exempt_when=lambda: key_is_valid(request.headers.get("X-API-Key")))
def dossier_tokens():
    """Issue receipt QR links for a list of dossiers at one service point."""
    if not key_is_valid(request.headers.get("X-API-Key")):
        response = _error(401, "unauthorized", "missing or invalid X-API-Key")
        response.headers["WWW-Authenticate"] = 'ApiKey header="X-API-Key"'
        return response
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
    if sp is None:
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
