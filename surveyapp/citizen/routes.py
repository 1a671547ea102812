"""The public survey page ``/s/<code>``, its thank-you page and the QR images.

GET shows the form; POST validates the whole response and stores it once, then redirects
(303) to the thank-you page, so a reload never re-submits. Every refusal has its own page in
the citizen's language with the right status: unknown code 404, deactivated service point or
closed survey 410, dossier already rated 409, invalid answers 422, malformed form 400.
"""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import TooManyRequests

from ..extensions import db
from ..i18n import current_language
from ..models import Question, Questionnaire, Response, ServicePoint, Survey
from ..privacy import address_fingerprint, browser_fingerprint, client_fingerprint
from ..qr import public_url, qr_png, qr_svg, read_dossier_token, verify_dossier_token
from ..ratelimit import Quota, counted, release_quota, require_quota
from . import bp
from ..submissions.answers import validate_answers
from .forms import MAX_DURATION_MS, SurveyForm, new_key, read_start, sign_start
from .responses import AlreadyRated, choose_survey, dossier_already_rated, store_response, submission_targets, validate_contact
from .structure import questionnaire_spec

LONG_QUESTIONNAIRE = 6  # questions; above this the page shows sections and progress


def _point_key() -> str:
    return "sp:" + str((request.view_args or {}).get("code", ""))


def _stored(response) -> bool:
    """Only stored responses use up the quota: a citizen correcting errors is not penalised."""
    return response.status_code == 303


# Per browser (keyed hash of address, user agent and session), per address and per service
# point; never the address itself (privacy.browser_fingerprint says why all three).
SUBMIT_QUOTAS = (Quota("submit-client", "SUBMIT_RATE_LIMIT_CLIENT", browser_fingerprint),
                 Quota("submit-address", "SUBMIT_RATE_LIMIT_ADDRESS", address_fingerprint),
                 Quota("submit-point", "SUBMIT_RATE_LIMIT_POINT", _point_key))
# A flagged submission (honeypot filled, sent too fast) is stored but counted apart, per browser
# and per address: it never uses up what genuine citizens share, above all a point's quota.
FLAGGED_QUOTAS = (Quota("submit-flagged-client", "SUBMIT_RATE_LIMIT_CLIENT", browser_fingerprint),
                  Quota("submit-flagged-address", "SUBMIT_RATE_LIMIT_ADDRESS", address_fingerprint))


def _status_page(kind: str, status: int):
    titles = {
        "unknown": (_("Không tìm thấy khảo sát"),
                    _("Mã QR hoặc đường dẫn này không đúng. Vui lòng kiểm tra lại mã in trên áp phích.")),
        "inactive": (_("Điểm phục vụ đã ngừng khảo sát"),
                     _("Điểm phục vụ này không còn nhận ý kiến qua mã QR. Cảm ơn Ông/Bà đã quan tâm.")),
        "closed": (_("Khảo sát đã kết thúc"),
                   _("Hiện không có khảo sát nào đang mở tại điểm phục vụ này. Cảm ơn Ông/Bà đã quan tâm.")),
        "rated": (_("Hồ sơ này đã được đánh giá"),
                  _("Mỗi hồ sơ chỉ được đánh giá một lần và ý kiến của Ông/Bà đã được ghi nhận. Xin cảm ơn!")),
        "bad_token": (_("Mã đánh giá hồ sơ không hợp lệ"),
                      _("Mã QR trên phiếu hẹn không đúng hoặc đã hết hạn. Ông/Bà vẫn có thể đánh giá bằng mã QR tại quầy.")),
        "malformed": (_("Yêu cầu không hợp lệ"),
                      _("Biểu mẫu gửi lên không đầy đủ hoặc đã bị thay đổi. Vui lòng tải lại trang và thử lại.")),
    }
    title, message = titles[kind]
    return render_template("citizen/status.html", title=title, message=message, kind=kind, status=status), status


def _service_point(code: str) -> ServicePoint | None:
    """The service point with its organisation, in one statement."""
    return db.session.scalar(
        sa.select(ServicePoint).options(joinedload(ServicePoint.organisation)).where(ServicePoint.code == code)
    )


