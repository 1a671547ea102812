"""API keys: how other systems call the JSON API, and the one rule that checks them.

A key is presented in the ``X-API-Key`` header. Each key belongs to an organisation and serves
one purpose (:data:`SCOPES`): the holder acts only inside that organisation's subtree, and only
on the endpoints of its purpose. A key is ``sak_<prefix>_<secret>``: the prefix finds the row,
and the SHA-256 digest of the whole key is compared with the stored one in constant time. The
key itself is never stored, and is shown once, when it is created (workspace or
``flask api-keys create``); creation and revocation are audited.

``DOSSIER_API_KEYS`` (settings) still holds installation-wide keys for the ``dossiers`` purpose,
as SHA-256 digests or plain keys, compared in constant time with every entry.

:func:`api_key_required` is the one decorator of every keyed endpoint: CSRF-exempt (the key is
the credential, no cookie is involved), a rate limit per key, and requests with a wrong key
also counted per client address, across every keyed endpoint, so that guessing is throttled
without a right key ever being held up by a neighbour's wrong ones.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit
from ..clock import now_utc
from ..extensions import csrf, db, limiter
from ..models import API_KEY_SCOPES, ApiKey, Organisation, User

HEADER = "X-API-Key"
KEY_PREFIX = "sak"

SCOPES = {
    "dossiers": _l("Phần mềm một cửa: gửi hồ sơ, xin mã QR biên nhận"),
    "reports": _l("Đọc kết quả báo cáo"),
}
assert tuple(SCOPES) == API_KEY_SCOPES
# The setting that limits the calls of one key, per endpoint, for each purpose.
RATE_LIMIT_SETTING = {"dossiers": "DOSSIER_API_RATE_LIMIT", "reports": "REPORT_API_RATE_LIMIT"}
# OpenAPI security scheme of each purpose (the same header; the name says what the key is for).
SECURITY_SCHEME = {"dossiers": "DossierApiKey", "reports": "ReportApiKey"}
OPENAPI_COMPONENTS = {
    "securitySchemes": {
        "DossierApiKey": {"type": "apiKey", "in": "header", "name": HEADER},
        "ReportApiKey": {"type": "apiKey", "in": "header", "name": HEADER,
                         "description": "A key of purpose 'reports', scoped to an organisation's subtree"},
    },
    "schemas": {"ApiError": {"type": "object", "required": ["error", "message"],
                             "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}},
}


@dataclass(frozen=True)
class Caller:
    """Who presented a valid key: its organisation (None for an installation-wide key from
    ``DOSSIER_API_KEYS``) and its purpose."""

    scope: str
    organisation: Organisation | None
    key_id: int | None = None

    def may_see(self, org: Organisation | None) -> bool:
        """True when ``org`` lies in the key's subtree (every organisation for an installation key)."""
        return org is not None and (self.organisation is None or org.is_within(self.organisation))


class ApiKeyError(ValueError):
    """A key cannot be created as asked; the message is for the user."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Creating and revoking


def create_key(org: Organisation, scope: str, name: str, by: User | None = None) -> tuple[ApiKey, str]:
    """A new key of ``org`` for ``scope``: (the row, the key to show once). Audited; not committed.
    Who may do it is the caller's check (the organisation inside the user's scope, a write role)."""

    name = (name or "").strip()
    if scope not in SCOPES:
        raise ApiKeyError(_("Mục đích của khóa không hợp lệ."))
    if not name:
        raise ApiKeyError(_("Hãy đặt tên cho khóa (hệ thống nào dùng nó)."))
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(organisation=org, scope=scope, name=name[:255], prefix=prefix, key_hash=digest(key), created_by=by)
    db.session.add(row)
    audit.record("api_key.create", row)
    return row, key


def revoke_key(row: ApiKey) -> bool:
    """Revoke ``row`` at once; False when it already was. Audited; not committed."""

    if row.revoked_at is not None:
        return False
    before = audit.snapshot(row)
    row.revoked_at = now_utc()
    audit.record("api_key.revoke", row, before)
    return True


# ---------------------------------------------------------------------------------------------
# Checking


def _configured_digests() -> list[str]:
    digests = []
    for entry in str(current_app.config["DOSSIER_API_KEYS"] or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        is_digest = len(entry) == 64 and all(c in "0123456789abcdefABCDEF" for c in entry)
        digests.append(entry.lower() if is_digest else digest(entry))
    return digests


def _lookup(presented: str | None) -> Caller | None:
    if not presented:
        return None
    presented_digest = digest(presented)
    parts = presented.split("_", 2)  # the secret part may itself hold "_"
    if len(parts) == 3 and parts[0] == KEY_PREFIX:
        row = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == parts[1][:16]))
        # The prefix is public; what proves the key is its digest, compared in constant time.
        if row is not None and hmac.compare_digest(presented_digest, row.key_hash) and row.active \
                and row.organisation.active:
            return Caller(row.scope, row.organisation, row.id)
        return None
    ok = False
    for expected in _configured_digests():
        ok |= hmac.compare_digest(presented_digest, expected)  # no early exit: same time for every entry
    return Caller("dossiers", None) if ok else None


def authenticate(presented: str | None) -> Caller | None:
    """The caller a presented key stands for, or None; computed once per request."""
    cache = g.setdefault("_api_callers", {})
    if presented not in cache:
        cache[presented] = _lookup(presented)
    return cache[presented]


def current_caller() -> Caller:
    """The caller of the current keyed request (inside a view wrapped by :func:`api_key_required`)."""
    return g.api_caller


def _presented() -> str | None:
    return request.headers.get(HEADER)


def _key_bucket() -> str:
    return "api:" + digest(_presented() or "")[:16]


def api_error(status: int, error: str, message: str):
    """The JSON error of every keyed endpoint: a code for programs, a message for people."""
    response = jsonify(error=error, message=message)
    response.status_code = status
    return response


def api_key_required(scope: str):
    """Wrap a view of the JSON API: a valid key of purpose ``scope`` (else 401, or 403 for a valid
    key of another purpose), rate limited per key; wrong keys are also counted per address."""
    if scope not in SCOPES:
        raise ValueError(scope)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            caller = authenticate(_presented())
            if caller is None:
                response = api_error(401, "unauthorized",
                                     _("Thiếu khóa API hoặc khóa không hợp lệ (tiêu đề %(h)s).", h=HEADER))
                response.headers["WWW-Authenticate"] = f'ApiKey header="{HEADER}"'
                return response
            if caller.scope != scope:
                return api_error(403, "forbidden", _("Khóa API này không dùng được cho chức năng này."))
            g.api_caller = caller
            return view(*args, **kwargs)

        limited = limiter.limit(lambda: current_app.config[RATE_LIMIT_SETTING[scope]], key_func=_key_bucket,
                                scope=f"api-key-{scope}")(wrapped)
        # One count per address for every keyed endpoint: guesses spread over endpoints add up.
        limited = limiter.shared_limit(lambda: current_app.config["API_BAD_KEY_RATE_LIMIT"], scope="api-bad-key",
                                       exempt_when=lambda: authenticate(_presented()) is not None)(limited)
        limited.api_key_scope = scope  # read by the route-enumeration tests
        return csrf.exempt(limited)

    return decorator


__all__ = ["SCOPES", "Caller", "ApiKeyError", "api_key_required", "api_error", "authenticate", "create_key",
           "current_caller", "revoke_key"]
