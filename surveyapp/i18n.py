"""Languages: the locale of each request, and the translation catalogue.

The locale is chosen from ``?lang=`` (the visible switch, remembered in a cookie), then that
cookie, then the browser's preferences; Vietnamese by default.

Source strings are Vietnamese (the default language); the English catalogue
translates them. Each area of the app keeps its own part under
``translations/parts/<area>.po`` so that work on one area never conflicts with
another; ``flask translations compile`` merges the parts into
``translations/en/LC_MESSAGES/messages.po`` and compiles the ``.mo`` that is
shipped (and committed, so that a plain ``pip install .`` has it).
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import Flask, current_app, has_request_context, request

from .extensions import babel
from .paths import PACKAGE_DIR, REPO_DIR

LANG_COOKIE_MAX_AGE = 365 * 86400

TRANSLATIONS = PACKAGE_DIR / "translations"
PARTS = TRANSLATIONS / "parts"
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2), "N_": None}


def select_locale() -> str:
    """?lang= first (the visible switch), then the cookie it sets, then the browser; Vietnamese by default."""
    if not has_request_context():  # the CLI and the worker: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get("lang")):
        if candidate in languages:
            return candidate
    return request.accept_languages.best_match(languages, default=current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    """The language of the current request; "vi" outside a request (CLI)."""
    # Not cached on g: an app context can outlive one request (tests, CLI), the language must not.
    try:
        return select_locale()
    except RuntimeError:
        return "vi"


def percent(value: float | None, language: str = "vi", digits: int = 1) -> str:
    """A share as a percentage: "89,1%" in Vietnamese (decimal comma), "89.1%" in English, "–" when undefined."""
    if value is None:
        return "–"
    text = f"{value * 100:.{digits}f}"
    return (text.replace(".", ",") if language == "vi" else text) + "%"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def inject_locale():
        return {"lang": current_language(), "languages": app.config["LANGUAGES"]}

    @app.after_request
    def remember_language(response):
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"]:
            response.set_cookie("lang", chosen, max_age=LANG_COOKIE_MAX_AGE, samesite="Lax", httponly=True)
        return response


def merged_catalogue() -> Catalog:
    catalogue = Catalog(locale="en", domain="messages", project="surveyapp")
    for part in sorted(PARTS.glob("*.po")):
        with part.open("rb") as fh:
            for message in read_po(fh, locale="en"):
                if message.id and message.string:
                    catalogue.add(message.id, message.string)
    return catalogue


def compile_catalogue() -> Path:
    catalogue = merged_catalogue()
    out = TRANSLATIONS / "en" / "LC_MESSAGES"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "messages.po").open("wb") as fh:
        write_po(fh, catalogue, omit_header=False, sort_output=True, width=100)
    with (out / "messages.mo").open("wb") as fh:
        write_mo(fh, catalogue)
    return out / "messages.mo"


def extracted_msgids() -> set[str]:
    """Every translatable string in the Python code, templates and scripts."""
    method_map = [
        ("surveyapp/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("surveyapp/static/**.js", "javascript"),
    ]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ids: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(REPO_DIR), method_map=method_map, options_map=options, keywords=KEYWORDS
    ):
        if isinstance(message, (tuple, list)):
            ids.update(m for m in message if m)
        elif message:
            ids.add(message)
    return ids


__all__ = ["compile_catalogue", "merged_catalogue", "extracted_msgids", "select_locale", "current_language", "init_app"]


if __name__ == "__main__":  # python -m surveyapp.i18n: works even when the app cannot start
    print(compile_catalogue())
