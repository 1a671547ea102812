"""The bare floor: the least a Flask app can do to take a survey submission.

GET ``/`` renders a minimal form from a template string; POST ``/`` reads two form fields
and inserts one row through the same stack as surveyapp (Flask-SQLAlchemy, the same
SQLAlchemy engine options, the same driver and, for SQLite, the same pragmas), then answers
303 like the real form. No CSRF, no rate limit, no validation, no i18n, no security headers:
whatever surveyapp spends above this floor is its own overhead.

    DATABASE_URL=sqlite:///bench/out/bare.sqlite3 gunicorn -w 5 --preload 'bench.bare_floor:create_app()'
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, redirect, render_template_string, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BareSubmission(db.Model):
    __tablename__ = "bare_submission"
    __table_args__ = (sa.UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[int]


FORM = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>Khảo sát</title>
<form method="post"><input type="hidden" name="key" value="{{ key }}">
{% for v in (4, 3, 2, 1) %}<label><input type="radio" name="value" value="{{ v }}">{{ v }}</label>{% endfor %}
<button>Gửi</button></form></html>"""


def create_app() -> Flask:
    from surveyapp import _configure_engine
    from surveyapp.config import normalise_database_url

    app = Flask(__name__)
    uri = normalise_database_url(os.environ["DATABASE_URL"])
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    # The same engine options surveyapp's config.load() sets for this database.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = (
        {"pool_pre_ping": True} if uri.startswith("postgresql") else {"connect_args": {"timeout": 15}}
    )
    db.init_app(app)
    with app.app_context():
        _configure_engine(db.engine)
        db.create_all()

    @app.get("/")
    def form():
        return render_template_string(FORM, key=os.urandom(8).hex())

    @app.post("/")
    def submit():
        db.session.add(BareSubmission(key=request.form["key"], value=int(request.form["value"])))
        db.session.commit()
        return redirect("/thanks", 303)

    return app
