"""Privacy helpers: no raw IP address, user agent or personal number is ever stored."""
from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import re
import time

from flask import current_app, request, session


@functools.lru_cache(maxsize=64)
def _derived_key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def _key(purpose: str) -> bytes:
    return _derived_key(current_app.config["SECRET_KEY"], purpose)


def _daily_hash(purpose: str, text: str, day: str | None = None) -> str:
    """32 hex digits of an HMAC under a key derived from the secret, the purpose and the UTC day."""
    day = day or time.strftime("%Y-%m-%d", time.gmtime())
    return hmac.digest(_key(f"{purpose}:{day}"), text.encode(), "sha256").hex()[:32]


_FINGERPRINT = "surveyapp.client_fingerprint"


def client_fingerprint(day: str | None = None) -> str:
    """A keyed hash of address and user agent that rotates daily.

    Good enough to spot one phone voting many times on one day, useless to
    identify anybody afterwards: yesterday's key is derived from the date.
    Today's is computed once per request (stored with the response).
    """
    if day is None and _FINGERPRINT in request.environ:
        return request.environ[_FINGERPRINT]
    digest = _daily_hash("client", f"{request.remote_addr or '-'}|{request.headers.get('User-Agent', '')}", day)
    if day is None:
        request.environ[_FINGERPRINT] = digest
    return digest


def browser_fingerprint() -> str:
    """``client_fingerprint`` plus the browser's own session, rotating daily: the per-phone
    submission limit keys on it.

    Address and user agent alone do not tell phones apart behind one address (a one-stop
    centre's or a hospital's Wi-Fi): Chrome on Android now sends the same reduced user agent
    from every phone model, so a whole waiting room would share one phone's quota. The session
    cookie carries Flask-WTF's random CSRF secret, one per browser; a script that throws its
    cookies away gets a new key each time and is held by the per-address and per-service-point
    limits instead.
    """
    secret = session.get(current_app.config["WTF_CSRF_FIELD_NAME"], "")
    return _daily_hash("browser", f"{request.remote_addr or '-'}|{request.headers.get('User-Agent', '')}|{secret}")


def address_fingerprint() -> str:
    """A keyed hash of the client address alone, rotating daily (the per-address limit)."""
    return _daily_hash("address", request.remote_addr or "-")


def client_network() -> str:
    """The client's address; for IPv6 its /64, the one subscriber's network in which a host
    picks any address it likes. Throttles that must not reset with a new address key on it."""
    address = request.remote_addr or "-"
    if ":" in address:
        try:
            return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
        except ValueError:
            return address
    return address


def network_fingerprint() -> str:
    """A keyed hash of ``client_network`` alone, rotating daily (sign-in and enrolment limits)."""
    return _daily_hash("network", client_network())


def keyed_hash(value: str, purpose: str) -> str:
    """Stable keyed hash (e.g. of a dossier number) that cannot be reversed without the key."""
    return hmac.new(_key(purpose), value.strip().encode(), hashlib.sha256).hexdigest()


# Order matters: e-mails first, then phone numbers, then long ID numbers.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Mobile and landline numbers: 0 or +84 then 8-10 digits, or a landline with its area code in
# parentheses, "(028) 3822 1234".
_PHONE = re.compile(
    r"(?<![\d.])(?<!\d[ -])(?:\+?84|0)(?:[ .-]?\d){8,10}(?![ .-]?\d)"
    r"|\(\+?0?\d{1,3}\)[ .-]?\d{3,4}[ .-]?\d{3,4}(?!\d)"
)
# Identity numbers: 12-digit CCCD or 9-digit CMND, written solid or in groups separated by spaces.
# Dots are not accepted as separators so that amounts such as "100.000.000 đồng" stay readable.
_ID_NUMBER = re.compile(r"(?<![\d.,])(?<!\d )(?:\d ?){11}\d(?! ?\d)(?![.,]\d)|(?<![\d.,])(?<!\d )(?:\d ?){8}\d(?! ?\d)(?![.,]\d)")


def mask_personal_data(text: str) -> str:
    """Mask e-mail addresses, phone numbers and 9/12-digit ID numbers in free text.

    Comments are read by officials and exported; a citizen who writes a number in a
    comment has not consented to it being kept, unlike the explicit contact field.
    """
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[số điện thoại]", text)
    text = _ID_NUMBER.sub("[số định danh]", text)
    return text


def contact_kind(contact: str | None) -> str | None:
    """"email" or "phone" for a contact a citizen left, by its form; None for anything else."""
    contact = (contact or "").strip()
    if not contact:
        return None
    if _EMAIL.fullmatch(contact):
        return "email"
    if _PHONE.fullmatch(contact):
        return "phone"
    return None


SENSITIVE_SECTORS = ("health",)


def is_sensitive(response) -> bool:
    """A response on a health service (its questionnaire's or its organisation's sector): its
    comments are sensitive data under Decree 13/2023 and Law 91/2025."""
    survey = response.survey
    return survey.questionnaire.sector in SENSITIVE_SECTORS or survey.organisation.sector in SENSITIVE_SECTORS


def may_see_unmasked(response, user) -> bool:
    """Whether ``user`` may read ``response``'s comments as written, as far as sensitivity goes:
    sensitive ones only with a role in ``SENSITIVE_COMMENT_ROLES``."""
    return not is_sensitive(response) or user.role in current_app.config["SENSITIVE_COMMENT_ROLES"]
