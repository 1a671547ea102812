"""Security set up in one place: proxy headers, response headers, and the input guards that
run before any view (oversized bodies, integers no column can hold, NUL characters, JSON nested
deeper than any API body), so that hostile input is refused the same way everywhere instead of
crashing whichever view meets it. Host headers are checked by Flask itself against
``TRUSTED_HOSTS`` (config.py)."""
from __future__ import annotations

import re

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

# No inline script anywhere: every script is a static file of ours.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'; worker-src 'self'; manifest-src 'self'"
)

SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(self), geolocation=(), microphone=()"),
)

# The one exception: the public card (surveyapp.public) is made to be framed by any site, e.g. a
# province's portal; it has no form and no session, so being framed cannot be abused.
EMBEDDABLE_ENDPOINTS = frozenset({"public.card"})
EMBEDDABLE_HEADERS = tuple(
    (name, value.replace("frame-ancestors 'none'", "frame-ancestors *")) for name, value in SECURITY_HEADERS
    if name != "X-Frame-Options"
)


# Larger than any id, count or code the app uses (64-bit signed), and larger than the drivers
# accept: SQLite raises OverflowError on such a parameter, which would be a 500.
MAX_INT = 2**63 - 1
_HUGE_INT = re.compile(r"^\s*[+-]?\d{19,}\s*$")


def refuse_huge_integers() -> None:
    """A number in a URL or query string too big for any column is a probe, not a request:
    404 for a path (no such object can exist), 400 for a query parameter. Done once here so
    that no view has to remember it for each ``<int:...>`` and ``type=int``."""
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and abs(value) > MAX_INT:
            abort(404)
    for value in request.args.values():
        if _HUGE_INT.match(value) and abs(int(value)) > MAX_INT:
            abort(400)


def refuse_oversized_body() -> None:
    """413 on the declared length alone, before authentication, parsing or reading a byte:
    a client cannot make a worker read (or a kiosk token check run for) a huge upload.
    Werkzeug enforces the same limit again while reading bodies sent without a length."""
    limit = request.max_content_length
    if limit is not None and request.content_length is not None and request.content_length > limit:
        abort(413)


# Deeper than any body of the JSON API (a kiosk batch is 3 levels), far below what would
# exhaust Python's stack in the parser or in any code walking the parsed value.
MAX_JSON_DEPTH = 32


def _too_deep(value, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels (iteratively)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, parsing request bodies with a depth limit: every ``request.get_json()``
    sees a too deeply nested body as malformed (a ValueError, so 400, or None when silent)
    instead of a RecursionError (a 500) in the parser or in whatever walks the value later."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _too_deep(value, MAX_JSON_DEPTH):
            raise ValueError("JSON nested too deeply")
        return value


def _has_nul(value) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def refuse_nul_bytes() -> None:
    """400 for a NUL character anywhere in the path, query, form fields or JSON strings.

    No person types one and no kiosk sends one, and PostgreSQL refuses them in text (a
    driver error, i.e. a 500, in whichever view met it first). Uploaded files are not
    looked at: binary content may contain NUL legitimately."""
    if "\x00" in request.path or any(_has_nul(v) for v in request.args.values()):
        abort(400)
    if request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if any(_has_nul(k) or _has_nul(v) for k, v in request.form.items(multi=True)):
                abort(400)
        elif request.is_json and _has_nul(request.get_json(silent=True)):
            abort(400)


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    cfg = app.config
    if any(cfg[f"PROXY_FIX_X_{h}"] for h in ("FOR", "PROTO", "HOST", "PREFIX")):
        # Trust exactly as many proxies as configured; trusting more lets clients spoof addresses.
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=int(cfg["PROXY_FIX_X_FOR"]),
            x_proto=int(cfg["PROXY_FIX_X_PROTO"]),
            x_host=int(cfg["PROXY_FIX_X_HOST"]),
            x_prefix=int(cfg["PROXY_FIX_X_PREFIX"]),
        )

    app.before_request(refuse_oversized_body)
    app.before_request(refuse_huge_integers)
    app.before_request(refuse_nul_bytes)

    @app.after_request
    def security_headers(response):
        # Unless the view set its own: one pass over the headers instead of one per header.
        h = response.headers
        present = {name.lower() for name, _ in h.items()}
        for name, value in EMBEDDABLE_HEADERS if request.endpoint in EMBEDDABLE_ENDPOINTS else SECURITY_HEADERS:
            if name.lower() not in present:
                h.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            h.add("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
