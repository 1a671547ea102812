"""``flask --app surveyapp kiosk-device ...``: create, list and revoke kiosk tablets."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from ..models import KioskDevice, ServicePoint
from .devices import DeviceError, create_device, device_status, enrolment_url, list_devices, new_enrolment_code, revoke_device


@click.group("kiosk-device")
def kiosk_device_group() -> None:
    """Manage the rating tablets of service points."""


def _device(device_id: int) -> KioskDevice:
    device = db.session.get(KioskDevice, device_id)
    if device is None:
        raise click.ClickException(f"no kiosk device with id {device_id}")
    return device


@kiosk_device_group.command("create")
@click.option("--service-point", "sp_code", required=True, help="Code of the service point the tablet stands at.")
@click.option("--name", default=None, help="A name officials will recognise, e.g. the counter's.")
@with_appcontext
def create(sp_code: str, name: str | None) -> None:
    """Create a device and print its one-time enrolment code and URL."""
    sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.code == sp_code))
    if sp is None:
        raise click.BadParameter(f"no service point with code {sp_code!r}", param_hint="--service-point")
    device, code = create_device(sp, name or f"Kiosk – {sp.name}")
    db.session.commit()
    click.echo(f"Device {device.id} ({device.name}) at {sp.code} {sp.name}")
    click.echo(f"Enrolment code (single use, valid until {device.enrol_expires_at:%Y-%m-%d %H:%M} UTC): {code}")
    click.echo(f"Enrolment URL: {enrolment_url(code)}")


@kiosk_device_group.command("new-code")
@click.argument("device_id", type=int)
@with_appcontext
def new_code(device_id: int) -> None:
    """Issue a new enrolment code for a device (e.g. a replaced tablet)."""
    device = _device(device_id)
    try:
        code = new_enrolment_code(device)
    except DeviceError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Enrolment code: {code}")
    click.echo(f"Enrolment URL: {enrolment_url(code)}")


@kiosk_device_group.command("list")
@with_appcontext
def list_() -> None:
    """List devices: service point, status, last contact, app version, queued ratings."""
    for d in list_devices():
        seen = f"{d.last_seen_at:%Y-%m-%d %H:%M}" if d.last_seen_at else "-"
        click.echo(
            f"{d.id}\t{d.name}\t{d.service_point.code}\t{device_status(d)}\t{seen}\t"
            f"{d.app_version or '-'}\t{d.queue_length if d.queue_length is not None else '-'}"
        )


@kiosk_device_group.command("revoke")
@click.argument("device_id", type=int)
@with_appcontext
def revoke(device_id: int) -> None:
    """Disable a device for good: its tablet shows "device disabled" and is refused."""
    device = _device(device_id)
    revoke_device(device)
    db.session.commit()
    click.echo(f"Device {device.id} revoked.")


commands = [kiosk_device_group]
