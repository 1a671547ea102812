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


def test_secret_key_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SURVEYAPP_SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def build():
        from flask import Flask

        import surveyapp.config as config

        app = Flask("x", instance_path=str(tmp_path / "instance"))
        config.load(app, None)
        return app

    a, b = build(), build()
    assert len(a.config["SECRET_KEY"]) == 64
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"]
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
    assert a.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'surveyapp.sqlite3'}"


def test_prefixed_environment_settings(tmp_path, monkeypatch):
    from flask import Flask

    import surveyapp.config as config

    monkeypatch.setenv("SURVEYAPP_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("SURVEYAPP_PROXY_FIX_X_FOR", "1")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:5432/survey")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    app = Flask("x", instance_path=str(tmp_path))
    config.load(app, None)
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["PROXY_FIX_X_FOR"] == 1
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal:5432/survey"
    assert app.config["SECRET_KEY"] == "from-env"
