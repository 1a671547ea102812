"""Closing the loop: the reply to a citizen who left a contact with consent ("you said, we did").

An email address gets the reply by email; a phone number goes to the organisation's webhook as a
``case.reply_sms`` event for an SMS relay. Both go through the outbox (delivered by the worker,
retried, deduplicated by the case). The reply carries the citizen's own contact and nothing
else personal: the comment and the resolution are masked (privacy.mask_personal_data), and no
contact is ever written to a log.
"""
from __future__ import annotations

import logging

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import outbox
from ..clock import to_local
from ..models import Case
from ..privacy import contact_kind, mask_personal_data

log = logging.getLogger(__name__)


def _outbox():
    return outbox  # looked up at call time: tests put a recorder in its place


def _name(obj, lang: str) -> str:
    return (obj.name_en or obj.name) if lang == "en" else obj.name


def _parts(case: Case) -> dict:
    response = case.response
    lang = response.language if response.language in ("vi", "en") else "vi"
    comment = case.answer.text if case.answer is not None and case.answer.text else None
    return {
        "lang": lang,
        "said_on": to_local(response.submitted_at).strftime("%d/%m/%Y"),
        "point": _name(case.service_point, lang),
        "organisation": _name(case.service_point.organisation, lang),
        "comment": mask_personal_data(comment) if comment else None,
        "resolution": mask_personal_data(case.resolution or ""),
        "case_id": case.id,
    }


def reply_message(case: Case) -> tuple[str, str, str, str]:
    """(to, subject, text, html) of the email reply to the citizen, in the response's language.

    Raises ValueError when the response left no email address with consent.
    """
    response = case.response
    if not response.contact_consent or contact_kind(response.contact) != "email":
        raise ValueError("the citizen left no email address with consent")
    p = _parts(case)
    with force_locale(p["lang"]):
        subject = _("Phản hồi góp ý của Ông/Bà tại %(point)s", point=p["point"])
        text = render_template("cases/reply_email.txt", **p)
        html = render_template("cases/reply_email.html", subject=subject, **p)
    return response.contact.strip(), subject, text, html


def sms_text(case: Case) -> str:
    p = _parts(case)
    with force_locale(p["lang"]):
        return _("%(organisation)s trả lời góp ý ngày %(date)s của Ông/Bà: %(resolution)s",
                 organisation=p["organisation"], date=p["said_on"], resolution=p["resolution"])


def send_reply(case: Case) -> str | None:
    """Queue the reply to the citizen, if they left a contact with consent; the channel used
    ("email", "sms") or None. In the caller's transaction."""
    response = case.response
    if not response.contact_consent or not response.contact:
        return None
    kind = contact_kind(response.contact)
    if kind == "email":
        to, subject, text, html = reply_message(case)
        _outbox().enqueue_email(to, subject, text, html, kind="case_reply", dedupe_key=f"case-reply-{case.id}")
    elif kind == "phone":
        payload = {"case_id": case.id, "phone": response.contact.strip(), "language": _parts(case)["lang"],
                   "text": sms_text(case)}
        _outbox().enqueue_webhook(case.service_point.organisation_id, "case.reply_sms", payload,
                                  dedupe_key=f"case-reply-sms-{case.id}")
    else:
        log.info("case %s: contact is neither an email address nor a phone number; no reply sent", case.id)
        return None
    log.info("case %s: reply queued (%s)", case.id, kind)
    return kind
