"""The rules of cases: what opens one, who may hold it, its deadline, its states, what counts as
on time. Views, the CLI, the worker and the tests all go through these functions.

States and the moves between them (:data:`TRANSITIONS`, applied by :func:`transition` alone)::

    new ──► acknowledged ──► resolved ──► closed
     │            │            │
     │            ▼            └──► acknowledged (reopened)
     ├──► resolved
     └──► rejected (spam) ──► new (restored)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import outbox
from ..clock import day_bounds_utc, day_start_utc, now_utc, to_local, today
from ..extensions import dialect_insert
from ..models import (
    CASE_DONE_STATES,
    CASE_OPEN_STATES,
    CASE_STATES,
    Answer,
    AuditEvent,
    Case,
    CaseDeadline,
    Organisation,
    Question,
    Response,
    ServicePoint,
    User,
    db,
    subtree_filter,
)
from ..workdays import Calendar, load_calendar
from .reply import send_reply

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "resolved", "rejected"),
    "acknowledged": ("resolved", "rejected"),
    "resolved": ("closed", "acknowledged"),
    "closed": (),
    "rejected": ("new",),
}
assert set(TRANSITIONS) == set(CASE_STATES)

STATE_LABELS = {
    "new": _l("Mới"),
    "acknowledged": _l("Đã tiếp nhận"),
    "resolved": _l("Đã xử lý"),
    "closed": _l("Đã đóng"),
    "rejected": _l("Từ chối (spam)"),
}
# The button that moves a case into a state.
ACTION_LABELS = {
    "acknowledged": _l("Tiếp nhận"),
    "resolved": _l("Đã xử lý xong"),
    "closed": _l("Đóng hồ sơ"),
    "rejected": _l("Từ chối: spam"),
    "new": _l("Khôi phục"),
}
ORIGIN_LABELS = {"auto": _l("Tự động"), "manual": _l("Cán bộ mở"), "migrated": _l("Chuyển từ góp ý đã xử lý")}

# A rating at or below this value is dissatisfied: 1-2 on the five-point scale ("rất không hài
# lòng", "không hài lòng") and on the quick counter rating ("không hài lòng", "chưa hài lòng").
# A neutral 3 is not satisfied, but not a complaint either.
DISSATISFIED_MAX_VALUE = 2
# Responses a scan opens cases for per statement.
SCAN_BATCH = 500
RESOLUTION_MAX = 4000


class CaseError(ValueError):
    """A change to a case that the rules refuse; the message is for the official."""


# ---------------------------------------------------------------------------------------------
# Deadlines and assignees


def deadline_days(org: Organisation, settings: dict[int, int] | None = None) -> int:
    """The deadline in working days of cases at ``org``: its own setting, else its nearest
    ancestor's, else ``CASE_DEADLINE_WORKING_DAYS``."""
    if settings is None:
        settings = _deadline_settings()
    for org_id in reversed(org.ancestor_ids()):
        if org_id in settings:
            return settings[org_id]
    return current_app.config["CASE_DEADLINE_WORKING_DAYS"]


def _deadline_settings() -> dict[int, int]:
    return dict(db.session.execute(sa.select(CaseDeadline.organisation_id, CaseDeadline.working_days)).all())


def set_deadline(org: Organisation, working_days: int | None, actor: User | None) -> None:
    """Set (or with None, drop) ``org``'s own deadline; its subtree inherits it. Audited, not committed."""
    row = db.session.get(CaseDeadline, org.id)
    before = {"working_days": row.working_days} if row else None
    if working_days is None:
        if row is not None:
            db.session.delete(row)
    else:
        if not 1 <= working_days <= 120:
            raise CaseError(_("Thời hạn phải từ 1 đến 120 ngày làm việc."))
        if row is None:
            row = CaseDeadline(organisation_id=org.id, working_days=working_days)
            db.session.add(row)
        row.working_days = working_days
    db.session.add(AuditEvent(user_id=actor.id if actor else None, action="case.deadline", object_type="Organisation",
                              object_id=str(org.id), before=before,
                              after={"working_days": working_days} if working_days is not None else None))
    db.session.flush()


