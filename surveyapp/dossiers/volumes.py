"""Dossiers received per service point and local month, stored (``DossierVolume``).

Reports weight each service point by these counts (``reports.volumes``), so they must be cheap
to read and never wrong. They change only in the transaction of a dossier write
(``records.write``, the one write path of dossier records): the caller passes each written
dossier's old and new (service point, received) and this module turns them into increments
applied with ``INSERT ... ON CONFLICT DO UPDATE SET dossiers = dossiers + n``, which PostgreSQL
applies on the latest committed row, so concurrent writers never lose one. A dossier written
through the ORM would bypass the counts, so the mapper refuses it.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event

from ..clock import to_local
from ..extensions import db, dialect_insert
from ..models import Dossier, DossierVolume
from ..reports.filters import month_key

Cell = tuple[int, int]  # (service point id, month key)


def cell(service_point_id: int | None, received_at: datetime | None) -> Cell | None:
    """Where a dossier counts: its service point and the local month it was received in; None
    when it names no service point (it weighs nothing)."""
    if service_point_id is None or received_at is None:
        return None
    return int(service_point_id), month_key(to_local(received_at).date())


def changes(moves: Iterable[tuple[Cell | None, Cell | None]]) -> Counter:
    """{cell: increment} of dossiers moving from an old cell (None: new) to a new one."""
    delta: Counter = Counter()
    for old, new in moves:
        if old == new:
            continue
        if old is not None:
            delta[old] -= 1
        if new is not None:
            delta[new] += 1
    return delta


def apply(delta: Counter) -> None:
    """Add ``delta`` to the stored counts in the current transaction. Cells go in a fixed order,
    so two writers lock them alike. A decrease updates a cell that must exist (a CHECK on an
    upsert would see the bare negative row); a missing cell or a count below zero means the
    counts had already gone wrong, and the write fails rather than hide it."""
    table = DossierVolume.__table__
    rows = [{"service_point_id": sp, "month": m, "dossiers": n} for (sp, m), n in sorted(delta.items()) if n]
    for row in (r for r in rows if r["dossiers"] < 0):
        done = db.session.execute(
            sa.update(table).values(dossiers=table.c.dossiers + row["dossiers"])
            .where(table.c.service_point_id == row["service_point_id"], table.c.month == row["month"]))
        if done.rowcount != 1:
            raise RuntimeError(f"no stored dossier volume to decrease at {row['service_point_id']}, {row['month']}")
    increases = [r for r in rows if r["dossiers"] > 0]
    for i in range(0, len(increases), 500):
        stmt = dialect_insert(table).values(increases[i:i + 500])
        stmt = stmt.on_conflict_do_update(index_elements=["service_point_id", "month"],
                                          set_={"dossiers": table.c.dossiers + stmt.excluded.dossiers})
        db.session.execute(stmt)


def stored(sp_ids: Iterable[int], first_month: int, last_month: int) -> dict[Cell, int]:
    """{(service point, month key): dossiers} for the months ``first_month`` to ``last_month``;
    cells whose dossiers all moved away (zero) are left out, as a fresh count leaves them."""
    ids = sorted({int(i) for i in sp_ids})
    if not ids:
        return {}
    rows = db.session.execute(sa.select(DossierVolume.service_point_id, DossierVolume.month, DossierVolume.dossiers)
                              .where(DossierVolume.service_point_id.in_(ids), DossierVolume.month >= first_month,
                                     DossierVolume.month <= last_month, DossierVolume.dossiers > 0))
    return {(int(sp), int(m)): int(n) for sp, m, n in rows}


def recount() -> dict[Cell, int]:
    """Every cell counted afresh from the dossier rows (what :func:`stored` must equal)."""
    counts: Counter = Counter()
    rows = db.session.execute(sa.select(Dossier.service_point_id, Dossier.received_at)
                              .where(Dossier.service_point_id.is_not(None))).yield_per(10_000)
    for sp, received in rows:
        counts[cell(sp, received)] += 1
    return dict(counts)


def rebuild() -> int:
    """Replace the stored counts by a fresh count (after dossiers were loaded by raw SQL, or the
    local time zone changed). Locks the dossier table against writers meanwhile on PostgreSQL.
    Returns the number of cells."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("LOCK TABLE dossier IN SHARE MODE"))
    counts = recount()
    db.session.execute(sa.delete(DossierVolume))
    apply(Counter(counts))
    return len(counts)


@event.listens_for(Dossier, "before_insert")
@event.listens_for(Dossier, "before_update")
@event.listens_for(Dossier, "before_delete")
def _refuse_orm_writes(mapper, connection, target):
    raise RuntimeError("dossier records are written through surveyapp.dossiers.records.write only "
                       "(it keeps the stored dossier volumes)")


__all__ = ["cell", "changes", "apply", "stored", "recount", "rebuild"]
