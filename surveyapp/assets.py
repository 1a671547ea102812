"""Keeping the public pages small on a weak 3G link: versioned static URLs cached for a year,
and gzip for the citizen pages and the static CSS/JS (Flask compresses nothing itself).

Only the static files and the HTML of the areas in ``COMPRESSED_BLUEPRINTS`` (the citizen
pages, opened on phones) are compressed; other areas' responses (exports, streams) are left
untouched. Registered by the factory for the whole app (``init_app``).
"""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from flask import Flask, current_app, request, url_for

COMPRESSIBLE = ("text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml",
                "application/json")
MIN_SIZE = 500  # smaller bodies gain nothing from gzip
COMPRESSED_BLUEPRINTS = ("citizen",)
_versions: dict[tuple[str, float], str] = {}
_gzipped: dict[tuple[str, float], bytes] = {}


def static_version(filename: str) -> str:
    """A short content hash of a static file, recomputed when its mtime changes."""
    path = Path(current_app.static_folder) / filename
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return "0"
    key = (str(path), mtime)
    if key not in _versions:
        _versions[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return _versions[key]


def static_url(filename: str) -> str:
    return url_for("static", filename=filename, v=static_version(filename))


def _static_helpers():
    return {"static_url": static_url}


def _accepts_gzip() -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def _compress_and_cache(response):
    is_static = request.endpoint == "static"
    if is_static and request.args.get("v") and response.status_code in (200, 304):
        response.cache_control.public = True
        response.cache_control.max_age = int(current_app.config["STATIC_MAX_AGE"])
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    if not (is_static or request.blueprint in COMPRESSED_BLUEPRINTS):
        return response
    if (response.status_code != 200 or "Content-Encoding" in response.headers
            or response.mimetype not in COMPRESSIBLE or request.method == "HEAD"):
        return response
    response.vary.add("Accept-Encoding")
    if not _accepts_gzip():
        return response
    if is_static:
        path = Path(current_app.static_folder) / (request.view_args or {}).get("filename", "")
        try:
            key = (str(path), path.stat().st_mtime)
        except OSError:
            return response
        if key not in _gzipped:
            _gzipped[key] = gzip.compress(path.read_bytes(), 9)
        body = _gzipped[key]
        if response.get_etag()[0]:
            response.set_etag(response.get_etag()[0] + "-gz")
    else:
        data = response.get_data()
        if len(data) < MIN_SIZE:
            return response
        body = gzip.compress(data, 6)
    if is_static and hasattr(response.response, "close"):
        response.response.close()  # the file wrapper we replace
    response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(body))
    return response


def init_app(app: Flask) -> None:
    app.context_processor(_static_helpers)
    app.after_request(_compress_and_cache)