def may_be_assigned(user: User, sp: ServicePoint) -> bool:
    """An active manager or administrator whose scope contains the service point."""
    if not user.active or user.role not in ("admin", "manager"):
        return False
    if user.organisation_id is None:
        return user.role == "admin"
    return user.organisation_id in sp.organisation.ancestor_ids()


def assignee_candidates(sp: ServicePoint) -> list[User]:
    """Who may hold a case at ``sp``: the nearest managers first, then those above, then administrators."""
    ancestors = sp.organisation.ancestor_ids()
    users = db.session.scalars(sa.select(User).where(
        User.active, User.role.in_(("admin", "manager")),
        sa.or_(User.organisation_id.in_(ancestors), sa.and_(User.organisation_id.is_(None), User.role == "admin")),
    )).all()
    depth = {org_id: i for i, org_id in enumerate(ancestors)}
    return sorted(users, key=lambda u: (-depth.get(u.organisation_id, -1), u.role != "manager",
                                        (u.full_name or u.username).casefold(), u.id))


def default_assignee(sp: ServicePoint) -> User | None:
    """The manager of the service point's own organisation, else of the nearest ancestor."""
    return next((u for u in assignee_candidates(sp) if u.role == "manager"), None)


# ---------------------------------------------------------------------------------------------
# Opening


def _audit(action: str, case: Case, actor: User | None, before: dict | None = None, after: dict | None = None) -> None:
    db.session.add(AuditEvent(user_id=actor.id if actor else None, action=action, object_type="Case",
                              object_id=str(case.id), before=before, after=after))


def _state(case: Case) -> dict:
    """What the history shows of a case before and after a change."""
    plain = lambda v: v.isoformat() if isinstance(v, (datetime, date)) else v  # noqa: E731
    return {k: plain(getattr(case, k)) for k in ("state", "assignee_id", "resolution", "note", "due_at")}


class _Opener:
    """Deadlines, calendars and default assignees, looked up once per service point per scan."""

    def __init__(self, calendar: Calendar | None = None):
        self.calendar = calendar or load_calendar()
        self.settings = _deadline_settings()
        self.points: dict[int, tuple[int, int | None]] = {}

    def values(self, response_id: int, answer_id: int | None, sp_id: int, opened_at: datetime, origin: str,
               actor: User | None) -> dict:
        if sp_id not in self.points:
            sp = db.session.get(ServicePoint, sp_id)
            assignee = default_assignee(sp)
            self.points[sp_id] = (deadline_days(sp.organisation, self.settings), assignee.id if assignee else None)
        days, assignee_id = self.points[sp_id]
        return {"response_id": response_id, "answer_id": answer_id, "service_point_id": sp_id, "origin": origin,
                "state": "new", "assignee_id": assignee_id, "opened_at": opened_at,
                "opened_by_id": actor.id if actor else None, "deadline_days": days,
                "due_at": self.calendar.due_at(opened_at, days), "updated_at": now_utc()}


def _comment_exists():
    return (sa.select(Answer.id).join(Question, Question.id == Answer.question_id)
            .where(Answer.response_id == Response.id, Question.type == "text", Answer.text.is_not(None),
                   sa.func.trim(Answer.text) != "").exists())


def _dissatisfied_exists():
    return (sa.select(Answer.id).join(Question, Question.id == Answer.question_id)
            .where(Answer.response_id == Response.id, Question.type == "rating", Answer.value.is_not(None),
                   Answer.value <= DISSATISFIED_MAX_VALUE).exists())


