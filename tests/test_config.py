"""One home for settings: every default in ``config.Defaults``, every setting documented in
DEPLOY.md, and nothing read with an inline default."""
from __future__ import annotations

import re

from surveyapp import PACKAGE_DIR, REPO_DIR, create_app
from surveyapp.config import settings

DEPLOY = REPO_DIR / "docs" / "DEPLOY.md"


def documented_settings() -> set[str]:
    """The names in the first cell of every table row of DEPLOY.md's configuration section."""
    text = DEPLOY.read_text(encoding="utf-8")
    section = text[text.index("## 2. Configuration"):text.index("## 3.")]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(n.removeprefix("SURVEYAPP_") for n in re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_deploy_md_lists_exactly_the_settings_of_defaults():
    defaults = set(settings())
    documented = documented_settings()
    assert not defaults - documented, f"settings missing from docs/DEPLOY.md: {sorted(defaults - documented)}"
    assert not documented - defaults, f"DEPLOY.md names settings config.Defaults lacks: {sorted(documented - defaults)}"


def _sources():
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        yield path.relative_to(REPO_DIR), path.read_text(encoding="utf-8")


def test_no_setting_is_read_with_an_inline_default():
    offenders = [f"{path}:{n}" for path, text in _sources()
                 for n, line in enumerate(text.splitlines(), 1) if re.search(r"\bconfig\.get\(", line)]
    assert not offenders, "read settings as current_app.config[NAME] (defaults in config.Defaults): " + ", ".join(offenders)


def test_every_setting_read_by_name_has_its_default_in_defaults():
    read = {name for _, text in _sources() for name in re.findall(r"config\[\s*[\"']([A-Z][A-Z0-9_]+)[\"']\s*\]", text)}
    assert read, "the pattern found nothing: the test would pass vacuously"
    missing = read - set(settings())
    assert not missing, f"read but without a default in config.Defaults: {sorted(missing)}"


def test_an_app_has_every_default(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "k"})
    for name, value in settings().items():
        assert name in app.config, name
    assert app.config["SUBMIT_RATE_LIMIT_POINT"] == settings()["SUBMIT_RATE_LIMIT_POINT"]
