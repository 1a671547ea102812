"""Failed sign-ins: a lock per account and address, and a guard per account.

A lock per account alone would let anyone keep an account shut with a few wrong passwords
now and then. So the lock is per (account, address): ``MAX_FAILED_LOGINS`` wrong passwords
within ``LOGIN_LOCK_MINUTES`` from one address lock that address out of that account for
``LOGIN_LOCK_MINUTES``, right password or not; the owner elsewhere is not affected.

Many addresses could then share the guessing, so the account keeps a count of its own: after
``LOGIN_ACCOUNT_GUARD_FAILURES`` wrong passwords from anywhere it is guarded for
``LOGIN_LOCK_MINUTES``. While guarded, only an address this account has signed in from
before (and that is not locked itself) has its password checked; the owner at their usual
desk still gets in, an unknown address cannot guess at all. Addresses are stored as a keyed
hash (IPv6: of the /64). Design and bounds: docs/RELIABILITY.md.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import LoginSource, User
from ..privacy import client_network, keyed_hash


def source_hash() -> str:
    """The keyed hash of the client's network that sign-in attempts are filed under."""
    return keyed_hash(client_network(), "sign-in-source")


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])


class Gate:
    """One sign-in attempt on ``user`` from the current client: ``open`` says whether its
    password may be checked at all; then ``succeeded`` or ``failed`` records the outcome."""

    def __init__(self, user: User, now: datetime):
        self.user, self.now, self.source = user, now, source_hash()
        self.row: LoginSource | None = db.session.scalar(
            sa.select(LoginSource).where(LoginSource.user_id == user.id, LoginSource.source_hash == self.source))
        row = self.row
        source_locked = row is not None and row.locked_until is not None and row.locked_until > now
        guarded = user.locked_until is not None and user.locked_until > now
        known = row is not None and row.last_success_at is not None
        self.open = not source_locked and (not guarded or known)

    def _source_row(self) -> LoginSource:
        if self.row is None:
            # Rows of addresses that never got in and whose failures have lapsed are forgotten.
            stale = self.now - _window()
            db.session.execute(sa.delete(LoginSource).where(
                LoginSource.user_id == self.user.id, LoginSource.last_success_at.is_(None),
                LoginSource.last_failure_at < stale,
                sa.or_(LoginSource.locked_until.is_(None), LoginSource.locked_until < self.now)))
            row = LoginSource(user_id=self.user.id, source_hash=self.source, failures=0)
            try:
                with db.session.begin_nested():
                    db.session.add(row)
            except sa.exc.IntegrityError:  # a concurrent attempt from the same address made it
                row = db.session.scalar(sa.select(LoginSource).where(
                    LoginSource.user_id == self.user.id, LoginSource.source_hash == self.source))
            self.row = row
        return self.row

    def succeeded(self) -> None:
        row = self._source_row()
        row.failures, row.locked_until, row.last_success_at = 0, None, self.now

    def failed(self) -> None:
        """Count a wrong password (in SQL, so that concurrent attempts are all counted)."""
        row, user, window = self._source_row(), self.user, _window()
        lapsed = row.last_failure_at is None or row.last_failure_at <= self.now - window
        row.failures = 1 if lapsed else LoginSource.failures + 1
        row.last_failure_at = self.now
        user.failed_logins = sa.func.coalesce(User.failed_logins, 0) + 1
        db.session.flush()
        db.session.refresh(row, ["failures"])
        db.session.refresh(user, ["failed_logins"])
        if row.failures >= current_app.config["MAX_FAILED_LOGINS"]:
            row.failures, row.locked_until = 0, self.now + window
        if user.failed_logins >= current_app.config["LOGIN_ACCOUNT_GUARD_FAILURES"]:
            user.failed_logins, user.locked_until = 0, self.now + window


def lift_locks(user: User) -> None:
    """Lift the account's guard and every address's lock on it (an administrator's unlock)."""
    user.failed_logins, user.locked_until = 0, None
    db.session.execute(sa.update(LoginSource).where(LoginSource.user_id == user.id)
                       .values(failures=0, locked_until=None))