def open_cases_for_new_responses(since_id: int | None = None, since_time: datetime | None = None) -> int:
    """Open a case for every stored response that calls for one and has none yet; returns how many
    were opened, and commits them.

    A response calls for a case when it has a dissatisfied rating (value <=
    :data:`DISSATISFIED_MAX_VALUE`) and a non-empty comment, or contact details left with consent.
    Honeypot responses (bots) open none. Only responses with ``id > since_id`` and/or
    ``submitted_at >= since_time`` (naive UTC) are looked at; with neither, all of them.

    Idempotent and safe to run from several workers at once: the unique key on
    ``feedback_case.response_id`` and ``INSERT ... ON CONFLICT DO NOTHING`` keep it at one case per
    response. It reads only what was stored: the citizen's submission path does no more work.
    ``since_id`` walks the primary key; ``since_time`` has no index of its own on ``response`` (an
    index there would cost every submission), so a worker should prefer a recent ``since_id``.
    """
    opener = _Opener()
    wants_case = sa.or_(
        sa.and_(_dissatisfied_exists(), _comment_exists()),
        sa.and_(Response.contact.is_not(None), Response.contact_consent),
    )
    stmt = (sa.select(Response.id, Response.service_point_id, Response.submitted_at)
            .where(~sa.select(Case.id).where(Case.response_id == Response.id).exists(), wants_case,
                   sa.or_(Response.flag.is_(None), Response.flag != "honeypot"))
            .order_by(Response.id).limit(SCAN_BATCH))
    if since_time is not None:
        stmt = stmt.where(Response.submitted_at >= since_time)
    opened, after = 0, since_id
    while True:
        batch = db.session.execute(stmt if after is None else stmt.where(Response.id > after)).all()
        if not batch:
            break
        after = batch[-1].id
        comments = _first_comments([r.id for r in batch])
        values = [opener.values(r.id, comments.get(r.id), r.service_point_id, r.submitted_at, "auto", None)
                  for r in batch]
        for case_id in _insert_ignoring_duplicates(values):
            db.session.add(AuditEvent(action="case.open", object_type="Case", object_id=str(case_id),
                                      after={"state": "new", "origin": "auto"}))
            opened += 1
        db.session.commit()
    return opened


def _first_comments(response_ids: list[int]) -> dict[int, int]:
    """response id -> id of its first non-empty comment."""
    rows = db.session.execute(
        sa.select(Answer.response_id, sa.func.min(Answer.id)).join(Question, Question.id == Answer.question_id)
        .where(Answer.response_id.in_(response_ids), Question.type == "text", Answer.text.is_not(None),
               sa.func.trim(Answer.text) != "")
        .group_by(Answer.response_id)).all()
    return dict(rows)


def _insert_ignoring_duplicates(values: list[dict]) -> list[int]:
    """Insert cases, skipping any response that already has one (another worker's); the new ids."""
    stmt = dialect_insert(Case).values(values).on_conflict_do_nothing(index_elements=["response_id"]).returning(Case.id)
    return list(db.session.scalars(stmt))


def open_case_for_comment(answer: Answer, actor: User) -> tuple[Case, bool]:
    """The case of ``answer``'s response, opened by ``actor`` now if it has none: (case, opened).
    Its deadline runs from now, when an official takes the comment up. Not committed."""
    if answer.text is None:
        raise CaseError(_("Chỉ mở được hồ sơ từ một góp ý."))
    existing = db.session.scalar(sa.select(Case).where(Case.response_id == answer.response_id))
    if existing is not None:
        return existing, False
    values = _Opener().values(answer.response_id, answer.id, answer.service_point_id, now_utc(), "manual", actor)
    ids = _insert_ignoring_duplicates([values])
    if not ids:  # the worker opened it in between
        return db.session.scalar(sa.select(Case).where(Case.response_id == answer.response_id)), False
    case = db.session.get(Case, ids[0])
    _audit("case.open", case, actor, after={"state": "new", "origin": "manual"})
    return case, True


# ---------------------------------------------------------------------------------------------
# Transitions and assignment


def allowed_transitions(case: Case) -> tuple[str, ...]:
    return TRANSITIONS[case.state]


