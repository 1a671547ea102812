"""Migrations: empty -> head -> base -> head on both databases, and models == migrations."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveyapp import create_app
from surveyapp.extensions import db
from tests.conftest import base_config, create_pg_schema, drop_pg_schema

MODEL_TABLES = {t.name for t in db.metadata.sorted_tables}


@pytest.fixture(params=["sqlite", "postgres"])
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
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, db.metadata) == []


def test_upgrade_keeps_every_response_and_answer_and_every_constraint(empty_database):
    """0003 rebuilds ``response`` and ``answer`` on SQLite (dropping redundant foreign keys):
    a database with data comes out with the same rows, foreign keys enforced again, and its
    CHECK constraints and uniqueness intact."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy.exc import IntegrityError

    from surveyapp.seed import seed_demo

    app = create_app(base_config(empty_database))
    with app.app_context():
        directory = app.extensions["migrate"].directory
        # Seeded through today's models (so at the head), then taken down to 0002 and up again:
        # every rebuild on the way, down and up, must keep the rows.
        upgrade(directory=directory)
        seed_demo(seed=3, n_responses=300)
        db.session.execute(sa.text("UPDATE response SET dossier_hash = 'd-' || id WHERE id % 10 = 0"))
        db.session.commit()
        count_sql = "SELECT (SELECT count(*) FROM response), (SELECT count(*) FROM answer), " \
                    "(SELECT count(*) FROM response WHERE dossier_hash IS NOT NULL)"
        before = tuple(db.session.execute(sa.text(count_sql)).one())
        assert before[0] >= 300 and before[1] > before[0] and before[2] > 0
        db.session.remove()

        downgrade(directory=directory, revision="0002")
        assert tuple(db.session.execute(sa.text(count_sql)).one()) == before
        db.session.remove()
        upgrade(directory=directory)
        assert tuple(db.session.execute(sa.text(count_sql)).one()) == before
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).fetchall() == []
        db.session.remove()

        one = db.session.execute(sa.text("SELECT id, survey_id, service_point_id FROM response LIMIT 1")).one()
        refused = [
            # an answer to no response, a response to a survey not deployed there, a bad channel,
            # a dossier rated twice
            "INSERT INTO answer (response_id, question_id, value, service_point_id, submitted_at) "
            f"VALUES (-1, (SELECT min(id) FROM question), 1, {one.service_point_id}, '2026-01-01')",
            "INSERT INTO response (survey_id, service_point_id, channel, submitted_at, language, idempotency_key, "
            f"contact_consent) VALUES ({one.survey_id}, -5, 'qr', '2026-01-01', 'vi', 'x1', false)",
            "INSERT INTO response (survey_id, service_point_id, channel, submitted_at, language, idempotency_key, "
            f"contact_consent) VALUES ({one.survey_id}, {one.service_point_id}, 'fax', '2026-01-01', 'vi', 'x2', false)",
            "INSERT INTO response (survey_id, service_point_id, channel, submitted_at, language, idempotency_key, "
            f"contact_consent, dossier_hash) VALUES ({one.survey_id}, {one.service_point_id}, 'qr', '2026-01-01', "
            "'vi', 'x3', false, (SELECT max(dossier_hash) FROM response))",
        ]
        for statement in refused:
            with pytest.raises(IntegrityError):
                db.session.execute(sa.text(statement))
            db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_dossier_volumes_are_back_filled_from_the_records(empty_database):
    """0018 counts the dossiers already stored per service point and local month; down and up
    again gives the same counts as the write path kept."""
    from datetime import datetime

    from flask_migrate import downgrade, upgrade

    from surveyapp.dossiers import volumes
    from surveyapp.dossiers.records import WRITTEN, write
    from surveyapp.models import DossierVolume, Organisation, ServicePoint

    app = create_app(base_config(empty_database))
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        org = Organisation(code="STP", name="Sở Tư pháp", sector="administrative")
        points = [ServicePoint(organisation=org, name=f"Quầy {i}") for i in (1, 2)]
        db.session.add_all([org, *points])
        db.session.flush()
        # 16:30 UTC on 31 October is 23:30 local (October), 17:30 is 00:30 on 1 November.
        instants = [datetime(2026, 10, 31, 16, 30), datetime(2026, 10, 31, 17, 30), datetime(2026, 9, 2, 3, 0)]
        write([{**dict.fromkeys(WRITTEN), "organisation_id": org.id, "code": f"HS-{i}", "code_hash": f"h{i}",
                "service_point_id": points[i % 2].id if i % 5 else None, "received_at": instants[i % 3]}
               for i in range(30)])
        db.session.commit()

        def stored():
            db.session.expire_all()
            return {(r.service_point_id, r.month): r.dossiers for r in db.session.scalars(sa.select(DossierVolume))
                    if r.dossiers}

        kept = stored()
        assert kept == volumes.recount() and sum(kept.values()) == 24 and len(kept) == 6
        db.session.remove()
        downgrade(directory=directory, revision="0017_report_subscriptions")
        assert "dossier_volume" not in tables(db.engine)
        upgrade(directory=directory)
        assert stored() == kept
        db.session.remove()
        db.engine.dispose()
