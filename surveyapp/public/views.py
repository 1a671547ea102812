"""The public views: the page, the embeddable card, the open data. Anyone may read them; nothing
here needs a session, a script or a cookie, and every answer is cacheable by browsers and proxies."""
from __future__ import annotations

import csv
import io
import json

from flask import abort, current_app, make_response, render_template, request
from flask_babel import force_locale

from ..reports.exports import inert
from . import bp
from .service import CSV_HEADER, build_page, page_cache, public_organisation


def _lang() -> str:
    """Only ``?lang=`` chooses (never a cookie or the browser's preferences): one URL, one page,
    so that shared caches may keep it."""
    return "en" if request.args.get("lang") == "en" else "vi"


def _serve(code: str, kind: str, mimetype: str):
    found = public_organisation(code)
    if found is None:
        abort(404)
    org, pub = found
    lang = _lang()

    def render():
        with force_locale(lang):
            page = build_page(org, pub, lang)
            if kind == "csv":
                out = io.StringIO()
                writer = csv.writer(out)
                writer.writerow(["# " + page.licence])
                writer.writerow(CSV_HEADER)
                for row in page.csv_rows():
                    writer.writerow([inert(v) for v in row])
                return "\ufeff" + out.getvalue()
            if kind == "json":
                return json.dumps(page.to_dict(), ensure_ascii=False, indent=1)
            return render_template(f"public/{kind}.html", page=page, lang=lang)

    cached = page_cache().get((kind, org.code, lang), render)
    response = make_response(cached.body)
    response.mimetype = mimetype
    if mimetype.startswith("text/"):
        response.charset = "utf-8"
    response.set_etag(cached.etag)
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["PUBLIC_CACHE_SECONDS"]
    response.headers["Content-Language"] = lang
    if kind == "csv":
        response.headers["Content-Disposition"] = f'attachment; filename="{org.code}.csv"'
    return response.make_conditional(request)


@bp.route("/<code>")
def page(code: str):
    return _serve(code, "page", "text/html")


@bp.route("/<code>/card")
def card(code: str):
    """A small card for another site's page to frame (surveyapp.security lets this one be framed)."""
    return _serve(code, "card", "text/html")


@bp.route("/<code>.csv")
def data_csv(code: str):
    return _serve(code, "csv", "text/csv")


@bp.route("/<code>.json")
def data_json(code: str):
    return _serve(code, "json", "application/json")