def _gate(code: str):
    """(service point, dossier hash, refusal page) for the page (GET)."""
    sp = _service_point(code)
    if sp is None:
        return None, None, _status_page("unknown", 404)
    return _gate_checks(sp, sp.active and sp.organisation.active)


def _gate_checks(sp, active: bool):
    """The checks shared by GET and POST once the service point exists: active, dossier token."""
    if not active:
        return sp, None, _status_page("inactive", 410)
    token = request.args.get("d")
    dossier = None
    if token is not None:
        verified = verify_dossier_token(token)
        if verified is None or verified[1] != sp.code:
            return sp, None, _status_page("bad_token", 404)
        dossier = verified[0]
        if dossier_already_rated(dossier):
            return sp, dossier, _status_page("rated", 409)
    return sp, dossier, None


def _sections(survey: Survey) -> list[dict]:
    """Questions grouped by aspect, in order; questions outside aspects form unnamed sections."""
    sections: list[dict] = []
    for q in survey.questionnaire.questions:
        aspect = q.aspect
        if not sections or sections[-1]["aspect"] is not aspect:
            sections.append({"aspect": aspect, "questions": []})
        sections[-1]["questions"].append(q)
    return sections


def _load_for_page(survey: Survey) -> None:
    """The questionnaire's aspects, questions and their options in three statements (instead of
    one per question): the page shows them all."""
    db.session.scalars(
        sa.select(Questionnaire).where(Questionnaire.id == survey.questionnaire_id).options(
            selectinload(Questionnaire.aspects),
            selectinload(Questionnaire.questions).selectinload(Question.options),
        )
    ).all()


def _render_form(sp: ServicePoint, survey: Survey, form: SurveyForm, values, errors: dict, status: int = 200,
                 contact_error: str | None = None):
    _load_for_page(survey)
    questionnaire = survey.questionnaire
    questions = questionnaire.questions
    long_form = len(questions) > LONG_QUESTIONNAIRE
    followups = {q.code for q in questions if q.follows_code}
    return render_template(
        "citizen/survey.html", sp=sp, survey=survey, questionnaire=questionnaire, form=form,
        sections=_sections(survey), aspect_count=len(questionnaire.aspects), values=values, errors=errors, contact_error=contact_error,
        long_form=long_form, counted=len([q for q in questions if q.code not in followups]),
        minutes=max(1, round(len(questions) * 8 / 60)), show_contact=questionnaire.indicator != "quick",
        action=url_for(".survey", code=sp.code, **({"d": request.args["d"]} if "d" in request.args else {})),
    ), status


def _min_seconds(indicator: str) -> float:
    cfg = current_app.config
    return float(cfg["SUBMIT_MIN_SECONDS_QUICK"] if indicator == "quick" else cfg["SUBMIT_MIN_SECONDS"])


# Flask-Limiter leaves the survey page to ``SUBMIT_QUOTAS`` (reading it is never limited).
@bp.route("/s/<code>", methods=["GET", "POST"])
@counted(*SUBMIT_QUOTAS, flagged=FLAGGED_QUOTAS, methods=("POST",), stored=_stored)
def survey(code: str):
    """The survey a QR code leads to."""
    if request.method == "GET":
        return _show(code)
    return _submit(code)


def _show(code: str):
    sp, dossier, refusal = _gate(code)
    if refusal is not None:
        return refusal
    chosen = choose_survey(sp, for_dossier=dossier is not None)
    if chosen is None:
        return _status_page("closed", 410)
    key = new_key()
    form = SurveyForm(formdata=None, key=key, started=sign_start(key, chosen.id))
    return _render_form(sp, chosen, form, {}, {})


