"""An alert's life: open -> acknowledged -> closed (closing straight from open is allowed)."""
from __future__ import annotations

from ..clock import now_utc
from ..models import Alert, User

NEXT = {"open": ("acknowledged", "closed"), "acknowledged": ("closed",), "closed": ()}


class TransitionError(ValueError):
    pass


def move(alert: Alert, to: str, user: User) -> None:
    """Change the alert's state (the caller records and commits)."""
    if to not in NEXT[alert.state]:
        raise TransitionError(to)
    now = now_utc()
    if to == "acknowledged":
        alert.acknowledged_at, alert.acknowledged_by_id = now, user.id
    else:
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by_id = now, user.id
        alert.closed_at, alert.closed_by_id = now, user.id
    alert.state = to
