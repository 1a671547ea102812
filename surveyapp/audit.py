"""The audit log: every change made in the workspace, at sign-in, in imports and publication, with
who, what, before and after.

Call :func:`snapshot` before changing an object and :func:`record` after, in the
same transaction as the change, so that the log and the data never disagree.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from flask_login import current_user

from .extensions import db
from .models import AuditEvent

# Never copied into the log.
SECRET_COLUMNS = {"password_hash", "token_hash", "enrol_code_hash", "session_token", "secret", "key_hash"}


def _plain(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def snapshot(obj, *, extra: dict | None = None) -> dict | None:
    """The column values of ``obj`` as JSON-ready data (secrets left out)."""
    if obj is None:
        return None
    mapper = sa.inspect(obj).mapper
    data = {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in SECRET_COLUMNS
    }
    if extra:
        data.update({k: _plain(v) for k, v in extra.items()})
    return data


def record(action: str, obj, before: dict | None = None, after: dict | None = None, *,
           object_type: str | None = None, object_id=None) -> AuditEvent:
    """Add an audit event for ``action`` on ``obj`` by the signed-in user (not committed here).

    ``after`` defaults to a snapshot of ``obj``; pass ``after={}`` for nothing.
    """
    if obj is not None:
        db.session.flush()  # so that a new object has its id
    if after is None and obj is not None:
        after = snapshot(obj)
    user_id = current_user.id if getattr(current_user, "is_authenticated", False) else None
    event = AuditEvent(
        user_id=user_id,
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else "-"),
        object_id=str(object_id if object_id is not None else getattr(obj, "id", "") or "") or None,
        before=before or None,
        after=after or None,
    )
    db.session.add(event)
    return event


def changes(event: AuditEvent) -> list[tuple[str, object, object]]:
    """(field, before, after) for the fields that differ; all fields for a creation or removal."""
    before, after = event.before or {}, event.after or {}
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    if before and after:
        keys = [k for k in keys if before.get(k) != after.get(k)]
    return [(k, before.get(k), after.get(k)) for k in keys]
