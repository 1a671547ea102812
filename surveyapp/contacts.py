"""Citizens' requests about their contact details (Law 91/2025: access and deletion): find the
responses that carry an e-mail or a phone number, export or erase them. Views, the
``flask privacy`` commands and the tests share these functions.

Erasure removes the contact and the comments and keeps the anonymous ratings. The audit log
records a keyed hash of the contact, never the contact itself.
"""
from __future__ import annotations

import re

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy.orm import selectinload

from .audit import record
from .clock import to_local
from .extensions import db
from .models import Answer, Organisation, Response, ServicePoint, User
from .privacy import contact_kind, keyed_hash
from .retention import delete_answers

CONTACT_HASH_PURPOSE = "contact"


def normalise_contact(value: str | None) -> str | None:
    """The canonical form of an e-mail (lower case) or a Vietnamese phone number (digits, +84 as
    0); None when ``value`` is neither."""
    value = (value or "").strip()
    kind = contact_kind(value)
    if kind == "email":
        return value.lower()
    if kind == "phone" or re.fullmatch(r"[\d\s().+-]{9,20}", value):
        digits = re.sub(r"\D", "", value)
        if digits.startswith("84") and len(digits) >= 10:
            digits = "0" + digits[2:]
        return digits if 9 <= len(digits) <= 11 else None
    return None


def mask_contact(value: str) -> str:
    """Enough of a contact to recognise it, not to use it: ``a***@example.vn``, ``09******78``."""
    value = value.strip()
    if "@" in value:
        name, _, domain = value.partition("@")
        return f"{name[:1]}***@{domain}"
    digits = re.sub(r"\D", "", value)
    return digits[:2] + "*" * max(len(digits) - 4, 0) + digits[-2:]


def find_by_contact(value: str, root: Organisation | None = None) -> list[Response]:
    """The responses whose contact is ``value`` (normalised), in ``root``'s subtree when given,
    newest first. Contacts are kept for weeks only (retention), so they are compared here."""
    wanted = normalise_contact(value)
    if wanted is None:
        return []
    stmt = sa.select(Response.id, Response.contact).where(Response.contact.is_not(None))
    if root is not None:
        stmt = stmt.join(ServicePoint, ServicePoint.id == Response.service_point_id).join(
            Organisation, Organisation.id == ServicePoint.organisation_id).where(
            Organisation.path.startswith(root.path))
    ids = [rid for rid, contact in db.session.execute(stmt) if normalise_contact(contact) == wanted]
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Response).where(Response.id.in_(ids))
                                   .options(selectinload(Response.service_point), selectinload(Response.answers))
                                   .order_by(Response.submitted_at.desc(), Response.id.desc())))


def comments_of(response: Response) -> list[Answer]:
    return [a for a in response.answers if a.text is not None and a.question.type == "text"]


def erase_contact(value: str, actor: User | None, root: Organisation | None = None) -> int:
    """Remove the contact and the comments of every response carrying ``value`` (in ``root``'s
    subtree when given), keeping the ratings; audited and committed. The number of responses."""
    responses = find_by_contact(value, root)
    if not responses:
        return 0
    ids = [r.id for r in responses]
    comment_ids = [a.id for r in responses for a in comments_of(r)]
    for r in responses:
        r.contact = None
    db.session.flush()
    if comment_ids:
        delete_answers(comment_ids)
    event = record("privacy.erase", None, object_type="Contact",
                   object_id=keyed_hash(normalise_contact(value), CONTACT_HASH_PURPOSE)[:16],
                   after={"contact_hash": keyed_hash(normalise_contact(value), CONTACT_HASH_PURPOSE),
                          "responses": ids, "comments_erased": len(comment_ids)})
    if actor is not None:
        event.user_id = actor.id
    db.session.commit()
    return len(ids)


def export_rows(responses: list[Response]) -> list[list]:
    """What is stored of the citizen, one row per response (for an access request)."""
    rows = []
    for r in responses:
        rows.append([r.id, r.submitted_at.isoformat(timespec="seconds"), r.service_point.code, r.service_point.name,
                     r.contact or "", " | ".join(a.text for a in comments_of(r))])
    return rows


# ---------------------------------------------------------------------------------------------
# Commands: ``flask --app surveyapp privacy find|erase --contact VALUE``


@click.group("privacy")
def privacy_group() -> None:
    """Citizens' requests about their contact details: find, erase."""


def _checked(value: str) -> str:
    if normalise_contact(value) is None:
        raise click.BadParameter("Không phải địa chỉ email hay số điện thoại.", param_hint="--contact")
    return value


@privacy_group.command("find")
@click.option("--contact", "value", required=True, help="An e-mail address or a phone number.")
@with_appcontext
def privacy_find(value: str) -> None:
    """The responses carrying this contact: id, date, service point, whether a comment exists."""
    responses = find_by_contact(_checked(value))
    click.echo(f"{len(responses)} response(s) for {mask_contact(value)}")
    for r in responses:
        comment = "comment" if comments_of(r) else "no comment"
        click.echo(f"{r.id}  {to_local(r.submitted_at):%Y-%m-%d %H:%M}  {r.service_point.code}  "
                   f"{r.service_point.name}  {comment}")


@privacy_group.command("erase")
@click.option("--contact", "value", required=True, help="An e-mail address or a phone number.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def privacy_erase(value: str, yes: bool) -> None:
    """Erase the contact and the comments of the responses carrying it; the ratings stay."""
    count = len(find_by_contact(_checked(value)))
    if not count:
        click.echo(f"No response carries {mask_contact(value)}.")
        return
    if not yes:
        click.confirm(f"Erase the contact and comments of {count} response(s)?", abort=True)
    click.echo(f"Erased the contact and comments of {erase_contact(value, None)} response(s).")


commands = [privacy_group]
