"""The command line an IT officer uses."""
from __future__ import annotations

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Organisation, User


def test_init_db_is_idempotent(runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "latest migration" in result.output


def test_create_admin_and_scoped_users(runner, app):
    with app.app_context():
        db.session.add(Organisation(code="XA", name="Xã A", sector="administrative"))
        db.session.commit()
    ok = runner.invoke(args=["create-admin", "root", "--password", "s3cret-pass"])
    assert ok.exit_code == 0, ok.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "root"))
        assert user.role == "admin" and user.check_password("s3cret-pass") and user.password_hash != "s3cret-pass"

    mgr = runner.invoke(args=["create-admin", "canbo", "--password", "s3cret-pass", "--role", "manager", "--org", "XA"])
    assert mgr.exit_code == 0, mgr.output
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "canbo")).organisation.code == "XA"

    for args, message in [
        (["create-admin", "root", "--password", "another-pass"], "already exists"),
        (["create-admin", "x", "--password", "short"], "at least 8"),
        (["create-admin", "y", "--password", "long-enough", "--role", "viewer"], "needs --org"),
        (["create-admin", "z", "--password", "long-enough", "--role", "viewer", "--org", "NOPE"], "no organisation"),
    ]:
        bad = runner.invoke(args=args)
        assert bad.exit_code != 0 and message in bad.output, bad.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


def test_seed_demo_if_empty_only_once(runner, app):
    first = runner.invoke(args=["seed-demo", "--responses", "200"])
    assert first.exit_code == 0, first.output
    assert "12 service points" in first.output
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "skipped" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 9
