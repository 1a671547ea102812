"""Account preferences: one home for the rules the profile page and ``create-admin`` share."""
from __future__ import annotations

import re

from flask_babel import gettext as _

# Deliberately plain: one @, something before it, a dotted domain after it, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EmailError(ValueError):
    """The message is for the user."""


def normalise_email(value: str | None) -> str | None:
    """A trimmed address, None for an empty one; EmailError for one that cannot be an address."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 255 or not _EMAIL.match(value):
        raise EmailError(_("Địa chỉ thư điện tử không hợp lệ."))
    return value