def transition(case: Case, to: str, actor: User | None, *, resolution: str | None = None,
               note: str | None = None, now: datetime | None = None) -> Case:
    """Move ``case`` to state ``to`` if the rules allow it, audited; resolving it sends the reply
    to the citizen through the outbox (in the same transaction). Not committed.

    Resolving needs ``resolution``, what was done: it is what the citizen is told.
    """
    if to not in TRANSITIONS.get(case.state, ()):
        raise CaseError(_("Không thể chuyển hồ sơ từ “%(current)s” sang “%(target)s”.",
                          current=STATE_LABELS[case.state], target=STATE_LABELS.get(to, to)))
    now = now or now_utc()
    before = _state(case)
    if to == "resolved":
        resolution = (resolution or "").strip()
        if not resolution:
            raise CaseError(_("Vui lòng ghi rõ đã xử lý như thế nào: nội dung này được gửi cho người dân."))
        if len(resolution) > RESOLUTION_MAX:
            raise CaseError(_("Tối đa %(limit)d ký tự.", limit=RESOLUTION_MAX))
        case.resolution, case.resolved_at, case.resolved_by_id = resolution, now, actor.id if actor else None
        case.acknowledged_at = case.acknowledged_at or now
    elif to == "acknowledged":
        case.acknowledged_at = case.acknowledged_at or now
        case.resolved_at = case.resolved_by_id = None  # reopened: no longer resolved
    elif to == "closed":
        case.closed_at = now
    elif to == "rejected":
        case.note = (note or "").strip()[:1000] or None
    case.state, case.updated_at = to, now
    action = {("resolved", "acknowledged"): "case.reopen", ("rejected", "new"): "case.restore"}.get(
        (before["state"], to), f"case.{to}")
    db.session.flush()
    _audit(action, case, actor, before, _state(case))
    if to == "resolved":
        send_reply(case)
    return case


def assign(case: Case, user: User, actor: User | None) -> Case:
    """Give ``case`` to ``user``, who must be able to act at its service point. Audited, not committed."""
    if case.state in ("closed", "rejected"):
        raise CaseError(_("Hồ sơ đã đóng hoặc bị từ chối: không giao lại được."))
    if not may_be_assigned(user, case.service_point):
        raise CaseError(_("Người này không phụ trách điểm phục vụ của hồ sơ."))
    before = _state(case)
    case.assignee_id, case.updated_at = user.id, now_utc()
    db.session.flush()
    _audit("case.assign", case, actor, before, _state(case))
    return case


def recompute_due_dates(calendar: Calendar | None = None) -> int:
    """After the calendar changed: the deadlines of the cases still open, counted again from their
    opening with the same number of working days. Returns how many moved. Not committed."""
    calendar = calendar or load_calendar()
    moved = 0
    for case in db.session.scalars(sa.select(Case).where(Case.state.in_(CASE_OPEN_STATES))):
        due = calendar.due_at(case.opened_at, case.deadline_days)
        if due != case.due_at:
            case.due_at, moved = due, moved + 1
    return moved


# ---------------------------------------------------------------------------------------------
# Deadlines passed, and the on-time share


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    """Still to be handled (new or acknowledged) and past its deadline."""
    return case.state in CASE_OPEN_STATES and (now or now_utc()) >= case.due_at


def resolved_late(case: Case) -> bool:
    return case.resolved_at is not None and case.resolved_at >= case.due_at


def overdue_cases(now: datetime | None = None) -> list[Case]:
    """Every case still new or acknowledged whose deadline has passed at ``now`` (naive UTC),
    the longest overdue first; across all organisations (the alerts worker picks recipients)."""
    now = now or now_utc()
    return list(db.session.scalars(
        sa.select(Case).where(Case.state.in_(CASE_OPEN_STATES), Case.due_at <= now)
        .order_by(Case.due_at, Case.id)))


