"""The survey form's fixed part: CSRF, idempotency key, signed start time, honeypot, contact.

The questions themselves vary by questionnaire; they are read from ``q_<code>`` fields and
checked by ``submissions.answers.validate_answers``, the validators the kiosk shares.
"""
from __future__ import annotations

import functools
import re
import time
import uuid
from dataclasses import dataclass

from flask import current_app, g
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import Length, Optional, Regexp

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Longer than any sensible form session; beyond it the elapsed time is meaningless.
MAX_DURATION_MS = 24 * 3600 * 1000


def _serializer() -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=8)
def _serializer_for(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="citizen-survey-start")


def sign_start(key: str, survey_id: int, started_ms: int | None = None) -> str:
    """Signed (key, survey, time the form was first served): the client cannot shorten it."""
    return _serializer().dumps({"k": key, "s": survey_id, "t": started_ms or int(time.time() * 1000)})


def read_start(token: str, key: str) -> tuple[int, int] | None:
    """(survey id, start time in ms) when the token is genuine and belongs to ``key``."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") != key:
        return None
    survey_id, started = data.get("s"), data.get("t")
    if not isinstance(survey_id, int) or not isinstance(started, int):
        return None
    return survey_id, started


def new_key() -> str:
    return uuid.uuid4().hex


class SurveyForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            # The fixed fields' messages are never shown (a bad form gets the "malformed" page in
            # the citizen's language): skip loading WTForms' catalogue on every submission.
            return None

    key = HiddenField(validators=[Regexp(KEY_PATTERN)])
    started = HiddenField(validators=[Length(min=10, max=400)])
    # Honeypot: hidden from people (off-screen, out of the tab order), filled in by bots.
    website = StringField(validators=[Optional(), Length(max=500)])
    contact = StringField()
    contact_consent = BooleanField()


@dataclass(frozen=True, slots=True)
class SubmittedFields:
    """The fixed fields of a submitted survey form, as ``SurveyForm`` would hold them."""
    key: str
    started: str
    website: str | None
    contact: str | None
    contact_consent: bool


def read_submitted(formdata) -> SubmittedFields | None | bool:
    """The fixed fields of a POST without binding a ``SurveyForm`` (six WTForms fields per
    request): ``None`` when ``SurveyForm().validate_on_submit()`` would fail, ``False`` when this
    shortcut does not apply and the caller must use ``SurveyForm``.

    Same rules as the form's validators (first value of each field; key matches
    ``KEY_PATTERN``; started 10-400 characters; website empty or at most 500 characters;
    consent false for a missing, "" or "false" value). The form's own CSRF check is skipped by
    Flask-WTF itself once ``CSRFProtect`` has validated the request (``g.csrf_valid``), so the
    shortcut applies then, or when CSRF is off; otherwise the form checks the token.
    """
    if current_app.config.get("WTF_CSRF_ENABLED", True) and not g.get("csrf_valid", False):
        return False
    key, started = formdata.get("key"), formdata.get("started")
    if not KEY_PATTERN.match(key or ""):
        return None
    if not 10 <= len(started or "") <= 400:
        return None
    website = formdata.get("website")
    if website is not None and website.strip() and len(website) > 500:
        return None
    consent = formdata.get("contact_consent")
    return SubmittedFields(key, started, website, formdata.get("contact"), consent not in (None, "false", ""))
