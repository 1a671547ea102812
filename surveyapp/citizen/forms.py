"""The survey form's fixed part: CSRF, idempotency key, signed start time, honeypot, contact.

The questions themselves vary by questionnaire; they are read from ``q_<code>`` fields and
checked by ``submissions.answers.validate_answers``, the validators the kiosk shares.
"""
from __future__ import annotations

import functools
import re
import time
import uuid

from flask import current_app
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
