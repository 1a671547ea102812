"""Webhooks of an organisation: one place for the rules the workspace and the CLI share."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import gettext as _

from ..extensions import db
from ..models import Organisation, Webhook

MIN_SECRET = 16


class WebhookError(ValueError):
    """The message is for the user."""


def check(url: str, secret: str) -> None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebhookError(_("Địa chỉ webhook phải bắt đầu bằng http:// hoặc https://."))
    if len(secret) < MIN_SECRET:
        raise WebhookError(_("Khóa bí mật cần ít nhất %(n)s ký tự.", n=MIN_SECRET))


def add_webhook(org: Organisation, url: str, secret: str, description: str | None = None) -> Webhook:
    """A new active webhook (the caller commits)."""
    check(url, secret)
    hook = Webhook(organisation=org, organisation_id=org.id, url=url.strip(), secret=secret, description=description)
    db.session.add(hook)
    db.session.flush()
    return hook