def _submit(code: str):
    """Validate and store a submission. One read (the service point with its open surveys and
    their questionnaire versions), the questionnaire's structure from the per-process cache,
    two inserts; ORM objects are loaded only to re-render the form with errors."""
    point, candidates = submission_targets(code)
    if point is None:
        return _status_page("unknown", 404)
    _, dossier, refusal = _gate_checks(point, point.active and point.organisation_active)
    if refusal is not None:
        return refusal
    if not candidates:
        return _status_page("closed", 410)
    form_data = request.form
    form = SurveyForm()
    if not form.validate_on_submit():
        return _status_page("malformed", 400)
    key = form.key.data
    start = read_start(form.started.data, key)
    if start is None:
        return _status_page("malformed", 400)
    survey_id, started_ms = start
    chosen = next((s for s in candidates if s.id == survey_id), None)
    if chosen is None:
        return _status_page("closed", 410)

    spec = questionnaire_spec(chosen.questionnaire_id, chosen.family, chosen.version, chosen.created_at,
                              chosen.is_standard, chosen.indicator)
    data = {q.code: form_data.getlist("q_" + q.code) for q in spec.questions}
    answers, errors = validate_answers(spec, data)
    contact, contact_error = validate_contact(form.contact.data, form.contact_consent.data)
    if errors or contact_error:
        sp, shown = _service_point(code), db.session.get(Survey, chosen.id)
        return _render_form(sp, shown, SurveyForm(), form_data, errors, 422, contact_error)

    elapsed_ms = min(max(0, int(time.time() * 1000) - started_ms), MAX_DURATION_MS)
    flag = None
    if form.website.data:
        flag = "honeypot"
    elif elapsed_ms < _min_seconds(spec.indicator) * 1000:
        flag = "too_fast"
    thanks_url = url_for(".thanks", code=point.code)
    try:
        require_quota(flagged=flag is not None)  # the counts sent when the request began: 429 if used up
    except TooManyRequests:
        if _already_stored(chosen.id, key):  # a repeat of a stored answer is answered as stored
            return redirect(thanks_url, 303)
        raise
    try:
        _, created = store_response(
            chosen.id, point.id, answers, idempotency_key=key, channel="qr", language=current_language(),
            dossier_hash=dossier, client_hash=client_fingerprint(), duration_ms=elapsed_ms, flag=flag,
            contact=contact, contact_consent=form.contact_consent.data, **_token_codes(dossier),
        )
    except AlreadyRated:
        return _status_page("rated", 409)
    if not created:
        release_quota()  # the answer was stored before: nothing new counts
    return redirect(thanks_url, 303)


def _token_codes(dossier: str | None) -> dict:
    """The procedure and field codes the (already verified) dossier token carries."""
    read = read_dossier_token(request.args.get("d", "")) if dossier else None
    return {"procedure_code": read.procedure if read else None, "field_code": read.field if read else None}


def _already_stored(survey_id: int, key: str) -> bool:
    return db.session.scalar(
        sa.select(Response.id).where(Response.survey_id == survey_id, Response.idempotency_key == key)
    ) is not None


@bp.route("/s/<code>/cam-on")
def thanks(code: str):
    """The thank-you page; reloading it stores nothing."""
    sp = _service_point(code)
    if sp is None:
        return _status_page("unknown", 404)
    return render_template("citizen/thanks.html", sp=sp)


def _qr_target(code: str) -> str | None:
    sp = _service_point(code)
    return public_url(sp) if sp is not None else None


@bp.route("/s/<code>/qr.svg")
def qr_svg_image(code: str):
    """The service point's QR code as SVG (public: the code is printed on posters anyway)."""
    url = _qr_target(code)
    if url is None:
        return _status_page("unknown", 404)
    return qr_svg(url), 200, {"Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": "public, max-age=86400"}


@bp.route("/s/<code>/qr.png")
def qr_png_image(code: str):
    """The service point's QR code as PNG; ``?size=`` pixels per module (4-20)."""
    url = _qr_target(code)
    if url is None:
        return _status_page("unknown", 404)
    size = request.args.get("size", default=10, type=int)
    size = min(max(size, 4), 20)
    return qr_png(url, box_size=size), 200, {"Content-Type": "image/png", "Cache-Control": "public, max-age=86400"}


__all__ = ["survey", "thanks"]