def on_time_share(start: date, end: date, *, org_ids: list[int] | None = None,
                  service_point_ids: list[int] | None = None, now: datetime | None = None) -> tuple[int, int]:
    """Decision 766's "tỷ lệ phản ánh, kiến nghị được xử lý đúng hạn" for local days ``start`` to
    ``end``: (resolved on time, due in the period). The share is the first over the second.

    - Units: the service points ``service_point_ids``, or every service point in the subtrees of
      ``org_ids`` (an organisation counts with its descendants); exactly one of the two.
    - Due in the period: cases whose last allowed working day falls between ``start`` and
      ``end`` inclusive, rejected ones (spam) left out, and so are cases still open whose deadline
      has not passed at ``now`` (they cannot be late yet).
    - Resolved on time: among those, the ones resolved (state resolved or closed) before their
      deadline passed. A case reopened is not resolved until it is resolved again.
    """
    if (org_ids is None) == (service_point_ids is None):
        raise ValueError("give org_ids or service_point_ids")
    now = now or now_utc()
    # A deadline passes at the local midnight after its last day: due_on in [start, end]
    # <=> due_at in (midnight starting start, midnight after end].
    low, high = day_start_utc(start), day_bounds_utc(start, end)[1]
    if service_point_ids is not None:
        points = list(service_point_ids)
        unit = Case.service_point_id.in_(points)
    else:
        orgs = db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(org_ids))).all()
        unit = Case.service_point_id.in_(sa.select(ServicePoint.id).where(
            sa.or_(sa.false(), *(subtree_filter(ServicePoint.organisation_id, o) for o in orgs))))
    resolved = Case.state.in_(("resolved", "closed"))
    on_time = sa.and_(resolved, Case.resolved_at < Case.due_at)
    row = db.session.execute(
        sa.select(sa.func.count(Case.id), sa.func.count(Case.id).filter(on_time))
        .where(unit, Case.state != "rejected", Case.due_at > low, Case.due_at <= high,
               sa.or_(resolved, Case.due_at <= now))).one()
    return int(row[1] or 0), int(row[0] or 0)


# ---------------------------------------------------------------------------------------------
# The list, its filters and its export


@dataclass(frozen=True)
class CaseFilters:
    state: str = ""  # a state, "open" (new or acknowledged), or "" for every state
    overdue: bool = False
    org_id: int | None = None
    point_id: int | None = None
    assignee: str = ""  # a user id, "none" (unassigned), "me" is resolved by the view
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""

    def args(self) -> dict:
        out = {"state": self.state, "overdue": "1" if self.overdue else "", "org": self.org_id or "",
               "point": self.point_id or "", "assignee": self.assignee,
               "from": self.date_from.isoformat() if self.date_from else "",
               "to": self.date_to.isoformat() if self.date_to else "", "q": self.text}
        return {k: v for k, v in out.items() if v not in ("", None)}


def parse_filters(args) -> CaseFilters:
    """The list's filters from the query string; a wrong value raises CaseError saying which."""
    state = args.get("state", "")
    if state not in ("", "open", *CASE_STATES):
        raise CaseError(_("Trạng thái không hợp lệ."))

    def _int(name: str) -> int | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        if not value.isdigit():
            raise CaseError(_("Giá trị “%(name)s” không hợp lệ.", name=name))
        return int(value)

    def _date(name: str) -> date | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CaseError(_("Ngày không hợp lệ (định dạng năm-tháng-ngày).")) from None

    assignee = (args.get("assignee") or "").strip()
    if assignee and assignee != "none" and not assignee.isdigit():
        raise CaseError(_("Giá trị “%(name)s” không hợp lệ.", name="assignee"))
    f = CaseFilters(state=state, overdue=args.get("overdue") in ("1", "on", "true"), org_id=_int("org"),
                    point_id=_int("point"), assignee=assignee, date_from=_date("from"), date_to=_date("to"),
                    text=(args.get("q") or "").strip()[:100])
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise CaseError(_("Ngày bắt đầu phải trước ngày kết thúc."))
    return f


