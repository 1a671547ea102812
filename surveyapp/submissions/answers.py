"""One validator for each kind of answer, and the check of a whole response; shared by the
citizen form (``citizen.routes``) and the kiosk API (``kiosk.ratings``).

Each validator takes a question (the ORM ``Question`` or its cached ``QuestionSpec``: both
have the same attributes) and one non-empty raw value, and returns the clean answer or the
error to show, in the current language:

- ``rating``, ``choice``, ``yesno``: one of the question's options, by its code (the form's
  ``v4``); a rating may also be given by its point on the scale (the kiosk's integer 4);
- ``number``: an integer within the question's range (else within +-1,000,000, the column's
  check);
- ``text``: at most the question's length (else ``DEFAULT_TEXT_MAX``) characters.

A whole response (``validate_answers``) answers every required question and at least one
question: an empty form is refused, never stored as a respondent. Follow-up questions
(``follows_code``/``follows_max_value``, e.g. the quick rating's reason) are taken only when
the followed rating's value is at most ``follows_max_value``; an answer given although the
condition does not hold is ignored, never stored, and never an error (the page without
JavaScript shows follow-ups always).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _

DEFAULT_TEXT_MAX = 1000
NUMBER_LIMIT = 1_000_000  # the answer table's check constraint
_INT = re.compile(r"^[+-]?\d{1,9}$")
# The key of an error about the whole response rather than one question.
WHOLE_RESPONSE = ""


@dataclass(slots=True)
class CleanAnswer:
    question: object  # Question or QuestionSpec
    option: object | None = None  # Option or OptionSpec
    value: int | None = None
    text: str | None = None

    @property
    def satisfied(self) -> int | None:
        """1/0 for items that count in the index, NULL for no opinion and other items."""
        if not self.question.counts_in_index or self.option is None or self.option.is_no_opinion:
            return None
        return int(self.option.is_satisfied)


def check_option(q, raw: str | int) -> CleanAnswer | str:
    """Rating, choice and yes/no: one of the question's own options."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        option = next((o for o in q.options if o.value == raw and not o.is_no_opinion), None) \
            if q.type == "rating" else None
    else:
        option = next((o for o in q.options if o.code == raw), None)
    if option is None:
        return _("Lựa chọn không hợp lệ. Vui lòng chọn một trong các phương án.")
    return CleanAnswer(q, option=option, value=option.value)


def check_number(q, raw: str | int) -> CleanAnswer | str:
    text = str(raw)
    if isinstance(raw, bool) or not _INT.match(text):
        return _("Vui lòng nhập một số nguyên.")
    number = int(text)
    low = q.min_value if q.min_value is not None else -NUMBER_LIMIT
    high = q.max_value if q.max_value is not None else NUMBER_LIMIT
    if not low <= number <= high:
        return _("Vui lòng nhập một số từ %(low)d đến %(high)d.", low=low, high=high)
    return CleanAnswer(q, value=number)


def check_text(q, raw: str | int) -> CleanAnswer | str:
    if not isinstance(raw, str):
        return _("Câu trả lời không hợp lệ.")
    limit = q.max_length or DEFAULT_TEXT_MAX
    if len(raw) > limit:
        return _("Tối đa %(limit)d ký tự (bạn đã nhập %(count)d ký tự).", limit=limit, count=len(raw))
    return CleanAnswer(q, text=raw)


VALIDATORS: dict[str, Callable] = {
    "rating": check_option, "choice": check_option, "yesno": check_option,
    "number": check_number, "text": check_text,
}


def applies(question, given: dict[str, CleanAnswer]) -> bool:
    """A follow-up applies only when the rating it follows was at most ``follows_max_value``."""
    if not question.follows_code:
        return True
    followed = given.get(question.follows_code)
    if followed is None or followed.option is None or followed.option.value is None:
        return False
    return followed.option.value <= (question.follows_max_value or 0)


def one_value(raw) -> tuple[str | int | None, bool]:
    """(value, malformed): a field may arrive once (a repeated field is malformed); text is
    stripped, and an empty value is no answer."""
    if isinstance(raw, (list, tuple)):
        values = [v for v in raw if v not in (None, "")]
        if len(values) > 1:
            return None, True
        raw = values[0] if values else None
    if raw is None:
        return None, False
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        return None, True
    if isinstance(raw, int):
        return raw, False
    return (raw.strip() or None), False


def check_answer(q, raw, clean: dict[str, CleanAnswer], errors: dict[str, str]) -> None:
    """Validate one question's raw value into ``clean`` or ``errors`` (keyed by its code)."""
    value, malformed = one_value(raw)
    if malformed:
        errors[q.code] = _("Câu trả lời không hợp lệ.")
        return
    if value is None:
        if q.required:
            errors[q.code] = _("Vui lòng trả lời câu hỏi này.") if q.type != "text" else _("Vui lòng nhập câu trả lời.")
        return
    result = VALIDATORS[q.type](q, value)
    if isinstance(result, str):
        errors[q.code] = result
    else:
        clean[q.code] = result


def validate_answers(questionnaire, data: dict) -> tuple[list[CleanAnswer], dict[str, str]]:
    """Check raw answers keyed by question code (option code, number or text).

    ``questionnaire`` is the ORM version or its cached structure (``citizen.structure``).
    Returns the clean answers and the errors by question code (``WHOLE_RESPONSE`` for the
    response as a whole), in the current language: nothing may be stored unless there are none.
    """
    clean: dict[str, CleanAnswer] = {}
    errors: dict[str, str] = {}
    followups = []
    for q in questionnaire.questions:
        if q.follows_code:
            followups.append(q)
        else:
            check_answer(q, data.get(q.code), clean, errors)
    for q in followups:
        if applies(q, clean):
            check_answer(q, data.get(q.code), clean, errors)
    if not clean and not errors:
        errors[WHOLE_RESPONSE] = _("Ông/Bà chưa trả lời câu hỏi nào. Vui lòng trả lời ít nhất một câu hỏi trước khi gửi.")
    return list(clean.values()), errors


__all__ = ["CleanAnswer", "VALIDATORS", "check_option", "check_number", "check_text", "check_answer", "applies",
           "one_value", "validate_answers", "WHOLE_RESPONSE", "DEFAULT_TEXT_MAX"]
