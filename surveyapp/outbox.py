"""The outbox: e-mails and webhook calls written in the transaction that decides to send them,
delivered by the worker.

Delivery is exactly once in effect:

- ``enqueue_*`` only add rows to the caller's transaction: a message exists if and only if
  what caused it was committed, and enqueueing the same ``dedupe_key`` twice adds nothing
  (``event_id`` is unique);
- :func:`deliver_due` claims one item at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
  that two workers never take the same row; SQLite serialises writers) and marks it
  ``sending`` with a lease, in a transaction of its own, before it talks to the network;
- a failure is recorded (attempts, last error) and retried with exponential backoff until
  ``OUTBOX_MAX_ATTEMPTS``; then the item is ``failed`` and an official can send it again;
- a worker killed mid-delivery leaves its one item ``sending``: once the lease has expired
  another worker delivers it again, with the same event id, which webhook receivers dedupe.

E-mail goes out over SMTP with the standard library (``smtplib`` and ``email.message``): one
message per item, each with its own result, which is what the outbox records; a wrapper such
as Flask-Mail adds nothing to that. ``MAIL_BACKEND = "folder"`` writes each message as an
``.eml`` file instead (the demo, and anyone without an SMTP server). Webhooks are one JSON
POST with ``urllib.request``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import smtplib
import ssl
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from .clock import now_utc
from .extensions import db, dialect_insert
from .models import Attachment, Organisation, OutboxAttachment, OutboxItem, Webhook

# Event ids are name-based UUIDs of the dedupe key: the same key always gives the same id.
EVENT_NAMESPACE = uuid.UUID("5f0c8a52-8f1e-4a55-9a43-6b1f0c1d2e3a")
SIGNATURE_HEADER = "X-Signature-256"
EVENT_HEADER = "X-Event-Id"
EVENT_TYPE_HEADER = "X-Event-Type"


class DeliveryError(Exception):
    """A delivery that did not succeed; the message is recorded as the item's last error."""


def event_id_for(channel: str, dedupe_key: str, webhook_id: int | None = None) -> str:
    name = f"{channel}|{webhook_id or ''}|{dedupe_key}"
    return str(uuid.uuid5(EVENT_NAMESPACE, name))


