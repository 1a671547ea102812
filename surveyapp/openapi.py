"""The OpenAPI 3.1 document of the JSON API (``/api/v1/openapi.json``), assembled from the
part each area registers: its paths and the components they refer to (``register``)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from .qr import base_url

bp = Blueprint("openapi", __name__)

_paths: dict[str, dict] = {}
_components: dict[str, dict] = {}


def register(paths: dict[str, dict], components: dict[str, dict] | None = None) -> None:
    """Add an area's paths and components. Two areas may not claim the same path or give the
    same component two meanings."""
    for path, item in paths.items():
        if _paths.get(path, item) != item:
            raise ValueError(f"OpenAPI path {path} registered twice")
        _paths[path] = item
    for section, entries in (components or {}).items():
        known = _components.setdefault(section, {})
        for name, value in entries.items():
            if known.get(name, value) != value:
                raise ValueError(f"OpenAPI component {section}/{name} registered twice")
            known[name] = value


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "surveyapp API", "version": "1.0.0",
                 "description": "JSON API of surveyapp: kiosk tablets and citizen surveys."},
        # PUBLIC_BASE_URL, else the request's host, which TRUSTED_HOSTS has checked.
        "servers": [{"url": base_url()}],
        "paths": dict(sorted(_paths.items())),
        "components": {section: dict(entries) for section, entries in sorted(_components.items())},
    }


@bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(document())


__all__ = ["bp", "register", "document"]
