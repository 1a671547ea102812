"""Kiosk devices: enrolment codes, device tokens, and the management functions the admin
workspace and the CLI call (they bring their own authorisation and audit log).

Only SHA-256 hashes of enrolment codes and device tokens are stored. Both are long random
values, so a plain hash is enough (no salt or slow hash needed: nothing to brute-force), and
looking a token up by its hash is a constant-time index probe rather than a string comparison.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from ..extensions import db
from ..models import KioskDevice, ServicePoint, utcnow

# No 0/O, 1/I/L, 5/S, 2/Z: a code read aloud or typed from paper goes in right the first time.
CODE_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 10  # 27^10, about 47 bits: far beyond a rate-limited guesser within a week


class DeviceError(ValueError):
    """A management action that does not apply to this device (e.g. it is revoked)."""


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """Accept the code as people type it: any case, with spaces or dashes."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    """Print the code in two groups of five, easier to read out and type."""
    return f"{code[:5]}-{code[5:]}"


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def device_status(device: KioskDevice) -> str:
    """'revoked', 'active' (enrolled) or 'pending' (waiting for its enrolment code)."""
    if device.revoked_at is not None:
        return "revoked"
    return "active" if device.token_hash else "pending"


def create_device(service_point: ServicePoint, name: str) -> tuple[KioskDevice, str]:
    """Create a device at ``service_point``; returns it and its one-time enrolment code.
    The caller commits."""
    name = (name or "").strip()
    if not name:
        raise DeviceError("a device needs a name")
    device = KioskDevice(name=name[:255], service_point=service_point)
    db.session.add(device)
    code = new_enrolment_code(device)
    db.session.flush()
    return device, code


def new_enrolment_code(device: KioskDevice) -> str:
    """Issue a fresh enrolment code for a replaced or reset tablet. The previous code and the
    current device token stop working at once: a lost tablet must not keep sending."""
    if device.revoked_at is not None:
        raise DeviceError("a revoked device cannot be enrolled again; create a new device")
    code = _new_code()
    device.token_hash = None
    device.enrol_code_hash = _hash(code)
    device.enrol_expires_at = utcnow() + timedelta(days=current_app.config["KIOSK_ENROL_CODE_DAYS"])
    return format_code(code)


def rename_device(device: KioskDevice, name: str) -> None:
    name = (name or "").strip()
    if not name:
        raise DeviceError("a device needs a name")
    device.name = name[:255]


def move_device(device: KioskDevice, service_point: ServicePoint) -> None:
    """Later ratings go to the new service point; those already stored keep theirs."""
    device.service_point = service_point


def revoke_device(device: KioskDevice) -> None:
    """Disable the device for good. The token hash is kept so that the tablet is told it was
    disabled (403) rather than merely unknown (401)."""
    if device.revoked_at is None:
        device.revoked_at = utcnow()
    device.enrol_code_hash = None
    device.enrol_expires_at = None


def enrolment_url(code: str) -> str:
    """The URL to put in the enrolment QR code."""
    base = current_app.config["PUBLIC_BASE_URL"]
    if not base:
        base = request.host_url if has_request_context() else ""
    return f"{(base or '').rstrip('/')}/kiosk/enroll?{urlencode({'code': code})}"


def enrol(code: str, now: datetime | None = None) -> tuple[KioskDevice, str] | None:
    """Exchange a valid, unexpired, unused code for a new device token; None otherwise.

    The conditional UPDATE makes the code single-use even when two tablets send it at the
    same moment: only one UPDATE matches the code hash.
    """
    now = now or utcnow()
    normalised = normalise_code(code)
    if len(normalised) != CODE_LENGTH:
        return None
    code_hash = _hash(normalised)
    device = db.session.scalar(sa.select(KioskDevice).where(KioskDevice.enrol_code_hash == code_hash))
    if device is None or device.revoked_at is not None or (device.enrol_expires_at and device.enrol_expires_at < now):
        return None
    token = secrets.token_urlsafe(32)
    claimed = db.session.execute(
        sa.update(KioskDevice)
        .where(KioskDevice.id == device.id, KioskDevice.enrol_code_hash == code_hash)
        .values(token_hash=_hash(token), enrol_code_hash=None, enrol_expires_at=None, enrolled_at=now, last_seen_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    db.session.commit()
    db.session.refresh(device)
    return device, token


def note_heartbeat(device: KioskDevice, queue_length: int, app_version: str | None, now: datetime | None = None) -> None:
    """What a heartbeat tells: the tablet is alive, and how many ratings wait in its queue.
    An empty queue is remembered: nothing it sends later can have been tapped before then.
    The caller commits."""
    now = now or utcnow()
    device.queue_length = queue_length
    if app_version:
        device.app_version = app_version
    device.last_seen_at = now
    if queue_length == 0:
        device.queue_empty_at = now


def note_delivery(device: KioskDevice, now: datetime, *, flagged: int = 0, queue_empty: bool = False) -> None:
    """A batch of ratings arrived: ``flagged`` of them were stored flagged by the plausibility
    checks (the Kiosks page marks the device); an empty batch means an empty queue. The
    caller commits."""
    device.last_seen_at = now
    if queue_empty:
        device.queue_empty_at = now
    if flagged:
        device.flagged_ratings = (device.flagged_ratings or 0) + flagged
        device.last_flagged_at = now


def device_for_token(token: str) -> KioskDevice | None:
    if not token:
        return None
    return db.session.scalar(sa.select(KioskDevice).where(KioskDevice.token_hash == _hash(token)))


def list_devices() -> list[KioskDevice]:
    """All devices with their service points, for listings (the caller filters by scope)."""
    return list(
        db.session.scalars(
            sa.select(KioskDevice).options(sa.orm.joinedload(KioskDevice.service_point)).order_by(KioskDevice.id)
        )
    )


__all__ = [
    "DeviceError", "create_device", "new_enrolment_code", "rename_device", "move_device", "revoke_device",
    "enrolment_url", "enrol", "device_for_token", "device_status", "list_devices", "normalise_code",
    "note_heartbeat", "note_delivery",
]