def _insert(values: dict) -> OutboxItem | None:
    """Insert unless an item with this event id exists; the new item, or None."""
    now = now_utc()
    values = {"status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now} | values
    new_id = db.session.execute(
        dialect_insert(OutboxItem).values(**values).on_conflict_do_nothing(index_elements=["event_id"])
        .returning(OutboxItem.id)
    ).scalar()
    return db.session.get(OutboxItem, new_id) if new_id is not None else None


def store_attachment(filename: str, content_type: str, data: bytes) -> Attachment:
    """A file for :func:`enqueue_email` to attach, stored in the current transaction: in the
    database, so that whichever worker delivers the e-mail, even after a restart, has it."""
    attachment = Attachment(filename=filename, content_type=content_type, data=data)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def enqueue_email(to: str, subject: str, text: str, html: str | None, *, kind: str, dedupe_key: str,
                  user_id: int | None = None, organisation_id: int | None = None,
                  attachments: list[Attachment] | tuple[Attachment, ...] = ()) -> OutboxItem | None:
    """Queue an e-mail in the current transaction (the caller commits).

    Idempotent on ``dedupe_key``: returns the new item, or None when that key was queued
    before. ``user_id`` (the recipient's account, if any) lets the recipient see it in the
    workspace. ``attachments`` (from :func:`store_attachment`) go with it, in that order; one
    stored file may go with several e-mails."""
    payload = {"subject": subject, "text": text, "html": html}
    item = _insert(dict(channel="email", kind=kind, recipient=to, subject=subject[:255], payload=payload,
                        event_id=event_id_for("email", dedupe_key), dedupe_key=dedupe_key[:255], user_id=user_id,
                        organisation_id=organisation_id))
    if item is not None:
        for position, attachment in enumerate(attachments):
            db.session.add(OutboxAttachment(outbox_item_id=item.id, attachment_id=attachment.id, position=position))
    return item


def attachments_of(item: OutboxItem) -> list[Attachment]:
    """The files an e-mail carries, in order."""
    return list(db.session.scalars(
        sa.select(Attachment).join(OutboxAttachment, OutboxAttachment.attachment_id == Attachment.id)
        .where(OutboxAttachment.outbox_item_id == item.id).order_by(OutboxAttachment.position)))


def webhooks_for(org_id: int) -> list[Webhook]:
    """The active webhooks of the organisation and of its ancestors."""
    org = db.session.get(Organisation, org_id)
    if org is None:
        return []
    return list(db.session.scalars(
        sa.select(Webhook).where(Webhook.active, Webhook.organisation_id.in_(org.ancestor_ids())).order_by(Webhook.id)))


def enqueue_webhook(org_id: int, event_type: str, payload: dict, *, dedupe_key: str) -> list[OutboxItem]:
    """Queue one call per active webhook of organisation ``org_id`` and of its ancestors, in the
    current transaction. Each body is ``payload`` plus ``event_id`` and ``event_type``; the new
    items are returned (none for a key queued before)."""
    items = []
    for hook in webhooks_for(org_id):
        event_id = event_id_for("webhook", dedupe_key, hook.id)
        body = {"event_id": event_id, "event_type": event_type} | payload
        item = _insert(dict(channel="webhook", kind=event_type[:32], recipient=hook.url, subject=event_type[:255],
                            payload=body, event_id=event_id, dedupe_key=dedupe_key[:255], webhook_id=hook.id,
                            organisation_id=org_id))
        if item is not None:
            items.append(item)
    return items


# ---------------------------------------------------------------------------------------------
# Delivery


def _claim(now: datetime) -> tuple[int, str] | None:
    """Take the next due item for this worker, in a transaction of its own."""
    cfg = current_app.config
    token = secrets.token_hex(16)
    due = (
        sa.select(OutboxItem.id)
        .where(sa.or_(
            sa.and_(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now),
            # A worker died holding it: its lease has run out.
            sa.and_(OutboxItem.status == "sending", OutboxItem.lease_until < now),
        ))
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = db.session.execute(
        sa.update(OutboxItem)
        .where(OutboxItem.id == due)
        .values(status="sending", claim_token=token, attempts=OutboxItem.attempts + 1,
                lease_until=now + timedelta(seconds=cfg["OUTBOX_LEASE_SECONDS"]))
        .returning(OutboxItem.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    db.session.commit()
    return (claimed, token) if claimed is not None else None


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: doubling from OUTBOX_RETRY_BASE_SECONDS, capped."""
    cfg = current_app.config
    seconds = cfg["OUTBOX_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, cfg["OUTBOX_RETRY_MAX_SECONDS"]))


def _finish(item_id: int, token: str, **values) -> None:
    """Record the outcome, unless another worker has taken the item over since (lease expired)."""
    db.session.execute(
        sa.update(OutboxItem).where(OutboxItem.id == item_id, OutboxItem.claim_token == token)
        .values(lease_until=None, **values).execution_options(synchronize_session=False))
    db.session.commit()


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Deliver up to ``limit`` due items, one at a time; returns how many were delivered."""
    delivered = 0
    for _ in range(limit):
        at = now or now_utc()
        claim = _claim(at)
        if claim is None:
            break
        item_id, token = claim
        item = db.session.get(OutboxItem, item_id)
        attempts = item.attempts
        try:
            send(item)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
            db.session.rollback()
            error = f"{type(exc).__name__}: {exc}"[:2000]
            current_app.logger.warning("outbox item %s attempt %s failed: %s", item_id, attempts, error)
            if attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
                _finish(item_id, token, status="failed", last_error=error)
            else:
                _finish(item_id, token, status="pending", last_error=error, next_attempt_at=at + backoff(attempts))
            continue
        _finish(item_id, token, status="delivered", delivered_at=now or now_utc(), last_error=None)
        delivered += 1
    return delivered


def send_again(item: OutboxItem) -> None:
    """An official asks for a failed or delivered item to go out again (the caller commits).
    A webhook keeps its event id, so a receiver that has it already can tell."""
    item.status, item.attempts, item.next_attempt_at = "pending", 0, now_utc()
    item.lease_until = item.claim_token = None


def send(item: OutboxItem) -> None:
    if item.channel == "email":
        send_email(item)
    else:
        send_webhook(item)


# ---------------------------------------------------------------------------------------------
# E-mail


def build_message(item: OutboxItem) -> EmailMessage:
    cfg = current_app.config
    msg = EmailMessage()
    msg["Subject"] = item.payload["subject"]
    msg["From"] = cfg["MAIL_DEFAULT_SENDER"]
    msg["To"] = item.recipient
    msg["Message-ID"] = make_msgid(idstring=item.event_id.replace("-", ""), domain="surveyapp")
    msg["X-Event-Id"] = item.event_id
    msg.set_content(item.payload["text"])
    if item.payload.get("html"):
        msg.add_alternative(item.payload["html"], subtype="html")
    for attachment in attachments_of(item):
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=attachment.filename)
    return msg


def mail_folder() -> Path:
    folder = current_app.config["MAIL_FOLDER"] or str(Path(current_app.instance_path) / "mail")
    return Path(folder)


def send_email(item: OutboxItem) -> None:
    cfg = current_app.config
    msg = build_message(item)
    if cfg["MAIL_BACKEND"] == "folder":
        folder = mail_folder()
        folder.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed: a reader never sees half a message.
        tmp = folder / f".{item.event_id}.tmp"
        tmp.write_bytes(msg.as_bytes())
        tmp.replace(folder / f"{now_utc():%Y%m%d-%H%M%S}-{item.event_id}.eml")
        return
    if cfg["MAIL_BACKEND"] != "smtp":
        raise DeliveryError(f"unknown MAIL_BACKEND {cfg['MAIL_BACKEND']!r}")
    timeout = cfg["MAIL_TIMEOUT"]
    if cfg["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=timeout)
    with smtp:
        if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(msg)


# ---------------------------------------------------------------------------------------------
# Webhooks


def webhook_body(payload: dict) -> bytes:
    """The exact bytes POSTed and signed (stable across retries: the payload is stored)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature-256`` value: HMAC-SHA256 of the raw body under the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(item: OutboxItem) -> None:
    hook = item.webhook
    body = webhook_body(item.payload)
    request = urllib.request.Request(item.recipient, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "surveyapp-webhook/1",
        SIGNATURE_HEADER: signature(hook.secret, body),
        EVENT_HEADER: item.event_id,
        EVENT_TYPE_HEADER: item.payload.get("event_type", item.kind),
    })
    try:
        with urllib.request.urlopen(request, timeout=current_app.config["WEBHOOK_TIMEOUT"]) as resp:
            resp.read(1024)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} from the receiver") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"could not reach the receiver: {getattr(exc, 'reason', exc)}") from None