def case_query(root: Organisation | None, f: CaseFilters, now: datetime | None = None):
    """The cases in ``root``'s subtree (everything for None) that pass ``f``, the most urgent first."""
    now = now or now_utc()
    stmt = (sa.select(Case).join(ServicePoint, ServicePoint.id == Case.service_point_id)
            .outerjoin(Answer, Answer.id == Case.answer_id))
    if root is not None:
        stmt = stmt.where(subtree_filter(ServicePoint.organisation_id, root))
    if f.org_id:
        org = db.session.get(Organisation, f.org_id)
        stmt = stmt.where(subtree_filter(ServicePoint.organisation_id, org) if org else sa.false())
    if f.point_id:
        stmt = stmt.where(Case.service_point_id == f.point_id)
    if f.state == "open":
        stmt = stmt.where(Case.state.in_(CASE_OPEN_STATES))
    elif f.state:
        stmt = stmt.where(Case.state == f.state)
    if f.overdue:
        stmt = stmt.where(Case.state.in_(CASE_OPEN_STATES), Case.due_at <= now)
    if f.assignee == "none":
        stmt = stmt.where(Case.assignee_id.is_(None))
    elif f.assignee:
        stmt = stmt.where(Case.assignee_id == int(f.assignee))
    if f.date_from or f.date_to:
        start, end = day_bounds_utc(f.date_from or date(1970, 1, 1), f.date_to or date(9999, 12, 30))
        stmt = stmt.where(Case.opened_at >= start, Case.opened_at < end)
    if f.text:
        stmt = stmt.where(sa.or_(Answer.text.icontains(f.text, autoescape=True),
                                 Case.resolution.icontains(f.text, autoescape=True)))
    # Open cases first, by deadline; then the others, newest first.
    return stmt.order_by(sa.case((Case.state.in_(CASE_OPEN_STATES), 0), else_=1), 
                         sa.case((Case.state.in_(CASE_OPEN_STATES), Case.due_at), else_=None),
                         Case.opened_at.desc(), Case.id.desc())


def cases_by_response(response_ids: list[int]) -> dict[int, Case]:
    """response id -> its case, for a page of comments (one statement)."""
    if not response_ids:
        return {}
    return {c.response_id: c for c in db.session.scalars(sa.select(Case).where(Case.response_id.in_(response_ids)))}


def comments_handled_condition(response_id_column):
    """SQL: the response has a case that is done (resolved, closed or rejected)."""
    return response_id_column.in_(sa.select(Case.response_id).where(Case.state.in_(CASE_DONE_STATES)))


# Responses that commit out of id order (concurrent transactions) still fall inside this window
# of the next scan; opening stays idempotent whatever the overlap.
SCAN_OVERLAP = 1000


def open_cases_since_last_case() -> int:
    """The worker's every-minute scan: responses from a little before the newest one that has a
    case (a cheap primary-key range), so a large table is never read whole once cases exist."""
    last = db.session.scalar(sa.select(sa.func.max(Case.response_id)))
    return open_cases_for_new_responses(since_id=None if last is None else max(last - SCAN_OVERLAP, 0))


def remind_overdue(now: datetime | None = None) -> int:
    """One e-mail a day to each assignee with an address, listing their overdue cases (no
    citizen's contact, comments masked); returns how many e-mails were queued."""
    now = now or now_utc()
    by_user: dict[int, list[Case]] = {}
    for case in overdue_cases(now):
        if case.assignee is not None and case.assignee.active and case.assignee.email:
            by_user.setdefault(case.assignee_id, []).append(case)
    queued = 0
    for cases in by_user.values():
        user = cases[0].assignee
        with force_locale(user.language or "vi"):
            subject = _("%(n)s phản ánh quá hạn cần xử lý", n=len(cases))
            lines = [_("Phản ánh #%(id)s tại %(place)s, hạn %(due)s.", id=c.id, place=c.service_point.name,
                       due=to_local(c.due_at).strftime("%d/%m/%Y")) for c in cases]
            text = subject + ":\n\n" + "\n".join("- " + line for line in lines) + "\n"
        if outbox.enqueue_email(user.email, subject, text, None, kind="case_overdue", user_id=user.id,
                                dedupe_key=f"case-overdue-{user.id}-{today().isoformat()}"):
            queued += 1
    db.session.commit()
    return queued
