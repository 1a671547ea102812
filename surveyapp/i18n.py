"""The translation catalogue.

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

from . import PACKAGE_DIR, REPO_DIR, resource_dir

TRANSLATIONS = PACKAGE_DIR / "translations"
PARTS = TRANSLATIONS / "parts"
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2), "N_": None}


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


__all__ = ["compile_catalogue", "merged_catalogue", "extracted_msgids", "resource_dir"]


if __name__ == "__main__":  # python -m surveyapp.i18n: works even when the app cannot start
    print(compile_catalogue())
