"""Migrations: empty -> head -> base -> head on both databases, and models == migrations."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveyapp import create_app
from surveyapp.extensions import db
from tests.conftest import PG_URL, base_config, create_pg_schema, drop_pg_schema

MODEL_TABLES = {t.name for t in db.metadata.sorted_tables}


@pytest.fixture(params=["sqlite", "postgres"] if PG_URL else ["sqlite"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        schema, url = create_pg_schema("mig")
        yield url
        drop_pg_schema(schema)


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(empty_database):
    from flask_migrate import downgrade, upgrade

    app = create_app(base_config(empty_database))
    with app.app_context():
        directory = app.extensions["migrate"].directory
        assert tables(db.engine) == set()
        upgrade(directory=directory)
        assert tables(db.engine) == MODEL_TABLES
        downgrade(directory=directory, revision="base")
        assert tables(db.engine) == set()
        upgrade(directory=directory)
        assert tables(db.engine) == MODEL_TABLES
        db.engine.dispose()


def test_models_match_migrations(app):
    """`flask db check` finds nothing to add: the models never drift from the migrations."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, db.metadata) == []
